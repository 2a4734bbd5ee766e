"""The read path's cache (blog_project/caching/): pages answered at the edge in one round
trip, fresh at once after any write, per-reader holes, the language of the URL, page keys
from declared parameters, outages."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from articles import registry
from articles.models import Article, SidebarWidget, SiteSettings
from articles.tests.factories import ArticleFactory, CategoryFactory, PageFactory, TagFactory, WidgetFactory
from blog_project import caching
from blog_project.breaker import breaker
from blog_project.caching import bump, hole, holes, memo, page_generation, stores, versions
from blog_project.caching.pages import Entry, local_pages
from tests.faults import wait_for

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def test_every_relevant_write_bumps_the_generation_on_commit(django_capture_on_commit_callbacks):
    for make in (ArticleFactory, CategoryFactory, TagFactory, lambda: WidgetFactory(kind="tags")):
        before = page_generation()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            make()
        assert callbacks and page_generation() != before


def test_every_page_of_every_list_is_fresh_after_an_edit(client, django_capture_on_commit_callbacks):
    SiteSettings.objects.filter(pk=1).update(posts_per_page=1)
    tag = TagFactory()
    first, second = (
        ArticleFactory(title="First one", tags=[tag]),
        ArticleFactory(title="Second one", tags=[tag]),
    )
    pages = [
        "/",
        "/?page=2",
        first.category.get_absolute_url(),
        tag.get_absolute_url(),
        f"{tag.get_absolute_url()}?page=2",
        f"/archives/{first.published_at:%Y/%m}/",
        first.get_absolute_url(),
        "/feed/rss/",
    ]
    for url in pages:
        client.get(url)
        assert client.get(url)["X-Page-Cache"] == "hit", url
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
    assert client.get(article.get_absolute_url()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        article.status = Article.Status.DRAFT
        article.save()
    assert "Soon gone" not in client.get("/").content.decode()
    assert client.get(article.get_absolute_url()).status_code == 404


def test_a_scheduled_article_appears_when_its_time_comes_without_any_write(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ArticleFactory(title="Already out")
        later = ArticleFactory(title="Comes later", published_at=timezone.now() + timedelta(minutes=5))
    assert "Comes later" not in client.get("/").content.decode()
    assert client.get("/")["X-Page-Cache"] == "hit"
    assert client.get(later.get_absolute_url()).status_code == 404
    # Nothing is written when its time comes: the generation knows when the next one is due.
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        page = client.get("/")
        assert "Comes later" in page.content.decode() and page["X-Page-Cache"] == "miss"
        assert client.get(later.get_absolute_url()).status_code == 200


def test_the_csrf_token_is_filled_for_a_reader_with_the_cookie_only_and_works(settings):
    article = ArticleFactory()
    url = article.get_absolute_url()
    Client().get(url)  # stores the page
    strict = Client(enforce_csrf_checks=True)
    first = strict.get(url)
    assert first["X-Page-Cache"] == "hit" and not first.cookies
    assert 'name="csrfmiddlewaretoken" value=""' in first.content.decode()
    strict.get("/comments/token/")  # the comment form's script, before a first comment
    secret = strict.cookies["csrftoken"].value
    second = strict.get(url)
    assert strict.cookies["csrftoken"].value == secret, "a returning reader keeps their secret"
    body = second.content.decode()
    assert hole("csrf") not in body
    token = body.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert token
    response = strict.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert strict.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}).status_code == 403


def test_a_malformed_csrf_cookie_is_replaced_and_its_token_works():
    article = ArticleFactory()
    url = article.get_absolute_url()
    Client().get(url)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies["csrftoken"] = "not a secret!"
    for _attempt in range(2):  # never kept for the malformed cookie: replaced each time
        strict.cookies["csrftoken"] = "not a secret!"
        page = strict.get(url)
        fresh = page.cookies["csrftoken"].value
        assert fresh != "not a secret!" and len(fresh) == 32
        token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        response = strict.post(
            "/i18n/setlang/", {"language": "zh-hans", "next": "/", "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302


def test_a_reader_with_a_language_cookie_stays_in_the_page_cache(client):
    ArticleFactory()
    client.get("/")
    client.get("/zh-hans/")
    client.cookies["django_language"] = "zh-hans"  # set by the old switch, ignored now
    english, chinese = client.get("/"), client.get("/zh-hans/")
    assert english["X-Page-Cache"] == "hit" and '<html lang="en">' in english.content.decode()
    assert chinese["X-Page-Cache"] == "hit" and '<html lang="zh-hans">' in chinese.content.decode()


def test_languages_are_cached_apart_by_url_whatever_the_browser_asks(client):
    ArticleFactory()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    chinese = client.get("/zh-hans/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in english.content.decode()
    assert '<html lang="zh-hans">' in chinese.content.decode()
    for accept in ("en", "zh-CN", "ZH-cn", "fr;q=1, zh-TW;q=0.5", ""):
        again = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
        assert again["X-Page-Cache"] == "hit" and again["Content-Language"] == "en", accept
        assert client.get("/zh-hans/", HTTP_ACCEPT_LANGUAGE=accept)["Content-Language"] == "zh-hans"


def test_a_new_reader_gets_no_cookie_and_no_vary_on_cookie_or_language():
    """No cookie at all (the CSRF cookie comes with a first comment); every page without a
    form the same bytes for every reader (no Vary: Cookie / Accept-Language)."""
    tag = TagFactory()
    article = ArticleFactory(tags=[tag])
    page = PageFactory()
    urls = [
        "/",
        article.category.get_absolute_url(),
        tag.get_absolute_url(),
        "/archives/",
        f"/archives/{article.published_at:%Y/%m}/",
        "/search/?q=a",
        page.get_absolute_url(),
    ]
    for url in [*urls, article.get_absolute_url()]:
        for attempt in ("miss", "hit"):
            response = Client().get(url, HTTP_USER_AGENT=BROWSER, HTTP_ACCEPT_LANGUAGE="zh-CN")
            assert response.status_code == 200 and response["X-Page-Cache"] == attempt, url
            vary = response.get("Vary", "")
            assert "Accept-Language" not in vary, url
            assert not response.cookies, url
            if 'method="post"' not in response.content.decode():
                assert "Cookie" not in vary, url
    assert 'method="post"' in Client().get(article.get_absolute_url()).content.decode()


def test_the_language_comes_from_the_url_never_from_headers_or_cookies(client):
    ArticleFactory()
    client.cookies["django_language"] = "zh-hans"
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert '<html lang="en">' in english.content.decode() and english["Content-Language"] == "en"
    again = client.get("/", HTTP_ACCEPT_LANGUAGE="fr")
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    assert again["X-Page-Cache"] == "hit"
    assert token.sub(b"", again.content) == token.sub(b"", english.content), "the same page, tokens aside"


def test_a_prefixed_url_is_its_languages_page_and_cached_apart(client, settings):
    """With i18n_patterns (the default language unprefixed), /zh-hans/... is the Chinese
    page for every reader, hit or miss; the unprefixed one the default language's."""
    ArticleFactory()
    for _ in range(2):
        chinese = client.get("/zh-hans/", HTTP_ACCEPT_LANGUAGE="en")
        assert '<html lang="zh-hans">' in chinese.content.decode(), chinese["X-Page-Cache"]
        english = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")
        assert '<html lang="en">' in english.content.decode()
    assert chinese["X-Page-Cache"] == english["X-Page-Cache"] == "hit"
    assert chinese["Content-Language"] == "zh-hans"
    settings.LANGUAGE_CODE = "zh-hans"  # a deployment whose default is Chinese
    caching.forget_process_copies()
    cache.clear()
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


def test_a_language_prefix_in_another_letter_case_is_no_page_and_no_entry(client, monkeypatch):
    ArticleFactory()
    puts = []
    real = type(stores.store()).put
    monkeypatch.setattr(
        type(stores.store()), "put", lambda self, *args: puts.append(args[0]) or real(self, *args)
    )
    assert client.get("/zh-hans/").status_code == 200
    for variant in ("/ZH-HANS/", "/zh-Hans/", "/zh_hans/"):
        assert client.get(variant).status_code == 404, variant
    assert puts == ["pc:page:/zh-hans/"]


def test_only_the_page_parameters_make_separate_entries(client):
    ArticleFactory()
    client.get("/?utm_source=a")
    assert client.get("/?utm_source=b&x=1")["X-Page-Cache"] == "hit"
    assert client.get("/?page=1")["X-Page-Cache"] == "hit"
    assert client.get("/?page=abc").status_code == 404
    assert client.get("/?page=2").status_code == 404


def test_a_thousand_distinct_queries_the_home_page_does_not_read_make_no_new_entry(client, monkeypatch):
    """The home page reads only ``page``: ``?q=`` shares its entry (and the page rendered
    for the first of them cannot show it to the others)."""
    ArticleFactory()
    puts = []
    real = type(stores.store()).put
    monkeypatch.setattr(
        type(stores.store()), "put", lambda self, *args: puts.append(args[0]) or real(self, *args)
    )
    first = client.get("/?q=<b>first</b>")
    assert first["X-Page-Cache"] == "miss" and b"<b>first</b>" not in first.content
    assert all(client.get(f"/?q=probe{n}")["X-Page-Cache"] == "hit" for n in range(1000))
    assert len(puts) == 1
    assert client.get("/search/?q=probe1")["X-Page-Cache"] == "miss", "the search page reads q"
    assert client.get("/search/?q=probe1&utm=x")["X-Page-Cache"] == "hit"


def test_logged_in_and_message_carrying_requests_are_not_answered_from_the_cache(staff_client):
    reader = Client()
    ArticleFactory()
    reader.get("/")
    assert reader.get("/")["X-Page-Cache"] == "hit"
    assert "X-Page-Cache" not in staff_client.get("/")
    reader.cookies["messages"] = "anything"
    assert "X-Page-Cache" not in reader.get("/")


def test_a_lost_generation_is_recreated_and_nothing_stale_is_served(client):
    ArticleFactory(title="Still here")
    client.get("/")
    cache.clear()
    assert "Still here" in client.get("/").content.decode()


def test_a_stale_copy_in_this_process_is_never_served(client):
    """Another process wrote and bumped: this process's copy of the page is replaced."""
    article = ArticleFactory(title="Old title")
    client.get("/")
    assert client.get("/")["X-Page-Cache"] == "hit"
    Article.objects.filter(pk=article.pk).update(title="New title")
    bump("articles")  # as the other process does on commit
    assert "New title" in client.get("/").content.decode()


def test_a_warm_page_is_at_most_one_round_trip_and_sends_no_page_bytes(client, monkeypatch):
    ArticleFactory()
    client.get("/")  # rendered; the generation started on the way (its answer is not kept)
    client.get("/")  # the generation is known from here on (with Redis)
    lookups = []
    real = type(stores.store()).lookup

    def recording(self, key):
        lookups.append(key is not None)
        return real(self, key)

    monkeypatch.setattr(type(stores.store()), "lookup", recording)
    assert client.get("/")["X-Page-Cache"] == "hit"
    if isinstance(stores.store(), stores.RedisStore):
        assert lookups == [], "bumps are announced: a current copy needs no round trip"
    else:
        assert lookups == [False], "this process holds the page: only the generation is read"
    local_pages.clear()  # another worker process
    lookups.clear()
    assert client.get("/")["X-Page-Cache"] == "hit"
    assert lookups == [True]


def test_live_and_shared_widgets_are_filled_per_request(client, settings, django_capture_on_commit_callbacks):
    calls = []

    def render(widget, request):
        calls.append(request.LANGUAGE_CODE)
        return f"<p>live #{len(calls)}</p>"

    registry.register_widget("test_live", render, live=True)
    registry.register_widget("test_shared", render, live=True, shared=True)
    try:
        SidebarWidget.objects.create(kind="test_live", title="Live")
        assert "live #1" in client.get("/").content.decode()
        second = client.get("/")
        assert second["X-Page-Cache"] == "hit" and "live #2" in second.content.decode()
        SidebarWidget.objects.all().delete()
        with django_capture_on_commit_callbacks(execute=True):
            SidebarWidget.objects.create(kind="test_shared", title="Shared")
        settings.BLOG_LIVE_WIDGET_MAX_AGE = 60
        calls.clear()
        assert "live #1" in client.get("/").content.decode()
        assert "live #1" in client.get("/archives/").content.decode(), "reused for a minute"
        with django_capture_on_commit_callbacks(execute=True):
            ArticleFactory()  # a new generation: rendered again at once
        assert "live #2" in client.get("/").content.decode()
    finally:
        registry._widget_kinds.pop("test_live", None)
        registry._widget_kinds.pop("test_shared", None)


def test_registered_holes_are_filled_and_unknown_ones_vanish(client):
    caching.register_hole("test-hole", lambda request, arg: f"filled-{arg}-for-{request.path}")
    registry.register_widget(
        "test_hole_widget", lambda widget, request: f"<p>{hole('test-hole', 'x')} {hole('no-such-hole')}</p>"
    )
    try:
        SidebarWidget.objects.create(kind="test_hole_widget")
        ArticleFactory()
        for _ in range(2):
            body = client.get("/").content.decode()
            assert "<p>filled-x-for-/ </p>" in body and "<!--hole:" not in body
    finally:
        holes._fillers.pop("test-hole", None)
        registry._widget_kinds.pop("test_hole_widget", None)


def test_a_batch_filler_fills_all_of_a_pages_holes_in_one_call(client, settings):
    """Every hole of a batch filler's name on a page goes to it in ONE call (each arg
    once); with a max age, a process reuses what it filled, and asks only for the rest."""
    calls = []

    def fill(request, args):
        calls.append(list(args))
        return {arg: f"[{arg.upper()}]" for arg in args if arg != "skip"}

    caching.register_hole("test-batch", fill, batch=True)
    marks = " ".join(hole("test-batch", arg) for arg in ["a", "b", "a", "skip"])
    registry.register_widget("test_batch_widget", lambda widget, request: f"<p>{marks}</p>")
    try:
        SidebarWidget.objects.create(kind="test_batch_widget")
        ArticleFactory()
        for response in (client.get("/"), client.get("/")):
            assert "<p>[A] [B] [A] </p>" in response.content.decode()
        assert calls == [["a", "b", "skip"], ["a", "b", "skip"]], "one call per page, every arg once"
        caching.register_hole("test-batch", fill, batch=True, max_age=60)
        calls.clear()
        client.get("/")
        client.get("/")
        assert calls == [["a", "b", "skip"]], "reused for a minute"
        other = f"<p>{hole('test-batch', 'a')} {hole('test-batch', 'c')}</p>"
        registry.register_widget("test_batch_widget", lambda widget, request: other)
        caching.forget_process_copies()
        caching.register_hole("test-batch", fill, batch=True, max_age=60)
        calls.clear()
        cache.clear()
        client.get("/")
        assert calls == [["a", "c"]]
    finally:
        holes._fillers.pop("test-batch", None)
        registry._widget_kinds.pop("test_batch_widget", None)


def test_a_batch_filler_asks_only_for_what_it_does_not_hold(rf):
    calls = []
    caching.register_hole(
        "test-batch",
        lambda request, args: calls.append(args) or dict.fromkeys(args, "x"),
        batch=True,
        max_age=60,
    )
    try:
        first = holes.segments(f"{hole('test-batch', '1')}{hole('test-batch', '2')}".encode())
        second = holes.segments(f"{hole('test-batch', '2')}{hole('test-batch', '3')}".encode())
        request = rf.get("/")
        assert holes.render(request, first, 7) == b"xx"
        assert holes.render(request, second, 7) == b"xx"
        assert holes.render(request, second, 8) == b"xx"  # another generation
        assert calls == [["1", "2"], ["3"], ["2", "3"]]
    finally:
        holes._fillers.pop("test-batch", None)


def test_a_failing_batch_filler_leaves_its_holes_empty(rf, caplog):
    def broken(request, args):
        raise RuntimeError("counters down")

    caching.register_hole("test-batch", broken, batch=True)
    try:
        segments = holes.segments(f"<p>{hole('test-batch', '1')}|{hole('test-batch', '2')}</p>".encode())
        assert holes.render(rf.get("/"), segments, 1) == b"<p>|</p>"
        assert "could not be filled" in caplog.text
    finally:
        holes._fillers.pop("test-batch", None)


def test_a_stored_page_survives_its_round_trip_through_the_store():
    entry = Entry(
        generation=42,
        content_type="text/html; charset=utf-8",
        article_id=7,
        countable=True,
        headers={"Content-Language": "zh-hans"},
        segments=holes.segments(f"<p>a{hole('csrf')}b{hole('widget', '3')}c</p>".encode()),
    )
    loaded = Entry.load(entry.dump())
    assert loaded.segments == (b"<p>a", ("csrf", ""), b"b", ("widget", "3"), b"c</p>")
    assert (loaded.generation, loaded.article_id, loaded.countable, loaded.headers) == (
        42,
        7,
        True,
        {"Content-Language": "zh-hans"},
    )
    assert Entry.load(b"garbage") is None and Entry.load(b"PC1 {not json\n") is None
    assert holes.segments(b"<p><!--hole:unterminated") == (b"<p><!--hole:unterminated",)


@pytest.mark.real_backends
def test_a_dead_redis_costs_one_failure_per_interval_and_pages_still_render(client, settings, caplog):
    """Redis unreachable: every page renders from the database, nothing is stored, and
    the breaker stops asking after the first failure."""
    ArticleFactory(title="Served anyway")
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    try:
        for url in ["/", "/archives/", Article.objects.get().get_absolute_url()]:
            response = client.get(url)
            assert response.status_code == 200, url
        assert "Served anyway" in client.get("/").content.decode()
        assert breaker("redis").failures == 1, "one failed call, then no more until the interval ends"
    finally:
        stores._store_for.cache_clear()


def test_pages_are_gzipped_for_clients_that_accept_it_holes_included(client):
    import gzip

    ArticleFactory(title="Compressed 压缩")
    plain = client.get("/")
    packed = client.get("/", HTTP_ACCEPT_ENCODING="br, gzip;q=0.8")
    assert packed["X-Page-Cache"] == "hit" and packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    body = gzip.decompress(packed.content).decode()
    assert "Compressed 压缩" in body and "<!--hole:" not in body
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", body) == token.sub("", plain.content.decode()), "the same page, tokens aside"
    assert len(packed.content) < len(plain.content) / 2
    refused = client.get("/", HTTP_ACCEPT_ENCODING="gzip;q=0, identity")
    assert "Content-Encoding" not in refused and b"Compressed" in refused.content
    for answer in (packed, refused):  # sent whole with its length, not chunked
        assert answer["X-Page-Cache"] == "hit"
        assert int(answer["Content-Length"]) == len(answer.content)


def test_shared_holes_go_into_the_process_copy_for_their_max_age_and_reader_holes_stay_per_request(
    client, monkeypatch
):
    """Fillings the same for every reader (live counts) are put into this process's copy
    of the page, reused for their max age; per-reader holes are still filled per request;
    gzipped and plain answers carry the same page."""
    import gzip

    clock = [1000.0]
    monkeypatch.setattr(holes.time, "monotonic", lambda: clock[0])
    shared_calls, reader_calls = [], []

    def shared(request, args):
        shared_calls.append(list(args))
        return {arg: f"[shared {arg} #{len(shared_calls)}]" for arg in args}

    def per_reader(request, arg):
        reader_calls.append(arg)
        return f"[reader #{len(reader_calls)}]"

    caching.register_hole("test-shared", shared, batch=True, max_age=60)
    caching.register_hole("test-reader", per_reader)
    marks = f"{hole('test-shared', 'a')} {hole('test-reader')} {hole('test-shared', 'b')}"
    registry.register_widget("test_layer_widget", lambda widget, request: f"<p>{marks}</p>")
    try:
        SidebarWidget.objects.create(kind="test_layer_widget")
        ArticleFactory()
        first = client.get("/").content.decode()
        assert "<p>[shared a #1] [reader #1] [shared b #1]</p>" in first
        plain = client.get("/")
        packed = client.get("/", HTTP_ACCEPT_ENCODING="gzip")
        assert plain["X-Page-Cache"] == packed["X-Page-Cache"] == "hit"
        assert "<p>[shared a #1] [reader #2] [shared b #1]</p>" in plain.content.decode()
        assert "<p>[shared a #1] [reader #3] [shared b #1]</p>" in gzip.decompress(packed.content).decode()
        assert len(shared_calls) == 1, "reused for the max age: no call per request"
        clock[0] += 61
        later = client.get("/", HTTP_ACCEPT_ENCODING="gzip")
        assert "<p>[shared a #2] [reader #4] [shared b #2]</p>" in gzip.decompress(later.content).decode()
        assert shared_calls == [["a", "b"], ["a", "b"]]
    finally:
        holes._fillers.pop("test-shared", None)
        holes._fillers.pop("test-reader", None)
        registry._widget_kinds.pop("test_layer_widget", None)


def test_a_cookie_hole_is_filled_only_for_readers_with_its_cookie(client):
    """A hole registered with a cookie is settled empty in the process copy for readers
    without it (no call per request), and filled per request for those who have it."""
    calls = []

    def remembered(request, arg):
        calls.append(request.COOKIES.get("test_remembered"))
        return f"[hello {request.COOKIES.get('test_remembered', 'nobody')}]"

    caching.register_hole("test-remembered", remembered, cookie="test_remembered")
    marks = f"<p>({hole('test-remembered')})</p>"
    registry.register_widget("test_cookie_widget", lambda widget, request: marks)
    try:
        SidebarWidget.objects.create(kind="test_cookie_widget")
        ArticleFactory()
        for _ in range(3):
            page = client.get("/")
            assert "<p>()</p>" in page.content.decode()
        assert page["X-Page-Cache"] == "hit" and calls == []
        client.cookies["test_remembered"] = "ann"
        for _ in range(2):
            page = client.get("/")
            assert page["X-Page-Cache"] == "hit"
            assert "<p>([hello ann])</p>" in page.content.decode()
        assert calls == ["ann", "ann"], "filled per request for a reader with the cookie"
        del client.cookies["test_remembered"]
        assert "<p>()</p>" in client.get("/").content.decode() and len(calls) == 2
    finally:
        holes._fillers.pop("test-remembered", None)
        registry._widget_kinds.pop("test_cookie_widget", None)


@pytest.mark.real_backends
def test_with_redis_down_a_process_serves_its_fresh_copies_for_a_while(
    client, settings, django_assert_num_queries
):
    ArticleFactory(title="Kept in this process")
    client.get("/")
    assert client.get("/")["X-Page-Cache"] == "hit"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    with django_assert_num_queries(0):
        response = client.get("/")
    assert response.status_code == 200 and b"Kept in this process" in response.content
    settings.BLOG_PAGE_CACHE_OUTAGE_SECONDS = 0  # the grace is over: rendered from the database
    rendered = client.get("/")
    assert rendered.status_code == 200 and "X-Page-Cache" not in rendered
    assert b"Kept in this process" in rendered.content


@pytest.mark.real_backends
def test_a_warm_hit_needs_no_round_trip_and_a_bump_elsewhere_reaches_it(client, settings, monkeypatch):
    """A current copy is answered without asking Redis: bumps are announced on a channel.
    Another process's bump (a new generation and its message, nothing else) makes the next
    request here ask, find its copy stale and render; every view is counted once."""
    import redis
    from django.utils import timezone as tz

    from stats import backends

    settings.STATS_BACKEND, settings.STATS_REDIS_URL = "redis", ""
    article = ArticleFactory(title="Before")
    url = article.get_absolute_url()
    client.get(url, HTTP_USER_AGENT=BROWSER)  # rendered (the generation started on the way)
    assert client.get(url, HTTP_USER_AGENT=BROWSER)["X-Page-Cache"] == "hit"  # now known
    trips = []
    real = stores.roundtrip
    monkeypatch.setattr(stores, "roundtrip", lambda c, cmds: trips.append(cmds) or real(c, cmds))
    assert client.get(url, HTTP_USER_AGENT=BROWSER)["X-Page-Cache"] == "hit"
    assert trips == [], "a current copy, known to be current: no round trip"

    Article.objects.filter(pk=article.pk).update(title="After")
    store = stores.store()
    other_process = redis.Redis.from_url(settings.REDIS_URL)
    other_process.set(store._key(stores.GENERATION), f"{time.time_ns()}:0")
    assert other_process.publish(store.watch.channel, "1") >= 1, "this process is subscribed"
    # PUBLISH answers the publisher before the subscriber's socket need have the message.
    wait_for(lambda: store.watch.known() is None, timeout=10, what="the announcement")
    response = client.get(url, HTTP_USER_AGENT=BROWSER)
    assert response["X-Page-Cache"] == "miss" and b"After" in response.content
    assert len(trips) >= 1
    snapshot = backends.get_backend().snapshot(tz.localdate())
    assert snapshot.site.pv == 4 and snapshot.articles[article.pk].pv == 4


def test_the_versions_are_read_once_per_request_and_again_after_a_bump(monkeypatch):
    """Selectors take no request: the request's memo (opened by the page cache middleware)
    reads the scope versions once, and a bump in the request drops what it read."""
    store_class = type(stores.store())
    real = store_class.scope_versions
    reads = []
    monkeypatch.setattr(store_class, "scope_versions", lambda self: reads.append(1) or real(self))
    versions.versions()
    versions.versions()
    assert len(reads) == 2  # outside a request: every read asks the store
    with memo.request_memo():
        first = versions.versions()
        assert versions.versions() == first
        assert len(reads) == 3
        bump("articles")
        assert versions.versions() != first
        assert len(reads) == 4
    versions.versions()
    assert len(reads) == 5


@pytest.mark.real_backends
def test_views_counted_on_hits_give_each_key_its_expiry(client, settings):
    """Every key of the day expires, including keys lost (a Redis restart) and created
    again by the views of hits."""
    from django.utils import timezone as tz

    from stats import backends

    settings.STATS_BACKEND, settings.STATS_REDIS_URL = "redis", ""
    article = ArticleFactory()
    url = article.get_absolute_url()
    for _ in range(3):
        client.get(url, HTTP_USER_AGENT=BROWSER)
    backend = backends.get_backend()
    day = tz.localdate()
    keys = [backend._key(day, part) for part in ("pv", "uv", "articles", f"auv:{article.pk}")]
    expected = backend.expire_at(day)
    backend.client.delete(*keys)  # lost
    assert client.get(url, HTTP_USER_AGENT=BROWSER)["X-Page-Cache"] == "hit"
    assert client.get(url, HTTP_USER_AGENT=BROWSER)["X-Page-Cache"] == "hit"
    for key in keys:
        assert backend.client.expiretime(key) == expected, key
    snapshot = backend.snapshot(day)
    assert snapshot.site == backends.Figures(2, 1) and snapshot.articles[article.pk] == backends.Figures(2, 1)
