"""Comment mail tasks: a failing broker or mail server never loses or delays a comment,
nor its mail: what could not be queued or sent waits in the outbox, and the periodic task
sends it once the service is back (eagerly, and on a real Celery worker)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection

from blog_project.breaker import breaker
from comments import services, tasks
from comments.models import Comment, CommentSettings, OutboxMessage
from comments.tests.conftest import form_data, post_url, set_policy
from tests.faults import RedisServer, SmtpServer, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker_down(settings):
    """Tasks go through a broker (as in production) that refuses connections."""
    from blog_project.celery import app

    eager, url = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    _forget_broker_connections(app)
    yield
    app.conf.task_always_eager, app.conf.broker_url = eager, url
    _forget_broker_connections(app)  # later tests publish to the real broker again


def _forget_broker_connections(app) -> None:
    """Celery keeps its connection and producer pools for the broker URL they were made
    with: a changed URL needs them made again. (Dropped, not closed: kombu's shared
    producer registry may still hand the old ones to code that holds them.)"""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.django_db
def test_a_broker_outage_keeps_the_mail_and_the_post_succeeds(
    client, article, broker_down, settings, django_capture_on_commit_callbacks
):
    """The comment is stored and the reader gets the usual answer; the mail that could not
    be queued is in the outbox, and the periodic task sends it once the broker is back."""
    settings.ADMINS = [("Mod", "mod@example.com")]
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(post_url(article), form_data())
    assert response.status_code == 303
    assert Comment.objects.get().status == Comment.Status.PENDING
    assert list(OutboxMessage.objects.values_list("kind", flat=True)) == ["moderation_digest"]
    assert breaker("broker").is_open
    assert mail.outbox == []
    assert tasks.send_waiting_mail.apply().get() == {"digest": True, "sent": 1, "waiting": 0}
    assert len(mail.outbox) == 1 and "A thoughtful remark" in mail.outbox[0].body


@pytest.mark.django_db
def test_with_the_breaker_open_nothing_is_sent_to_the_broker(article, broker_down, monkeypatch):
    from blog_project import broker

    breaker("broker").failure(ConnectionError("down"))
    monkeypatch.setattr(broker, "PUBLISH_ERRORS", ())  # any publish attempt would now raise
    tasks.enqueue_reply_mail(123)
    assert OutboxMessage.objects.get().arguments == {"comment_id": 123}


@pytest.fixture
def private_broker(tmp_path):
    """Tasks go through a redis-server of the test's own (no persistence: a restart empties
    it), with no worker: queued messages wait there."""
    from blog_project.celery import app

    server = RedisServer(tmp_path).start()
    eager, url = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = server.url(1)
    _forget_broker_connections(app)
    yield server
    app.conf.task_always_eager, app.conf.broker_url = eager, url
    _forget_broker_connections(app)
    server.stop()


@pytest.mark.django_db
def test_a_reply_mail_lost_with_the_broker_is_sent_by_the_periodic_task(
    article, open_policy, private_broker, django_capture_on_commit_callbacks
):
    """The reply's message is queued, then the broker dies before a worker takes it and
    comes back empty: the mail is still an outbox row, and the periodic task sends it."""
    import redis

    parent = services.comment_create(
        article=article, author_name="Ada", author_email="ada@example.com", body="Hi", notify_on_reply=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.comment_create(
            article=article,
            parent=parent,
            author_name="Bob",
            author_email="bob@example.com",
            body="Lost words",
        )
    broker = redis.Redis.from_url(private_broker.url(1))
    assert broker.llen("celery") == 1  # queued, and no worker has taken it
    assert list(OutboxMessage.objects.values_list("kind", "arguments", "attempts")) == [
        ("reply", {"comment_id": reply.pk}, 0)
    ]
    private_broker.restart()  # killed, started again with nothing
    assert broker.llen("celery") == 0
    broker.close()
    assert mail.outbox == []
    assert tasks.send_waiting_mail.apply().get() == {"digest": False, "sent": 1, "waiting": 0}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.com"] and "Lost words" in mail.outbox[0].body
    assert Comment.objects.get(pk=reply.pk).reply_notified_at is not None


@pytest.mark.django_db
def test_the_queued_task_sends_its_outbox_row_once(article, open_policy, django_capture_on_commit_callbacks):
    """The task sends the row's mail and deletes the row: the periodic task then finds
    nothing, and a second delivery of the same message sends nothing either."""
    parent = services.comment_create(
        article=article, author_name="Ada", author_email="ada@example.com", body="Hi", notify_on_reply=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.comment_create(
            article=article, parent=parent, author_name="Bob", author_email="bob@example.com", body="Once"
        )
    assert len(mail.outbox) == 1 and not OutboxMessage.objects.exists()
    assert tasks.notify_reply.apply(args=(reply.pk, 1)).get() is False  # redelivered: gone
    assert tasks.send_waiting_mail.apply().get() == {"digest": False, "sent": 0, "waiting": 0}
    assert len(mail.outbox) == 1


# --- a real worker ---------------------------------------------------------------------


def _wait(predicate, timeout: float, what: str) -> None:
    wait_for(predicate, timeout=timeout, what=what)


@pytest.mark.real_backends
@pytest.mark.django_db(transaction=True)
def test_worker_keeps_failed_mail_and_sends_it_when_the_mail_server_is_back(settings, tmp_path):
    """A real worker on the real broker: the first attempt meets a dead mail server, the
    mail waits in the outbox, and the periodic task sends it once the server answers."""
    from blog_project.celery import app

    smtp = SmtpServer()  # not started: the first attempt fails
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
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        EMAIL_TIMEOUT="2",
        BLOG_BREAKER_RESET_SECONDS="0.5",
        DJANGO_ADMINS="Mod:mod@example.com",
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "blog_project", "worker", "--pool=solo", "-l", "INFO",
             "--without-mingle", "--without-gossip", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        eager = app.conf.task_always_eager
        try:
            app.conf.task_always_eager = False  # publish to the Redis broker for real
            set_policy(comment_moderation=CommentSettings.Moderation.NONE)
            from articles.tests.factories import ArticleFactory

            article = ArticleFactory(title="Worker test")
            parent = services.comment_create(
                article=article,
                author_name="Ada",
                author_email="ada@example.com",
                body="Hi",
                notify_on_reply=True,
            )
            reply = services.comment_create(
                article=article,
                parent=parent,
                author_name="Bob",
                author_email="bob@example.com",
                body="Queued words",
            )
            assert Comment.objects.filter(pk=reply.pk).exists()  # stored before any mail is tried
            _wait(lambda: OutboxMessage.objects.filter(kind="reply").exists(), 60, "the kept mail")
            smtp.start()
            time.sleep(0.6)  # the worker's mail breaker lets a probe through again
            app.send_task("comments.tasks.send_waiting_mail")  # what beat sends every few minutes
            _wait(lambda: smtp.messages, 60, "the mail sent from the outbox")
            assert "Worker test" in smtp.messages[0] and "Queued words" in smtp.messages[0]
            _wait(lambda: Comment.objects.get(pk=reply.pk).reply_notified_at is not None, 10, "the sent mark")
            assert not OutboxMessage.objects.exists()
        finally:
            app.conf.task_always_eager = eager
            worker.terminate()
            worker.wait(timeout=30)
            smtp.stop()
