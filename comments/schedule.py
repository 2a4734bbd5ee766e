"""The comments' periodic mail task in django-celery-beat's database schedule.

``send_waiting_mail`` sends the moderators' digest of comments still untold and the mail
kept in the outbox (the broker or the mail server was down when it was due). Created after
every ``migrate`` if missing, and otherwise left alone, so an editor's change in the admin
(another interval, disabled) survives upgrades.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

TASK_NAME = "comments: send waiting mail"
TASK = "comments.tasks.send_waiting_mail"
EVERY_MINUTES = 5
DESCRIPTION = (
    "Sends the moderators' digest of comments awaiting moderation that they were not told "
    "about yet, and the comment mail kept while the broker or the mail server was down."
)


def schedule_ensure() -> PeriodicTask:
    existing = PeriodicTask.objects.filter(name=TASK_NAME).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            interval, _created = IntervalSchedule.objects.get_or_create(
                every=EVERY_MINUTES, period=IntervalSchedule.MINUTES
            )
            task = PeriodicTask(name=TASK_NAME, task=TASK, interval=interval, description=DESCRIPTION)
            task.full_clean()
            task.save()
    except IntegrityError:  # another migrate created it at the same moment
        return PeriodicTask.objects.get(name=TASK_NAME)
    return task


def on_post_migrate(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    connection = connections[using]
    if using == DEFAULT_DB_ALIAS and PeriodicTask._meta.db_table in connection.introspection.table_names():
        schedule_ensure()
