"""Weibo-aware segmentation: jieba (or its Rust port rjieba) with the desk's dictionaries and stop words.

Token conventions (the post stores index ``Post.tokens`` and segment queries with :func:`analyzers.segment`):

* Chinese runs are cut by jieba with HMM new-word discovery; latin runs are lower-cased and split on ``. _ -``
  so that both backends agree; punctuation and whitespace are dropped; stop words are dropped from ``tokens``
  (they stay in ``features`` for the models, where 不/没 matter).
* ``#话题#`` hashtags give one token ``"#话题#"`` *and* the words of the topic (``#河南暴雨#`` -> ``#河南暴雨#``,
  ``河南``, ``暴雨``), so a search for 暴雨 finds the post and a search for the whole hashtag does too.
* ``@name`` mentions give one token ``"@name"``; ``[表情]`` emoticons one token ``"[表情]"``; links are not tokens
  (they are listed in ``links``).
* Text is normalised first: lone UTF-16 surrogates become U+FFFD, traditional characters are mapped to simplified,
  full-width ASCII to half-width.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, filterfalse
from pathlib import Path
from typing import Iterable

RESOURCES = Path(__file__).resolve().parent / "resources"
SHIPPED_DICTS = ("userdict_gov.txt", "userdict_places.txt", "userdict_newmedia.txt")

URL_RE = r"(?:https?://|www\.)[A-Za-z0-9._~:/?#@!$&'()*+,;=%\-]+"
SPECIAL_RE = re.compile(
    r"(?=[#@\[hw])"  # a cheap first-character test before the alternation
    rf"(?:(?P<url>{URL_RE})"
    r"|(?P<tag>#(?P<inner>[^#\n\r@\[\]]{1,60})#)"
    r"|(?P<at>@(?:(?!https?://|www\.)[\w\-·]){1,30})"  # a mention ends where a link begins: @某人http://...
    r"|(?P<emo>\[[\w\u4e00-\u9fff ]{1,10}\]))"
)
SURROGATE_RE = re.compile("[\ud800-\udfff]")
HAN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN_SPLIT_RE = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+")
BACKENDS = ("auto", "rjieba", "jieba")
_PUA = range(0xE000, 0xF900)  # private-use characters: never in a normalised text, so free to use as marks
_MARK, _END = "\ue000", "\ue001"
_CUT_TEMPLATE = _MARK + r"\g<inner>" + _END  # an entity -> its mark, then a hashtag's words, then an end mark
_chain = chain.from_iterable
# Memory: the raw token -> normalised tokens cache is cleared when it passes this many entries (numbers, links
# and ids keep arriving, each once); about 120 bytes an entry, so ~12 MB when full.
TOKEN_CACHE = 100_000


class _TokenNorms(dict):
    """raw backend token -> its normalised tokens, filled on first sight (bounded): a Han word stays as it is,
    a latin run is lower-cased and split on ``. _ -``, punctuation and whitespace give nothing."""

    def __missing__(self, tok: str) -> tuple[str, ...]:
        if tok == _MARK:
            out: tuple[str, ...] = (tok,)
        elif HAN_RE.match(tok):
            out = (tok,)
        else:
            out = tuple([m.lower() for m in LATIN_SPLIT_RE.findall(tok)])
        if len(self) > TOKEN_CACHE:
            self.clear()
        self[tok] = out
        return out


def _read_lines(path: Path) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


def load_stopwords(path: Path | None = None) -> frozenset[str]:
    return frozenset(_read_lines(path or RESOURCES / "stopwords.txt"))


def _translation_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for line in _read_lines(RESOURCES / "t2s.txt"):
        parts = line.split("\t")
        if len(parts) == 2 and len(parts[0]) == 1:
            table[ord(parts[0])] = parts[1]
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII -> ASCII
        table[cp] = chr(cp - 0xFEE0)
    table[0x3000] = " "
    for cp in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *_PUA):  # control and private-use
        table[cp] = " "  # characters (private-use ones are the segmentation placeholders) -> space
    return table


class PlaceContext:
    """Re-cuts an ordinary phrase that the place dictionary split into a county name: ``明 / 天全县`` ->
    ``明天 / 全县`` when ``明天`` is a context word (``resources/place_context.txt``) and the place is
    ``天全县``. Texts without such a sequence (one regex search) are passed through unchanged."""

    def __init__(self, places: Iterable[str], words: Iterable[str]) -> None:
        places = [p for p in places if len(p) >= 2]
        by_first: dict[str, list[str]] = {}
        for w in words:
            if len(w) == 2:
                by_first.setdefault(w[1], []).append(w)
        self.heads = {w for ws in by_first.values() for w in ws}
        self.places = frozenset(p for p in places if p[0] in by_first)
        triggers = {w + p[1:] for p in self.places for w in by_first[p[0]]}
        self.regex = re.compile("|".join(map(re.escape, sorted(triggers, key=len, reverse=True)))) if triggers else None

    def wrap(self, cut):  # type: ignore[no-untyped-def]
        if self.regex is None:
            return cut
        search, places, heads = self.regex.search, self.places, self.heads

        def repaired(text: str, *a, **kw):  # type: ignore[no-untyped-def]
            toks = cut(text, *a, **kw)
            if not search(text):
                return toks
            toks = list(toks)
            out: list[str] = []
            for t in toks:
                if t in places and out and out[-1][-1] + t[0] in heads:
                    # 明/天全县 -> 明天/全县; 说明/天全县 -> 说/明天/全县 (the word before kept, less its last character)
                    last = out.pop()
                    if len(last) > 1:
                        out.append(last[:-1])
                    out.append(last[-1] + t[0])
                    out.extend(cut(t[1:], *a, **kw))
                else:
                    out.append(t)
            return out

        return repaired


def parse_dict_line(line: str) -> tuple[str, int | None, str | None] | None:
    """One ``word [freq] [tag]`` line of a jieba user dictionary."""
    parts = line.split()
    if not parts:
        return None
    word, freq, tag = parts[0], None, None
    rest = parts[1:]
    if rest and rest[0].isdigit():
        freq = int(rest.pop(0))
    if rest:
        tag = rest[0]
    return word, freq, tag


@dataclass(slots=True)
class Parsed:
    """The segmentation of one text."""

    text: str  # normalised text
    features: list[str] = field(default_factory=list)  # all word tokens incl. stop words + entities, in order
    tokens: list[str] = field(default_factory=list)  # features minus stop words (search / keywords / simhash)
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    emoticons: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


class Segmenter:
    """Owns one jieba tokenizer (Python ``jieba.Tokenizer`` or ``rjieba.Jieba``) loaded with the desk's dictionaries.

    Nothing is loaded until first use. ``backend="auto"`` uses rjieba when installed (about 10x faster; a test
    checks it segments like jieba with the same dictionaries), else jieba.
    """

    def __init__(self, user_dict: str | None = None, backend: str = "auto", hmm: bool = True,
                 stopwords: Iterable[str] | None = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if user_dict and not Path(user_dict).is_file():
            raise FileNotFoundError(f"user dictionary not found: {user_dict}")
        self.user_dict = user_dict
        self.requested_backend = backend
        self.hmm = hmm
        self._stop_arg = frozenset(stopwords) if stopwords is not None else None
        self._cut = None
        self.backend: str | None = None
        self._tok_cache = _TokenNorms()

    # -- loading -------------------------------------------------------------------------------------------
    def __getstate__(self) -> dict:
        return {"user_dict": self.user_dict, "requested_backend": self.requested_backend, "hmm": self.hmm,
                "_stop_arg": self._stop_arg}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["user_dict"], state["requested_backend"], state["hmm"], state["_stop_arg"])

    def dict_entries(self) -> list[tuple[str, int | None, str | None]]:
        paths = [RESOURCES / n for n in SHIPPED_DICTS] + ([Path(self.user_dict)] if self.user_dict else [])
        entries = []
        for p in paths:
            for line in _read_lines(p):
                e = parse_dict_line(line)
                if e:
                    entries.append(e)
        return entries

    def _load(self) -> None:
        backend = self.requested_backend
        if backend == "auto":
            try:
                import rjieba  # noqa: F401
                backend = "rjieba"
            except ImportError:
                backend = "jieba"
        entries = self.dict_entries()
        if backend == "rjieba":
            import rjieba

            tk = rjieba.Jieba()
            for word, freq, tag in entries:
                tk.add_word(word, freq, tag)
            hmm = self.hmm
            self._cut = self._place_context(entries).wrap(partial(tk.cut, hmm=hmm))
        else:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            for word, freq, tag in entries:
                tk.add_word(word, freq, tag)
            hmm = self.hmm
            self._cut = self._place_context(entries).wrap(partial(tk.lcut, HMM=hmm))
        self.tokenizer = tk
        self.backend = backend
        self.stopwords = self._stop_arg if self._stop_arg is not None else load_stopwords()
        self.table = _translation_table()
        table = self.table
        self._swap = partial(re.compile("[" + "".join(map(re.escape, map(chr, sorted(table)))) + "]").sub,
                             lambda m: table[ord(m.group())])  # ~3x faster than str.translate here: few chars change

    @staticmethod
    def _place_context(entries: list[tuple[str, int | None, str | None]]) -> PlaceContext:
        return PlaceContext((w for w, _, tag in entries if tag == "ns"), _read_lines(RESOURCES / "place_context.txt"))

    def ensure_loaded(self) -> "Segmenter":
        if self._cut is None:
            self._load()
        return self

    # -- segmentation --------------------------------------------------------------------------------------
    def normalize(self, text: str) -> str:
        self.ensure_loaded()
        if SURROGATE_RE.search(text):
            text = SURROGATE_RE.sub("\ufffd", text)
        return self._swap(text)

    def parse(self, text: str, normalized: bool = False) -> Parsed:
        """Segment ``text`` into features, tokens and Weibo entities.

        One backend call per text, with C loops doing most of the work: every entity is replaced by a mark (a
        private-use character, which jieba leaves alone as a token of its own and never joins to a neighbour;
        ``normalize`` turns private-use and control characters into spaces), a hashtag's words following its mark,
        so the cut equals cutting the runs between entities one by one; then each mark becomes its entity token.
        """
        if self._cut is None:
            self._load()
        if not normalized:
            text = self.normalize(text)
        p = Parsed(text=text)
        norms = self._tok_cache.__getitem__
        matches = SPECIAL_RE.findall(text)
        if not matches:
            feats = list(_chain(map(norms, self._cut(text))))
        else:
            marks: list[str | None] = []  # what each mark becomes: an entity token, or nothing (links, empty tags)
            for url, tag, inner, at, emo in matches:
                if url:
                    p.links.append(url)
                    marks.append(None)
                elif tag:
                    inner = inner.strip()
                    tag = "#" + inner.lower() + "#" if inner else None
                    if tag:
                        p.hashtags.append(tag)
                    marks.append(tag)
                elif at:
                    at = at.lower()
                    p.mentions.append(at)
                    marks.append(at)
                else:
                    p.emoticons.append(emo)
                    marks.append(emo)
            if p.hashtags:  # a group reference makes ``sub`` call Python per match: only when words must follow
                cut_text = SPECIAL_RE.sub(_CUT_TEMPLATE, text)
            else:
                cut_text = SPECIAL_RE.sub(_MARK, text)
            feats = list(_chain(map(norms, self._cut(cut_text))))
            i = -1
            for ent in marks:
                i = feats.index(_MARK, i + 1)
                feats[i] = ent
            if None in marks:
                feats = [t for t in feats if t is not None]
        p.features = feats
        p.tokens = list(filterfalse(self.stopwords.__contains__, feats))
        return p

    def segment(self, text: str) -> list[str]:
        """Search tokens of ``text`` (stop words and punctuation removed); never raises on a string."""
        if not isinstance(text, str) or not text:
            return []
        return self.parse(text).tokens

    def cut_raw(self, text: str) -> list[str]:
        """The backend's raw cut (no normalisation or filtering); used by the backend-equivalence test."""
        self.ensure_loaded()
        return list(self._cut(text))
