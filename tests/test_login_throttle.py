"""Admin sign-in is throttled per address (django-axes): after AXES_FAILURE_LIMIT wrong
passwords the address is paused for every account; rotating IPv6 addresses within a /64
does not help. An account is never paused from every address, so nobody can keep an
editor out; the attempts live in the database (MariaDB in the real pass), where a flood of
cached pages cannot evict them, and `axes_reset` lifts a pause."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
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


def test_attempts_are_kept_in_the_database_in_every_mode():
    assert django_settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


def test_a_stranger_cannot_lock_an_editor_out(admins):
    """Wrong passwords for the editor's name from elsewhere, as many as a stranger likes,
    pause only the stranger's address; the editor signs in from theirs meanwhile."""
    for n in range(12):
        _log_in("boss", "wrong", ip="198.51.100.66")
        if n % 4 == 3:  # and from a few other addresses too
            _log_in("boss", "wrong", ip=f"198.51.100.{n}")
    stranger = _log_in("boss", PASSWORD, ip="198.51.100.66")
    assert stranger.status_code == 429
    assert "Too many failed sign-ins" in stranger.content.decode()
    assert _log_in("boss", PASSWORD, ip="192.0.2.50").status_code == 302


def test_a_pause_survives_a_flushed_cache_and_axes_reset_lifts_it(admins):
    """The worst a page-cache flood can do is empty the cache: the pause holds. docs/production.md's
    way out works with the settings of every mode."""
    for n in range(3):
        _log_in(f"guess{n}", "wrong")
    cache.clear()
    assert _log_in("boss", PASSWORD).status_code == 429
    call_command("axes_reset")
    assert _log_in("boss", PASSWORD).status_code == 302


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
