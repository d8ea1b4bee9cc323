"""The JSON API, ``/api/v1``: health, push ingest for external crawlers, search and statistics."""

from __future__ import annotations

import hmac
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from ..broadcast import feed_record
from ..collectors.push import convert_items, items_from_payload
from ..errors import InputError, StoreError, StoreUnavailable
from ..models import utcnow
from ..root import current_desk
from ..store.base import INTERVALS, TERM_FIELDS
from .helpers import get_pipeline, query_from_args
from .params import choice_arg, int_arg

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(InputError)
def _bad_input(e: InputError):  # noqa: ANN202
    return jsonify(error=str(e), **e.to_dict()), 400


def token_ok(token: str) -> bool:
    """Is ``token`` one of the configured machine tokens, or a DB token with the "ingest" scope?"""
    tokens = current_app.config["DESK"]["ingest"]["tokens"]
    if any(hmac.compare_digest(token.encode(), t.encode()) for t in tokens if t):
        return True
    from .auth import token_has_scope  # tokens made by `opinion-desk users token --scope ingest`

    return token_has_scope(token, "ingest")


def require_token(view):  # noqa: ANN001, ANN201
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):  # noqa: ANN202
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("X-Desk-Token", "")
        if not token or not token_ok(token):
            return jsonify(error="missing or bad API token (send 'Authorization: Bearer TOKEN')"), 401
        return view(*args, **kwargs)

    return wrapped


@bp.get("/health")
def health():  # noqa: ANN201
    store = current_desk().store
    ok = store.ping()
    pipeline = get_pipeline()
    queue = current_desk().queue
    return jsonify(ok=ok, store=store.name, spooled=pipeline.spool.pending(), inbox=pipeline.inbox.pending(),
                   rejected=pipeline.dead.count(), queued=queue.depth() if queue is not None else None,
                   role=current_desk().role), (200 if ok else 503)


@bp.post("/posts")
@require_token
def ingest():  # noqa: ANN201
    """Accept a batch: a JSON list of items, or ``{"source": NAME, "posts": [...]}``.

    Each item is checked on its own (:class:`~opinion_desk.collectors.validate.PostChecks`); every bad one is
    reported with its index, field and reason, and the good ones are written to the pipeline's inbox on disk
    (fsynced) before the answer: a 202 means the posts survive a crash. 503 when they could not be written.
    """
    payload = _json_body()
    if payload is None:
        return jsonify(error="请求体不是可读的 JSON：请发送帖子列表或 {\"posts\": [...]}（body is not JSON）"), 400
    # a list, {"source", "posts"}, or a crawler's own file shape (weibo-crawler {"user", "weibo"}); InputError -> 400
    items, source = items_from_payload(payload, request.args.get("format", "desk"), request.args.get("source", "ingest"))
    limit = current_app.config["DESK"]["ingest"]["max_batch"]
    if len(items) > limit:
        return jsonify(error=f"条目过多：{len(items)} > {limit}，请分批发送（too many items）", field="posts"), 413
    pipeline = get_pipeline()
    posts, errors = convert_items(items, request.args.get("format", "desk"), source, checks=pipeline.checks)
    try:
        current_desk().intake.submit(posts)  # durable when it returns (this process's inbox, or the ingest queue)
    except StoreError as e:
        current_app.logger.error("ingest: %d posts could not be written to the inbox: %s", len(posts), e)
        return jsonify(error=f"服务器暂时无法保存，请稍后重发：{e}", accepted=0, rejected=len(errors),
                       errors=[_error_dict(e) for e in errors]), 503
    body = {"accepted": len(posts), "rejected": len(errors), "ids": [p.id for p in posts],
            "errors": [_error_dict(e) for e in errors]}
    return jsonify(body), (202 if posts or not errors else 400)


def _error_dict(e: InputError) -> dict[str, str | None]:
    """An item's error for the answer; text UTF-8 cannot carry (a lone surrogate quoted from the item) escaped."""
    return {k: v.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(v, str) else v
            for k, v in e.to_dict().items()}


def _json_body() -> Any:
    """The request body as JSON, or None when it is not JSON (malformed, not UTF-8, or nested too deep to parse)."""
    import json

    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None


@bp.get("/posts")
def search_posts():  # noqa: ANN201
    q = query_from_args()
    res = current_desk().store.search(q)
    return jsonify(total=res.total, posts=[feed_record(p) for p in res.posts])


@bp.get("/posts/<post_id>")
def get_post(post_id: str):  # noqa: ANN201
    p = current_desk().store.get(post_id)
    if p is None:
        return jsonify(error=f"no post {post_id}"), 404
    return jsonify(p.to_dict())


@bp.get("/stats/volume")
def volume():  # noqa: ANN201
    q = query_from_args()
    interval = choice_arg("interval", "1m", INTERVALS)
    if q.since is not None and q.until is None:  # the chart ends now: a post dated in the future cannot stretch it
        q.until = max(q.since, utcnow() + INTERVALS[interval])
    try:
        buckets = current_desk().store.date_histogram(q, interval)
    except StoreError as e:
        if isinstance(e, StoreUnavailable) or "buckets" not in str(e):
            raise
        raise InputError("query", "interval", f"时间范围内的桶太多：{e}") from None
    return jsonify(interval=interval, buckets=[[t.isoformat(), n] for t, n in buckets])


@bp.get("/stats/top")
def top():  # noqa: ANN201
    q = query_from_args()
    field = choice_arg("field", "keywords", TERM_FIELDS)
    size = int_arg("n", 10, 1, 1000)
    return jsonify(field=field, terms=current_desk().store.top_terms(q, field, size))
