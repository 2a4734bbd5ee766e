"""Visitor identity: bots and prefetches are recognised; the id is a daily-salted hash
that never holds the address, without any cookie; the salt lives for its day only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from stats import visitors
from stats.backends import visitor_digest
from stats.models import VisitorSalt

from .conftest import CHROME, FIREFOX, GOOGLEBOT

pytestmark = pytest.mark.django_db

SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
# Days counted from the day the suite runs.
TODAY = timezone.localdate()
TOMORROW = TODAY + timedelta(days=1)
WECHAT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Mobile Safari/537.36 MicroMessenger/8.0.47"
)


@pytest.mark.parametrize(
    "agent",
    [
        GOOGLEBOT,
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "",
        "   ",
    ],
)
def test_bots_scripts_and_empty_agents_are_bots(agent):
    assert visitors.is_bot(agent)


@pytest.mark.parametrize("agent", [CHROME, FIREFOX, SAFARI_IPHONE, WECHAT])
def test_browsers_are_not_bots(agent):
    assert not visitors.is_bot(agent)


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_PURPOSE": "prefetch"},
        {"HTTP_SEC_PURPOSE": "prefetch;prerender"},
        {"HTTP_PURPOSE": "prefetch"},
        {"HTTP_X_MOZ": "prefetch"},
        {"HTTP_X_PURPOSE": "preview"},
    ],
)
def test_prefetch_headers_are_recognised(headers):
    assert visitors.is_prefetch(RequestFactory().get("/", **headers))
    assert not visitors.is_prefetch(RequestFactory().get("/"))


def _request(ip="198.51.100.4", agent=CHROME, cookie=None, **headers):
    request = RequestFactory().get("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=agent, **headers)
    if cookie is not None:
        request.COOKIES["blog_vid"] = cookie
    return request


def test_a_visitor_is_the_days_hash_and_an_old_visitor_cookie_changes_nothing():
    visitor = visitors.daily_hash(_request(), TODAY)
    assert visitor.startswith("h:")
    assert visitors.daily_hash(_request(), TODAY) == visitor, "one visitor all day"
    assert visitors.daily_hash(_request(cookie="20261123.abcdefghijklmnopqrstuv"), TODAY) == visitor


def test_the_hash_holds_no_address_and_changes_every_day():
    request = _request(ip="198.51.100.4")
    monday = visitors.daily_hash(request, TODAY)
    tuesday = visitors.daily_hash(request, TOMORROW)
    assert monday != tuesday
    assert re.fullmatch(r"h:[0-9a-f]{32}", monday) and "198.51.100.4" not in monday
    assert visitors.daily_hash(_request(ip="198.51.100.5"), TODAY) != monday
    assert visitors.daily_hash(_request(agent=FIREFOX), TODAY) != monday


def test_the_daily_salt_is_random_shared_and_deleted_once_the_next_day_has_one(settings):
    settings.STATS_BACKEND = "database"
    visitors._salts.clear()
    salt = visitors.daily_salt(TODAY)
    assert re.fullmatch(r"[0-9a-f]{32}", salt)
    assert VisitorSalt.objects.get(date=TODAY).salt == salt
    visitors._salts.clear()  # another process: reads the same salt
    assert visitors.daily_salt(TODAY) == salt
    assert visitors.daily_salt(TOMORROW) != salt
    assert list(VisitorSalt.objects.values_list("date", flat=True)) == [TOMORROW], "the day's salt is gone"
    visitors._salts.clear()


def test_the_client_address_comes_from_the_proxy_header_only_when_configured(settings):
    request = _request(ip="10.0.0.2", HTTP_X_REAL_IP="203.0.113.9")
    assert visitors.client_ip(request) == "10.0.0.2"
    settings.BLOG_CLIENT_IP_HEADER = "X-Real-IP"
    assert visitors.client_ip(request) == "203.0.113.9"
    assert visitors.client_ip(_request(ip="not-an-ip")) == "unknown"


def test_the_database_stores_a_digest_of_the_visitor_id():
    digest = visitor_digest("c:abcdefghijklmnop")
    assert re.fullmatch(r"[0-9a-f]{24}", digest)
    assert "abcdefghijklmnop" not in digest
