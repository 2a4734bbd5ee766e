"""Reads shared by views, widgets, feeds and sitemaps. Every public article read starts
from ``Article.objects.published()``."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Count, Q

from .cache import current_generation
from .models import Article, Category, Page, SidebarWidget, SiteSettings, Tag


def site_settings() -> SiteSettings:
    """The settings row, from the cache while the site generation holds."""
    key = f"obj:{current_generation()}:site-settings"
    settings_row = cache.get(key)
    if settings_row is None:
        settings_row = SiteSettings.load()
        cache.set(key, settings_row)
    return settings_row


def navigation() -> tuple[list[Category], list[Page]]:
    """Top-level visible categories (children attached as ``nav_children``) and nav pages."""
    categories = list(Category.objects.filter(is_hidden=False).order_by("order", "name"))
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)
    top = by_parent.get(None, [])
    for category in top:
        category.nav_children = by_parent.get(category.pk, [])
    pages = list(Page.objects.published().filter(show_in_nav=True).only("title", "slug"))
    return top, pages


def category_with_descendants(category: Category) -> list[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    ids, stack = [], [category.pk]
    while stack:
        pk = stack.pop()
        if pk not in ids:
            ids.append(pk)
            stack.extend(children.get(pk, []))
    return ids


def enabled_widgets() -> list[SidebarWidget]:
    key = f"obj:{current_generation()}:widgets"
    widgets = cache.get(key)
    if widgets is None:
        widgets = list(SidebarWidget.objects.filter(enabled=True))
        cache.set(key, widgets)
    return widgets


def categories_with_counts() -> list[Category]:
    published = Article.objects.published()
    return list(
        Category.objects.filter(is_hidden=False)
        .annotate(article_total=Count("articles", filter=Q(articles__in=published)))
        .filter(article_total__gt=0)
    )


def tags_with_counts(limit: int | None = None) -> list[Tag]:
    published = Article.objects.published()
    tags = (
        Tag.objects.annotate(article_total=Count("articles", filter=Q(articles__in=published)))
        .filter(article_total__gt=0)
        .order_by("-article_total", "name")
    )
    return list(tags[:limit] if limit else tags)


def adjacent_articles(article: Article) -> tuple[Article | None, Article | None]:
    published = Article.objects.published().only("title", "slug", "published_at")
    newer = (
        published.filter(
            Q(published_at__gt=article.published_at) | Q(published_at=article.published_at, pk__gt=article.pk)
        )
        .order_by("published_at", "pk")
        .first()
    )
    older = (
        published.filter(
            Q(published_at__lt=article.published_at) | Q(published_at=article.published_at, pk__lt=article.pk)
        )
        .order_by("-published_at", "-pk")
        .first()
    )
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
