"""Counts page views once the response is decided, pages from the cache included.

It sits near the top of ``MIDDLEWARE`` (right after WhiteNoise), so on the way out it sees
the final response of every request, including a page served whole from the anonymous
page cache, whose decorator restores ``request.viewed_article_id``.

Counted: GET requests answered 200 with HTML by a reader page (a view of the ``articles``
namespace other than the feeds). Not counted: the admin, static and media files, feeds,
health checks, HEAD, prefetches and prerenders, bots, logged-in staff. A failure to count
(Redis down, a locked database) is logged and the page is served as usual.
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from . import conf
from .visitors import is_bot, is_prefetch, visitor_for

log = logging.getLogger(__name__)


def is_counted(request: HttpRequest, response: HttpResponse) -> bool:
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    if not response.get("Content-Type", "").startswith("text/html"):
        return False
    match = request.resolver_match
    if match is None or match.namespace not in conf.get("STATS_COUNTED_NAMESPACES"):
        return False
    if match.url_name in conf.get("STATS_EXCLUDED_URL_NAMES"):
        return False
    if is_prefetch(request) or is_bot(request.headers.get("User-Agent", "")):
        return False
    # Only a visitor with a session can be staff: the check costs no query for the others.
    if not conf.get("STATS_COUNT_STAFF") and settings.SESSION_COOKIE_NAME in request.COOKIES:
        user = getattr(request, "user", None)
        if user is not None and user.is_staff:
            return False
    return True


class LossReport:
    """Logs lost page views without flooding the log: the first failure with its error,
    then one line a minute with the number lost meanwhile."""

    interval = 60.0

    def __init__(self) -> None:
        self.lost = 0
        self.last_report = 0.0

    def lost_one(self, exc: Exception) -> None:
        self.lost += 1
        now = time.monotonic()
        if self.last_report == 0.0 or now - self.last_report >= self.interval:
            log.warning("Stats: %d page view(s) not counted: %r", self.lost, exc)
            self.lost, self.last_report = 0, now

    def recovered(self) -> None:
        if self.lost:
            log.warning("Stats: counting again; %d more page view(s) were not counted.", self.lost)
        self.lost, self.last_report = 0, 0.0


class PageViewMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.losses = LossReport()
        self.checked_day: date | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        try:
            counted = is_counted(request, response)
        except Exception:  # a bug here must not cost the reader the page
            log.exception("Stats: could not decide whether to count %s", request.path)
            return response
        if counted:
            self.count(request, response)
        return response

    def count(self, request: HttpRequest, response: HttpResponse) -> None:
        from .services import page_view_record

        today = timezone.localdate()
        try:
            visitor, new_cookie = visitor_for(request, today)
            article_id = getattr(request, "viewed_article_id", None)
            page_view_record(day=today, visitor=visitor, article_id=article_id)
        except Exception as exc:
            self.losses.lost_one(exc)
            return
        self.losses.recovered()
        if new_cookie:
            response.set_cookie(
                conf.get("STATS_VISITOR_COOKIE"),
                new_cookie,
                max_age=conf.get("STATS_VISITOR_COOKIE_AGE"),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        if self.checked_day != today:
            self.checked_day = today
            self.catch_up(today)

    def catch_up(self, today: date) -> None:
        """Without a broker there is no beat: the first counted view of a day (per process)
        rolls up the finished days if they are not final yet. Once a day, a few queries."""
        if not conf.rollup_on_request():
            return
        from .selectors import filled_through
        from .tasks import rollup_stats

        try:
            final = filled_through()
            if final is None or final < today - timedelta(days=1):
                rollup_stats.delay()
        except Exception:
            log.exception("Stats: the in-process rollup failed; the next day's first view tries again")
