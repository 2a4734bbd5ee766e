"""Time zones: reader pages and archives follow the site's zone (a site setting, by default
DJANGO_TIME_ZONE), the admin follows the editor's own (the browser's, from a cookie)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from articles.models import SiteSettings, default_time_zone
from articles.tests.factories import ArticleFactory
from articles.timezones import EDITOR_TZ_COOKIE, LazySiteZone

pytestmark = pytest.mark.django_db


def test_the_default_is_django_time_zone(settings):
    settings.TIME_ZONE = "Europe/Paris"
    assert default_time_zone() == "Europe/Paris"
    SiteSettings.objects.all().delete()
    assert SiteSettings.load().time_zone == "Europe/Paris"


def test_an_unknown_zone_is_refused():
    site = SiteSettings.load()
    site.time_zone = "Mars/Olympus_Mons"
    with pytest.raises(ValidationError) as error:
        site.full_clean()
    assert "time_zone" in error.value.message_dict


def test_reader_pages_and_archives_follow_the_site_zone(client, django_capture_on_commit_callbacks):
    # 23:30 UTC on the last day of a month: already the next month east of UTC.
    last_month = timezone.now().replace(day=1) - timedelta(days=1)
    moment = datetime(last_month.year, last_month.month, last_month.day, 23, 30, tzinfo=ZoneInfo("UTC"))
    article = ArticleFactory(published_at=moment)
    site = SiteSettings.load()
    for zone in ("UTC", "Asia/Tokyo"):
        site.time_zone = zone
        with django_capture_on_commit_callbacks(execute=True):  # the cached pages go stale at once
            site.save()
        local = moment.astimezone(ZoneInfo(zone))
        html = client.get(article.get_absolute_url()).content.decode()
        assert local.strftime("%Y-%m-%d") in html
        archive = client.get(f"/archives/{local.year}/{local.month}/").content.decode()
        assert article.title in archive


def test_the_admin_uses_the_editors_zone(staff_client):
    staff_client.cookies[EDITOR_TZ_COOKIE] = "America%2FLos_Angeles"  # an encoded value is read too
    html = staff_client.get("/admin/articles/article/add/").content.decode()
    assert "In your time zone (America/Los_Angeles)" in html
    offset = timezone.now().astimezone(ZoneInfo("America/Los_Angeles")).strftime("%z")
    assert f'data-admin-utc-offset="{int(offset[:3]) * 3600 + int(offset[0] + offset[3:]) * 60}"' in html
    staff_client.cookies[EDITOR_TZ_COOKIE] = "Not/A_Zone"
    site_zone = SiteSettings.load().time_zone
    assert (
        f"In your time zone ({site_zone})"
        in staff_client.get("/admin/articles/article/add/").content.decode()
    )


def test_the_lazy_zone_reads_the_settings_only_when_a_date_is_shown(django_assert_num_queries):
    site = SiteSettings.load()
    site.time_zone = "Asia/Kolkata"
    site.save()
    zone = LazySiteZone()
    moment = datetime(2020, 1, 1, 12, 0, tzinfo=ZoneInfo("UTC"))  # fixed date: a zone conversion, no clock
    assert moment.astimezone(zone).strftime("%H:%M") == "17:30"
    assert str(zone) == "Asia/Kolkata" and zone.tzname(None) == "Asia/Kolkata"
    assert zone.utcoffset(moment.replace(tzinfo=None)) == timedelta(hours=5, minutes=30)
