"""Spam and abuse defence: client keys, the signed form stamp, the rate limit, the proof
of an earlier approved comment.

- Clients are known by keyed hashes (HMAC with SECRET_KEY), never the raw address: the
  *fingerprint* (address and user agent) is stored with a comment for the moderators'
  review and duplicate detection; the *network key* (the IPv4 address, or the IPv6 /64)
  is what limits count, since a client changes its user agent at will but not its network.
- The form stamp is a signed time filled into every page per request (the ``comment-stamp``
  hole, see ``sections.py``), so a page served whole from the cache still carries the time the reader
  actually opened it: a bot posting at once is caught, and a reader's form never expires
  just because the cached page is old. It is bound to the reader's network (a stamp
  fetched elsewhere does not work) and spent by the comment it carried.
- The rate limit counts posts per network key in fixed windows, and spent stamps are
  remembered, in the database (``PostingWindow``, ``SpentStamp``), never in the cache: a
  flood of cached pages filling Redis evicts keys with an expiry first, and a limit that
  can be evicted is no limit.
- The proof cookie lists the comments this browser posted (signed, sent to /comments/
  only): under the first-time policy a commenter is known once one of them was approved
  under the same address, never because somebody typed that address.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from blog_project.security import client_ip, client_network

from . import conf
from .models import PostingWindow, SpentStamp

_STAMP_SALT = "comments.form-stamp"
_CLIENT_SALT = "comments.client-fingerprint"
_NETWORK_SALT = "comments.client-network"
_PROOF_SALT = "comments.proof"
PROOF_COOKIE_IDS = 20  # the most recent comments a browser's proof lists


def now() -> float:
    return time.time()


def client_fingerprint(request: HttpRequest) -> str:
    user_agent = request.headers.get("User-Agent", "")[:512]
    return salted_hmac(_CLIENT_SALT, f"{client_ip(request)}\n{user_agent}", algorithm="sha256").hexdigest()


def network_key(network: str) -> str:
    return _network_key(network, settings.SECRET_KEY)


@functools.lru_cache(maxsize=4096)
def _network_key(network: str, secret: str) -> str:
    # Kept per process: every cached article page's form stamp needs it.
    return salted_hmac(_NETWORK_SALT, network, secret=secret, algorithm="sha256").hexdigest()


def client_network_key(request: HttpRequest) -> str:
    """What rate limits and form stamps are keyed on: the address (IPv6: its /64), hashed."""
    return network_key(client_network(request))


# --- form stamp -------------------------------------------------------------------------


def make_stamp(request: HttpRequest | None) -> str:
    """A new stamp for a form shown now to this request's client (one per view)."""
    client = client_network_key(request)[:16] if request is not None else ""
    return sign_stamp(shown_at=now(), client=client, nonce=secrets.token_hex(4))


def sign_stamp(*, shown_at: float, client: str, nonce: str) -> str:
    """``<shown at, ms, hex>.<client's network key, 16 hex>.<nonce>.<keyed BLAKE2b, 128 bits>``.

    A compact format with a key derived once per process, rather than ``signing.dumps``
    (JSON, base64, a timestamp signer): this runs for every cached article page view."""
    payload = f"{round(shown_at * 1000):x}.{client}.{nonce}"
    return f"{payload}.{_stamp_mac(payload)}"


def _stamp_mac(payload: str) -> str:
    # Keyed BLAKE2b is a MAC by design (no HMAC construction needed), and CPython's own:
    # cheaper per call than an OpenSSL HMAC.
    mac = hashlib.blake2b(payload.encode(), key=_stamp_key(settings.SECRET_KEY), digest_size=16)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


@functools.lru_cache(maxsize=2)
def _stamp_key(secret: str) -> bytes:
    return hashlib.blake2b(secret.encode(), person=b"form-stamp", digest_size=32).digest()


def stamp_shown_at(value: str) -> float:
    """When the stamped form was shown (seconds since the epoch); StampError("invalid")
    unless the stamp is one this site signed."""
    payload, _, mac = value.rpartition(".")
    if not payload or not hmac.compare_digest(mac.encode(), _stamp_mac(payload).encode()):
        raise StampError("invalid")
    try:
        return int(payload.split(".", 1)[0], 16) / 1000
    except ValueError as exc:  # signed, so only if the format itself changed
        raise StampError("invalid") from exc


class StampError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "missing", "invalid", "too_fast", "expired", "elsewhere", "spent"


def check_stamp(value: str, *, client_key: str) -> None:
    """Raise StampError unless the form was shown to this client (``client_network_key``)
    long enough ago, but not too long, and no comment was stored with it yet."""
    if not value:
        raise StampError("missing")
    if len(value) > 200 or not value.isascii():
        raise StampError("invalid")
    shown_at = stamp_shown_at(value)
    client = value.split(".")[1]
    if client != client_key[:16]:
        raise StampError("elsewhere")
    age = now() - shown_at
    if age < conf.get("COMMENTS_MIN_FILL_SECONDS"):
        raise StampError("too_fast")
    if age > conf.get("COMMENTS_FORM_MAX_AGE"):
        raise StampError("expired")
    if SpentStamp.objects.filter(digest=_stamp_digest(value)).exists():
        raise StampError("spent")


def _stamp_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def spend_stamp(value: str) -> None:
    """A stamp carries one comment: once one is stored, the same form is refused."""
    moment = timezone.now()
    SpentStamp.objects.filter(expires_at__lt=moment).delete()
    expires_at = moment + timedelta(seconds=conf.get("COMMENTS_FORM_MAX_AGE") + 60)
    SpentStamp.objects.get_or_create(digest=_stamp_digest(value), defaults={"expires_at": expires_at})


# --- proof of an earlier approved comment -----------------------------------------------


def proven_comment_ids(request: HttpRequest) -> list[int]:
    raw = request.COOKIES.get(conf.PROOF_COOKIE, "")
    if not raw:
        return []
    try:
        ids = signing.loads(raw, salt=_PROOF_SALT, max_age=conf.PROOF_COOKIE_MAX_AGE)
    except (signing.BadSignature, ValueError):
        return []
    if not isinstance(ids, list):
        return []
    return [value for value in ids if isinstance(value, int)][-PROOF_COOKIE_IDS:]


def proof_cookie_value(ids: list[int]) -> str:
    unique = list(dict.fromkeys(ids))[-PROOF_COOKIE_IDS:]
    return signing.dumps(unique, salt=_PROOF_SALT, compress=True)


# --- rate limit -------------------------------------------------------------------------


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int  # seconds until the window ends (0 when allowed)


def rate_limit_hit(client_key: str) -> RateDecision:
    """Count one post by this client (``client_network_key``) and say whether it is within
    the limit."""
    window = conf.get("COMMENTS_RATE_WINDOW")
    limit = conf.get("COMMENTS_RATE_LIMIT")
    moment = int(now())
    window_start = moment - moment % window
    count = _count_post(client_key, window_start)
    if count <= limit:
        return RateDecision(allowed=True, retry_after=0)
    return RateDecision(allowed=False, retry_after=max(1, window_start + window - moment))


def _count_post(client_key: str, window_start: int) -> int:
    """Add one post to the client's window and return the window's count. An UPDATE first
    (the row lock makes concurrent posts count one after another), an INSERT for the
    window's first post, an UPDATE again if a concurrent first post won the INSERT."""
    windows = PostingWindow.objects.filter(client_key=client_key, window_start=window_start)
    with transaction.atomic():
        if not windows.update(posts=F("posts") + 1):
            PostingWindow.objects.filter(window_start__lt=window_start).delete()  # finished windows
            try:
                with transaction.atomic():
                    PostingWindow.objects.create(client_key=client_key, window_start=window_start, posts=1)
            except IntegrityError:
                windows.update(posts=F("posts") + 1)
        return windows.values_list("posts", flat=True).get()
