"""Spam and abuse defence: client fingerprints, the signed form stamp, the rate limit.

- The client fingerprint is an HMAC of the IP address and user agent, keyed from
  SECRET_KEY: stable enough to rate-limit and to review a commenter's history, and the
  raw address is never stored.
- The form stamp is a signed time filled into every page per request (the
  ``comment-stamp`` hole, see ``sections.py``), so a page served whole from the cache still carries the time
  the reader actually opened it: a bot posting at once is caught, and a reader's form
  never expires just because the cached page is old.
- The rate limit counts posts per fingerprint in the Django cache (Redis in production,
  the file cache embedded), in fixed windows. A cache outage lets posts through: the
  other checks still apply, and comments are never lost to an infrastructure failure.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from . import conf

_STAMP_SALT = "comments.form-stamp"
_CLIENT_SALT = "comments.client-fingerprint"


def now() -> float:
    return time.time()


def client_ip(request: HttpRequest) -> str:
    header = conf.get("BLOG_CLIENT_IP_HEADER")
    raw = request.headers.get(header, "") if header else ""
    # X-Forwarded-For style lists: the proxy appends, so the last entry is the one it saw.
    candidate = raw.split(",")[-1].strip() if raw else request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return "unknown"


def client_fingerprint(request: HttpRequest) -> str:
    user_agent = request.headers.get("User-Agent", "")[:512]
    return salted_hmac(_CLIENT_SALT, f"{client_ip(request)}\n{user_agent}", algorithm="sha256").hexdigest()


# --- form stamp -------------------------------------------------------------------------


def make_stamp() -> str:
    return signing.dumps(round(now(), 3), salt=_STAMP_SALT, compress=False)


class StampError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "missing", "invalid", "too_fast", "expired"


def check_stamp(value: str) -> None:
    """Raise StampError unless the form was shown long enough ago, but not too long."""
    if not value:
        raise StampError("missing")
    try:
        shown_at = float(signing.loads(value, salt=_STAMP_SALT))
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise StampError("invalid") from exc
    age = now() - shown_at
    if age < conf.get("COMMENTS_MIN_FILL_SECONDS"):
        raise StampError("too_fast")
    if age > conf.get("COMMENTS_FORM_MAX_AGE"):
        raise StampError("expired")


# --- rate limit -------------------------------------------------------------------------


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int  # seconds until the window ends (0 when allowed)


def rate_limit_key(fingerprint: str, window_start: int) -> str:
    return f"comments:rate:{fingerprint}:{window_start}"


def rate_limit_hit(fingerprint: str) -> RateDecision:
    """Count one post by this client and say whether it is within the limit."""
    window = conf.get("COMMENTS_RATE_WINDOW")
    limit = conf.get("COMMENTS_RATE_LIMIT")
    moment = int(now())
    window_start = moment - moment % window
    key = rate_limit_key(fingerprint, window_start)
    # add() creates the counter with its expiry only if absent; incr() is atomic on Redis.
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr, or the cache is unavailable
        count = None
    if count is None or count <= limit:
        return RateDecision(allowed=True, retry_after=0)
    return RateDecision(allowed=False, retry_after=max(1, window_start + window - moment))
