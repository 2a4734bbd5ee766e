"""The compose topology, proven without Docker: deploy/cluster.sh starts nginx (least_conn)
in front of three gunicorn masters with production settings on MariaDB + Redis, one Celery
worker and one beat. Requests spread over every replica, an admin edit reaches every replica
at once, tasks travel through the broker, beat runs the database schedule and stays single,
whitenoise serves hashed static files for a year, nginx serves uploads, a client cannot
claim https, and a replica killed under load is started again while nginx serves every
request from the others."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import warnings
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Transactional: the cluster's processes must see what the tests write, so it is committed
# (and flushed after each test).
pytestmark = [pytest.mark.real_backends, pytest.mark.django_db(transaction=True)]

PROBE_TASK = "cluster-probe"


@pytest.fixture(autouse=True)
def _fresh_cache_and_language():
    """Overrides the root conftest's: flushing Redis here would drop the cluster's broker
    bindings and queues between tests. The module fixture flushes once, before and after."""
    yield


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def request(
    port: int, path: str, *, method: str = "GET", headers=None, body: bytes | None = None
) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        conn.close()


@dataclass
class Cluster:
    dir: Path
    port: int
    web_ports: list[int]
    pids: list[int]
    process: subprocess.Popen
    beat_token: str = ""
    logs: Path = field(init=False)

    def __post_init__(self) -> None:
        self.logs = self.dir / "logs"

    def get(self, path: str, **kwargs) -> Response:
        return request(self.port, path, **kwargs)

    def log(self, name: str) -> str:
        return (self.logs / name).read_text(errors="replace")

    def wait_for_log(self, name: str, pattern: str, *, count: int = 1, timeout: float = 30) -> list[str]:
        """The log lines matching ``pattern`` (groups), once there are at least ``count``:
        nginx and the workers write their log lines just after answering."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.findall(pattern, self.log(name))
            if len(found) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(found) >= count, f"{pattern!r} {len(found)}/{count} in {name}:\n{self.log(name)[-3000:]}"
        return found


def _database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"mysql://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"


@pytest.fixture
def seeded() -> dict:
    """Committed rows (the module runs as transactional tests), visible to the cluster."""
    from django.contrib.auth import get_user_model

    from articles.models import Article, Category

    admin = get_user_model().objects.create_superuser(
        "cluster-admin", "admin@example.com", "cluster-pass-123"
    )
    category = Category.objects.create(name="Cluster news", slug="cluster-news")
    article = Article.objects.create(
        title="Before edit",
        slug="cluster-article",
        body="# Hello\n\nbody",
        category=category,
        author=admin,
        status=Article.Status.PUBLISHED,
    )
    draft = Article.objects.create(
        title="Draft published from the admin",
        slug="cluster-draft",
        body="draft body",
        category=category,
        author=admin,
        status=Article.Status.DRAFT,
    )
    return {"article": article, "draft": draft}


def _schedule_beat_probe() -> str:
    """A schedule row that beat's DatabaseScheduler must load: every second, a task that
    echoes a token into the worker's log."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    token = f"beat-probe-{secrets.token_hex(6)}"
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name=PROBE_TASK, task="celery.accumulate", interval=every_second, args=f'["{token}"]'
    )
    return token


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.core.cache import cache

    cache.clear()
    with django_db_blocker.unblock():
        beat_token = _schedule_beat_probe()  # committed; the first test's flush removes it
    try:
        with run_cluster(tmp_path_factory.mktemp("cluster"), database_url=_database_url()) as started:
            started.beat_token = beat_token
            yield started
    finally:
        cache.clear()  # the broker's keys too


@contextlib.contextmanager
def run_cluster(base: Path, *, database_url: str):
    """deploy/cluster.sh on free loopback ports, on ``database_url`` and this process's Redis
    (the same cache keys: one page generation); every process it started is gone after."""
    from django.conf import settings

    nginx_port, *web_ports = _free_ports(4)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"BLOG_TEST_BACKENDS", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_ENV", "BLOG_VAR_DIR"}
    }
    env.update(
        CLUSTER_DIR=str(base),
        CLUSTER_PORT=str(nginx_port),
        CLUSTER_WEB_PORTS=" ".join(map(str, web_ports)),
        WEB_CONCURRENCY="1",
        DATABASE_URL=database_url,
        REDIS_URL=settings.REDIS_URL,
        BLOG_CACHE_PREFIX=settings.CACHE_KEY_PREFIX,  # the same keys as this process: shared generation
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        PYTHON=sys.executable,
    )
    output = (base / "cluster.out").open("wb")
    process = subprocess.Popen(
        [str(ROOT / "deploy/cluster.sh")],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: teardown reaches every child
    )
    started = None
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            if (base / "ready").exists():
                started = dict(
                    line.split("=", 1) for line in (base / "ready").read_text().split("\n") if line
                )
                break
            time.sleep(0.2)
        assert started, f"cluster did not start:\n{(base / 'cluster.out').read_text()[-4000:]}"
        pids = [int(pid) for pid in started["pids"].split()]
        yield Cluster(dir=base, port=nginx_port, web_ports=web_ports, pids=pids, process=process)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)  # cluster.sh stops its children on SIGTERM
        survivors = _group_members(process.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        output.close()
        for _ in range(50):
            if not _group_members(process.pid):
                break
            time.sleep(0.1)
        assert _group_members(process.pid) == []
        assert survivors == [], f"cluster.sh left processes running after SIGTERM: {survivors}"


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _cmdline(pid: int) -> str:
    return (Path("/proc") / str(pid) / "cmdline").read_text().replace("\0", " ")


def _upstreams(cluster: Cluster, path: str, count: int = 1) -> list[str]:
    """Who served ``path`` according to nginx's access log: a replica's address, or "-"."""
    pattern = rf'"GET {re.escape(path)} HTTP/1\.1" 200 .*? upstream=(\S+)'
    return cluster.wait_for_log("nginx-access.log", pattern, count=count)


def test_pages_through_nginx_are_spread_over_every_replica(cluster, seeded):
    for _ in range(12):
        page = cluster.get("/")
        assert page.status == 200
        assert "Before edit" in page.text
    served_by = _upstreams(cluster, "/", count=12)
    assert len(served_by) == 12
    assert set(served_by) == {f"127.0.0.1:{port}" for port in cluster.web_ports}
    for n in (1, 2, 3):  # and every gunicorn master logged some of them
        assert '"GET / HTTP/1.1" 200' in cluster.log(f"web-{n}-access.log")
    assert cluster.get("/category/cluster-news/").status == 200
    assert cluster.get("/article/cluster-article/").status == 200
    assert cluster.get("/no-such-page/").status == 404


def _warm_every_replica(cluster: Cluster, path: str, expected: str) -> None:
    """Each replica has the page in the shared cache and serves it from there."""
    for port in cluster.web_ports:
        request(port, path)
        page = request(port, path)
        assert page.status == 200 and expected in page.text
        assert page.headers["X-Page-Cache"] == "hit"


def test_orm_edit_shows_on_every_replica_at_once(cluster, seeded):
    path = "/article/cluster-article/"
    _warm_every_replica(cluster, path, "Before edit")
    article = seeded["article"]
    article.title = "After edit 改过 🎉"
    article.save()  # autocommit: the cache bump runs on commit, right here
    for port in cluster.web_ports:
        page = request(port, path)
        assert "After edit 改过 🎉" in page.text and "Before edit" not in page.text


class Browser:
    """Cookies by hand: the production cookies are Secure, and this talks plain http to nginx
    (which tells Django so, whatever X-Forwarded-Proto a client sends)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.cookies: dict[str, str] = {}
        self.origin = f"http://127.0.0.1:{cluster.port}"

    def send(self, path: str, *, form: dict | None = None) -> Response:
        headers = {"Host": f"127.0.0.1:{self.cluster.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": self.origin,
                    "Referer": self.origin + path,
                }
            )
        response = self.cluster.get(
            path, method="POST" if form is not None else "GET", headers=headers, body=body
        )
        for value in response.headers.get_all("Set-Cookie") or []:
            assert "Secure" in value, value  # production cookies
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return response

    def csrf_token(self, path: str) -> str:
        page = self.send(path)
        assert page.status == 200, page.status
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def test_admin_edit_through_nginx_shows_on_every_replica_at_once(cluster, seeded):
    draft = seeded["draft"]
    _warm_every_replica(cluster, "/", "Cluster news")
    for port in cluster.web_ports:
        assert draft.title not in request(port, "/").text

    browser = Browser(cluster)
    token = browser.csrf_token("/admin/login/")
    login = browser.send(
        "/admin/login/?next=/admin/",
        form={"csrfmiddlewaretoken": token, "username": "cluster-admin", "password": "cluster-pass-123"},
    )
    assert login.status == 302, login.text[:2000]
    assert "sessionid" in browser.cookies
    # The session (cached_db) is shared: the next requests land on other replicas.
    token = browser.csrf_token("/admin/articles/article/")
    done = browser.send(
        "/admin/articles/article/",
        form={
            "csrfmiddlewaretoken": token,
            "action": "publish_selected",
            "_selected_action": [str(draft.pk)],
            "index": "0",
        },
    )
    assert done.status == 302, done.text[:2000]
    admin_upstreams = set(
        re.findall(
            r'"(?:GET|POST) /admin/\S* HTTP/1\.1" \d+ .*? upstream=(\S+)', cluster.log("nginx-access.log")
        )
    )
    assert len(admin_upstreams) > 1  # logged in on one replica, acted on another

    for port in cluster.web_ports:
        page = request(port, "/")
        assert page.status == 200 and draft.title in page.text, port
        assert request(port, "/article/cluster-draft/").status == 200


def test_task_sent_through_the_broker_runs_on_the_worker(cluster):
    from blog_project.celery import app

    token = f"task-probe-{secrets.token_hex(6)}"
    with warnings.catch_warnings():  # this test process runs its own tasks eagerly; send_task never does
        warnings.simplefilter("ignore")
        result = app.send_task("celery.accumulate", args=[token])
    cluster.wait_for_log(
        "worker.log", rf"Task celery\.accumulate\[{result.id}\] succeeded in [\d.e+-]+s: .*{token}"
    )


def test_beat_runs_the_database_schedule_and_stays_single(cluster):
    """The schedule row written before start is loaded by the DatabaseScheduler, sent through
    the broker by the one beat, and executed by the worker."""
    cluster.wait_for_log("beat.log", r"scheduler -> django_celery_beat\.schedulers\.DatabaseScheduler")
    cluster.wait_for_log("beat.log", rf"Sending due task {PROBE_TASK} \(celery\.accumulate\)", count=2)
    cluster.wait_for_log("worker.log", rf"succeeded in [\d.e+-]+s: .*{cluster.beat_token}", count=2)

    beats = [pid for pid in _group_members(cluster.process.pid) if " beat " in _cmdline(pid)]
    assert len(beats) == 1, [_cmdline(pid) for pid in beats]
    # A second beat on this machine refuses to start (the pidfile lock); compose forbids
    # scaling it with a fixed container_name (tests/test_compose.py).
    second = subprocess.run(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "blog_project",
            "beat",
            f"--pidfile={cluster.dir / 'beat.pid'}",
            "--scheduler=django_celery_beat.schedulers:DatabaseScheduler",
        ],
        cwd=ROOT,
        env={**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    assert "already exists" in second.stderr + second.stdout


def test_static_files_come_from_whitenoise_with_far_future_headers(cluster):
    home = cluster.get("/").text
    css = re.search(r'href="(/static/css/blog\.[0-9a-f]{12}\.css)"', home)
    assert css, "home page does not link the hashed stylesheet from the manifest"
    plain = cluster.get(css.group(1))
    assert plain.status == 200
    assert "max-age=315360000" in plain.headers["Cache-Control"]
    assert "immutable" in plain.headers["Cache-Control"]
    assert plain.headers["Content-Type"].startswith("text/css")
    gzipped = cluster.get(css.group(1), headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert len(gzipped.body) < len(plain.body)
    assert _upstreams(cluster, css.group(1))  # proxied to a replica: whitenoise, not nginx
    assert cluster.get("/static/css/no-such-file.css").status == 404


def test_uploaded_media_is_served_by_nginx(cluster):
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
        b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    upload = cluster.dir / "media" / "uploads" / "probe.png"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(png)
    served = cluster.get("/media/uploads/probe.png")
    assert served.status == 200
    assert served.body == png
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert _upstreams(cluster, "/media/uploads/probe.png") == ["-"]  # nginx itself, no replica involved
    # Production Django does not serve uploads itself.
    assert request(cluster.web_ports[0], "/media/uploads/probe.png").status == 404
    assert cluster.get("/media/uploads/").status in (403, 404)  # no directory listing


def test_a_client_cannot_claim_https_through_nginx(cluster):
    told = cluster.get("/robots.txt", headers={"X-Forwarded-Proto": "https"})
    assert told.status == 200
    assert f"Sitemap: http://127.0.0.1:{cluster.port}/sitemap.xml" in told.text
    ready = cluster.get("/readyz")
    assert ready.status == 200 and '"status": "ok"' in ready.text


def _load(cluster: Cluster, paths: list[str], results: list, stop: threading.Event, limit: int) -> None:
    """A bounded loop of GETs through nginx: at most ``limit`` requests, until ``stop``."""
    for n in range(limit):
        if stop.is_set():
            return
        try:
            results.append(cluster.get(paths[n % len(paths)]).status)
        except OSError as exc:
            results.append(repr(exc))


def test_a_killed_replica_is_started_again_and_no_request_fails_meanwhile(cluster, seeded):
    run = cluster.dir / "run"
    victim_port = cluster.web_ports[1]
    old_master = int((run / "web-2.pid").read_text())
    assert "gunicorn" in _cmdline(old_master)
    results: list = []
    stop = threading.Event()
    paths = ["/", "/article/cluster-article/", "/category/cluster-news/", "/robots.txt"]
    threads = [threading.Thread(target=_load, args=(cluster, paths, results, stop, 3000)) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        warmed = time.monotonic() + 30
        while len(results) < 50 and time.monotonic() < warmed:
            time.sleep(0.05)
        os.kill(old_master, signal.SIGKILL)
        deadline = time.monotonic() + 90
        new_master = old_master
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                new_master = int((run / "web-2.pid").read_text())
                if new_master != old_master and request(victim_port, "/readyz").status == 200:
                    break
            time.sleep(0.2)
        assert new_master != old_master, "the replica was not started again"
        assert request(victim_port, "/readyz").status == 200
        served_before = len(results)
        while len(results) < served_before + 100 and time.monotonic() < deadline:
            time.sleep(0.05)  # the load goes on with the replica back
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    failed = [status for status in results if status != 200]
    assert failed == [], f"{len(failed)} of {len(results)} requests failed: {failed[:10]}"
    assert len(results) >= 150
    assert "web-2 exited (status" in cluster.log("web-2.log")
    assert request(victim_port, "/").status == 200
    # nginx sends the new master its share again (once the failed server's 5 s pause is over).
    mark = len(cluster.log("nginx-access.log"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert cluster.get("/robots.txt").status == 200
        if f"upstream=127.0.0.1:{victim_port} " in cluster.log("nginx-access.log")[mark:]:
            break
        time.sleep(0.1)
    assert f"upstream=127.0.0.1:{victim_port} " in cluster.log("nginx-access.log")[mark:]
