"""Health checks: ``/healthz`` (liveness) and ``/readyz`` (readiness).

- ``/healthz``: this process answers HTTP. It asks nothing else, so a database or Redis
  outage never makes a supervisor restart replicas that would come back to the same outage.
- ``/readyz``: really asks the database (``SELECT 1`` on this process's connection, which
  also finds a connection the server dropped) and every Redis the site uses (a ``PING``
  within ``BLOG_REDIS_TIMEOUT``). 503 when the database does not answer: pages cannot be
  served. 200 otherwise; "degraded" when a Redis is down (pages are still served, from the
  database; counts and queued mail wait, see docs/production.md "Faults"). The body says which check
  failed (the error's class only: this URL is public).

compose.yaml's web health check and deploy/cluster.sh use ``/readyz``.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .breaker import breaker
from .cache_client import OUTAGE_ERRORS


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


def check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        connection.close()  # a broken connection is not reused by the next request
        raise


def redis_urls() -> dict[str, str]:
    """Each Redis the site talks to, by role; one server with several DBs counts once."""
    candidates = {
        "redis": settings.REDIS_URL,
        "counters": getattr(settings, "STATS_REDIS_URL", ""),
        "broker": settings.CELERY_BROKER_URL,
    }
    found: dict[str, str] = {}
    servers = set()
    for role, url in candidates.items():
        parts = urlsplit(url or "")
        if parts.scheme not in ("redis", "rediss", "unix"):
            continue
        server = (parts.scheme, parts.hostname, parts.port, parts.path if parts.scheme == "unix" else "")
        if server not in servers:
            servers.add(server)
            found[role] = url
    return found


def ping_redis(url: str) -> None:
    """PING within the short timeout; the outcome also tells this process's breaker."""
    client = redis.Redis.from_url(
        url, socket_connect_timeout=settings.REDIS_TIMEOUT, socket_timeout=settings.REDIS_TIMEOUT
    )
    guard = breaker("redis") if url == settings.REDIS_URL else None
    try:
        client.ping()
    except OUTAGE_ERRORS as exc:
        if guard is not None:
            guard.failure(exc)
        raise
    finally:
        client.close()
    if guard is not None:
        guard.success()


def _run(check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


@require_safe
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    checks = {"database": _run(check_database)}
    for role, url in redis_urls().items():
        checks[role] = _run(functools.partial(ping_redis, url))
    if not checks["database"]["ok"]:
        status = "unavailable"
    elif all(result["ok"] for result in checks.values()):
        status = "ok"
    else:
        status = "degraded"
    body = json.dumps({"status": status, "checks": checks}, indent=1) + "\n"
    response = HttpResponse(
        body, status=503 if status == "unavailable" else 200, content_type="application/json"
    )
    # Polled every few seconds: the outage is logged where it is met, not once per poll.
    # (Django's flag, read by django.utils.log.log_response; not in the stubs.)
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class HealthCheckMiddleware:
    """Answers the health checks near the top of MIDDLEWARE, before sessions, the reader's
    language (which may read the site settings) or CSRF: a liveness check must not need the
    database, and a readiness check must report on it rather than fail with it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.views = {"/healthz": healthz, "/readyz": readyz}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = self.views.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)
