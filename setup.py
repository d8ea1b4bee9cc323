"""The compiled topic clusterer is the project's one C extension; everything else is in pyproject.toml.

It is optional: without a C compiler the install still succeeds and analyzers/topics.py uses its pure-Python
reference, which gives the same results more slowly.
"""

from setuptools import Extension, setup

SOURCES = ["analyzers/_topics.c", "analyzers/_topics_store.c", "analyzers/_topics_state.c"]

# -ffp-contract=off: no fused multiply-add, so every sum is rounded as in the Python reference
setup(ext_modules=[Extension("analyzers._topics", SOURCES, depends=["analyzers/_topics.h"], optional=True,
                             extra_compile_args=["-O2", "-std=c11", "-ffp-contract=off", "-fvisibility=hidden"])])
