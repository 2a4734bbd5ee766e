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
STRUCTURE_KEY = "gen:structure"
# Within a request the versions are read once: the page cache, the fragments and the
# memoised reads of one response all use the same ones (and save a cache round trip each).
_request_versions: ContextVar[dict[str, int] | None] = ContextVar("request_versions", default=None)


def bump_generation(*, structure: bool = False) -> int:
    """Invalidate every cached fragment and page (called on commit of relevant writes).

    ``structure=True`` also renews the structure version: the settings, widgets,
    categories and navigation pages changed (see ``memoize_per_structure``).
    """
    generation = time.time_ns()
    values = {GENERATION_KEY: generation, NEXT_PUBLICATION_KEY: _next_publication_timestamp()}
    if structure:
        values[STRUCTURE_KEY] = generation
    cache.set_many(values, timeout=None)
    if (held := _request_versions.get()) is not None:
        held.clear()  # read again, with the other process's writes, if needed later
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
    return _versions_and()[0]["site"]


def current_structure_version() -> int:
    return _versions_and()[0]["structure"]


def _versions_and(*keys: str) -> tuple[dict[str, int], dict]:
    """The site generation, the structure version and the values at ``keys``, in one
    cache round trip. Within a request the versions are read once
    (``RequestGenerationMiddleware``); later calls fetch only ``keys``.
    """
    held = _request_versions.get()
    if held:
        return held, cache.get_many(keys) if keys else {}
    values = cache.get_many([GENERATION_KEY, NEXT_PUBLICATION_KEY, STRUCTURE_KEY, *keys])
    generation = values.pop(GENERATION_KEY, None)
    due_at = values.pop(NEXT_PUBLICATION_KEY, _NO_SCHEDULE)
    structure = values.pop(STRUCTURE_KEY, None)
    if generation is None:  # the cache was emptied: nothing cached can be trusted
        generation = structure = bump_generation(structure=True)
    elif due_at and due_at <= time.time():
        generation = bump_generation()
    if structure is None:  # evicted alone
        structure = time.time_ns()
        cache.set(STRUCTURE_KEY, structure, timeout=None)
    versions = {"site": generation, "structure": structure}
    if held is not None:
        held.update(versions)
    return versions, values


class RequestGenerationMiddleware:
    """Reads the cache versions at most once per request (see ``_versions_and``)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_versions.set({})
        try:
            return self.get_response(request)
        finally:
            _request_versions.reset(token)


_memo: dict[tuple[int, str], object] = {}
_structure_memo: dict[tuple[int, str], object] = {}


def _memoized(
    function: Callable[[], T], *, version: Callable[[], int], memo: dict, load: Callable[[int], T]
) -> Callable[[], T]:
    """``function``'s result kept in ``memo`` while ``version()`` holds; only the current
    version's values are kept."""

    @functools.wraps(function)
    def wrapper() -> T:
        current = version()
        key = (current, function.__qualname__)
        if key not in memo:
            for stale in [k for k in memo if k[0] != current]:
                memo.pop(stale, None)
            memo[key] = load(current)
        return memo[key]

    return wrapper


def memoize_per_generation(function: Callable[[], T]) -> Callable[[], T]:
    """Keep a read's result in this process for as long as the site generation holds.

    For data that several fragments share while they are built (the published digest);
    the generation is shared by every process, so no process serves stale data.
    """
    return _memoized(function, version=current_generation, memo=_memo, load=lambda _version: function())


def memoize_per_structure(function: Callable[[], T]) -> Callable[[], T]:
    """Keep a small read in this process and in the shared cache until the site structure
    (settings, widgets, categories, pages) changes.

    Articles and comments change far more often than the structure; with this, a page
    rebuilt after such a write does not query the structure again.
    """

    def load(version: int) -> T:
        shared_key = f"struct:{version}:{function.__module__}.{function.__qualname__}"
        value = cache.get(shared_key)
        if value is None:
            value = function()
            cache.set(shared_key, value, settings.BLOG_PAGE_CACHE_TIMEOUT)
        return value

    return _memoized(function, version=current_structure_version, memo=_structure_memo, load=load)


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

    One entry per language, path and page number (other query strings are ignored), holding
    the generation it was rendered under: an entry of an older generation is a miss and is
    overwritten. So the generation and the page come in one cache round trip, and old pages
    do not pile up. Per-visitor holes (the CSRF token) are filled on the way out; the stats
    middleware sits outside and still counts the view (``viewed_article_id`` travels with
    the cached page).
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        page_number = request.GET.get("page", "1")
        # Only the page number changes what these pages show; other query strings
        # (tracking tags, junk) must not each claim a cache entry.
        if not _is_cacheable_request(request) or not (page_number.isdigit() and len(page_number) <= 6):
            return view(request, *args, **kwargs)
        key = f"page:{get_language()}:{request.path}:{int(page_number)}"
        versions, values = _versions_and(key)
        generation = versions["site"]
        entry = values.get(key)
        if entry is not None and entry.get("generation") == generation:
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
                        "generation": generation,
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
