"""The table of every source kind x format the desk reads: items expected, items right, fields right.

Runs the cases of tests/collectors/format_cases.py (our own fixtures in the real formats: RSS/Atom with wrong or
missing charsets, m.weibo.cn timelines, comments and reposts, weibo.cn pages, gov list pages, weibo-crawler CSV
of both vintages, MediaCrawler JSON/CSV, wewe-rss JSON Feed) against local stand-ins, with this tree's code. The
baseline, measured in the same run: the same cases with the collectors of ``--baseline`` (default: the commit
before issue 17), extracted to a temporary directory and run in a subprocess; a case the old code cannot run at
all (an unknown format or option) counts as nothing right.

    .venv/bin/python bench/formats_table.py [--baseline COMMIT] [--no-baseline] [--problems] [--real DIR]

``--real DIR`` (default ``../shared/data/formats`` when it exists) also reads the third-party samples there (never
copied into the repo: gov aggregate RSS with <source>, a GB2312 news feed, an Atom blog, a wechat-feeds bridge,
real m.weibo.cn timelines), as served and with a blank line before ``<?xml`` and no charset, and prints how many
items came out, how many distinct authors, typed authors, dated items and items with pictures. No expected values
exist for them: these columns are counts, read them against the sample.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "6ff909a"  # the last commit before issue 17's collectors


def run_here() -> list[dict]:
    sys.path.insert(0, str(ROOT))
    from opinion_desk.collectors.http import LIMITER
    from tests.collectors.format_cases import CASES, score

    LIMITER.interval = 0.0  # loopback stand-ins: no politeness delay
    return [{"kind": c.kind, "fmt": c.fmt, **score(c)} for c in CASES]


def run_baseline(commit: str) -> list[dict] | None:
    """The same cases with the opinion_desk package of ``commit`` (the tests' stand-ins and cases of this tree)."""
    with tempfile.TemporaryDirectory() as tmp:
        arch = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "opinion_desk"], capture_output=True)
        if arch.returncode:
            print(f"baseline {commit}: {arch.stderr.decode().strip()}", file=sys.stderr)
            return None
        subprocess.run(["tar", "-x", "-C", tmp], input=arch.stdout, check=True)
        os.symlink(ROOT / "tests", Path(tmp) / "tests")
        env = {**os.environ, "PYTHONPATH": tmp}
        code = ("import json, sys; sys.path.insert(0, %r); from opinion_desk.collectors.http import LIMITER; "
                "LIMITER.interval = 0.0; from tests.collectors.format_cases import CASES, score; "
                "print(json.dumps([{'kind': c.kind, 'fmt': c.fmt, **score(c)} for c in CASES], ensure_ascii=False))"
                % tmp)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp)
        if out.returncode:
            print(f"baseline {commit} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
            return None
        return json.loads(out.stdout.strip().splitlines()[-1])


REAL_FEEDS = [("rss/sz-gov-rss__shenzhen_policy_rss.xml", "rss"), ("rss/rss-parser__news.qq.com_china_gb2312.xml", "rss"),
              ("rss/nonebot-bison__ruanyifeng_atom.xml", "rss"),
              ("wechat/wechat-feeds__hefeiribao_MjM5OTQ2NDE3Ng==.xml", "wechat")]
REAL_WEIBO = [("weibo/nonebot-bison__weibo_ak_list_0.json", "6279793937"),
              ("weibo/nonebot-bison__weibo_ys_list_0.json", "1907518591")]


def run_real(d: Path) -> None:
    """Counts on the third-party samples (see the module docstring)."""
    from tests.collectors.standins import Reply, StandIn, WeiboStandIn, make

    print(f"\nthird-party samples in {d} (counts; the long texts of the Weibo samples are not served: truncated)")
    site = StandIn()
    try:
        for name, kind in REAL_FEEDS:
            body = (d / name).read_bytes()
            for variant, b, ctype in (("as served", body, "application/xml"),
                                      ("blank line first, no charset", b"\n  " + body, "text/xml")):
                site.routes["/x"] = Reply(200, b, {"Content-Type": ctype})
                try:
                    res = make(kind, name="real", url=site.url + "/x", fetch_full="never").collect({})
                except Exception as e:  # noqa: BLE001 - a failure is a result here
                    print(f"  {pad(name.split('/')[-1][:44], 44)} {pad(variant, 29)} FAILED: {e}")
                    continue
                ps = res.posts
                print(f"  {pad(name.split('/')[-1][:44], 44)} {pad(variant, 29)} items {len(ps):>3}  authors "
                      f"{len({p.author for p in ps}):>2}  typed {sum(bool(p.author_type) for p in ps):>3}  dated "
                      f"{sum(not p.time_unknown for p in ps):>3}  with pictures {sum(bool(p.images) for p in ps):>3}")
    finally:
        site.close()
    wb = WeiboStandIn()
    try:
        for name, uid in REAL_WEIBO:
            wb.routes["/api/container/getIndex"] = Reply(200, (d / name).read_bytes(), {"Content-Type": "application/json"})
            res = make("weibo", name="real", credentials={"cookie": wb.cookie}, mode="user", uids=[uid],
                       base_url=wb.url, max_pages=1).collect({})
            ps = res.posts
            print(f"  {pad(name.split('/')[-1][:44], 44)} {pad('m.weibo.cn timeline', 29)} items {len(ps):>3}  types "
                  f"{','.join(sorted({p.author_type for p in ps}))}  with pictures {sum(bool(p.images) for p in ps)}"
                  f"  reposts {sum(bool(p.repost_of) for p in ps)}  truncated {sum(p.truncated for p in ps)}")
    finally:
        wb.close()


def width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def pad(s: str, n: int) -> str:
    return s + " " * max(0, n - width(s))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", default=BASELINE, help="commit whose collectors give the baseline columns")
    ap.add_argument("--no-baseline", action="store_true", help="only this tree")
    ap.add_argument("--problems", action="store_true", help="print what is wrong, item by item")
    ap.add_argument("--real", type=Path, default=ROOT.parent / "shared" / "data" / "formats",
                    help="directory of third-party samples to count on (skipped when missing)")
    args = ap.parse_args()
    now = run_here()
    base = None if args.no_baseline else run_baseline(args.baseline)
    fmt_w = max(width(r["fmt"][:64]) for r in now)
    head = f"{pad('kind', 7)} {pad('format', fmt_w)}  expected  right  fields right"
    if base:
        head += f"   | {args.baseline}: right  fields"
    print(head)
    print("-" * width(head))
    tot = {"expected": 0, "right": 0, "fields": 0, "checked": 0, "b_right": 0, "b_fields": 0}
    for i, r in enumerate(now):
        line = (f"{pad(r['kind'], 7)} {pad(r['fmt'][:64], fmt_w)}  {r['expected']:>8}  {r['right']:>5}  "
                f"{r['fields']:>4}/{r['checked']:<4} ({100 * r['fields'] / max(1, r['checked']):3.0f}%)")
        for k in ("expected", "right", "fields", "checked"):
            tot[k] += r[k]
        if base:
            b = base[i]
            line += f"   | {b['right']:>13}  {b['fields']:>4}/{b['checked']:<4}"
            tot["b_right"] += b["right"]
            tot["b_fields"] += b["fields"]
        print(line)
        if args.problems:
            for p in r["problems"]:
                print(f"{'':8}! {p}")
    print("-" * width(head))
    line = (f"{pad('all', 7)} {pad(f'{len(now)} kind x format cases', fmt_w)}  {tot['expected']:>8}  {tot['right']:>5}  "
            f"{tot['fields']:>4}/{tot['checked']:<4} ({100 * tot['fields'] / max(1, tot['checked']):3.0f}%)")
    if base:
        line += f"   | {tot['b_right']:>13}  {tot['b_fields']:>4}/{tot['checked']:<4}"
    print(line)
    if base:
        print(f"items right: {tot['right']}/{tot['expected']} now vs {tot['b_right']}/{tot['expected']} at {args.baseline} "
              f"(x{tot['right'] / max(1, tot['b_right']):.1f}); fields right: {tot['fields'] / max(1, tot['checked']):.0%} "
              f"vs {tot['b_fields'] / max(1, tot['checked']):.0%}")
    if args.real and args.real.is_dir():
        run_real(args.real)


if __name__ == "__main__":
    main()
