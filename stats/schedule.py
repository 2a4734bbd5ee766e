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
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from blog_project.beat import ensure_after_migrate, ensure_periodic_task

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
