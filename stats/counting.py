"""Deciding whether a view is a page view, and counting it: for rendered pages
(``middleware.PageViewMiddleware``) and for pages the page cache answers, which sends
``PageViewCounter``'s commands (registered in ``apps.py``) in its own round trip.

Counted: GET requests answered 200 with HTML by a reader page (a view of the ``articles``
namespace other than the feeds). Not counted: the admin, static and media files, feeds,
health checks, HEAD, prefetches and prerenders, bots, logged-in staff. A failure to count
(Redis down, a locked database) is logged without flooding and the page is served.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from typing import Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse

from blog_project.caching.stores import IF_CREATED

from . import conf
from .backends import RedisBackend, get_backend
from .visitors import daily_hash, is_bot, is_prefetch

log = logging.getLogger(__name__)


def is_countable_page(request: HttpRequest, response: HttpResponse) -> bool:
    """Is this response, whoever asked for it, a reader's page?"""
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    if not response.get("Content-Type", "").startswith("text/html"):
        return False
    match = request.resolver_match
    if match is None or match.namespace not in conf.get("STATS_COUNTED_NAMESPACES"):
        return False
    return match.url_name not in conf.get("STATS_EXCLUDED_URL_NAMES")


def is_counted_reader(request: HttpRequest) -> bool:
    """Is this reader counted (not a bot, a prefetch or, unless asked, staff)?"""
    if request.method != "GET" or is_prefetch(request) or is_bot(request.META.get("HTTP_USER_AGENT", "")):
        return False
    # Only a visitor with a session can be staff: the check costs no query for the others.
    if settings.SESSION_COOKIE_NAME in request.COOKIES and not conf.get("STATS_COUNT_STAFF"):
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
        self.reset()

    def reset(self) -> None:
        self.lost, self.last_report = 0, 0.0


losses = LossReport()


@dataclass(frozen=True)
class Reader:
    day: date
    visitor: str  # the day's keyed hash (``visitors.daily_hash``)


class _StatsDay:
    """Today in the statistics' time zone (``TIME_ZONE``), as ``timezone.localdate()``
    outside any activated zone, worked out again only when the clock leaves that day (or
    the setting changes): every counted view asks."""

    def __init__(self) -> None:
        self.zone_name = ""
        self.day = date.min
        self.start = self.end = 0.0

    def today(self) -> date:
        now = time.time()
        if self.start <= now < self.end and self.zone_name == settings.TIME_ZONE:
            return self.day
        zone = ZoneInfo(settings.TIME_ZONE)
        day = datetime.fromtimestamp(now, zone).date()
        self.start = datetime.combine(day, dt_time.min, tzinfo=zone).timestamp()
        self.end = datetime.combine(day + timedelta(days=1), dt_time.min, tzinfo=zone).timestamp()
        self.zone_name, self.day = settings.TIME_ZONE, day
        return day


stats_day = _StatsDay()


def reader_for(request: HttpRequest) -> Reader | None:
    """The reader's identity for today, or None when the day's salt cannot be had (the
    counters' store is down: the view is lost, as it could not be counted either)."""
    today = stats_day.today()
    try:
        return Reader(today, daily_hash(request, today))
    except Exception as exc:
        losses.lost_one(exc)
        return None


def count(reader: Reader, article_id: int | None) -> bool:
    try:
        get_backend().record(day=reader.day, visitor=reader.visitor, article_id=article_id)
    except Exception as exc:
        losses.lost_one(exc)
        return False
    losses.recovered()
    return True


class PageViewCounter:
    """The page cache's view counter (``blog_project.caching.counting.ViewCounter``)."""

    def reader(self, request: HttpRequest) -> Reader | None:
        try:
            return reader_for(request) if is_counted_reader(request) else None
        except Exception:  # a bug here must not cost the reader the page
            log.exception("Stats: could not identify the reader of %s", request.path)
            return None

    def __init__(self) -> None:
        self._shared_backend: RedisBackend | Literal[False] | None = False  # False: not looked up yet
        setting_changed.connect(self._forget_backend, weak=False)

    def _forget_backend(self, **kwargs) -> None:
        self._shared_backend = False

    def _backend_in_cache_redis(self) -> RedisBackend | None:
        """The counters' backend if they live in the cache's own Redis (no STATS_REDIS_URL),
        else None; looked up once per process (again when a test changes a setting)."""
        if self._shared_backend is False:
            backend = None if conf.get("STATS_REDIS_URL") else get_backend()
            self._shared_backend = backend if isinstance(backend, RedisBackend) else None
        return self._shared_backend

    def commands(self, reader: Reader, article_id: int | None) -> list[tuple]:
        """Only when the counters live in the cache's own Redis (no STATS_REDIS_URL)."""
        backend = self._backend_in_cache_redis()
        if backend is None:
            return []
        return backend.view_commands(reader.day, reader.visitor, article_id, if_created=IF_CREATED)

    def count(self, reader: Reader, article_id: int | None) -> None:
        count(reader, article_id)

    def is_countable_page(self, request: HttpRequest, response: HttpResponse) -> bool:
        return is_countable_page(request, response)
