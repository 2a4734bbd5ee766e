"""Sitemaps: an index (``/sitemap.xml``) of sections of at most 10,000 URLs each, every
public article, category, tag and page listed once, with ``lastmod`` from the time it
really changed: an article's or page's last edit, a list's last change (``Tally`` and
``Tag.list_changed_at``, kept by the writes). No section counts or sorts a whole table:
the article section is sized by the site's tally and read one index range per page."""

from __future__ import annotations

import functools

from django.contrib.sitemaps import Sitemap
from django.core.paginator import Paginator
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import iri_to_uri

from . import selectors
from .models import Article, Page, Tag, Tally

# The protocol allows 50,000; 10,000 keeps the render of one section page (after a write)
# well under a second at 100,000 articles.
URLS_PER_SITEMAP = 10_000
_SLUG_MARKER = "slug-marker"


@functools.cache
def _article_path() -> str:
    return reverse("articles:detail", args=[_SLUG_MARKER])


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    limit = URLS_PER_SITEMAP

    @property
    def paginator(self) -> Paginator:
        def fetch(offset: int, limit: int) -> list[Article]:
            ids = _public_ids_in_order(offset, limit)
            found = Article.objects.published().only("slug", "updated_at").in_bulk(ids)
            return [found[pk] for pk in ids if pk in found]

        return Paginator(selectors.ArticleList(selectors.public_counts().articles, fetch), self.limit)

    def items(self):
        return Article.objects.published().only("slug", "updated_at").order_by("published_at", "pk")

    def location(self, item: Article) -> str:
        # reverse() once, not 10,000 times a page: the pattern with a marker for the slug.
        return _article_path().replace(_SLUG_MARKER, iri_to_uri(item.slug))

    def lastmod(self, item: Article):
        return item.updated_at

    def get_latest_lastmod(self):
        return (
            Article.objects.published().order_by("-updated_at").values_list("updated_at", flat=True).first()
        )


# Named: on a late page (most of the table skipped) MariaDB otherwise reads the whole
# table and sorts it, or orders by the one-column status index and sorts.
_INDEX_HINTS = {
    "mysql": "FORCE INDEX (article_admin_status_idx)",
    "sqlite": "INDEXED BY article_admin_status_idx",
}


def _public_ids_in_order(offset: int, limit: int) -> list[int]:
    """A page of public article ids, oldest first, read from the (status, published_at)
    index alone: skipping 90,000 entries of it costs milliseconds."""
    sql = (
        f"SELECT id FROM {Article._meta.db_table} {_INDEX_HINTS.get(connection.vendor, '')} "  # noqa: S608
        "WHERE status = %s AND published_at <= %s ORDER BY published_at, id LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [Article.Status.PUBLISHED, timezone.now(), limit, offset])
        return [row[0] for row in cursor.fetchall()]


class PageSitemap(Sitemap):
    priority = 0.5
    limit = URLS_PER_SITEMAP

    def items(self):
        return Page.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, item: Page):
        return item.updated_at


class CategorySitemap(Sitemap):
    """Visible categories with public articles (their children's included)."""

    priority = 0.4
    limit = URLS_PER_SITEMAP

    def items(self):
        listed = selectors.categories_with_counts()
        changed = dict(
            Tally.objects.filter(key__in=[f"c:{category.pk}" for category, _n in listed]).values_list(
                "key", "changed_at"
            )
        )
        for category, _total in listed:
            category.list_changed_at = changed.get(f"c:{category.pk}")
        return [category for category, _total in listed]

    def lastmod(self, item):
        return item.list_changed_at


class TagSitemap(Sitemap):
    priority = 0.3
    limit = URLS_PER_SITEMAP

    def items(self):
        scheduled = selectors.public_counts().scheduled_tags
        tags = Tag.objects.filter(published_count__gt=0).order_by("pk")
        if not scheduled:
            return tags
        return [tag for tag in tags if tag.published_count > scheduled.get(f"t:{tag.pk}", 0)]

    def lastmod(self, item: Tag):
        return item.list_changed_at


class StaticSitemap(Sitemap):
    priority = 1.0
    changefreq = "daily"

    def items(self):
        return ["articles:home", "articles:archives"]

    def location(self, item: str) -> str:
        return reverse(item)

    def lastmod(self, item: str):
        return ArticleSitemap().get_latest_lastmod()


SITEMAPS = {
    "static": StaticSitemap,
    "articles": ArticleSitemap,
    "pages": PageSitemap,
    "categories": CategorySitemap,
    "tags": TagSitemap,
}
