"""Liveness and readiness, and the 503 page: /healthz asks nothing, /readyz asks the
database (503 without it) and each Redis (200 "degraded" without them); a database outage
met anywhere in a request is a 503 page with Retry-After and one log line, not a 500 with
a traceback; a bug stays a 500."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from blog_project import health
from blog_project.errors import is_database_outage

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_asking_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"


def test_readyz_reports_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    report = json.loads(response.content)
    assert report["status"] == "ok" and report["checks"]["database"]["ok"] is True
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_is_503_without_the_database_and_degraded_without_redis(client, monkeypatch, settings):
    def refused():
        raise OperationalError(2003, "Can't connect to MySQL server on 'db' (111)")

    monkeypatch.setattr(health, "check_database", refused)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    monkeypatch.undo()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    degraded = json.loads(client.get("/readyz").content)
    assert degraded["status"] == "degraded" and degraded["checks"]["redis"]["ok"] is False


@pytest.mark.parametrize(
    ("exc", "outage"),
    [
        (OperationalError(2003, "Can't connect"), True),
        (OperationalError(2006, "MySQL server has gone away"), True),
        (OperationalError(1040, "Too many connections"), True),
        (OperationalError(1054, "Unknown column 'x'"), False),  # a bug, not an outage
        (OperationalError("database is locked"), True),
        (OperationalError("no such table: x"), False),
        (ValueError("x"), False),
    ],
)
def test_what_counts_as_a_database_outage(exc, outage):
    assert is_database_outage(exc) is outage


def _failing_queries(monkeypatch, message: str) -> None:
    def execute(self, sql, params=None):
        raise OperationalError(message)

    monkeypatch.setattr(CursorWrapper, "execute", execute)


def test_a_database_outage_is_a_503_page_with_retry_after_and_one_quiet_line(monkeypatch, caplog):
    for each in logging.getLogger("django.request").filters:  # a fresh minute for the report
        each.last_logged = each.suppressed = 0
    reader = Client(raise_request_exception=False)
    _failing_queries(monkeypatch, "database is locked")
    with caplog.at_level(logging.INFO):
        pages = [reader.get(f"/search/?q=word{n}") for n in range(3)]
    for page in pages:
        assert page.status_code == 503
        assert page["Retry-After"] == "30" and page["Cache-Control"] == "no-store"
        assert "cannot reach its database" in page.content.decode()
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.levelname for r in records] == ["WARNING"]  # one line, then quiet for a minute
    assert "Database unavailable, answering 503" in records[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)


def test_a_bug_is_still_a_500(monkeypatch):
    _failing_queries(monkeypatch, "no such column: nope")
    page = Client(raise_request_exception=False).get("/search/?q=word")
    assert page.status_code == 500


def _kept_fields(html: str) -> list[tuple[str, str]]:
    """The fields the 503 page's form would send again, in order."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__()
            self.fields, self._textarea = [], None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "input" and attrs.get("name") != "csrfmiddlewaretoken":
                self.fields.append((attrs["name"], attrs.get("value", "")))
            elif tag == "textarea":
                self._textarea = [attrs["name"], ""]

        def handle_data(self, data):
            if self._textarea is not None:
                self._textarea[1] += data

        def handle_endtag(self, tag):
            if tag == "textarea" and self._textarea is not None:
                name, text = self._textarea
                self.fields.append((name, text.removeprefix("\n")))
                self._textarea = None

    parser = Fields()
    parser.feed(html)
    return parser.fields


def test_a_form_posted_during_an_outage_comes_back_with_everything_typed(monkeypatch):
    """A comment (or an article) sent while the database is down is not lost: the 503 page
    shows the text and sends the same fields again."""
    body = "Line one <script>alert(1)</script>\n\nLine two, 中文 & more"
    posted = {"author_name": "Ada", "author_email": "ada@example.com", "body": body, "stamp": "s.t.a.mp"}
    reader = Client(raise_request_exception=False)
    _failing_queries(monkeypatch, "database is locked")
    page = reader.post("/comments/post/1/", posted)
    assert page.status_code == 503 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html  # shown escaped, never run
    assert 'action="/comments/post/1/"' in html and 'name="csrfmiddlewaretoken"' in html
    assert sorted(_kept_fields(html)) == sorted(posted.items())


def test_a_get_during_an_outage_keeps_no_form(monkeypatch):
    _failing_queries(monkeypatch, "database is locked")
    page = Client(raise_request_exception=False).get("/search/?q=word")
    assert page.status_code == 503 and "kept-form" not in page.content.decode()
