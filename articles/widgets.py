"""Sidebar widgets: the core kinds, and rendering of the whole sidebar as one fragment."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import get_language

from . import registry, selectors
from .archive import monthly_counts
from .cache import cached_fragment, current_generation
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
    return _template("tags")(widget, request, tags=selectors.tags_with_counts(limit=widget.item_count * 6))


def _archives(widget, request):
    return _template("archives")(widget, request, months=monthly_counts()[: widget.item_count])


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
    for key, render in {
        kinds.CUSTOM: _custom,
        kinds.LINKS: _links,
        kinds.CATEGORIES: _categories,
        kinds.TAGS: _tags,
        kinds.ARCHIVES: _archives,
        kinds.RECENT_POSTS: _recent_posts,
        kinds.POPULAR_POSTS: _popular_posts,
        kinds.SEARCH: _search,
    }.items():
        registry.register_widget(str(key), render)


def _render_widget(widget: SidebarWidget, request: HttpRequest | None) -> str:
    kind = registry.widget_kind(widget.kind)
    if kind is None:  # the app providing this kind is not installed
        return ""
    if kind.live:
        return f"<!--live-widget:{widget.pk}-->"
    return kind.render(widget, request)


def sidebar_html() -> str:
    """All enabled widgets, cached as one fragment; live kinds stay holes."""
    return cached_fragment(
        "sidebar",
        build=lambda: "".join(_render_widget(w, None) for w in selectors.enabled_widgets()),
    )


# (widget id, language, generation) -> (monotonic expiry, HTML) of shared live widgets.
_live_html: dict[tuple[int, str, int], tuple[float, str]] = {}


def render_live_widget(widget_id: int, request: HttpRequest) -> str:
    widget = next((w for w in selectors.enabled_widgets() if w.pk == widget_id), None)
    kind = registry.widget_kind(widget.kind) if widget else None
    if kind is None:
        return ""
    max_age = settings.BLOG_LIVE_WIDGET_MAX_AGE
    if not (kind.shared and max_age > 0):
        return kind.render(widget, request)
    key = (widget_id, get_language(), current_generation())
    now = time.monotonic()
    expires, html = _live_html.get(key, (0.0, ""))
    if expires <= now:
        html = kind.render(widget, request)
        for stale in [k for k, (until, _html) in _live_html.items() if until <= now or k[2] != key[2]]:
            del _live_html[stale]
        _live_html[key] = (now + max_age, html)
    return html
