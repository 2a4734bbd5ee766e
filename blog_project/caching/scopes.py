"""Scopes and the page generation: the names the store and the versions share.

Each *scope* (``structure``: settings, widgets, categories, pages; ``articles``;
``comments``; ``stats``) has a version; the *page generation* is renewed with every bump
and carries the time of the next scheduled publication, which the site tells the cache
through ``register_site_hooks`` (so this package imports no app).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

SCOPES = ("structure", "articles", "comments", "stats")


@dataclass(frozen=True)
class Generation:
    """The page generation, and the time of the next scheduled publication (0: none)."""

    value: int
    due_at: float

    def is_due(self, now: float | None = None) -> bool:
        return bool(self.due_at) and self.due_at <= (time.time() if now is None else now)


def new_version() -> int:
    return time.time_ns()


def _none_scheduled() -> float:
    return math.inf


# () -> the time (epoch seconds) of the next scheduled publication, or +inf; registered
# by the articles core in its ready(), so that this package imports no app.
_next_publication_at: Callable[[], float] = _none_scheduled


def register_site_hooks(*, next_publication_at: Callable[[], float]) -> None:
    global _next_publication_at
    _next_publication_at = next_publication_at


def next_publication_at() -> float:
    return _next_publication_at()
