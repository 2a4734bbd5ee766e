"""The view counter the stats app plugs in (``register_view_counter``), so that the views
of the pages this package answers are counted by the app that owns counting: this package
knows only who to tell (the stats app decides whose views count and how they are written)."""

from __future__ import annotations

from typing import Protocol

from django.http import HttpRequest, HttpResponse


class ViewCounter(Protocol):
    def count(self, request: HttpRequest, article_id: int | None) -> None:
        """Count this request's view of a page (an article's, with its id), if the
        reader's views count; never raises (a lost view must not cost the page)."""

    def is_countable_page(self, request: HttpRequest, response: HttpResponse) -> bool:
        """Whether this rendered response is a page view (as opposed to a feed, ...)."""


counter: ViewCounter | None = None


def register_view_counter(new: ViewCounter | None) -> None:
    global counter
    counter = new
