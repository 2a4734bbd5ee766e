"""Spam defence: private client fingerprints, the signed form stamp, the rate limit
(file cache embedded, real Redis in the real pass)."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import RequestFactory, override_settings

from comments import spam
from comments.tests.conftest import aged_stamp, client_key


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


def test_stamp_accepts_a_form_shown_long_enough_ago(settings):
    settings.COMMENTS_MIN_FILL_SECONDS = 3
    spam.check_stamp(aged_stamp(5), client_key=client_key())


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


@pytest.mark.real_backends
def test_rate_limit_lives_in_real_redis_with_an_expiry(settings):
    from django_redis import get_redis_connection

    settings.COMMENTS_RATE_LIMIT = 5
    settings.COMMENTS_RATE_WINDOW = 120
    redis = get_redis_connection("default")
    # Twenty posts at once from one client: exactly five get through (INCR is atomic).
    with ThreadPoolExecutor(max_workers=10) as pool:
        allowed = list(pool.map(lambda _i: spam.rate_limit_hit("redis-client").allowed, range(20)))
    assert allowed.count(True) == 5
    keys = redis.keys("*comments:rate:redis-client:*")
    assert len(keys) == 1
    assert int(redis.get(keys[0])) == 20
    assert 0 < redis.ttl(keys[0]) <= 125


@pytest.mark.real_backends
def test_rate_limit_lets_posts_through_when_redis_is_unreachable(settings):
    """An outage must never cost a comment: the limit fails open (other checks still apply)."""
    settings.COMMENTS_RATE_LIMIT = 1
    down = {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}
    settings.CACHES = {"default": down}
    assert all(spam.rate_limit_hit("outage").allowed for _ in range(5))
