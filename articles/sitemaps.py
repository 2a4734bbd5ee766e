from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse

from .models import Article, Category, Page, Tag


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    limit = 5000

    def items(self):
        return Article.objects.published().only("slug", "updated_at").order_by("-published_at", "-pk")

    def lastmod(self, item: Article):
        return item.updated_at


class PageSitemap(Sitemap):
    priority = 0.5

    def items(self):
        return Page.objects.published().only("slug", "updated_at")

    def lastmod(self, item: Page):
        return item.updated_at


class CategorySitemap(Sitemap):
    priority = 0.4

    def items(self):
        return (
            Category.objects.filter(articles__in=Article.objects.published())
            .annotate(last_update=Max("articles__updated_at"))
            .order_by("order", "name")
        )

    def lastmod(self, item: Category):
        return item.last_update


class TagSitemap(Sitemap):
    priority = 0.3

    def items(self):
        return (
            Tag.objects.filter(articles__in=Article.objects.published())
            .annotate(last_update=Max("articles__updated_at"))
            .order_by("name")
        )

    def lastmod(self, item: Tag):
        return item.last_update


class StaticSitemap(Sitemap):
    priority = 1.0
    changefreq = "daily"

    def items(self):
        return ["articles:home", "articles:archives"]

    def location(self, item: str) -> str:
        return reverse(item)

    def lastmod(self, item: str):
        return Article.objects.published().aggregate(last=Max("updated_at"))["last"]


SITEMAPS = {
    "static": StaticSitemap,
    "articles": ArticleSitemap,
    "pages": PageSitemap,
    "categories": CategorySitemap,
    "tags": TagSitemap,
}
