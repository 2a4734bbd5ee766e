"""The page-view middleware: counts reader pages (cached ones too) per local day, without
any cookie; skips everything else; never breaks a page."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from articles.tests.factories import ArticleFactory, DraftFactory, UserFactory
from stats.backends import Figures, get_backend
from stats.counting import LossReport
from stats.models import DailyStat, FillState

from .conftest import CHROME, FIREFOX, GOOGLEBOT, reader_get

pytestmark = pytest.mark.django_db


def today_snapshot():
    return get_backend().snapshot(timezone.localdate())


@pytest.fixture
def article(db):
    return ArticleFactory(title="Counting sheep")


def test_an_article_page_counts_for_the_site_and_the_article(client, article):
    response = reader_get(client, article.get_absolute_url())
    assert response.status_code == 200
    snapshot = today_snapshot()
    assert snapshot.site == Figures(pv=1, uv=1)
    assert snapshot.articles == {article.pk: Figures(pv=1, uv=1)}


def test_no_cookie_is_set_and_an_old_visitor_cookie_is_ignored(client, article):
    first = reader_get(client, article.get_absolute_url())
    assert set(first.cookies) <= {"csrftoken"}, "the comment form's CSRF cookie at most"
    client.cookies["blog_vid"] = "20261123.abcdefghijklmnopqrstuv"  # set by an older version
    second = reader_get(client, article.get_absolute_url())
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert "blog_vid" not in second.cookies
    snapshot = today_snapshot()
    assert snapshot.site == Figures(pv=2, uv=1), "one reader is one unique visitor"
    assert snapshot.articles == {article.pk: Figures(pv=2, uv=1)}


def test_a_new_and_a_returning_reader_are_answered_alike(article):
    reader_get(Client(), "/")  # stores the page
    new, returning = Client(), Client()
    reader_get(returning, "/")
    first, again = reader_get(new, "/"), reader_get(returning, "/")
    assert first["X-Page-Cache"] == again["X-Page-Cache"] == "hit"
    assert first.cookies.keys() == again.cookies.keys()
    assert "blog_vid" not in first.cookies


def test_several_readers_and_pages(article):
    other = ArticleFactory()
    ada, bob = Client(), Client()
    reader_get(ada, "/", ip="198.51.100.1")
    reader_get(ada, article.get_absolute_url(), ip="198.51.100.1")
    reader_get(bob, article.get_absolute_url(), agent=FIREFOX, ip="198.51.100.2")
    reader_get(bob, other.get_absolute_url(), agent=FIREFOX, ip="198.51.100.2")
    reader_get(bob, "/archives/", agent=FIREFOX, ip="198.51.100.2")
    snapshot = today_snapshot()
    assert snapshot.site == Figures(pv=5, uv=2)
    assert snapshot.articles == {article.pk: Figures(pv=2, uv=2), other.pk: Figures(pv=1, uv=1)}


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/admin/login/", {}),
        ("/feed/rss/", {}),
        ("/feed/atom/", {}),
        ("/healthz", {}),
        ("/robots.txt", {}),
        ("/sitemap.xml", {}),
        ("/static/css/blog.css", {}),
        ("/media/uploads/nothing.png", {}),
        ("/article/no-such-article/", {}),
        ("/?page=999", {}),
        ("ARTICLE", {"HTTP_SEC_PURPOSE": "prefetch"}),
        ("ARTICLE", {"HTTP_USER_AGENT": GOOGLEBOT}),
        ("ARTICLE", {"HTTP_USER_AGENT": ""}),
    ],
)
def test_what_is_not_a_page_view(client, article, url, headers):
    url = article.get_absolute_url() if url == "ARTICLE" else url
    headers = {"HTTP_USER_AGENT": CHROME, **headers}
    response = client.get(url, **headers)
    assert response.status_code in (200, 404, 302, 301)
    assert today_snapshot() is None


def test_head_and_post_are_not_page_views(client, article):
    client.head(article.get_absolute_url(), HTTP_USER_AGENT=CHROME)
    client.post("/", HTTP_USER_AGENT=CHROME)
    assert today_snapshot() is None


def test_staff_views_are_not_counted_unless_asked(client, article, settings):
    staff = UserFactory(is_staff=True, is_superuser=True)  # may preview any draft
    client.force_login(staff)
    reader_get(client, article.get_absolute_url())
    preview = DraftFactory()
    assert reader_get(client, preview.get_absolute_url()).status_code == 200
    assert today_snapshot() is None
    settings.STATS_COUNT_STAFF = True
    reader_get(client, article.get_absolute_url())
    reader_get(client, preview.get_absolute_url())
    assert today_snapshot().site == Figures(pv=2, uv=1)
    assert list(today_snapshot().articles) == [article.pk], "a draft preview is no article view"


def test_a_logged_in_reader_who_is_not_staff_is_counted(client, article):
    client.force_login(UserFactory())
    reader_get(client, article.get_absolute_url())
    assert today_snapshot().articles == {article.pk: Figures(1, 1)}


def test_days_follow_the_site_time_zone(client, article, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    # 16:30 UTC is 00:30 of the next day in Shanghai. A day after today, so the article
    # (published now) is public at that moment.
    utc_day = timezone.now().astimezone(UTC).date() + timedelta(days=1)
    at = datetime.combine(utc_day, time(16, 30), tzinfo=UTC)
    shanghai_day = utc_day + timedelta(days=1)
    with time_machine.travel(at, tick=False):
        assert reader_get(client, article.get_absolute_url()).status_code == 200
        assert timezone.localdate() == shanghai_day
    backend = get_backend()
    assert backend.snapshot(shanghai_day).site == Figures(1, 1)
    assert backend.snapshot(utc_day) is None


def test_a_broken_counter_store_never_breaks_the_page(client, article, settings, caplog):
    settings.STATS_BACKEND = "redis"
    settings.STATS_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="stats.counting"):
        first = reader_get(client, article.get_absolute_url())
        second = reader_get(client, "/")
    assert (first.status_code, second.status_code) == (200, 200)
    assert b"Counting sheep" in first.content
    assert "page view(s) not counted" in caplog.text and "ConnectionError" in caplog.text


@pytest.mark.real_backends
def test_with_all_of_redis_down_pages_are_still_served(client, article, settings, caplog):
    cache = dict(settings.CACHES["default"])
    cache["LOCATION"] = "redis://127.0.0.1:1/0"
    settings.CACHES = {"default": cache}
    settings.STATS_REDIS_URL = ""
    with caplog.at_level(logging.WARNING, logger="stats.counting"):
        response = reader_get(client, article.get_absolute_url())
    assert response.status_code == 200 and b"Counting sheep" in response.content
    assert "page view(s) not counted" in caplog.text


def test_losses_are_logged_once_a_minute_with_their_number(caplog):
    report = LossReport()
    error = ConnectionError("down")
    with caplog.at_level(logging.WARNING, logger="stats.counting"):
        for _ in range(5):
            report.lost_one(error)
        report.last_report -= 61
        report.lost_one(error)
        report.lost_one(error)
        report.recovered()
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        "Stats: 1 page view(s) not counted: ConnectionError('down')",
        "Stats: 5 page view(s) not counted: ConnectionError('down')",
        "Stats: counting again; 1 more page view(s) were not counted.",
    ]


def test_counting_a_cached_page_costs_no_query_with_redis_or_a_fixed_few_with_the_database(
    client, article, django_assert_max_num_queries, settings
):
    url = article.get_absolute_url()
    Client().get(url)  # warm the page cache (a bot: not counted)
    reader_get(client, url)  # the visitor now has a cookie; the salt is cached
    if get_backend().name == "redis":
        with django_assert_max_num_queries(0):
            assert reader_get(client, url)["X-Page-Cache"] == "hit"
    else:
        # The upsert and the insert-or-ignore, in a savepoint (the test's transaction).
        with django_assert_max_num_queries(4):
            assert reader_get(client, url)["X-Page-Cache"] == "hit"
    assert today_snapshot().site.pv == 2


def test_without_a_broker_the_first_view_of_a_day_rolls_up_the_days_before(client, article, settings):
    settings.STATS_ROLLUP_ON_REQUEST = True
    yesterday = timezone.localdate() - timedelta(days=1)
    get_backend().record(day=yesterday, visitor="h:1", article_id=article.pk)
    reader_get(client, article.get_absolute_url())
    assert DailyStat.objects.get(date=yesterday).pv == 1
    assert FillState.objects.get().filled_through == yesterday
    last_run = FillState.objects.get().last_run_at
    reader_get(client, "/")  # the same process, the same day: no second rollup
    assert FillState.objects.get().last_run_at == last_run
    article.refresh_from_db()
    assert article.view_count == 1
