"""Counts the page views that were rendered; the page cache (``blog_project.caching``)
has the ones it answers counted with the same rules (``counting``).

It sits below the page cache in ``MIDDLEWARE``, above the session and the view, so it
sees every rendered page's response (before the page cache fills its holes); the page
cache counts only the pages it answers from its copies. No cookie is set: a visitor is
the day's keyed hash (``visitors``).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse

from . import conf
from .counting import count, is_countable_page, is_counted_reader, reader_for
from .selectors import filled_through
from .tasks import rollup_stats

log = logging.getLogger(__name__)


class PageViewMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.checked_day: date | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        try:
            counted = is_countable_page(request, response) and is_counted_reader(request)
            reader = reader_for(request) if counted else None
        except Exception:  # a bug here must not cost the reader the page
            log.exception("Stats: could not decide whether to count %s", request.path)
            return response
        if reader is not None and count(reader, getattr(request, "viewed_article_id", None)):
            self.catch_up(reader.day)
        return response

    def catch_up(self, today: date) -> None:
        """Without a broker there is no beat: the first counted view of a day (per process)
        rolls up the finished days if they are not final yet. Once a day, a few queries."""
        if self.checked_day == today:
            return
        self.checked_day = today
        if not conf.rollup_on_request():
            return
        try:
            final = filled_through()
            if final is None or final < today - timedelta(days=1):
                rollup_stats.delay()
        except Exception:
            log.exception("Stats: the in-process rollup failed; the next day's first view tries again")
