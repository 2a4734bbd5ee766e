"""Live figures: stored final rows plus the counters of later days, the same before and
after a rollup; the dashboard's series and top articles in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Article
from articles.tests.factories import ArticleFactory, DraftFactory, ScheduledFactory
from blog_project.caching import bump
from stats import selectors, services
from stats.backends import Figures, get_backend
from stats.models import FillState

pytestmark = pytest.mark.django_db


def ago(days: int):
    return timezone.localdate() - timedelta(days=days)


def views(article_id, day_offset: int, *visitors: str) -> None:
    backend = get_backend()
    for visitor in visitors:
        backend.record(day=ago(day_offset), visitor=visitor, article_id=article_id)


def test_site_numbers_are_the_same_before_and_after_the_rollup(db):
    article = ArticleFactory()
    views(article.pk, 2, "h:a", "h:b")
    views(article.pk, 1, "h:a")
    views(None, 0, "h:a", "h:c", "h:c")
    before = selectors.site_numbers()
    assert before.today == Figures(pv=3, uv=2)
    assert before.total_pv == 6
    services.stats_rollup()
    bump("stats")  # what the rollup's on_commit does
    assert selectors.site_numbers() == before


def test_running_figures_of_today_in_the_tables_are_not_counted_twice(db):
    views(None, 1, "h:a")
    views(None, 0, "h:a", "h:b")
    services.stats_rollup()
    services.stats_rollup(start=ago(0), end=ago(0))
    bump("stats")
    assert selectors.site_numbers().total_pv == 3


def test_articles_and_comments_count_only_published_articles(db):
    ArticleFactory()
    Article.objects.filter(pk=ArticleFactory().pk).update(comment_count=4)
    Article.objects.filter(pk=DraftFactory().pk).update(comment_count=9)
    ScheduledFactory()
    numbers = selectors.site_numbers()
    assert (numbers.articles, numbers.comments) == (2, 4)


def test_warm_site_numbers_cost_no_query_with_redis(db, django_assert_num_queries):
    ArticleFactory()
    get_backend().record(day=timezone.localdate(), visitor="h:warm", article_id=None)
    cold = selectors.site_numbers()
    assert (cold.articles, cold.today, cold.total_pv) == (1, Figures(pv=1, uv=1), 1)
    expected = 0 if get_backend().name == "redis" else 2  # the database backend's two counts
    with django_assert_num_queries(expected):
        warm = selectors.site_numbers()
    assert warm == cold, "the warm answer is the same numbers"


def test_without_readable_counters_the_sidebar_shows_the_stored_numbers(db, settings):
    settings.STATS_BACKEND = "redis"
    settings.STATS_REDIS_URL = "redis://127.0.0.1:1/0"
    numbers = selectors.site_numbers()
    assert numbers.today is None and numbers.total_pv == 0


def test_days_before_the_counters_window_are_not_shown_as_live(db, settings):
    settings.STATS_RETENTION_DAYS = 7
    figures = selectors.traffic(days=30)  # nothing rolled up yet, no view at all
    live = [row.date for row in figures.days if row.live]
    assert live == selectors.live_days(None, None, timezone.localdate())
    assert len(live) == 8 and figures.days[0].live is False


def test_live_days_stop_at_the_retention_window_and_the_high_water_mark(settings):
    today = timezone.localdate()
    assert selectors.live_days(None, today - timedelta(days=30), today)[0] == today - timedelta(days=7)
    assert selectors.live_days(today - timedelta(days=1), today - timedelta(days=30), today) == [today]
    assert selectors.live_days(today, today, today) == []


def test_traffic_merges_stored_days_with_live_ones_and_ranks_articles(db):
    first, second, unread = ArticleFactory(title="First"), ArticleFactory(title="Second"), ArticleFactory()
    views(first.pk, 3, "h:a", "h:b")
    views(second.pk, 3, "h:a", "h:a", "h:a")
    views(first.pk, 1, "h:a")
    services.stats_rollup()
    views(second.pk, 0, "h:c")
    views(None, 0, "h:c")
    figures = selectors.traffic(days=7)
    assert [(row.date, row.pv, row.uv, row.live) for row in figures.days] == [
        (ago(6), 0, 0, False),
        (ago(5), 0, 0, False),
        (ago(4), 0, 0, False),
        (ago(3), 5, 2, False),
        (ago(2), 0, 0, False),
        (ago(1), 1, 1, False),
        (ago(0), 2, 1, True),
    ]
    assert [(row.article.title, row.pv, row.visitor_days) for row in figures.top_articles] == [
        ("Second", 4, 2),
        ("First", 3, 3),
    ]
    assert unread.pk not in [row.article.pk for row in figures.top_articles]
    assert (figures.period_pv, figures.total_pv, figures.peak.date) == (8, 8, ago(3))
    assert figures.filled_through == ago(1)


def test_traffic_costs_a_fixed_number_of_queries(db, django_assert_num_queries):
    def load(article_count: int) -> int:
        for _ in range(article_count):
            article = ArticleFactory()
            views(article.pk, 2, "h:a")
            views(article.pk, 0, "h:b")
        services.stats_rollup()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            figures = selectors.traffic(days=30)
        assert figures.top_articles
        return len(queries)

    few = load(3)
    many = load(30)
    assert few == many
    # fill state, stored days, the period's most read stored articles, their sums and
    # titles (the all-time total is cached between rollups); the database backend also
    # reads the live days' site figures (2) and today's most read articles and visitors (2)
    assert few == (4 if get_backend().name == "redis" else 8)


# --- the most read articles of a period --------------------------------------------------


def reference_top(days: int, top: int = 10) -> list[tuple]:
    """The dashboard's top articles summed the long way: every row and counter."""
    end = timezone.localdate()
    start = end - timedelta(days=days - 1)
    final_through = selectors.filled_through()
    live = [day for day in selectors.live_days(final_through, start, end) if get_backend().site_day(day)]
    rows = selectors._top_articles_by_scan(start, end, final_through, live, top)
    return [(row.article.pk, row.pv, row.visitor_days) for row in rows]


def shown_top(days: int) -> list[tuple]:
    return [(row.article.pk, row.pv, row.visitor_days) for row in selectors.traffic(days=days).top_articles]


@pytest.fixture
def busy_month(db, settings):
    """Forty articles, each read a different number of times on days over five weeks."""
    settings.STATS_RETENTION_DAYS = 40
    articles = [ArticleFactory() for _ in range(40)]
    for days_ago in (33, 31, 20, 9, 8, 6, 5, 2, 1, 0):
        for n, article in enumerate(articles):
            for visitor in range((n * 7 + days_ago * 3) % 11):
                views(article.pk, days_ago, f"h:{visitor % 5}")
    return articles


@pytest.mark.parametrize("days", [7, 30, 90])
def test_the_top_articles_are_the_exact_sums_of_rows_and_live_counters(busy_month, days, monkeypatch):
    services.stats_rollup()
    assert shown_top(days) == reference_top(days)
    monkeypatch.setattr(selectors, "FIRST_DEPTH", 1)  # many rounds of the threshold algorithm
    assert shown_top(days) == reference_top(days)


def test_the_top_articles_are_exact_when_the_rollup_is_behind(busy_month):
    FillState.objects.update_or_create(name=FillState.DAILY, defaults={"filled_through": ago(40)})
    services.stats_rollup(start=ago(39), end=ago(3))  # final through three days ago
    assert selectors.filled_through() == ago(3)
    # The sums hold the 6 final days through ago(3); the 7 days' period starts at ago(6), so
    # ago(8) and ago(7), read too, must be taken away (and likewise for 30 and 90 days).
    for days in (7, 30, 90):
        assert shown_top(days) == reference_top(days), days


def test_deleted_articles_and_running_figures_are_left_out_of_the_top(busy_month):
    services.stats_rollup()
    services.stats_rollup(start=ago(0), end=ago(0))  # today's running figures in the tables
    busy_month[-1].delete()
    top = shown_top(7)
    assert busy_month[-1].pk not in [article_id for article_id, _pv, _uv in top]
    assert top == reference_top(7)


@pytest.mark.real_backends
def test_the_top_of_a_period_is_read_from_an_index(busy_month):
    services.stats_rollup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        selectors.traffic(days=30)
    ranked = next(q["sql"] for q in queries.captured_queries if "FROM `stats_traffictop`" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + ranked)
        plan = cursor.fetchall()
    assert plan[0][5] == "stats_traffictop_rank_idx", plan
    assert "filesort" not in (plan[0][9] or ""), plan


def test_a_top_deeper_than_the_kept_list_is_still_exact(busy_month, monkeypatch):
    from stats.models import TrafficTop

    services.stats_rollup()
    monkeypatch.setattr(TrafficTop, "KEPT", 2)
    monkeypatch.setattr(selectors, "FIRST_DEPTH", 1)
    for days in (7, 30):
        assert shown_top(days) == reference_top(days), days


@pytest.mark.real_backends
def test_the_live_day_costs_a_few_redis_round_trips_whatever_the_number_of_articles(db, monkeypatch):
    import redis

    calls = []
    send = redis.Redis.execute_command
    execute = redis.client.Pipeline.execute

    def counted_command(client, *args, **options):
        if not isinstance(client, redis.client.Pipeline):
            calls.append(args[0])
        return send(client, *args, **options)

    def counted_pipeline(pipe, *args, **kwargs):
        calls.append(f"pipeline of {len(pipe.command_stack)}")
        return execute(pipe, *args, **kwargs)

    def round_trips(articles: int) -> int:
        for _ in range(articles):
            article = ArticleFactory()
            views(article.pk, 0, "h:a", "h:b")
        monkeypatch.setattr(redis.Redis, "execute_command", counted_command)
        monkeypatch.setattr(redis.client.Pipeline, "execute", counted_pipeline)
        calls.clear()
        assert selectors.traffic(days=7).top_articles
        monkeypatch.undo()
        return len(calls)

    few = round_trips(3)
    many = round_trips(60)
    # site figures, the day's list (and the older hash's check), the candidates' views when
    # the list was not read to its end, the shown articles' visitors
    assert few <= 6 and many <= 6, (few, many, calls)


def test_live_article_views_are_the_views_since_the_rollup(db):
    """What pages add to ``view_count``: the days after the rollup (as Traffic counts them)."""
    first, second = ArticleFactory(), ArticleFactory()
    views(first.pk, 2, "h:a", "h:b")
    views(first.pk, 1, "h:a")
    assert selectors.live_article_views([first.pk, second.pk]) == {first.pk: 3}  # nothing rolled up
    services.stats_rollup()
    bump("stats")
    views(first.pk, 0, "h:c", "h:d")
    views(second.pk, 0, "h:e")
    first.refresh_from_db()
    assert first.view_count == 3
    assert selectors.live_article_views([first.pk, second.pk]) == {first.pk: 2, second.pk: 1}
    top = {row.article.pk: row.pv for row in selectors.traffic(days=7).top_articles}
    assert top == {first.pk: first.view_count + 2, second.pk: 1}
