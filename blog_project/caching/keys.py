"""Which requests the page cache answers, and under which key.

A page's key is its path (the language is in it: ``/zh-hans/...``) and the query
parameters its view declares (``@cache_page(params=("page",))``), normalised. Any other
parameter (``?utm_source=``, a random ``?q=`` on the home page) shares the page's entry:
the view is handed a request with only the declared parameters, so the stored page cannot
depend on the others. (Bypassing the cache for such URLs instead would let anyone make
every request render from the database by adding ``?x=<random>``.)
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpRequest
from django.urls import Resolver404, get_urlconf, resolve
from django.utils import translation

NUMBER_PARAMS = frozenset({"page", "p"})  # page numbers: digits, 1 is the default


def page_language(request: HttpRequest) -> str:
    """The language of the page at this URL: its prefix, else the default language."""
    return translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE


def passes_through(request: HttpRequest) -> bool:
    """Static files and health checks: answered below, without a lookup."""
    path = request.path_info
    return path.startswith(settings.STATIC_URL or "/static/") or path in ("/healthz", "/readyz")


def bypasses_cache(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD"):
        return True
    cookies = request.COOKIES
    # A session means a logged-in user (possibly staff); a messages cookie means a notice
    # meant for this reader alone, shown once (then the page is cached for them again).
    if settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies:
        return True
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return True  # SecurityMiddleware, below, redirects it
    return request.path.startswith(settings.BLOG_PAGE_CACHE_SKIP_PREFIXES)


@lru_cache(maxsize=4096)
def declared_params(path_info: str, language: str, urlconf: str | None) -> tuple[str, ...] | None:
    """The query parameters the view at ``path_info`` reads, or None when it is not a
    cached view (kept per process: readers ask for the same few thousand paths)."""
    with translation.override(language):  # i18n_patterns match the active language's prefix
        try:
            match = resolve(path_info, urlconf)
        except Resolver404:
            return None
    return getattr(match.func, "page_cache_params", None)


def page_key(request: HttpRequest, language: str) -> tuple[str, str] | None:
    """The page's key and the query string its view is given, or None when this request's
    page is not cached (not a cached view; a malformed page number: the view answers it)."""
    urlconf = getattr(request, "urlconf", None) or get_urlconf() or settings.ROOT_URLCONF
    params = declared_params(request.path_info, language, urlconf)
    if params is None:
        return None
    query = normalised_query(params, request.GET) if params else ""
    if query is None:
        return None
    location = quote(request.path) + ("?" + query if query else "")
    if len(location) > 200:
        location = hashlib.sha1(location.encode(), usedforsecurity=False).hexdigest()
    return f"pc:page:{location}", query


def normalised_query(params: tuple[str, ...], query) -> str | None:
    """The declared parameters of ``query``, normalised (None: a malformed page number)."""
    kept = []
    for name in params:
        raw = query.get(name)
        if raw is None:
            continue
        if name in NUMBER_PARAMS:
            if not (raw.isdigit() and len(raw) <= 6):
                return None
            if int(raw) == 1:
                continue
            raw = str(int(raw))
        else:
            raw = " ".join(raw.split())[:100]
            if not raw:
                continue
        kept.append((name, raw))
    return urlencode(kept, quote_via=quote)
