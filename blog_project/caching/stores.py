"""Where versions and whole pages live: any Django cache (``CacheStore``, the embedded
file cache), or Redis through django-redis's own connections (``RedisStore``), where the
page generation and the page are read in one round trip, and every bump is announced to
the other processes (``watch``), so that a hit on a current copy needs none.

A store that fails (Redis hung or down) goes through the ``redis`` circuit breaker
(``cache_client.guarded``): one short wait per process per interval, then a lookup
answers "cannot be read" at once, and pages are rendered from the database, unstored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from blog_project.cache_client import guarded, roundtrip

from .scopes import SCOPES, Generation, new_version, next_publication_at
from .watch import GenerationWatch

log = logging.getLogger(__name__)

GENERATION = "pc:generation"
CHANNEL = "pc:bumped"  # where bumps are announced


@dataclass
class Lookup:
    generation: Generation | None  # None: the store could not be read
    entry: bytes | None = None
    at: float = 0.0  # the time the generation was checked against (is_due)


class CacheStore:
    """Any Django cache: keys through the cache API; bumps are not announced."""

    def __init__(self) -> None:
        self.watch = GenerationWatch(None, "")

    def lookup(self, key: str | None) -> Lookup:
        found = cache.get_many([GENERATION, key] if key else [GENERATION])
        raw = found.get(GENERATION)
        generation = Generation(*raw) if raw else self._initialise()
        return Lookup(generation, found.get(key) if key else None, at=time.time())

    def _read_generation(self) -> Generation | None:
        raw = cache.get(GENERATION)
        return Generation(*raw) if raw else None

    def _initialise(self) -> Generation | None:
        # Emptied (or first use): nothing cached can be trusted; start every scope afresh.
        try:
            due_at = next_publication_at()
        except Exception as exc:  # no generation can be started without the database
            log.warning("Page cache: no generation can be started without the database (%r).", exc)
            return None
        self.bump(SCOPES, due_at=due_at)
        return self._read_generation()

    def put(self, key: str, entry: bytes, timeout: int) -> None:
        cache.set(key, entry, timeout)

    def bump(self, scopes: Iterable[str], *, due_at: float) -> None:
        stamp = new_version()
        values: dict[str, Any] = {f"pc:v:{scope}": stamp for scope in scopes}
        values[GENERATION] = (stamp, due_at)
        cache.set_many(values, timeout=None)

    def scope_versions(self) -> dict[str, int] | None:
        """(django-redis keeps integers as they are: the versions ``RedisStore.bump`` sets
        raw are read here through the cache API.)"""
        keys = [f"pc:v:{scope}" for scope in SCOPES]
        found = cache.get_many(keys)
        if len(found) < len(keys):
            # A version evicted alone: a new one means new fragments, nothing stale, so
            # the page generation stays. add(): concurrent processes agree on one.
            for key in set(keys) - set(found):
                cache.add(key, new_version(), timeout=None)
            found = cache.get_many(keys)
            if len(found) < len(keys):
                return None
        return {scope: found[f"pc:v:{scope}"] for scope in SCOPES}


class RedisStore(CacheStore):
    """django-redis's connections, raw: the generation and pages as plain strings, so a
    lookup is one round trip of two GETs; every bump is announced (``watch``)."""

    def __init__(self) -> None:
        # Pub/sub channels ignore the database number: it is part of the name.
        db = str(settings.CACHES["default"].get("LOCATION", "")).rsplit("/", 1)[-1]
        self.watch = GenerationWatch(self._client, f"{self._key(CHANNEL)}@{db}")

    def _client(self):
        # Only with Redis: the embedded mode has no django-redis connection to ask for.
        from django_redis import get_redis_connection

        return get_redis_connection("default")

    @staticmethod
    def _key(name: str) -> str:
        return _redis_key(name, settings.CACHES["default"].get("KEY_PREFIX", ""))

    def _send(self, commands: list[tuple]) -> list | None:
        try:
            replies = guarded(lambda: roundtrip(self._client(), commands))
        except RedisError:
            return None
        return None if any(isinstance(reply, Exception) for reply in replies) else replies

    def lookup(self, key: str | None) -> Lookup:
        """The generation and the page at ``key`` (unless None)."""
        commands = [("GET", self._key(GENERATION))]
        if key:
            commands.append(("GET", self._key(key)))
        now = time.time()
        replies = self._send(commands)
        if replies is None:
            return Lookup(None)
        current = self._parse_generation(replies[0]) or self._initialise()
        return Lookup(current, replies[1] if key else None, at=now)

    @staticmethod
    def _parse_generation(raw: bytes | None) -> Generation | None:
        if not raw:
            return None
        try:
            stamp, due_at = raw.split(b":")
            return Generation(int(stamp), float(due_at))
        except ValueError:
            return None

    def _read_generation(self) -> Generation | None:
        replies = self._send([("GET", self._key(GENERATION))])
        return self._parse_generation(replies[0]) if replies else None

    def put(self, key: str, entry: bytes, timeout: int) -> None:
        self._send([("SET", self._key(key), entry, "EX", timeout)])

    def bump(self, scopes: Iterable[str], *, due_at: float) -> None:
        stamp = new_version()
        pairs: list = []
        for scope in scopes:
            pairs += [self._key(f"pc:v:{scope}"), stamp]
        self.watch.forget()
        generation = (self._key(GENERATION), f"{stamp}:{due_at}")
        self._send([("MSET", *pairs, *generation), ("PUBLISH", self.watch.channel, stamp)])


@lru_cache(maxsize=1024)
def _redis_key(name: str, prefix: str) -> str:
    """``cache.make_key(name)``, once per name (the prefix is part of the memo's key)."""
    return cache.make_key(name)


@lru_cache(maxsize=1)
def _store_for(backend: str, location: str) -> CacheStore | RedisStore:
    return RedisStore() if backend.startswith("django_redis.") else CacheStore()


def store() -> CacheStore | RedisStore:
    config = settings.CACHES["default"]
    return _store_for(config["BACKEND"], str(config.get("LOCATION", "")))
