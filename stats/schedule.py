"""The daily rollup's place in django-celery-beat's database schedule, declared once here.

``schedule_ensure`` runs after every ``migrate`` (post_migrate, see ``apps.py``): it creates
the periodic task if it is missing and otherwise leaves it alone, so an editor's change
in the admin (another time, disabled) survives upgrades.

The crontab is in the site's ``TIME_ZONE`` (Asia/Shanghai by default) while Celery's own
time zone stays UTC. django-celery-beat 2.8 and 2.9 load only the crontab entries whose
hour, converted to the server's zone with a fixed (January) offset, falls within two hours
of now, refreshing that set every five minutes (2.8.0 did not refresh it at all, so such
tasks never ran: celery/django-celery-beat#875, #894, #956). Celery itself mixed the zones
of ``last_run_at`` and the schedule before 5.6 (celery/celery#9715), which could fire a
task over and over. With these pinned versions 00:05 local time fires once per local day:
``stats/tests/test_schedule.py`` drives the real DatabaseScheduler over simulated days
to prove it. 00:05 also exists on every day of zones with daylight saving time (their
switches happen at 01:00 or later), so the rollup is never skipped or doubled by one.

A beat that was down over midnight would fire the missed rollup only when the crontab's
window comes round again (about 22:00, seen here), so ``catch_up_at_beat_start`` sends
it as soon as beat starts whenever a finished day is not final yet. Counters are kept
``STATS_RETENTION_DAYS`` (7) days: beat may be down for up to that long, less the hours
of the current day, before a day's counters expire un-rolled-up.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from blog_project.beat import ensure_after_migrate, ensure_periodic_task

from .models import FillState
from .tasks import rollup_stats

log = logging.getLogger(__name__)

TASK_NAME = "stats: daily rollup"
TASK = "stats.tasks.rollup_stats"
MINUTE, HOUR = "5", "0"
DESCRIPTION = (
    "Rolls up yesterday's page views and visitors (and any finished day missed while the "
    "worker was down) into the daily stats tables. Safe to run again at any time."
)


def _shortly_after_local_midnight() -> dict:
    spec = {
        "minute": MINUTE,
        "hour": HOUR,
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": ZoneInfo(settings.TIME_ZONE),
    }
    crontab = CrontabSchedule.objects.filter(**spec).first()
    if crontab is None:
        crontab = CrontabSchedule(**spec)
        crontab.full_clean()
        crontab.save()
    return {"crontab": crontab}


def schedule_ensure() -> PeriodicTask:
    """The rollup's periodic task, created shortly after local midnight if missing."""
    return ensure_periodic_task(
        name=TASK_NAME, task=TASK, description=DESCRIPTION, schedule=_shortly_after_local_midnight
    )


def on_post_migrate(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Ensure the task after ``migrate`` (and after ``flush``, which tests use)."""
    ensure_after_migrate(schedule_ensure, using)


def rollup_is_behind() -> bool:
    """Whether a finished day (yesterday or before) is not final yet."""
    yesterday = timezone.localdate() - timedelta(days=1)
    filled_through = (
        FillState.objects.filter(name=FillState.DAILY).values_list("filled_through", flat=True).first()
    )
    return filled_through is None or filled_through < yesterday


def catch_up_at_beat_start(sender=None, **kwargs) -> bool:
    """Celery's ``beat_init``: send the rollup at once when beat starts behind (it is
    locked and idempotent, so a rollup already under way makes this one a no-op)."""
    try:
        if not rollup_is_behind():
            return False
        rollup_stats.apply_async()
    except Exception as exc:  # the database or the broker down: the crontab still runs
        log.warning("Stats rollup not sent at beat start: %r", exc)
        return False
    log.info("Stats rollup sent at beat start: a finished day was not final yet")
    return True
