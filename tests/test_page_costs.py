"""What a page costs in SQL with every app installed and every widget kind enabled.

DESIGN.md's bars: a cold page (after an edit, every fragment and page stale) costs at most
10 queries, the same whatever the amount of data; a warm one none. The site structure
(settings, widgets, categories, pages) is cached apart and only re-read when an editor
changes it.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from articles import registry
from articles.models import SidebarWidget
from articles.tests.factories import ArticleFactory, CategoryFactory, PageFactory, TagFactory, WidgetFactory
from blog_project.caching import bump
from comments import services as comment_services
from comments.tests.factories import CommentFactory

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}


@pytest.fixture
def full_site(settings):
    settings.COMMENTS_THREADS_PER_PAGE = 5
    for kind, _label in registry.widget_kind_choices():  # the core's and the apps' kinds
        body = "Django https://djangoproject.com" if kind == SidebarWidget.Kind.LINKS else "Custom *text*"
        WidgetFactory(kind=kind, body=body)
    parent = CategoryFactory(name="Programming")
    child = CategoryFactory(name="Python", parent=parent)
    PageFactory(title="About", show_in_nav=True)
    tags = [TagFactory() for _ in range(4)]

    def grow(count: int) -> None:
        for index in range(count):
            ArticleFactory(category=child if index % 2 else parent, tags=tags[: index % 4 + 1])

    return grow


def _page_queries(captured) -> list[str]:
    """The page's own queries: the database counting backend (embedded mode) adds its
    writes for the view, in a savepoint."""
    return [q["sql"] for q in captured if "stats_" not in q["sql"] and "SAVEPOINT" not in q["sql"]]


def _article_with_comments(total: int):
    article = ArticleFactory(tags=[TagFactory()])
    for _ in range(total // 2):
        root = CommentFactory(article=article)
        CommentFactory(article=article, parent=root)
    comment_services._recount([article.pk])
    article.refresh_from_db()
    return article


@pytest.mark.parametrize("page", ["home", "article", "category", "tag", "archive", "page"])
def test_a_cold_page_costs_at_most_10_queries_whatever_the_data(full_site, page):
    reader = Client(**BROWSER)
    counts = []
    for articles, comments in ((3, 2), (40, 30)):
        full_site(articles)
        article = _article_with_comments(comments)
        bump("structure", "articles")  # what those writes do on commit
        url = {
            "home": "/",
            "article": article.get_absolute_url(),
            "category": article.category.get_absolute_url(),
            "tag": article.tags.first().get_absolute_url(),
            "archive": f"/archives/{article.published_at:%Y/%m}/",
            "page": "/p/about/",
        }[page]
        reader.get(url)  # warm everything, then an edit of an article makes it all stale
        bump("articles")
        with CaptureQueriesContext(connection) as cold:
            assert reader.get(url).status_code == 200
        queries = _page_queries(cold.captured_queries)
        assert len(queries) <= 10, queries
        counts.append(len(queries))
        with CaptureQueriesContext(connection) as warm:
            assert reader.get(url)["X-Page-Cache"] == "hit"
        assert not _page_queries(warm.captured_queries)
    assert counts[0] == counts[1], counts


def test_structure_edits_show_at_once_and_other_edits_do_not_reread_it(
    full_site, django_capture_on_commit_callbacks
):
    from articles.models import Category, Page, SiteSettings

    full_site(3)
    reader = Client(**BROWSER)
    assert reader.get("/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        ArticleFactory(title="A new article", category=Category.objects.get(name="Python"))
    with CaptureQueriesContext(connection) as after_article:
        assert "A new article" in reader.get("/").content.decode()
    structure_tables = ("sitesettings", "sidebarwidget", "page", "category")
    reread = [
        q["sql"]
        for q in after_article.captured_queries
        if any(
            f"FROM {quote}articles_{table}{quote}" in q["sql"] for table in structure_tables for quote in '"`'
        )
    ]
    assert not reread, "\n".join(reread)

    edits = [
        (lambda: SiteSettings.objects.get(pk=1), "title", "Renamed blog"),
        (lambda: Category.objects.get(name="Programming"), "name", "Code and more"),
        (lambda: Page.objects.get(title="About"), "title", "About me"),
        (lambda: SidebarWidget.objects.get(kind="custom"), "title", "Custom box"),
    ]
    for load, field, value in edits:
        with django_capture_on_commit_callbacks(execute=True):
            obj = load()
            setattr(obj, field, value)
            obj.save()
        assert value in reader.get("/").content.decode(), value
