"""RSS 2.0 and Atom feeds of the newest published articles, with absolute URLs."""

from __future__ import annotations

import re

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed, Enclosure

from .models import Article
from .selectors import site_settings

FEED_LENGTH = 20
_RELATIVE_URL = re.compile(r'(\s(?:href|src)=")/(?!/)')


class LatestArticlesFeed(Feed):
    def __call__(self, request, *args, **kwargs):
        self.request = request
        return super().__call__(request, *args, **kwargs)

    def title(self) -> str:
        return site_settings().title

    def description(self) -> str:
        return site_settings().description or site_settings().tagline

    def link(self) -> str:
        return "/"

    def items(self):
        return (
            Article.objects.published()
            .select_related("category", "author", "featured_image")
            .prefetch_related("tags")
            .newest_first()[:FEED_LENGTH]
        )

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        # Full content, with site-relative links made absolute for feed readers.
        base = self.request.build_absolute_uri("/")[:-1]
        return _RELATIVE_URL.sub(rf"\g<1>{base}/", item.body_html)

    def item_pubdate(self, item: Article):
        return item.published_at

    def item_updateddate(self, item: Article):
        return item.updated_at

    def item_author_name(self, item: Article) -> str:
        return item.author.get_full_name() or item.author.get_username()

    def item_enclosures(self, item: Article) -> list[Enclosure]:
        # The featured image: RSS <enclosure>, Atom <link rel="enclosure">.
        if not item.featured_image_id:
            return []
        media = item.featured_image
        return [Enclosure(self.request.build_absolute_uri(media.url), str(media.size), media.content_type)]

    def item_categories(self, item: Article) -> list[str]:
        return [item.category.name, *(tag.name for tag in item.tags.all())]


class RssFeed(LatestArticlesFeed):
    pass


class AtomFeed(LatestArticlesFeed):
    feed_type = Atom1Feed

    def subtitle(self) -> str:
        return self.description()
