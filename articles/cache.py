"""Versioned caching of fragments and whole anonymous pages.

One generation number covers everything a public page shows. Any relevant write bumps it
(see ``signals.py``), so every page of every list is fresh at once; old keys simply age
out. Scheduled articles need no write to appear: the time of the next scheduled
publication is stored next to the generation, and reading the generation after that time
bumps it.

A cache outage (django-redis with IGNORE_EXCEPTIONS) reads as a miss everywhere: pages get
slower, never broken.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

GENERATION_KEY = "gen:site"
NEXT_PUBLICATION_KEY = "gen:next-publication"
# Stands in for the CSRF token in cached HTML; CsrfHoleMiddleware fills it per request.
CSRF_HOLE = "__csrf_token_hole__"
_NO_SCHEDULE = 0.0
T = TypeVar("T")
# Within a request the generation is read once: the page cache, the fragments and the
# memoised reads of one response all use the same one (and save a cache round trip each).
_request_generation: ContextVar[list[int] | None] = ContextVar("request_generation", default=None)


def bump_generation() -> int:
    """Invalidate every cached fragment and page (called on commit of relevant writes)."""
    generation = time.time_ns()
    cache.set_many(
        {GENERATION_KEY: generation, NEXT_PUBLICATION_KEY: _next_publication_timestamp()},
        timeout=None,
    )
    if (held := _request_generation.get()) is not None:
        held[:] = [generation]
    return generation


def _next_publication_timestamp() -> float:
    from .models import Article

    upcoming = (
        Article.objects.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    return upcoming.timestamp() if upcoming else _NO_SCHEDULE


def current_generation() -> int:
    """The generation in force, bumping it if a scheduled article has come due."""
    held = _request_generation.get()
    if held:
        return held[0]
    values = cache.get_many([GENERATION_KEY, NEXT_PUBLICATION_KEY])
    generation = values.get(GENERATION_KEY)
    due_at = values.get(NEXT_PUBLICATION_KEY, _NO_SCHEDULE)
    if generation is None or (due_at and due_at <= time.time()):
        generation = bump_generation()
    if held is not None:
        held[:] = [generation]
    return generation


class RequestGenerationMiddleware:
    """Reads the site generation at most once per request (see ``current_generation``)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_generation.set([])
        try:
            return self.get_response(request)
        finally:
            _request_generation.reset(token)


_memo: dict[tuple[int, str], object] = {}


def memoize_per_generation(function: Callable[[], T]) -> Callable[[], T]:
    """Keep a read's result in this process for as long as the site generation holds.

    For data that several fragments share while they are built (categories, the published
    digest); the generation is shared by every process, so no process serves stale data.
    Only the current generation's values are kept.
    """

    @functools.wraps(function)
    def wrapper() -> T:
        generation = current_generation()
        key = (generation, function.__qualname__)
        if key not in _memo:
            for stale in [k for k in _memo if k[0] != generation]:
                _memo.pop(stale, None)
            _memo[key] = function()
        return _memo[key]  # type: ignore[return-value]

    return wrapper


def fragment_key(name: str, *parts: object) -> str:
    suffix = ":".join(str(part) for part in parts)
    return f"frag:{current_generation()}:{get_language()}:{name}:{suffix}"


def cached_fragment(name: str, *parts: object, build: Callable[[], str]) -> str:
    """Small rendered HTML, cached under the current generation and language."""
    key = fragment_key(name, *parts)
    html = cache.get(key)
    if html is None:
        html = build()
        cache.set(key, html, settings.BLOG_PAGE_CACHE_TIMEOUT)
    return html


def _is_cacheable_request(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if any(name in request.COOKIES for name in settings.BLOG_PAGE_CACHE_BYPASS_COOKIES):
        return False
    # Only a visitor without a session can be anonymous for sure without a query.
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


def anonymous_page_cache(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve whole pages to anonymous readers from the cache.

    The key holds the generation, the language and the full path with its query, so every
    variant is stored apart. Per-visitor holes (the CSRF token) are filled on the way out;
    the stats middleware sits outside and still counts the view (``viewed_article_id``
    travels with the cached page).
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        page_number = request.GET.get("page", "1")
        # Only the page number changes what these pages show; other query strings
        # (tracking tags, junk) must not each claim a cache entry.
        if not _is_cacheable_request(request) or not (page_number.isdigit() and len(page_number) <= 6):
            return view(request, *args, **kwargs)
        key = f"page:{current_generation()}:{get_language()}:{request.path}:{int(page_number)}"
        entry = cache.get(key)
        if entry is not None:
            response = HttpResponse(entry["content"], content_type=entry["content_type"])
            request.viewed_article_id = entry.get("article_id")
            response["X-Page-Cache"] = "hit"
        else:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
            if response.status_code == 200 and not response.cookies and not response.streaming:
                cache.set(
                    key,
                    {
                        "content": response.content,
                        "content_type": response["Content-Type"],
                        "article_id": getattr(request, "viewed_article_id", None),
                    },
                    settings.BLOG_PAGE_CACHE_TIMEOUT,
                )
            response["X-Page-Cache"] = "miss"
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        return response

    return wrapper
