"""A gunicorn worker holds the page views it counted (stats/counting.py: ViewTally) and
writes them when it exits (deploy/gunicorn.conf.py: worker_exit): a real server on
MariaDB + Redis, with an interval longer than the test, stopped with SIGTERM."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from articles.tests.factories import ArticleFactory
from stats.backends import Figures, get_backend
from tests.faults import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.real_backends, pytest.mark.django_db(transaction=True)]

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
VIEWS = 7


def _database_url() -> str:
    import urllib.parse

    from django.conf import settings

    db = settings.DATABASES["default"]
    password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"mysql://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        headers = {"Host": "127.0.0.1", "User-Agent": BROWSER, "Accept-Language": "en"}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError):
        return _get(port, "/healthz")[0] == 200
    return False


def test_a_worker_writes_its_held_views_when_it_exits(tmp_path, settings):
    from django.core.cache import cache

    article = ArticleFactory(title="Counted at exit")  # committed: the server sees it
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"BLOG_TEST_BACKENDS", "DJANGO_ENV", "BLOG_VAR_DIR"} and not k.startswith("PYTEST")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="blog_project.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        BLOG_CACHE_PREFIX=settings.CACHE_KEY_PREFIX,  # the same keys: the counters read here
        BLOG_VAR_DIR=str(tmp_path / "var"),
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        STATS_FLUSH_SECONDS="60",  # longer than the test: only the exit writes them
        WEB_CONCURRENCY="1",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_ACCESSLOG="",
        PYTHONPATH=str(ROOT),
    )
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert collected.returncode == 0, collected.stderr[-3000:]
    log_path = tmp_path / "gunicorn.log"
    cache.clear()
    with log_path.open("wb") as log:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        server = subprocess.Popen(
            [gunicorn, "-c", "deploy/gunicorn.conf.py", "blog_project.wsgi"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: _answers(port), timeout=60, what="gunicorn to answer")
        for _ in range(VIEWS):
            status, body = _get(port, article.get_absolute_url())
            assert status == 200 and b"Counted at exit" in body
        backend = get_backend()
        assert backend.snapshot(timezone.localdate()) is None, "held by the worker, not written yet"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0, log_path.read_text(errors="replace")[-3000:]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=20)
    snapshot = backend.snapshot(timezone.localdate())
    assert snapshot is not None, log_path.read_text(errors="replace")[-3000:]
    assert snapshot.site == Figures(pv=VIEWS, uv=1)
    assert snapshot.articles == {article.pk: Figures(pv=VIEWS, uv=1)}
