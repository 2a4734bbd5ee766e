"""No input makes a 500, nor an ERROR in the log: every form of the site is posted with odd
charsets, malformed bodies and headers (as a hostile visitor would, with a CSRF cookie so
that the token check really reads the body)."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from articles.tests.factories import ArticleFactory
from comments import notifications

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
BODIES = {
    "latin-1": (f"{FORM}; charset=latin-1", "q=caf\xe9&csrfmiddlewaretoken=x".encode("latin-1")),
    "unknown charset": (f"{FORM}; charset=no-such-charset", b"q=x&csrfmiddlewaretoken=x"),
    "utf-16": (f"{FORM}; charset=utf-16", "q=x".encode("utf-16")),
    "invalid utf-8": (FORM, b"q=\xff\xfe\xfd&body=%ff%fe&csrfmiddlewaretoken=\xc3\x28"),
    "bad percent escapes": (FORM, b"q=%ZZ%&%%%=%&csrfmiddlewaretoken=%"),
    "nul bytes": (FORM, b"q=a%00b&author_name=%00&body=\x00\x00"),
    "multipart without boundary": ("multipart/form-data", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
    "multipart garbage": ("multipart/form-data; boundary=zz", b"--zz\r\nnot a header\r\n\r\n--zz"),
    "multipart bad charset": (
        "multipart/form-data; boundary=zz; charset=no-such",
        b'--zz\r\nContent-Disposition: form-data; name="q"\r\n\r\nx\r\n--zz--\r\n',
    ),
    "json": ("application/json", b'{"q": [1, {"x": null}]}'),
    "plain text": ("text/plain; charset=utf-8", b"just text"),
    "no content type": ("", b"q=x"),
    "too many fields": (FORM, "&".join(f"f{n}=1" for n in range(1200)).encode()),
    "empty": (FORM, b""),
}
HEADERS = {
    "plain": {},
    "odd languages": {"HTTP_ACCEPT_LANGUAGE": "*;q=x, zz-ZZ;q=1.5, \u4e2d\u6587, ,;;"},
    "odd cookies": {
        "HTTP_COOKIE": 'csrftoken=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; django_language=\xff"; a=b=c; ;;'
    },
    "odd referer and origin": {"HTTP_REFERER": "ht!tp://[::1", "HTTP_ORIGIN": "null"},
    "bad host": {"HTTP_HOST": "evil.example:99999"},
    "odd forwarded": {"HTTP_X_REAL_IP": "<script>", "HTTP_X_FORWARDED_FOR": "1.2.3.4.5, ::zz"},
}


@pytest.fixture
def endpoints(db) -> list[str]:
    article = ArticleFactory(slug="hostile")
    token = notifications.unsubscribe_token("ada@example.com")
    return [
        "/",
        "/search/",
        "/admin/login/",
        "/i18n/setlang/",
        "/editor/markdownify/",
        f"/comments/post/{article.pk}/",
        f"/comments/unsubscribe/{token}/",
        "/comments/unsubscribe/%ff%fe/",
        "/search/?q=%ff%fe&page=%00",
    ]


def _errors(caplog) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


def test_every_form_survives_odd_bodies(endpoints, caplog, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.cookies["csrftoken"] = "a" * 32
    caplog.set_level(logging.INFO)
    for path in endpoints:
        for name, (content_type, body) in BODIES.items():
            response = client.generic("POST", path, body, content_type=content_type)
            assert response.status_code < 500, (path, name, response.status_code)
    assert _errors(caplog) == []


def test_every_form_survives_odd_headers(endpoints, caplog):
    caplog.set_level(logging.INFO)
    for path in endpoints:
        for name, headers in HEADERS.items():
            client = Client(enforce_csrf_checks=True, raise_request_exception=False)
            client.cookies["csrftoken"] = "a" * 32
            for method in ("GET", "POST"):
                content_type, body = BODIES["latin-1"]
                response = client.generic(method, path, body, content_type=content_type, **headers)
                assert response.status_code < 500, (path, name, method, response.status_code)
    assert _errors(caplog) == []


def test_an_oversized_body_is_refused_cleanly(endpoints, caplog, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    caplog.set_level(logging.INFO)
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.cookies["csrftoken"] = "a" * 32
    for path in endpoints:
        response = client.generic("POST", path, b"q=" + b"x" * 20_000, content_type=FORM)
        assert response.status_code < 500, path
    assert _errors(caplog) == []


def test_the_unreadable_form_page_is_a_plain_400(client):
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32
    content_type, body = BODIES["latin-1"]
    response = client.generic("POST", "/i18n/setlang/", body, content_type=content_type)
    assert response.status_code == 400
    assert "This request could not be read" in response.content.decode()
