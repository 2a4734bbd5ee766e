"""Per-request parts of otherwise shared pages: the reader's language and holes."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import (
    get_supported_language_variant,
    parse_accept_lang_header,
)

from . import registry
from .cache import CSRF_HOLE

LIVE_WIDGET_HOLE = re.compile(rb"<!--live-widget:(\d+)-->")


def _accepted_language(request: HttpRequest) -> str | None:
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def _cookie_language(request: HttpRequest) -> str | None:
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if not code:
        return None
    try:
        return get_supported_language_variant(code)
    except LookupError:
        return None


class SiteLanguageMiddleware:
    """Language: the reader's explicit choice (cookie), then Accept-Language, then the
    default chosen in the site settings. URLs carry no language prefix."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = _cookie_language(request) or _accepted_language(request)
        if language is None:
            from .selectors import site_settings

            language = site_settings().language
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response


class HoleFillingMiddleware:
    """Fills the per-visitor holes left in cached HTML: the CSRF token, live widgets and
    the holes other apps register (``articles.registry.register_hole``).

    Sits inside CsrfViewMiddleware so that a token created here still gets its cookie.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return response
        content = original = response.content
        fillers = {CSRF_HOLE: get_token, **registry.holes()}
        for placeholder, fill in fillers.items():
            if placeholder.encode() in content:
                content = content.replace(placeholder.encode(), fill(request).encode())
        if b"<!--live-widget:" in content:
            from .widgets import render_live_widget

            content = LIVE_WIDGET_HOLE.sub(
                lambda match: render_live_widget(int(match.group(1)), request).encode(), content
            )
        if content is not original:
            response.content = content
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(content))
        return response
