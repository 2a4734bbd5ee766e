"""Extension points through which optional apps plug into the core.

The core imports neither ``comments`` nor ``stats``; those apps register here from their
``AppConfig.ready()``:

- sidebar widget kinds (``register_widget``): a function turning a ``SidebarWidget`` into
  HTML, and the cache scopes its HTML depends on (``blog_project.caching``: the widget is
  cached under their versions). ``live=True`` kinds are rendered per request into a hole
  of the cached page (e.g. today's visitor count); ``shared=True`` says their HTML is the
  same for every reader, so a process reuses it for ``BLOG_LIVE_WIDGET_MAX_AGE`` seconds.
- article page sections (``register_article_section``): a function returning HTML shown
  under the article body (e.g. the comment thread and form). They are part of the cached
  anonymous page, so per-reader parts must be holes (``blog_project.caching.hole``), and
  whatever they show must bump a cache scope when it changes.

- live view counts (``register_live_views``): how many views each article has had
  since its ``view_count`` was last rolled up (today's counters), so pages and the admin
  show the total of the moment.

Per-reader holes themselves are registered with ``blog_project.caching.register_hole``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WidgetKind:
    key: str
    render: Callable[..., str]  # (widget, request) -> HTML
    scopes: tuple[str, ...] = ("articles",)
    live: bool = False
    shared: bool = False


@dataclass(frozen=True)
class ArticleSection:
    key: str
    render: Callable[..., str]  # (article, request) -> HTML
    order: int = 0


_widget_kinds: dict[str, WidgetKind] = {}
_article_sections: dict[str, ArticleSection] = {}


def register_widget(
    key: str,
    render: Callable[..., str],
    *,
    scopes: tuple[str, ...] = ("articles",),
    live: bool = False,
    shared: bool = False,
) -> None:
    _widget_kinds[key] = WidgetKind(key=key, render=render, scopes=scopes, live=live, shared=shared)


def widget_kind(key: str) -> WidgetKind | None:
    return _widget_kinds.get(key)


def register_article_section(key: str, render: Callable[..., str], *, order: int = 0) -> None:
    _article_sections[key] = ArticleSection(key=key, render=render, order=order)


def article_sections() -> list[ArticleSection]:
    return sorted(_article_sections.values(), key=lambda section: section.order)


def render_article_sections(article, request: HttpRequest) -> str:
    return "".join(section.render(article, request) for section in article_sections())


_live_views: Callable[[list[int]], dict[int, int]] | None = None


def register_live_views(read: Callable[[list[int]], dict[int, int]] | None) -> None:
    """``read(article_ids) -> {article_id: views not yet in view_count}``, one call for
    many articles; it may raise (the counters are down): the stored counts are shown."""
    global _live_views
    _live_views = read


def has_live_views() -> bool:
    return _live_views is not None


def live_views(article_ids: list[int]) -> dict[int, int]:
    """Views since the last rollup per article ({} when no app counts them, or on error)."""
    if _live_views is None or not article_ids:
        return {}
    try:
        return _live_views(article_ids)
    except Exception:
        log.warning("Live view counts unavailable; showing the rolled-up ones.", exc_info=True)
        return {}
