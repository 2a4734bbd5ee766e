"""The form stamp is filled per request, so a page served whole from the cache still
carries the time this reader opened it: a bot posting at once is caught, and a reader's
cached copy keeps working however old the cached page is."""

import pytest
from django.http import HttpResponse
from django.test import Client

from blog_project.caching import PageCacheMiddleware, hole
from comments import spam
from comments.models import Comment
from comments.tests.conftest import form_data, post_url, stamp_in

pytestmark = pytest.mark.django_db

STAMP_HOLE = hole("comment-stamp")


def _shown_at(stamp: str) -> float:
    return spam.stamp_shown_at(stamp)


def test_cached_pages_get_a_fresh_stamp_per_request(article, open_policy, monkeypatch, settings):
    settings.COMMENTS_MIN_FILL_SECONDS = 3
    clock = [1_800_000_000.0]
    monkeypatch.setattr(spam, "now", lambda: clock[0])
    first = Client().get(article.get_absolute_url())
    assert first["X-Page-Cache"] == "miss"
    clock[0] += 3 * 24 * 3600  # days later, the cached copy is served again
    reader = Client()
    cached = reader.get(article.get_absolute_url())
    assert cached["X-Page-Cache"] == "hit"
    stamp = stamp_in(cached.content.decode())
    assert STAMP_HOLE not in cached.content.decode()
    assert _shown_at(stamp) == clock[0]
    # Posting at once from the cached page is refused as too fast ...
    too_fast = reader.post(post_url(article), form_data(stamp=stamp))
    assert too_fast.status_code == 400 and "That was quick!" in too_fast.content.decode()
    # ... and a reader who takes their time gets through, though the page is days old.
    clock[0] += 30
    assert reader.post(post_url(article), form_data(stamp=stamp)).status_code == 303
    assert Comment.objects.count() == 1


def test_the_refused_page_carries_a_new_stamp(client, article, monkeypatch):
    clock = [1_800_000_000.0]
    monkeypatch.setattr(spam, "now", lambda: clock[0])
    page = client.post(post_url(article), form_data(body="")).content.decode()
    assert _shown_at(stamp_in(page)) == clock[0]


def test_the_stamp_is_a_registered_hole_of_html_responses_only(rf):
    body = f"stamp={STAMP_HOLE}"
    plain = PageCacheMiddleware(lambda request: HttpResponse(body, content_type="text/plain"))(rf.post("/"))
    assert plain.content.decode() == body
    html = HttpResponse(body, content_type="text/html", headers={"Content-Length": str(len(body))})
    page = PageCacheMiddleware(lambda request: html)(rf.post("/"))
    assert STAMP_HOLE not in page.content.decode()
    assert int(page["Content-Length"]) == len(page.content)
