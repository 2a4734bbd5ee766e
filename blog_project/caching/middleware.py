"""The page cache: ``PageCacheMiddleware`` answers cached pages at the edge of the stack,
and ``cache_page`` lets a view's responses be stored.

1. The middleware is first in ``MIDDLEWARE``. For an anonymous GET of a cached view it
   builds the page key (``keys``). If this process holds a copy of the page under the
   generation it knows to be current (``watch``: nothing announced since it was read),
   the copy is answered with no round trip at all; otherwise the store is asked, in ONE
   round trip, for the generation and the page (unless this process holds a copy). A
   current copy is answered there and then, in the language of its URL: no session,
   auth, URL resolving or view runs; the holes are filled (``holes``) and the view is
   counted by the stats app (which writes its counts in batches).
2. On a miss the request goes down the stack with only the page's declared query
   parameters; the page is stored under the generation read *before* the view ran (so a
   write that commits meanwhile can never be hidden by an older page).
3. The store cannot be read (Redis down): this process's copy, current a moment ago, is
   answered for ``BLOG_PAGE_CACHE_OUTAGE_SECONDS``; then pages render from the database.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import translation

from . import counting, memo
from .csrf import send_csrf_cookie
from .gzip import GZIP_MIN_BYTES, accepts_gzip, gzipped
from .holes import HOLE_START, fillings, joined, reader_layer, render, segments
from .keys import bypasses_cache, page_key, page_language, passes_through
from .pages import Entry, local_pages
from .scopes import Generation
from .stores import store
from .versions import bump

# Not stored among a page's headers: those of one response only, and the content type
# (an entry keeps it apart).
_UNSTORED_HEADERS = frozenset(
    {"content-type", "content-length", "content-encoding", "vary", "set-cookie", "x-page-cache", "date"}
)


def cache_page(*, params: tuple[str, ...] = (), timeout: int | None = None) -> Callable:
    """Let the page cache store this view's responses to anonymous readers (200, not
    streamed, no cookie set by the view, not private). ``params``: the query parameters
    the view reads; it is given no others."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
            private = "private" in response.get("Cache-Control", "")
            if (
                response.status_code == 200
                and not response.streaming
                and not response.cookies
                and not private
            ):
                # Read back with getattr() by the middleware that stores the page.
                response.page_cache_timeout = (  # type: ignore[attr-defined]
                    timeout or settings.BLOG_PAGE_CACHE_TIMEOUT
                )
            return response

        # The parameters the page key reads (``keys.declared_params``).
        wrapper.page_cache_params = tuple(params)  # type: ignore[attr-defined]
        return wrapper

    return decorator


@dataclass
class _Miss:
    key: str
    query: str
    generation: Generation


class PageCacheMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Every read of the versions below this point, in this request, shares one memo.
        with memo.request_memo():
            return self._handle(request)

    def _handle(self, request: HttpRequest) -> HttpResponse:
        if passes_through(request):
            return self.get_response(request)
        if bypasses_cache(request):
            response = self.get_response(request)
            self._fill_holes(request, response)
            return response
        language = page_language(request)
        # A URL is one page in one language: what LocaleMiddleware (below) could negotiate
        # from is put aside, so that it settles on the URL's language too.
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        request.COOKIES.pop(settings.LANGUAGE_COOKIE_NAME, None)
        request.LANGUAGE_CODE = language
        if translation.get_language() == language:  # override() would set it and set it back
            return self._serve(request, language)
        with translation.override(language):
            return self._serve(request, language)

    def _serve(self, request: HttpRequest, language: str) -> HttpResponse:
        keyed = page_key(request, language)
        if keyed is None:
            return self._render(request, None)
        key, query = keyed
        local = local_pages.get(key)
        pages = store()
        if local is not None:
            known = pages.watch.known()
            if known is not None and known.value == local.generation and not known.is_due():
                return self._answer(request, local)  # current, and no round trip to know it
        ticket = pages.watch.ticket()
        lookup = pages.lookup(key if local is None else None)
        generation = lookup.generation
        pages.watch.learned(ticket, generation)
        if generation is None:  # the store cannot be read (Redis hung or down)
            if (
                local is not None
                and local.checked_at > time.monotonic() - settings.BLOG_PAGE_CACHE_OUTAGE_SECONDS
            ):
                # No other process's write can reach us now anyway: this process's copy,
                # current a moment ago, beats rendering every page from the database.
                return self._answer(request, local)
            return self._render(request, None)
        if generation.is_due(lookup.at):
            bump("articles")  # a scheduled article has come due: everything is stale
            fresh = pages.lookup(None).generation
            return self._render(request, _Miss(key, query, fresh) if fresh else None)
        entry: Entry | None = local
        if local is not None and local.generation == generation.value:
            local.checked_at = time.monotonic()
        else:
            raw = lookup.entry if local is None else pages.lookup(key).entry  # ours is stale
            entry = Entry.load(raw) if raw else None
            if entry is not None and entry.generation == generation.value:
                local_pages.put(key, entry)
            else:
                entry = None
        if entry is None:
            return self._render(request, _Miss(key, query, generation))
        return self._answer(request, entry)

    def _answer(self, request: HttpRequest, entry: Entry) -> HttpResponse:
        """A current stored page, its view counted (the stats app decides whose)."""
        counter = counting.counter
        if counter is not None and entry.countable:
            counter.count(request, entry.article_id)
        return self._respond(request, entry, hit=True)

    def _render(self, request: HttpRequest, miss: _Miss | None) -> HttpResponse:
        counter = counting.counter
        if miss is not None:
            held = memo.current()
            if held is not None:
                held.generation = miss.generation
            # The page may depend on its declared parameters only.
            request.GET = QueryDict(miss.query)
            request.META["QUERY_STRING"] = miss.query
        response = self.get_response(request)  # counted below, if a page view, by stats
        timeout = getattr(response, "page_cache_timeout", None)
        if miss is None or timeout is None:
            self._fill_holes(request, response)
            return response
        entry = Entry(
            generation=miss.generation.value,
            content_type=response["Content-Type"],
            article_id=getattr(request, "viewed_article_id", None),
            countable=bool(counter and counter.is_countable_page(request, response)),
            # What the layers below gave the page (the security and policy headers too:
            # this middleware is first), for every reader it is answered to.
            headers={
                name: value for name, value in response.items() if name.lower() not in _UNSTORED_HEADERS
            },
            segments=segments(response.content),
            size=len(response.content),
        )
        entry.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        store().put(miss.key, entry.dump(), timeout)
        local_pages.put(miss.key, entry)
        filled = self._respond(request, entry, hit=False)
        for name, morsel in response.cookies.items():
            filled.cookies[name] = morsel
        return filled

    def _respond(self, request: HttpRequest, entry: Entry, *, hit: bool) -> HttpResponse:
        layer = reader_layer(request, entry)
        gzip = entry.size >= GZIP_MIN_BYTES and accepts_gzip(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        if len(layer.segments) == 1:  # no per-request hole left: the same bytes every time
            body = layer.whole_body(gzip)
        else:
            found, _expiry = fillings(request, layer.segments[1::2], entry.generation)
            fills = [found[part].encode() for part in layer.segments[1::2]]
            body = gzipped(layer.segments, layer.deflated(), fills) if gzip else joined(layer.segments, fills)
        response = HttpResponse(body, content_type=entry.content_type)
        if gzip:
            response["Content-Encoding"] = "gzip"
        # A known length lets gunicorn send the page whole instead of chunked.
        response["Content-Length"] = str(len(body))
        for name, header_value in entry.headers.items():
            response[name] = header_value
        # The same bytes for every reader, but for a page whose holes read cookies.
        response["Vary"] = "Accept-Encoding, Cookie" if entry.hole_cookies() else "Accept-Encoding"
        response["X-Page-Cache"] = "hit" if hit else "miss"
        send_csrf_cookie(request, response)
        return response

    def _fill_holes(self, request: HttpRequest, response: HttpResponse) -> None:
        """The holes of a page that is not stored (a logged-in reader's, an error page)."""
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return
        content = response.content
        if HOLE_START not in content:
            return
        held = memo.current()
        generation = held.generation if held is not None else None
        response.content = render(request, segments(content), generation.value if generation else 0)
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        send_csrf_cookie(request, response)
