"""The read path's cache, in one place: versions, fragments, whole pages, per-reader holes.

How a reader's page is answered (README "How a page reaches a reader" has the picture):

1. ``PageCacheMiddleware`` sits right after SecurityMiddleware and WhiteNoise. For an
   anonymous GET it works out the reader's language, builds the page key (language, path,
   and the query parameters a page reads: ``page``, ``p``, ``q``) and asks the store in
   ONE round trip for the page generation, the cached page (unless this process already
   holds a copy of it) and, with the Redis store, counts the view in the same pipeline
   (the stats app registers a ``ViewCounter``). A valid copy is answered there and then:
   no session, auth, messages, URL resolving or view runs.
2. The per-reader parts of a cached page are *holes* (``<!--hole:name-->``) filled on the
   way out: the CSRF token, the comment form's time stamp, a remembered commenter's name
   and e-mail, live widgets. Apps register fillers with ``register_hole``.
3. On a miss the request goes down the stack as usual. Views decorated with
   ``cache_page`` render with holes; the middleware stores the page under the generation
   it read *before* the view ran (so a write that commits meanwhile can never be hidden
   by an older page) and fills the holes.
4. What a page is built from is cached as fragments (``fragment``) and small values
   (``value``), each under the versions of the *scopes* it depends on: ``structure``
   (settings, widgets, categories, pages), ``articles``, ``comments``, ``stats``. Writes
   call ``bump_on_commit(scope)``; every bump also renews the page generation, so every
   page of every list is fresh at once, while a new comment does not make the archive
   widget rebuild.
5. Scheduled articles need no write to appear: the generation carries the time of the
   next scheduled publication; once it has passed, the next request bumps ``articles``.

A store that fails (Redis hung or down) goes through the ``redis`` circuit breaker: one
short wait per process per interval, then misses at once; pages are rendered from the
database and are not stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import socket
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote

import hiredis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils import translation
from django.utils.cache import patch_vary_headers
from redis.exceptions import RedisError

from .breaker import breaker

log = logging.getLogger(__name__)

SCOPES = ("structure", "articles", "comments", "stats")
KEY_PARAMS = ("page", "p", "q")  # the only query parameters a cached page may read
HOLE_START, HOLE_END = b"<!--hole:", b"-->"
_NO_SCHEDULE = 0.0


def hole(name: str, arg: str = "") -> str:
    """The marker of a per-reader part in cacheable HTML (cannot come from user content:
    Markdown and comments are sanitised, and comments are stripped)."""
    return f"<!--hole:{name}:{arg}-->" if arg else f"<!--hole:{name}-->"


# --- versions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Generation:
    """What decides whether a stored page is current: the page generation, and the time
    of the next scheduled publication (0: none)."""

    value: int
    due_at: float

    def is_due(self) -> bool:
        return bool(self.due_at) and self.due_at <= time.time()


def _now_version() -> int:
    return time.time_ns()


class SiteHooks:
    """What the page cache asks of the site, registered by the app that owns it (the
    articles core, in its ``ready()``), so that this module imports no app."""

    # () -> the time (epoch seconds) of the next scheduled publication, or +inf
    next_publication_at: Callable[[], float] = staticmethod(lambda: math.inf)
    # (request) -> the site's language, for readers who express none
    default_language: Callable[[HttpRequest], str] = staticmethod(lambda request: settings.LANGUAGE_CODE)


def register_site_hooks(
    *, next_publication_at: Callable[[], float], default_language: Callable[[HttpRequest], str]
) -> None:
    SiteHooks.next_publication_at = staticmethod(next_publication_at)
    SiteHooks.default_language = staticmethod(default_language)


def _next_publication_at() -> float:
    return SiteHooks.next_publication_at()


def bump(*scopes: str) -> None:
    """Renew the versions of ``scopes`` and the page generation now. Prefer
    ``bump_on_commit`` inside a transaction, so readers cannot see the bump first."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown cache scope(s): {sorted(unknown)}")
    _store().bump(scopes, due_at=_next_publication_at())
    _local_values.clear()


def bump_on_commit(*scopes: str) -> None:
    # robust: a cache outage after commit must not turn a stored write into an error page.
    transaction.on_commit(lambda: bump(*scopes), robust=True)


def page_generation() -> int | None:
    """The generation whole pages are checked against (None: the store cannot be read)."""
    found = _store().lookup("pc:none", want_entry=False).generation
    return found.value if found else None


def next_due(request: HttpRequest | None = None) -> float:
    """When the next scheduled article comes due (0: none is scheduled), as the page
    generation says: read with the page in the request's round trip."""
    generation = getattr(request, "_cache_generation", None) if request is not None else None
    if generation is None:
        generation = _store().lookup("pc:none", want_entry=False).generation
    return generation.due_at if generation is not None else _next_publication_at()


def versions(request: HttpRequest | None = None) -> dict[str, int] | None:
    """The scope versions (None: the store cannot be read, so nothing may be cached).
    Read once per request when a request is given."""
    held = getattr(request, "_cache_versions", None) if request is not None else None
    if held is not None:
        return held
    found = _store().scope_versions()
    if request is not None and found is not None:
        request._cache_versions = found
    return found


# --- fragments and small values ---------------------------------------------------------


def _scoped_key(name: str, scopes: Iterable[str], found: dict[str, int], parts: Iterable[object]) -> str:
    stamp = ".".join(str(found[scope]) for scope in scopes)
    suffix = ":".join(str(part) for part in parts)
    return f"frag:{name}:{translation.get_language()}:{suffix}:{stamp}"


def fragment(
    name: str,
    *,
    scopes: Iterable[str],
    build: Callable[[], str],
    parts: Iterable[object] = (),
    request: HttpRequest | None = None,
) -> str:
    """Small rendered HTML, cached per language under the versions of ``scopes``."""
    found = versions(request)
    if found is None:
        return build()
    key = _scoped_key(name, scopes, found, parts)
    html = cache.get(key)
    if html is None:
        html = build()
        cache.set(key, html, settings.BLOG_PAGE_CACHE_TIMEOUT)
    return html


_local_values: dict[str, Any] = {}
_local_lock = threading.Lock()


def value(name: str, *, scopes: Iterable[str], build: Callable[[], Any], request: HttpRequest | None = None):
    """A small Python value (the site structure, counts), kept in this process and in the
    shared cache under the versions of ``scopes``: rebuilt once per change, by one process."""
    found = versions(request)
    if found is None:
        return build()
    key = _scoped_key(name, scopes, found, ())
    if key in _local_values:
        return _local_values[key]
    result = cache.get(key)
    if result is None:
        result = build()
        cache.set(key, result, settings.BLOG_PAGE_CACHE_TIMEOUT)
    with _local_lock:
        if len(_local_values) > 512:  # old versions' values: dropped wholesale
            _local_values.clear()
        _local_values[key] = result
    return result


# --- holes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoleFiller:
    # (request, arg) -> HTML (already escaped); batch: (request, [arg, ...]) -> {arg: HTML}
    fill: Callable[[HttpRequest, Any], Any]
    # > 0: the same for every reader; reused this long per process (a number, or a
    # function returning one, read at each fill so settings can change it).
    max_age: float | Callable[[], float] = 0.0
    batch: bool = False
    # Non-empty: the filling is empty for a reader without this cookie.
    cookie: str = ""

    def reuse_seconds(self) -> float:
        return self.max_age() if callable(self.max_age) else self.max_age


_fillers: dict[str, HoleFiller] = {}
_shared_fills: dict[tuple, tuple[float, Any]] = {}  # hole -> (expiry, HTML); batch -> (expiry, {arg: HTML})
_SHARED_FILLS_MAX = 2048


def register_hole(
    name: str,
    fill: Callable[[HttpRequest, Any], Any],
    *,
    max_age: float | Callable[[], float] = 0.0,
    batch: bool = False,
    cookie: str = "",
) -> None:
    """``fill(request, arg)`` replaces ``<!--hole:name-->`` / ``<!--hole:name:arg-->`` in
    every HTML response. ``max_age``: the filling is the same for every reader of a
    language and generation, and may be reused for that many seconds in a process.
    ``batch``: the filler gets the args of all of a page's holes of this name in one call,
    ``fill(request, [arg, ...]) -> {arg: html}`` (one read for ten counts on a list page);
    with ``max_age``, only the args not reused from this process are asked for.
    ``cookie``: the filling is empty for a reader without that cookie (a remembered
    commenter's details): for everybody else the hole is settled in the process's copy
    of the page, and costs nothing per request."""
    _fillers[name] = HoleFiller(fill=fill, max_age=max_age, batch=batch, cookie=cookie)


_CSRF_INDEX = {char: index for index, char in enumerate(CSRF_ALLOWED_CHARS)}
_CSRF_UNBIASED = 256 - 256 % len(CSRF_ALLOWED_CHARS)


def masked_csrf_token(secret: str) -> str:
    """The form token for a CSRF secret, as Django's ``get_token`` makes it (a one-time
    mask followed by the secret ciphered with it, so that compressed pages do not repeat
    the secret), from one read of the OS's random source instead of 32 calls into
    ``random``: this runs for every cached page with a form."""
    size = len(CSRF_ALLOWED_CHARS)
    mask = _random_indexes(len(secret))
    cipher = "".join(
        CSRF_ALLOWED_CHARS[(_CSRF_INDEX[char] + m) % size] for char, m in zip(secret, mask, strict=True)
    )
    return "".join(CSRF_ALLOWED_CHARS[m] for m in mask) + cipher


def _random_indexes(count: int) -> list[int]:
    """``count`` uniform random indexes into CSRF_ALLOWED_CHARS, from the OS's source."""
    size = len(CSRF_ALLOWED_CHARS)
    indexes: list[int] = []
    while len(indexes) < count:
        indexes += [byte % size for byte in os.urandom(count + 16) if byte < _CSRF_UNBIASED]
    return indexes[:count]


def _fill_csrf(request: HttpRequest, arg: str) -> str:
    # One masked token per response, however many forms it has (a fresh mask per response
    # is what keeps the secret out of compression side channels, as with ``get_token``).
    token = request.META.get("BLOG_CSRF_TOKEN")
    if token is None:
        token = request.META["BLOG_CSRF_TOKEN"] = masked_csrf_token(_csrf_secret(request))
    return token


def _csrf_secret(request: HttpRequest) -> str:
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
        if len(cookie) == CSRF_SECRET_LENGTH and all(char in _CSRF_INDEX for char in cookie):
            secret = cookie
        else:  # a new reader: a new secret, sent as a cookie with the page
            secret = "".join(CSRF_ALLOWED_CHARS[i] for i in _random_indexes(CSRF_SECRET_LENGTH))
            request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
        request.META["CSRF_COOKIE"] = secret
    return secret


register_hole("csrf", _fill_csrf)


def _share(key: tuple, html: Any, expires: float) -> None:
    if len(_shared_fills) > _SHARED_FILLS_MAX:  # old generations' fillings: dropped wholesale
        _shared_fills.clear()
    _shared_fills[key] = (expires, html)


def _fill(request: HttpRequest, name: str, arg: str, generation: int) -> str:
    filler = _fillers.get(name)
    if filler is None or (filler.cookie and filler.cookie not in request.COOKIES):
        return ""
    if filler.batch:
        return _fill_batch(request, name, [arg], generation)[0].get(arg, "")
    if filler.reuse_seconds() > 0:
        return _fill_shared(request, name, arg, generation)[0]
    return _safely(filler, request, name, arg)


def _fill_shared(request: HttpRequest, name: str, arg: str, generation: int) -> tuple[str, float]:
    """A filling that is the same for every reader, and until when it may be reused."""
    filler = _fillers[name]
    key = (name, arg, translation.get_language(), generation)
    now = time.monotonic()
    expires, html = _shared_fills.get(key, (0.0, ""))
    if expires <= now:
        html = _safely(filler, request, name, arg)
        expires = now + filler.reuse_seconds()
        _share(key, html, expires)
    return html, expires


def _safely(filler: HoleFiller, request: HttpRequest, name: str, arg: str) -> str:
    """A hole that cannot be filled (its data unreachable: the database down) stays empty:
    the rest of the page is served."""
    try:
        return filler.fill(request, arg)
    except Exception as exc:
        log.warning("The %r hole could not be filled, left empty: %r", name, exc)
        return ""


def _fill_batch(
    request: HttpRequest, name: str, args: list[str], generation: int
) -> tuple[dict[str, str], float]:
    """The fillings of one batch filler's holes, and until when they may be reused (now,
    unless the filler has a max age): reused ones, then the rest in one call. A page's
    whole set is kept too, so a warm page costs one lookup, not one per hole."""
    filler = _fillers[name]
    max_age = filler.reuse_seconds()
    language = translation.get_language()
    now = time.monotonic()
    page_key = (name, tuple(args), language, generation)
    if max_age > 0:
        expires, held = _shared_fills.get(page_key, (0.0, None))
        if expires > now:
            return held, expires
    filled: dict[str, str] = {}
    missing = []
    for arg in dict.fromkeys(args):
        expires, html = (
            _shared_fills.get((name, arg, language, generation), (0.0, "")) if max_age > 0 else (0, "")
        )
        if expires > now:
            filled[arg] = html
        else:
            missing.append(arg)
    if missing:
        try:
            found = filler.fill(request, missing)
        except Exception as exc:  # its data unreachable: these holes stay empty, the page is served
            log.warning("The %r holes could not be filled, left empty: %r", name, exc)
            found = {}
        for arg in missing:
            filled[arg] = found.get(arg, "")
            if max_age > 0:
                _share((name, arg, language, generation), filled[arg], now + max_age)
    if max_age <= 0:
        return filled, now
    # Kept no longer than its oldest reused part (a shorter max age cannot be outlived).
    expiry = min(_shared_fills.get((name, arg, language, generation), (now,))[0] for arg in filled)
    _share(page_key, filled, expiry)
    return filled, expiry


def _fill_batches(request: HttpRequest, segments: tuple, generation: int) -> dict[tuple[str, str], str]:
    """Every batch filler's holes on this page, each filler called once."""
    wanted: dict[str, list[str]] = {}
    for name, arg in segments[1::2]:
        filler = _fillers.get(name)
        if filler is not None and filler.batch and (not filler.cookie or filler.cookie in request.COOKIES):
            wanted.setdefault(name, []).append(arg)
    return {
        (name, arg): html
        for name, args in wanted.items()
        for arg, html in _fill_batch(request, name, args, generation)[0].items()
    }


def _is_shared(name: str) -> bool:
    filler = _fillers.get(name)
    return filler is not None and filler.reuse_seconds() > 0


@dataclass
class _ReaderLayer:
    """A stored page with its shared holes filled in (those the same for every reader:
    live view counts, site statistics), and the holes of cookies a reader lacks left
    out, kept per process for as long as those fillings may be reused; what is left are
    the per-reader holes (CSRF token, form stamp, a remembered commenter's details),
    filled per request. A list page's fifteen view counts then cost nothing per request,
    nor does a comment form's five remembered fields for a reader who never commented."""

    expires: float
    segments: tuple
    _deflated: tuple | None = field(default=None, repr=False)

    def deflated(self) -> tuple:
        """The static parts compressed (once per process and layer; see ``_gzipped``)."""
        if self._deflated is None:
            self._deflated = tuple(_deflated(part) for part in self.segments[::2])
        return self._deflated


def _reader_layer(request: HttpRequest, entry: Entry) -> _ReaderLayer:
    if entry.hole_cookies is None:
        entry.hole_cookies = _hole_cookies(entry.segments)
    cookies = request.COOKIES
    lacking = tuple(name for name in entry.hole_cookies if name not in cookies)
    layer = entry.layers.get(lacking)
    if layer is not None and layer.expires > time.monotonic():
        return layer
    shared = [part for part in entry.segments[1::2] if _is_shared(part[0])]
    left_out = {part: "" for part in entry.segments[1::2] if _cookie_of(part[0]) in lacking}
    if not shared and not left_out:
        layer = _ReaderLayer(math.inf, entry.segments)
    else:
        filled, expires = _shared_fillings(request, shared, entry.generation) if shared else ({}, math.inf)
        filled.update(left_out)
        merged = [entry.segments[0]]
        for part, static in zip(entry.segments[1::2], entry.segments[2::2], strict=True):
            if part in filled:
                merged[-1] += filled[part].encode() + static
            else:
                merged += [part, static]
        layer = _ReaderLayer(expires, tuple(merged))
    entry.layers[lacking] = layer
    return layer


def _cookie_of(name: str) -> str | None:
    filler = _fillers.get(name)
    return filler.cookie or None if filler is not None else None


def _hole_cookies(segments: tuple) -> tuple[str, ...]:
    """The cookies this page's holes depend on."""
    return tuple(dict.fromkeys(cookie for name, _arg in segments[1::2] if (cookie := _cookie_of(name))))


def _shared_fillings(
    request: HttpRequest, parts: list[tuple[str, str]], generation: int
) -> tuple[dict[tuple[str, str], str], float]:
    """The fillings of shared holes, and until when all of them may be reused."""
    filled: dict[tuple[str, str], str] = {}
    expiries = [math.inf]
    batches: dict[str, list[str]] = {}
    for name, arg in parts:
        if _fillers[name].batch:
            batches.setdefault(name, []).append(arg)
        elif (name, arg) not in filled:
            filled[(name, arg)], expires = _fill_shared(request, name, arg, generation)
            expiries.append(expires)
    for name, args in batches.items():
        found, expires = _fill_batch(request, name, args, generation)
        filled.update(((name, arg), html) for arg, html in found.items())
        expiries.append(expires)
    return filled, min(expiries)


def _segments(body: bytes) -> tuple:
    """``body`` split at its holes: (bytes, (name, arg), bytes, (name, arg), ..., bytes)."""
    if HOLE_START not in body:
        return (body,)
    parts: list = []
    rest = body
    while (start := rest.find(HOLE_START)) != -1:
        end = rest.find(HOLE_END, start)
        if end == -1:
            break
        name, _sep, arg = rest[start + len(HOLE_START) : end].decode("ascii", "replace").partition(":")
        parts += [rest[:start], (name, arg)]
        rest = rest[end + len(HOLE_END) :]
    parts.append(rest)
    return tuple(parts)


def _fills(request: HttpRequest, segments: tuple, generation: int) -> list[bytes]:
    """The filling of each hole of ``segments``, for this request (batch fillers called
    once for all their holes on the page)."""
    batched = _fill_batches(request, segments, generation)
    return [
        (batched[part] if part in batched else _fill(request, *part, generation)).encode()
        for part in segments[1::2]
    ]


def _joined(segments: tuple, fills: list[bytes]) -> bytes:
    if not fills:
        return segments[0]
    out = [segments[0]]
    for fill, static in zip(fills, segments[2::2], strict=True):
        out += [fill, static]
    return b"".join(out)


def _render_segments(request: HttpRequest, segments: tuple, generation: int) -> bytes:
    return _joined(segments, _fills(request, segments, generation))


# --- gzip without compressing per request -----------------------------------------------
#
# A cached page is compressed once per process: each static part on its own (raw deflate,
# ending on a byte boundary). A request's holes go in between as *stored* (uncompressed)
# deflate blocks, so a gzip response is a join plus a CRC of the page, not a compression.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_GZIP_LAST_BLOCK = b"\x01\x00\x00\xff\xff"
GZIP_MIN_BYTES = 1024


def _deflated(part: bytes) -> bytes:
    if not part:
        return b""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(part) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _stored_blocks(data: bytes) -> bytes:
    blocks = []
    for start in range(0, len(data), 0xFFFF):
        chunk = data[start : start + 0xFFFF]
        size = len(chunk)
        blocks.append(b"\x00" + size.to_bytes(2, "little") + (size ^ 0xFFFF).to_bytes(2, "little") + chunk)
    return b"".join(blocks)


def _gzipped(segments: tuple, deflated: tuple, fills: list[bytes]) -> bytes:
    parts, crc, size = [_GZIP_HEADER, deflated[0]], zlib.crc32(segments[0]), len(segments[0])
    for fill, static, packed in zip(fills, segments[2::2], deflated[1:], strict=True):
        if fill:  # an empty hole needs no block: the parts around it end on byte boundaries
            parts.append(_stored_blocks(fill))
            crc = zlib.crc32(fill, crc)
        parts.append(packed)
        crc, size = zlib.crc32(static, crc), size + len(fill) + len(static)
    parts += [_GZIP_LAST_BLOCK, crc.to_bytes(4, "little"), (size & 0xFFFFFFFF).to_bytes(4, "little")]
    return b"".join(parts)


@lru_cache(maxsize=64)
def accepts_gzip(header: str) -> bool:
    for item in header.split(","):
        coding, _sep, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = params.strip()
            return not (quality.startswith("q=") and quality[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


def _send_new_csrf_cookie(request: HttpRequest, response: HttpResponse) -> None:
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") and "CSRF_COOKIE" in request.META:
        response.set_cookie(
            settings.CSRF_COOKIE_NAME,
            request.META["CSRF_COOKIE"],
            max_age=settings.CSRF_COOKIE_AGE,
            domain=settings.CSRF_COOKIE_DOMAIN,
            path=settings.CSRF_COOKIE_PATH,
            secure=settings.CSRF_COOKIE_SECURE,
            httponly=settings.CSRF_COOKIE_HTTPONLY,
            samesite=settings.CSRF_COOKIE_SAMESITE,
        )
        request.META.pop("CSRF_COOKIE_NEEDS_UPDATE")


# --- counting views in the page's round trip --------------------------------------------


class ViewCounter(Protocol):
    """What the stats app plugs in (``register_view_counter``), so that a cached page's
    view is counted in the page's own round trip."""

    def reader(self, request: HttpRequest) -> object | None:
        """This reader's counting identity, or None when their views are not counted."""

    def queue(self, pipe, reader: object, article_id: int | None) -> Callable[[list], None] | None:
        """Put the counting commands on ``pipe`` (a Redis pipeline of the cache's own
        connection) and return ``settle(replies)``; None if it counts elsewhere."""

    def count(self, reader: object, article_id: int | None) -> None:
        """Count in a round trip of its own."""

    def uncount(self, reader: object, article_id: int | None) -> None:
        """Take back a view counted ahead for a page that turned out not to be served."""

    def is_countable_page(self, request: HttpRequest, response: HttpResponse) -> bool:
        """Whether this rendered response is a page view (as opposed to a feed, ...)."""

    def finish(self, request: HttpRequest, response: HttpResponse, reader: object) -> None:
        """Last touches on a counted response (the visitor cookie)."""


_counter: ViewCounter | None = None


def register_view_counter(counter: ViewCounter | None) -> None:
    global _counter
    _counter = counter


# --- stores -----------------------------------------------------------------------------


@dataclass
class Lookup:
    generation: Generation | None  # None: the store could not be read
    entry: bytes | None = None
    counted: bool = False  # the view was counted in this round trip


def _due_at_or_none() -> float | None:
    """The next publication time, or None when the database cannot say (then no
    generation can be started: the request goes on as if the store could not be read)."""
    try:
        return _next_publication_at()
    except Exception as exc:
        log.warning("Page cache: no generation can be started without the database (%r).", exc)
        return None


class CacheStore:
    """Any Django cache (the embedded file cache): keys through the cache API."""

    GENERATION = "pc:generation"

    def lookup(self, key: str, *, want_entry: bool, count=None) -> Lookup:
        keys = [self.GENERATION, key] if want_entry else [self.GENERATION]
        found = cache.get_many(keys)
        raw = found.get(self.GENERATION)
        generation = Generation(*raw) if raw else self._initialise()
        return Lookup(generation, found.get(key))

    def _initialise(self) -> Generation | None:
        # Emptied (or first use): nothing cached can be trusted; start every scope afresh.
        due_at = _due_at_or_none()
        if due_at is None:
            return None
        self.bump(SCOPES, due_at=due_at)
        raw = cache.get(self.GENERATION)
        return Generation(*raw) if raw else None

    def put(self, key: str, entry: bytes, timeout: int) -> None:
        cache.set(key, entry, timeout)

    def bump(self, scopes: Iterable[str], *, due_at: float) -> None:
        stamp = _now_version()
        values: dict[str, Any] = {f"pc:v:{scope}": stamp for scope in scopes}
        values[self.GENERATION] = (stamp, due_at)
        cache.set_many(values, timeout=None)

    def scope_versions(self) -> dict[str, int] | None:
        keys = [f"pc:v:{scope}" for scope in SCOPES]
        found = cache.get_many(keys)
        if len(found) < len(keys):
            # A version evicted alone: a new one means new fragments, nothing stale, so
            # the page generation stays. add(): concurrent processes agree on one.
            for key in set(keys) - set(found):
                cache.add(key, _now_version(), timeout=None)
            found = cache.get_many(keys)
            if len(found) < len(keys):
                return None
        return {scope: found[f"pc:v:{scope}"] for scope in SCOPES}


class _Commands:
    """Redis commands recorded for one round trip. It answers any of redis-py's pipeline
    methods whose arguments are in the command's own order (``get``, ``incr``, ``pfadd``,
    ``hincrby``, ``zincrby``, ...), so the stats app queues its counting commands on it as
    on a pipeline."""

    def __init__(self) -> None:
        self.commands: list[tuple] = []

    def __getattr__(self, name: str):
        def command(*args):
            self.commands.append((name.upper(), *args))
            return self

        return command


class EdgeConnection:
    """The page cache's own Redis connection, one per process and thread: the round trip
    of every cached page, packed to RESP here and parsed by hiredis (the C parser redis-py
    uses too). redis-py's pipeline costs about 50 µs of CPU around a round trip that
    takes 10 µs (retries, the pool, maintenance notifications): a sixth of a cached page.
    Plain TCP or Unix-socket URLs only (anything else goes through redis-py)."""

    def __init__(self, url: str, timeout: float) -> None:
        from redis.connection import parse_url

        options = parse_url(url)
        self.path = options.get("path")
        self.address = (options.get("host", "127.0.0.1"), int(options.get("port", 6379)))
        self.db = int(options.get("db", 0) or 0)
        self.username, self.password = options.get("username"), options.get("password")
        self.timeout = timeout
        self._local = threading.local()

    @staticmethod
    def supports(url: str) -> bool:
        return url.startswith(("redis://", "unix://"))

    def _socket(self) -> socket.socket:
        held = getattr(self._local, "socket", None)
        if held is not None and self._local.pid == os.getpid():
            return held
        if self.path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            sock.connect(self.path)
        else:
            sock = socket.create_connection(self.address, timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._local.socket, self._local.pid = sock, os.getpid()
        setup = []
        if self.password:
            setup.append(("AUTH", self.username, self.password) if self.username else ("AUTH", self.password))
        if self.db:
            setup.append(("SELECT", self.db))
        if setup:
            for reply in self._roundtrip(sock, setup):
                if isinstance(reply, Exception):
                    self.close()
                    raise ConnectionError(f"Redis refused the connection's set-up: {reply}")
        return sock

    @staticmethod
    def _pack(commands: list[tuple]) -> bytes:
        out = []
        for command in commands:
            out.append(b"*%d\r\n" % len(command))
            for arg in command:
                if isinstance(arg, bytes):
                    data = arg
                elif isinstance(arg, str):
                    data = arg.encode()
                else:
                    data = str(arg).encode()
                out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        return b"".join(out)

    def _roundtrip(self, sock: socket.socket, commands: list[tuple]) -> list:
        sock.sendall(self._pack(commands))
        reader = hiredis.Reader()
        replies: list = []
        while len(replies) < len(commands):
            data = sock.recv(262144)
            if not data:
                raise ConnectionError("Redis closed the connection")
            reader.feed(data)
            while (reply := reader.gets()) is not False:
                replies.append(reply)
        return replies

    def execute(self, commands: list[tuple]) -> list:
        """The replies of ``commands``, in one round trip (a Redis error reply comes back as
        an exception instance in its place; a broken connection raises ``OSError``)."""
        try:
            return self._roundtrip(self._socket(), commands)
        except (OSError, hiredis.ProtocolError) as exc:
            self.close()
            raise ConnectionError(str(exc)) from exc

    def close(self) -> None:
        held = getattr(self._local, "socket", None)
        self._local.socket = None
        if held is not None:
            with contextlib.suppress(OSError):
                held.close()


class RedisStore:
    """django-redis: page keys and versions through the raw client, so the generation,
    the page and the view counting go out in one pipeline."""

    def __init__(self) -> None:
        self.breaker = breaker("redis")
        location = settings.CACHES["default"]["LOCATION"]
        location = location[0] if isinstance(location, list | tuple) else location
        timeout = settings.CACHES["default"].get("OPTIONS", {}).get("SOCKET_TIMEOUT") or 0.5
        self.edge = EdgeConnection(location, timeout) if EdgeConnection.supports(location) else None

    def _client(self):
        from django_redis import get_redis_connection

        return get_redis_connection("default")

    @staticmethod
    def _key(name: str) -> str:
        return _redis_key(name, settings.CACHES["default"].get("KEY_PREFIX", ""))

    def _guarded(self, call: Callable[[], Any]) -> Any:
        if not self.breaker.allow():
            return None
        try:
            result = call()
        except (RedisError, OSError) as exc:
            self.breaker.failure(exc)
            return None
        self.breaker.success()
        return result

    def lookup(self, key: str, *, want_entry: bool, count=None) -> Lookup:
        counted = [False]

        def call():
            batch = self._client().pipeline(transaction=False) if self.edge is None else _Commands()
            batch.get(self._key("pc:generation"))
            if want_entry:
                batch.get(self._key(key))
            settle = None
            if count is not None:
                reader, article_id = count
                settle = _counter.queue(batch, reader, article_id)
            replies = batch.execute() if self.edge is None else self.edge.execute(batch.commands)
            offset = 2 if want_entry else 1
            if any(isinstance(reply, Exception) for reply in replies[:offset]):
                raise ConnectionError(f"Redis answered an error: {replies[:offset]!r}")
            if settle is not None:
                settle(replies[offset:])
                counted[0] = True
            return replies[:offset]

        replies = self._guarded(call)
        if replies is None:
            return Lookup(None)
        generation = self._parse_generation(replies[0])
        if generation is None:
            generation = self._initialise()
        return Lookup(generation, replies[1] if want_entry else None, counted[0])

    @staticmethod
    def _parse_generation(raw: bytes | None) -> Generation | None:
        if not raw:
            return None
        try:
            stamp, due_at = raw.split(b":")
            return Generation(int(stamp), float(due_at))
        except ValueError:
            return None

    def _initialise(self) -> Generation | None:
        due_at = _due_at_or_none()
        if due_at is None:
            return None
        self.bump(SCOPES, due_at=due_at)
        return self._guarded(lambda: self._parse_generation(self._client().get(self._key("pc:generation"))))

    def put(self, key: str, entry: bytes, timeout: int) -> None:
        self._guarded(lambda: self._client().set(self._key(key), entry, ex=timeout))

    def bump(self, scopes: Iterable[str], *, due_at: float) -> None:
        stamp = _now_version()
        values = {self._key(f"pc:v:{scope}"): stamp for scope in scopes}
        values[self._key("pc:generation")] = f"{stamp}:{due_at}"
        self._guarded(lambda: self._client().mset(values))

    def scope_versions(self) -> dict[str, int] | None:
        keys = [self._key(f"pc:v:{scope}") for scope in SCOPES]
        found = self._guarded(lambda: self._client().mget(keys))
        if found is None:
            return None
        if None in found:  # evicted alone: see CacheStore.scope_versions

            def add_missing():
                pipe = self._client().pipeline(transaction=False)
                for key, raw in zip(keys, found, strict=True):
                    if raw is None:
                        pipe.set(key, _now_version(), nx=True)
                pipe.mget(keys)
                return pipe.execute()[-1]

            found = self._guarded(add_missing)
            if found is None or None in found:
                return None
        return {scope: int(raw) for scope, raw in zip(SCOPES, found, strict=True)}


@lru_cache(maxsize=1024)
def _redis_key(name: str, prefix: str) -> str:
    """``cache.make_key(name)``, once per name: the page cache asks for the same few keys
    on every request."""
    return cache.make_key(name)


@lru_cache(maxsize=1)
def _store_for(backend: str, location: str) -> CacheStore | RedisStore:
    return RedisStore() if backend.startswith("django_redis.") else CacheStore()


def _store() -> CacheStore | RedisStore:
    config = settings.CACHES["default"]
    return _store_for(config["BACKEND"], str(config.get("LOCATION", "")))


# --- whole pages ------------------------------------------------------------------------


@dataclass
class Entry:
    """A stored page: the generation it was rendered under, what to count, and its body
    split at its holes."""

    generation: int
    content_type: str
    article_id: int | None
    countable: bool
    headers: dict[str, str]
    segments: tuple
    size: int = 0
    checked_at: float = field(default_factory=time.monotonic, repr=False)  # found current then
    # This process's copies with shared holes filled, by the hole cookies a reader lacks
    # (see _reader_layer), and the cookies the page's holes depend on.
    layers: dict[tuple[str, ...], _ReaderLayer] = field(default_factory=dict, repr=False)
    hole_cookies: tuple[str, ...] | None = field(default=None, repr=False)

    _HEADER = b"PC1 "

    def dump(self) -> bytes:
        meta = {"g": self.generation, "t": self.content_type, "a": self.article_id, "c": self.countable}
        meta["h"] = self.headers
        body = b"".join(
            part if index % 2 == 0 else hole(*part).encode() for index, part in enumerate(self.segments)
        )
        return self._HEADER + json.dumps(meta, separators=(",", ":")).encode() + b"\n" + body

    @classmethod
    def load(cls, raw: bytes) -> Entry | None:
        if not raw.startswith(cls._HEADER):
            return None
        head, _sep, body = raw.partition(b"\n")
        try:
            meta = json.loads(head[len(cls._HEADER) :])
            return cls(
                generation=int(meta["g"]),
                content_type=str(meta["t"]),
                article_id=meta["a"],
                countable=bool(meta["c"]),
                headers=dict(meta["h"]),
                segments=_segments(body),
                size=len(body),
            )
        except (ValueError, KeyError, TypeError):
            return None


class LocalPages:
    """This process's copies of recently served pages, validated by the generation read
    in each request's round trip: a hit sends no page bytes over the network. Bounded by
    ``BLOG_PAGE_CACHE_LOCAL_BYTES``; least recently used first out."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            with contextlib.suppress(KeyError):  # dropped by another thread meanwhile
                self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        limit = settings.BLOG_PAGE_CACHE_LOCAL_BYTES
        if entry.size > limit // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._entries[key] = entry
            self._bytes += entry.size
            while self._bytes > limit and self._entries:
                _key, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


local_pages = LocalPages()


@lru_cache(maxsize=256)
def _accepted_language(header: str) -> str | None:
    """The first language of an Accept-Language header this site speaks."""
    choices = []
    for position, item in enumerate(header.split(",")[:20]):
        code, _sep, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if code and code != "*" and quality > 0:
            choices.append((-quality, position, code))
    for _quality, _position, code in sorted(choices):
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def reader_language(request: HttpRequest) -> str | None:
    """The reader's explicit choice (the language cookie), then Accept-Language; None
    means the site's default language (a site setting)."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    return _accepted_language(header[:500]) if header else None


def page_key(request: HttpRequest, language: str | None) -> str | None:
    """The page's key, or None when this request's page is not cacheable (a malformed
    page number: the view answers it, e.g. with a 404)."""
    return _page_key(request.path, request.META.get("QUERY_STRING", ""), language)


@lru_cache(maxsize=4096)
def _page_key(path: str, query_string: str, language: str | None) -> str | None:
    # Kept per process: readers ask for the same few thousand URLs again and again.
    query = QueryDict(query_string)
    params = []
    for name in KEY_PARAMS:
        raw = query.get(name)
        if raw is None:
            continue
        if name in ("page", "p"):
            if not (raw.isdigit() and len(raw) <= 6):
                return None
            if int(raw) == 1:
                continue
            raw = str(int(raw))
        else:
            raw = " ".join(raw.split())[:100]
            if not raw:
                continue
        params.append(f"{name}={quote(raw, safe='')}")
    location = quote(path) + ("?" + "&".join(params) if params else "")
    if len(location) > 200:
        location = hashlib.sha1(location.encode(), usedforsecurity=False).hexdigest()
    return f"pc:page:{language or '-'}:{location}"


def _bypasses_cache(request: HttpRequest) -> bool:
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


def _passes_through(request: HttpRequest) -> bool:
    """Static files and health checks: answered below, without a language or a lookup."""
    path = request.path_info
    return path.startswith(settings.STATIC_URL or "/static/") or path in ("/healthz", "/readyz")


# Not stored among a page's headers: those of one response only, and the content type
# (an entry keeps it apart).
_UNSTORED_HEADERS = frozenset(
    {"content-type", "content-length", "content-encoding", "vary", "set-cookie", "x-page-cache", "date"}
)


@dataclass
class _PageState:
    key: str
    generation: Generation
    reader: object | None
    counted_ahead: int | bool | None = False  # article id counted before the render, or False


@dataclass
class _Stored:
    timeout: int
    entry: Entry | None = field(default=None)


def cache_page(*, timeout: int | None = None) -> Callable:
    """Let the page cache store this view's responses to anonymous readers (200, HTML or
    feeds, no cookie set by the view). The view reads at most the ``KEY_PARAMS`` of the
    query string; everything else must come from the path."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
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
                response._page_cache_timeout = timeout or settings.BLOG_PAGE_CACHE_TIMEOUT
            return response

        wrapper.__name__ = getattr(view, "__name__", "view")
        wrapper.__doc__ = view.__doc__
        wrapper.__wrapped__ = view
        return wrapper

    return decorator


class PageCacheMiddleware:
    """Answers cached pages at the edge; language for every request; holes everywhere."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _passes_through(request):
            return self.get_response(request)
        language = reader_language(request)
        key = None if _bypasses_cache(request) else page_key(request, language)
        if key is None:
            return self._render(request, language, None)
        local = local_pages.get(key)
        counter = _counter
        reader = counter.reader(request) if counter is not None else None
        count_ahead = None
        if reader is not None and local is not None and local.countable:
            count_ahead = (reader, local.article_id)
        lookup = _store().lookup(key, want_entry=local is None, count=count_ahead)
        generation = lookup.generation
        if generation is None:  # the store cannot be read (Redis hung or down)
            if (
                local is not None
                and local.checked_at > time.monotonic() - settings.BLOG_PAGE_CACHE_OUTAGE_SECONDS
            ):
                # No other process's write can reach us now anyway: this process's copy,
                # current a moment ago, beats rendering every page from the database.
                return self._respond(request, language or "", local, None, hit=True)
            return self._render(request, language, None)
        if generation.is_due():
            bump("articles")  # a scheduled article has come due: everything is stale
            request._cache_versions = None
            fresh = _store().lookup(key, want_entry=False)
            state = _PageState(key, fresh.generation, reader, count_ahead[1] if lookup.counted else False)
            return self._render(request, language, state if fresh.generation else None)
        entry = None
        if local is not None and local.generation == generation.value:
            entry = local
            entry.checked_at = time.monotonic()
        elif lookup.entry is not None:
            entry = Entry.load(lookup.entry)
            if entry is not None and entry.generation == generation.value:
                local_pages.put(key, entry)
            else:
                entry = None
        elif local is not None:  # our copy is stale: the fresh page may be stored already
            fresh = _store().lookup(key, want_entry=True)
            if fresh.entry is not None and fresh.generation == generation:
                entry = Entry.load(fresh.entry)
                if entry is not None and entry.generation == generation.value:
                    local_pages.put(key, entry)
                else:
                    entry = None
        if entry is None:
            counted = count_ahead[1] if lookup.counted else False
            return self._render(request, language, _PageState(key, generation, reader, counted))
        if reader is not None and entry.countable and not lookup.counted:
            counter.count(reader, entry.article_id)
        return self._respond(request, language or "", entry, reader, hit=True)

    def _activate(self, request: HttpRequest, language: str | None) -> str:
        if language is None:
            language = SiteHooks.default_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return language

    def _render(self, request: HttpRequest, language: str | None, state: _PageState | None) -> HttpResponse:
        language = self._activate(request, language)
        if state is not None:
            request._page_cache_state = state
            request._cache_generation = state.generation
            if state.counted_ahead is not False:
                request.view_counted = True  # the stats middleware must not count it again
        response = self.get_response(request)
        timeout = getattr(response, "_page_cache_timeout", None)
        if state is not None and timeout is not None:
            counter = _counter
            entry = Entry(
                generation=state.generation.value,
                content_type=response["Content-Type"],
                article_id=getattr(request, "viewed_article_id", None),
                countable=bool(counter and counter.is_countable_page(request, response)),
                # What the layers below gave the page (the security and policy headers
                # too: this middleware is first), for every reader it is answered to.
                headers={
                    name: value for name, value in response.items() if name.lower() not in _UNSTORED_HEADERS
                },
                segments=_segments(response.content),
                size=len(response.content),
            )
            entry.headers.setdefault("Content-Language", language)
            _store().put(state.key, entry.dump(), timeout)
            local_pages.put(state.key, entry)
            if state.counted_ahead is not False and not entry.countable and counter is not None:
                counter.uncount(state.reader, state.counted_ahead)
            ahead_reader = state.reader if state.counted_ahead is not False and entry.countable else None
            filled = self._respond(request, language, entry, ahead_reader, hit=False)
            for name, morsel in response.cookies.items():  # the stats visitor cookie
                filled.cookies[name] = morsel
            return filled
        if state is not None and state.counted_ahead is not False and _counter is not None:
            _counter.uncount(state.reader, state.counted_ahead)  # not served as a page after all
        self._fill_holes(request, response)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response

    def _respond(
        self, request: HttpRequest, language: str, entry: Entry, reader: object | None, *, hit: bool
    ) -> HttpResponse:
        language = language or entry.headers.get("Content-Language", "")
        if language:  # for the holes' words (live widgets)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        layer = _reader_layer(request, entry)
        fills = _fills(request, layer.segments, entry.generation)
        if entry.size >= GZIP_MIN_BYTES and accepts_gzip(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            body = _gzipped(layer.segments, layer.deflated(), fills)
            response = HttpResponse(body, content_type=entry.content_type)
            response["Content-Encoding"] = "gzip"
        else:
            body = _joined(layer.segments, fills)
            response = HttpResponse(body, content_type=entry.content_type)
        # A known length lets gunicorn send the page whole instead of chunked.
        response["Content-Length"] = str(len(body))
        for name, header_value in entry.headers.items():
            response[name] = header_value
        response["Vary"] = "Accept-Encoding, Accept-Language, Cookie"
        response["X-Page-Cache"] = "hit" if hit else "miss"
        _send_new_csrf_cookie(request, response)
        if reader is not None and _counter is not None:
            _counter.finish(request, response, reader)
        return response

    def _fill_holes(self, request: HttpRequest, response: HttpResponse) -> None:
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return
        content = response.content
        if HOLE_START not in content:
            return
        generation = getattr(getattr(request, "_page_cache_state", None), "generation", None)
        response.content = _render_segments(
            request, _segments(content), generation.value if generation else 0
        )
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        _send_new_csrf_cookie(request, response)


def forget_process_copies() -> None:
    """Drop this process's copies of pages, values and shared hole fillings (tests; the
    shared cache still holds them under their versions)."""
    local_pages.clear()
    _local_values.clear()
    _shared_fills.clear()
