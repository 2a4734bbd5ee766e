"""The site-statistics sidebar widget: live numbers in cached pages, cheap when warm."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from articles.listings import site_comments_recount
from articles.models import Article
from articles.tests.factories import ArticleFactory, WidgetFactory
from stats.apps import SITE_STATS
from stats.backends import get_backend

from .conftest import reader_get

pytestmark = pytest.mark.django_db


def widget_numbers(html: str) -> dict[str, str]:
    block = re.search(r'<ul class="site-stats">(.*?)</ul>', html, re.S)
    assert block, "no site statistics widget on the page"
    return dict(re.findall(r"<li>([^<:]+): <strong>([^<]*)</strong></li>", block.group(1)))


@pytest.fixture
def stats_widget(db):
    return WidgetFactory(kind=SITE_STATS, title="Statistics")


def test_the_widget_shows_live_numbers_inside_a_cached_page(client, stats_widget):
    article = ArticleFactory()
    Article.objects.filter(pk=article.pk).update(comment_count=3)
    site_comments_recount()  # what the comments app does when it changes the count
    first = reader_get(client, "/")
    second = reader_get(client, "/")
    assert second["X-Page-Cache"] == "hit"
    # A view is counted before its live widget is filled: a page shows its own view too.
    assert widget_numbers(first.content.decode()) == {
        "Views today": "1",
        "Visitors today": "1",
        "Total views": "1",
        "Articles": "1",
        "Comments": "3",
    }
    assert widget_numbers(second.content.decode())["Views today"] == "2"
    third = reader_get(Client(), article.get_absolute_url(), ip="192.0.2.50")
    assert widget_numbers(third.content.decode()) == {
        "Views today": "3",
        "Visitors today": "2",
        "Total views": "3",
        "Articles": "1",
        "Comments": "3",
    }


def test_a_warm_page_with_the_widget_costs_no_query_with_redis(
    client, stats_widget, django_assert_max_num_queries
):
    reader_get(client, "/")
    reader_get(client, "/")
    # The database backend: two counts for today's numbers, the upsert and insert of the view
    # (in savepoints inside the test's transaction).
    expected = 0 if get_backend().name == "redis" else 6
    with django_assert_max_num_queries(expected):
        response = reader_get(client, "/")
    assert response["X-Page-Cache"] == "hit"
    assert widget_numbers(response.content.decode())["Views today"] == "3"
