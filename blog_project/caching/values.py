"""What pages are built from: small rendered HTML (``fragment``) and small Python values
(``value``: the site structure, counts), each cached per language under the versions of
the scopes it depends on. A write bumps the scope; the old entries are never read again
and expire on their own."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from .memo import keep_local_value, local_value
from .versions import versions


def _key(name: str, scopes: Iterable[str], found: dict[str, int], parts: Iterable[object]) -> str:
    stamp = ".".join(str(found[scope]) for scope in scopes)
    suffix = ":".join(str(part) for part in parts)
    return f"frag:{name}:{translation.get_language()}:{suffix}:{stamp}"


def fragment(
    name: str,
    *,
    scopes: Iterable[str],
    build: Callable[[], str],
    parts: Iterable[object] = (),
) -> str:
    """Small rendered HTML, cached per language under the versions of ``scopes``."""
    found = versions()
    if found is None:
        return build()
    key = _key(name, scopes, found, parts)
    html = cache.get(key)
    if html is None:
        html = build()
        cache.set(key, html, settings.BLOG_PAGE_CACHE_TIMEOUT)
    return html


def value(name: str, *, scopes: Iterable[str], build: Callable[[], Any]):
    """A small Python value, kept in this process and in the shared cache under the
    versions of ``scopes``: rebuilt once per change, by one process."""
    found = versions()
    if found is None:
        return build()
    key = _key(name, scopes, found, ())
    held, result = local_value(key)
    if held:
        return result
    result = cache.get(key)
    if result is None:
        result = build()
        cache.set(key, result, settings.BLOG_PAGE_CACHE_TIMEOUT)
    keep_local_value(key, result)
    return result
