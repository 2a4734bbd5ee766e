"""The daily rollup as a Celery task, started by beat shortly after local midnight.

Thin: ``services.stats_rollup`` decides and writes. The task is safe to deliver twice
(acks late + reject on worker lost mean a crash redelivers it): the service's lock and
absolute upserts make a second run harmless. When Redis or the database fails, or
another rollup holds the lock, it tries again later; when run eagerly (no broker, the
embedded default) a failure is logged and the next day's first page view tries again.
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.db import DatabaseError
from redis.exceptions import RedisError

from . import conf, services

log = logging.getLogger(__name__)

MAX_RETRIES = 12


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True, reject_on_worker_lost=True)
def rollup_stats(self, start: str | None = None, end: str | None = None) -> dict:
    """Roll up the finished days not yet final (or ``start``..``end``, ISO dates)."""
    try:
        result = services.stats_rollup(
            start=date.fromisoformat(start) if start else None,
            end=date.fromisoformat(end) if end else None,
        )
    except (RedisError, DatabaseError, OSError) as exc:
        if self.request.is_eager:
            log.error("Stats rollup failed (not retried in eager mode): %r", exc)
            return {"status": "failed", "error": repr(exc)}
        log.warning("Stats rollup failed, retrying in %ss: %r", conf.get("STATS_ROLLUP_RETRY_SECONDS"), exc)
        raise self.retry(exc=exc, countdown=conf.get("STATS_ROLLUP_RETRY_SECONDS")) from exc
    if result.locked:
        log.info("Stats rollup skipped: another rollup holds the lock")
        if not self.request.is_eager:
            # The other run may cover other days (a backfill): look again a little later.
            raise self.retry(countdown=conf.get("STATS_ROLLUP_RETRY_SECONDS"))
        return {"status": "locked"}
    return {
        "status": "done",
        "days_written": result.days_written,
        "filled_through": result.filled_through.isoformat() if result.filled_through else None,
        "view_counts_changed": result.view_counts_changed,
    }
