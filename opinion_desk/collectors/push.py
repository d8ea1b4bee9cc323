"""Posts pushed in by external crawlers (``POST /api/v1/posts``) and file imports: payload -> posts.

``FORMATS`` is the registry of item shapes the push API accepts (``?format=NAME``); ``desk`` is the desk's own
shape (see :meth:`Post.from_dict`). Each item is converted on its own: a bad item yields an
:class:`InputError` naming its index and field, and the good items still go through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..errors import InputError
from ..models import Post

ItemConverter = Callable[[dict[str, Any], str, str], Post]


def _desk_item(item: dict[str, Any], where: str, source: str) -> Post:
    return Post.from_dict(item, where=where, default_source=source)


FORMATS: dict[str, ItemConverter] = {
    "desk": _desk_item,
}


def convert_items(items: Iterable[Any], fmt: str = "desk", source: str = "ingest",
                  where: Callable[[int], str] = lambda i: f"items[{i}]") -> tuple[list[Post], list[InputError]]:
    """Convert each item; returns the good posts and one error per bad item."""
    try:
        conv = FORMATS[fmt]
    except KeyError:
        raise InputError("query", "format", f"unknown format {fmt!r}; known: {', '.join(sorted(FORMATS))}") from None
    posts: list[Post] = []
    errors: list[InputError] = []
    for i, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise InputError(where(i), None, f"expected a JSON object, got {type(item).__name__}")
            posts.append(conv(item, where(i), source))
        except InputError as e:
            errors.append(e)
    return posts, errors
