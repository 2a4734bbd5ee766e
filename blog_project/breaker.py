"""Circuit breakers for the services a page can live without (Redis, the broker, mail).

A hung or dead service must cost a process at most one short wait per interval, not one
per call: after a failure the breaker *opens* and every call through it fails at once
(the caller falls back: a cache miss, a kept outbox row, an uncounted view) until
``reset_after`` seconds have passed; then one call is let through as a probe, and its
outcome closes the breaker again or keeps it open for another interval.

State is per process (each gunicorn worker finds out for itself, once per interval), and
each breaker logs once when it opens and once when it closes, never per call.

    from blog_project.breaker import breaker

    redis_breaker = breaker("redis")
    if redis_breaker.allow():
        try:
            value = client.get(key)
        except RedisError as exc:
            redis_breaker.failure(exc)
        else:
            redis_breaker.success()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class BreakerOpen(Exception):
    """Raised by ``CircuitBreaker.call`` while the breaker is open."""


class CircuitBreaker:
    def __init__(
        self, name: str, *, reset_after: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self._reset_after = reset_after
        self._clock = clock
        self._lock = threading.Lock()
        self._opened_at: float | None = None  # None: closed
        self._probing = False
        self._probe_sent_at = 0.0
        self.failures = 0  # since the breaker last closed

    @property
    def reset_after(self) -> float:
        if self._reset_after is not None:
            return self._reset_after
        return float(getattr(settings, "BLOG_BREAKER_RESET_SECONDS", 5.0))

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def allow(self) -> bool:
        """May a call go out now? Closed: yes. Open: no, except one probe per interval.

        A probe whose outcome was never reported (its caller died) stops counting as out
        after another interval, so a breaker can never stay open for good."""
        if self._opened_at is None:
            return True
        with self._lock:
            if self._opened_at is None:
                return True
            now = self._clock()
            if now - self._opened_at < self.reset_after:
                return False
            if self._probing and now - self._probe_sent_at < self.reset_after:
                return False
            self._probing, self._probe_sent_at = True, now
            return True

    def success(self) -> None:
        if self._opened_at is None:
            return
        with self._lock:
            if self._opened_at is not None:
                log.warning("%s is answering again (%d failed call(s) meanwhile).", self.name, self.failures)
            self._opened_at, self._probing, self.failures = None, False, 0

    def failure(self, exc: BaseException | None = None) -> None:
        with self._lock:
            self.failures += 1
            if self._opened_at is None:
                log.warning(
                    "%s failed (%s): calls fail fast for %.0f s, then one probe.",
                    self.name,
                    f"{type(exc).__name__}: {exc}" if exc is not None else "no answer",
                    self.reset_after,
                )
            self._opened_at, self._probing = self._clock(), False

    def call(self, function: Callable[[], T], *, errors: tuple[type[BaseException], ...]) -> T:
        """``function()`` through the breaker; ``errors`` count as failures and propagate.
        Raises ``BreakerOpen`` without calling while the breaker is open."""
        if not self.allow():
            raise BreakerOpen(self.name)
        try:
            result = function()
        except errors as exc:
            self.failure(exc)
            raise
        self.success()
        return result

    def reset(self) -> None:
        """Close the breaker (tests, and an operator's shell)."""
        with self._lock:
            self._opened_at, self._probing, self.failures = None, False, 0


_breakers: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def breaker(name: str) -> CircuitBreaker:
    """The process's breaker called ``name`` (created on first use)."""
    found = _breakers.get(name)
    if found is None:
        with _registry_lock:
            found = _breakers.setdefault(name, CircuitBreaker(name))
    return found


def reset_all() -> None:
    for each in list(_breakers.values()):
        each.reset()
