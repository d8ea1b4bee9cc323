"""Fuzz the compiled clusterer (``analyzers._topics.Core``) with seeded random call sequences.

Two parts:

- differential: the same sequence of calls (valid posts, NaN/inf/odd weights, states saved and loaded, mutated
  states, labels) to the compiled and the pure-Python clusterer gives the same answers and the same errors;
- chaos: calls in any order on any object — before ``__init__``, re-initialised half-way, from inside its own
  ``new_id``, with terms whose ``__eq__``/``__hash__`` call back into it, with junk states — raise ordinary
  exceptions and never crash.

Both run in-process on the normal build, and in a subprocess on a copy built with
``-fsanitize=address,undefined`` (gcc, asan runtime preloaded, ``detect_leaks=0``, ``PYTHONMALLOC=malloc`` so
that every ``PyMem`` buffer is checked): any invalid read or write, or undefined behaviour, fails the test.
Run by hand: ``python tests/analyzers/test_topics_fuzz.py --asan [--seeds N]``.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ["_topics.c", "_topics_store.c", "_topics_state.c"]
ERRORS = (TypeError, ValueError, RuntimeError, OverflowError, KeyError, IndexError, AttributeError)
WEIGHTS: list[Any] = [1.0, 0.5, 2.0, 1e-300, 1e300, 0.0, -1.0, float("nan"), float("inf"), -float("inf"), 3, True]
TERMS = [f"词{i}" for i in range(30)]


def _keywords(rng: random.Random, odd: bool) -> list:
    kws: list[Any] = []
    for _ in range(rng.randint(0, 12)):
        t = rng.choice(TERMS)
        w = rng.choice(WEIGHTS) if odd and rng.random() < 0.15 else round(rng.uniform(0.01, 3.0), 3)
        kws.append((t, w) if rng.random() < 0.8 else [t, w])
    return kws


def _mutate_state(rng: random.Random, st: dict) -> Any:
    st = {"seq": st["seq"], "topics": [list(t) for t in st["topics"]], "hashes": [list(h) for h in st["hashes"]]}
    r = rng.random()
    if r < 0.2 and st["topics"]:
        t = rng.choice(st["topics"])
        t[1] = dict(t[1])
        if t[1]:
            t[1][next(iter(t[1]))] = rng.choice([float("nan"), float("inf"), "x", None, -1.0, 1e308])
    elif r < 0.35 and st["topics"]:
        st["topics"].append(list(rng.choice(st["topics"])))  # a duplicate topic id
    elif r < 0.5 and st["topics"]:
        rng.choice(st["topics"])[rng.randrange(5)] = rng.choice([None, "x", 2**70, -5, [], {}])
    elif r < 0.6:
        st["hashes"].append(rng.choice([["zz", "t1"], ["ffffffffffffffffff", "t1"], [1, 2], ["0", [1]], []]))
    elif r < 0.7:
        st["seq"] = rng.choice([None, "x", 2**80, -1])
    elif r < 0.8:
        return rng.choice([None, [], "state", {"topics": "x"}, {"topics": [1, 2]}, {"hashes": {}}])
    return st


def differential(seed: int, ops: int, core_cls: type) -> None:
    """The compiled and the reference clusterer give the same answers and errors on one random sequence."""
    from analyzers.topics import PyTopicClusterer, new_topic_id

    rng = random.Random(seed)
    params = dict(threshold=rng.choice([0.2, 0.35, 0.6]), dup_bits=rng.choice([0, 3]),
                  max_topics=rng.choice([3, 10, 1000]), max_terms=rng.choice([2, 5, 30]),
                  label_terms=rng.choice([0, 1, 3]), recent_hashes=rng.choice([1, 5, 100]),
                  postings=rng.choice([1, 2, 8]))
    py = PyTopicClusterer(**params)
    c = core_cls(params["threshold"], params["dup_bits"], params["max_topics"], params["max_terms"],
                 params["label_terms"], params["recent_hashes"], params["postings"], new_topic_id)
    saved: list[dict] = []

    def both(fn: Any) -> None:
        out = []
        for obj in (py, c):
            try:
                out.append(("ok", fn(obj)))
            except ERRORS as e:
                out.append(("err", type(e).__name__))
        assert out[0] == out[1] or (out[0][0] == out[1][0] == "err"), (seed, out)

    for i in range(ops):
        r = rng.random()
        if r < 0.7:
            pid, h, kws = f"p{seed}-{i}", rng.choice([0, rng.getrandbits(64), rng.getrandbits(64)]), _keywords(rng, True)
            if rng.random() < 0.2 and kws:  # a near-duplicate of a recent hash
                h = rng.getrandbits(64)
            both(lambda o: o.assign(pid, h, kws))
        elif r < 0.8:
            st = py.state()
            assert st == c.state(), seed
            saved.append(st)
        elif r < 0.9 and saved:
            st = _mutate_state(rng, rng.choice(saved)) if rng.random() < 0.5 else rng.choice(saved)
            both(lambda o: o.load_state(st))
            assert py.state() == c.state(), seed
        else:
            tid = rng.choice([t[0] for t in py.state()["topics"]] or ["t0"])
            both(lambda o: o.label(tid))
    st = c.state()
    assert st == py.state()
    assert all(math.isfinite(w) for t in st["topics"] for w in t[1].values())


class EvilTerm(str):
    """A term whose comparison and hash call back into the clusterer that is using it."""

    core: Any = None

    def __eq__(self, other: object) -> bool:
        if EvilTerm.core is not None:
            for fn in (lambda: EvilTerm.core.load_state({}), lambda: EvilTerm.core.__init__(0.3, 3, 5, 5, 2, 5, 2, str),
                       lambda: EvilTerm.core.assign("x", 1, [("a", 1.0)]), lambda: EvilTerm.core.state()):
                try:
                    fn()
                except ERRORS:
                    pass
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def chaos(seed: int, ops: int, core_cls: type) -> None:
    """Any call order on any Core raises ordinary exceptions, never crashes."""
    rng = random.Random(seed)
    cores: list[Any] = []

    def reentrant_new_id(post_id: Any, k: int = 0) -> Any:
        if cores:
            victim = rng.choice(cores)
            for fn in (lambda: victim.assign("r", 5, [("a", 1.0)]), lambda: victim.load_state({}),
                       lambda: victim.__init__(0.3, 3, 5, 5, 2, 5, 2, str), lambda: victim.state()):
                try:
                    fn()
                except ERRORS:
                    pass
        return rng.choice([f"t{post_id}:{k}", f"t{post_id}", "same", 7, None, ["unhashable"]])

    for i in range(ops):
        r = rng.random()
        try:
            if r < 0.1 or not cores:
                obj = core_cls.__new__(core_cls)
                if rng.random() < 0.6:
                    obj.__init__(*rng.choice([
                        (0.35, 3, 10, 5, 2, 10, 3, reentrant_new_id), (0.35, 3, 10, 5, 2, 10, 3, str),
                        (float("nan"), 3, 10, 5, 2, 10, 3, str), (0.3, -1, 10, 5, 2, 10, 3, str),
                        (0.3, 3, 2**40, 5, 2, 10, 3, str), (0.3, 3, 10, 5, 2, 2**40, 3, str),
                        (0.3, 3, 10, 5, 2, 10, 10**6, str), (0.3, 3, 10, 5, 2, 10, 3, None), (),
                    ]))
                cores.append(obj)
                cores[:] = cores[-6:]
                continue
            core = rng.choice(cores)
            if r < 0.55:
                kws: Any = _keywords(rng, True)
                if rng.random() < 0.1:
                    kws = rng.choice([None, 5, "abc", [("a",)], [(1, 1.0)], [("a", "1")], [(EvilTerm("a"), 1.0)]] * 1)
                if rng.random() < 0.1:
                    EvilTerm.core = core
                    kws = [(EvilTerm(rng.choice(TERMS)), 1.0) for _ in range(3)]
                core.assign(rng.choice([f"p{i}", 5, None]), rng.choice([0, 1, 2**64 - 1, rng.getrandbits(64), -1,
                                                                        2**64, "x"]), kws)
            elif r < 0.65:
                core.state()
            elif r < 0.8:
                other = rng.choice(cores)
                try:
                    st = other.state()
                except ERRORS:
                    st = {}
                core.load_state(_mutate_state(rng, st) if rng.random() < 0.6 and isinstance(st, dict) and st
                                else st)
            elif r < 0.9:
                core.label(rng.choice(["t0", "", None, 5, ["x"], f"tp{i - 1}"]))
            elif r < 0.95:
                len(core)
            else:
                core.__init__(0.35, 3, rng.choice([1, 5]), 3, 2, rng.choice([1, 5]), rng.choice([1, 3]), str)
        except ERRORS:
            pass
        finally:
            EvilTerm.core = None


def run_all(core_cls: type, seeds: int, ops: int) -> None:
    for seed in range(seeds):
        differential(seed, ops, core_cls)
        chaos(seed, ops, core_cls)


# -- the sanitizer build ---------------------------------------------------------------------------------------
def build_asan(out_dir: Path) -> Path:
    """The extension built with AddressSanitizer and UBSan into ``out_dir``; returns the .so path."""
    so = out_dir / ("_topics" + sysconfig.get_config_var("EXT_SUFFIX"))
    cmd = ["gcc", "-shared", "-fPIC", "-O1", "-g", "-std=c11", "-ffp-contract=off", "-fno-omit-frame-pointer",
           "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
           f"-I{sysconfig.get_paths()['include']}", *[str(REPO / "analyzers" / s) for s in SOURCES], "-o", str(so)]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    return so


def asan_env() -> dict[str, str]:
    lib = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    return {**os.environ, "LD_PRELOAD": lib, "PYTHONMALLOC": "malloc",
            "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:halt_on_error=1",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}


def _load_core(so: Path) -> type:
    import importlib.util

    spec = importlib.util.spec_from_file_location("_topics", so)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.Core


# -- tests ----------------------------------------------------------------------------------------------------
def _compiled() -> type:
    from analyzers import topics

    if not topics.COMPILED:
        pytest.fail("analyzers._topics is not built (pip install -e . builds it)")
    from analyzers._topics import Core

    return Core


def test_fuzz_compiled_against_reference_and_chaos() -> None:
    run_all(_compiled(), seeds=150, ops=150)


def test_fuzz_under_address_and_undefined_sanitizers(tmp_path) -> None:
    if shutil.which("gcc") is None:
        pytest.fail("gcc is needed to build the sanitizer copy of analyzers/_topics*.c")
    so = build_asan(tmp_path)
    r = subprocess.run([sys.executable, __file__, "--core", str(so), "--seeds", "60", "--ops", "150"], cwd=REPO,
                       env=asan_env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0 and "fuzz ok" in r.stdout, (r.returncode, r.stdout[-2000:], r.stderr[-6000:])
    assert "ERROR: AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-6000:]


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Fuzz analyzers._topics.Core (optionally a sanitizer build).")
    ap.add_argument("--core", help="path of a built _topics .so (default: the installed one)")
    ap.add_argument("--asan", action="store_true", help="build a sanitizer copy in a temp dir and fuzz it")
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--ops", type=int, default=150)
    a = ap.parse_args()
    sys.path.insert(0, str(REPO))
    if a.asan:
        with tempfile.TemporaryDirectory() as d:
            so = build_asan(Path(d))
            sys.exit(subprocess.run([sys.executable, __file__, "--core", str(so), "--seeds", str(a.seeds), "--ops",
                                     str(a.ops)], cwd=REPO, env=asan_env()).returncode)
    core = _load_core(Path(a.core)) if a.core else __import__("analyzers._topics", fromlist=["Core"]).Core
    run_all(core, a.seeds, a.ops)
    print(f"fuzz ok: {a.seeds} seeds x {a.ops} calls, differential and chaos")
