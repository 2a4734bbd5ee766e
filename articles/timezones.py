"""Which time zone a request's dates are shown (and typed) in.

Reader pages follow the site's zone (``SiteSettings.time_zone``, by default
``DJANGO_TIME_ZONE``): article dates, archives by month. In the admin an editor sees and
types times in their own zone: the browser's, which ``static/editor/admin-tz.js`` keeps in
a cookie, so scheduling "at 9:00" means 9:00 where the editor is. Stats day boundaries stay
on ``settings.TIME_ZONE`` (the rollups' days must not move when an editor changes a setting).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta, tzinfo
from functools import cache
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from .selectors import site_settings

EDITOR_TZ_COOKIE = "blog_editor_tz"


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(_known_zones())]


def zone_or_none(name: str | None) -> zoneinfo.ZoneInfo | None:
    if not name or name not in _known_zones():
        return None
    return zoneinfo.ZoneInfo(name)


def site_zone() -> zoneinfo.ZoneInfo:
    return zone_or_none(site_settings().time_zone) or zoneinfo.ZoneInfo(settings.TIME_ZONE)


def editor_zone(request: HttpRequest) -> zoneinfo.ZoneInfo | None:
    """The editor's own zone, as their browser reported it (None before it has)."""
    return zone_or_none(unquote(request.COOKIES.get(EDITOR_TZ_COOKIE, "")))


class LazySiteZone(tzinfo):
    """The site's zone, looked up the first time a date is shown: a page answered from the
    cache never reads the site settings (no extra cache round trip per request)."""

    def __init__(self) -> None:
        self._zone: zoneinfo.ZoneInfo | None = None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        if self._zone is None:
            self._zone = site_zone()
        return self._zone

    @property
    def key(self) -> str:
        return self.zone.key

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return self.zone.utcoffset(dt)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return self.zone.dst(dt)

    def tzname(self, dt: datetime | None) -> str | None:
        # Django names a zone by tzname(None) (database conversions, the admin): the key.
        return self.zone.key if dt is None else self.zone.tzname(dt)

    def fromutc(self, dt: datetime) -> datetime:
        return self.zone.fromutc(dt.replace(tzinfo=self.zone))

    def __str__(self) -> str:
        return self.zone.key

    def __repr__(self) -> str:
        return f"LazySiteZone({self._zone.key if self._zone else '?'})"


@cache
def _admin_prefix() -> str:
    return reverse("admin:index")


class SiteTimezoneMiddleware:
    """Activates the editor's zone in the admin and the site's zone everywhere else."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = editor_zone(request) if request.path.startswith(_admin_prefix()) else None
        timezone.activate(zone or LazySiteZone())
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
