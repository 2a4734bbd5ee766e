"""Monthly archives in the site's time zone.

Months are computed in Python rather than with the database's time-zone functions:
MySQL/MariaDB return NULL for those unless its time-zone tables are loaded, which an
operator can easily miss.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from django.utils import timezone


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The aware start of the month and of the next one; ValueError if out of range."""
    if not (1 <= month <= 12 and 1970 <= year <= 9998):
        raise ValueError("month out of range")
    tz = timezone.get_current_timezone()
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def monthly_counts() -> list[tuple[date, int]]:
    """[(first day of month, published articles)], newest first."""
    from .selectors import published_digest

    counts = Counter(
        timezone.localtime(entry.published_at).date().replace(day=1) for entry in published_digest()
    )
    return sorted(counts.items(), reverse=True)


def months_with_counts() -> list[tuple[int, list[tuple[date, int]]]]:
    """The archive index: [(year, [(month, count), ...])], newest first."""
    years: dict[int, list[tuple[date, int]]] = {}
    for month, total in monthly_counts():
        years.setdefault(month.year, []).append((month, total))
    return list(years.items())
