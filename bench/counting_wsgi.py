"""The blog's WSGI application, optionally without the page-view counter.

For bench/counting.sh: ``BENCH_COUNTING=off`` removes ``stats.middleware.PageViewMiddleware``
before the application is built, so the same code, settings and gunicorn config serve a
page with and without counting, side by side.

    BENCH_COUNTING=off gunicorn -c deploy/gunicorn.conf.py bench.counting_wsgi:application
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application

COUNTER = "stats.middleware.PageViewMiddleware"

if os.environ.get("BENCH_COUNTING", "on") == "off":
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != COUNTER]

application = get_wsgi_application()
