"""Who is reading: bots, prefetches and the private visitor id.

The visitor id is a random first-party cookie. A request without it is identified by a
hash of its address and user agent, keyed with a random salt made for that day and kept
only in the cache (two days): after that not even the operator can tell which address a
hash belonged to, and no address is ever stored.

The cookie carries the day it was issued (``20261123.<random>``). On that first day the
visitor keeps being counted by the day's hash, the id their first, cookie-less page view
was counted under; from the next day on, by the cookie. So a new visitor is one unique
visitor, not two, and clients that refuse cookies are still counted once a day.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import date

import crawleruseragents
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from blog_project.security import client_ip

from . import conf

COOKIE_PATTERN = re.compile(r"^(\d{8})\.([A-Za-z0-9_-]{16,64})$")
_SALT_TIMEOUT = 2 * 24 * 60 * 60
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


_salts: dict[date, str] = {}


def daily_salt(day: date) -> str:
    """The day's random salt, shared by every process through the cache."""
    salt = _salts.get(day)
    if salt is None:
        key = f"stats:salt:{day.isoformat()}"
        cache.add(key, secrets.token_hex(16), _SALT_TIMEOUT)
        # With the cache down there is no shared salt: fall back to one derived from the
        # secret key and the day, still rotating daily, still never an address.
        salt = cache.get(key) or salted_hmac("stats.fallback-salt", day.isoformat()).hexdigest()
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


def wants_no_tracking(request: HttpRequest) -> bool:
    meta = request.META
    return meta.get("HTTP_SEC_GPC") == "1" or meta.get("HTTP_DNT") == "1"


def visitor_for(request: HttpRequest, day: date) -> tuple[str, str | None]:
    """The visitor id to count this view under, and the cookie value to set (or None)."""
    match = COOKIE_PATTERN.match(request.COOKIES.get(conf.get("STATS_VISITOR_COOKIE"), ""))
    issued = match.group(1) if match else None
    today = f"{day.year:04d}{day.month:02d}{day.day:02d}"
    if issued is not None and issued < today:
        return "c:" + match.group(2), None
    visitor = daily_hash(request, day)
    if issued is not None or wants_no_tracking(request):
        return visitor, None
    return visitor, f"{today}.{secrets.token_urlsafe(12)}"


def visitor_digest(visitor: str) -> str:
    """What the database backend stores for a visitor id: 24 hex digits of a digest."""
    return hashlib.blake2b(visitor.encode(), digest_size=12).hexdigest()
