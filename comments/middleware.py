"""Fills the comment form's stamp hole per request, cached page or not."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from .spam import STAMP_HOLE, make_stamp

_HOLE = STAMP_HOLE.encode()


class FormStampMiddleware:
    """Replaces the stamp placeholder with the signed time of this request.

    The article page is cached whole for anonymous readers; a stamp rendered into it would
    carry the time the page was cached, not the time this reader opened the form. Filling
    it here keeps the minimum fill time meaningful on every copy of the page.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return response
        content = response.content
        if _HOLE in content:
            content = content.replace(_HOLE, make_stamp().encode())
            response.content = content
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(content))
        return response
