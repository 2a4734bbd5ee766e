"""Versioned page/fragment caching: freshness after writes, per-visitor holes, outages."""

import pytest
from django.core.cache import cache

from articles.cache import (
    CSRF_HOLE,
    GENERATION_KEY,
    NEXT_PUBLICATION_KEY,
    STRUCTURE_KEY,
    bump_generation,
    current_generation,
)
from articles.models import Article, SidebarWidget, SiteSettings
from articles.tests.factories import ArticleFactory, CategoryFactory, TagFactory, WidgetFactory

pytestmark = pytest.mark.django_db


def test_every_relevant_write_bumps_the_generation_on_commit(django_capture_on_commit_callbacks):
    before = current_generation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ArticleFactory()
    assert callbacks and current_generation() != before
    for make in (CategoryFactory, TagFactory, lambda: WidgetFactory(kind="tags")):
        before = current_generation()
        with django_capture_on_commit_callbacks(execute=True):
            make()
        assert current_generation() != before


def test_every_page_of_every_list_is_fresh_after_an_edit(client, django_capture_on_commit_callbacks):
    SiteSettings.objects.filter(pk=1).update(posts_per_page=1)
    first, second = ArticleFactory(title="First one"), ArticleFactory(title="Second one")
    pages = ["/", "/?page=2", first.category.get_absolute_url(), first.get_absolute_url()]
    for url in pages:
        client.get(url)
        assert client.get(url)["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        first.title = "Renamed 改名"
        first.save()
    bodies = "".join(client.get(url).content.decode() for url in pages)
    assert "Renamed 改名" in bodies and "First one" not in bodies
    assert second.title in bodies


def test_site_settings_edit_shows_on_every_page(client, django_capture_on_commit_callbacks):
    article = ArticleFactory()
    client.get("/"), client.get(article.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        settings_row = SiteSettings.load()
        settings_row.title = "Brand new title"
        settings_row.announcement = "**Big news**"
        settings_row.save()
    for url in ["/", article.get_absolute_url(), "/archives/"]:
        body = client.get(url).content.decode()
        assert "Brand new title" in body and "<strong>Big news</strong>" in body, url


def test_unpublishing_removes_the_article_everywhere(client, django_capture_on_commit_callbacks):
    article = ArticleFactory(title="Soon gone")
    assert "Soon gone" in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        article.status = Article.Status.DRAFT
        article.save()
    assert "Soon gone" not in client.get("/").content.decode()
    assert client.get(article.get_absolute_url()).status_code == 404


def test_csrf_token_is_a_hole_filled_per_request(client):
    ArticleFactory()
    first = client.get("/")
    second = client.get("/")
    assert second["X-Page-Cache"] == "hit"
    for response in (first, second):
        body = response.content.decode()
        assert CSRF_HOLE not in body
        assert 'name="csrfmiddlewaretoken" value="' in body
    assert cache.get("page:en:/:1")["generation"] == current_generation()


def test_a_page_of_an_older_generation_is_replaced_in_place(client):
    ArticleFactory()
    client.get("/")
    before = cache.get("page:en:/:1")["generation"]
    bump_generation()
    assert client.get("/")["X-Page-Cache"] == "miss"
    assert cache.get("page:en:/:1")["generation"] not in (None, before)
    assert client.get("/")["X-Page-Cache"] == "hit"


def test_query_strings_other_than_page_share_one_entry(client):
    ArticleFactory()
    client.get("/?utm_source=a")
    assert client.get("/?utm_source=b&x=1")["X-Page-Cache"] == "hit"
    assert client.get("/?page=1")["X-Page-Cache"] == "hit"
    assert client.get("/?page=abc").status_code == 404


def test_cached_page_keeps_a_working_csrf_token(client):
    """The language switch posted from a cached page passes CSRF checks."""
    from django.test import Client

    ArticleFactory()
    strict = Client(enforce_csrf_checks=True)
    strict.get("/")
    body = strict.get("/").content.decode()
    token = body.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = strict.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert strict.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}).status_code == 403


def test_logged_in_and_message_carrying_requests_bypass_the_page_cache(staff_client):
    from django.test import Client

    client = Client()
    ArticleFactory()
    client.get("/")
    assert client.get("/")["X-Page-Cache"] == "hit"
    assert "X-Page-Cache" not in staff_client.get("/")
    client.cookies["messages"] = "anything"
    assert "X-Page-Cache" not in client.get("/")


def test_languages_are_cached_apart(client):
    ArticleFactory()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en">' in english and '<html lang="zh-hans">' in chinese


def test_lost_generation_key_is_recreated(client):
    ArticleFactory(title="Still here")
    client.get("/")
    cache.delete(GENERATION_KEY)
    assert "Still here" in client.get("/").content.decode()


def test_bump_returns_a_new_generation():
    assert bump_generation() != bump_generation()


def test_live_widget_is_rendered_per_request(client):
    from articles import registry

    calls = []

    def render(widget, request):
        calls.append(request.path)
        return f"<p>live #{len(calls)}</p>"

    registry.register_widget("test_live", render, live=True)
    try:
        SidebarWidget.objects.create(kind="test_live", title="Live")
        assert "live #1" in client.get("/").content.decode()
        second = client.get("/")
        assert second["X-Page-Cache"] == "hit" and "live #2" in second.content.decode()
    finally:
        registry._widget_kinds.pop("test_live", None)


def test_shared_live_widgets_are_reused_briefly_per_language_and_generation(
    client, settings, django_capture_on_commit_callbacks
):
    from articles import registry

    settings.BLOG_LIVE_WIDGET_MAX_AGE = 60
    calls = []

    def render(widget, request):
        calls.append(request.LANGUAGE_CODE)
        return f"<p>shared #{len(calls)}</p>"

    registry.register_widget("test_shared", render, live=True, shared=True)
    try:
        SidebarWidget.objects.create(kind="test_shared", title="Shared")
        assert "shared #1" in client.get("/").content.decode()
        assert "shared #1" in client.get("/archives/").content.decode()
        assert "shared #2" in client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            ArticleFactory()  # a new generation: rendered again at once
        assert "shared #3" in client.get("/").content.decode()
        settings.BLOG_LIVE_WIDGET_MAX_AGE = 0
        assert "shared #4" in client.get("/").content.decode()
    finally:
        registry._widget_kinds.pop("test_shared", None)


def test_a_warm_page_is_one_cache_read_with_the_generation(client, monkeypatch):
    """The generation is read once per request, together with the cached page."""
    ArticleFactory()
    client.get("/")  # warm
    reads, depth = [], [0]

    def recording(real):
        def read(keys, *args, **kwargs):
            if not depth[0]:  # the file cache's get_many calls get per key
                reads.append(keys)
            depth[0] += 1
            try:
                return real(keys, *args, **kwargs)
            finally:
                depth[0] -= 1

        return read

    for name in ("get", "get_many"):
        monkeypatch.setattr(cache, name, recording(getattr(cache, name)))
    # As browsers do; without it the site's default language is read first (same generation).
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en")["X-Page-Cache"] == "hit"
    assert reads == [[GENERATION_KEY, NEXT_PUBLICATION_KEY, STRUCTURE_KEY, "page:en:/:1"]]
    reads.clear()
    assert client.get("/archives/").status_code == 200
    assert sum(GENERATION_KEY in keys for keys in reads) == 1
    reads.clear()
    current_generation(), current_generation()  # outside a request: read each time
    assert reads == [[GENERATION_KEY, NEXT_PUBLICATION_KEY, STRUCTURE_KEY]] * 2


@pytest.mark.real_backends
def test_redis_outage_only_slows_pages(client, settings):
    """With Redis unreachable every cache read is a miss: pages are still served."""
    ArticleFactory(title="Served anyway")
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    for url in ["/", "/archives/", Article.objects.get().get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Served anyway" in client.get("/").content.decode()


def test_registered_holes_are_filled_on_cached_pages(client):
    from articles import registry

    registry.register_hole("__test_hole__", lambda request: f"filled-for-{request.path}")
    registry.register_widget("test_hole_widget", lambda widget, request: "<p>__test_hole__</p>")
    try:
        SidebarWidget.objects.create(kind="test_hole_widget")
        ArticleFactory()
        for _ in range(2):
            body = client.get("/").content.decode()
            assert "filled-for-/" in body and "__test_hole__" not in body
    finally:
        registry._holes.pop("__test_hole__", None)
        registry._widget_kinds.pop("test_hole_widget", None)
