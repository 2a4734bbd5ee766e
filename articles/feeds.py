"""RSS 2.0 and Atom feeds of the newest published articles.

Every URL in them is built from the configured site URL (``BLOG_SITE_URL``), never from
the request's Host header: feeds are cached whole and read by machines that keep links.
Atom carries the summary in ``<summary>`` and the whole article in ``<content>``; RSS
carries the whole article in ``<description>``. The headings' "#" permalinks are left out,
and the author is their display name (full name, else the user name).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Enclosure
from django.utils.html import escape

from .markdown import without_heading_anchors
from .models import Article
from .selectors import site_settings

FEED_LENGTH = 20
_RELATIVE_URL = re.compile(r'(\s(?:href|src)=")/(?!/)')


def absolute(url: str) -> str:
    """``url`` on the configured site (already absolute URLs, e.g. of a CDN, are kept)."""
    return url if url.startswith(("http://", "https://")) else f"{settings.SITE_URL}{url}"


def feed_content(body_html: str) -> str:
    """An article's HTML for feed readers: absolute links, no heading permalinks."""
    return _RELATIVE_URL.sub(rf"\g<1>{settings.SITE_URL}/", without_heading_anchors(body_html))


def author_display_name(user) -> str:
    return user.get_full_name() or user.get_username()


class FullContentAtom1Feed(Atom1Feed):
    """Atom with the whole article in ``<content type="html">`` beside its ``<summary>``."""

    def add_item_elements(self, handler, item) -> None:
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})


class LatestArticlesFeed(Feed):
    url_name = "articles:rss"

    def title(self) -> str:
        return site_settings().title

    def description(self) -> str:
        return site_settings().description or site_settings().tagline

    def link(self) -> str:
        # The home page in the feed's language (each language has its feeds).
        return absolute(reverse("articles:home"))

    def feed_url(self) -> str:
        return absolute(reverse(self.url_name))

    def items(self):
        # Only the image is joined (a LEFT JOIN, read after the articles): joined to the
        # categories and authors as well, MariaDB may start from one of those and sort
        # every article (tests/test_reader_plans.py). They come in a query each.
        return (
            Article.objects.published()
            .select_related("featured_image")
            .prefetch_related("category", "author", "tags")
            .newest_first()[:FEED_LENGTH]
        )

    def item_title(self, item: Article) -> str:
        return item.title

    def item_link(self, item: Article) -> str:
        return absolute(item.get_absolute_url())

    def item_description(self, item: Article) -> str:
        return feed_content(item.body_html)

    def item_pubdate(self, item: Article):
        return item.published_at

    def item_updateddate(self, item: Article):
        return item.updated_at

    def item_author_name(self, item: Article) -> str:
        return author_display_name(item.author)

    def item_enclosures(self, item: Article) -> list[Enclosure]:
        # The featured image: RSS <enclosure>, Atom <link rel="enclosure">.
        if not item.featured_image_id:
            return []
        media = item.featured_image
        assert media is not None  # featured_image_id is set
        return [Enclosure(absolute(media.url), str(media.size), media.content_type)]

    def item_categories(self, item: Article) -> list[str]:
        return [item.category.name, *(tag.name for tag in item.tags.all())]


class RssFeed(LatestArticlesFeed):
    pass


class AtomFeed(LatestArticlesFeed):
    feed_type = FullContentAtom1Feed
    url_name = "articles:atom"

    def subtitle(self) -> str:
        return self.description()

    def item_description(self, item: Article) -> str:
        # Django writes <summary type="html">: the plain-text summary, escaped as HTML.
        return escape(item.summary)

    def item_extra_kwargs(self, item: Article) -> dict:
        return {"content": feed_content(item.body_html)}
