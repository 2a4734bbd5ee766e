"""Spam defence: private client fingerprints, the signed form stamp, the rate limit
(in the database: SQLite embedded, MariaDB in the real pass, never the evictable cache)."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.test import RequestFactory, override_settings
from django.utils import timezone

from comments import spam
from comments.models import PostingWindow, SpentStamp
from comments.tests.conftest import aged_stamp, client_key

pytestmark = pytest.mark.django_db


def _request(ip="203.0.113.7", agent="Mozilla/5.0 Test", **headers):
    return RequestFactory().post("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=agent, **headers)


def test_fingerprint_is_a_keyed_hash_never_the_address():
    value = spam.client_fingerprint(_request())
    assert len(value) == 64 and "203.0.113.7" not in value
    assert value == spam.client_fingerprint(_request())
    assert value != spam.client_fingerprint(_request(ip="203.0.113.8"))
    assert value != spam.client_fingerprint(_request(agent="curl/8"))


def test_fingerprint_depends_on_the_secret_key(settings):
    before = spam.client_fingerprint(_request())
    settings.SECRET_KEY = "another secret " * 4
    assert spam.client_fingerprint(_request()) != before


def test_client_ip_comes_from_the_configured_proxy_header(settings):
    assert spam.client_ip(_request(HTTP_X_REAL_IP="198.51.100.1")) == "203.0.113.7"
    settings.BLOG_CLIENT_IP_HEADER = "X-Forwarded-For"
    forwarded = _request(HTTP_X_FORWARDED_FOR="10.0.0.1, 198.51.100.9")
    assert spam.client_ip(forwarded) == "198.51.100.9"  # the entry our proxy appended
    assert spam.client_ip(_request(HTTP_X_FORWARDED_FOR="<script>")) == "unknown"


def test_stamp_accepts_a_form_shown_long_enough_ago(settings, monkeypatch):
    settings.COMMENTS_MIN_FILL_SECONDS = 3
    settings.COMMENTS_FORM_MAX_AGE = 3600
    stamp = aged_stamp(0)
    shown_at = spam.stamp_shown_at(stamp)

    def verdict(age: float) -> str:
        monkeypatch.setattr(spam, "now", lambda: shown_at + age)  # the form shown ``age`` s ago
        try:
            spam.check_stamp(stamp, client_key=client_key())
        except spam.StampError as refused:
            return refused.code
        return "accepted"

    assert [verdict(age) for age in (2.5, 3.5, 5, 3599)] == ["too_fast", "accepted", "accepted", "accepted"]
    assert not SpentStamp.objects.exists(), "checking a stamp does not spend it"


def test_network_key_counts_an_ipv6_64_as_one_client_and_ignores_the_user_agent():
    key = spam.client_network_key(_request(ip="2001:db8:1:2::1", agent="A"))
    assert key == spam.client_network_key(_request(ip="2001:db8:1:2:ffff::9", agent="B"))
    assert key != spam.client_network_key(_request(ip="2001:db8:1:3::1"))
    assert spam.client_network_key(_request(agent="A")) == spam.client_network_key(_request(agent="B"))
    assert "2001" not in key and len(key) == 64


@pytest.mark.django_db
def test_a_spent_stamp_is_refused(settings):
    stamp = aged_stamp(60)
    spam.check_stamp(stamp, client_key=client_key())
    spam.spend_stamp(stamp)
    with pytest.raises(spam.StampError) as excinfo:
        spam.check_stamp(stamp, client_key=client_key())
    assert excinfo.value.code == "spent"
    spam.check_stamp(aged_stamp(60), client_key=client_key())  # another form is fine


def _signed_with(secret: str) -> str:
    with override_settings(SECRET_KEY=secret):
        return aged_stamp(60)


def _with_shown_at(stamp: str, shown_at: float) -> str:
    _, client, nonce, mac = stamp.split(".")
    return f"{round(shown_at * 1000):x}.{client}.{nonce}.{mac}"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "missing"),
        ("garbage", "invalid"),
        ("other-key", "invalid"),
        ("tampered", "invalid"),
        ("unsigned", "invalid"),
        ("a.b.c.\u00e9", "invalid"),
        ("x" * 1000, "invalid"),
        ("fresh", "too_fast"),
        ("old", "expired"),
        ("elsewhere", "elsewhere"),
    ],
)
def test_stamp_refusals(settings, value, code):
    settings.COMMENTS_MIN_FILL_SECONDS = 3
    settings.COMMENTS_FORM_MAX_AGE = 3600
    made = {
        "fresh": lambda: aged_stamp(1),
        "old": lambda: aged_stamp(3601),
        "elsewhere": lambda: aged_stamp(ip="192.0.2.1"),
        "other-key": lambda: _signed_with("another secret key"),
        # an older shown-at under the original signature: what a bot would try
        "tampered": lambda: _with_shown_at(aged_stamp(1), time.time() - 600),
        "unsigned": lambda: aged_stamp(60).rpartition(".")[0],
    }
    value = made[value]() if value in made else value
    with pytest.raises(spam.StampError) as excinfo:
        spam.check_stamp(value, client_key=client_key())
    assert excinfo.value.code == code


def test_rate_limit_counts_per_client_in_fixed_windows(settings, monkeypatch):
    settings.COMMENTS_RATE_LIMIT = 3
    settings.COMMENTS_RATE_WINDOW = 60
    clock = [960_020.0]  # 20 s into a 60 s window
    monkeypatch.setattr(spam, "now", lambda: clock[0])
    decisions = [spam.rate_limit_hit("client-a") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after == 40
    assert spam.rate_limit_hit("client-b").allowed  # another client is not affected
    clock[0] += 45  # the next window
    assert spam.rate_limit_hit("client-a").allowed


@pytest.mark.django_db(transaction=True)
def test_rate_limit_counts_concurrent_posts_exactly(settings):
    """Twenty posts at once from one client: exactly five get through, whichever of them
    creates the window's row (on MariaDB in the real pass)."""
    from django.db import connection

    settings.COMMENTS_RATE_LIMIT = 5
    settings.COMMENTS_RATE_WINDOW = 120

    def post(_i):
        try:
            return spam.rate_limit_hit("busy-client").allowed
        finally:
            connection.close()  # each thread's own connection

    workers = 1 if connection.vendor == "sqlite" else 10  # SQLite has one writer anyway
    with ThreadPoolExecutor(max_workers=workers) as pool:
        allowed = list(pool.map(post, range(20)))
    assert allowed.count(True) == 5
    assert list(PostingWindow.objects.values_list("client_key", "posts")) == [("busy-client", 20)]


def test_limits_and_spent_stamps_survive_a_flushed_cache(settings):
    """What a page-cache flood could evict (the cache emptied: the worst case) leaves the
    rate limit and the spent stamps as they were."""
    from django.core.cache import cache

    settings.COMMENTS_RATE_LIMIT = 2
    for _ in range(2):
        assert spam.rate_limit_hit("flooder").allowed
    stamp = aged_stamp(30)
    spam.spend_stamp(stamp)
    cache.clear()
    assert not spam.rate_limit_hit("flooder").allowed
    with pytest.raises(spam.StampError) as excinfo:
        spam.check_stamp(stamp, client_key=client_key())
    assert excinfo.value.code == "spent"


def test_finished_windows_and_expired_stamps_are_deleted(settings, monkeypatch):
    settings.COMMENTS_RATE_WINDOW = 60
    clock = [960_000.0]
    monkeypatch.setattr(spam, "now", lambda: clock[0])
    spam.rate_limit_hit("old-client")
    clock[0] += 120
    spam.rate_limit_hit("new-client")
    assert list(PostingWindow.objects.values_list("client_key", flat=True)) == ["new-client"]
    SpentStamp.objects.create(digest="old", expires_at=timezone.now() - timedelta(seconds=1))
    spam.spend_stamp(aged_stamp(30))
    assert not SpentStamp.objects.filter(digest="old").exists()
    assert SpentStamp.objects.count() == 1
