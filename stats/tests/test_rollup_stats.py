"""``manage.py rollup_stats``: catch-up or a date range with a progress bar, today's
running figures, a dry run, and clear errors for bad input or a held lock."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles.tests.factories import ArticleFactory
from stats.backends import get_backend
from stats.models import DailyStat, FillState

pytestmark = pytest.mark.django_db


def ago(days: int):
    return timezone.localdate() - timedelta(days=days)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("rollup_stats", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def counted(db):
    article = ArticleFactory()
    backend = get_backend()
    for days_ago in (2, 1, 0):
        backend.record(day=ago(days_ago), visitor="h:a", article_id=article.pk)
        backend.record(day=ago(days_ago), visitor="h:b")
    return article


def test_without_dates_it_catches_up_like_the_nightly_task(counted):
    out, err = run()
    assert f"{ago(2)}          2 PV         2 UV      1 articles" in out
    assert "Rolled up 2 day(s) of 7 planned" in out
    assert "7day [" in err, "a progress bar on stderr, one step per planned day"
    assert FillState.objects.get().filled_through == ago(1)


def test_a_range_including_today_writes_running_figures_with_a_progress_bar(counted):
    out, err = run("--from", ago(2).isoformat(), "--to", ago(0).isoformat())
    assert "3/3" in err
    assert set(DailyStat.objects.values_list("date", "pv")) == {(ago(2), 2), (ago(1), 2), (ago(0), 2)}
    assert f"{ago(0)}" in out


def test_a_day_without_counters_is_left_as_stored(counted):
    DailyStat.objects.create(date=ago(30), pv=99, uv=9)
    out, _err = run("--from", ago(30).isoformat())
    assert "no counters held" in out
    assert DailyStat.objects.get(date=ago(30)).pv == 99


def test_a_dry_run_shows_counters_beside_stored_rows_and_writes_nothing(counted):
    out, _err = run("--from", ago(2).isoformat(), "--to", ago(0).isoformat(), "--dry-run")
    assert f"{ago(1)}                   2/2                     —" in out
    assert not DailyStat.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "yesterday"], "is not a date; write it as YYYY-MM-DD"),
        (["--from", "2026-02-30"], "is not a date"),  # fixed date: a day no calendar has
        (["--to", ago(1).isoformat()], "--to needs --from"),
        (["--from", ago(1).isoformat(), "--to", ago(2).isoformat()], "--from is after --to"),
        (["--from", "2999-01-01"], "in the future"),
    ],
)
def test_bad_input_gets_a_clear_message(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_held_lock_is_reported(counted):
    with get_backend().lock("rollup", 60), pytest.raises(CommandError, match="Another rollup is running"):
        run()
    assert not DailyStat.objects.exists()


def test_unreachable_counters_are_reported(db, settings):
    settings.STATS_BACKEND = "redis"
    settings.STATS_REDIS_URL = "redis://127.0.0.1:1/0"
    with pytest.raises(CommandError, match="cannot be reached"):
        run()
