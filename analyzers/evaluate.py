"""Rerunnable evaluation on ../shared/data/weibo (``opinion-desk eval``), always beside stock SnowNLP.

Sentiment: pos/neg accuracy on the held-out rows (:func:`analyzers.train.is_held_out`) of each group
(SMP2020 usual, SMP2020 virus: human labels; weibo_senti_100k: emoticon labels), as written and with emoticons
stripped; stock ``SnowNLP(text).sentiments > 0.5`` on a deterministic sample of the same rows.
Rumour: precision/recall/F1 of the shipped model on held-out rows, k-fold cross-validation on the training rows,
and cross-source (train on Ma 2016, test on CED and back); stock SnowNLP's Bayes classifier on the same splits.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .linear import strip_emoticons
from .segmentation import Segmenter
from .train import (DEFAULT_DATA_DIR, RUMOUR_ONCE, featurize_texts, is_held_out, predict, read_jsonl,
                    rumour_source, sentiment_group, train_rumour_model)

Log = Callable[[str], None]


def _stable_order(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: hashlib.md5(str(r["id"]).encode()).hexdigest())


def _snownlp_sentiments(texts: Sequence[str]) -> np.ndarray:
    from snownlp import SnowNLP

    out = []
    for t in texts:
        try:
            out.append(SnowNLP(t).sentiments if t.strip() else 0.5)
        except Exception:
            out.append(0.5)
    return np.array(out)


def eval_sentiment(data_dir: Path = DEFAULT_DATA_DIR, snownlp_sample: int = 300, model_path: str | None = None,
                   log: Log = print) -> dict[str, Any]:
    from .sentiment import SentimentScorer

    from .rumour import CueLexicon

    seg, cues = Segmenter().ensure_loaded(), CueLexicon()
    scorer = SentimentScorer(model_path)

    def score(texts: Sequence[str]) -> np.ndarray:
        rows, buckets = featurize_texts(seg, cues, texts)
        return scorer.model.proba(rows, buckets, len(texts))  # type: ignore[union-attr]

    rows = read_jsonl(Path(data_dir) / "sentiment_dev.jsonl")
    held = [r for r in rows if is_held_out(str(r["id"]))]
    results: dict[str, Any] = {}
    log(f"== sentiment: held-out rows only (sha1 split, {len(held)} of {len(rows)} rows), pos/neg accuracy")
    log(f"{'group':8} {'variant':10} {'n':>6} {'ours':>7} | {'sample':>6} {'ours':>7} {'snownlp':>8}")
    for group in ("usual", "virus", "ws100k"):
        g = [r for r in held if sentiment_group(r) == group and r["label"] in ("pos", "neg")]
        y = np.array([r["label"] == "pos" for r in g])
        sample_idx = {r["id"] for r in _stable_order(g)[:snownlp_sample]} if snownlp_sample else set()
        mask = np.array([r["id"] in sample_idx for r in g])
        for variant in ("as-is", "no-emoji"):
            texts = [r["text"] if variant == "as-is" else strip_emoticons(r["text"]) for r in g]
            p = score(texts)
            acc = float(np.mean((p >= 0.5) == y))
            res = {"n": len(g), "acc": round(acc, 4)}
            line = f"{group:8} {variant:10} {len(g):6d} {acc:7.4f} |"
            if mask.any():
                t0 = time.perf_counter()
                sp = _snownlp_sentiments([t for t, m in zip(texts, mask) if m])
                rate = mask.sum() / (time.perf_counter() - t0)
                ours_s = float(np.mean((p[mask] >= 0.5) == y[mask]))
                snow_s = float(np.mean((sp >= 0.5) == y[mask]))
                res.update(sample=int(mask.sum()), ours_sample=round(ours_s, 4), snownlp_sample=round(snow_s, 4),
                           snownlp_posts_per_s=round(rate, 1))
                line += f" {int(mask.sum()):6d} {ours_s:7.4f} {snow_s:8.4f}"
            lo, hi = scorer.band  # the error balance with the desk's labels (neutral band), as an officer sees them
            pn = int(np.sum(y & (p < lo)))
            np_ = int(np.sum(~y & (p >= hi)))
            res.update(pos_to_neg=pn, neg_to_pos=np_, pos_to_neg_rate=round(pn / max(1, int(y.sum())), 4),
                       neg_to_pos_rate=round(np_ / max(1, int((~y).sum())), 4))
            line += f" errors pos->neg {res['pos_to_neg_rate']:.3f} neg->pos {res['neg_to_pos_rate']:.3f}"
            results[f"{group}/{variant}"] = res
            log(line)
    # three-way labels with the calibrated neutral band, on human-labelled held-out rows
    smp = [r for r in held if sentiment_group(r) != "ws100k"]
    p = score([r["text"] for r in smp])
    lo, hi = scorer.band
    pred = np.where(p >= hi, "pos", np.where(p < lo, "neg", "neutral"))
    gold = np.array([r["label"] for r in smp])
    f1s = []
    for c in ("pos", "neg", "neutral"):
        tp, fp, fn = np.sum((pred == c) & (gold == c)), np.sum((pred == c) & (gold != c)), np.sum((pred != c) & (gold == c))
        f1s.append(2 * tp / max(1, 2 * tp + fp + fn))
    results["smp3"] = {"n": len(smp), "acc": round(float(np.mean(pred == gold)), 4),
                       "macro_f1": round(float(np.mean(f1s)), 4), "band": [lo, hi]}
    log(f"3-way pos/neg/neutral on {len(smp)} held-out SMP2020 rows (band {lo}..{hi}): "
        f"accuracy {results['smp3']['acc']:.4f}, macro-F1 {results['smp3']['macro_f1']:.4f}")
    groups = np.array([sentiment_group(r) for r in smp])
    for g in ("usual", "virus"):  # the labels an officer sees, per group, beside the balance of their errors
        m = groups == g
        pn = float(np.mean(pred[m & (gold == "pos")] == "neg"))
        np_ = float(np.mean(pred[m & (gold == "neg")] == "pos"))
        results[f"smp3/{g}"] = {"n": int(m.sum()), "acc": round(float(np.mean(pred[m] == gold[m])), 4),
                                "pos_to_neg": round(pn, 4), "neg_to_pos": round(np_, 4)}
        log(f"  3-way {g:6} n={int(m.sum()):5d} accuracy {results[f'smp3/{g}']['acc']:.4f} "
            f"errors pos->neg {pn:.3f} neg->pos {np_:.3f}")
    return results


# -- rumour ------------------------------------------------------------------------------------------------
def prf(pred: np.ndarray, gold: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum(pred & gold))
    p = tp / max(1.0, float(np.sum(pred)))
    r = tp / max(1.0, float(np.sum(gold)))
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


class _SnowBayes:
    """Stock SnowNLP rumour baseline: snownlp's Bayes classifier over SnowNLP's own segmentation."""

    def __init__(self) -> None:
        from snownlp import SnowNLP

        self._words: dict[str, list[str]] = {}
        self._snow = SnowNLP

    def words(self, r: dict[str, Any]) -> list[str]:
        w = self._words.get(r["id"])
        if w is None:
            w = self._words[r["id"]] = list(self._snow(r["text"]).words) if r["text"].strip() else []
        return w

    def run(self, train: Sequence[dict[str, Any]], test: Sequence[dict[str, Any]]) -> np.ndarray:
        from snownlp.classification.bayes import Bayes

        b = Bayes()
        b.train([(self.words(r), r["label"]) for r in train])
        out = []
        for r in test:
            label, prob = b.classify(self.words(r))
            out.append(label == "rumour")
        return np.array(out)


def eval_rumour(data_dir: Path = DEFAULT_DATA_DIR, folds: int = 5, snownlp: bool = True,
                log: Log = print) -> dict[str, Any]:
    from .rumour import CueLexicon, RumourScorer

    seg = Segmenter().ensure_loaded()
    cues = CueLexicon()
    rows = read_jsonl(Path(data_dir) / "rumour_dev.jsonl")
    gold_of = lambda rs: np.array([r["label"] == "rumour" for r in rs])  # noqa: E731
    snow = _SnowBayes() if snownlp else None
    results: dict[str, Any] = {}

    def report(name: str, test: Sequence[dict[str, Any]], pred: np.ndarray, snow_pred: np.ndarray | None) -> None:
        p, r, f = prf(pred, gold_of(test))
        res = {"n": len(test), "rumours": int(gold_of(test).sum()), "precision": round(p, 4), "recall": round(r, 4),
               "f1": round(f, 4)}
        line = f"{name:34} n={len(test):5d} ours P {p:.3f} R {r:.3f} F1 {f:.3f}"
        if snow_pred is not None:
            sp, sr, sf = prf(snow_pred, gold_of(test))
            res.update(snownlp_precision=round(sp, 4), snownlp_recall=round(sr, 4), snownlp_f1=round(sf, 4))
            line += f" | snownlp P {sp:.3f} R {sr:.3f} F1 {sf:.3f}"
        results[name] = res
        log(line)

    def fresh(train: Sequence[dict[str, Any]], test: Sequence[dict[str, Any]]) -> np.ndarray:
        w, b, _ = train_rumour_model(seg, cues, train)
        rows, buckets = featurize_texts(seg, cues, [r["text"] for r in test])
        return predict((w, b), rows, buckets, len(test), norm="l2", once=RUMOUR_ONCE) >= 0.5

    log("== rumour: text and cue features only (no date, no repost count)")
    train = [r for r in rows if not is_held_out(str(r["id"]))]
    held = [r for r in rows if is_held_out(str(r["id"]))]
    scorer = RumourScorer()
    if scorer.model is not None:
        hr, hb = featurize_texts(seg, cues, [r["text"] for r in held])  # not ``rows``: cross-source reads it below
        pred = scorer.model.proba(hr, hb, len(held)) >= 0.5
        snow_pred = snow.run(train, held) if snow else None
        report("held-out (shipped model)", held, pred, snow_pred)
        for src in ("ma2016", "ced"):
            m = np.array([rumour_source(r) == src for r in held])
            sub = [r for r, k in zip(held, m) if k]
            report(f"  held-out, {src} rows only", sub, pred[m], snow_pred[m] if snow_pred is not None else None)
    fold_of = lambda r: int(hashlib.sha1(f"cv:{r['id']}".encode()).hexdigest(), 16) % folds  # noqa: E731
    ours_all, snow_all, gold_all = [], [], []
    for k in range(folds):
        tr = [r for r in train if fold_of(r) != k]
        te = [r for r in train if fold_of(r) == k]
        ours_all.append(fresh(tr, te))
        snow_all.append(snow.run(tr, te) if snow else None)
        gold_all.extend(te)
    report(f"{folds}-fold CV (pooled, training rows)", gold_all, np.concatenate(ours_all),
           np.concatenate(snow_all) if snow else None)
    for a, b in (("ma2016", "ced"), ("ced", "ma2016")):
        tr = [r for r in rows if rumour_source(r) == a]
        te = [r for r in rows if rumour_source(r) == b]
        report(f"cross-source: train {a}, test {b}", te, fresh(tr, te), snow.run(tr, te) if snow else None)
    return results


# -- topics ------------------------------------------------------------------------------------------------
def _nmi(a: Sequence[str], b: Sequence[str]) -> float:
    """Normalised mutual information (arithmetic mean of the entropies) between two labelings."""
    from collections import Counter

    n = len(a)
    ca, cb, cab = Counter(a), Counter(b), Counter(zip(a, b))
    mi = sum(c / n * np.log(c * n / (ca[x] * cb[y])) for (x, y), c in cab.items())
    ha = -sum(c / n * np.log(c / n) for c in ca.values())
    hb = -sum(c / n * np.log(c / n) for c in cb.values())
    return float(2 * mi / (ha + hb)) if ha + hb > 0 else 1.0


def _purity(truth: Sequence[str], pred: Sequence[str]) -> float:
    from collections import Counter, defaultdict

    by: dict[str, Counter[str]] = defaultdict(Counter)
    for t, p in zip(truth, pred):
        by[p][t] += 1
    return sum(c.most_common(1)[0][1] for c in by.values()) / max(1, len(truth))


def eval_topics(data_dir: Path = DEFAULT_DATA_DIR, log: Log = print) -> dict[str, Any]:
    """Topic clustering against the 100 repost cascades of ``event_streams_dev.jsonl`` laid on one timeline.

    Each cascade is one event. Reposts are scored twice: as in the data (the reposter's own words only, often
    empty or 转发微博) and as the Weibo collector stores them (own words + ``//转发 @…：`` + the root post's text).
    A post without a topic counts as a topic of its own. Purity: share of posts in their topic's majority event;
    inverse purity: share of posts in their event's majority topic.
    """
    from .pipeline import Analyzer

    events = read_jsonl(Path(data_dir) / "event_streams_dev.jsonl")
    results: dict[str, Any] = {}
    log(f"== topics: {len(events)} repost cascades on one timeline, each cascade one event")
    for variant in ("own words", "with root"):
        stream = []
        for e in events:
            root = next((p["text"] for p in e["posts"] if p.get("is_root")), "")
            for p in e["posts"]:
                text = p["text"]
                if variant == "with root" and not p.get("is_root"):
                    text = f"{text}\n//转发 @原博：{root}"
                stream.append((p["ts"], str(e["event_id"]), text))
        stream.sort(key=lambda r: r[0])
        anns = Analyzer().analyze([{"id": str(i), "text": t} for i, (_, _, t) in enumerate(stream)])
        truth = [ev for _, ev, _ in stream]
        pred = [a.topic_id or f"none:{i}" for i, a in enumerate(anns)]
        res = {"posts": len(stream), "topics": len(set(pred)), "purity": round(_purity(truth, pred), 4),
               "inverse_purity": round(_purity(pred, truth), 4), "nmi": round(_nmi(truth, pred), 4)}
        results[variant] = res
        log(f"{variant:10} posts {res['posts']:6d} topics {res['topics']:6d} purity {res['purity']:.3f} "
            f"inverse purity {res['inverse_purity']:.3f} NMI {res['nmi']:.3f}")
    return results


# -- events ------------------------------------------------------------------------------------------------
def cascade_stream(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The posts of the cascades as a collector delivers them, on one timeline: each repost with its own words and
    ``repost_of`` = the original's mid (Weibo's ``retweeted_status``), a reply also with ``reply_to`` = its parent;
    never the original's text pasted in. ``event`` is the truth (the cascade)."""
    stream = []
    for e in events:
        root = next((p["mid"] for p in e["posts"] if p.get("is_root")), "")
        for p in e["posts"]:
            post = {"id": str(p["mid"]), "mid": str(p["mid"]), "text": p["text"], "ts": p["ts"],
                    "event": str(e["event_id"])}
            if not p.get("is_root"):
                post["repost_of"] = root
                if p.get("parent"):
                    post["reply_to"] = str(p["parent"])
            stream.append(post)
    stream.sort(key=lambda r: r["ts"])
    return stream


def eval_events(data_dir: Path = DEFAULT_DATA_DIR, log: Log = print) -> dict[str, Any]:
    """Event grouping (:mod:`analyzers.events`) against the 100 repost cascades laid on one timeline, as the
    collectors deliver them (own words + the reference to the original). Purity: share of posts in their event's
    majority cascade; inverse purity: share of posts in their cascade's majority event."""
    from .pipeline import Analyzer

    events = read_jsonl(Path(data_dir) / "event_streams_dev.jsonl")
    stream = cascade_stream(events)
    anns = Analyzer().analyze(stream)
    truth = [p["event"] for p in stream]
    pred = [a.event_id or f"none:{i}" for i, a in enumerate(anns)]
    res = {"posts": len(stream), "cascades": len(events), "events": len(set(pred)),
           "purity": round(_purity(truth, pred), 4), "inverse_purity": round(_purity(pred, truth), 4),
           "nmi": round(_nmi(truth, pred), 4)}
    log(f"== events: {len(events)} repost cascades on one timeline (repost text + repost_of/reply_to, no root text)")
    log(f"posts {res['posts']} cascades {res['cascades']} events {res['events']} purity {res['purity']:.4f} "
        f"inverse purity {res['inverse_purity']:.4f} NMI {res['nmi']:.4f}")
    return res


# -- rumour as an event: 诉求 and official notices, first-hour spread, a 1 % base-rate stream ------------------
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "analyzers" / "fixtures"


def _lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]


def eval_rumour_events(data_dir: Path = DEFAULT_DATA_DIR, log: Log = print) -> dict[str, Any]:
    """The cascade-level 疑似谣言 tag (:func:`analyzers.rumour.cascade_assessment`: text score + first-hour
    spread + doubt replies + no official answer, judged on each whole first hour; the live ``rumour`` rule applies
    the same helpers as posts arrive), measured on cascades never trained on (held-out ids), in a stream
    where rumour-cascade posts are about 1 % of posts (every sentiment row: everyday posts the rumour model never saw),
    and the post-level tag (:func:`analyzers.rumour.counts_as_rumour`) on the
    hand-written official notices and complaints. Then what the desk really alerts on the same stream: the shipped
    ``rules/30-rumour.yaml`` replayed as the live desk runs it (:mod:`analyzers.live_rumour_eval`).
    Every decision is the shipped code's; nothing here restates it."""
    from .pipeline import Analyzer
    from .rumour import (APPEAL_THRESHOLD, CLAIM_SCORE, MIN_SPREAD, TAG_THRESHOLD, AppealLexicon,
                         cascade_assessment, counts_as_rumour, is_appeal, is_claim, is_spreading)

    a = Analyzer()
    doubt_of = AppealLexicon().is_doubt
    res: dict[str, Any] = {}
    log("== rumour as an event (text + first-hour spread + doubt replies, no official answer)")
    log("   split by cascade: a cascade is held out when sha1(\"opinion-desk-v1:\" + its id) % 5 == 0 "
        "(analyzers.train.is_held_out); its id is its first post's row id in rumour_dev.jsonl, so the text model "
        "never trained on a held-out first post (and no training row has the same text)")
    for name in ("official_notices", "complaints"):
        texts = _lines(FIXTURES / f"{name}.txt")
        anns = a.analyze([{"id": str(i), "text": t} for i, t in enumerate(texts)])
        tagged = sum(counts_as_rumour(x.rumour_score, x.complaint_score) for x in anns)
        appeals = sum(x.complaint_score >= APPEAL_THRESHOLD for x in anns)
        res[name] = {"n": len(texts), "tagged_rumour": tagged, "rate": round(tagged / len(texts), 4),
                     "shown_as_appeal": appeals}
        log(f"{name:17} n={len(texts):3d} tagged 疑似谣言 {tagged} ({tagged / len(texts):.1%}), shown as 诉求 {appeals}")
    events = read_jsonl(Path(data_dir) / "event_streams_dev.jsonl")
    casc = []
    for e in events:
        root = next(p for p in e["posts"] if p.get("is_root"))
        first = [p["text"] for p in e["posts"] if not p.get("is_root") and p["ts"] - root["ts"] <= 3600]
        ann = a.analyze([{"id": "r", "text": root["text"]}])[0]
        score, appeal = ann.rumour_score, is_appeal(ann.complaint_score)
        tag = cascade_assessment(score, first, doubt_of, official=False, appeal=appeal)[0]
        claim = is_claim(score, sum(map(doubt_of, first)), len(first), appeal=appeal)
        casc.append({"id": str(e["event_id"]), "root_ts": root["ts"], "held": is_held_out(str(e["event_id"])),
                     "gold": e["label"] == "rumour", "tag": tag, "appeal": appeal,
                     "claim": claim, "posts": 1 + len(first), "text_only": score >= CLAIM_SCORE})
    for split, held in (("held-out", True), ("training (text model saw these roots)", False)):
        cs = [c for c in casc if c["held"] == held]
        acc = np.mean([c["claim"] == c["gold"] for c in cs])
        acc_text = np.mean([c["text_only"] == c["gold"] for c in cs])
        res[f"cascades/{split}"] = {"n": len(cs), "accuracy": round(float(acc), 4), "text_only": round(float(acc_text), 4)}
        log(f"cascade accuracy, {split}: n={len(cs)} text+spread {acc:.3f} (root text alone {acc_text:.3f})")
    # the stream: held-out cascades' first hour + every sentiment row as an everyday post of its own
    held = [c for c in casc if c["held"]]
    gold = [c for c in held if c["gold"]]
    small = sum(not is_spreading(c["posts"] - 1) for c in gold)
    appeals = sum(c["appeal"] and is_spreading(c["posts"] - 1) for c in gold)
    res["reachable"] = {"rumour_cascades": len(gold), "not_spreading": small, "appeal_first_posts": appeals}
    log(f"what the rule can reach: of {len(gold)} held-out rumour cascades {small} have fewer than {MIN_SPREAD} "
        f"reposts/replies in their first hour (not spreading: no rule that needs spread tags them) and {appeals} "
        f"more begin with a 诉求 post (never a rumour by the rule); at most {len(gold) - small - appeals} "
        f"({(len(gold) - small - appeals) / max(1, len(gold)):.3f}) can be tagged")
    everyday = read_jsonl(Path(data_dir) / "sentiment_dev.jsonl")
    ev_anns = a.analyze([{"id": str(r["id"]), "text": r["text"]} for r in everyday])
    ev_text_tag = np.array([x.rumour_score >= TAG_THRESHOLD for x in ev_anns])
    ev_tag = [cascade_assessment(x.rumour_score, [], doubt_of, official=False)[0] for x in ev_anns]  # alone: no spread
    rum_posts = sum(c["posts"] for c in held if c["gold"])
    non_posts = sum(c["posts"] for c in held if not c["gold"]) + len(everyday)
    tp = sum(c["posts"] for c in held if c["gold"] and c["tag"])
    fp = sum(c["posts"] for c in held if not c["gold"] and c["tag"]) + sum(ev_tag)
    prec = tp / max(1, tp + fp)
    rec_c = np.mean([c["tag"] for c in held if c["gold"]])
    res["stream"] = {"rumour_posts": rum_posts, "other_posts": non_posts,
                     "base_rate": round(rum_posts / (rum_posts + non_posts), 4), "precision": round(prec, 4),
                     "recall_cascades": round(float(rec_c), 4), "recall_posts": round(tp / max(1, rum_posts), 4),
                     "everyday_text_score_ge_0.7": round(float(ev_text_tag.mean()), 4)}
    s = res["stream"]
    log(f"cascade_assessment (each whole first hour at once): stream: {rum_posts} rumour-cascade posts among "
        f"{rum_posts + non_posts} ({s['base_rate']:.2%}); 疑似谣言 tag "
        f"precision {prec:.3f}, recall {rec_c:.3f} of rumour cascades ({s['recall_posts']:.3f} of their posts); "
        f"everyday posts with text score >= 0.7: {s['everyday_text_score_ge_0.7']:.2%} (no spread: not tagged)")
    res["live_rule"] = _live_rule(events, held, everyday, log)
    return res


def _live_rule(events: Sequence[dict[str, Any]], held: Sequence[dict[str, Any]], everyday: Sequence[dict[str, Any]],
               log: Log) -> dict[str, Any]:
    """What the desk really alerts on the same stream: rules/30-rumour.yaml replayed (:mod:`.live_rumour_eval`)."""
    from .live_rumour_eval import RULE_FILE, live_rule_figures, live_stream, replay_live_rule
    from .pipeline import Analyzer

    roots = {c["id"]: c["root_ts"] for c in held}
    posts = [p for p in cascade_stream([e for e in events if str(e["event_id"]) in roots])
             if p["ts"] - roots[p["event"]] <= 3600]
    stream = live_stream(posts, [(t, t + 3600) for t in roots.values()], everyday)
    t0 = time.perf_counter()
    f = live_rule_figures(replay_live_rule(stream, Analyzer(), RULE_FILE),
                          [c["id"] for c in held if c["gold"]], [c["id"] for c in held if not c["gold"]])
    name = f"live rule {RULE_FILE.parent.name}/{RULE_FILE.name}"
    log(f"{name}: replayed {f['posts']} posts ({len(posts)} of the {len(roots)} held-out cascades' first hours, "
        f"{len(everyday)} everyday posts spread evenly over those hours, ~{len(everyday) / (60 * len(roots)):.0f}/min; "
        f"real analyzer annotations, Engine on the 10 s tick, AlertBook realert; the data has no repost counts and "
        f"no gov authors, so min_reposts and official answers never apply; {time.perf_counter() - t0:.0f} s)")
    log(f"{name}: alerts {f['alerts']} (notices {f['notices']}): on rumour cascades {f['true_alerts']}, on "
        f"non-rumour cascades {f['on_non_rumour_cascades']} ({f['non_rumour_cascades_alerted']} cascades), on everyday "
        f"posts {f['on_everyday_posts']}; precision of alerts {f['precision']:.3f}, rumour cascades alerted "
        f"{f['alerted_cascades']}/{f['rumour_cascades']} (recall {f['recall']:.3f})")
    return f
