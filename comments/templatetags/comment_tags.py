"""Template helpers for the comments app (the admin index's pending count)."""

from django import template

from .. import selectors

register = template.Library()


@register.simple_tag
def pending_comment_count() -> int:
    return selectors.pending_count()
