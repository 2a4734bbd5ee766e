"""Change lists at scale: counts stop at a limit and say so, pages are read keys first, the
date hierarchy's choices come from index probes and equal Django's own, and ties in a
sorted column are broken in its direction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import adminlists
from articles.adminlists import LargeTablePaginator, ResultCount, with_indexed_dates
from articles.models import Article
from articles.tests.factories import ArticleFactory, DraftFactory

pytestmark = pytest.mark.django_db


def test_a_result_count_says_how_exact_it_is():
    assert (str(ResultCount(42)), str(ResultCount(10_000, capped=True))) == ("42", "10,000+")
    assert str(ResultCount(958_000, estimated=True)) == "~958,000"
    assert ResultCount(10_000, capped=True) == 10_000 and ResultCount(7) + 1 == 8
    assert f"{ResultCount(1000, capped=True)} selected" == "1,000+ selected"


def articles_over(days: int, count: int) -> list[Article]:
    now = timezone.now()
    return [
        ArticleFactory(published_at=now - timedelta(days=days * n / max(count - 1, 1))) for n in range(count)
    ]


def test_the_count_stops_at_the_limit_on_a_filtered_list():
    articles_over(10, 7)
    DraftFactory()
    published = Article.objects.filter(status=Article.Status.PUBLISHED).order_by("-published_at", "-pk")
    paginator = LargeTablePaginator(published, 2, count_limit=5)
    assert paginator.count == 5 and not paginator.count.exact and paginator.num_pages == 3
    assert str(paginator.count) == "5+"
    small = LargeTablePaginator(published, 2, count_limit=50)
    assert small.count == 7 and small.count.exact


def test_an_unfiltered_list_past_the_limit_is_counted_whole():
    articles_over(10, 6)
    everything = Article.objects.order_by("-published_at", "-pk")
    paginator = LargeTablePaginator(everything, 2, count_limit=3)
    # SQLite counts the table itself; MariaDB answers from its statistics ("~6").
    assert paginator.count >= 6 if connection.vendor == "mysql" else paginator.count == 6
    assert paginator.num_pages >= 3
    assert paginator.page(3).object_list  # every page of the whole table is reachable


def test_pages_are_read_keys_first_in_the_list_order():
    articles = articles_over(30, 7)
    ordered = Article.objects.order_by("-published_at", "-pk").select_related("category").defer("body")
    paginator = LargeTablePaginator(ordered, 3)
    assert paginator.count == 7
    with CaptureQueriesContext(connection) as queries:
        page = paginator.page(2)
        rows = list(page.object_list)
    assert [row.pk for row in rows] == [a.pk for a in articles[3:6]]
    assert len(queries) == 2, "the page's keys, then its rows"
    assert "LIMIT 3 OFFSET 3" in queries[0]["sql"] and '"body"' not in queries[1]["sql"]
    assert rows[0].category.name  # loaded as the list loads it: no query
    assert len(queries) == 2


@pytest.mark.parametrize("kind", ["year", "month", "day"])
def test_the_date_hierarchy_choices_equal_djangos(kind):
    now = timezone.now()
    for days in (0, 1, 3, 40, 41, 400, 800, 801):
        ArticleFactory(published_at=now - timedelta(days=days, hours=days % 5))
    DraftFactory(published_at=now - timedelta(days=2000))
    published = Article.objects.filter(status=Article.Status.PUBLISHED)
    scope = {"year": published, "month": published, "day": published}[kind]
    if kind != "year":  # the hierarchy asks for months of a year, days of a month
        local = timezone.localtime(now)
        scope = scope.filter(published_at__year=local.year)
        if kind == "day":
            scope = scope.filter(published_at__month=local.month)
    with CaptureQueriesContext(connection) as queries:
        probed = with_indexed_dates(scope).datetimes("published_at", kind)
    assert probed == list(scope.datetimes("published_at", kind))
    assert len(queries) == 2, "the first and last date, then one probe per period in one query"


def test_the_date_hierarchy_of_an_empty_list_is_empty():
    assert with_indexed_dates(Article.objects.none()).datetimes("published_at", "year") == []
    assert with_indexed_dates(Article.objects.filter(pk__in=[])).datetimes("published_at", "month") == []


def test_the_first_and_last_date_are_read_once():
    articles_over(500, 5)
    listed = with_indexed_dates(Article.objects.all())
    with CaptureQueriesContext(connection) as queries:
        from django.db.models import Max, Min

        span = listed.aggregate(first=Min("published_at"), last=Max("published_at"))
        years = listed.datetimes("published_at", "year")
    assert span["first"] < span["last"] and years
    assert len(queries) == 2


def test_too_many_periods_fall_back_to_djangos_query(monkeypatch):
    monkeypatch.setattr(adminlists, "MAX_PROBES", 2)
    articles_over(1200, 4)
    published = Article.objects.all()
    assert list(with_indexed_dates(published).datetimes("published_at", "year")) == list(
        published.datetimes("published_at", "year")
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["-published_at", "-pk"]),
        ("?o=4", ["published_at", "pk"]),
        ("?o=-4", ["-published_at", "-pk"]),
        ("?o=5", ["view_count", "pk"]),
        ("?o=-5", ["-view_count", "-pk"]),
        ("?o=1.-5", ["title", "-view_count", "-pk"]),
    ],
)
def test_ties_are_broken_in_the_sorted_columns_direction(staff_client, query, expected):
    request = RequestFactory().get(f"/admin/articles/article/{query}")
    request.user = staff_client.staff_user
    changelist = site._registry[Article].get_changelist_instance(request)
    ordering = changelist.get_ordering(request, changelist.root_queryset)
    assert list(dict.fromkeys(ordering)) == expected  # (the SQL names each column once)
