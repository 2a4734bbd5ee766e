"""Publishing a task from a web process: a short wait at most, never an error page.

Celery's own ``delay()`` retries the publish and has no socket timeout by default: with
Redis hung (accepting connections, never answering) a comment post waited until gunicorn
killed the worker. ``publish()`` sends once, on a connection whose every wait is bounded by
``BLOG_BROKER_TIMEOUT``, through the process's "broker" circuit breaker. It returns
whether the task was queued; the caller keeps what could not be (the comments' mail
outbox) and a periodic task sends it later.

Without a broker (``CELERY_TASK_ALWAYS_EAGER``, the embedded default) the task runs here.
"""

from __future__ import annotations

import logging
import socket

from celery import Task
from django.conf import settings
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from .breaker import breaker

log = logging.getLogger(__name__)

PUBLISH_ERRORS = (KombuError, RedisError, OSError, socket.timeout)


def publish(task: Task, *, args: tuple | list = (), countdown: float | None = None) -> bool:
    """Queue ``task(*args)``; False if the broker could not take it right now."""
    app = task.app
    if app.conf.task_always_eager:
        task.apply_async(args=tuple(args))
        return True
    guard = breaker("broker")
    if not guard.allow():
        return False
    timeout = settings.BLOG_BROKER_TIMEOUT
    transport_options = {
        **(app.conf.broker_transport_options or {}),
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "max_retries": 0,  # connecting: one attempt
    }
    try:
        with app.connection_for_write(connect_timeout=timeout, transport_options=transport_options) as conn:
            # connection= is passed on to the producer and countdown=None means none;
            # celery-types declares neither.
            task.apply_async(args=tuple(args), countdown=countdown, connection=conn, retry=False)  # type: ignore[call-arg, arg-type]
    except PUBLISH_ERRORS as exc:
        guard.failure(exc)
        return False
    guard.success()
    return True
