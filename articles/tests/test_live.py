"""View counts as of now on cached pages and in the admin: the rolled-up total plus the
views since, read for a whole page in one call and reused briefly per process."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from articles import registry
from articles.models import Article, SidebarWidget, SiteSettings
from articles.tests.factories import ArticleFactory, WidgetFactory
from blog_project import caching
from stats import selectors as stats_selectors
from stats.backends import get_backend

pytestmark = pytest.mark.django_db
ADMIN_ARTICLES = "/admin/articles/article/"


def _read_today(article, times: int) -> None:
    backend = get_backend()
    for n in range(times):
        backend.record(day=timezone.localdate(), visitor=f"h:reader{n}", article_id=article.pk)


@pytest.fixture
def calls(monkeypatch):
    """The live reads, as (article ids) per call."""
    seen: list[list[int]] = []

    def recording(ids):
        seen.append(sorted(ids))
        return stats_selectors.live_article_views(ids)

    monkeypatch.setattr(registry, "_live_views", recording)
    return seen


@pytest.fixture
def live_now(settings):
    settings.BLOG_LIVE_VIEWS_MAX_AGE = 0


@pytest.mark.urls("tests.i18n_urls")  # the Chinese page at /zh-hans/
def test_an_article_read_today_shows_its_views_at_once(client, live_now):
    """Five reads today on top of 10 rolled up: "15 views" on its cached page and in lists."""
    article = ArticleFactory(title="Read today")
    Article.objects.filter(pk=article.pk).update(view_count=10)
    reader = Client()  # no User-Agent: a bot, not counted, so the numbers stay ours
    assert "10 views" in reader.get(article.get_absolute_url()).content.decode()
    _read_today(article, 5)
    response = reader.get(article.get_absolute_url())
    assert response["X-Page-Cache"] == "hit"
    assert "15 views" in response.content.decode()
    assert "15 views" in reader.get("/").content.decode()
    assert "15 次阅读" in reader.get("/zh-hans/").content.decode()


def test_a_list_page_reads_all_its_counts_in_one_call(client, calls, live_now):
    SiteSettings.objects.filter(pk=1).update(posts_per_page=10)
    WidgetFactory(kind=SidebarWidget.Kind.POPULAR_POSTS, item_count=5)
    articles = [ArticleFactory() for _ in range(12)]
    _read_today(articles[0], 2)
    body = client.get("/").content.decode()
    assert "<!--hole:" not in body
    assert len(calls) == 1, calls
    shown = set(calls[0])
    assert len(shown) >= 10  # the page's ten, and the popular widget's (among them)
    assert len(re.findall(r"\d+ views?", body)) >= 15


def test_counts_are_reused_per_process_for_the_max_age(client, calls, settings):
    settings.BLOG_LIVE_VIEWS_MAX_AGE = 60
    article = ArticleFactory()
    client.get(article.get_absolute_url())
    client.get(article.get_absolute_url())
    client.get(article.get_absolute_url())
    assert len(calls) == 1, "a warm page gains no counter read per request"
    caching.forget_process_copies()  # another process, or the max age passed
    _read_today(article, 3)
    assert "3 views" in client.get(article.get_absolute_url()).content.decode()
    assert len(calls) == 2


def test_counts_match_the_traffic_page(admin_client, live_now):
    from stats import services

    article = ArticleFactory(title="Counted")
    backend = get_backend()
    yesterday = timezone.localdate() - timedelta(days=1)
    for visitor in ("h:a", "h:b", "h:c"):
        backend.record(day=yesterday, visitor=visitor, article_id=article.pk)
    services.stats_rollup()
    caching.bump("stats")
    _read_today(article, 2)
    article.refresh_from_db()
    assert article.view_count == 3
    page = Client().get(article.get_absolute_url()).content.decode()
    assert "5 views" in page
    traffic = admin_client.get("/admin/stats/dailystat/?days=7").content.decode()
    row = traffic[traffic.index("Counted") :]
    assert re.search(r"\b5\b", row[: row.index("</tr>")])


def test_the_admin_list_and_form_show_live_counts(admin_client, calls):
    articles = [ArticleFactory(title=f"Admin {n}") for n in range(4)]
    Article.objects.filter(pk=articles[0].pk).update(view_count=100)
    _read_today(articles[0], 7)
    html = admin_client.get(ADMIN_ARTICLES).content.decode()
    row = html[html.index("Admin 0") :]
    assert '<td class="field-views">107</td>' in row[: row.index("</tr>")]
    assert len(calls) == 1, "the whole page in one read"
    form = admin_client.get(f"{ADMIN_ARTICLES}{articles[0].pk}/change/").content.decode()
    assert re.search(r'<div class="readonly">107</div>', form)


def test_without_a_counting_app_the_stored_count_is_plain_text(client, monkeypatch):
    monkeypatch.setattr(registry, "_live_views", None)
    article = ArticleFactory()
    Article.objects.filter(pk=article.pk).update(view_count=3)
    body = client.get(article.get_absolute_url()).content.decode()
    assert "3 views" in body


def test_a_counter_outage_shows_the_stored_counts(client, monkeypatch, live_now):
    def broken(ids):
        raise ConnectionError("counters down")

    monkeypatch.setattr(registry, "_live_views", broken)
    article = ArticleFactory()
    Article.objects.filter(pk=article.pk).update(view_count=8)
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200 and "8 views" in response.content.decode()


def test_a_forged_hole_argument_is_ignored(rf):
    from articles.live import fill_view_counts

    filled = fill_view_counts(rf.get("/"), ["abc", "1.x", "-1.2", "5.7"])
    assert filled == {"5.7": "7 views"}
