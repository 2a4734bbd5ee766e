"""The view counter the stats app plugs in (``register_view_counter``), so that the views
of the pages this package answers are counted by the app that owns counting: this package
knows only who to tell (the stats app decides whose views count and how they are written)."""

from __future__ import annotations

from typing import Any, Protocol

from django.http import HttpRequest, HttpResponse


class ViewCounter(Protocol):
    # The reader is opaque here (Any): each counter takes back the kind its reader() gave.

    def reader(self, request: HttpRequest) -> Any:
        """This reader's counting identity, or None when their views are not counted."""

    def count(self, reader: Any, article_id: int | None) -> None:
        """Count a view of a page (an article's, with its id)."""

    def is_countable_page(self, request: HttpRequest, response: HttpResponse) -> bool:
        """Whether this rendered response is a page view (as opposed to a feed, ...)."""


counter: ViewCounter | None = None


def register_view_counter(new: ViewCounter | None) -> None:
    global counter
    counter = new
