"""Comment mail tasks: a failing mail server or broker never loses or delays a comment;
eagerly the failure is logged, on a real Celery worker the mail is retried until the
server is back."""

from __future__ import annotations

import logging
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from kombu.exceptions import OperationalError

from articles.models import SiteSettings
from comments import services, tasks
from comments.models import Comment
from comments.tests.conftest import form_data, post_url, set_site

ROOT = Path(__file__).resolve().parents[2]


def _dead_smtp(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 2
    settings.ADMINS = [("Mod", "mod@example.com")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_eager_task_logs_a_dead_mail_server_and_returns(article, settings, caplog):
    _dead_smtp(settings)
    set_site(comment_moderation=SiteSettings.Moderation.ALL)
    held = services.comment_create(article=article, author_name="A", author_email="a@example.com", body="b")
    with caplog.at_level(logging.ERROR, logger="comments.tasks"):
        result = tasks.notify_moderators.apply(args=[held.pk])
    assert result.successful() and result.result is None
    assert "not retried in eager mode" in caplog.text
    held.refresh_from_db()
    assert held.status == Comment.Status.PENDING and held.moderators_notified_at is None


@pytest.mark.django_db
def test_a_broker_outage_on_enqueue_does_not_break_the_post(
    client, article, monkeypatch, django_capture_on_commit_callbacks
):
    set_site(comment_moderation=SiteSettings.Moderation.ALL)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(tasks.notify_moderators, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(post_url(article), form_data())
    assert response.status_code == 303
    assert Comment.objects.get().status == Comment.Status.PENDING


# --- a real worker ---------------------------------------------------------------------


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend: records each message's data."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        data_mode, lines = False, []
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if data_mode:
                if line == ".":
                    self.server.messages.append("\n".join(lines))
                    data_mode, lines = False, []
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                continue
            verb = line[:4].upper()
            if verb == "DATA":
                data_mode = True
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.real_backends
@pytest.mark.django_db(transaction=True)
def test_worker_retries_until_the_mail_server_is_back(settings, tmp_path):
    from blog_project.celery import app

    port = _free_port()  # nothing listens yet: the first attempt fails
    env = {k: v for k, v in os.environ.items() if k not in {"BLOG_TEST_BACKENDS", "PYTEST_CURRENT_TEST"}}
    env.update(
        DJANGO_SETTINGS_MODULE="blog_project.settings",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"mysql://root@127.0.0.1:3306/{connection.settings_dict['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        BLOG_VAR_DIR=str(tmp_path),
        BLOG_CACHE_PREFIX=settings.CACHE_KEY_PREFIX,
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        EMAIL_TIMEOUT="2",
        COMMENTS_MAIL_RETRY_DELAY="1",
        DJANGO_ADMINS="Mod:mod@example.com",
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "blog_project", "worker", "--pool=solo", "-l", "INFO",
             "--without-mingle", "--without-gossip", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        server, eager = None, app.conf.task_always_eager
        try:
            app.conf.task_always_eager = False  # publish to the Redis broker for real
            set_site(comment_moderation=SiteSettings.Moderation.ALL)
            from articles.tests.factories import ArticleFactory

            article = ArticleFactory(title="Worker test")
            held = services.comment_create(
                article=article, author_name="Ada", author_email="ada@example.com", body="Queued words"
            )
            assert Comment.objects.filter(pk=held.pk).exists()  # stored before any mail is tried
            _wait(lambda: "retrying in" in log_path.read_text(), 60, "the failed first attempt")
            server = socketserver.ThreadingTCPServer(("127.0.0.1", port), _SMTPHandler)
            server.messages = []
            threading.Thread(target=server.serve_forever, daemon=True).start()
            _wait(lambda: server.messages, 60, "the retried mail")
            assert "Worker test" in server.messages[0] and "Queued words" in server.messages[0]
            _wait(
                lambda: Comment.objects.get(pk=held.pk).moderators_notified_at is not None,
                10,
                "the sent mark",
            )
        finally:
            app.conf.task_always_eager = eager
            worker.terminate()
            worker.wait(timeout=30)
            if server is not None:
                server.shutdown()
                server.server_close()
