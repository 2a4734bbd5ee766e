"""Versions: what decides whether anything cached is current (the scopes: ``scopes``).

Every write renews its scope's version (``bump_on_commit``) and the *page generation*,
which whole pages are checked against: every page of every list is fresh at once, while a
new comment does not make the archive widget rebuild. Once the generation's next scheduled
publication has passed, the next request bumps ``articles`` (no write needed).
"""

from __future__ import annotations

from django.db import transaction

from . import memo, stores
from .scopes import SCOPES, next_publication_at


def bump(*scopes: str) -> None:
    """Renew the versions of ``scopes`` and the page generation now. Prefer
    ``bump_on_commit`` inside a transaction, so readers cannot see the bump first."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown cache scope(s): {sorted(unknown)}")
    stores.store().bump(scopes, due_at=next_publication_at())
    memo.forget_values()
    memo.forget_versions()


def bump_on_commit(*scopes: str) -> None:
    # robust: a cache outage after commit must not turn a stored write into an error page.
    transaction.on_commit(lambda: bump(*scopes), robust=True)


def page_generation() -> int | None:
    """The generation whole pages are checked against (None: the store cannot be read)."""
    found = stores.store().lookup(None).generation
    return found.value if found else None


def next_due() -> float:
    """When the next scheduled article comes due (0: none is scheduled), as the page
    generation read for this request says (read now outside a request, or on a page the
    cache does not store)."""
    held = memo.current()
    generation = held.generation if held is not None else None
    if generation is None:
        generation = stores.store().lookup(None).generation
    return generation.due_at if generation is not None else next_publication_at()


def versions() -> dict[str, int] | None:
    """The scope versions (None: the store cannot be read, so nothing may be cached), read
    once per request (``memo``)."""
    held = memo.current()
    if held is not None and held.versions is not None:
        return held.versions
    found = stores.store().scope_versions()
    if held is not None and found is not None:
        held.versions = found
    return found
