"""帖子详情: /posts/<id> — the original link, the author and author type, the analysis with its reasons, the
near-duplicates (SimHash within 3 bits, within 3 days), the event it belongs to, its pictures, the archived raw
payload with its sha256 (found through the evidence index, :mod:`opinion_desk.collectors.evidence_index`), and the
actions: 立案 from this post, add it to an incident (snapshotted as evidence, audited) and mark it as an incident's
official answer (a manual publication on its platform's channel; :mod:`opinion_desk.incidents.attach`).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from ..collectors.evidence import digest
from ..errors import IncidentError
from ..display import platform_name
from ..models import Post
from ..root import current_desk
from ..store.base import PostQuery
from .auth import require_role
from .search import AUTHOR_TYPES, RUMOUR_SCORE, SENTIMENTS, reach, tz, tz_label

bp = Blueprint("posts", __name__)

DUP_BITS = 3  # as the topic tracker's near-duplicate test (analyzers.topics dup_bits)
DUP_WINDOW = timedelta(days=3)
RAW_SHOWN = 20_000  # characters of a raw payload shown on the page (the archive keeps all)


def _simhash(p: Post) -> int | None:
    try:
        return int(p.simhash, 16) if p.simhash else None
    except ValueError:
        return None


def near_duplicates(p: Post, limit: int = 20) -> list[tuple[Post, int]]:
    """Posts whose SimHash is within :data:`DUP_BITS` bits of ``p``'s, created within :data:`DUP_WINDOW` of it
    (candidates: the same event, or else posts sharing its first keyword), nearest first."""
    h = _simhash(p)
    if h is None:
        return []
    q = PostQuery(since=p.created_at - DUP_WINDOW, until=p.created_at + DUP_WINDOW, size=500)
    if p.topic_id:
        q.topic_ids = [p.topic_id]
    elif p.keywords:
        q.text = p.keywords[0]
    else:
        return []
    out = []
    for c in current_desk().store.search(q).posts:
        ch = _simhash(c)
        if c.id != p.id and ch is not None and (d := (h ^ ch).bit_count()) <= DUP_BITS:
            out.append((c, d))
    out.sort(key=lambda x: (x[1], x[0].created_at))
    return out[:limit]


def evidence(p: Post) -> dict[str, Any]:
    """The archived captures of ``p`` (through the index), each with its hash checked again now."""
    archive = current_desk().evidence
    if archive is None:
        return {"enabled": False, "indexed": False, "captures": []}
    captures = []
    for path, member, rec in archive.captures(p.id):
        raw = json.dumps(rec.get("raw"), ensure_ascii=False, indent=2, sort_keys=True)
        captures.append({
            "file": path.relative_to(archive.root).as_posix(), "member": member, "sha256": rec.get("sha256", ""),
            "ok": digest(rec.get("raw")) == rec.get("sha256"), "collected": _local(rec.get("collected_at")),
            "raw": raw[:RAW_SHOWN], "cut": len(raw) > RAW_SHOWN})
    return {"enabled": True, "indexed": archive.index.complete, "captures": captures}


def _local(iso: str | None) -> str:
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).astimezone(tz()).strftime("%Y-%m-%d %H:%M:%S") if iso else "—"
    except ValueError:
        return str(iso)


def sentiment_reason(p: Post) -> str:
    if p.sentiment is None:
        return "未经情感分析"
    label = SENTIMENTS.get(p.sentiment_label, p.sentiment_label or "未定")
    return f"情感模型给出正面概率 {p.sentiment:.2f}（0 为最负面，1 为最正面），判为{label}"


def sentiment_words(p: Post, k: int = 5) -> tuple[list[str], list[str]]:
    """(words that pull the post negative, words that pull it positive): each of its words is left out of the text
    in turn and the desk's own sentiment model scores it again; a word whose removal raises the positive
    probability by more than 0.02 pulls it negative. Empty when the model cannot be asked."""
    words = [w for w in dict.fromkeys(p.tokens) if len(w) >= 2 and w in p.text][:24]
    if not words or p.sentiment is None:
        return [], []
    try:
        an = current_desk().pipeline.analyzer
        parsed = [an.segmenter.parse(t) for t in [p.text, *(p.text.replace(w, "") for w in words)]]
        scores, _labels = an.sentiment.score_batch(parsed)
    except Exception:  # noqa: BLE001  (an explanation is a help, never a reason for the page to fail)
        current_app.logger.exception("post %s: sentiment reasons could not be computed", p.id)
        return [], []
    deltas = [(float(s) - float(scores[0]), w) for s, w in zip(scores[1:], words)]
    neg = [w for d, w in sorted(deltas, key=lambda x: -x[0]) if d > 0.02][:k]
    pos = [w for d, w in sorted(deltas, key=lambda x: x[0]) if d < -0.02][:k]
    return neg, pos


def rumour_reason(p: Post) -> str:
    if p.rumour_score is None:
        return "未经谣言识别"
    verdict = "疑似谣言" if p.rumour_score >= RUMOUR_SCORE else "未达疑似谣言阈值"
    cues = f"；命中线索词：{'、'.join(p.rumour_cues)}" if p.rumour_cues else "；未命中线索词"
    return f"谣言可能性 {p.rumour_score:.0%}（阈值 {RUMOUR_SCORE:.0%}），{verdict}{cues}"


@bp.get("/posts/<post_id>")
def page(post_id: str):  # noqa: ANN201
    p = current_desk().store.get(post_id)
    if p is None:
        abort(404)
    zone = tz()
    dups = [{"post": d, "bits": bits, "time": d.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")}
            for d, bits in near_duplicates(p)]
    raw = json.dumps(p.raw, ensure_ascii=False, indent=2, sort_keys=True) if p.raw is not None else ""
    neg_words, pos_words = sentiment_words(p)
    return render_template(
        "post.html", p=p, time=p.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        collected=p.collected_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), tz_label=tz_label(),
        author_type=AUTHOR_TYPES.get(p.author_type, p.author_type or "未知"),
        platform=platform_name(p.platform), reach=reach(p),
        sentiment=SENTIMENTS.get(p.sentiment_label, p.sentiment_label or "—"), sentiment_reason=sentiment_reason(p),
        rumour_reason=rumour_reason(p), neg_words=neg_words, pos_words=pos_words, is_rumour=(p.rumour_score or 0) >= RUMOUR_SCORE, dups=dups,
        evidence=evidence(p), store_raw=raw[:RAW_SHOWN], store_raw_hash=digest(p.raw) if p.raw is not None else "",
        safe_url=p.url if p.url.lower().startswith(("http://", "https://")) else "",
        images=[im for im in p.images if im.get("url", "").lower().startswith(("http://", "https://"))])


@bp.get("/api/v1/posts/<post_id>/evidence")
def api_evidence(post_id: str):  # noqa: ANN201
    p = current_desk().store.get(post_id)
    if p is None:
        return jsonify(error=f"没有帖子 {post_id}"), 404
    return jsonify(post_id=p.id, **evidence(p))


@bp.errorhandler(IncidentError)
def _refused(e: IncidentError):  # noqa: ANN202
    return jsonify(error=str(e)), (403 if str(e).startswith("权限不足") else 400)


def _incident_arg() -> int:
    data = request.get_json(silent=True)
    v = data.get("incident_id") if isinstance(data, dict) else None
    try:
        inc = int(v)
    except (TypeError, ValueError):
        raise IncidentError("请选择事件（incident_id 应为事件编号）") from None
    if inc < 1:
        raise IncidentError("请选择事件（incident_id 应为事件编号）")
    return inc


@bp.post("/api/v1/posts/<post_id>/incident")
@require_role("duty", "approver")
def api_add_to_incident(post_id: str):  # noqa: ANN201
    """Add the post to an incident: ``{"incident_id": N}``; snapshotted as evidence and audited."""
    from ..incidents.attach import add_post
    from .incidents import _actor

    return jsonify(add_post(current_desk().incidents, _incident_arg(), _actor(), post_id)), 201


@bp.post("/api/v1/posts/<post_id>/official-answer")
@require_role("duty", "approver")
def api_official_answer(post_id: str):  # noqa: ANN201
    """Mark the post as an incident's official answer: ``{"incident_id": N}`` (a manual publication)."""
    from ..incidents.attach import official_answer
    from .incidents import _actor

    return jsonify(official_answer(current_desk().incidents, _incident_arg(), _actor(), post_id)), 201
