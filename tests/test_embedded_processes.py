"""Embedded default across processes: an edit made by one process (a management command,
like the admin in another worker) shows at once on pages served by every gunicorn worker,
through the shared SQLite file and file-based cache."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.faults import wait_for

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.embedded_only


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "BLOG_TEST_BACKENDS"}
    }
    env.update(
        BLOG_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="blog_project.settings", PYTHONPATH=str(ROOT)
    )
    return env


def _manage(env, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


EDIT = """
from django.contrib.auth.models import User
from articles.models import Article
author, _ = User.objects.get_or_create(username="editor")
article, _ = Article.objects.get_or_create(slug="shared", defaults=dict(title="x", body="b", author=author))
article.title = {title!r}
article.status = "published"
article.save()
"""


def _fetch(port: int, path: str = "/") -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.read().decode()


def _answers(port: int, path: str) -> bool:
    try:
        _fetch(port, path)
    except OSError:
        return False
    return True


def test_edit_in_one_process_reaches_every_worker(tmp_path):
    env = _env(tmp_path)
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "collectstatic", "--noinput", "-v0")
    _manage(env, "shell", "-c", EDIT.format(title="Before edit"))
    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            "3",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "blog_project.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(port, "/healthz"), timeout=20, what="gunicorn to answer")
        assert re.search(r"/static/css/blog\.[0-9a-f]{12}\.css", _fetch(port))  # hashed, from the manifest
        # Warm every worker's view of the page and article (cached pages + in-process memo).
        for _ in range(12):
            assert "Before edit" in _fetch(port)
            assert "Before edit" in _fetch(port, "/article/shared/")
        _manage(env, "shell", "-c", EDIT.format(title="After edit 改过"))
        for _ in range(12):
            assert "After edit 改过" in _fetch(port)
            assert "After edit 改过" in _fetch(port, "/article/shared/")
    finally:
        server.terminate()
        server.wait(timeout=20)
