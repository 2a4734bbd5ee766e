"""A forged Host, X-Forwarded-Host or X-Forwarded-Proto sent right after a bump cannot poison
the pages, feeds, sitemaps and robots.txt the page cache then stores: every absolute link
comes from BLOG_SITE_URL (issue 18, item 2). Runs on the real backends too (Redis pages)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from articles.models import MediaFile
from articles.tests.factories import ArticleFactory, TagFactory
from blog_project.caching import page_generation

pytestmark = pytest.mark.django_db

SITE = "http://blog.example.com"
FORGED = {
    "Host: 127.0.0.1:6666": {"HTTP_HOST": "127.0.0.1:6666"},
    "Host: evil.example": {"HTTP_HOST": "evil.example"},
    "X-Forwarded-Host": {"HTTP_X_FORWARDED_HOST": "evil.example:6666"},
    "X-Forwarded-Proto": {"HTTP_X_FORWARDED_PROTO": "https"},
    "all at once": {
        "HTTP_HOST": "127.0.0.1:6666",
        "HTTP_X_FORWARDED_HOST": "evil.example",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_PORT": "6666",
    },
}
TRACES = ("6666", "evil.example", "127.0.0.1", "testserver", "https://blog.example.com")


@pytest.fixture
def permissive(settings):
    """The worst deployment the settings allow: every host accepted (Django ignores the
    port in ALLOWED_HOSTS anyway), forwarded host and scheme believed."""
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["*"]
    settings.USE_X_FORWARDED_HOST = True
    settings.USE_X_FORWARDED_PORT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.fixture
def article(db):
    media = MediaFile.objects.create(file="uploads/cover.png", alt_text="c", width=10, height=10, size=9)
    made = ArticleFactory(title="Forged host", featured_image=media, tags=[TagFactory(slug="t1")])
    made.body = "See [the about page](/p/about/) and ![a figure](/media/uploads/cover.png)."
    made.save()
    return made


def _paths(article) -> list[str]:
    with translation.override("en"):
        article_path, category_path = article.get_absolute_url(), article.category.get_absolute_url()
    return [
        "/",
        "/zh-hans/",
        article_path,
        f"/zh-hans{article_path}",
        category_path,
        "/tag/t1/",
        "/sitemap.xml",
        "/sitemap-articles.xml",
        "/sitemap-static.xml",
        "/feed/rss/",
        "/feed/atom/",
        "/zh-hans/feed/atom/",
        "/robots.txt",
    ]


def _bump(article, django_capture_on_commit_callbacks) -> None:
    """An edit of the article, as the admin saves it: every cached page goes stale."""
    before = page_generation()
    with django_capture_on_commit_callbacks(execute=True):
        article.title = f"{article.title}!"
        article.save()
    assert page_generation() != before


@pytest.mark.parametrize("headers", list(FORGED.values()), ids=list(FORGED))
def test_forged_headers_after_a_bump_leave_no_trace_in_what_is_stored(
    permissive, article, headers, django_capture_on_commit_callbacks
):
    paths = _paths(article)
    _bump(article, django_capture_on_commit_callbacks)
    forger, reader = Client(), Client()
    for path in paths:
        forged = forger.get(path, **headers)
        assert forged.status_code == 200, path
        body = forged.content.decode()
        assert SITE in body, path  # the links are there, on the configured site
        for trace in TRACES:
            assert trace not in body, (path, trace)
    for path in paths:
        stored = reader.get(path)
        body = stored.content.decode()
        if path != "/robots.txt":
            assert stored["X-Page-Cache"] == "hit", path  # the copy the forger caused
        for trace in TRACES:
            assert trace not in body, (path, trace)
            assert trace not in str(stored.headers), (path, trace)


def test_a_host_outside_allowed_hosts_is_refused_and_stores_nothing(settings, article):
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["blog.example.com"]
    forged = Client().get("/", HTTP_HOST="evil.example")
    assert forged.status_code == 400 and "evil.example" not in forged.content.decode()
    assert "evil.example" not in Client().get("/", HTTP_HOST="blog.example.com").content.decode()


def test_production_does_not_believe_a_forwarded_host_by_default(tmp_path):
    """nginx sets Host itself, and no link is built from the host: nothing needs the header."""
    from tests.test_settings import NO_DOTENV_SETUP, _env, _python

    env = _env(tmp_path, DJANGO_ENV="production", DJANGO_SECRET_KEY="x" * 50)
    env.pop("DJANGO_USE_X_FORWARDED_HOST", None)
    result = _python(
        NO_DOTENV_SETUP + "from django.conf import settings; print(settings.USE_X_FORWARDED_HOST)", env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
