"""Who is reading: bots, prefetches and the private, cookie-free visitor id.

A visitor is a keyed hash (BLAKE2b) of the client's address (``security.client_ip``) and
User-Agent, with a random salt made for that day and kept only for the day by the
counters' backend (a Redis key expiring at the end of the day, or a database row deleted
when the next day's is made). No cookie is set and no address is stored: once the salt is
gone not even the operator can tell which address a day's hash belonged to. A reader is
one unique visitor per day per address and browser, as Plausible and GoatCounter count.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import date

import crawleruseragents
from django.http import HttpRequest

from blog_project.security import client_ip

from .backends import get_backend

# As WSGI names them (request.META, not request.headers: this runs on every page view).
_PREFETCH_HEADERS = ("HTTP_PURPOSE", "HTTP_SEC_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")


@functools.lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """True for crawlers, link previewers, scripts and empty user agents.

    The list (crawler-user-agents, ~1,500 patterns) takes ~0.2 ms per check; user agents
    repeat, so the answer is cached per string.
    """
    if not user_agent.strip():
        return True
    return crawleruseragents.is_crawler(user_agent)


def is_prefetch(request: HttpRequest) -> bool:
    """Prefetches and prerenders: the page may never be seen."""
    meta = request.META
    for header in _PREFETCH_HEADERS:
        value = meta.get(header, "").lower()
        if "prefetch" in value or "prerender" in value or value == "preview":
            return True
    return False


_salts: dict[date, str] = {}  # this process's copy of today's salt


def daily_salt(day: date) -> str:
    """The day's random salt, shared by every process through the counters' backend."""
    salt = _salts.get(day)
    if salt is None:
        salt = get_backend().salt(day)
        _salts.clear()
        _salts[day] = salt
    return salt


def daily_hash(request: HttpRequest, day: date) -> str:
    """The address and user agent, hashed with the day's salt (keyed BLAKE2b: a MAC by
    design, and cheap enough for every first page view)."""
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:512]
    message = f"{client_ip(request)}\n{user_agent}".encode()
    return "h:" + hashlib.blake2b(message, key=_day_key(daily_salt(day)), digest_size=16).hexdigest()


@functools.lru_cache(maxsize=4)
def _day_key(salt: str) -> bytes:
    return hashlib.blake2b(salt.encode(), person=b"stats.visitor", digest_size=32).digest()
