"""The view counter the stats app plugs in (``register_view_counter``), so that a cached
page's view is counted in the page's own round trip: this package knows only that it
is given commands to send and their replies back."""

from __future__ import annotations

from typing import Any, Protocol

from django.http import HttpRequest, HttpResponse


class ViewCounter(Protocol):
    # The reader is opaque here (Any): each counter takes back the kind its reader() gave.

    def reader(self, request: HttpRequest) -> Any:
        """This reader's counting identity, or None when their views are not counted."""

    def commands(self, reader: Any, article_id: int | None) -> list[tuple]:
        """Redis commands that count the view, run with the page lookup if the page is
        answered from this process's copy ([]: it counts elsewhere, with ``count``)."""

    def count(self, reader: Any, article_id: int | None) -> None:
        """Count in a round trip of its own (the lookup did not count it)."""

    def is_countable_page(self, request: HttpRequest, response: HttpResponse) -> bool:
        """Whether this rendered response is a page view (as opposed to a feed, ...)."""


counter: ViewCounter | None = None


def register_view_counter(new: ViewCounter | None) -> None:
    global counter
    counter = new
