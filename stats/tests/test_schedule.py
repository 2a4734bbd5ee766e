"""The rollup's periodic task: registered idempotently in django-celery-beat's database
schedule, editable in the admin, and fired by the real DatabaseScheduler exactly once per
local (Asia/Shanghai) day, around midnight, across beat restarts."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from blog_project.celery import app as celery_app
from stats import schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def test_migrate_registers_the_rollup_shortly_after_local_midnight(db, settings):
    task = PeriodicTask.objects.get(name=schedule.TASK_NAME)
    assert task.task == "stats.tasks.rollup_stats" and task.enabled
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("5", "0", "*")
    assert str(crontab.timezone) == settings.TIME_ZONE == "Asia/Shanghai"
    assert task.interval is None and task.clocked is None


def test_ensuring_it_again_changes_nothing_and_keeps_an_editors_changes(db):
    task = PeriodicTask.objects.get(name=schedule.TASK_NAME)
    task.enabled = False
    task.crontab = CrontabSchedule.objects.create(minute="30", hour="1", timezone=SHANGHAI)
    task.save()
    call_command("migrate", verbosity=0)  # runs post_migrate again
    assert schedule.schedule_ensure().pk == task.pk
    task.refresh_from_db()
    assert (task.enabled, task.crontab.hour) == (False, "1")
    assert PeriodicTask.objects.filter(task=schedule.TASK).count() == 1


def test_a_deleted_task_comes_back_on_the_next_migrate(db):
    PeriodicTask.objects.filter(name=schedule.TASK_NAME).delete()
    call_command("migrate", verbosity=0)
    assert PeriodicTask.objects.filter(name=schedule.TASK_NAME).count() == 1


def test_the_task_is_listed_and_editable_in_the_admin(staff_client):
    task = PeriodicTask.objects.get(name=schedule.TASK_NAME)
    listing = staff_client.get("/admin/django_celery_beat/periodictask/?q=stats")
    assert schedule.TASK_NAME in listing.content.decode()
    change = staff_client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/")
    assert change.status_code == 200 and b"stats.tasks.rollup_stats" in change.content


class RecordingScheduler(DatabaseScheduler):
    """The real DatabaseScheduler, except that a due task is written down, not sent."""

    producer = None  # never connect to a broker

    def __init__(self, *args, sent: list, **kwargs):
        self.sent = sent
        super().__init__(*args, **kwargs)

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        entry = self.reserve(entry) if advance else entry
        self.sent.append((entry.name, timezone.now()))
        return None


def run_beat(sent: list, until: datetime, traveller) -> None:
    """Tick a fresh scheduler (a beat process) until ``until``, moving the clock as beat
    would sleep; then sync it, as beat does when it stops."""
    scheduler = RecordingScheduler(app=celery_app, max_interval=300, sent=sent)
    try:
        while timezone.now() < until:
            delay = scheduler.tick()
            traveller.shift(timedelta(seconds=max(delay, 1)))
    finally:
        scheduler.sync()
        scheduler._finalize.cancel()


@pytest.mark.django_db(transaction=True)
def test_the_database_scheduler_fires_the_rollup_once_per_local_day(settings):
    assert settings.CELERY_TIMEZONE == "UTC", "the case the known crontab time-zone bugs hit"
    # Four local days, starting ten days after the day the suite runs.
    first_day = timezone.localdate() + timedelta(days=10)
    days = [first_day + timedelta(days=n) for n in range(1, 5)]

    def at(day, hour, minute):
        return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)

    sent: list = []
    with time_machine.travel(at(first_day, 20, 0), tick=False) as traveller:
        PeriodicTask.objects.filter(name=schedule.TASK_NAME).delete()
        schedule.schedule_ensure()  # registered at the simulated time, as migrate would
        run_beat(sent, at(days[1], 0, 20), traveller)
        # A deploy restarts beat right after it fired: no second run that day.
        run_beat(sent, at(days[3], 20, 0), traveller)
    fired = [when.astimezone(SHANGHAI) for name, when in sent if name == schedule.TASK_NAME]
    assert [when.date() for when in fired] == days
    for when in fired:
        assert (when.hour, when.minute) == (0, 5), when
    task = PeriodicTask.objects.get(name=schedule.TASK_NAME)
    assert task.total_run_count == 4
    assert task.last_run_at.astimezone(SHANGHAI).date() == days[-1]


@pytest.mark.django_db
def test_beat_starting_behind_sends_the_missed_rollup_at_once(settings):
    """Beat down over midnight: its start (Celery's beat_init, as the real Beat sends it)
    rolls up the finished days instead of waiting for the crontab's next window."""
    from celery.signals import beat_init

    from stats.backends import get_backend
    from stats.models import DailyStat, FillState

    settings.CELERY_TASK_ALWAYS_EAGER = True
    yesterday = timezone.localdate() - timedelta(days=1)
    get_backend().record(day=yesterday, visitor="h:a")
    get_backend().record(day=yesterday, visitor="h:b")
    assert schedule.rollup_is_behind()
    beat_init.send(sender=None)
    assert FillState.objects.get(name=FillState.DAILY).filled_through == yesterday
    assert DailyStat.objects.get(date=yesterday).pv == 2
    assert not schedule.rollup_is_behind()
    assert schedule.catch_up_at_beat_start() is False  # up to date: nothing sent
