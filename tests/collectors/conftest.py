"""Fixtures of the collector tests: local stand-in servers and a quick way to build a collector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opinion_desk.collectors.http import LIMITER

from tests.collectors.standins import StandIn, WeiboStandIn

WEIBO_COOKIE = "SUB=_2A25valid; SUBP=0033WrSXqPxfM"


@pytest.fixture(autouse=True)
def _no_host_wait() -> Iterator[None]:
    """Loopback stand-ins need no politeness delay (the limiter itself is tested with a fake clock)."""
    old = LIMITER.interval
    LIMITER.interval = 0.0
    yield
    LIMITER.interval = old


@pytest.fixture
def site() -> Iterator[StandIn]:
    s = StandIn()
    yield s
    s.close()


@pytest.fixture
def weibo() -> Iterator[WeiboStandIn]:
    s = WeiboStandIn(WEIBO_COOKIE)
    yield s
    s.close()
