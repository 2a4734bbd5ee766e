"""Article view counts as of now on every page, cached ones included.

A page shows ``view_count`` (the rolled-up total) plus the views counted since the last
rollup (today's counters, through ``registry.live_views``). On a page the count is a
hole, ``<!--hole:views:<id>.<view_count>-->``: every count on a page is read in one call
(a batch filler), and a process reuses what it read for ``BLOG_LIVE_VIEWS_MAX_AGE``
seconds, so a warm page does not gain a round trip per request.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.html import escape
from django.utils.translation import ngettext

from blog_project import caching

from . import registry

HOLE = "views"


def views_text(count: int) -> str:
    return escape(ngettext("%(counter)s view", "%(counter)s views", count) % {"counter": count})


def views_html(article) -> str:
    """The article's view count as it goes into a page (a hole when an app counts views)."""
    if not registry.has_live_views():
        return views_text(article.view_count)
    return caching.hole(HOLE, f"{article.pk}.{article.view_count}")


def _parse(arg: str) -> tuple[int, int] | None:
    pk, _sep, stored = arg.partition(".")
    return (int(pk), int(stored)) if pk.isdigit() and stored.isdigit() else None


def fill_view_counts(request: HttpRequest, args: list[str]) -> dict[str, str]:
    parsed = {arg: found for arg in args if (found := _parse(arg))}
    extra = registry.live_views(sorted({pk for pk, _stored in parsed.values()}))
    return {arg: views_text(stored + extra.get(pk, 0)) for arg, (pk, stored) in parsed.items()}


def live_view_counts(articles) -> dict[int, int]:
    """{pk: rolled-up + live views} for ``articles`` (the admin's lists), in one read."""
    articles = list(articles)
    extra = registry.live_views([article.pk for article in articles])
    return {article.pk: article.view_count + extra.get(article.pk, 0) for article in articles}


def register() -> None:
    caching.register_hole(
        HOLE, fill_view_counts, batch=True, max_age=lambda: settings.BLOG_LIVE_VIEWS_MAX_AGE
    )
