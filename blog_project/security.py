"""Who is asking, and what their browser may do: client addresses for limits, and the
Content-Security-Policy and Permissions-Policy headers.

Limits (comment posting, admin logins) are keyed on what a client cannot rotate cheaply:
its IPv4 address, or for IPv6 its /64 network (one home or phone gets a whole /64 and may
pick any address in it). Never the User-Agent, which a client changes at will.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

IPV6_NETWORK_PREFIX = 64


def client_ip(request: HttpRequest) -> str:
    """The reader's address: REMOTE_ADDR, or behind a proxy the header it always sets
    (``BLOG_CLIENT_IP_HEADER``); "unknown" when it is not an address."""
    header = getattr(settings, "BLOG_CLIENT_IP_HEADER", "")
    raw = request.META.get(_meta_key(header), "") if header else ""
    # X-Forwarded-For style lists: the proxy appends, so the last entry is the one it saw.
    candidate = raw.split(",")[-1].strip() if raw else request.META.get("REMOTE_ADDR", "")
    return _normalized_address(candidate)


@functools.lru_cache(maxsize=8)
def _meta_key(header: str) -> str:
    # request.headers would build a dict of every header for this one.
    return "HTTP_" + header.upper().replace("-", "_")


# Both kept per process: every cached article page's form stamp asks (a reader's address
# comes again and again; parsing it is most of what these cost).
@functools.lru_cache(maxsize=4096)
def _normalized_address(candidate: str) -> str:
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return "unknown"


@functools.lru_cache(maxsize=4096)
def network_of(address: str) -> str:
    """The unit a limit counts: an IPv4 address itself, the first address of an IPv6 /64
    (an IPv4-mapped IPv6 address counts as its IPv4 address)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/{IPV6_NETWORK_PREFIX}", strict=False).network_address)
    return str(ip)


def client_network(request: HttpRequest) -> str:
    return network_of(client_ip(request))


def client_network_for_axes(request: HttpRequest) -> str:
    """django-axes' AXES_CLIENT_IP_CALLABLE: lockouts per address (IPv6: per /64)."""
    return client_network(request)


def content_security_policy(config: Mapping[str, Any] | None) -> str:
    """The Content-Security-Policy header for ``CONTENT_SECURITY_POLICY`` (django-csp's
    settings format, ``{"DIRECTIVES": {name: [source, ...]}}``): directives in the order
    written, a source given once; ``True`` gives a bare directive
    (``upgrade-insecure-requests``), ``None`` or ``False`` leaves it out. No nonces."""
    parts = []
    for name, sources in ((config or {}).get("DIRECTIVES") or {}).items():
        if sources is True:
            parts.append(name)
        elif sources is not None and sources is not False:
            values = [sources] if isinstance(sources, str) else sources
            parts.append(" ".join([name, *dict.fromkeys(values)]))
    return "; ".join(parts)


class PolicyHeadersMiddleware:
    """Sets the Content-Security-Policy (``CONTENT_SECURITY_POLICY``) and the
    Permissions-Policy (``PERMISSIONS_POLICY``) on every response that has none.

    It sits near the top of MIDDLEWARE, so responses answered early (static files, the
    page cache) get them too. The policies use no nonce, so the header strings are built
    once, when the process starts, not for every response (django-csp's middleware,
    which this replaces, rebuilt the policy per response: a fifth of a cached page's cost)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.headers = {}
        policy = content_security_policy(getattr(settings, "CONTENT_SECURITY_POLICY", None))
        if policy:
            self.headers["Content-Security-Policy"] = policy
        if getattr(settings, "PERMISSIONS_POLICY", ""):
            self.headers["Permissions-Policy"] = settings.PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        headers = response.headers
        for name, value in self.headers.items():
            if name not in headers:
                headers[name] = value
        return response
