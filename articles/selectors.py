"""Reads shared by views, widgets, feeds and sitemaps. Every public article read starts
from ``Article.objects.published()``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from .cache import memoize_per_generation, memoize_per_structure
from .models import Article, Category, Page, SidebarWidget, SiteSettings, Tag


@dataclass(frozen=True)
class SiteStructure:
    """What every page shows around its content, apart from article data: read in four
    small queries when an editor changes one of them, then from the cache."""

    settings: SiteSettings
    widgets: list[SidebarWidget]
    categories: list[Category]
    nav_pages: list[Page]


@memoize_per_structure
def site_structure() -> SiteStructure:
    return SiteStructure(
        settings=SiteSettings.load(),
        widgets=list(SidebarWidget.objects.filter(enabled=True)),
        categories=list(Category.objects.order_by("order", "name")),
        nav_pages=list(Page.objects.published().filter(show_in_nav=True).only("title", "slug")),
    )


def site_settings() -> SiteSettings:
    return site_structure().settings


def enabled_widgets() -> list[SidebarWidget]:
    return site_structure().widgets


def all_categories() -> list[Category]:
    return site_structure().categories


def visible_categories() -> list[Category]:
    return [category for category in all_categories() if not category.is_hidden]


def category_by_slug(slug: str) -> Category | None:
    return next((category for category in all_categories() if category.slug == slug), None)


@dataclass(frozen=True)
class DigestEntry:
    pk: int
    title: str
    slug: str
    published_at: datetime
    view_count: int
    category_id: int
    is_pinned: bool
    comment_count: int

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("articles:detail", args=[self.slug])


@memoize_per_generation
def published_digest() -> list[DigestEntry]:
    """A few small columns of every published article, newest first, in one query.

    Feeds the recent, popular, archive and category-count widgets, the navigation, site
    totals and which articles each list page shows, so a cold page costs one query for all
    of them however many widgets there are. Kept in the process per generation; only
    rendered HTML goes to the shared cache.
    """
    rows = (
        Article.objects.published()
        .order_by("-published_at", "-pk")
        .values_list(
            "pk", "title", "slug", "published_at", "view_count", "category_id", "is_pinned", "comment_count"
        )
    )
    return [DigestEntry(*row) for row in rows.iterator(chunk_size=2000)]


def navigation() -> tuple[list[Category], list[Page]]:
    """Top-level visible categories (children attached as ``nav_children``) and nav pages.

    A category with no published article in it or its children is left out, so an
    unused default category does not clutter the menu.
    """
    counts = Counter(entry.category_id for entry in published_digest())
    by_parent: dict[int | None, list[Category]] = {}
    for category in visible_categories():
        by_parent.setdefault(category.parent_id, []).append(category)
    top = []
    for category in by_parent.get(None, []):
        category.nav_children = [child for child in by_parent.get(category.pk, []) if counts[child.pk]]
        if counts[category.pk] or category.nav_children:
            top.append(category)
    return top, site_structure().nav_pages


def category_with_descendants(category: Category) -> list[int]:
    children: dict[int | None, list[int]] = {}
    for other in all_categories():
        children.setdefault(other.parent_id, []).append(other.pk)
    ids, stack = [], [category.pk]
    while stack:
        pk = stack.pop()
        if pk not in ids:
            ids.append(pk)
            stack.extend(children.get(pk, []))
    return ids


def categories_with_counts() -> list[tuple[Category, int]]:
    counts = Counter(entry.category_id for entry in published_digest())
    return [(category, counts[category.pk]) for category in visible_categories() if counts[category.pk]]


def recent_articles(limit: int) -> list[DigestEntry]:
    return published_digest()[:limit]


def popular_articles(limit: int) -> list[DigestEntry]:
    return sorted(published_digest(), key=lambda entry: (-entry.view_count, -entry.published_at.timestamp()))[
        :limit
    ]


def tags_with_counts(limit: int | None = None) -> list[Tag]:
    published = Article.objects.published()
    tags = (
        Tag.objects.annotate(article_total=Count("articles", filter=Q(articles__in=published)))
        .filter(article_total__gt=0)
        .order_by("-article_total", "name")
    )
    return list(tags[:limit] if limit else tags)


@memoize_per_generation
def _digest_positions() -> dict[int, int]:
    return {entry.pk: index for index, entry in enumerate(published_digest())}


def adjacent_articles(article: Article) -> tuple[DigestEntry | None, DigestEntry | None]:
    """(older, newer) neighbours among published articles, from the digest: no query."""
    digest = published_digest()
    index = _digest_positions().get(article.pk)
    if index is None:
        return None, None
    older = digest[index + 1] if index + 1 < len(digest) else None
    newer = digest[index - 1] if index > 0 else None
    return older, newer


def related_articles(article: Article, limit: int = 5) -> list[Article]:
    tag_ids = [tag.pk for tag in article.tags.all()]
    if not tag_ids:
        return list(
            Article.objects.published()
            .filter(category_id=article.category_id)
            .exclude(pk=article.pk)
            .only("title", "slug", "published_at")
            .newest_first()[:limit]
        )
    return list(
        Article.objects.published()
        .filter(tags__in=tag_ids)
        .exclude(pk=article.pk)
        .annotate(shared=Count("tags"))
        .only("title", "slug", "published_at")
        .order_by("-shared", "-published_at")[:limit]
    )
