"""Post analysis for Opinion Desk: segmentation, keywords, sentiment, SimHash, topics and rumour score.

Like jieba: a class (:class:`Analyzer`), a default instance created lazily on first use, and module-level aliases.
``import analyzers`` loads nothing heavy; the first call loads dictionaries and models (about a second).

    import analyzers
    analyzers.segment("#河南暴雨# 郑州地铁停运")      # -> ['#河南暴雨#', '河南', '暴雨', '郑州', '地铁', '停运']
    anns = analyzers.analyze([{"id": "1", "text": "网传某地紧急扩散"}])
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Iterable, Mapping

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import Analyzer, Annotation

__all__ = ["Analyzer", "Annotation", "analyze", "segment", "get_default", "set_default"]

_default: "Analyzer | None" = None
_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    if name in ("Analyzer", "Annotation"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'analyzers' has no attribute {name!r}")


def get_default() -> "Analyzer":
    """The process-wide default :class:`Analyzer` (created on first use, shipped dictionaries only)."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                from .pipeline import Analyzer

                _default = Analyzer()
    return _default


def set_default(analyzer: "Analyzer") -> None:
    """Replace the default instance (e.g. one built with the configured user dictionary)."""
    global _default
    _default = analyzer


def segment(text: str) -> list[str]:
    """Search tokens of ``text`` with the default analyzer's tokenizer (see :mod:`analyzers.segmentation`)."""
    return get_default().segmenter.segment(text)


def analyze(posts: Iterable[Mapping[str, Any]]) -> list["Annotation"]:
    """:meth:`Analyzer.analyze` on the default instance."""
    return get_default().analyze(posts)
