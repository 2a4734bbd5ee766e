"""Extension points through which optional apps plug into the core.

The core imports neither ``comments`` nor ``stats``; those apps register here from their
``AppConfig.ready()``:

- sidebar widget kinds (``register_widget``): a function turning a ``SidebarWidget`` into
  HTML. ``live=True`` kinds are rendered into their hole on every request (e.g. today's
  visitor count); the others are cached with the sidebar under the site generation. A live
  kind whose HTML is the same for every visitor says ``shared=True``: its HTML is then
  reused in the process for ``BLOG_LIVE_WIDGET_MAX_AGE`` seconds, so a busy site renders it
  a few times a second rather than on every page view.
- per-request holes (``register_hole``): a placeholder string that cacheable HTML may
  contain, replaced on every response by ``fill(request)`` (e.g. a signed form time stamp).
  The CSRF token and live widgets are holes of the core itself.
- article page sections (``register_article_section``): a function returning HTML shown
  under the article body (e.g. the comment thread and form). They are part of the cached
  anonymous page, so per-visitor parts must be holes (``{% csrf_hole %}`` for the CSRF
  token) and anything they show must bump the site generation when it changes
  (``articles.cache.bump_generation``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class WidgetKind:
    key: str
    render: Callable[..., str]  # (widget, request) -> HTML
    live: bool = False
    shared: bool = False


@dataclass(frozen=True)
class ArticleSection:
    key: str
    render: Callable[..., str]  # (article, request) -> HTML
    order: int = 0


_widget_kinds: dict[str, WidgetKind] = {}
_holes: dict[str, Callable[[HttpRequest], str]] = {}
_article_sections: dict[str, ArticleSection] = {}


def register_widget(
    key: str, render: Callable[..., str], *, live: bool = False, shared: bool = False
) -> None:
    _widget_kinds[key] = WidgetKind(key=key, render=render, live=live, shared=shared)


def widget_kind(key: str) -> WidgetKind | None:
    return _widget_kinds.get(key)


def register_hole(placeholder: str, fill: Callable[[HttpRequest], str]) -> None:
    _holes[placeholder] = fill


def holes() -> dict[str, Callable[[HttpRequest], str]]:
    return _holes


def register_article_section(key: str, render: Callable[..., str], *, order: int = 0) -> None:
    _article_sections[key] = ArticleSection(key=key, render=render, order=order)


def article_sections() -> list[ArticleSection]:
    return sorted(_article_sections.values(), key=lambda section: section.order)


def render_article_sections(article, request: HttpRequest) -> str:
    return "".join(section.render(article, request) for section in article_sections())
