"""Counter backends: exact PV and UV for small numbers, per-article figures, key expiry,
locks; the database backend and the Redis backend give the same answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from stats.backends import CountersUnavailable, DaySnapshot, Figures, day_end
from stats.models import LiveCounter, LiveVisitor
from tests.faults import wait_for

# The last three days, counted from the day the suite runs: Redis expires a day's keys a
# few days after its end by its own clock, so the days must be recent ones.
D3 = timezone.localdate()
D1, D2 = D3 - timedelta(days=2), D3 - timedelta(days=1)


def drive(backend) -> None:
    """The same readers, whatever the backend: on D1 ``a`` reads article 1 twice, ``b``
    reads articles 1 and 2, ``c`` only the home page; on D2 ``a`` comes back."""
    backend.record(day=D1, visitor="c:aaaaaaaaaaaaaaaa", article_id=1)
    backend.record(day=D1, visitor="c:aaaaaaaaaaaaaaaa", article_id=1)
    backend.record(day=D1, visitor="h:bbbb", article_id=1)
    backend.record(day=D1, visitor="h:bbbb", article_id=2)
    backend.record(day=D1, visitor="h:cccc")
    backend.record(day=D2, visitor="c:aaaaaaaaaaaaaaaa")


def expected_answers() -> dict:
    return {
        "snapshot_d1": DaySnapshot(
            date=D1, site=Figures(pv=5, uv=3), articles={1: Figures(pv=3, uv=2), 2: Figures(pv=1, uv=1)}
        ),
        "snapshot_d2": DaySnapshot(date=D2, site=Figures(pv=1, uv=1), articles={}),
        "snapshot_d3": None,
        "site_figures": {D1: Figures(5, 3), D2: Figures(1, 1), D3: Figures(0, 0)},
        "site_day": [Figures(5, 3), None],
        "batches": [[(1, Figures(3, 2))], [(2, Figures(1, 1))]],
        "top": [[(1, 3)], [(1, 3), (2, 1)], []],
        "pvs": {1: 3, 2: 1},
        "visitors": {1: 2, 2: 1},
    }


def answers(backend) -> dict:
    return {
        "snapshot_d1": backend.snapshot(D1),
        "snapshot_d2": backend.snapshot(D2),
        "snapshot_d3": backend.snapshot(D3),
        "site_figures": backend.site_figures([D1, D2, D3]),
        "site_day": [backend.site_day(D1), backend.site_day(D3)],
        # Batches come in each backend's own order (by rank, by id): each holds one here.
        "batches": sorted(sorted(batch.items()) for batch in backend.article_batches(D1, 1)),
        "top": [backend.top_articles(D1, 1), backend.top_articles(D1, 5), backend.top_articles(D2, 5)],
        "pvs": backend.article_pvs(D1, [1, 2, 3]),
        "visitors": backend.article_visitors(D1, [1, 2]),
    }


def many_readers(backend, visitors: int, views_each: int) -> None:
    for n in range(visitors):
        for _ in range(views_each):
            backend.record(day=D3, visitor=f"c:{n:016x}", article_id=7)


# --- database backend (both passes: SQLite, then MariaDB) -------------------------------


def test_database_backend_counts_exactly(database_backend):
    drive(database_backend)
    assert answers(database_backend) == expected_answers()


def test_database_backend_stores_digests_not_visitor_ids(database_backend):
    database_backend.record(day=D1, visitor="c:secretsecretsecret", article_id=3)
    stored = set(LiveVisitor.objects.values_list("visitor", flat=True))
    assert len(stored) == 1 and "secret" not in stored.pop()


def test_database_backend_is_exact_for_a_hundred_readers(database_backend):
    many_readers(database_backend, visitors=100, views_each=3)
    snapshot = database_backend.snapshot(D3)
    assert snapshot.site == Figures(pv=300, uv=100)
    assert snapshot.articles == {7: Figures(pv=300, uv=100)}


def test_database_backend_purges_old_days(database_backend):
    drive(database_backend)
    database_backend.record(day=D3, visitor="h:dddd", article_id=1)
    database_backend.purge(before=D3)
    assert database_backend.snapshot(D1) is None and database_backend.snapshot(D2) is None
    assert database_backend.snapshot(D3).site == Figures(1, 1)
    assert set(LiveCounter.objects.values_list("date", flat=True)) == {D3}


def test_database_backend_lock_turns_a_second_holder_away(database_backend):
    with database_backend.lock("rollup", 60) as first, database_backend.lock("rollup", 60) as second:
        assert (first, second) == (True, False)
    with database_backend.lock("rollup", 60) as again:
        assert again, "released on exit"
    assert cache.get("stats:lock:rollup") is None


def test_database_backend_reads_article_views_of_the_days_not_rolled_up(database_backend):
    from stats.models import FillState

    drive(database_backend)
    database_backend.record(day=D3, visitor="h:dddd", article_id=1)
    assert database_backend.article_views([D1, D2, D3], [1, 2, 9]) == {1: 4, 2: 1}
    assert database_backend.article_views([D3], [1, 2]) == {1: 1}
    FillState.objects.create(name=FillState.DAILY, filled_through=D1)  # D1 is in view_count now
    assert database_backend.article_views([D1, D2, D3], [1, 2]) == {1: 1}
    assert database_backend.article_views([], [1]) == {} and database_backend.article_views([D1], []) == {}


# --- Redis backend (real-backend pass) ------------------------------------------------


def round_trips(redis_backend, monkeypatch) -> list[int]:
    """The commands of each pipeline the backend sends from now on, one entry a round trip."""
    calls: list[int] = []
    original = type(redis_backend.client.pipeline()).execute

    def counting_execute(pipe, *args, **kwargs):
        calls.append(len(pipe.command_stack))
        return original(pipe, *args, **kwargs)

    monkeypatch.setattr(type(redis_backend.client.pipeline()), "execute", counting_execute)
    return calls


@pytest.mark.real_backends
def test_redis_backend_reads_article_views_in_one_round_trip(redis_backend, monkeypatch):
    drive(redis_backend)
    redis_backend.record(day=D3, visitor="h:dddd", article_id=1)
    calls = round_trips(redis_backend, monkeypatch)
    assert redis_backend.article_views([D1, D2, D3], [1, 2, 9]) == {1: 4, 2: 1}
    assert calls == [3], "one HMGET per day, one round trip"
    assert redis_backend.article_views([D2, D3], [1, 2]) == {1: 1}


@pytest.mark.real_backends
def test_redis_backend_counts_exactly(redis_backend):
    drive(redis_backend)
    assert answers(redis_backend) == expected_answers()


@pytest.mark.real_backends
def test_redis_backend_is_exact_for_a_hundred_readers(redis_backend):
    many_readers(redis_backend, visitors=100, views_each=3)
    snapshot = redis_backend.snapshot(D3)
    assert snapshot.site == Figures(pv=300, uv=100)
    assert snapshot.articles == {7: Figures(pv=300, uv=100)}


@pytest.mark.real_backends
@pytest.mark.django_db
def test_both_backends_give_the_same_answers(redis_backend, database_backend):
    drive(redis_backend)
    drive(database_backend)
    many_readers(redis_backend, visitors=60, views_each=2)
    many_readers(database_backend, visitors=60, views_each=2)
    assert answers(redis_backend) == answers(database_backend)
    assert redis_backend.snapshot(D3) == database_backend.snapshot(D3)
    days, ids = [D1, D2, D3], [1, 2, 7, 8]
    assert redis_backend.article_views(days, ids) == database_backend.article_views(days, ids)


@pytest.mark.real_backends
def test_redis_keys_expire_the_configured_days_after_their_day_ends(redis_backend, settings):
    settings.STATS_RETENTION_DAYS = 3
    today = D3
    redis_backend.record(day=today, visitor="h:eeee", article_id=9)
    keys = sorted(k.decode() for k in redis_backend.client.keys(f"{redis_backend.prefix}:{today}:*"))
    assert [key.rsplit(":", 1)[-1] if "auv" not in key else "auv" for key in keys] == [
        "articles",
        "auv",
        "pv",
        "uv",
    ]
    expected = day_end(today).timestamp() + 3 * 86400
    for key in keys:
        assert abs(redis_backend.client.expiretime(key) - expected) <= 1, key
    # Keys of a day that ended long ago are gone at once.
    old = today - timedelta(days=30)
    redis_backend.record(day=old, visitor="h:ffff", article_id=9)
    assert redis_backend.snapshot(old) is None


@pytest.mark.real_backends
def test_redis_backend_records_a_view_in_one_round_trip(redis_backend, monkeypatch):
    from stats import backends

    calls = []
    real = backends.roundtrip
    monkeypatch.setattr(
        backends, "roundtrip", lambda client, commands: calls.append(len(commands)) or real(client, commands)
    )
    redis_backend.record(day=D3, visitor="h:gggg", article_id=4)
    redis_backend.record(day=D3, visitor="h:hhhh")
    assert calls == [8, 4], "INCR, PFADD (and ZINCRBY, PFADD for an article), each key's EXPIREAT"


@pytest.mark.real_backends
def test_every_key_of_a_day_expires_whichever_view_created_it(redis_backend):
    """The day's first view is not an article's: the articles' sorted set, created by a
    later view, gets its expiry all the same; so do keys lost with a Redis restart."""
    day = D3
    redis_backend.record(day=day, visitor="h:0")
    redis_backend.record(day=day, visitor="h:1", article_id=1)
    redis_backend.record(day=day, visitor="h:2", article_id=2)
    redis_backend.record(day=day, visitor="h:3", article_id=2)
    redis_backend.client.delete(redis_backend._key(day, "pv"), redis_backend._key(day, "uv"))  # lost
    redis_backend.record(day=day, visitor="h:4")
    keys = redis_backend.client.keys(f"{redis_backend.prefix}:{day}:*")
    assert len(keys) == 5
    assert all(redis_backend.client.ttl(key) > 0 for key in keys)
    assert redis_backend.snapshot(day).articles[2].pv == 2


@pytest.mark.real_backends
def test_purge_deletes_the_keys_of_days_before_the_window(redis_backend):
    for day in (D1, D2, D3):
        redis_backend.record(day=day, visitor="h:p", article_id=3)
    stray = redis_backend._key(D1, "apv")
    redis_backend.client.hincrby(stray, "3", 1)  # left without an expiry by an older version
    redis_backend.purge(before=D2)
    assert redis_backend.client.keys(f"{redis_backend.prefix}:{D1}:*") == []
    assert redis_backend.snapshot(D2).site == Figures(1, 1) and redis_backend.snapshot(D3).site == Figures(
        1, 1
    )


@pytest.mark.real_backends
def test_the_redis_salt_is_shared_and_gone_at_the_end_of_its_day(redis_backend):
    salt = redis_backend.salt(D3)
    assert redis_backend.salt(D3) == salt and redis_backend.salt(D3 + timedelta(days=1)) != salt
    with pytest.raises(CountersUnavailable):
        redis_backend.salt(D2)  # a day that has ended keeps no salt
    expires = redis_backend.client.expiretime(redis_backend._key(D3, "salt"))
    assert expires == int(day_end(D3).timestamp())


@pytest.mark.real_backends
def test_a_day_partly_counted_by_the_older_hash_is_folded_into_the_sorted_set(redis_backend):
    """Per-article PV used to be a hash; on the day of the upgrade both hold views."""
    legacy = redis_backend._key(D3, "apv")
    redis_backend.client.hincrby(legacy, "5", 4)
    redis_backend.client.hincrby(legacy, "6", 1)
    redis_backend.client.expireat(legacy, int(day_end(D3).timestamp()) + 3600)
    redis_backend.record(day=D3, visitor="h:new", article_id=5)
    assert redis_backend.top_articles(D3, 5) == [(5, 5), (6, 1)]
    assert not redis_backend.client.exists(legacy)
    assert redis_backend.client.ttl(redis_backend._key(D3, "articles")) > 0
    redis_backend.client.hincrby(legacy, "6", 2)  # an older process counted once more
    assert {
        article_id: figures.pv for article_id, figures in redis_backend.snapshot(D3).articles.items()
    } == {
        5: 5,
        6: 3,
    }


@pytest.mark.real_backends
def test_redis_lock_turns_a_second_holder_away_and_expires(redis_backend):
    with redis_backend.lock("rollup", 60) as first, redis_backend.lock("rollup", 60) as second:
        assert (first, second) == (True, False)
    key = f"{redis_backend.prefix}:lock:rollup"
    with redis_backend.lock("rollup", 1) as held:
        assert held
        assert 0 < redis_backend.client.pttl(key) <= 1000, "the lock carries its timeout"
        # Its second passing is Redis's business: the key's expiry is brought forward
        # instead of waited for (the holder "crashed" long ago).
        redis_backend.client.pexpire(key, 1)
        wait_for(lambda: not redis_backend.client.exists(key), timeout=5, what="the lock's expiry")
        with redis_backend.lock("rollup", 60) as after_expiry:
            assert after_expiry, "a crashed holder's lock times out"
