"""The Django cache's Redis client behind the "redis" breaker, on a private redis-server
that the tests freeze and kill: a hung Redis costs one short wait, then every call is a
miss at once, without touching the network and without a log line, until a probe finds
Redis back. The stats counters share the breaker. The breaker runs on a clock the test
moves (``ManualClock``): its interval passes without sleeping."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from redis.connection import Connection

from blog_project.breaker import breaker
from stats.backends import CountersUnavailable, RedisBackend, redis_client
from tests.faults import ManualClock, RedisServer, breaker_on

pytestmark = pytest.mark.real_backends


@pytest.fixture
def clock(monkeypatch) -> ManualClock:
    """The process's "redis" breaker, for this test, on a clock that moves when told."""
    moved = ManualClock()
    breaker_on(monkeypatch, "redis", moved)
    return moved


@pytest.fixture
def private_redis(tmp_path, settings, clock):
    server = RedisServer(tmp_path).start()
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": server.url(0),
            "OPTIONS": {
                **settings.CACHES["default"]["OPTIONS"],
                "SOCKET_TIMEOUT": 0.3,
                "SOCKET_CONNECT_TIMEOUT": 0.3,
            },
        }
    }
    settings.REDIS_URL = server.url(0)
    settings.STATS_BACKEND, settings.STATS_REDIS_URL = "redis", ""
    settings.BLOG_BREAKER_RESET_SECONDS = 1
    breaker("redis").reset()
    yield server
    server.stop()


class SentCommands:
    """Counts what reaches the network (commands and pipelines packed onto a socket)."""

    def __init__(self, monkeypatch) -> None:
        self.count = 0
        original = Connection.send_packed_command

        def counting(connection, command, check_health=True):
            self.count += 1
            return original(connection, command, check_health)

        monkeypatch.setattr(Connection, "send_packed_command", counting)


def _page_of_cache_calls(cache) -> None:
    """What a page does with the cache: reads, a write, an add, an increment."""
    cache.get_many(["gen:site", "gen:structure"])
    cache.get("frag:1:nav")
    cache.set("frag:1:nav", "<nav>", 60)
    cache.add("comments:rate:x", 0, 60)
    cache.incr("comments:rate:x")


def test_a_frozen_redis_costs_one_wait_then_every_call_misses_at_once(
    private_redis, clock, monkeypatch, caplog
):
    cache = caches["default"]
    cache.set("kept", "value", 60)
    assert cache.get("kept") == "value"
    sent = SentCommands(monkeypatch)
    private_redis.freeze()
    try:
        with caplog.at_level(logging.DEBUG):
            assert cache.get("kept", "missing") == "missing"  # waited the socket timeout once
            assert breaker("redis").is_open and sent.count == 1
            for _ in range(50):
                _page_of_cache_calls(cache)
            assert cache.get("kept") is None and cache.get_many(["kept"]) == {}
            assert cache.add("k", 1) in (None, False) and not cache.set("k", 1)
        assert sent.count == 1, "no call reached the network while the breaker was open"
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and "redis failed" in warnings[0], warnings
        assert not any(r.exc_info for r in caplog.records)  # no traceback
    finally:
        private_redis.thaw()
    clock.shift(0.9)
    assert cache.get("kept") is None and sent.count == 1, "still inside the interval: no probe"
    clock.shift(0.2)  # the interval (1 s) is over: the next call is the probe
    assert cache.get("kept") == "value"
    assert not breaker("redis").is_open


def test_a_dead_redis_is_a_miss_and_its_return_is_noticed(private_redis, clock, caplog):
    cache = caches["default"]
    private_redis.kill()
    with caplog.at_level(logging.WARNING):
        for _ in range(20):
            _page_of_cache_calls(cache)
    assert breaker("redis").is_open
    assert sum("redis failed" in r.getMessage() for r in caplog.records) == 1
    private_redis.start()
    assert cache.get("back") is None and breaker("redis").is_open  # Redis is up, the interval is not over
    clock.shift(1.1)
    assert cache.set("back", "yes", 60) is True
    assert cache.get("back") == "yes"
    assert any("redis is answering again" in r.getMessage() for r in caplog.records)


def test_the_counters_share_the_breaker(private_redis, monkeypatch):
    from datetime import date

    day = date(2000, 1, 1)  # fixed date: only a key name here, no clock involved
    backend = RedisBackend(redis_client())
    backend.record(day=day, visitor="v")
    private_redis.freeze()
    try:
        with pytest.raises(CountersUnavailable):
            backend.record(day=day, visitor="v")
        sent = SentCommands(monkeypatch)
        with pytest.raises(CountersUnavailable):
            backend.site_figures([day])
        assert caches["default"].get("anything") is None
        assert sent.count == 0
    finally:
        private_redis.thaw()
