"""Logging filters."""

from __future__ import annotations

import logging
import time


class VisitorInputFilter(logging.Filter):
    """Django logs a bad Host header, an oversized body or a malformed request at ERROR
    with a traceback (``django.security.*``). Those are a visitor's doing and say nothing is
    wrong with the site: keep them as one WARNING line, without the traceback, so they
    neither flood the log nor look like failures."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info = record.exc_text = None
        record.stack_info = None
        return True


class DatabaseOutageFilter(logging.Filter):
    """While the database is down every request is answered 503 (``blog_project.errors``),
    and Django logs each at ERROR with a traceback (and mails it). One WARNING line a minute
    per process says it instead, with the number answered 503 meanwhile."""

    interval = 60.0

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self.suppressed = 0
        self.last_logged = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        # Imported when first used: this module is loaded while logging is configured,
        # before Django's apps (errors.py renders templates).
        from .errors import is_database_outage

        exc = record.exc_info[1] if record.exc_info else None
        if not is_database_outage(exc):
            return True
        now = time.monotonic()
        if self.last_logged and now - self.last_logged < self.interval:
            self.suppressed += 1
            return False
        record.msg, record.args = (
            "Database unavailable, answering 503: %r (%d more since the last report)",
            (
                exc,
                self.suppressed,
            ),
        )
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info = record.exc_text = None
        self.suppressed, self.last_logged = 0, now
        return True
