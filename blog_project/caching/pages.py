"""Whole pages: a stored page (``Entry``), as it goes into the store and as this process
keeps its copies of recently served ones (``local_pages``), validated by the generation
read in each request's round trip, so that a hit sends no page bytes over the network."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from django.conf import settings

from .holes import ReaderLayer, cookie_of, hole, segments


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
    # This process's copies with shared holes filled, by the hole cookies a reader lacks.
    layers: dict[tuple[str, ...], ReaderLayer] = field(default_factory=dict, repr=False)
    _hole_cookies: tuple[str, ...] | None = field(default=None, repr=False)

    _HEADER = b"PC1 "

    def hole_cookies(self) -> tuple[str, ...]:
        """The cookies this page's holes depend on (worked out once per copy)."""
        if self._hole_cookies is None:
            names = (cookie_of(name) for name, _arg in self.segments[1::2])
            self._hole_cookies = tuple(dict.fromkeys(name for name in names if name))
        return self._hole_cookies

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
                segments=segments(body),
                size=len(body),
            )
        except (ValueError, KeyError, TypeError):
            return None


class LocalPages:
    """This process's copies of recently served pages, bounded by
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
