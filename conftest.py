"""Shared test set-up.

The suite runs twice (see the Makefile): once on the embedded backends (SQLite, file
cache) and once on MariaDB + Redis (``BLOG_TEST_BACKENDS=real``). Tests marked
``real_backends`` are collected only in the real pass, and there the pass fails at once
if MariaDB or Redis cannot be reached: it never skips. ``embedded_only`` tests and
browser tests run in the embedded pass.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

REAL = os.environ.get("BLOG_TEST_BACKENDS") == "real"
# Moves Python's clock this many days ahead for the whole run (``make test-shifted``), so a
# test that only passes near the day it was written fails today rather than next month.
CLOCK_SHIFT_DAYS = int(os.environ.get("BLOG_TEST_CLOCK_SHIFT_DAYS") or 0)


def pytest_configure(config) -> None:
    from django.conf import settings

    if CLOCK_SHIFT_DAYS:
        import time_machine

        # Half past midnight in the site's time zone, so the site's day and UTC's differ (in
        # Asia/Shanghai, UTC+8, it is 16:30 UTC of the day before): a test that reads a day
        # in the wrong zone fails here, not only when CI happens to run in those hours.
        day = (datetime.now(UTC) + timedelta(days=CLOCK_SHIFT_DAYS)).date()
        shifted = datetime.combine(day, time(0, 30), ZoneInfo(settings.TIME_ZONE))
        time_machine.travel(shifted, tick=True).start()

    # Tests do not run collectstatic; the hashed-manifest storage is exercised by the
    # cluster test, which serves a collected tree through gunicorn.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Each page view written as it comes: a test reads the counts right after its requests
    # (the batches of production are tested on their own, in stats/tests/test_counting.py).
    settings.STATS_FLUSH_SECONDS = 0
    if not REAL:
        return

    engine = settings.DATABASES["default"]["ENGINE"]
    backend = settings.CACHES["default"]["BACKEND"]
    if engine != "django.db.backends.mysql" or "redis" not in backend:
        pytest.exit("BLOG_TEST_BACKENDS=real needs DATABASE_URL=mysql://... and REDIS_URL=redis://...", 2)
    import MySQLdb
    import redis

    db = settings.DATABASES["default"]
    try:
        MySQLdb.connect(
            host=db["HOST"] or "127.0.0.1",
            port=int(db["PORT"] or 3306),
            user=db["USER"],
            password=db["PASSWORD"] or "",
        ).close()
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        pytest.exit(f"The real-backend pass cannot reach MariaDB/Redis: {exc!r}", 2)


def pytest_collection_modifyitems(config, items) -> None:
    selected, deselected = [], []
    for item in items:
        wrong_pass = (
            (not REAL and item.get_closest_marker("real_backends"))
            or (REAL and item.get_closest_marker("embedded_only"))
            or (REAL and item.get_closest_marker("browser"))
        )
        (deselected if wrong_pass else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(autouse=True)
def _fresh_cache_and_language(settings):
    """Each test starts with an empty cache (generation, fragments, pages, rate limits), and
    live widgets show the numbers of the moment (tests of their reuse set the max age)."""
    from django.core.cache import cache
    from django.utils import translation

    from blog_project import breaker, caching

    breaker.reset_all()
    caching.forget_process_copies()
    settings.BLOG_LIVE_WIDGET_MAX_AGE = 0
    # Factories create many users; the production hasher would spend most of the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def user(db):
    from articles.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def staff_client(client, db):
    from articles.tests.factories import UserFactory

    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff_user = staff
    return client


pytest_plugins = ["tests.browser"]
