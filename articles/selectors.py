"""Reads shared by views, widgets, feeds and sitemaps.

Every public article read starts from ``Article.objects.published()`` (or, for one page
of a long list, from ``ListEntry.objects.public()``, the same rule on copied columns,
followed by ``published()`` for the rows themselves). No read here loads a whole table:
lists are index ranges, counts come from the tallies the writes keep (``listings``), and
each result is cached under the versions of what it depends on (``blog_project.caching``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from blog_project import caching

from .models import Article, Category, ListEntry, Page, SidebarWidget, SiteSettings, Tag, Tally

# --- the site's structure ---------------------------------------------------------------


@dataclass(frozen=True)
class SiteStructure:
    """What every page shows around its content apart from article data: read in four
    small queries after an editor changes one of them, then from the cache."""

    settings: SiteSettings
    widgets: list[SidebarWidget]
    categories: list[Category]
    nav_pages: list[Page]


def _load_structure() -> SiteStructure:
    return SiteStructure(
        settings=SiteSettings.current(),
        widgets=list(SidebarWidget.objects.filter(enabled=True)),
        categories=list(Category.objects.order_by("order", "name")),
        nav_pages=list(Page.objects.published().filter(show_in_nav=True).only("title", "slug")),
    )


def site_structure() -> SiteStructure:
    return caching.value("structure", scopes=("structure",), build=_load_structure)


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


def next_publication_at() -> float:
    """When the next scheduled article comes due (a Unix time; 0: none is scheduled)."""
    upcoming = (
        Article.objects.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    return upcoming.timestamp() if upcoming else 0.0


# --- counts -----------------------------------------------------------------------------


def union_all(parts: list[tuple[str, QuerySet]]) -> list[tuple]:
    """Several small reads in one statement: each ``(label, values_list queryset)`` part
    keeps its own ORDER BY and LIMIT (an index range each); rows come back as
    ``(label, *values)``. The parts' values must have the same number of columns."""
    sql_parts: list[str] = []
    params: list = []
    for label, queryset in parts:
        sql, part_params = queryset.query.sql_with_params()
        sql_parts.append(f"SELECT %s, q{len(sql_parts)}.* FROM ({sql}) q{len(sql_parts)}")  # noqa: S608
        params += [label, *part_params]
    if not sql_parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(sql_parts), params)
        return cursor.fetchall()


@dataclass(frozen=True)
class Counts:
    """Public articles per category (children included) and per month, the site's
    totals, and what to take off tag counts: the tallies the writes keep, less the
    scheduled articles they include."""

    lists: dict[str, int]
    articles: int
    comments: int
    scheduled_tags: dict[str, int]

    def of(self, key: str) -> int:
        return self.lists.get(key, 0)


def _load_counts(due_at: float) -> Counts:
    """One statement: the tallies and, when articles are scheduled (the page generation
    says so), the list entries of those articles, to take off."""
    tallies = Tally.objects.filter(kind__in=("c", "m", "s")).order_by().values_list("key", "count", "count")
    parts: list[tuple[str, QuerySet]] = [("tally", tallies)]
    if due_at:
        scheduled = Article.objects.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())
        entries = ListEntry.objects.filter(article__in=scheduled).order_by()
        parts.append(("scheduled", entries.values_list("list_key", "article_id", "article__comment_count")))
    counted: Counter = Counter()
    scheduled_comments: dict[int, int] = {}
    for label, key, number, comment_count in union_all(parts):
        # int(): MySQL's UNION of signed and unsigned columns answers DECIMAL.
        if label == "tally":
            counted[key] += int(number)
        else:
            counted[key] -= 1
            scheduled_comments[int(number)] = int(comment_count)
    return Counts(
        lists={key: total for key, total in counted.items() if key[0] in "cm" and total > 0},
        articles=max(counted[Tally.SITE_ARTICLES] - len(scheduled_comments), 0),
        comments=max(counted[Tally.SITE_COMMENTS] - sum(scheduled_comments.values()), 0),
        scheduled_tags={key: -total for key, total in counted.items() if key[0] == "t" and total < 0},
    )


def public_counts() -> Counts:
    due_at = caching.next_due()
    return caching.value("counts", scopes=("articles", "comments"), build=lambda: _load_counts(due_at))


def tag_count(tag: Tag) -> int:
    return max(tag.published_count - public_counts().scheduled_tags.get(f"t:{tag.pk}", 0), 0)


def top_tags(limit: int) -> list[tuple[Tag, int]]:
    """The tags with the most public articles: the top of the ``published_count`` index."""
    scheduled = public_counts().scheduled_tags

    def build() -> list[tuple[Tag, int]]:
        rows = Tag.objects.filter(published_count__gt=0).order_by("-published_count", "name")[
            : limit + len(scheduled)
        ]
        counted = [(tag, tag.published_count - scheduled.get(f"t:{tag.pk}", 0)) for tag in rows]
        return sorted([item for item in counted if item[1] > 0], key=lambda item: (-item[1], item[0].name))[
            :limit
        ]

    return caching.value(f"top-tags:{limit}", scopes=("articles",), build=build)


def categories_with_counts() -> list[tuple[Category, int]]:
    """Visible categories with public articles, each counted with its children's."""
    counts = public_counts()
    return [
        (category, counts.of(f"c:{category.pk}"))
        for category in visible_categories()
        if counts.of(f"c:{category.pk}")
    ]


def navigation() -> tuple[list[Category], list[Page]]:
    """Top-level visible categories with public articles (children attached as
    ``nav_children``) and the navigation pages."""
    counts = public_counts()
    by_parent: dict[int | None, list[Category]] = {}
    for category in visible_categories():
        by_parent.setdefault(category.parent_id, []).append(category)
    top = []
    for category in by_parent.get(None, []):
        # Read by the navigation template (a plain attribute on this instance).
        category.nav_children = [  # type: ignore[attr-defined]
            child for child in by_parent.get(category.pk, []) if counts.of(f"c:{child.pk}")
        ]
        if counts.of(f"c:{category.pk}"):
            top.append(category)
    return top, site_structure().nav_pages


def months_with_counts() -> list[tuple[date, int]]:
    """[(first day of the month, public articles)], newest first."""
    counts = public_counts()
    months = [
        (date(int(key[2:6]), int(key[7:9]), 1), total) for key, total in counts.lists.items() if key[0] == "m"
    ]
    return sorted(months, reverse=True)


# --- lists of articles --------------------------------------------------------------------


class ArticleList(Sequence):
    """One list of articles, sized by a count the writes keep: Django's Paginator slices
    it, and only the page asked for is read (an index range)."""

    def __init__(self, total: int, fetch: Callable[[int, int], list]) -> None:
        self.total, self.fetch = total, fetch

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("an ArticleList is read a page at a time")
        start, stop, _step = index.indices(self.total)
        return self.fetch(start, stop - start) if stop > start else []


def home_articles() -> ArticleList:
    """Pinned first, then newest: the page's ids from the home index read backwards from
    its top, then its rows. (Rows and order in one query join the categories, and MariaDB
    may then start from those and sort every article: tests/test_reader_plans.py.)"""

    def fetch(offset: int, limit: int) -> list[Article]:
        ids = list(
            Article.objects.published()
            .order_by("-is_pinned", "-published_at", "-pk")
            .values_list("pk", flat=True)[offset : offset + limit]
        )
        return articles_in_order(ids)

    return ArticleList(public_counts().articles, fetch)


def list_articles(key: str, total: int) -> ArticleList:
    """A category (children included), tag or month list, newest first: the page's ids
    from the list's index range, then its rows."""

    def fetch(offset: int, limit: int) -> list[Article]:
        ids = list(
            ListEntry.objects.public()
            .filter(list_key=key)
            .order_by("-published_at", "-article_id")
            .values_list("article_id", flat=True)[offset : offset + limit]
        )
        return articles_in_order(ids)

    return ArticleList(total, fetch)


def articles_in_order(ids: list[int], *, with_body_html: bool = False) -> list[Article]:
    """The list rows of ``ids``, in that order (still only public ones); search results
    also read their ``body_html`` (for excerpts), in the same query."""
    rows = Article.objects.published().for_list()
    if with_body_html:
        rows = rows.defer(None).defer("body", "toc_html")
    found = rows.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def _widget_limit(kind: str) -> int:
    return max((w.item_count for w in enabled_widgets() if w.kind == kind), default=0)


def _sidebar_articles() -> dict[str, list[Link]]:
    """The recent and the popular articles the sidebar shows, in one statement (each an
    index range), as many as the longest widget of each kind asks for."""

    def build() -> dict[str, list[Link]]:
        fields = ("pk", "title", "slug", "published_at", "view_count")
        public = Article.objects.published()
        recent = _widget_limit(SidebarWidget.Kind.RECENT_POSTS) or 5
        popular = _widget_limit(SidebarWidget.Kind.POPULAR_POSTS) or 5
        parts = [
            ("recent", public.newest_first().values_list(*fields)[:recent]),
            ("popular", public.order_by("-view_count", "-published_at").values_list(*fields)[:popular]),
        ]
        lists: dict[str, list[Link]] = {"recent": [], "popular": []}
        for label, pk, title, slug, published_at, view_count in union_all(parts):
            lists[label].append(Link(int(pk), title, slug, _aware(published_at), int(view_count)))
        return lists

    return caching.value("sidebar-articles", scopes=("articles", "stats", "structure"), build=build)


def recent_articles(limit: int) -> list[Link]:
    return _sidebar_articles()["recent"][:limit]


def popular_articles(limit: int) -> list[Link]:
    return _sidebar_articles()["popular"][:limit]


@dataclass(frozen=True)
class Link:
    """Another article, as a page links to it."""

    pk: int
    title: str
    slug: str
    published_at: datetime
    view_count: int = 0

    def get_absolute_url(self) -> str:
        return reverse("articles:detail", args=[self.slug])


@dataclass(frozen=True)
class Neighbours:
    older: Link | None
    newer: Link | None
    related: list[Link]


RELATED_CANDIDATES = 20
RELATED_TAGS = 8


def neighbours(article: Article, *, related: int = 5) -> Neighbours:
    """The previous and next public articles and the related ones (sharing the most tags,
    newest first among equals, from the newest few of each tag; without tags, the newest
    of the same category), in one statement of index ranges."""
    link = ("pk", "title", "slug", "published_at")
    at, pk = article.published_at, article.pk
    public = Article.objects.published()
    older = public.filter(Q(published_at__lt=at) | Q(published_at=at, pk__lt=pk)).newest_first()
    newer = public.filter(Q(published_at__gt=at) | Q(published_at=at, pk__gt=pk)).order_by(
        "published_at", "pk"
    )
    parts: list[tuple[str, QuerySet]] = [
        ("older", older.values_list(*link)[:1]),
        ("newer", newer.values_list(*link)[:1]),
    ]
    keys = [f"t:{tag.pk}" for tag in article.tags.all()][:RELATED_TAGS] or [f"c:{article.category_id}"]
    for key in keys:
        entries = (
            ListEntry.objects.public()
            .filter(list_key=key, article__status=Article.Status.PUBLISHED)
            .exclude(article_id=pk)
            .order_by("-published_at", "-article_id")
        )
        fields = ("article_id", "article__title", "article__slug", "published_at")
        parts.append(("related", entries.values_list(*fields)[:RELATED_CANDIDATES]))
    found: dict[str, list[Link]] = {"older": [], "newer": [], "related": []}
    for label, pk, title, slug, published_at in union_all(parts):
        found[label].append(Link(int(pk), title, slug, _aware(published_at)))
    shared = Counter(item.pk for item in found["related"])
    unique = {item.pk: item for item in found["related"]}
    ranked = sorted(
        unique.values(), key=lambda item: (-shared[item.pk], -item.published_at.timestamp(), -item.pk)
    )
    return Neighbours(
        older=found["older"][0] if found["older"] else None,
        newer=found["newer"][0] if found["newer"] else None,
        related=ranked[:related],
    )


def _aware(value) -> datetime:
    """A datetime column read through a raw cursor (naive UTC, or text on SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return timezone.make_aware(value, UTC) if timezone.is_naive(value) else value
