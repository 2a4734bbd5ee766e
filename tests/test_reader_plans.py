"""What the reader pages cost the database.

On MariaDB (``real_backends``), with a blog of thousands of rows and the statistics a
live site has, so the optimizer plans as at scale: every query a cold reader page runs
(home, article, category, tag, archive, their deep pages, search, feeds, sitemaps) reads
the articles, comments, article-tag, list-entry and search-index tables through an
index, never scanning or sorting them whole (``articles.tests.plans.unindexed_reads``).

On either backend: the search results page, the feeds and the sitemaps cost a few
queries when cold, the same whatever the number of articles, and none when repeated
(all are whole-page cached).
"""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from articles import listings, registry
from articles.models import Article, SidebarWidget
from articles.tests.factories import ArticleFactory, PageFactory, TagFactory, WidgetFactory
from blog_project import caching

BIG_TABLES = {
    "articles_article",
    "comments_comment",
    Article.tags.through._meta.db_table,
    "articles_listentry",
    "articles_articlesearchindex",
}


def _cold_get(client: Client, url: str):
    """The page as the first reader after a restart sees it: nothing cached anywhere (the
    site structure, counts, fragments, the page itself)."""
    cache.clear()
    caching.forget_process_copies()
    return client.get(url)


def _every_widget() -> None:
    for kind, _label in registry.widget_kind_choices():  # the core's and the apps' kinds
        body = "Django https://djangoproject.com" if kind == SidebarWidget.Kind.LINKS else "Custom *text*"
        WidgetFactory(kind=kind, body=body)


# --- MariaDB: plans --------------------------------------------------------------------


def _reader_rows(rows: list[Article]) -> None:
    """What the writes keep beside the articles, which ``bulk_blog``'s bulk inserts skip:
    the list entries and tallies, the tags' and articles' counts, the search index."""
    from articles.fulltext import build_tokens
    from articles.models import ArticleSearchIndex, build_search_text
    from comments.services import _recount

    listings.lists_rebuild()
    _recount(article.pk for article in rows)
    ArticleSearchIndex.objects.bulk_create(
        (
            ArticleSearchIndex(
                article_id=article.pk,
                text=build_search_text(article.title, article.summary, "Body."),
                title_tokens=build_tokens(article.title),
                summary_tokens=build_tokens(article.summary),
                body_tokens=build_tokens("Body."),
                status=article.status,
                published_at=article.published_at,
            )
            for article in rows
        ),
        batch_size=1000,
    )


def _analyze() -> None:
    """Statistics as InnoDB keeps them on a live site (it recounts a table after a tenth of
    it changed): fresh from a bulk load, they would not be, and plans would differ."""
    tables = [*BIG_TABLES, "articles_category", "articles_tag", "auth_user"]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE " + ", ".join(tables))
        cursor.fetchall()


def _problems(client: Client, urls: list[str]) -> list[str]:
    from articles.tests.plans import unindexed_reads

    problems = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = _cold_get(client, url)
        assert response.status_code == 200, url
        problems += [f"{url}: {problem}" for problem in unindexed_reads(queries.captured_queries, BIG_TABLES)]
    return problems


@pytest.mark.real_backends
# Committed rows: MariaDB's full-text index sees no others, and ANALYZE TABLE commits.
@pytest.mark.django_db(transaction=True)
def test_every_reader_page_reads_through_indexes(client, user, settings, monkeypatch):
    from articles import sitemaps
    from articles.tests.plans import bulk_blog, unindexed_reads

    settings.COMMENTS_THREADS_PER_PAGE = 3
    # A section page is a tenth of the articles, as at 100,000 (a page of 10,000 that
    # holds every article is best read whole): 300 articles, each in two languages.
    monkeypatch.setattr(sitemaps.ArticleSitemap, "limit", 600)
    _every_widget()
    PageFactory(slug="about")
    rows = bulk_blog(articles=3000, comments=30000, author=user)  # ten comments an article
    _reader_rows(rows)
    _analyze()
    article = rows[11]  # published, ten threads: four pages of comments
    tag = Article.tags.through.objects.filter(article=article).get().tag
    month = listings.month_key(rows[1000].published_at)[2:].replace("-", "/")
    # Ten articles a page: a category has 300, the tag of article 11 and the month of
    # article 1000 more than 400.
    urls = [
        "/",
        "/?page=40",
        article.get_absolute_url(),
        article.get_absolute_url() + "?page=4",
        article.category.get_absolute_url(),
        article.category.get_absolute_url() + "?page=29",
        tag.get_absolute_url(),
        tag.get_absolute_url() + "?page=40",
        "/archives/",
        f"/archives/{month}/",
        f"/archives/{month}/?page=40",
        "/p/about/",
        # Every title has "plan": the ranking sorts all 2,940 public matches.
        "/search/?q=plan",
        "/search/?q=plan&page=40",
        "/search/?q=plan+article+7",
        "/search/?q=x",  # no token: search.py's fallback, newest first through the index
        "/feed/rss/",
        "/feed/atom/",
        "/sitemap.xml",
        "/sitemap-articles.xml",
        "/sitemap-articles.xml?p=2",
        *(f"/sitemap-{section}.xml" for section in ("static", "pages", "categories", "tags")),
    ]
    problems = _problems(client, urls)
    assert not problems, "\n".join(problems)
    # The full-text index saw the rows: the search read and ranked every match.
    assert "2940 results" in client.get("/search/?q=plan").content.decode()

    known_bad = [
        "SELECT `id` FROM `articles_article` ORDER BY `articles_article`.`summary` LIMIT 50",
        "SELECT COUNT(*) FROM `comments_comment` WHERE `comments_comment`.`author_url` = 'x'",
        "SELECT s.article_id FROM articles_articlesearchindex s WHERE s.text LIKE '%plan%'",
        # The newest articles through their categories: every article sorted.
        "SELECT STRAIGHT_JOIN a.id FROM articles_category c JOIN articles_article a "
        "ON a.category_id = c.id ORDER BY a.published_at DESC LIMIT 20",
    ]
    for sql in known_bad:
        assert unindexed_reads([{"sql": sql}], BIG_TABLES), f"the check sees what is wrong with {sql}"


@pytest.mark.real_backends
@pytest.mark.django_db(transaction=True)
def test_the_last_sitemap_page_reads_through_indexes(client, user, monkeypatch):
    from articles import sitemaps
    from articles.tests.plans import bulk_blog

    monkeypatch.setattr(sitemaps.ArticleSitemap, "limit", 600)  # 300 articles, two languages
    _reader_rows(bulk_blog(articles=3000, comments=0, author=user))
    _analyze()
    problems = _problems(client, ["/sitemap-articles.xml?p=10"])
    assert not problems, "\n".join(problems)
    public = list(Article.objects.published().order_by("published_at", "pk").values_list("slug", flat=True))
    assert len(public) > 2700, "ten pages of 300"
    last_page = client.get("/sitemap-articles.xml?p=10").content.decode()
    in_both_languages = [slug for slug in public[2700:] for _language in ("en", "zh-hans")]
    assert re.findall(r"/article/([^/<]+)/</loc>", last_page) == in_both_languages, "the rest, in order"


# --- embedded backends: query counts -------------------------------------------------------

# (url, cold after a restart, cold after an article was written): every query of the page
# with nothing cached, and with the site structure (settings, widgets, categories, pages)
# still cached but everything about articles stale.
COLD_BUDGETS = [
    ("/search/?q=article", 17, 11),
    ("/search/?q=article&page=2", 17, 11),
    ("/feed/rss/", 9, 4),
    ("/feed/atom/", 9, 4),
    ("/sitemap.xml", 15, 10),
    ("/sitemap-articles.xml", 8, 3),  # the page's ids from the index, then their rows
    ("/sitemap-categories.xml", 7, 2),
    ("/sitemap-tags.xml", 8, 3),
    ("/sitemap-pages.xml", 7, 2),
    ("/sitemap-static.xml", 7, 2),
]


@pytest.mark.django_db(transaction=True)  # search's full-text index (see test_search.py)
@pytest.mark.parametrize(("url", "restarted", "after_write"), COLD_BUDGETS)
def test_search_feeds_and_sitemaps_cost_a_few_queries_cold_and_none_warm(
    client, settings, django_assert_max_num_queries, url, restarted, after_write
):
    """The same few queries for 12 articles and for 40 (no query per article or tag),
    none at all for a repeat: the whole page comes from the cache. A plain client: not
    a counted reader, so only the page's own queries."""
    settings.BLOG_LIVE_WIDGET_MAX_AGE = 60  # the live widgets' numbers are shared a while
    _every_widget()
    PageFactory(slug="about")
    tags = [TagFactory() for _ in range(3)]
    counts = []
    for total in (12, 40):  # search: a second page of 2 results, then of 10
        while Article.objects.count() < total:
            ArticleFactory(tags=tags[: Article.objects.count() % 3 + 1])
        with django_assert_max_num_queries(restarted) as cold:
            assert _cold_get(client, url).status_code == 200
        caching.bump("articles")  # what writing an article does on commit
        with django_assert_max_num_queries(after_write) as stale:
            assert client.get(url)["X-Page-Cache"] == "miss"
        with django_assert_max_num_queries(0):
            assert client.get(url)["X-Page-Cache"] == "hit"
        counts.append((len(cold), len(stale)))
    assert counts[0] == counts[1], counts
