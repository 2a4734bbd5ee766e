"""Sidebar widgets: the core kinds, and the sidebar, each widget a fragment cached under
the versions of the scopes it shows (a new comment does not rebuild the archives)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string

from blog_project import caching

from . import registry, selectors
from .models import SidebarWidget


def _template(name: str):
    def render(widget: SidebarWidget, request: HttpRequest | None, **context) -> str:
        return render_to_string(f"articles/widgets/{name}.html", {"widget": widget, **context})

    return render


def _custom(widget, request):
    return _template("custom")(widget, request)


def _links(widget, request):
    return _template("links")(widget, request, links=widget.links())


def _categories(widget, request):
    return _template("categories")(widget, request, categories=selectors.categories_with_counts())


def _tags(widget, request):
    return _template("tags")(widget, request, tags=selectors.top_tags(widget.item_count * 6))


def _archives(widget, request):
    return _template("archives")(widget, request, months=selectors.months_with_counts()[: widget.item_count])


def _recent_posts(widget, request):
    articles = selectors.recent_articles(widget.item_count)
    return _template("article_links")(widget, request, articles=articles)


def _popular_posts(widget, request):
    articles = selectors.popular_articles(widget.item_count)
    return _template("article_links")(widget, request, articles=articles, show_views=True)


def _search(widget, request):
    return _template("search")(widget, request)


def register_core_widgets() -> None:
    kinds = SidebarWidget.Kind
    for key, render, scopes in (
        (kinds.CUSTOM, _custom, ()),
        (kinds.LINKS, _links, ()),
        (kinds.SEARCH, _search, ()),
        (kinds.CATEGORIES, _categories, ("articles",)),
        (kinds.TAGS, _tags, ("articles",)),
        (kinds.ARCHIVES, _archives, ("articles",)),
        (kinds.RECENT_POSTS, _recent_posts, ("articles",)),
        (kinds.POPULAR_POSTS, _popular_posts, ("articles", "stats")),
    ):
        registry.register_widget(str(key), render, label=key.label, scopes=scopes)
    caching.register_hole("widget", _fill_live_widget)
    # Live but the same for every reader (today's visitors): reused briefly per process.
    caching.register_hole(
        "shared-widget", _fill_live_widget, max_age=lambda: settings.BLOG_LIVE_WIDGET_MAX_AGE
    )


def _widget_html(widget: SidebarWidget, request: HttpRequest | None) -> str:
    kind = registry.widget_kind(widget.kind)
    if kind is None:  # the app providing this kind is not installed
        return ""
    if kind.live:
        return caching.hole("shared-widget" if kind.shared else "widget", str(widget.pk))
    return caching.fragment(
        f"widget:{widget.pk}",
        scopes=("structure", *kind.scopes),
        build=lambda: kind.render(widget, request),
    )


def sidebar_html(request: HttpRequest | None = None) -> str:
    return "".join(_widget_html(widget, request) for widget in selectors.enabled_widgets())


def _fill_live_widget(request: HttpRequest, arg: str) -> str:
    widget = next((w for w in selectors.enabled_widgets() if str(w.pk) == arg), None)
    kind = registry.widget_kind(widget.kind) if widget else None
    return kind.render(widget, request) if kind is not None else ""
