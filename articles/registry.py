"""Extension points through which optional apps plug into the core.

The core imports neither ``comments`` nor ``stats``; those apps register here from their
``AppConfig.ready()``:

- sidebar widget kinds (``register_widget``): the kind's name for editors and readers, a
  function turning a ``SidebarWidget`` into HTML, and the cache scopes its HTML depends
  on (``blog_project.caching``: the widget is cached under their versions). ``live=True``
  kinds are rendered per request into a hole of the cached page (e.g. today's visitor
  count); ``shared=True`` says their HTML is the same for every reader, so a process
  reuses it for ``BLOG_LIVE_WIDGET_MAX_AGE`` seconds.
  The admin offers the registered kinds only; a stored widget whose app is gone is skipped
  on pages and shown as unavailable in the admin.
- article page sections (``register_article_section``): a function returning HTML shown
  under the article body (e.g. the comment thread and form). They are part of the cached
  anonymous page, so per-reader parts must be holes (``blog_project.caching.hole``), and
  whatever they show must bump a cache scope when it changes.
- admin index panels (``register_admin_panel``): a function turning the request into HTML
  shown above the app list on the admin's home (e.g. the comments awaiting moderation);
  it checks the editor's permissions itself.
- site-setting sections (``register_settings_section``): a settings screen of the app's
  own (its admin), linked from the site settings page (e.g. the comment policy).
- counts kept on ``Article`` (``register_article_count``): ``comment_count``,
  ``view_count``; pages show a count only when an installed app keeps it.
- live view counts (``register_live_views``): how many views each article has had
  since its ``view_count`` was last rolled up (today's counters), so pages and the admin
  show the total of the moment.

Per-reader holes themselves are registered with ``blog_project.caching.register_hole``, and
the page-view counter with ``blog_project.caching.register_view_counter``; an app's
middleware and URLs are added by ``blog_project/settings.py`` and ``urls.py`` only when the
app is there (``settings.PLUGINS``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WidgetKind:
    key: str
    label: str | Promise  # the heading when the editor gives none, and the admin's choice
    render: Callable[..., str]  # (widget, request) -> HTML
    scopes: tuple[str, ...] = ("articles",)
    live: bool = False
    shared: bool = False


@dataclass(frozen=True)
class ArticleSection:
    key: str
    render: Callable[..., str]  # (article, request) -> HTML
    order: int = 0


@dataclass(frozen=True)
class AdminPanel:
    key: str
    render: Callable[[HttpRequest], str]
    order: int = 0


@dataclass(frozen=True)
class SettingsSection:
    key: str
    label: str | Promise
    admin_url_name: str  # e.g. "admin:comments_commentsettings_changelist"
    permission: str  # the editor sees the link only with it, e.g. "comments.view_commentsettings"


_widget_kinds: dict[str, WidgetKind] = {}
_article_sections: dict[str, ArticleSection] = {}
_admin_panels: dict[str, AdminPanel] = {}
_settings_sections: dict[str, SettingsSection] = {}


def register_widget(
    key: str,
    render: Callable[..., str],
    *,
    label: str | Promise = "",
    scopes: tuple[str, ...] = ("articles",),
    live: bool = False,
    shared: bool = False,
) -> None:
    """``label``: the kind's name (translated); the key if none is given."""
    _widget_kinds[key] = WidgetKind(
        key=key, label=label or key, render=render, scopes=scopes, live=live, shared=shared
    )


def widget_kind(key: str) -> WidgetKind | None:
    return _widget_kinds.get(key)


def widget_kind_choices() -> list[tuple[str, str]]:
    """(key, name) of every registered kind, in registration order (the core's first)."""
    return [(kind.key, str(kind.label)) for kind in _widget_kinds.values()]


def register_admin_panel(key: str, render: Callable[[HttpRequest], str], *, order: int = 0) -> None:
    _admin_panels[key] = AdminPanel(key=key, render=render, order=order)


def render_admin_panels(request: HttpRequest) -> str:
    panels = sorted(_admin_panels.values(), key=lambda panel: panel.order)
    return "".join(panel.render(request) for panel in panels)


def register_settings_section(
    key: str, *, label: str | Promise, admin_url_name: str, permission: str
) -> None:
    _settings_sections[key] = SettingsSection(
        key=key, label=label, admin_url_name=admin_url_name, permission=permission
    )


def settings_sections(request: HttpRequest) -> list[tuple[str, str]]:
    """(name, admin URL) of the settings screens this editor may see."""
    return [
        (str(section.label), reverse(section.admin_url_name))
        for section in _settings_sections.values()
        if request.user.has_perm(section.permission)
    ]


def register_article_section(key: str, render: Callable[..., str], *, order: int = 0) -> None:
    _article_sections[key] = ArticleSection(key=key, render=render, order=order)


def article_sections() -> list[ArticleSection]:
    return sorted(_article_sections.values(), key=lambda section: section.order)


def render_article_sections(article, request: HttpRequest) -> str:
    return "".join(section.render(article, request) for section in article_sections())


_article_counts: set[str] = set()


def register_article_count(field: str) -> None:
    """``field`` of ``Article`` (``comment_count``, ``view_count``) is kept by this app."""
    _article_counts.add(field)


def is_counted(field: str) -> bool:
    return field in _article_counts


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
