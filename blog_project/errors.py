"""Error responses that hold whatever a visitor sends and whatever is down.

- A database that is down (refused, gone away, too many connections, locked) answers a
  503 with ``Retry-After`` and a plain page instead of a 500, whichever part of the request
  (a middleware or a view) first needed it. After such a failure the process's "database"
  circuit breaker answers the 503 at once, without waiting for a hung server again, until
  a probe request gets through (one wait per interval, as for Redis).
- 400 and 403 are answered without touching the request body again. Django's own handlers
  are wrapped in ``requires_csrf_token``, which reads ``request.POST`` once more: a body
  Django refuses to parse (a form in latin-1, an unknown charset) then turns the 400 into a
  500.

The pages are static templates: they must render when the database or the cache is what
failed. A form posted during an outage (a comment, an article) comes back on the 503 page:
its text shown and a button that sends the same fields again, so nothing typed is lost.
"""

from __future__ import annotations

import sys
import time

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .breaker import breaker

RETRY_AFTER_SECONDS = 30

# MySQL/MariaDB error codes that mean "the database cannot serve now", as opposed to a
# bug (an unknown column is an OperationalError too).
_UNAVAILABLE_CODES = {
    1040,  # too many connections
    1044,  # access denied to the database
    1045,  # access denied (credentials changed under a running site)
    1049,  # unknown database
    1129,  # host blocked after connection errors
    1130,  # host not allowed to connect
    1053,  # server shutdown in progress
    1203,  # max_user_connections
    1205,  # lock wait timeout
    1213,  # deadlock
    1251,  # authentication protocol refused
    1698,  # access denied (auth plugin)
    1927,  # connection killed
    2002,  # cannot connect (socket)
    2003,  # cannot connect (TCP)
    2005,  # unknown host
    2006,  # server has gone away
    2013,  # lost connection during query
    2026,  # TLS connection error
    2055,  # lost connection (system error)
    4031,  # disconnected by the server (idle timeout)
}
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")


def is_database_outage(exc: BaseException | None) -> bool:
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    if code is not None:
        return code in _UNAVAILABLE_CODES
    return any(text in str(exc).lower() for text in _SQLITE_UNAVAILABLE)


# What a kept form may carry back: enough for an article, not an echo service.
_KEPT_FIELDS = 50
_KEPT_CHARS = 200_000
_NOT_KEPT = frozenset({"csrfmiddlewaretoken"})


def _kept_form(request: HttpRequest | None) -> dict | None:
    """The fields of a form posted with this request, to be sent again (files are not)."""
    if request is None or request.method != "POST":
        return None
    try:
        posted = request.POST
    except Exception:  # a body Django refuses to parse: nothing to give back
        return None
    fields: list[tuple[str, str, bool]] = []
    size = 0
    for name, values in posted.lists():
        if name in _NOT_KEPT:
            continue
        for value in values:
            size += len(name) + len(value)
            if len(fields) >= _KEPT_FIELDS or size > _KEPT_CHARS:
                return None
            # Prose is shown (and can be copied or changed); short values travel hidden.
            fields.append((name, value, "\n" in value or len(value) > 60))
    if not fields:
        return None
    return {"action": request.get_full_path(), "fields": fields, "csrf_token": get_token(request)}


def service_unavailable(request: HttpRequest | None = None) -> HttpResponse:
    response = HttpResponse(render_to_string("503.html", {"kept": _kept_form(request)}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _wants_json(request: HttpRequest) -> bool:
    """The editor's calls (fetch with X-Requested-With) read their errors as JSON."""
    return request.headers.get(
        "X-Requested-With"
    ) == "XMLHttpRequest" or "application/json" in request.headers.get("Accept", "")


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        if isinstance(exception, MultiPartParserError) and "header size" in str(exception):
            # A part's headers over Django's 1 KB: in practice, a very long file name.
            message = _("The file name is too long: rename the file (a shorter name) and send it again.")
        else:
            message = _("The request could not be read. Nothing was saved: please try again.")
        return JsonResponse({"error": message}, status=400)
    return HttpResponse(render_to_string("400.html"), status=400)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": _("You are not allowed to do this.")}, status=403)
    return HttpResponse(render_to_string("403.html"), status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django calls it while handling the exception, so it is at hand."""
    exc = sys.exc_info()[1]
    if is_database_outage(exc):
        # For DatabaseBreakerMiddleware, which reads it back with getattr().
        request.database_outage = exc  # type: ignore[attr-defined]
        return service_unavailable(request)
    return HttpResponseServerError(render_to_string("500.html"))


class DatabaseBreakerMiddleware:
    """The "database" breaker around everything below it: open, the 503 page at once.

    Only a *slow* failure opens it (a hung server: a timeout after ``connect_timeout`` or
    ``read_timeout``). A refused connection fails at once anyway, and pages that need no
    query (served from the cache) keep working meanwhile."""

    slow_seconds = 1.0

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        guard = breaker("database")
        if not guard.allow():
            response = service_unavailable(request)
            # The opening was logged; not one line per request (the flag is Django's own,
            # read by django.utils.log.log_response, and not in the stubs).
            response._has_been_logged = True  # type: ignore[attr-defined]
            return response
        started = time.monotonic()
        response = self.get_response(request)
        outage = getattr(request, "database_outage", None)
        if outage is None:
            guard.success()
        elif guard.is_open or time.monotonic() - started >= self.slow_seconds:
            guard.failure(outage)
        return response
