"""Faults, reproduced against the real services: a gunicorn server with production
settings (2 workers) on a private redis-server and a private mariadbd that the tests
freeze (SIGSTOP), kill and restart.

- Redis frozen: every page still answers 200; each worker waits for Redis once per
  breaker interval, not once per call; a comment post answers at once and its mail waits
  in the outbox; /readyz says "degraded".
- Redis dead: pages 200 with a handful of log lines, no traceback; the Traffic admin page
  shows the database's figures with a notice; all recovers when Redis is back.
- The mail kept during the outage is sent once the broker is back (nothing lost).
- Database dead: readers get a 503 page with Retry-After (no traceback, one log line per
  worker); /readyz 503, /healthz 200; pages come back with the database.
- Database frozen: a page waits for it once per worker and interval (``read_timeout``),
  the other requests get the 503 page at once; pages come back when it thaws.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from tests.faults import MariaDBServer, RedisServer, SmtpServer, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.real_backends

WORKERS = 2
BREAKER_SECONDS = 2.0
OUTAGE_SECONDS = 2.0  # BLOG_PAGE_CACHE_OUTAGE_SECONDS of the stack
REQUEST_TIMEOUT = 8  # a request that takes longer than this is a hang
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

SEED = """
from django.contrib.auth import get_user_model
from articles.models import Article, Category, SidebarWidget
for kind in ("site_stats", "recent_comments", "recent_posts", "tags"):
    SidebarWidget.objects.create(kind=kind, title=kind)
admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "fault-pass-123")
news = Category.objects.create(name="Faults", slug="faults")
for n in range(3):
    Article.objects.create(title=f"Fault article {n}", slug=f"fault-{n}", body=f"# Body {n}\\n\\ntext",
                           category=news, author=admin, status=Article.Status.PUBLISHED)
"""


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


@dataclass
class Stack:
    port: int
    redis: RedisServer
    db: MariaDBServer
    smtp: SmtpServer
    env: dict
    log_path: Path
    cookies: dict = field(default_factory=dict)

    def request(self, path: str, *, method: str = "GET", form: dict | None = None, headers=None) -> Response:
        all_headers = {
            "Host": "127.0.0.1",
            "User-Agent": BROWSER,
            "Accept-Language": "en",
            "X-Forwarded-Proto": "https",  # as nginx says for a TLS terminator in front
            **(headers or {}),
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            method = "POST"
            body = urllib.parse.urlencode(form).encode()
            all_headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": "https://127.0.0.1",
                    "Referer": f"https://127.0.0.1{path}",
                }
            )
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=all_headers)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request(path, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def comments(self) -> list[str]:
        return self.db.sql("SELECT status FROM blog.comments_comment ORDER BY id").stdout.split()

    def outbox(self) -> list[str]:
        return self.db.sql("SELECT kind FROM blog.comments_outboxmessage ORDER BY id").stdout.split()


def _start_gunicorn(env: dict, log_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            "deploy/gunicorn.conf.py",
            "blog_project.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    base = tmp_path_factory.mktemp("faults")
    redis_server = RedisServer(base).start()
    db = MariaDBServer(base).install().start()
    db.load_time_zones("UTC", "Asia/Shanghai")
    db.sql("CREATE DATABASE blog CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    smtp = SmtpServer().start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOG_", "DJANGO_", "CELERY_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="blog_project.settings",
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=db.url("blog"),
        REDIS_URL=redis_server.url(0),
        CELERY_BROKER_URL=redis_server.url(1),
        STATS_REDIS_URL=redis_server.url(2),
        CELERY_TASK_ALWAYS_EAGER="false",
        BLOG_VAR_DIR=str(base / "var"),
        DJANGO_STATIC_ROOT=str(base / "static"),
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        DJANGO_ADMINS="Mod:mod@example.com",
        BLOG_BREAKER_RESET_SECONDS=str(BREAKER_SECONDS),
        COMMENTS_MIN_FILL_SECONDS="0",
        WEB_CONCURRENCY=str(WORKERS),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_ACCESSLOG="",
        GUNICORN_ERRORLOG="-",
        DATABASE_READ_TIMEOUT="2",
        # A process serves its own copies for this long when the cache cannot vouch for them.
        BLOG_PAGE_CACHE_OUTAGE_SECONDS=str(OUTAGE_SECONDS),
        PYTHONPATH=str(ROOT),
    )
    stack = Stack(port=port, redis=redis_server, db=db, smtp=smtp, env=env, log_path=base / "gunicorn.log")
    stack.manage("migrate", "--noinput", "-v0")
    stack.manage("collectstatic", "--noinput", "-v0")
    stack.manage("shell", "-c", SEED)
    server = _start_gunicorn(env, stack.log_path)
    try:
        wait_for(lambda: _answers(stack), timeout=60, what="gunicorn")
        yield stack
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=20)
        if server.poll() is None:
            server.kill()
            server.wait()
        smtp.stop()
        redis_server.stop()
        db.stop()


def _answers(stack: Stack) -> bool:
    try:
        return stack.get("/healthz").status == 200
    except OSError:
        return False


def _every_worker_serves(stack: Stack, path: str) -> None:
    for _ in range(WORKERS * 3):
        assert stack.get(path).status == 200


def _comment_form(stack: Stack, path: str) -> dict:
    # Reading sets no cookie: the token comes as the form's script asks for it.
    token = json.loads(stack.get("/comments/token/").body)["token"]
    page = stack.get(path).text
    return {
        "csrfmiddlewaretoken": token,
        "stamp": re.search(r'name="stamp" value="([^"]+)"', page).group(1),
        "author_name": "Reader",
        "author_email": "reader@example.com",
        "body": f"Posted while Redis was frozen {secrets.token_hex(3)}",
    }


def test_a_frozen_redis_costs_each_worker_one_short_wait_per_interval(stack):
    _every_worker_serves(stack, "/")
    _every_worker_serves(stack, "/article/fault-0/")
    form = _comment_form(stack, "/article/fault-1/")
    mark = len(stack.log())
    stack.redis.freeze()
    try:
        started = time.monotonic()
        for n in range(40):
            page = stack.get(["/", "/article/fault-0/", "/category/faults/", "/article/fault-2/"][n % 4])
            assert page.status == 200, page.text[:500]
            assert "Fault article" in page.text
        elapsed = time.monotonic() - started
        ready = stack.get("/readyz")
        assert ready.status == 200
        report = json.loads(ready.body)
        assert report["status"] == "degraded" and report["checks"]["database"]["ok"]
        assert report["checks"]["redis"] == {"ok": False, "error": "TimeoutError"}
        posted = stack.request("/comments/post/2/", form=form)
        assert posted.status == 303, posted.text[:1000]
        assert stack.comments() == ["pending"]
        assert stack.outbox() == ["moderation_digest"]  # the broker did not take it in time
        log = stack.log()[mark:]
        # Each worker waited once when Redis hung, then once per interval at most (a probe).
        openings = log.count("redis failed")
        assert 1 <= openings <= WORKERS * (2 + elapsed / BREAKER_SECONDS), log[-3000:]
        assert "Traceback" not in log and "Exception ignored" not in log
    finally:
        stack.redis.thaw()
    wait_for(
        lambda: stack.get("/").status == 200 and stack.log()[mark:].count("redis is answering again") >= 1,
        timeout=30,
        what="the breaker closing",
    )
    _every_worker_serves(stack, "/")


def _log_in(stack: Stack) -> None:
    stack.cookies.clear()
    page = stack.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = stack.request(
        "/admin/login/?next=/admin/",
        form={"csrfmiddlewaretoken": token, "username": "admin", "password": "fault-pass-123"},
    )
    assert done.status == 302, done.text[:2000]


def test_a_dead_redis_serves_pages_quietly_and_the_traffic_page_shows_a_notice(stack):
    stack.cookies.clear()
    stack.redis.kill()
    try:
        time.sleep(BREAKER_SECONDS)  # any open breaker lets a probe through: the worst case
        mark = len(stack.log())
        for _ in range(20):
            assert stack.get("/").status == 200
        lines = stack.log()[mark:].splitlines()
        # Per worker: the breaker's line and the first uncounted view; nothing per request.
        assert len(lines) <= 2 * WORKERS, lines
        _every_worker_serves(stack, "/article/fault-0/")
        _log_in(stack)
        traffic = stack.get("/admin/stats/dailystat/")
        assert traffic.status == 200
        assert "The live counters (Redis) cannot be read right now" in traffic.text
        assert stack.get("/admin/").status == 200
        assert "Traceback" not in stack.log()[mark:]
    finally:
        stack.redis.start()
    stack.cookies.clear()
    wait_for(lambda: json.loads(stack.get("/readyz").body)["status"] == "ok", timeout=30, what="readiness")
    _every_worker_serves(stack, "/")


def test_the_mail_kept_during_the_outage_is_sent_when_the_broker_is_back(stack):
    assert stack.outbox() == ["moderation_digest"]
    # What beat runs every few minutes, here at once:
    result = stack.manage(
        "shell", "-c", "from comments.tasks import send_waiting_mail; print(send_waiting_mail())"
    )
    assert "'digest': True" in result and "'waiting': 0" in result
    assert stack.outbox() == []
    assert len(stack.smtp.messages) == 1
    assert "Posted while Redis was frozen" in stack.smtp.messages[0]


def test_a_dead_database_answers_503_with_retry_after(stack):
    stack.cookies.clear()
    stack.redis.kill()  # nothing cached either: every page needs the database ...
    stack.redis.start()
    mark = len(stack.log())
    stack.db.kill()
    time.sleep(OUTAGE_SECONDS + 0.5)  # ... once the workers' own copies are too old to serve
    try:
        for path in ["/", "/article/fault-0/", "/category/faults/", "/feed/rss/", "/search/?q=fault"]:
            for _ in range(WORKERS):
                page = stack.get(path)
                assert page.status == 503, (path, page.text[:500])
                assert page.headers["Retry-After"] == "30"
                assert "cannot reach its database" in page.text
        posted = stack.request("/comments/post/1/", form={"body": "x"})
        assert posted.status == 503
        ready = stack.get("/readyz")
        assert ready.status == 503 and json.loads(ready.body)["checks"]["database"]["ok"] is False
        assert stack.get("/healthz").status == 200
        log = stack.log()[mark:]
        assert "Traceback" not in log
        assert 1 <= log.count("Database unavailable, answering 503") <= WORKERS
    finally:
        stack.db.start()
    wait_for(lambda: stack.get("/").status == 200, timeout=30, what="pages after the database is back")
    _every_worker_serves(stack, "/article/fault-0/")


def test_a_frozen_database_costs_each_worker_one_wait_per_interval(stack):
    _every_worker_serves(stack, "/article/fault-0/")
    mark = len(stack.log())
    stack.db.freeze()
    try:
        started = time.monotonic()
        statuses = [stack.get(f"/search/?q=frozen{n}").status for n in range(12)]
        elapsed = time.monotonic() - started
        assert set(statuses) == {503}, statuses
        log = stack.log()[mark:]
        waits = log.count("database failed")
        assert 1 <= waits <= WORKERS * (2 + elapsed / BREAKER_SECONDS), log[-3000:]
        assert "Traceback" not in log
        assert stack.get("/healthz").status == 200
    finally:
        stack.db.thaw()
    # Each worker's breaker lets a probe through within an interval, and closes with it.
    wait_for(
        lambda: all(stack.get("/search/?q=fault").status == 200 for _ in range(WORKERS * 3)),
        timeout=30,
        what="every worker serving after the thaw",
    )
