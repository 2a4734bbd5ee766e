"""The core's template filters: machine-readable times and URLs checked when shown."""

from datetime import timedelta

import pytest
from django.utils import timezone

from articles.templatetags.blog import machine_time, web_url


def test_machine_time_is_local_to_the_second_with_its_offset(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    moment = timezone.now().replace(microsecond=684662)
    text = machine_time(moment)
    local = timezone.localtime(moment)
    assert text == local.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"
    assert "." not in text  # HTML allows at most three digits of a fraction; none here
    assert machine_time(None) == ""


def test_machine_time_of_a_naive_value_has_no_fraction():
    naive = timezone.now().replace(tzinfo=None, microsecond=5) - timedelta(days=1)
    assert machine_time(naive) == naive.strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.parametrize(
    "url",
    ["https://example.com/", "http://example.com/a?b=c#d", "HTTPS://EXAMPLE.COM", "https://例子.中国/路径"],
)
def test_web_urls_pass(url):
    assert web_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "ftp://example.com/",
        "https:alert(1)",  # no host
        "//evil.example/",  # protocol-relative: not without "relative"
        "/relative/path",  # only with "relative"
        "mailto:a@example.com",
        "http://[::1",  # unparsable
        "",
        None,
    ],
)
def test_other_urls_are_dropped(url):
    assert web_url(url) == ""


def test_site_paths_pass_only_when_asked():
    assert web_url("/p/about/", "relative") == "/p/about/"
    assert web_url("//evil.example/", "relative") == ""
    assert web_url("/\\evil.example", "relative") == ""
    assert web_url("javascript:alert(1)", "relative") == ""
