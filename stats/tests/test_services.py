"""The daily rollup: absolute upserts (a rerun gives identical rows), catch-up of missed
days within the retention window, the fill-state high-water mark, exact view counts, the
lock, a generation bump only when something changed, and per-article sums that always
equal the final rows they sum."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from articles.models import Article
from articles.tests.factories import ArticleFactory
from blog_project.caching import page_generation
from stats import services
from stats.backends import DatabaseBackend, get_backend
from stats.models import PERIODS, ArticleDailyStat, ArticleTraffic, DailyStat, FillState, LiveCounter

pytestmark = pytest.mark.django_db


def ago(days: int):
    return timezone.localdate() - timedelta(days=days)


def rows() -> dict:
    return {
        "daily": sorted(DailyStat.objects.values_list("pk", "date", "pv", "uv")),
        "articles": sorted(ArticleDailyStat.objects.values_list("pk", "article_id", "date", "pv", "uv")),
        "views": sorted(Article.objects.values_list("pk", "view_count")),
    }


def set_filled(day) -> None:
    FillState.objects.update_or_create(name=FillState.DAILY, defaults={"filled_through": day})


@pytest.fixture
def articles(db):
    return ArticleFactory(), ArticleFactory()


@pytest.fixture
def traffic(articles):
    """Three finished days and today: article one read on each, article two twice."""
    first, second = articles
    backend = get_backend()
    for days_ago in (3, 2, 1, 0):
        backend.record(day=ago(days_ago), visitor="c:aaaaaaaaaaaaaaaa", article_id=first.pk)
        backend.record(day=ago(days_ago), visitor="h:b", article_id=first.pk)
        backend.record(day=ago(days_ago), visitor="h:b")
    backend.record(day=ago(2), visitor="h:c", article_id=second.pk)
    backend.record(day=ago(2), visitor="h:c", article_id=second.pk)
    return first, second


def test_the_first_rollup_writes_every_finished_day_held_and_becomes_final_through_yesterday(traffic):
    first, second = traffic
    result = services.stats_rollup()
    assert result.days_written == 3 and not result.locked
    assert len(result.days) == 7, "the whole retention window was looked at"
    assert {(row.date, row.pv, row.uv) for row in DailyStat.objects.all()} == {
        (ago(3), 3, 2),
        (ago(2), 5, 3),
        (ago(1), 3, 2),
    }
    assert DailyStat.objects.filter(date=ago(0)).count() == 0, "today is not finished"
    assert ArticleDailyStat.objects.get(article=second, date=ago(2)).pv == 2
    assert ArticleDailyStat.objects.get(article=first, date=ago(2)).uv == 2
    assert FillState.objects.get().filled_through == ago(1)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.view_count, second.view_count) == (6, 2)
    assert result.view_counts_changed == 2


def test_a_rerun_of_the_same_days_gives_identical_rows(traffic):
    services.stats_rollup()
    before = rows()
    again = services.stats_rollup(start=ago(3), end=ago(1))
    assert again.days_written == 3
    assert rows() == before
    assert services.stats_rollup().days == [], "nothing is pending any more"
    assert rows() == before


def test_three_missed_days_are_caught_up(traffic):
    set_filled(ago(4))
    result = services.stats_rollup()
    assert [day.date for day in result.days] == [ago(3), ago(2), ago(1)]
    assert FillState.objects.get().filled_through == ago(1)
    assert DailyStat.objects.count() == 3


def test_days_whose_counters_expired_are_skipped_with_a_warning(traffic, caplog):
    set_filled(ago(20))
    with caplog.at_level(logging.WARNING, logger="stats.services"):
        result = services.stats_rollup()
    assert result.days[0].date == ago(7), "only the retention window can still be read"
    assert FillState.objects.get().filled_through == ago(1)
    assert "never rolled up and their counters have expired" in caplog.text


def test_today_can_be_rolled_up_as_running_figures_that_never_count_as_final(traffic):
    first, _second = traffic
    services.stats_rollup()
    result = services.stats_rollup(start=ago(0), end=ago(0))
    assert result.days_written == 1
    assert DailyStat.objects.get(date=ago(0)).pv == 3
    assert FillState.objects.get().filled_through == ago(1)
    first.refresh_from_db()
    assert first.view_count == 6, "today's running figures are not part of the stored total"
    get_backend().record(day=ago(0), visitor="h:late", article_id=first.pk)
    services.stats_rollup(start=ago(0), end=ago(0))
    assert DailyStat.objects.get(date=ago(0)).pv == 4, "overwritten with the newer figures"


def test_a_backfill_moves_the_high_water_mark_only_over_consecutive_days(traffic):
    set_filled(ago(4))
    services.stats_rollup(start=ago(2), end=ago(1))
    assert FillState.objects.get().filled_through == ago(4), "ago(3) is still missing"
    services.stats_rollup(start=ago(3), end=ago(3))
    assert FillState.objects.get().filled_through == ago(3)
    services.stats_rollup(start=ago(3), end=ago(1))
    assert FillState.objects.get().filled_through == ago(1)


def test_counts_of_deleted_articles_are_left_out(traffic):
    _first, second = traffic
    second_pk = second.pk
    second.delete()
    result = services.stats_rollup()
    assert result.days_written == 3
    assert not ArticleDailyStat.objects.filter(article_id=second_pk).exists()
    assert DailyStat.objects.get(date=ago(2)).pv == 5, "the site still saw those views"


def test_view_counts_are_put_right_after_an_editor_saved_a_stale_form(traffic):
    first, _second = traffic
    services.stats_rollup()
    Article.objects.filter(pk=first.pk).update(view_count=0)  # what a stale admin form writes
    result = services.stats_rollup()
    first.refresh_from_db()
    assert first.view_count == 6 and result.view_counts_changed == 1


def test_a_held_lock_turns_the_rollup_away(traffic):
    with get_backend().lock("rollup", 60):
        result = services.stats_rollup()
    assert result.locked and result.days == []
    assert "another rollup holds the lock" in result.summary()
    assert not DailyStat.objects.exists()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (1, 2, "after the last day"),
        (0, -1, "in the future"),
        (1, None, "both"),
    ],
)
def test_bad_ranges_are_refused(db, start, end, message):
    with pytest.raises(ValueError, match=message):
        services.stats_rollup(start=ago(start), end=ago(end) if end is not None else None)


def test_the_site_generation_is_bumped_after_commit_only_when_something_changed(
    traffic, django_capture_on_commit_callbacks
):
    before = page_generation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.stats_rollup()
    assert len(callbacks) == 1 and page_generation() != before
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.stats_rollup()
    assert callbacks == [], "nothing changed, cached pages stay"


def test_the_database_backend_forgets_counters_past_the_retention_window(articles, settings):
    settings.STATS_BACKEND = "database"
    backend = DatabaseBackend()
    backend.record(day=ago(9), visitor="h:old")
    backend.record(day=ago(1), visitor="h:new")
    services.stats_rollup()
    assert set(LiveCounter.objects.values_list("date", flat=True)) == {ago(1)}


def test_a_page_view_is_recorded_through_the_configured_backend(articles):
    first, _second = articles
    services.page_view_record(day=ago(0), visitor="h:x", article_id=first.pk)
    assert get_backend().snapshot(ago(0)).articles[first.pk].pv == 1


# --- per-article sums (ArticleTraffic) --------------------------------------------------


def expected_sums() -> dict:
    """The sums as the definition says, recomputed from the final rows."""
    through = FillState.objects.get(name=FillState.DAILY).filled_through
    sums: dict = {}
    for article_id, day, pv, uv in ArticleDailyStat.objects.filter(date__lte=through).values_list(
        "article_id", "date", "pv", "uv"
    ):
        row = sums.setdefault(article_id, dict.fromkeys(services.SUM_COLUMNS, 0))
        row["pv_total"] += pv
        for days in PERIODS:
            if day >= through - timedelta(days=days - 2):
                row[f"pv_{days}"] += pv
                row[f"uv_{days}"] += uv
    return sums


def stored_sums() -> dict:
    return {
        row["article_id"]: {name: row[name] for name in services.SUM_COLUMNS}
        for row in ArticleTraffic.objects.values("article_id", *services.SUM_COLUMNS)
        if any(row[name] for name in services.SUM_COLUMNS)
    }


def assert_sums_hold() -> None:
    assert stored_sums() == expected_sums()
    assert FillState.objects.get().sums_through == FillState.objects.get().filled_through
    for article_id, view_count in Article.objects.values_list("pk", "view_count"):
        assert view_count == expected_sums().get(article_id, {}).get("pv_total", 0)


@pytest.fixture
def month_of_traffic(settings, articles):
    """Five articles read on days spread over five weeks (the counters kept long enough)."""
    settings.STATS_RETENTION_DAYS = 40
    everyone = [*articles, ArticleFactory(), ArticleFactory(), ArticleFactory()]
    backend = get_backend()
    for days_ago in (35, 29, 28, 8, 6, 5, 1, 0):
        for n, article in enumerate(everyone):
            for visitor in range((days_ago + n) % 4):
                backend.record(day=ago(days_ago), visitor=f"h:{visitor}", article_id=article.pk)
    return everyone


def test_the_sums_equal_the_final_rows_after_catch_up_backfill_rerun_and_deletion(month_of_traffic):
    services.stats_rollup()
    assert_sums_hold()
    # More views of a final day come to light: its rerun moves the sums by the difference.
    get_backend().record(day=ago(6), visitor="h:late", article_id=month_of_traffic[0].pk)
    get_backend().record(day=ago(29), visitor="h:late", article_id=month_of_traffic[1].pk)
    services.stats_rollup(start=ago(29), end=ago(6))
    assert_sums_hold()
    again = stored_sums()
    services.stats_rollup(start=ago(29), end=ago(6))
    assert stored_sums() == again, "a rerun changes nothing"
    month_of_traffic[2].delete()
    services.stats_rollup()
    assert_sums_hold()


def test_the_sums_follow_the_days_as_they_pass(month_of_traffic):
    services.stats_rollup()
    for days_later in (1, 2, 9):  # the next nights, then a rollup missed for a week
        with time_machine.travel(timezone.now() + timedelta(days=days_later), tick=False):
            get_backend().record(
                day=timezone.localdate() - timedelta(days=1), visitor="h:n", article_id=month_of_traffic[3].pk
            )
            services.stats_rollup()
            assert FillState.objects.get().filled_through == timezone.localdate() - timedelta(days=1)
            assert_sums_hold()


def test_the_sums_move_back_and_forth_exactly(month_of_traffic):
    services.stats_rollup()
    made = stored_sums()
    with transaction.atomic():
        state = services._locked_state()
        for through in (ago(2), ago(30), ago(200), ago(1)):
            services._traffic_follow(state, through)
    assert stored_sums() == made


def test_sums_made_for_the_first_time_cover_every_final_row(month_of_traffic):
    services.stats_rollup()
    ArticleTraffic.objects.all().delete()
    FillState.objects.update(sums_through=None)  # as right after the upgrade that adds them
    Article.objects.update(view_count=0)
    result = services.stats_rollup()
    assert result.view_counts_changed == len(expected_sums())
    assert_sums_hold()


def test_a_day_with_many_articles_read_is_written_in_batches(month_of_traffic, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    services.stats_rollup()
    assert_sums_hold()
    read = get_backend().snapshot(ago(1)).articles
    assert len(read) == 4
    assert {row.article_id: row.pv for row in ArticleDailyStat.objects.filter(date=ago(1))} == {
        article_id: figures.pv for article_id, figures in read.items()
    }
