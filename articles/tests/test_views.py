"""Reader pages: status codes, content, draft/scheduled visibility everywhere, query counts."""

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import registry
from articles.models import Article, SidebarWidget
from articles.tests.factories import (
    ArticleFactory,
    CategoryFactory,
    DraftFactory,
    PageFactory,
    ScheduledFactory,
    TagFactory,
    WidgetFactory,
)
from blog_project.caching import bump, forget_process_copies

pytestmark = pytest.mark.django_db

EVERY_WIDGET = [kind for kind, _label in registry.widget_kind_choices()]  # the apps' kinds too


@pytest.fixture
def world():
    """One published, one draft and one scheduled article sharing category and tag."""
    category = CategoryFactory(name="Tech", slug="tech")
    tag = TagFactory(name="python", slug="python")
    now = timezone.now()
    older = ArticleFactory(
        title="Older public", category=category, tags=[tag], published_at=now - timedelta(days=3)
    )
    public = ArticleFactory(
        title="Public post",
        category=category,
        tags=[tag],
        body="Needle text",
        published_at=now - timedelta(days=2),
    )
    draft = DraftFactory(
        title="Secret draft",
        category=category,
        tags=[tag],
        body="Needle text",
        published_at=now - timedelta(days=1),
    )
    scheduled = ScheduledFactory(title="Future post", category=category, tags=[tag], body="Needle text")
    for kind in EVERY_WIDGET:
        WidgetFactory(kind=kind, body="Example https://example.com" if kind == "links" else "hi")
    return {"public": public, "older": older, "draft": draft, "scheduled": scheduled}


def _public_urls(world):
    public = world["public"]
    month = timezone.localtime(public.published_at)
    return [
        "/",
        "/category/tech/",
        "/tag/python/",
        "/archives/",
        f"/archives/{month.year}/{month.month}/",
        "/search/?q=needle",
        "/feed/rss/",
        "/feed/atom/",
        "/sitemap.xml",
        public.get_absolute_url(),
        world["older"].get_absolute_url(),
    ]


def test_drafts_and_scheduled_never_leak(client, world):
    for url in _public_urls(world):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "Secret draft" not in body and "Future post" not in body, url
        assert world["draft"].slug not in body and world["scheduled"].slug not in body, url


@pytest.mark.django_db(transaction=True)  # MariaDB's full-text index reads committed rows
def test_public_article_appears_on_lists_feeds_and_search(client, world):
    for url in [
        "/",
        "/category/tech/",
        "/tag/python/",
        "/search/?q=needle",
        "/feed/rss/",
        "/sitemap-articles.xml",
    ]:
        assert world["public"].slug in client.get(url).content.decode(), url


def test_draft_and_scheduled_urls_are_404_for_readers(client, world):
    assert client.get(world["draft"].get_absolute_url()).status_code == 404
    assert client.get(world["scheduled"].get_absolute_url()).status_code == 404


def test_staff_preview_draft_is_noindex_and_not_cached(staff_client, world):
    response = staff_client.get(world["draft"].get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in body
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]
    assert "X-Page-Cache" not in response


def test_scheduled_article_appears_when_due_without_any_write(client, world):
    due = ScheduledFactory(title="Due soon", published_at=timezone.now() + timedelta(seconds=1))
    first = client.get("/")
    assert "Due soon" not in first.content.decode()
    assert client.get("/")["X-Page-Cache"] == "hit"
    # No write happens; the clock passes the publication time and the stored next-publication
    # time rolls the generation over.
    with time_machine.travel(due.published_at + timedelta(milliseconds=50), tick=False):
        response = client.get("/")
        assert response["X-Page-Cache"] == "miss"
        assert "Due soon" in response.content.decode()


def test_prev_next_and_related_skip_unpublished(client, world):
    body = client.get(world["public"].get_absolute_url()).content.decode()
    assert 'rel="prev"' in body and world["older"].get_absolute_url() in body
    assert 'rel="next"' not in body.split('class="prev-next"')[1].split("</nav>")[0]


def test_article_page_content(client):
    article = ArticleFactory(
        title="Reprinted 转载",
        body="## One\n\ntext\n\n## Two\n\n```python\nx = 1\n```",
        source=Article.Source.REPRINT,
        source_url="https://origin.example/post",
    )
    body = client.get(article.get_absolute_url()).content.decode()
    assert '<h1 class="article-title">Reprinted 转载</h1>' in body
    assert 'href="https://origin.example/post"' in body
    assert 'class="toc"' in body and 'href="#one"' in body
    assert '<span class="hl-n">x</span>' in body
    assert '"@type": "BlogPosting"' in body
    assert f'<link rel="canonical" href="{settings.SITE_URL}/article/' in body  # never the Host
    assert '<meta property="og:type" content="article">' in body


def test_home_pinned_first_then_newest_and_paginated(client):
    from articles.models import SiteSettings

    SiteSettings.objects.filter(pk=1).update(posts_per_page=2)
    pinned = ArticleFactory(
        title="Pinned old", is_pinned=True, published_at=timezone.now() - timedelta(days=30)
    )
    newest = ArticleFactory(title="Newest", published_at=timezone.now() - timedelta(hours=1))
    middle = ArticleFactory(title="Middle", published_at=timezone.now() - timedelta(days=2))
    first = client.get("/").content.decode()
    assert first.index(pinned.title) < first.index(newest.title)
    assert middle.title not in first
    second = client.get("/?page=2")
    assert second.status_code == 200 and middle.title in second.content.decode()
    for bad in ["?page=3", "?page=0", "?page=abc", "?page=99999999999999999999"]:
        assert client.get("/" + bad).status_code == 404, bad


def test_category_page_includes_children(client):
    parent = CategoryFactory(name="Parent", slug="parent")
    child = CategoryFactory(name="Child", slug="child", parent=parent)
    ArticleFactory(title="In child", category=child)
    assert "In child" in client.get("/category/parent/").content.decode()
    nav = client.get("/").content.decode()
    assert 'class="nav-children"' in nav and "/category/child/" in nav


def test_navigation_leaves_out_empty_categories(client):
    used = CategoryFactory(name="Used", slug="used")
    CategoryFactory(name="Empty", slug="empty")
    DraftFactory(category=CategoryFactory(name="Drafts only", slug="drafts-only"))
    ArticleFactory(category=used)
    nav = client.get("/").content.decode().split('<ul class="nav-list">')[1].split("</ul>\n  </nav>")[0]
    assert "/category/used/" in nav
    assert "/category/empty/" not in nav and "/category/drafts-only/" not in nav
    assert "/category/uncategorized/" not in nav


def test_standalone_page_and_navigation(client):
    page = PageFactory(title="About me", slug="about", body="Hello **there**")
    hidden = PageFactory(title="Hidden page", slug="hidden", is_published=False)
    response = client.get("/p/about/")
    assert response.status_code == 200 and "<strong>there</strong>" in response.content.decode()
    assert page.get_absolute_url() in client.get("/").content.decode()
    assert client.get(hidden.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/category/nope/",
        "/tag/nope/",
        "/article/nope/",
        "/p/nope/",
        "/archives/2024/13/",
        "/archives/0/1/",
        "/archives/99999/1/",
        "/no/such/path/",
        "/article/%E4%BD%A0%00/",
    ],
)
def test_missing_things_are_real_404_pages(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_search_page_is_noindex(client):
    assert 'content="noindex, follow"' in client.get("/search/?q=x").content.decode()


def test_robots_txt_and_health(client):
    robots = client.get("/robots.txt")
    assert robots.status_code == 200
    assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in robots.content.decode()
    assert client.get("/healthz").content == b"ok\n"


def test_state_changing_methods_are_refused(client):
    ArticleFactory(slug="x")
    for url in ["/", "/article/x/", "/search/"]:
        assert client.post(url).status_code == 405


def test_sidebar_widgets_render_every_core_kind(client, world):
    body = client.get("/").content.decode()
    for kind in [
        "custom",
        "links",
        "categories",
        "tags",
        "archives",
        "recent_posts",
        "popular_posts",
        "search",
    ]:
        assert f"widget-{kind}" in body, kind
    assert 'href="https://example.com"' in body


def test_a_widget_whose_app_is_gone_is_skipped(client, world):
    """A stored widget of a kind no installed app registers: not shown, nothing breaks."""
    WidgetFactory(kind="gone_app_widget", title="From a removed app")
    answer = client.get("/")
    assert answer.status_code == 200
    assert "From a removed app" not in answer.content.decode()
    assert "widget-gone_app_widget" not in answer.content.decode()


def _make_articles(count):
    tags = [TagFactory() for _ in range(3)]
    category = CategoryFactory()
    for _ in range(count):
        ArticleFactory(category=category, tags=tags)
    return Article.objects.published().first()


@pytest.mark.parametrize(
    "url_of",
    [
        lambda a: "/",
        lambda a: a.get_absolute_url(),
        lambda a: a.category.get_absolute_url(),
        lambda a: "/archives/",
        lambda a: "/search/?q=article",
    ],
)
def test_query_counts_are_flat_and_warm_pages_cost_nothing(client, django_assert_max_num_queries, url_of):
    """After an article is written: at most 10 queries, the same for 3 and 50 articles;
    with the cache emptied (the site structure read again, and the live view counts' read
    of the rollup's high-water mark): at most 13; warm: none."""
    for _ in range(3):
        WidgetFactory(kind=SidebarWidget.Kind.RECENT_POSTS)
    WidgetFactory(kind=SidebarWidget.Kind.TAGS)
    WidgetFactory(kind=SidebarWidget.Kind.CATEGORIES)
    WidgetFactory(kind=SidebarWidget.Kind.ARCHIVES)
    after_write, emptied = [], []
    for total in (3, 50):
        article = _make_articles(total - Article.objects.count())
        url = url_of(article)
        cache.clear()
        # This process's copies too: it knows the generation it last read (nothing was
        # announced since) and would answer its copy without asking, for up to a second.
        forget_process_copies()
        with CaptureQueriesContext(connection) as cold:
            assert client.get(url).status_code == 200
        emptied.append(len(cold))
        assert len(cold) <= 13, [q["sql"] for q in cold.captured_queries]
        bump("articles")  # what saving an article does on commit
        with CaptureQueriesContext(connection) as cold:
            assert client.get(url).status_code == 200
        after_write.append(len(cold))
        assert len(cold) <= 10, [q["sql"] for q in cold.captured_queries]
    assert after_write[0] == after_write[1] and emptied[0] == emptied[1], (after_write, emptied)
    with django_assert_max_num_queries(0):
        assert client.get(url)["X-Page-Cache"] == "hit"


def _every_reader_page(world) -> dict[str, str]:
    PageFactory(title="About me", slug="about", body="Hello")
    article = world["public"]
    month = timezone.localtime(article.published_at)
    return {
        "home": "/",
        "article": article.get_absolute_url(),
        "category": "/category/tech/",
        "tag": "/tag/python/",
        "archives": "/archives/",
        "month": f"/archives/{month.year}/{month.month}/",
        "search": "/search/?q=public",
        "empty search": "/search/",
        "page": "/p/about/",
        "404": "/no/such/page/",
    }


def test_every_page_has_exactly_one_h1(client, world):
    import re

    for name, url in _every_reader_page(world).items():
        body = client.get(url).content.decode()
        assert len(re.findall(r"<h1[\s>]", body)) == 1, name


def test_the_home_pages_h1_is_the_site_title(client, world):
    body = client.get("/").content.decode()
    assert '<h1 class="site-title"><a href="/">' in body
    assert '<h1 class="site-title">' not in client.get("/category/tech/").content.decode()


def test_favicon_and_touch_icon(client):
    """Linked from every page, and answered at the root where browsers look unasked."""
    body = client.get("/").content.decode()
    assert '<link rel="icon" href="/favicon.ico" sizes="48x48">' in body
    assert '<link rel="apple-touch-icon" href="/apple-touch-icon.png">' in body
    assert '<link rel="icon" href="/static/icons/icon.svg" type="image/svg+xml">' in body
    for path, type_prefix in [("/favicon.ico", "image/"), ("/apple-touch-icon.png", "image/png")]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith(type_prefix), response["Content-Type"]
        assert b"".join(response.streaming_content)[:4] in (b"\x00\x00\x01\x00", b"\x89PNG")
    from django.contrib.staticfiles import finders

    assert "<svg" in Path(finders.find("icons/icon.svg")).read_text()


def test_code_styles_load_only_where_code_is_shown(client, world):
    article = world["public"]
    assert "css/pygments.css" in client.get(article.get_absolute_url()).content.decode()
    for url in ["/", "/category/tech/", "/search/?q=public", "/archives/"]:
        assert "css/pygments.css" not in client.get(url).content.decode(), url


def test_search_landmarks_have_distinct_names(client, world):
    """Several search forms on one page (header, search page): each landmark is named."""
    import re

    WidgetFactory(kind=SidebarWidget.Kind.SEARCH)
    for url in ["/", "/search/?q=public", "/no/such/page/"]:
        body = client.get(url).content.decode()
        names = re.findall(r'role="search"(?: aria-label="([^"]*)")?', body)
        assert all(names) and len(names) == len(set(names)), (url, names)


def test_category_counts_mean_the_same_everywhere(client):
    """A category counts its children's public articles: the sidebar, the navigation and
    the category page (its count and the articles it lists, page by page) agree."""
    import re

    from articles.models import SiteSettings

    SiteSettings.objects.filter(pk=1).update(posts_per_page=2)
    parent = CategoryFactory(name="Programming", slug="programming")
    child = CategoryFactory(name="Python", slug="python-cat", parent=parent)
    grandchild = CategoryFactory(name="Django", slug="django-cat", parent=child)
    ArticleFactory(category=parent, title="In parent")
    ArticleFactory(category=child, title="In child")
    ArticleFactory(category=grandchild, title="In grandchild 1")
    ArticleFactory(category=grandchild, title="In grandchild 2")
    DraftFactory(category=child, title="Draft in child")
    ScheduledFactory(category=grandchild, title="Scheduled in grandchild")
    WidgetFactory(kind=SidebarWidget.Kind.CATEGORIES)
    bump("structure")
    home = client.get("/").content.decode()
    sidebar = dict(
        re.findall(r'<a href="/category/([^/]+)/">[^<]+</a> <span class="count">\((\d+)\)</span>', home)
    )
    assert sidebar == {"programming": "4", "python-cat": "3", "django-cat": "2"}
    nav = home.split('<ul class="nav-list">')[1].split("</nav>")[0]
    assert "/category/programming/" in nav and "/category/python-cat/" in nav
    for slug, expected in sidebar.items():
        listed, number = [], 1
        while True:
            response = client.get(f"/category/{slug}/", {"page": number})
            if response.status_code == 404:
                break
            body = response.content.decode()
            assert f'<p class="count list-count">{expected} articles</p>' in body, slug
            listed += re.findall(r'<h2 class="entry-title"><a href="[^"]+">([^<]+)</a>', body)
            number += 1
        assert len(listed) == len(set(listed)) == int(expected), (slug, listed)
        assert not any("Draft" in title or "Scheduled" in title for title in listed)


def test_article_page_shows_reading_time_unless_the_site_turns_it_off(
    client, django_capture_on_commit_callbacks
):
    from articles.models import SiteSettings

    article = ArticleFactory(body="word " * 700)  # 700 words: three minutes
    assert SiteSettings.load().show_reading_time  # on by default
    body = client.get(article.get_absolute_url()).content.decode()
    assert '<p class="reading-time">3 minutes read</p>' in body
    chinese = client.get(f"/zh-hans{article.get_absolute_url()}").content.decode()
    assert '<p class="reading-time">阅读约 3 分钟</p>' in chinese
    site = SiteSettings.load()
    site.show_reading_time = False
    with django_capture_on_commit_callbacks(execute=True):  # the pages' generation bump
        site.save()
    assert 'class="reading-time"' not in client.get(article.get_absolute_url()).content.decode()
