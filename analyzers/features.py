"""Hashed n-gram features computed in bulk with numpy, and the one weight table both linear models share.

A batch of parsed posts becomes two flat arrays, ``rows`` (post index) and ``buckets`` (feature bucket in
``[0, 2**BITS)``), built with a handful of vectorised numpy operations over the whole batch:

* word unigrams and adjacent word bigrams of ``Parsed.features`` (stop words, emoticons, hashtags, mentions kept),
  from a stable 64-bit token hash (blake2b, cached; the same hash feeds SimHash);
* character 1-, 2- and 3-grams of the normalised, lower-cased text (first ``CHAR_LIMIT`` characters, links removed),
  from the text encoded to a uint32 code-point array;
* rumour cue features (``cue:网传``, ``cuegroup:hearsay``, ``ncues:2``).

A feature that occurs twice counts twice (term frequency), unless the model's ``meta`` says ``count: once``: then
only the first occurrence of each bucket in a post counts (:func:`first_occurrences`). Both models read the same
buckets: :class:`HashedModels` gathers each model's weights once per batch and sums them per post with
``np.bincount``. Training (:mod:`analyzers.train`) uses exactly these functions.
"""

from __future__ import annotations

import hashlib
import json
from itertools import chain
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

try:  # compiled first_occurrences and once_sums (setup.py builds them); the numpy references below agree
    from . import _features as _compiled
except ImportError:  # pragma: no cover - only without a C compiler
    _compiled = None

COMPILED = _compiled is not None
_chain = chain.from_iterable
BITS = 20
N_BUCKETS = 1 << BITS
CHAR_LIMIT = 1000
MODEL_FORMAT = "opinion-desk-hashed/2"  # /2: token hashes from hash_tokens (/1 used blake2b)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
_SHIFT = np.uint64(64 - BITS)
_P = np.uint64(0x100000001B3)  # FNV's 64-bit prime: odd, so every power is invertible mod 2**64
_ONE = np.uint64(1)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
SALT = {name: np.uint64(int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big"))
        for name in ("uni", "bi", "c1", "c2", "c3", "cue")}


def hash_tokens(toks: Sequence[str]) -> np.ndarray:
    """Stable 64-bit hashes of many tokens at once (Python's ``hash`` is salted per process, so not usable).

    One pass over the batch: the tokens' code points in one array, a polynomial hash per token summed with
    ``np.add.reduceat`` (wrapping mod 2**64), then the length mixed in and a splitmix64 finaliser; no per-token
    Python call. The same hash feeds the features and SimHash.
    """
    n = len(toks)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    lens = np.fromiter(map(len, toks), dtype=np.int64, count=n)
    h = np.zeros(n, dtype=np.uint64)
    total = int(lens.sum())
    if total:
        codes = np.frombuffer("".join(toks).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        starts = np.cumsum(lens) - lens
        pos = np.arange(total, dtype=np.int64) - np.repeat(starts, lens)
        powers = np.ones(int(lens.max()), dtype=np.uint64)  # P**0, P**1, ... (mod 2**64)
        np.cumprod(np.full(len(powers) - 1, _P, dtype=np.uint64), out=powers[1:])
        nz = lens > 0
        h[nz] = np.add.reduceat((codes + _ONE) * powers[pos], starts[nz])
    return _mix(h ^ (lens.astype(np.uint64) * _GOLD))


def token_hash(tok: str) -> int:
    """The stable 64-bit hash of one token (as :func:`hash_tokens` computes it)."""
    return int(hash_tokens([tok])[0])


class TokenHashes:
    """A bounded cache token -> :func:`hash_tokens` value, shared by the featurizer and SimHash: a warm batch is one
    dict lookup per token, and the tokens not seen before are hashed together in one vectorised call."""

    def __init__(self, cache_size: int = 100_000) -> None:  # cleared when full; ~100 bytes an entry
        self.cache: dict[str, int] = {}
        self.cache_size = cache_size

    def array(self, toks: Sequence[str]) -> np.ndarray:
        cache = self.cache
        got = list(map(cache.get, toks))
        if None in got:
            miss = list(set(toks).difference(cache))
            if len(cache) + len(miss) > self.cache_size:
                cache.clear()
                miss = list(set(toks))
            cache.update(zip(miss, hash_tokens(miss).tolist()))
            got = list(map(cache.get, toks))
        return np.array(got, dtype=np.uint64)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit reaches every output bit."""
    x = (x ^ (x >> _S30)) * _MIX1
    x = (x ^ (x >> _S27)) * _MIX2
    return x ^ (x >> _S31)


def _bucket(keys: np.ndarray) -> np.ndarray:
    return ((keys * _GOLD) >> _SHIFT).astype(np.int64)


def _ngram_keys(codes: np.ndarray, owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys and owners of the character n-grams that do not cross a post boundary."""
    m = len(codes) - n + 1
    if m <= 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    key = codes[:m].copy()
    for j in range(1, n):
        key = key * _M2 + codes[j:j + m]
    ok = owner[:m] == owner[n - 1:n - 1 + m]
    return key[ok] ^ SALT[f"c{n}"], owner[:m][ok]


def batch_features(token_lists: Sequence[Sequence[str]], texts: Sequence[str], hashes: TokenHashes,
                   extra: Sequence[Sequence[str]] | None = None, token_hashes: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(rows, buckets) of every feature of every post, as described in the module docstring. ``token_hashes``:
    the hashes of all tokens in order, when the caller already has them."""
    n = len(token_lists)
    lens = np.fromiter(map(len, token_lists), dtype=np.int64, count=n)
    h = hashes.array(list(_chain(token_lists))) if token_hashes is None else token_hashes
    tok_owner = np.repeat(np.arange(n, dtype=np.int64), lens)
    parts_k = [h ^ SALT["uni"]]
    parts_r = [tok_owner]
    if len(h) > 1:
        same = tok_owner[:-1] == tok_owner[1:]
        parts_k.append((h[:-1] * _GOLD + h[1:])[same] ^ SALT["bi"])
        parts_r.append(tok_owner[:-1][same])
    # characters: one code-point array for the whole batch; an n-gram is kept only if it lies inside one post
    clipped = [t[:CHAR_LIMIT].lower() for t in texts]
    clens = np.fromiter(map(len, clipped), dtype=np.int64, count=n)
    codes = np.frombuffer("".join(clipped).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    owner = np.repeat(np.arange(n, dtype=np.int64), clens)
    keep = codes > 32  # whitespace and control characters are not features
    parts_k.append(codes[keep] ^ SALT["c1"])
    parts_r.append(owner[keep])
    for k in (2, 3):
        kk, rr = _ngram_keys(codes, owner, k)
        parts_k.append(kk)
        parts_r.append(rr)
    if extra is not None:
        elens = np.fromiter(map(len, extra), dtype=np.int64, count=n)
        if elens.sum():
            parts_k.append(hashes.array([e for ex in extra for e in ex]) ^ SALT["cue"])
            parts_r.append(np.repeat(np.arange(n, dtype=np.int64), elens))
    return np.concatenate(parts_r), _bucket(np.concatenate(parts_k))


def _first_occurrences_np(rows: np.ndarray, buckets: np.ndarray, n: int) -> np.ndarray:
    """The reference of :func:`first_occurrences`: a stable sort of ``(row, bucket)`` keys."""
    if len(rows) and (rows.min() < 0 or rows.max() >= n):
        raise ValueError(f"rows must lie in 0..{n - 1}")
    key = rows.astype(np.int64) << BITS | buckets
    order = np.argsort(key, kind="stable")
    first = np.ones(len(key), dtype=bool)
    k = key[order]
    np.not_equal(k[1:], k[:-1], out=first[1:])
    mask = np.zeros(len(key), dtype=bool)
    mask[order[first]] = True
    return mask


def first_occurrences(rows: np.ndarray, buckets: np.ndarray, n: int) -> np.ndarray:
    """Boolean mask over the feature pairs: True where ``(rows[i], buckets[i])`` occurs for the first time (lowest
    index), so ``rows[mask], buckets[mask]`` count every feature of a post once. Compiled (O(m)) when built."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    buckets = np.ascontiguousarray(buckets, dtype=np.int64)
    if _compiled is None:
        return _first_occurrences_np(rows, buckets, n)
    return np.frombuffer(_compiled.first_occurrences(rows, buckets, n), dtype=bool)


def _once_sums_np(rows: np.ndarray, buckets: np.ndarray, n: int, weights: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The reference of :func:`once_sums`."""
    mask = _first_occurrences_np(rows, buckets, n)
    r, b = rows[mask], buckets[mask]
    return np.bincount(r, weights=weights[b], minlength=n), np.bincount(r, minlength=n).astype(np.int64)


def once_sums(rows: np.ndarray, buckets: np.ndarray, n: int, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per post: the sum of ``weights[bucket]`` over its distinct buckets, and how many there are. One compiled pass
    when built (no mask, no gathered copy); equal, bit for bit, to the numpy reference."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    buckets = np.ascontiguousarray(buckets, dtype=np.int64)
    weights = np.ascontiguousarray(weights, dtype=np.float32)
    if _compiled is None:
        return _once_sums_np(rows, buckets, n, weights)
    sums, counts = _compiled.once_sums(rows, buckets, n, weights)
    return np.frombuffer(sums, dtype=np.float64), np.frombuffer(counts, dtype=np.int64)


# -- the shared weight table -------------------------------------------------------------------------------------
def load_sparse(path: str | Path) -> dict[str, Any]:
    """A model file: ``idx`` (uint32 buckets), ``w`` (float16 weights), ``bias``, ``meta`` (JSON)."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if int(meta.get("bits", BITS)) != BITS:
            raise ValueError(f"{path}: model built for 2**{meta.get('bits')} buckets, this code uses 2**{BITS}")
        if meta.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path}: model format {meta.get('format')!r}, this code reads {MODEL_FORMAT!r} "
                             f"(its token hash changed); rebuild it with `opinion-desk train {meta.get('task', '...')}`")
        return {"idx": z["idx"].astype(np.int64), "w": z["w"].astype(np.float32), "bias": float(z["bias"]),
                "meta": meta}


def save_sparse(path: str | Path, weights: np.ndarray, bias: float, meta: dict[str, Any],
                max_features: int = 300_000, min_abs: float = 1e-3) -> int:
    """Keep the ``max_features`` largest weights (float16) and write them; returns how many were kept."""
    order = np.argsort(-np.abs(weights))[:max_features]
    order = np.sort(order[np.abs(weights[order]) >= min_abs])
    meta = dict(meta, bits=BITS, format=MODEL_FORMAT)
    with open(path, "wb") as f:
        np.savez_compressed(f, idx=order.astype(np.uint32), w=weights[order].astype(np.float16),
                            bias=np.float64(bias), meta=np.array(json.dumps(meta, ensure_ascii=False)))
    return len(order)


class HashedModels:
    """Several logistic models over the same hashed features, in one ``(k, N_BUCKETS)`` float32 table."""

    def __init__(self, models: Sequence[dict[str, Any] | None]) -> None:
        self.k = len(models)
        self.table = np.zeros((self.k, N_BUCKETS), dtype=np.float32)  # one contiguous row per model: fast gathers
        self.bias = np.zeros(self.k)
        self.l2 = np.zeros(self.k, dtype=bool)
        self.once = np.zeros(self.k, dtype=bool)
        self.present = [m is not None for m in models]
        self.meta = [dict(m["meta"]) if m else {} for m in models]
        for j, m in enumerate(models):
            if m is not None:
                self.table[j, m["idx"]] = m["w"]
                self.bias[j] = m["bias"]
                self.l2[j] = m["meta"].get("norm") == "l2"
                self.once[j] = m["meta"].get("count") == "once"

    def margins(self, rows: np.ndarray, buckets: np.ndarray, n: int) -> np.ndarray:
        """``(n, k)`` margins: bias + sum of the row's weights (each bucket once per row for ``count: once``),
        divided by sqrt(#features summed) for ``norm: l2``."""
        out = np.empty((n, self.k))
        counts = None
        for j in range(self.k):
            if self.once[j]:
                out[:, j], cnt = once_sums(rows, buckets, n, self.table[j])
            else:
                out[:, j] = np.bincount(rows, weights=self.table[j][buckets], minlength=n)
                if self.l2[j] and counts is None:
                    counts = np.bincount(rows, minlength=n)
                cnt = counts
            if self.l2[j]:
                out[:, j] /= np.sqrt(np.maximum(cnt, 1.0))
        return out + self.bias

    def proba(self, rows: np.ndarray, buckets: np.ndarray, n: int) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.margins(rows, buckets, n), -30, 30)))


def cue_features(cues: Iterable[str], group: dict[str, str]) -> list[str]:
    cues = list(cues)
    out = ["cue:" + c for c in cues]
    out.extend({"cuegroup:" + group[c] for c in cues})
    out.append(f"ncues:{min(len(cues), 3)}")
    return out


class SparseModel:
    """One shipped hashed logistic model (see :func:`load_sparse`); scores alone or joins a :class:`HashedModels`."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.idx, self.w, self.bias, self.meta = d["idx"], d["w"], d["bias"], d["meta"]
        self._table: HashedModels | None = None

    @classmethod
    def load(cls, path: str | Path) -> "SparseModel":
        return cls(load_sparse(path))

    def as_dict(self) -> dict[str, Any]:
        return {"idx": self.idx, "w": self.w, "bias": self.bias, "meta": self.meta}

    def proba(self, rows: np.ndarray, buckets: np.ndarray, n: int) -> np.ndarray:
        if self._table is None:
            self._table = HashedModels([self.as_dict()])
        return self._table.proba(rows, buckets, n)[:, 0]


def char_text(text: str, links: Sequence[str] = ()) -> str:
    """The text whose characters are features: links removed."""
    for link in links:
        text = text.replace(link, " ")
    return text


def featurize(parsed: Sequence[Any], cue_lists: Sequence[Sequence[str]], cue_group: dict[str, str],
              hashes: TokenHashes, token_hashes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, buckets) for parsed posts (:class:`~analyzers.segmentation.Parsed`) and the cues found in them;
    ``token_hashes``: the hashes of all their ``features`` in order, when the caller already has them."""
    return batch_features([p.features for p in parsed], [char_text(p.text, p.links) for p in parsed], hashes,
                          [cue_features(c, cue_group) for c in cue_lists], token_hashes)
