"""The Django cache's Redis client, behind the process's "redis" circuit breaker.

django-redis with ``IGNORE_EXCEPTIONS`` already turns a failed call into a miss (``get``
gives the default, ``get_many`` nothing, ``set``/``add``/``incr`` a falsy no-op), but each
call still waits for its own socket timeout, many times per page, and logs a traceback
each time. Here every call first asks ``breaker("redis")``: while it is open the call
fails at once, without touching the network, and django-redis answers the same miss. So a
hung Redis (accepting connections, never answering) costs a process one short wait
(``BLOG_REDIS_TIMEOUT``) per ``BLOG_BREAKER_RESET_SECONDS``, and the breaker logs one line
when Redis goes away and one when it is back.

    CACHES["default"]["OPTIONS"]["CLIENT_CLASS"] = "blog_project.cache_client.BreakerClient"
"""

from __future__ import annotations

import functools
import socket
import threading

from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .breaker import BreakerOpen, breaker

# What says "Redis is not there" (as opposed to a bad command, which Redis answered).
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, socket.timeout, ConnectionError)

# The DefaultClient methods that talk to Redis and that RedisCache calls.
GUARDED_METHODS = (
    "set", "add", "get", "get_many", "set_many", "delete", "delete_many", "delete_pattern",
    "clear", "incr", "decr", "incr_version", "has_key", "ttl", "pttl", "persist", "expire",
    "expire_at", "pexpire", "pexpire_at", "touch", "keys",
)  # fmt: skip

# Some guarded methods call others (add -> set, incr -> ttl ...): only the outermost call
# asks the breaker, so one page-level call is one probe.
_inside = threading.local()


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def _guarded(name: str):
    unguarded = getattr(DefaultClient, name)

    @functools.wraps(unguarded)
    def method(self, *args, **kwargs):
        if getattr(_inside, "active", False):
            return unguarded(self, *args, **kwargs)
        guard = breaker(self.breaker_name)
        if not guard.allow():
            raise ConnectionInterrupted(connection=None) from BreakerOpen(guard.name)
        _inside.active = True
        try:
            result = unguarded(self, *args, **kwargs)
        except ConnectionInterrupted as exc:
            cause = exc.__cause__
            if is_outage(cause):
                guard.failure(cause)
            else:  # Redis answered (an error reply): it is there
                guard.success()
            raise
        except BaseException:
            guard.success()  # a local error (pickling, a bad argument): Redis is not to blame
            raise
        finally:
            _inside.active = False
        guard.success()
        return result

    return method


class BreakerClient(DefaultClient):
    """django-redis's DefaultClient with every call through ``breaker("redis")``."""

    breaker_name = "redis"


for _name in GUARDED_METHODS:
    setattr(BreakerClient, _name, _guarded(_name))
