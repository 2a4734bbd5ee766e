"""Knowing the page generation without asking for it.

Every bump is published on a Redis channel in the round trip that renews the generation
(``stores.RedisStore.bump``). Each process subscribes to it, and keeps the generation its
last lookup read until a message says it changed: a hit on a page this process holds a
current copy of then needs no round trip at all, only a look at the subscription's socket
(no data: nothing changed). The answer of a lookup is kept only if no change was
announced while it was on its way, so a bump is never missed whatever order the replies
arrive in: a message may only make a process ask once more.

Without a subscription (the embedded cache, Redis down, a dropped connection) every
request asks. The generation is read again at least every
``BLOG_PAGE_CACHE_RECHECK_SECONDS`` anyway: a connection that died silently (a network
that drops packets instead of closing) cannot leave a process serving stale pages longer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from blog_project.cache_client import guarded

from .scopes import Generation

log = logging.getLogger(__name__)


class GenerationWatch:
    def __init__(self, client: Callable | None, channel: str) -> None:
        # () -> the redis-py client to subscribe with; None: nobody announces bumps (the
        # embedded cache), so every request asks.
        self._client = client
        self.channel = channel
        self._pubsub: Any = None  # redis-py's PubSub
        self._pid = 0
        self._known: Generation | None = None
        self._known_at = 0.0
        self._changes = 0  # announced changes (and drops) seen: what a lookup's answer is kept against
        self._retry_at = 0.0
        self._lock = threading.Lock()  # reading the subscription
        self._state = threading.Lock()  # _known and _changes, changed together

    def known(self) -> Generation | None:
        """The generation, if this process knows it without asking (subscribed, nothing
        announced since the lookup that read it, read recently enough)."""
        recheck = settings.BLOG_PAGE_CACHE_RECHECK_SECONDS
        if self._known is None or time.monotonic() - self._known_at >= recheck:  # 0: always ask
            return None
        if not self._caught_up():
            return None
        return self._known

    def ticket(self) -> int | None:
        """Taken before a lookup, given back with its answer to ``learned``."""
        return self._changes if self._caught_up() else None

    def learned(self, ticket: int | None, generation: Generation | None) -> None:
        """A lookup's answer (None: the store could not be read), kept if nothing was
        announced since its ``ticket``."""
        with self._state:  # a message read by another thread between the test and the write is not lost
            if generation is None:
                self._known = None
            elif ticket is not None and ticket == self._changes:
                self._known, self._known_at = generation, time.monotonic()

    def forget(self) -> None:
        """The generation changed (this process bumped it, or a message said so)."""
        with self._state:
            self._changes += 1
            self._known = None

    def _caught_up(self) -> bool:
        """Subscribed, with every message that arrived read."""
        if self._client is None or not self._lock.acquire(blocking=False):
            return False  # another thread is reading the subscription: ask the store
        try:
            if self._pid != os.getpid():  # forked: the parent's subscription is not ours
                self._pubsub, self._pid = None, os.getpid()
                self.forget()
            if self._pubsub is None and not self._subscribe():
                return False
            pubsub = self._pubsub
            try:
                while pubsub.get_message(timeout=0.0) is not None:
                    # A bump; or a confirmation of the subscription, which after the first
                    # (read by _connect) means redis-py connected again on its own: what
                    # was announced meanwhile is lost, so any message means "ask".
                    self.forget()
            except (RedisError, OSError) as exc:
                log.warning("Page cache: the bumps' subscription dropped (%r); asking per request.", exc)
                self._drop()
                return False
            return True
        finally:
            self._lock.release()

    def _subscribe(self) -> bool:
        now = time.monotonic()
        if now < self._retry_at:
            return False
        try:
            self._pubsub = guarded(self._connect)
        except RedisError:
            self._retry_at = now + settings.BLOG_BREAKER_RESET_SECONDS
            return False
        self.forget()  # whatever was known before the subscription may have changed since
        return True

    def _connect(self):
        assert self._client is not None  # _caught_up subscribes only with a client
        pubsub = self._client().pubsub()
        try:
            pubsub.subscribe(self.channel)
            deadline = time.monotonic() + settings.REDIS_TIMEOUT
            while time.monotonic() < deadline:  # the confirmation: from now on, no change is missed
                message = pubsub.get_message(timeout=settings.REDIS_TIMEOUT)
                if message is not None and message["type"] == "subscribe":
                    # Should redis-py connect again on its own (a pool configured to retry),
                    # what was announced meanwhile is lost: each new connection means "ask".
                    pubsub.connection.register_connect_callback(self._reconnected)
                    return pubsub
            # An outage for the breaker (``guarded``), like any other read that times out.
            raise RedisTimeoutError(f"no confirmation of the subscription to {self.channel}")
        except BaseException:
            pubsub.close()
            raise

    def _reconnected(self, connection) -> None:
        self.forget()

    def _drop(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        self.forget()
        self._retry_at = time.monotonic() + settings.BLOG_BREAKER_RESET_SECONDS
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                if pubsub.connection is not None:  # it goes back to the pool: without our callback
                    pubsub.connection.deregister_connect_callback(self._reconnected)
                pubsub.close()

    def close(self) -> None:
        with self._lock:
            self._drop()
            self._retry_at = 0.0
