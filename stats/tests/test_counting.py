"""Counted views held per process and written in batches (``counting.ViewTally``): nothing
is written before a flush (the timer's, a full tally's, the exit's); a flush writes the
batch summed, on either backend; a failed write loses its batch with one log line and the
next one is written."""

from __future__ import annotations

import logging
import threading
from datetime import date

import pytest
from django.utils import timezone

from articles.tests.factories import ArticleFactory
from stats import counting
from stats.backends import CountersUnavailable, DaySnapshot, Figures, get_backend
from tests.faults import wait_for

from .conftest import reader_get

BACKENDS = ["database", pytest.param("redis", marks=pytest.mark.real_backends)]


@pytest.fixture(params=BACKENDS)
def backend_name(request, settings):
    settings.STATS_BACKEND = request.param
    settings.STATS_REDIS_URL = ""
    if request.param == "database":
        request.getfixturevalue("db")
    return request.param


@pytest.fixture
def batches(settings):
    """Views held for an hour unless flushed; the process's tally discards whatever a test
    left held (its timer would write it into a later test)."""
    settings.STATS_FLUSH_SECONDS = 3600
    yield settings
    with counting.tally._lock:
        counting.tally._views, counting.tally._held = {}, 0


def today_snapshot() -> DaySnapshot | None:
    return get_backend().snapshot(timezone.localdate())


def read(tally: counting.ViewTally, day: date, views: list[tuple[str, int | None]]) -> None:
    for visitor, article_id in views:
        assert tally.add(counting.Reader(day, visitor), article_id) is True


# a reads article 1 twice, b reads articles 1 and 2, c the home page only.
VIEWS = [("c:aaaa", 1), ("c:aaaa", 1), ("h:bbbb", 1), ("h:bbbb", 2), ("h:cccc", None)]
SUMMED = {"site": Figures(pv=5, uv=3), "articles": {1: Figures(pv=3, uv=2), 2: Figures(pv=1, uv=1)}}


def test_views_are_held_until_a_flush_writes_them_summed(backend_name, batches):
    tally = counting.ViewTally()
    today = timezone.localdate()
    read(tally, today, VIEWS)
    assert tally.held() == 5
    assert today_snapshot() is None, "nothing is written before the flush"
    tally.flush()
    assert tally.held() == 0
    snapshot = today_snapshot()
    assert (snapshot.site, snapshot.articles) == (SUMMED["site"], SUMMED["articles"])
    read(tally, today, [("c:aaaa", 1), ("c:dddd", 2)])  # the next batch adds to the first
    tally.flush()
    tally.flush()  # nothing held: nothing written twice
    snapshot = today_snapshot()
    assert snapshot.site == Figures(pv=7, uv=4)
    assert snapshot.articles == {1: Figures(pv=4, uv=2), 2: Figures(pv=2, uv=2)}


def test_each_day_of_a_batch_is_written_to_its_own_day(backend_name, batches):
    tally = counting.ViewTally()
    today = timezone.localdate()
    yesterday = today.fromordinal(today.toordinal() - 1)
    read(tally, yesterday, [("c:aaaa", 1)])
    read(tally, today, [("c:aaaa", 1), ("c:bbbb", None)])
    tally.flush()
    backend = get_backend()
    assert backend.snapshot(yesterday).site == Figures(pv=1, uv=1)
    assert backend.snapshot(today).site == Figures(pv=2, uv=2)


def test_a_full_tally_is_written_at_once(backend_name, batches, monkeypatch):
    monkeypatch.setattr(counting, "MOST_HELD", 3)
    tally = counting.ViewTally()
    today = timezone.localdate()
    read(tally, today, VIEWS[:2])
    assert today_snapshot() is None
    read(tally, today, VIEWS[2:3])  # the third: full
    assert tally.held() == 0
    assert today_snapshot().site == Figures(pv=3, uv=2)


def test_a_failed_write_loses_its_batch_with_one_log_line_and_the_next_is_written(
    backend_name, batches, monkeypatch, caplog
):
    tally = counting.ViewTally()
    today = timezone.localdate()
    real_backend = get_backend

    class Down:
        def record_many(self, *, day, views):
            raise CountersUnavailable("the counters' store is down")

    monkeypatch.setattr(counting, "get_backend", Down)
    read(tally, today, VIEWS)
    with caplog.at_level(logging.WARNING, logger="stats.counting"):
        tally.flush()
        monkeypatch.setattr(counting, "get_backend", real_backend)
        read(tally, today, [("c:eeee", 7)])
        tally.flush()
    warnings = [r.getMessage() for r in caplog.records if r.name == "stats.counting"]
    assert len(warnings) == 1, warnings
    assert "5 page view(s) not counted" in warnings[0] and "the counters' store is down" in warnings[0]
    assert tally.held() == 0, "the lost batch is not kept to be written twice"
    snapshot = today_snapshot()
    assert (snapshot.site, snapshot.articles) == (Figures(pv=1, uv=1), {7: Figures(pv=1, uv=1)})


@pytest.fixture(
    params=[
        "recorded",
        pytest.param("database", marks=pytest.mark.real_backends),
        pytest.param("redis", marks=pytest.mark.real_backends),
    ]
)
def threaded_backend(request, settings):
    """As ``backend_name``, with committed rows: the timer thread has its own connection
    (MariaDB; SQLite's in-memory test database is not shared with threads, so the
    embedded pass records what the timer hands to the backend instead)."""
    settings.STATS_BACKEND = "database" if request.param == "recorded" else request.param
    settings.STATS_REDIS_URL = ""
    if request.param == "database":
        request.getfixturevalue("transactional_db")
    return request.param


def test_the_timer_writes_held_views_without_a_flush(threaded_backend, settings, monkeypatch):
    settings.STATS_FLUSH_SECONDS = 0.05
    written = threading.Event()
    handed: list = []
    real_write = counting.write

    def write(day, views):  # the timer's write, told when it is done
        handed.extend(views)
        ok = True if threaded_backend == "recorded" else real_write(day, views)
        written.set()
        return ok

    monkeypatch.setattr(counting, "write", write)
    tally = counting.ViewTally()
    read(tally, timezone.localdate(), VIEWS)
    assert written.wait(timeout=20), "the timer wrote the held views"
    wait_for(lambda: len(handed) == len(VIEWS), timeout=20, what="every view handed to the backend")
    assert sorted(handed, key=str) == sorted(VIEWS, key=str) and tally.held() == 0
    if threaded_backend == "recorded":
        return
    snapshot = wait_for(
        lambda: (found := today_snapshot()) is not None and found.site.pv == 5 and found,
        timeout=20,
        what="the last batch written",
    )
    assert (snapshot.site, snapshot.articles) == (SUMMED["site"], SUMMED["articles"])


@pytest.mark.django_db
def test_a_page_view_is_held_until_the_process_flushes(client, batches):
    article = ArticleFactory(title="Held view")
    for _ in range(3):
        assert reader_get(client, article.get_absolute_url()).status_code == 200
    assert counting.tally.held() == 3
    assert today_snapshot() is None
    counting.tally.flush()
    snapshot = today_snapshot()
    assert snapshot.site == Figures(pv=3, uv=1)
    assert snapshot.articles == {article.pk: Figures(pv=3, uv=1)}


def test_the_flush_at_exit_waits_for_the_timer_batch_on_its_way(settings, monkeypatch):
    """The exit's flush finds the tally empty while the timer is still writing its batch:
    it returns only once that batch is written (the process must not end under it)."""
    settings.STATS_FLUSH_SECONDS = 0.05
    writing, release = threading.Event(), threading.Event()
    order: list[str] = []

    def write(day, views):  # the timer's write, held until the test lets it go
        writing.set()
        assert release.wait(timeout=20)
        order.append(f"wrote {len(views)}")
        return True

    monkeypatch.setattr(counting, "write", write)
    tally = counting.ViewTally()
    read(tally, timezone.localdate(), VIEWS)
    assert writing.wait(timeout=20), "the timer took the batch"
    assert tally.held() == 0

    def exit_flush():
        tally.flush()
        order.append("exit flush returned")

    at_exit = threading.Thread(target=exit_flush)
    at_exit.start()
    with pytest.raises(AssertionError):  # without the wait it would have returned by now
        wait_for(lambda: not at_exit.is_alive(), timeout=0.5, what="the exit's flush")
    release.set()
    at_exit.join(timeout=20)
    assert order == [f"wrote {len(VIEWS)}", "exit flush returned"]


def test_a_forked_child_starts_with_nothing_held(settings):
    """The parent writes what it held; a child forked meanwhile must not write it too."""
    import os

    from stats.counting import Reader, ViewTally

    settings.STATS_FLUSH_SECONDS = 3600
    held = ViewTally()
    held._timer_pid = os.getpid()  # no timer thread: this test flushes nothing
    held.add(Reader(timezone.localdate(), "h:parent"), None)
    assert held.held() == 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it holds, and leave without any cleanup
        os.write(write, str(held.held()).encode())
        os._exit(0)
    os.close(write)
    child_held = os.read(read, 16).decode()
    os.waitpid(pid, 0)
    assert child_held == "0" and held.held() == 1
