"""The stats app's settings, with their defaults.

Every value can be set in ``blog_project/settings.py`` (the operator-facing ones are read
from environment variables there). Reading them through these functions, at call time,
lets tests override them with pytest-django's ``settings`` fixture.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # "redis" or "database"; empty chooses Redis when REDIS_URL (or STATS_REDIS_URL) is set.
    "STATS_BACKEND": "",
    # A Redis for the counters other than the cache's (empty: the cache's own connection).
    "STATS_REDIS_URL": "",
    # Days the live counters of a finished day are kept (Redis key expiry, database purge):
    # a rollup missed for longer than this cannot catch that day up.
    "STATS_RETENTION_DAYS": 7,
    # Counted views are held in the process and written in batches this often (seconds);
    # 0 writes each view as it comes (stats/counting.py: ViewTally).
    "STATS_FLUSH_SECONDS": 1.0,
    # Seconds before a failed or locked-out rollup task tries again.
    "STATS_ROLLUP_RETRY_SECONDS": 300,
    # Longest a rollup may hold its lock; longer than any rollup, shorter than a day.
    "STATS_LOCK_SECONDS": 30 * 60,
    # Only views of these URL namespaces are page views (the reader pages).
    "STATS_COUNTED_NAMESPACES": ["articles"],
    # ... except these URL names (feeds are not pages).
    "STATS_EXCLUDED_URL_NAMES": ["rss", "atom"],
    # Views by logged-in staff (editors checking their own posts) are not counted.
    "STATS_COUNT_STAFF": False,
    # Without a broker there is no beat: the first counted view of a day rolls up the days
    # before it in-process. None means "when there is no broker" (CELERY_BROKER_URL memory://).
    "STATS_ROLLUP_ON_REQUEST": None,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])


def backend_name() -> str:
    chosen = get("STATS_BACKEND")
    if chosen:
        return chosen
    return "redis" if (getattr(settings, "REDIS_URL", "") or get("STATS_REDIS_URL")) else "database"


def rollup_on_request() -> bool:
    chosen = get("STATS_ROLLUP_ON_REQUEST")
    if chosen is None:
        return str(getattr(settings, "CELERY_BROKER_URL", "memory://")).startswith("memory://")
    return bool(chosen)


def key_prefix() -> str:
    return f"{getattr(settings, 'CACHE_KEY_PREFIX', 'blog')}:stats"
