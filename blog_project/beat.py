"""Periodic tasks that the apps declare in django-celery-beat's database schedule.

Each is created after every ``migrate`` if missing, and otherwise left alone, so an
editor's change in the admin (another time, disabled) survives upgrades.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django_celery_beat.models import PeriodicTask


def ensure_periodic_task(
    *, name: str, task: str, description: str, schedule: Callable[[], dict]
) -> PeriodicTask:
    """The periodic task ``name``, created if missing; ``schedule()`` gives its schedule
    field (``{"interval": ...}`` or ``{"crontab": ...}``), found or made in the same
    transaction."""
    existing = PeriodicTask.objects.filter(name=name).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            entry = PeriodicTask(name=name, task=task, description=description, **schedule())
            entry.full_clean()
            entry.save()
    except IntegrityError:  # another migrate created it at the same moment
        return PeriodicTask.objects.get(name=name)
    return entry


def ensure_after_migrate(ensure: Callable[[], object], using: str) -> None:
    """Run ``ensure`` after ``migrate`` (and after ``flush``, which tests use), once the
    schedule's tables exist in the default database."""
    connection = connections[using]
    if using == DEFAULT_DB_ALIAS and PeriodicTask._meta.db_table in connection.introspection.table_names():
        ensure()
