"""``opinion-desk analyze | train | eval``: batch post analysis, model training and evaluation (issue 3).

Heavy modules (jieba, numpy, the models) are imported inside the commands, never at import time.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Iterator, TextIO

import click

from .common import get_config


def _line_problem(obj: Any) -> str | None:
    """Why a parsed line cannot be analysed (naming the field), or None."""
    from ..collectors.validate import surrogate_at

    if not isinstance(obj, dict):
        return f"应为 JSON 对象，收到 {type(obj).__name__}"
    for key in ("text", "title"):
        if key in obj and obj[key] is not None and not isinstance(obj[key], str):
            return f"field '{key}': 应为字符串，收到 {type(obj[key]).__name__}"
    for key, v in obj.items():
        if isinstance(v, str) and surrogate_at(v) is not None or surrogate_at(str(key)) is not None:
            return f"field '{key}': 不是有效的 Unicode 文本（孤立代理项，或不是 UTF-8 的字节）"
    return None


def _read_posts(stream: TextIO, name: str, bad: list[int]) -> Iterator[dict[str, Any]]:
    """JSON objects from a JSONL stream; a bad line is reported on stderr with its number and skipped (not JSON,
    nested too deep to read, not an object, text that is not a string or not Unicode). A UTF-8 BOM on line 1 is
    read as nothing."""
    for lineno, line in enumerate(stream, 1):
        if lineno == 1:
            line = line.lstrip("\ufeff")
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            problem = _line_problem(obj)
        except json.JSONDecodeError as e:
            problem = f"不是有效的 JSON（第 {e.colno} 列：{e.msg}）"
        except RecursionError:
            problem = "嵌套过深，无法读取的 JSON"
        if problem is not None:
            bad.append(lineno)
            click.echo(f"{name}:{lineno}: 已跳过：{problem}", err=True)
            continue
        if "id" not in obj:
            obj["id"] = f"line-{lineno}"
        yield obj


def _analysis_config() -> dict[str, Any]:
    try:
        cfg = get_config()
        return dict(cfg["analysis"])
    except click.ClickException:
        raise
    except Exception:  # no config machinery available: defaults
        return {"user_dict": "", "workers": 0}


@click.command("analyze")
@click.argument("infile", type=click.Path(allow_dash=True, dir_okay=False), metavar="IN.jsonl")
@click.option("-o", "--output", "outfile", type=click.Path(allow_dash=True, dir_okay=False), default="-",
              show_default=True, help="Where to write the annotated JSONL ('-' = stdout).")
@click.option("-w", "--workers", type=int, default=None,
              help="Processes to use (default: [analysis] workers from config; 0 = one per core). Input that "
                   "fits in one batch (2,048 posts) is analysed in this process, where a pool would only add "
                   "start-up time.")
@click.option("--user-dict", type=click.Path(dir_okay=False), default=None,
              help="Extra jieba user dictionary (default: [analysis] user_dict from config).")
@click.option("--state", "state_path", type=click.Path(dir_okay=False), default=None,
              help="Analyzer state file (IDF counts, topics): loaded if present, saved afterwards.")
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
def analyze_cmd(infile: str, outfile: str, workers: int | None, user_dict: str | None, state_path: str | None,
                no_progress: bool) -> None:
    """Annotate posts: read JSONL lines {"id", "text", ...} from IN.jsonl ('-' = stdin) and write lines with
    id, tokens, keywords, sentiment, sentiment_label, simhash, topic_id, event_id, rumour_score, rumour_cues,
    rumour_reasons, complaint_score, ... A line may carry "mid" (its platform id) and "repost_of" / "reply_to" (the
    platform id of the original it reposts / answers): reposts then join their original's event."""
    from pathlib import Path

    from tqdm import tqdm

    from analyzers import Analyzer

    acfg = _analysis_config()
    user_dict = user_dict or acfg.get("user_dict") or None
    workers = acfg.get("workers", 0) if workers is None else workers
    try:
        analyzer = Analyzer(user_dict, state_path=state_path if state_path and Path(state_path).is_file() else None)
        analyzer.load()
    except (OSError, ValueError) as e:
        raise click.ClickException(f"无法加载分析器：{e}") from None
    bad: list[int] = []
    instream = sys.stdin if infile == "-" else open(infile, encoding="utf-8", errors="surrogateescape")
    out = sys.stdout if outfile == "-" else open(outfile, "w", encoding="utf-8")
    n = n_err = 0
    try:
        bar = tqdm(unit=" posts", file=sys.stderr, disable=no_progress, mininterval=0.5)
        posts = _read_posts(instream, "<stdin>" if infile == "-" else infile, bad)
        for ann in analyzer.analyze_parallel(posts, workers=workers, progress=bar.update):
            out.write(json.dumps(ann.to_dict(), ensure_ascii=False) + "\n")
            n += 1
            n_err += ann.error is not None
        bar.close()
    finally:
        if instream is not sys.stdin:
            instream.close()
        if out is not sys.stdout:
            out.close()
    if state_path:
        analyzer.save_state(state_path)
    click.echo(f"已分析 {n} 条（其中 {n_err} 条带 error 字段），跳过坏行 {len(bad)} 行", err=True)


@click.group("train")
def train_group() -> None:
    """Rebuild the shipped analysis models from the Weibo development data (../shared/data/weibo)."""


@train_group.command("sentiment")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Directory with sentiment_dev.jsonl (default: ../shared/data/weibo).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Model file to write (default: the shipped analyzers/resources/sentiment.npz).")
@click.option("--epochs", type=int, default=10, show_default=True, help="Passes over the training rows.")
@click.option("--l2", type=float, default=None,
              help="L2 strength (default: the best of a small grid on a validation split of the training rows).")
def train_sentiment_cmd(data_dir: str | None, output: str | None, epochs: int, l2: float | None) -> None:
    """Train the sentiment model (held-out rows excluded; see analyzers/resources/PROVENANCE.md)."""
    from analyzers import train

    d = data_dir or train.DEFAULT_DATA_DIR
    if not (train.Path(d) / "sentiment_dev.jsonl").is_file():
        raise click.ClickException(f"{d} 中没有 sentiment_dev.jsonl")
    train.train_sentiment(train.Path(d), output, epochs=epochs, l2=l2, log=lambda s: click.echo(s, err=True))


@train_group.command("rumour")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Directory with rumour_dev.jsonl (default: ../shared/data/weibo).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Model file to write (default: the shipped analyzers/resources/rumour.npz).")
@click.option("--epochs", type=int, default=30, show_default=True, help="Passes over the training rows.")
def train_rumour_cmd(data_dir: str | None, output: str | None, epochs: int) -> None:
    """Train the rumour model on text and cue features only (never the date)."""
    from analyzers import train

    d = data_dir or train.DEFAULT_DATA_DIR
    if not (train.Path(d) / "rumour_dev.jsonl").is_file():
        raise click.ClickException(f"{d} 中没有 rumour_dev.jsonl")
    train.train_rumour(train.Path(d), output, epochs=epochs, log=lambda s: click.echo(s, err=True))


@train_group.command("idf")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Directory with the development JSONL files (default: ../shared/data/weibo).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="File to write (default: the shipped analyzers/resources/idf_prior.json.gz).")
def train_idf_cmd(data_dir: str | None, output: str | None) -> None:
    """Rebuild the IDF prior (document frequencies) that keywords start from."""
    from analyzers import train

    d = data_dir or train.DEFAULT_DATA_DIR
    train.train_idf(train.Path(d), output, log=lambda s: click.echo(s, err=True))


@click.command("eval")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Directory with sentiment_dev.jsonl, rumour_dev.jsonl and event_streams_dev.jsonl "
                   "(default: ../shared/data/weibo).")
@click.option("--snownlp-sample", type=int, default=300, show_default=True,
              help="Held-out rows per group scored by stock SnowNLP (it runs at ~70 posts/s); 0 = skip.")
@click.option("--folds", type=int, default=5, show_default=True, help="Cross-validation folds for rumour.")
@click.option("--only", type=click.Choice(["sentiment", "rumour", "topics", "events"]), default=None,
              help="Evaluate one task only.")
def eval_cmd(data_dir: str | None, snownlp_sample: int, folds: int, only: str | None) -> None:
    """Print sentiment accuracy (with the pos->neg / neg->pos error balance) and rumour precision/recall/F1 on
    held-out rows, beside stock SnowNLP; the 疑似谣言 tag on held-out cascades in a 1 % base-rate stream and on
    official notices and complaints; topic clustering and event grouping purity against the repost cascades of
    event_streams_dev.jsonl."""
    from analyzers import evaluate

    d = evaluate.Path(data_dir) if data_dir else evaluate.DEFAULT_DATA_DIR
    if not d.is_dir():
        raise click.ClickException(f"数据目录不存在：{d}")
    if only in (None, "sentiment"):
        evaluate.eval_sentiment(d, snownlp_sample=snownlp_sample)
    if only in (None, "rumour"):
        evaluate.eval_rumour(d, folds=folds, snownlp=snownlp_sample > 0)
        evaluate.eval_rumour_events(d)
    if only in (None, "topics"):
        evaluate.eval_topics(d)
    if only in (None, "events"):
        evaluate.eval_events(d)


COMMANDS = [analyze_cmd, train_group, eval_cmd]
