"""The comments' periodic mail task in django-celery-beat's database schedule.

``send_waiting_mail`` sends the moderators' digest of comments still untold and the mail
kept in the outbox (the broker or the mail server was down when it was due). Created after
every ``migrate`` if missing, and otherwise left alone, so an editor's change in the admin
(another interval, disabled) survives upgrades.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from blog_project.beat import ensure_after_migrate, ensure_periodic_task

TASK_NAME = "comments: send waiting mail"
TASK = "comments.tasks.send_waiting_mail"
EVERY_MINUTES = 5
DESCRIPTION = (
    "Sends the moderators' digest of comments awaiting moderation that they were not told "
    "about yet, and the comment mail kept while the broker or the mail server was down."
)


def _every_five_minutes() -> dict:
    interval, _created = IntervalSchedule.objects.get_or_create(
        every=EVERY_MINUTES, period=IntervalSchedule.MINUTES
    )
    return {"interval": interval}


def schedule_ensure() -> PeriodicTask:
    return ensure_periodic_task(
        name=TASK_NAME, task=TASK, description=DESCRIPTION, schedule=_every_five_minutes
    )


def on_post_migrate(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    ensure_after_migrate(schedule_ensure, using)
