"""Requests/s and errors under faults: the blog with production settings (gunicorn, 2 sync
workers) on a private redis-server and mariadbd (tests/faults.py), demo content, wrk on
loopback (2 threads, 8 connections, 10 s per row, a browser User-Agent: counted views).

Rows: normal; Redis frozen (SIGSTOP); Redis dead; Redis back; database dead (a cached page,
an uncached search). Prints one line per row and the log's size at the end.

    .venv/bin/python bench/faults.py
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults import MariaDBServer, RedisServer, free_port, wait_for  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
PY = str(ROOT / ".venv/bin/python")


def wrk(port: int, path: str, seconds: int = 10) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{seconds}s", "--timeout", "10s", "-H", f"User-Agent: {UA}",
         "-H", "Accept-Language: en", f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
        "latency_avg": latency.group(1),
        "latency_max": latency.group(3),
    }


def get(port: int, path: str) -> int | str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": "127.0.0.1"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError as exc:
        return repr(exc)


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="blog-faults-"))
    redis = RedisServer(base).start()
    db = MariaDBServer(base).install().start()
    db.load_time_zones("UTC", "Asia/Shanghai")
    db.sql("CREATE DATABASE blog CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOG_", "DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="blog_project.settings", DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false", DATABASE_URL=db.url("blog"), REDIS_URL=redis.url(0),
        CELERY_BROKER_URL=redis.url(1), STATS_REDIS_URL=redis.url(2), CELERY_TASK_ALWAYS_EAGER="false",
        BLOG_VAR_DIR=str(base / "var"), DJANGO_STATIC_ROOT=str(base / "static"), WEB_CONCURRENCY="2",
        GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_ACCESSLOG="", PYTHONPATH=str(ROOT),
    )  # fmt: skip
    for args in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    log_path = base / "gunicorn.log"
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py", "blog_project.wsgi"],
        cwd=ROOT, env=env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    rows = []
    try:
        wait_for(lambda: get(port, "/healthz") == 200, 60, "gunicorn")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as home:
            article = re.search(r'href="(/article/[^"]+/)"', home.read().decode()).group(1)
        for path in ("/", article, "/", article):
            get(port, path)
        rows += [("normal", path, wrk(port, path)) for path in ("/", article)]
        redis.freeze()
        rows += [("Redis frozen", path, wrk(port, path)) for path in ("/", article, "/search/?q=python")]
        redis.thaw()
        redis.kill()
        rows += [("Redis dead", path, wrk(port, path)) for path in ("/", article)]
        redis.start()
        time.sleep(6)  # the breakers' interval: the next call is a probe
        for path in ("/", "/", "/"):
            get(port, path)
        rows.append(("Redis back", "/", wrk(port, "/")))
        db.kill()
        rows.append(("database dead, cached page", "/", wrk(port, "/")))
        rows.append(("database dead, uncached", "/search/?q=x", wrk(port, "/search/?q=x")))
    finally:
        server.terminate()
        server.wait(timeout=30)
        redis.stop()
        db.stop()
    for state, path, result in rows:
        print(
            f"{state:28s} {path[:36]:36s} {result['rps']:7.1f} req/s {result['requests']:6d} requests "
            f"non-2xx {result['non2xx']:5d}  socket errors {result['socket_errors']}  "
            f"latency avg {result['latency_avg']} max {result['latency_max']}"
        )
    text = log_path.read_text(errors="replace")
    print(f"gunicorn log: {len(text.splitlines())} lines, {text.count('Traceback')} tracebacks")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
