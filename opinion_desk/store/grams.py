"""Character bigrams beside the segmenter's words, so a search finds every post that contains the query as a string.

Word segmentation alone misses names and places the dictionary cuts differently ("青山县东河桥" -> 青山/县东/河桥,
so ``东河桥`` finds nothing). Both stores therefore also index the character bigrams of each whitespace-separated
run of a post's title and text, and a query matches a post when either

- every query word (the segmenter's) is among the post's words (a *word match*, ranked first), or
- every query word occurs in the title or text as a string (a *string match*); posts holding each whitespace-
  separated part of the query whole rank before those holding its words apart. The bigrams of each word narrow
  the candidates (AND), then the string itself is checked (SQLite: ``instr``; Elasticsearch: a phrase of the
  word's bigrams, consecutive positions being exactly a substring).

So ``东河桥`` (segmented 东/河桥) finds "青山县东河桥出现裂缝" and ``园区爆炸`` (园区/爆炸) finds "化工园区附近刚才发生
爆炸". A one-character word has no bigram: it is looked for as the first character of a bigram (and, on
Elasticsearch, also as a word), so a one-character word at the very end of a run is found by words only.
"""

from __future__ import annotations

from collections.abc import Callable


def bigrams(run: str) -> list[str]:
    """The character bigrams of one whitespace-free run, in order (a run of one character has none)."""
    return [run[i:i + 2] for i in range(len(run) - 1)]


def gram_runs(*texts: str) -> list[str]:
    """One whitespace-joined string of bigrams per run of ``texts`` (Elasticsearch indexes them as an array, so
    a phrase never spans two runs: the array's position gap lies between them)."""
    out: list[str] = []
    for t in texts:
        for run in (t or "").split():
            g = bigrams(run)
            if g:
                out.append(" ".join(g))
    return out


def gram_terms(*texts: str) -> list[str]:
    """The distinct bigrams of ``texts`` (SQLite's ``posts_grams`` terms), first occurrence order."""
    seen: dict[str, None] = {}
    for t in texts:
        for run in (t or "").split():
            for g in bigrams(run):
                seen.setdefault(g, None)
    return list(seen)


def query_parts(text: str) -> list[str]:
    """The parts of a query a string match needs: its whitespace-separated runs, without repeats."""
    return list(dict.fromkeys(text.split()))


def needles(text: str, segment: "Callable[[str], list[str]]") -> tuple[list[str], list[str]]:
    """(parts, words) of a query: its whitespace-separated parts, and the segmenter's words of each part (a word
    that is not a substring of its part, e.g. normalised, is replaced by the part; a part the segmenter drops
    whole, e.g. a stop word, stays itself). Every part found as a string implies every word found as one."""
    parts = query_parts(text)
    words: dict[str, None] = {}
    for part in parts:
        got = [w for token in segment(part) for w in str(token).split()]
        if not got:
            words.setdefault(part, None)
        for w in got:
            words.setdefault(w if w in part else part, None)
    return parts, list(words)
