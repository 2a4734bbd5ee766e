"""Monthly archives in the site's time zone (``listings.archive_timezone``).

Months are computed in Python, when an article is saved (its ``m:YYYY-MM`` list entry),
rather than with the database's time-zone functions: MySQL/MariaDB return NULL for those
unless its time-zone tables are loaded, which an operator can easily miss.
"""

from __future__ import annotations

from datetime import datetime

from .listings import archive_timezone


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The aware start of the month and of the next one; ValueError if out of range."""
    if not (1 <= month <= 12 and 1970 <= year <= 9998):
        raise ValueError("month out of range")
    tz = archive_timezone()
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end
