"""Holes: the parts of a cached page that are not the same for every request.

A hole is a marker in cacheable HTML, ``<!--hole:name-->`` or ``<!--hole:name:arg-->``
(it cannot come from user content: Markdown and comments are sanitised, comments are
stripped), filled on the way out by the filler an app registered for ``name``:

- per request: the form's time stamp; the CSRF token of the comment form, for a reader who
  holds a CSRF cookie (``csrf``);
- shared (``max_age``): the same for every reader of a language and generation, reused in
  this process for that long: live view counts, live widgets;
- a cookie's (``cookie``): empty for readers without it, so for them the hole is settled
  in this process's copy of the page and costs nothing: a remembered commenter's details.

Every filler is called once per page with all of its holes' args (``batch``), so ten view
counts on a list page are one read.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.utils import translation

from .gzip import deflated, gzipped

log = logging.getLogger(__name__)

HOLE_START, HOLE_END = b"<!--hole:", b"-->"
Part = tuple[str, str]  # (name, arg)


def hole(name: str, arg: str = "") -> str:
    """The marker of a per-reader part in cacheable HTML."""
    return f"<!--hole:{name}:{arg}-->" if arg else f"<!--hole:{name}-->"


@dataclass(frozen=True)
class Filler:
    fill: Callable[[HttpRequest, list[str]], dict[str, str]]  # (request, [arg, ...]) -> {arg: HTML}
    max_age: float | Callable[[], float] = 0.0
    cookie: str = ""

    def reuse_seconds(self) -> float:
        return self.max_age() if callable(self.max_age) else self.max_age


_fillers: dict[str, Filler] = {}
_shared: dict[tuple, tuple[float, str]] = {}  # (name, arg, language, generation) -> (expiry, HTML)
_SHARED_MAX = 2048


def register_hole(
    name: str,
    fill: Callable[[HttpRequest, Any], Any],
    *,
    max_age: float | Callable[[], float] = 0.0,
    batch: bool = False,
    cookie: str = "",
) -> None:
    """``fill(request, arg) -> HTML`` (already escaped) fills ``name``'s holes; with
    ``batch``, ``fill(request, [arg, ...]) -> {arg: HTML}`` gets all of a page's at once.
    ``max_age`` (seconds, or a function returning them): the filling is the same for every
    reader. ``cookie``: the filling is empty for a reader without that cookie."""
    if not batch:
        single = fill

        def fill(request: HttpRequest, args: list[str]) -> dict[str, str]:
            return {arg: single(request, arg) for arg in args}

    _fillers[name] = Filler(fill=fill, max_age=max_age, cookie=cookie)


def forget_shared_fillings() -> None:
    """This process's reused fillings of shared holes."""
    _shared.clear()


def segments(body: bytes) -> tuple:
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


def joined(segments: tuple, fills: list[bytes]) -> bytes:
    out = [segments[0]]
    for fill, static in zip(fills, segments[2::2], strict=True):
        out += [fill, static]
    return b"".join(out)


def fillings(
    request: HttpRequest, parts: Iterable[Part], generation: int, *, by_cookie: bool = True
) -> tuple[dict[Part, str], float]:
    """The filling of each hole in ``parts``, each filler called once with the args it is
    not reusing; and until when the shared ones among them may be reused. ``by_cookie``:
    the holes of a cookie the reader lacks are left empty without asking their filler (a
    stored page); otherwise every filler is asked (a page rendered for this request only:
    a refused comment form gets its CSRF token even without the cookie)."""
    wanted: dict[str, list[str]] = {}
    for name, arg in parts:
        wanted.setdefault(name, []).append(arg)
    filled: dict[Part, str] = {}
    expiry = math.inf
    language, now = translation.get_language(), time.monotonic()
    for name, args in wanted.items():
        filler = _fillers.get(name)
        if filler is None or (by_cookie and filler.cookie and filler.cookie not in request.COOKIES):
            filled.update(((name, arg), "") for arg in args)
            continue
        max_age = filler.reuse_seconds()
        missing = []
        for arg in dict.fromkeys(args):
            expires, html = (
                _shared.get((name, arg, language, generation), (0.0, "")) if max_age > 0 else (0, "")
            )
            if expires > now:
                filled[(name, arg)], expiry = html, min(expiry, expires)
            else:
                missing.append(arg)
        if not missing:
            continue
        try:
            found = filler.fill(request, missing)
        except Exception as exc:  # its data unreachable (the database down): left empty, page served
            log.warning("The %r holes could not be filled, left empty: %r", name, exc)
            found = {}
        for arg in missing:
            filled[(name, arg)] = found.get(arg, "")
            if max_age > 0:
                if len(_shared) > _SHARED_MAX:  # old generations' fillings: dropped wholesale
                    _shared.clear()
                _shared[(name, arg, language, generation)] = (now + max_age, filled[(name, arg)])
                expiry = min(expiry, now + max_age)
    return filled, expiry


def render(request: HttpRequest, segments: tuple, generation: int) -> bytes:
    """``segments`` with every hole filled for this request (a page not stored)."""
    filled, _expiry = fillings(request, segments[1::2], generation, by_cookie=False)
    return joined(segments, [filled[part].encode() for part in segments[1::2]])


def _is_shared(name: str) -> bool:
    filler = _fillers.get(name)
    return filler is not None and filler.reuse_seconds() > 0


def cookie_of(name: str) -> str:
    filler = _fillers.get(name)
    return filler.cookie if filler is not None else ""


@dataclass
class ReaderLayer:
    """A stored page with its shared holes filled and the holes of the cookies a reader
    lacks left empty, kept per process for as long as those fillings may be reused: what
    is left are the per-request holes."""

    expires: float
    segments: tuple
    _deflated: tuple | None = field(default=None, repr=False)
    _whole: dict[bool, bytes] = field(default_factory=dict, repr=False)

    def whole_body(self, gzip: bool) -> bytes:
        """A layer without per-request holes: its body (gzipped or not), once per process."""
        body = self._whole.get(gzip)
        if body is None:
            body = gzipped(self.segments, self.deflated(), []) if gzip else self.segments[0]
            self._whole[gzip] = body
        return body

    def deflated(self) -> tuple:
        """The static parts compressed, once per process and layer (``gzip.gzipped``)."""
        if self._deflated is None:
            self._deflated = tuple(deflated(part) for part in self.segments[::2])
        return self._deflated


def reader_layer(request: HttpRequest, entry) -> ReaderLayer:
    lacking = tuple(name for name in entry.hole_cookies() if name not in request.COOKIES)
    layer = entry.layers.get(lacking)
    if layer is not None and layer.expires > time.monotonic():
        return layer
    holes = entry.segments[1::2]
    shared = [part for part in holes if _is_shared(part[0])]
    filled, expires = fillings(request, shared, entry.generation) if shared else ({}, math.inf)
    filled.update((part, "") for part in holes if cookie_of(part[0]) in lacking and cookie_of(part[0]))
    if not filled:
        layer = ReaderLayer(math.inf, entry.segments)
    else:
        merged = [entry.segments[0]]
        for part, static in zip(holes, entry.segments[2::2], strict=True):
            if part in filled:
                merged[-1] += filled[part].encode() + static
            else:
                merged += [part, static]
        layer = ReaderLayer(expires, tuple(merged))
    entry.layers[lacking] = layer
    return layer
