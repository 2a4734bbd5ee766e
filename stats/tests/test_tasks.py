"""The rollup task. Eagerly (no broker): a failure is logged, never raised into the page.
Through a real Celery worker process (real-backend pass): two rollups at once -> one
runs; a rerun -> identical rows; three missed days -> caught up; Redis down -> pages still
200 and the rollup retries until Redis is back."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone

from articles.models import Article
from articles.tests.factories import ArticleFactory
from stats.backends import RedisBackend, get_backend, redis_client
from stats.models import ArticleDailyStat, DailyStat, FillState
from stats.tasks import rollup_stats
from tests.faults import free_port, wait_for

from .conftest import reader_get

BASE_DIR = Path(django_settings.BASE_DIR)


def ago(days: int):
    return timezone.localdate() - timedelta(days=days)


# --- eager (both passes) ----------------------------------------------------------------


@pytest.mark.django_db
def test_run_eagerly_the_task_rolls_up_and_reports(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    get_backend().record(day=ago(1), visitor="h:a")
    assert rollup_stats.delay().get() == {
        "status": "done",
        "days_written": 1,
        "filled_through": ago(1).isoformat(),
        "view_counts_changed": 0,
    }


@pytest.mark.django_db
def test_run_eagerly_a_failure_is_logged_not_retried(settings, caplog):
    settings.STATS_BACKEND = "redis"
    settings.STATS_REDIS_URL = "redis://127.0.0.1:1/0"
    with caplog.at_level(logging.ERROR, logger="stats.tasks"):
        result = rollup_stats.apply().get()
    assert result["status"] == "failed" and "ConnectionError" in result["error"]
    assert "not retried in eager mode" in caplog.text


@pytest.mark.django_db
def test_run_eagerly_a_held_lock_is_reported(settings):
    with get_backend().lock("rollup", 60):
        assert rollup_stats.apply().get() == {"status": "locked"}


# --- a real worker process (real-backend pass) ------------------------------------------


class RedisServer:
    """A throwaway redis-server on its own port; stopping it saves its data, so a restart
    comes back with the counters (as a production Redis with persistence does)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory), "--dbfilename", "dump.rdb"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_for(lambda: self._ping(client), timeout=10, what=f"redis-server on port {self.port}")

    @staticmethod
    def _ping(client: redis.Redis) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            redis.Redis(port=self.port).save()  # then a plain SIGTERM: quicker than SHUTDOWN
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def running(self) -> bool:
        return bool(self.process and self.process.poll() is None)


class Worker:
    def __init__(self, log: Path, broker_url: str, queue: str) -> None:
        self.log = log
        self.queue = queue
        self.sender = Celery("stats-test-sender", broker=broker_url)
        self.sender.conf.broker_connection_retry_on_startup = True

    def send(self, **kwargs) -> None:
        self.sender.send_task("stats.tasks.rollup_stats", kwargs=kwargs, queue=self.queue)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def count(self, needle: str) -> int:
        return self.text().count(needle)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    broker, counters = (RedisServer(tmp_path_factory.mktemp(name)) for name in ("broker", "counters"))
    try:
        broker.start()
        counters.start()
        yield broker, counters
    finally:
        broker.stop()
        counters.stop()


@pytest.fixture(scope="module")
def worker(servers, django_db_setup, django_db_blocker, tmp_path_factory):
    """A real ``celery -A blog_project worker`` (prefork, two processes) on the test
    database, the test cache, a throwaway broker and a throwaway counter Redis."""
    broker, counters = servers
    db = connection.settings_dict  # the test database pytest-django created
    database_url = f"mysql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    queue = f"stats-test-{os.getpid()}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": django_settings.REDIS_URL,
        "BLOG_CACHE_PREFIX": django_settings.CACHE_KEY_PREFIX,
        "BLOG_VAR_DIR": str(django_settings.VAR_DIR),
        "CELERY_BROKER_URL": broker.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "STATS_REDIS_URL": counters.url,
        "STATS_ROLLUP_RETRY_SECONDS": "1",
        "DJANGO_LOG_LEVEL": "INFO",
    }
    env.pop("BLOG_TEST_BACKENDS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "blog_project", "worker", "-Q", queue,
         "-n", f"{queue}@%h", "-P", "prefork", "-c", "2", "-l", "INFO", "-f", str(log),
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # one process group: the worker and its children die together
    )  # fmt: skip
    try:
        running = Worker(log, broker.url, queue)
        wait_for(
            lambda: "ready." in running.text() or process.poll() is not None, timeout=60, what="the worker"
        )
        assert process.poll() is None, f"the worker died:\n{running.text()}"
        yield running
    finally:
        if process.poll() is None:
            # Cold shutdown: unacknowledged retries go back to the throwaway broker anyway.
            os.killpg(process.pid, signal.SIGQUIT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def counters(servers, settings) -> RedisBackend:
    """The test process counts into the same throwaway Redis as the worker reads."""
    _broker, server = servers
    if not server.running:
        server.start()
    settings.STATS_BACKEND = "redis"
    settings.STATS_REDIS_URL = server.url
    client = redis_client()
    client.flushdb()
    return RedisBackend(client)


def finished_runs() -> int:
    state = FillState.objects.filter(name=FillState.DAILY).first()
    return 0 if state is None or state.last_run_at is None else state.last_run_at.timestamp()


def table_rows() -> dict:
    return {
        "daily": sorted(DailyStat.objects.values_list("pk", "date", "pv", "uv")),
        "articles": sorted(ArticleDailyStat.objects.values_list("pk", "article_id", "date", "pv", "uv")),
        "views": sorted(Article.objects.values_list("pk", "view_count")),
    }


def read_on(backend: RedisBackend, article, *days_ago: int) -> None:
    for offset in days_ago:
        backend.record(day=ago(offset), visitor="c:aaaaaaaaaaaaaaaa", article_id=article.pk)
        backend.record(day=ago(offset), visitor=f"h:{offset}", article_id=article.pk)


@pytest.mark.real_backends
def test_two_rollups_at_once_only_one_runs(worker, counters, transactional_db):
    article = ArticleFactory()
    read_on(counters, article, 2, 1)
    FillState.objects.create(name=FillState.DAILY)
    skipped_before = worker.count("Stats rollup skipped: another rollup holds the lock")
    with transaction.atomic():
        # Hold the fill-state row: the run that takes the lock waits here, mid-rollup.
        FillState.objects.select_for_update().get(name=FillState.DAILY)
        worker.send()
        worker.send()
        wait_for(
            lambda: worker.count("Stats rollup skipped: another rollup holds the lock") > skipped_before,
            what="the second rollup to be turned away by the lock",
        )
    wait_for(lambda: FillState.objects.get().filled_through == ago(1), what="the rollup to finish")
    # The turned-away run tries again a second later and finds nothing left to do.
    wait_for(lambda: worker.count("rolled up 0 day(s) of 0 planned") >= 1, what="the retry")
    assert worker.count("rolled up 2 day(s) of 7 planned") == 1
    assert sorted(DailyStat.objects.values_list("date", "pv", "uv")) == [(ago(2), 2, 2), (ago(1), 2, 2)]
    article.refresh_from_db()
    assert article.view_count == 4


@pytest.mark.real_backends
def test_a_rerun_gives_identical_rows(worker, counters, transactional_db):
    article = ArticleFactory()
    read_on(counters, article, 3, 2, 1)
    worker.send()
    wait_for(lambda: FillState.objects.filter(filled_through=ago(1)).exists(), what="the first run")
    before, first_run = table_rows(), finished_runs()
    assert len(before["daily"]) == 3 and before["views"] == [(article.pk, 6)]
    worker.send(start=ago(3).isoformat(), end=ago(1).isoformat())
    wait_for(lambda: finished_runs() > first_run, what="the rerun")
    assert table_rows() == before


@pytest.mark.real_backends
def test_three_missed_days_are_caught_up(worker, counters, transactional_db):
    article = ArticleFactory()
    FillState.objects.create(name=FillState.DAILY, filled_through=ago(4))
    read_on(counters, article, 3, 2, 1, 0)
    worker.send()
    # Days are committed one by one, the view counts after them: wait for the run's end.
    wait_for(
        lambda: finished_runs() and FillState.objects.get().filled_through == ago(1), what="the catch-up"
    )
    assert sorted(DailyStat.objects.values_list("date", "pv")) == [(ago(3), 2), (ago(2), 2), (ago(1), 2)]
    assert ArticleDailyStat.objects.filter(article=article).count() == 3
    article.refresh_from_db()
    assert article.view_count == 6, "today is not final yet"


@pytest.mark.real_backends
def test_with_redis_down_pages_are_served_and_the_rollup_retries_until_it_is_back(
    worker, servers, counters, transactional_db, client, caplog
):
    _broker, server = servers
    article = ArticleFactory(title="Still readable")
    read_on(counters, article, 1)
    retries_before = worker.count("Stats rollup failed, retrying in 1s")
    server.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="stats.middleware"):
            for url in ("/", article.get_absolute_url(), article.get_absolute_url()):
                assert reader_get(client, url).status_code == 200
        assert "page view(s) not counted" in caplog.text
        worker.send()
        wait_for(
            lambda: worker.count("Stats rollup failed, retrying in 1s") >= retries_before + 2,
            what="the rollup to fail and retry",
        )
        assert not DailyStat.objects.exists()
    finally:
        server.start()
    wait_for(lambda: FillState.objects.filter(filled_through=ago(1)).exists(), what="the retry to succeed")
    assert list(DailyStat.objects.values_list("date", "pv", "uv")) == [(ago(1), 2, 2)]
