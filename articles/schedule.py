"""The articles' periodic task in django-celery-beat's schedule: the daily review digest
(``articles.review``), created after ``migrate`` if missing and otherwise left alone."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from blog_project.beat import ensure_after_migrate, ensure_periodic_task

TASK_NAME = "articles: review digest"
TASK = "articles.tasks.send_review_mail"
DESCRIPTION = "Tells the editors about drafts submitted for review that they were not told about yet."


def _daily() -> dict:
    # An interval, not a crontab: no zone to get wrong (see stats/schedule.py for that story).
    interval, _created = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.DAYS)
    return {"interval": interval}


def schedule_ensure() -> PeriodicTask:
    return ensure_periodic_task(name=TASK_NAME, task=TASK, description=DESCRIPTION, schedule=_daily)


def on_post_migrate(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    ensure_after_migrate(schedule_ensure, using)
