"""The page generation known without asking (blog_project/caching/watch.py), on the real
Redis: a bump announced by another process makes the next request ask; a dropped
subscription makes every request ask, until the process subscribes again; what a lookup
read is kept for BLOG_PAGE_CACHE_RECHECK_SECONDS at most, and not at all if a change was
announced while it was on its way."""

from __future__ import annotations

import logging
import time

import pytest
import redis

from articles.models import Article
from articles.tests.factories import ArticleFactory
from blog_project.caching import stores
from tests.faults import wait_for

pytestmark = [pytest.mark.real_backends, pytest.mark.django_db]

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def other_process(settings):
    """A raw client, as another process (a worker, a management command) would write."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def lookups(monkeypatch):
    """The store's lookups (True: the page asked for too), recorded."""
    made: list[bool] = []
    store_class = type(stores.store())
    real = store_class.lookup

    def recording(self, key):
        made.append(key is not None)
        return real(self, key)

    monkeypatch.setattr(store_class, "lookup", recording)
    return made


def bump_elsewhere(other_process, *, announce: bool = True) -> None:
    """Another process's bump: a new generation, and (unless told) its message."""
    store = stores.store()
    other_process.set(store._key(stores.GENERATION), f"{time.time_ns()}:0")
    if announce:
        assert other_process.publish(store.watch.channel, "1") >= 1, "this process is subscribed"


def heard() -> bool:
    """This process has read the announcement (the message crossed the socket)."""
    return stores.store().watch.known() is None


def kill_subscription(other_process) -> None:
    """Redis closes this process's subscription (only it: other suites may share Redis)."""
    pubsub = stores.store().watch._pubsub
    assert pubsub is not None, "subscribed"
    host, port = pubsub.connection._sock.getsockname()[:2]
    assert other_process.client_kill_filter(_type="pubsub", laddr=None, addr=f"{host}:{port}") == 1


def get(client, url):
    return client.get(url, HTTP_USER_AGENT=BROWSER)


@pytest.fixture
def article(db):
    return ArticleFactory(title="Before")


def warm(client, url, lookups) -> None:
    """Rendered, then a hit that learns the generation; from there a hit asks nothing."""
    assert get(client, url)["X-Page-Cache"] == "miss"
    assert get(client, url)["X-Page-Cache"] == "hit"
    lookups.clear()
    assert get(client, url)["X-Page-Cache"] == "hit"
    assert lookups == [], "a copy known to be current: no round trip"


def test_a_bump_announced_by_another_process_makes_the_next_request_ask(
    client, article, lookups, other_process
):
    url = article.get_absolute_url()
    warm(client, url, lookups)
    Article.objects.filter(pk=article.pk).update(title="After")
    bump_elsewhere(other_process)
    wait_for(heard, timeout=10, what="the announcement")
    response = get(client, url)
    assert lookups, "the next request asked"
    assert response["X-Page-Cache"] == "miss" and b"After" in response.content
    lookups.clear()
    assert get(client, url)["X-Page-Cache"] == "hit"
    assert lookups == [], "the generation that request read is known again"


def test_a_dropped_subscription_asks_per_request_and_serves_current_pages(
    client, article, lookups, other_process, settings, caplog
):
    settings.BLOG_BREAKER_RESET_SECONDS = 3600  # no new subscription during this test
    url = article.get_absolute_url()
    warm(client, url, lookups)
    kill_subscription(other_process)
    with caplog.at_level(logging.WARNING, logger="blog_project.caching.watch"):
        for _ in range(3):
            response = get(client, url)
            assert response["X-Page-Cache"] == "hit" and b"Before" in response.content
        assert lookups == [False, False, False], "one lookup of the generation per request"
        # A bump nobody hears (no subscription here): seen by the next request all the same.
        Article.objects.filter(pk=article.pk).update(title="After")
        bump_elsewhere(other_process, announce=False)
        response = get(client, url)
        assert response["X-Page-Cache"] == "miss" and b"After" in response.content
    dropped = [r for r in caplog.records if "subscription dropped" in r.getMessage()]
    assert len(dropped) == 1, "one line for the drop, not one per request"
    assert stores.store().watch._pubsub is None


def test_a_dropped_subscription_is_made_again_after_the_breaker_interval(
    client, article, lookups, other_process, settings
):
    settings.BLOG_BREAKER_RESET_SECONDS = 0
    url = article.get_absolute_url()
    warm(client, url, lookups)
    kill_subscription(other_process)
    assert get(client, url)["X-Page-Cache"] == "hit"  # finds the drop, subscribes again, asks
    assert lookups == [False]
    assert stores.store().watch._pubsub is not None, "subscribed again"
    lookups.clear()
    assert get(client, url)["X-Page-Cache"] == "hit"
    assert lookups == [], "subscribed again: the generation is known"
    Article.objects.filter(pk=article.pk).update(title="After")
    bump_elsewhere(other_process)  # heard on the new subscription
    wait_for(heard, timeout=10, what="the announcement on the new subscription")
    response = get(client, url)
    assert response["X-Page-Cache"] == "miss" and b"After" in response.content


def test_a_known_generation_is_asked_again_after_the_recheck_interval(client, article, lookups, settings):
    url = article.get_absolute_url()
    warm(client, url, lookups)
    settings.BLOG_PAGE_CACHE_RECHECK_SECONDS = 0
    for _ in range(3):
        assert get(client, url)["X-Page-Cache"] == "hit"
    assert lookups == [False, False, False], "every request asks"
    assert stores.store().watch.known() is None


def settled():
    """Subscribed, the generation started (its own announcement heard) and learned."""
    store = stores.store()

    def learn():
        ticket = store.watch.ticket()
        store.watch.learned(ticket, store.lookup(None).generation)
        return store.watch.known()

    return wait_for(learn, timeout=10, what="a lookup's answer kept")


def test_a_lookup_answer_is_not_kept_when_a_change_was_announced_on_its_way(other_process):
    store = stores.store()
    watch = store.watch
    settled()
    ticket = watch.ticket()
    assert ticket is not None, "subscribed"
    generation = store.lookup(None).generation
    watch.learned(ticket, generation)
    assert watch.known() == generation, "nothing announced meanwhile: kept"

    ticket = watch.ticket()
    answer = store.lookup(None).generation
    assert other_process.publish(watch.channel, "1") >= 1  # a bump while the answer travels
    wait_for(lambda: watch.ticket() != ticket, timeout=10, what="the announcement")
    watch.learned(ticket, answer)
    assert watch.known() is None, "the answer may predate the bump: not kept"

    ticket = watch.ticket()  # a lookup taken after the announcement is kept
    watch.learned(ticket, store.lookup(None).generation)
    assert watch.known() is not None


def test_a_lookup_that_could_not_read_the_store_forgets_the_generation():
    watch = stores.store().watch
    assert settled() is not None
    watch.learned(watch.ticket(), None)
    assert watch.known() is None


def test_a_subscription_redis_py_makes_again_on_its_own_makes_the_next_request_ask(
    client, article, lookups, other_process
):
    """A pool configured to retry reconnects and subscribes again inside one read, without
    an error: what was announced in the gap is lost, so the new connection means "ask"."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    url = article.get_absolute_url()
    warm(client, url, lookups)
    connection = stores.store().watch._pubsub.connection
    connection.retry = Retry(NoBackoff(), 1)
    kill_subscription(other_process)
    Article.objects.filter(pk=article.pk).update(title="After")
    bump_elsewhere(other_process, announce=False)  # announced to nobody: in the gap
    response = get(client, url)
    assert lookups, "the request asked"
    assert response["X-Page-Cache"] == "miss" and b"After" in response.content
    assert stores.store().watch._pubsub is not None, "still subscribed (on a new connection)"


def test_a_subscription_a_hung_redis_never_confirms_opens_the_breaker(tmp_path, settings, monkeypatch):
    """Redis accepts the SUBSCRIBE on a pooled connection and never answers: one short
    wait, counted as an outage by the "redis" breaker (not as an answer, which would close
    it), and no lookup is kept meanwhile."""
    from blog_project.breaker import breaker
    from tests.faults import ManualClock, RedisServer, breaker_on

    breaker_on(monkeypatch, "redis", ManualClock())
    server = RedisServer(tmp_path).start()
    try:
        options = {
            **settings.CACHES["default"]["OPTIONS"],
            "SOCKET_TIMEOUT": 0.3,
            "SOCKET_CONNECT_TIMEOUT": 0.3,
        }
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "LOCATION": server.url(0), "OPTIONS": options}
        }
        settings.REDIS_URL, settings.REDIS_TIMEOUT = server.url(0), 0.3
        settings.BLOG_BREAKER_RESET_SECONDS = 3600
        store = stores.store()
        assert store.lookup(None).generation is not None  # a connection made, back in the pool
        server.freeze()
        try:
            assert store.watch.ticket() is None, "not subscribed: the answer of a lookup is not kept"
            assert breaker("redis").is_open, "a subscription never confirmed is an outage"
        finally:
            server.thaw()
        store.watch.close()
    finally:
        server.stop()
