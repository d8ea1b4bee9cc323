"""64-bit SimHash per post (reposts and copy-paste campaigns land within a few bits of each other)."""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

_BITS = np.arange(64, dtype=np.uint64)
_POW = (np.uint64(1) << _BITS).astype(np.uint64)


def token_hash(tok: str) -> int:
    """A stable 64-bit hash of a token (Python's ``hash`` is salted per process, so not usable)."""
    return int.from_bytes(hashlib.blake2b(tok.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def to_hex(h: int) -> str:
    return f"{h:016x}"


class SimHasher:
    """Computes SimHashes of token lists in batches with numpy; caches token hashes."""

    def __init__(self, cache_size: int = 300_000) -> None:
        self._cache: dict[str, int] = {}
        self.cache_size = cache_size

    def __getstate__(self) -> dict:
        return {"cache_size": self.cache_size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["cache_size"])

    def _h(self, tok: str) -> int:
        h = self._cache.get(tok)
        if h is None:
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            h = self._cache[tok] = token_hash(tok)
        return h

    def batch(self, token_lists: Sequence[Sequence[str]]) -> list[int]:
        """SimHash of each token list (term-frequency weighted); 0 for an empty list."""
        n = len(token_lists)
        if n == 0:
            return []
        uniq: dict[str, int] = {}
        idx: list[int] = []
        starts: list[int] = []
        for toks in token_lists:
            starts.append(len(idx))
            for t in toks:
                j = uniq.get(t)
                if j is None:
                    j = uniq[t] = len(uniq)
                idx.append(j)
            idx.append(-1)  # sentinel row of zeros: no list is empty for reduceat
        hashes = np.fromiter((self._h(t) for t in uniq), dtype=np.uint64, count=len(uniq))
        bits = ((hashes[:, None] >> _BITS) & np.uint64(1)).astype(np.int32) * 2 - 1
        bits = np.vstack([bits, np.zeros((1, 64), dtype=np.int32)])
        sums = np.add.reduceat(bits[np.asarray(idx, dtype=np.int64)], np.asarray(starts, dtype=np.int64), axis=0)
        packed = ((sums > 0).astype(np.uint64) * _POW).sum(axis=1, dtype=np.uint64)
        return [int(x) for x in packed]

    def one(self, tokens: Sequence[str]) -> int:
        return self.batch([tokens])[0]
