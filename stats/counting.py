"""Deciding whether a view is a page view, and counting it: for rendered pages
(``middleware.PageViewMiddleware``) and for pages the page cache answers from its copies
(``PageViewCounter``, registered in ``apps.py``).

Counted views are held in this process's tally and written in batches (``ViewTally``): a
page answered from this process's copy costs no round trip at all (the page cache knows
its copy is current without asking: ``blog_project.caching.watch``), so its view is not
written alone either. The tally is written, summed per key, in one round trip (or one
transaction) at most ``STATS_FLUSH_SECONDS`` later, by a timer thread of the process, and
when the process exits (gunicorn's ``worker_exit``; ``atexit`` for other servers). With
0, each view is written as it comes (the tests). A process killed without warning
(SIGKILL, out of memory) loses the views of its last interval.

Counted: GET requests answered 200 with HTML by a reader page (a view of the ``articles``
namespace other than the feeds). Not counted: the admin, static and media files, feeds,
health checks, HEAD, prefetches and prerenders, bots, logged-in staff. A failure to count
(Redis down, a locked database) is logged without flooding and the page is served.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse

from . import conf
from .backends import View, get_backend
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

    def lost_one(self, exc: Exception, *, count: int = 1) -> None:
        self.lost += count
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


# Written at once past this many views, whatever the interval (a bound on memory).
MOST_HELD = 10_000


class ViewTally:
    def __init__(self) -> None:
        self._empty()
        self._timer_pid = 0
        # A forked child starts empty: the parent writes what it held (else both would).
        os.register_at_fork(after_in_child=self._empty)

    def _empty(self) -> None:
        self._lock = threading.Lock()
        # Held by a flush until its batch is written: the flush at exit waits for the
        # timer's batch on its way instead of letting the process end under it.
        self._flushing = threading.Lock()
        self._views: dict[date, list[View]] = {}
        self._held = 0

    def add(self, reader: Reader, article_id: int | None) -> bool:
        """Count a view: written now, or held for the next flush. False: it was lost."""
        interval = float(conf.get("STATS_FLUSH_SECONDS"))
        view: View = (reader.visitor, article_id)
        if interval <= 0:
            return write(reader.day, [view])
        with self._lock:
            self._views.setdefault(reader.day, []).append(view)
            self._held += 1
            full = self._held >= MOST_HELD
        if self._timer_pid != os.getpid():
            self._start_timer()
        if full:
            self.flush()
        return True

    def flush(self) -> None:
        """Write every view held (from the timer, at exit, or when full)."""
        with self._flushing:
            with self._lock:
                views, self._views, self._held = self._views, {}, 0
            for day, batch in views.items():
                write(day, batch)

    def held(self) -> int:
        return self._held

    def _start_timer(self) -> None:
        # Once per process (gunicorn forks its workers after the app is loaded).
        with self._lock:
            if self._timer_pid == os.getpid():
                return
            self._timer_pid = os.getpid()
        threading.Thread(target=self._run, name="stats-tally", daemon=True).start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            time.sleep(max(0.05, float(conf.get("STATS_FLUSH_SECONDS")) or 1.0))
            if not self._held:
                continue  # an idle process touches neither the database nor Redis
            try:
                # This thread's own database connection: no request cycle closes it when
                # it broke (the database restarted) or outlived CONN_MAX_AGE.
                close_old_connections()
                self.flush()
            except Exception:  # the timer must outlive any error: the next flush tries again
                log.exception("Stats: the held page views could not be written")


def write(day: date, views: list[View]) -> bool:
    try:
        get_backend().record_many(day=day, views=views)
    except Exception as exc:
        losses.lost_one(exc, count=len(views))
        return False
    losses.recovered()
    return True


tally = ViewTally()


def count(reader: Reader, article_id: int | None) -> bool:
    """Count a view (held, or written at once with ``STATS_FLUSH_SECONDS`` 0). False: it
    was lost."""
    return tally.add(reader, article_id)


class PageViewCounter:
    """The page cache's view counter (``blog_project.caching.counting.ViewCounter``)."""

    def count(self, request: HttpRequest, article_id: int | None) -> None:
        try:
            reader = reader_for(request) if is_counted_reader(request) else None
        except Exception:  # a bug here must not cost the reader the page
            log.exception("Stats: could not identify the reader of %s", request.path)
            return
        if reader is not None:
            count(reader, article_id)

    def is_countable_page(self, request: HttpRequest, response: HttpResponse) -> bool:
        return is_countable_page(request, response)
