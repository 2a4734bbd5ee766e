"""The traffic dashboard: staff only, linked from the admin index, 7/30/90 days as an
accessible server-rendered SVG with a table, top articles, totals, CSV export; bad input
gets a message, never a 500; a fixed number of queries."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from articles.tests.factories import ArticleFactory, UserFactory
from stats import services
from stats.backends import get_backend

pytestmark = pytest.mark.django_db

URL = "/admin/stats/dailystat/"


def ago(days: int):
    return timezone.localdate() - timedelta(days=days)


@pytest.fixture
def traffic(db):
    loved, read = ArticleFactory(title="Loved <post>"), ArticleFactory(title="Read once")
    backend = get_backend()
    for visitor in ("h:a", "h:b", "h:c"):
        backend.record(day=ago(2), visitor=visitor, article_id=loved.pk)
    backend.record(day=ago(1), visitor="h:a", article_id=read.pk)
    services.stats_rollup()
    backend.record(day=ago(0), visitor="h:d", article_id=loved.pk)
    backend.record(day=ago(0), visitor="h:d")
    return loved, read


def test_the_admin_index_links_to_the_dashboard(staff_client):
    index = staff_client.get("/admin/").content.decode()
    assert f'href="{URL}"' in index


def test_the_dashboard_shows_totals_chart_table_and_top_articles(staff_client, traffic):
    response = staff_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    svg = re.search(
        r'<svg role="img" aria-labelledby="stats-chart-title stats-chart-desc".*?</svg>', html, re.S
    )
    assert svg, "an accessible SVG chart"
    assert '<title id="stats-chart-title">Page views and unique visitors per day' in svg.group(0)
    assert '<desc id="stats-chart-desc">' in svg.group(0)
    assert len(re.findall(r'<circle class="pv-dot"', svg.group(0))) == 7
    assert f"{ago(2):%Y-%m-%d}: 3 page views, 3 unique visitors" in svg.group(0)
    table = re.search(r'<table id="stats-days">.*?</table>', html, re.S).group(0)
    assert len(re.findall(r"<tr><th scope=\"row\">", table)) == 7
    assert f"{ago(0):%Y-%m-%d} <span" in table, "today is marked live"
    top = re.search(r'<table id="stats-top-articles">.*?</table>', html, re.S).group(0)
    assert top.index("Loved &lt;post&gt;") < top.index("Read once"), "escaped, most read first"
    assert re.search(r"Loved &lt;post&gt;</a></td><td class=\"num\">4</td><td class=\"num\">4</td>", top)
    assert "Page views, all time</dt><dd>6</dd>" in html
    assert 'aria-current="page">7 days' in html


@pytest.mark.parametrize("days", [7, 30, 90])
def test_each_period_lists_every_day(staff_client, traffic, days):
    html = staff_client.get(URL, {"days": days}).content.decode()
    table = re.search(r'<table id="stats-days">.*?</table>', html, re.S).group(0)
    assert len(re.findall(r"<tr><th scope=\"row\">", table)) == days
    assert f'aria-current="page">{days} days' in html


@pytest.mark.parametrize("bad", ["abc", "8", "-7", "99999999999999999999", "7.5", "\x00"])
def test_a_bad_period_gets_a_message_and_the_default(staff_client, traffic, bad):
    response = staff_client.get(URL, {"days": bad})
    assert response.status_code == 200
    assert "Choose a period of 7, 30, 90 days; showing the last 7 days." in response.content.decode()


def test_the_csv_export_holds_every_day_of_the_period(staff_client, traffic):
    response = staff_client.get(URL + "export.csv", {"days": 30})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="traffic-{ago(29)}-{ago(0)}.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["date", "page_views", "unique_visitors", "final"]
    assert len(rows) == 31
    assert rows[-3:] == [
        [ago(2).isoformat(), "3", "3", "yes"],
        [ago(1).isoformat(), "1", "1", "yes"],
        [ago(0).isoformat(), "2", "1", "no"],
    ]


def test_readers_and_staff_without_permission_are_kept_out(client, traffic):
    assert client.get(URL).status_code == 302
    assert client.get(URL + "export.csv").status_code == 302
    editor = UserFactory(is_staff=True)
    client.force_login(editor)
    assert client.get(URL).status_code == 403
    assert client.get(URL + "export.csv").status_code == 403
    editor.user_permissions.add(Permission.objects.get(codename="view_dailystat"))
    assert client.get(URL).status_code == 200


def test_the_rows_cannot_be_added_changed_or_deleted_here(staff_client, traffic):
    assert staff_client.get(URL + "add/").status_code == 403
    html = staff_client.get(URL).content.decode()
    assert URL + "add/" not in html


def test_the_dashboard_costs_a_fixed_number_of_queries(staff_client, traffic, django_assert_max_num_queries):
    staff_client.get(URL)
    for _ in range(20):
        article = ArticleFactory()
        get_backend().record(day=ago(0), visitor="h:z", article_id=article.pk)
    # session and user, then the figures (see selectors.traffic), whatever the period
    budget = 9 if get_backend().name == "redis" else 11
    for days in (7, 90):
        with django_assert_max_num_queries(budget):
            assert staff_client.get(URL, {"days": days}).status_code == 200
