"""Helpers shared by the stats tests: a reader's browser, backends, counted page views."""

from __future__ import annotations

import pytest

from stats import counting, visitors
from stats.backends import DatabaseBackend, RedisBackend, redis_client

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture(autouse=True)
def _stats_defaults(settings):
    """No in-process rollup on the first view of a day unless a test asks for it, and a
    fresh daily salt (the cache is cleared for every test)."""
    settings.STATS_ROLLUP_ON_REQUEST = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast factories
    visitors._salts.clear()
    counting.losses.reset()  # each test's first lost view is logged
    yield
    visitors._salts.clear()


@pytest.fixture
def database_backend(db) -> DatabaseBackend:
    return DatabaseBackend()


@pytest.fixture
def redis_backend(settings) -> RedisBackend:
    """The Redis backend on the test Redis (real-backend pass only)."""
    settings.STATS_BACKEND = "redis"
    return RedisBackend(redis_client())


@pytest.fixture
def use_database_backend(settings):
    settings.STATS_BACKEND = "database"


def reader_get(client, url: str, *, agent: str = CHROME, ip: str = "203.0.113.7", **headers):
    """A GET as a reader's browser would send it (the test client sends no User-Agent)."""
    return client.get(url, HTTP_USER_AGENT=agent, REMOTE_ADDR=ip, **headers)
