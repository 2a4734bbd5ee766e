"""What this process and the request it serves remember of the shared cache, so it is not
asked again:

- small values (``values.value``), kept in this process under the versions they were built
  for, all dropped when this process bumps a scope (old versions' values are never read
  again);
- the scope versions and the page generation read for the request being served, so every
  value and fragment of one page is read under the same versions with one round trip.
  ``PageCacheMiddleware`` opens that memo around each request (``request_memo``); outside
  a request (a task, the shell, a test calling a selector) there is none and every read
  asks the store. It is a context variable kept inside this package: the rest of the code
  never passes a request to read the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from .scopes import Generation

_local_values: dict[str, Any] = {}
_local_lock = threading.Lock()
_LOCAL_VALUES_MAX = 512


def local_value(key: str) -> tuple[bool, Any]:
    """(True, the value) if this process holds ``key``, else (False, None)."""
    if key in _local_values:
        return True, _local_values[key]
    return False, None


def keep_local_value(key: str, result: Any) -> None:
    with _local_lock:
        if len(_local_values) > _LOCAL_VALUES_MAX:  # old versions' values: dropped wholesale
            _local_values.clear()
        _local_values[key] = result


def forget_values() -> None:
    _local_values.clear()


@dataclass(slots=True)
class RequestMemo:
    """The versions and the generation read for one request (None: not read yet)."""

    versions: dict[str, int] | None = None
    generation: Generation | None = None


_request_memo: ContextVar[RequestMemo | None] = ContextVar("blog_cache_request_memo", default=None)


@contextmanager
def request_memo() -> Iterator[RequestMemo]:
    """Remember what is read from the store until the request is answered."""
    memo = RequestMemo()
    token = _request_memo.set(memo)
    try:
        yield memo
    finally:
        _request_memo.reset(token)


def current() -> RequestMemo | None:
    """The memo of the request being served (None outside a request)."""
    return _request_memo.get()


def forget_versions() -> None:
    """After a bump: what this request read before it is no longer current."""
    memo = _request_memo.get()
    if memo is not None:
        memo.versions = None
