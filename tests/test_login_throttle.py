"""Admin sign-in is throttled per account and per address (django-axes): after
AXES_FAILURE_LIMIT wrong passwords the account is paused from every address, and the
address for every account; rotating IPv6 addresses within a /64 does not help. Counted in
Redis in production (the real-backend pass runs this on it), in the database embedded."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client

from articles.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def admins(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return [
        UserFactory(username=name, is_staff=True, is_superuser=True, password=PASSWORD)
        for name in ("boss", "other")
    ]


def _log_in(username: str, password: str, ip: str = "203.0.113.9"):
    return Client(REMOTE_ADDR=ip).post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )


def test_the_handler_matches_the_backends():
    expected = "cache.AxesCacheHandler" if django_settings.REDIS_URL else "database.AxesDatabaseHandler"
    assert django_settings.AXES_HANDLER.endswith(expected)


def test_wrong_passwords_pause_the_account_everywhere(admins):
    for n in range(2):
        assert _log_in("boss", "wrong", ip=f"198.51.100.{n + 1}").status_code == 200  # the form again
    assert _log_in("boss", "wrong", ip="198.51.100.3").status_code == 429  # the third: paused
    locked = _log_in("boss", PASSWORD, ip="192.0.2.50")  # right password, fresh address
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert _log_in("other", PASSWORD, ip="192.0.2.50").status_code == 302  # other accounts work


def test_wrong_passwords_pause_the_address_for_every_account(admins):
    for n in range(2):
        assert _log_in(f"guess{n}", "wrong").status_code == 200
    assert _log_in("guess2", "wrong").status_code == 429
    assert _log_in("boss", PASSWORD).status_code == 429
    assert _log_in("boss", PASSWORD, ip="203.0.113.10").status_code == 302  # another address


def test_rotating_addresses_within_an_ipv6_64_does_not_help(admins):
    for n in range(2):
        assert _log_in(f"guess{n}", "wrong", ip=f"2001:db8:7:7::{n + 1}").status_code == 200
    assert _log_in("guess2", "wrong", ip="2001:db8:7:7::3").status_code == 429
    assert _log_in("boss", PASSWORD, ip="2001:db8:7:7:abcd::1").status_code == 429
    assert _log_in("boss", PASSWORD, ip="2001:db8:7:8::1").status_code == 302


def test_a_right_password_before_the_limit_resets_the_count(admins):
    for _ in range(2):
        _log_in("boss", "wrong")
    assert _log_in("boss", PASSWORD).status_code == 302
    for _ in range(2):
        _log_in("boss", "wrong")
    assert _log_in("boss", PASSWORD).status_code == 302
