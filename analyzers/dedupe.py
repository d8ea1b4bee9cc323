"""64-bit SimHash per post (reposts and copy-paste campaigns land within a few bits of each other)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .features import TokenHashes, token_hash

_NIBBLE_BITS = np.unpackbits(np.arange(16, dtype=np.uint8)[:, None], axis=1, bitorder="little")[:, :4].astype(np.int64)

__all__ = ["SimHasher", "hamming", "to_hex", "token_hash"]


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def to_hex(h: int) -> str:
    return f"{h:016x}"


class SimHasher:
    """Computes SimHashes of token lists in batches with numpy; token hashes come from a shared cache."""

    def __init__(self, cache_size: int = 300_000, hashes: TokenHashes | None = None) -> None:
        self.cache_size = cache_size
        self.hashes = hashes or TokenHashes(cache_size)

    def __getstate__(self) -> dict:
        return {"cache_size": self.cache_size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["cache_size"])

    def batch(self, token_lists: Sequence[Sequence[str]]) -> list[int]:
        """SimHash of each token list (term-frequency weighted); 0 for an empty list."""
        n = len(token_lists)
        if n > 4096:  # bounded memory: (posts x 16) counters per chunk
            return [x for i in range(0, n, 4096) for x in self.batch(token_lists[i:i + 4096])]
        if n == 0:
            return []
        lens = np.fromiter(map(len, token_lists), dtype=np.int64, count=n)
        return self.from_hashes(self.hashes.array([t for toks in token_lists for t in toks]), lens)

    def from_hashes(self, h: np.ndarray, lens: np.ndarray) -> list[int]:
        """SimHash of each post from its tokens' hashes ``h`` (all posts' in order) and token counts ``lens``."""
        n = len(lens)
        if n == 0:
            return []
        rows16 = np.repeat(np.arange(n, dtype=np.int64) * 16, lens)
        # per 4-bit nibble of the hash: count, per post, how many tokens have each nibble value, then map the
        # (posts x 16) counts to the nibble's 4 bit counts
        by = h.view(np.uint8).reshape(-1, 8)  # little-endian: byte j holds bits 8j..8j+7
        ones = np.empty((n, 64), dtype=np.int64)
        for j in range(8):
            col = by[:, j]
            for half, v in ((0, col & 15), (1, col >> 4)):
                cnt = np.bincount(rows16 + v, minlength=n * 16).reshape(n, 16)
                k = 8 * j + 4 * half
                ones[:, k:k + 4] = cnt @ _NIBBLE_BITS
        bits = (2 * ones > lens[:, None]).astype(np.uint8)  # more +1 than -1 votes
        packed = np.packbits(bits, axis=1, bitorder="little").view("<u8").ravel()
        return packed.tolist()

    def one(self, tokens: Sequence[str]) -> int:
        return self.batch([tokens])[0]
