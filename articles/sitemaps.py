"""Sitemaps: an index (``/sitemap.xml``) of sections of at most 10,000 URLs each, every
public article, category, tag and page listed once per language, each entry with its
``hreflang`` alternates and ``x-default`` (the default language's unprefixed URL), and
``lastmod`` from the time it really changed: an article's or page's last edit, a list's
last change (``Tally`` and ``Tag.list_changed_at``, kept by the writes). No section counts
or sorts a whole table: the article section is sized by the site's tally and read one
index range per page.

Every URL starts with ``BLOG_SITE_URL``, never with the request's Host or scheme: the
index and its sections are stored whole by the page cache and read by crawlers."""

from __future__ import annotations

import functools
from datetime import date, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap

# SitemapIndexItem (the index entries the template reads) is missing from the stubs.
from django.contrib.sitemaps.views import SitemapIndexItem, x_robots_tag  # type: ignore[attr-defined]
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import iri_to_uri
from django.utils.html import escape
from django.utils.http import http_date

from blog_project.languages import hreflang

from . import selectors
from .models import Article, Page, Tag, Tally

# The protocol allows 50,000; 10,000 keeps the render of one section page (after a write)
# well under a second at 100,000 articles.
URLS_PER_SITEMAP = 10_000
_SLUG_MARKER = "slug-marker"


def site_origin() -> tuple[str, str]:
    """(scheme, host and path prefix) of ``BLOG_SITE_URL``, as Django's sitemaps join them."""
    parts = urlsplit(settings.SITE_URL)
    return parts.scheme, parts.netloc + parts.path


class _InEveryLanguage:
    """``items`` (a sequence that slices) as (item, language) pairs, each item once per
    language; sliced without reading more of ``items`` than the page needs, so a section
    page holds URLS_PER_SITEMAP URLs whatever the number of languages."""

    def __init__(self, items, languages: list[str]) -> None:
        self.items = items
        self.languages = languages

    @functools.cached_property
    def _count(self) -> int:
        return self.items.count() if isinstance(self.items, QuerySet) else len(self.items)

    def count(self) -> int:
        return self._count * len(self.languages)

    def __getitem__(self, index: slice) -> list[tuple[object, str]]:
        start, stop, _step = index.indices(self.count())
        width = len(self.languages)
        items = self.items[start // width : -(-stop // width)]
        pairs = [(item, language) for item in items for language in self.languages]
        offset = start - (start // width) * width
        return pairs[offset : offset + (stop - start)]


class LanguageSitemap(Sitemap):
    """A section listing each item in every language, with the hreflang alternates."""

    i18n = True
    alternates = True
    x_default = True
    limit = URLS_PER_SITEMAP

    def base_items(self):
        """The items, sliceable (a queryset or a list): the paginator slices them."""
        return self.items()

    @property
    def paginator(self) -> Paginator:
        # Paginator needs count() and slices, not the len() and iteration the stubs ask for;
        # _languages(), _location() and _get() are Sitemap's own helpers (not in the stubs).
        return Paginator(
            _InEveryLanguage(self.base_items(), self._languages()),  # type: ignore[arg-type, attr-defined]
            self.limit,
        )

    def get_urls(self, page=1, site=None, protocol=None) -> list[dict]:
        """Django's entries (``location``, ``lastmod``, ``alternates``, ...) on the
        configured origin, whatever Host or X-Forwarded-Proto the request carried. Each
        item's URL in each language is reversed once for its entries and alternates (Django
        reverses four per entry), and x-default is the default language's URL (Django cuts
        "/<code>/" out of it, which here would cut a slug spelled "en")."""
        scheme, domain = site_origin()
        origin = f"{scheme}://{domain}"
        languages = self._languages()  # type: ignore[attr-defined]
        urls, lastmods = [], []
        item, locations = None, {}
        for entry in self.paginator.page(page).object_list:
            if entry[0] is not item:
                item = entry[0]
                locations = {
                    code: origin + self._location((item, code))  # type: ignore[attr-defined]
                    for code in languages
                }
                alternates = [
                    {"location": locations[code], "lang_code": hreflang(code)} for code in languages
                ]
                if settings.LANGUAGE_CODE in locations:
                    alternates.append(
                        {"location": locations[settings.LANGUAGE_CODE], "lang_code": "x-default"}
                    )
            lastmod = self._get("lastmod", entry)  # type: ignore[attr-defined]
            lastmods.append(lastmod)
            priority = self._get("priority", entry)  # type: ignore[attr-defined]
            urls.append(
                {
                    "item": entry,
                    "location": locations[entry[1]],
                    "lastmod": lastmod,
                    "changefreq": self._get("changefreq", entry),  # type: ignore[attr-defined]
                    "priority": str(priority if priority is not None else ""),
                    "alternates": alternates,
                }
            )
        if lastmods and all(lastmod is not None for lastmod in lastmods):
            self.latest_lastmod = max(lastmods)
        return urls


@functools.cache
def _article_path(language: str) -> str:
    return reverse("articles:detail", args=[_SLUG_MARKER])


class ArticleSitemap(LanguageSitemap):
    changefreq = "weekly"
    priority = 0.8

    def base_items(self) -> selectors.ArticleList:
        def fetch(offset: int, limit: int) -> list[Article]:
            ids = _public_ids_in_order(offset, limit)
            found = Article.objects.published().only("slug", "updated_at").in_bulk(ids)
            return [found[pk] for pk in ids if pk in found]

        return selectors.ArticleList(selectors.public_counts().articles, fetch)

    def items(self):
        return Article.objects.published().only("slug", "updated_at").order_by("published_at", "pk")

    def location(self, item: Article) -> str:
        # reverse() once per language, not 10,000 times a page: the pattern with a marker.
        return _article_path(translation.get_language()).replace(_SLUG_MARKER, iri_to_uri(item.slug))

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


class PageSitemap(LanguageSitemap):
    priority = 0.5

    def items(self):
        return Page.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, item: Page):
        return item.updated_at


class CategorySitemap(LanguageSitemap):
    """Visible categories with public articles (their children's included)."""

    priority = 0.4

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


class TagSitemap(LanguageSitemap):
    priority = 0.3

    def items(self):
        scheduled = selectors.public_counts().scheduled_tags
        tags = Tag.objects.filter(published_count__gt=0).order_by("pk")
        if not scheduled:
            return tags
        return [tag for tag in tags if tag.published_count > scheduled.get(f"t:{tag.pk}", 0)]

    def lastmod(self, item: Tag):
        return item.list_changed_at


class StaticSitemap(LanguageSitemap):
    priority = 1.0
    changefreq = "daily"

    def items(self):
        return ["articles:home", "articles:archives"]

    def location(self, item: str) -> str:
        return reverse(item)

    def lastmod(self, item: str):
        return self._latest_article_change

    @functools.cached_property
    def _latest_article_change(self):
        # Read once for every item and language the section lists.
        return ArticleSitemap().get_latest_lastmod()


SITEMAPS = {
    "static": StaticSitemap,
    "articles": ArticleSitemap,
    "pages": PageSitemap,
    "categories": CategorySitemap,
    "tags": TagSitemap,
}


@x_robots_tag
def sitemap_index(request: HttpRequest, sitemaps: dict, sitemap_url_name: str) -> TemplateResponse:
    """Django's sitemap index, with every section's URL on ``BLOG_SITE_URL`` (Django's own
    view takes the scheme and host from the request)."""
    scheme, domain = site_origin()
    entries = []
    lastmods = []
    for section, sitemap_class in sitemaps.items():
        sitemap = sitemap_class()
        location = f"{scheme}://{domain}{reverse(sitemap_url_name, kwargs={'section': section})}"
        lastmod = sitemap.get_latest_lastmod()
        lastmods.append(lastmod)
        entries.append(SitemapIndexItem(location, lastmod))
        pages = range(2, sitemap.paginator.num_pages + 1)
        entries += [SitemapIndexItem(f"{location}?p={page}", lastmod) for page in pages]
    # As Django's index: Last-Modified only when every section knows its own.
    known = all(lastmod is not None for lastmod in lastmods) and lastmods
    headers = {"Last-Modified": http_date(max(lastmods).timestamp())} if known else None
    return TemplateResponse(
        request, "sitemap_index.xml", {"sitemaps": entries}, content_type="application/xml", headers=headers
    )


@x_robots_tag
def sitemap_section(request: HttpRequest, sitemaps: dict, section: str) -> HttpResponse:
    """One page (``?p=N``) of a section, as Django's sitemap view answers it, written
    without the template engine: 10,000 entries with their alternates cost the template
    three times what the entries do."""
    if section not in sitemaps:
        raise Http404(f"No sitemap available for section: {section!r}")
    sitemap = sitemaps[section]()
    try:
        urls = sitemap.get_urls(page=request.GET.get("p", 1))
    except (EmptyPage, PageNotAnInteger) as exc:
        raise Http404(f"No page {request.GET.get('p')!r}") from exc
    lastmod = getattr(sitemap, "latest_lastmod", None)
    headers = {"Last-Modified": http_date(lastmod.timestamp())} if isinstance(lastmod, datetime) else None
    return HttpResponse(_urlset(urls), content_type="application/xml", headers=headers)


def _urlset(urls: list[dict]) -> str:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
    ]
    for url in urls:
        parts.append(f"<url><loc>{escape(url['location'])}</loc>")
        if url["lastmod"]:
            parts.append(f"<lastmod>{_day(url['lastmod'])}</lastmod>")
        if url["changefreq"]:
            parts.append(f"<changefreq>{escape(url['changefreq'])}</changefreq>")
        if url["priority"]:
            parts.append(f"<priority>{escape(url['priority'])}</priority>")
        parts.extend(
            f'<xhtml:link rel="alternate" hreflang="{escape(alternate["lang_code"])}" '
            f'href="{escape(alternate["location"])}"/>'
            for alternate in url["alternates"]
        )
        parts.append("</url>")
    parts.append("\n</urlset>\n")
    return "".join(parts)


def _day(value: date) -> str:
    """The day as the template's ``date:"Y-m-d"`` gives it: in the current time zone."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d")
