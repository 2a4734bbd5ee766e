"""The CSRF token of a cached page's forms, through Django's own middleware.

Filled only for a reader who holds a CSRF cookie: a reader without one is given none by
reading (no cookie until they post: the comment form's script asks for a token then, and
without JavaScript the refused post is the article again, the text kept and the cookie
given: ``comments.views.post_comment``). For a reader who holds one, the token masked for
their cookie is kept per process: it stays valid for as long as the cookie does, and it is
never compressed with the page (holes go out as stored gzip blocks), which is what the
per-response mask guards against (BREACH).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_SECRET_LENGTH, CsrfViewMiddleware, get_token

from .holes import register_hole

_csrf = CsrfViewMiddleware(lambda request: HttpResponse())
_tokens: dict[str, str] = {}  # a reader's CSRF cookie -> a token masked for it
_TOKENS_MAX = 20_000


def _is_secret(cookie: str) -> bool:
    """A cookie Django keeps as it is (a secret of its own making, not one it replaces)."""
    return len(cookie) == CSRF_SECRET_LENGTH and cookie.isascii() and cookie.isalnum()


def _fill_csrf(request: HttpRequest, args: list[str]) -> dict[str, str]:
    cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    token = _tokens.get(cookie)
    if token is None:
        # A cached page skips CsrfViewMiddleware: read the reader's secret as it would,
        # then one masked token for every form on the page; the cookie is sent again.
        _csrf.process_request(request)
        token = get_token(request)
        request.page_cache_csrf_cookie = True  # type: ignore[attr-defined]
        if _is_secret(cookie):
            if len(_tokens) >= _TOKENS_MAX:
                _tokens.clear()
            _tokens[cookie] = token
    return dict.fromkeys(args, token)


def forget_tokens() -> None:
    _tokens.clear()


def send_csrf_cookie(request: HttpRequest, response: HttpResponse) -> None:
    """The CSRF cookie, when a new token was made for this response (as
    CsrfViewMiddleware sends it)."""
    if getattr(request, "page_cache_csrf_cookie", False):
        _csrf.process_response(request, response)


register_hole("csrf", _fill_csrf, batch=True, cookie=settings.CSRF_COOKIE_NAME)
