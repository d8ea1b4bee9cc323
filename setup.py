"""The project's two C extensions (the topic clusterer, and the feature de-duplication of the rumour model);
everything else is in pyproject.toml.

Both are optional: without a C compiler the install still succeeds and analyzers/topics.py and features.py use
their pure-Python references, which give the same results more slowly.
"""

from setuptools import Extension, setup

SOURCES = ["analyzers/_topics.c", "analyzers/_topics_store.c", "analyzers/_topics_state.c"]

# -ffp-contract=off: no fused multiply-add, so every sum is rounded as in the Python reference
FLAGS = ["-O2", "-std=c11", "-ffp-contract=off", "-fvisibility=hidden"]
setup(ext_modules=[Extension("analyzers._topics", SOURCES, depends=["analyzers/_topics.h"], optional=True,
                             extra_compile_args=FLAGS),
                   Extension("analyzers._features", ["analyzers/_features.c"], optional=True,
                             extra_compile_args=FLAGS)])
