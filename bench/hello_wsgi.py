"""The blog's WSGI application plus one bench-only route, ``/bench/hello/``.

Django's "hello world" floor for bench/run.sh: a minimal view that returns a small HTML
page through exactly the same settings and middleware stack (security, whitenoise,
sessions, language, CSRF, hole filling, auth, messages, clickjacking) as the real pages,
served by the same gunicorn process and config, so the two are measured side by side. The
app itself has no such route; only this module adds it.

    gunicorn -c deploy/gunicorn.conf.py bench.hello_wsgi:application
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

application = get_wsgi_application()


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><title>Hello</title><p>Hello, world</p>\n", content_type="text/html")


from blog_project import urls as blog_urls  # noqa: E402

urlpatterns = [path("bench/hello/", hello), *blog_urls.urlpatterns]
handler404 = blog_urls.handler404
handler500 = blog_urls.handler500
settings.ROOT_URLCONF = __name__
