"""The articles' Celery tasks: thin wrappers around ``review``."""

from __future__ import annotations

import logging

from celery import shared_task

from blog_project.breaker import BreakerOpen

from . import review

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def send_review_mail() -> bool:
    """Tell the editors about submissions they were not told about yet (at once after a
    submission, and daily for what could not go then or when the site wants a digest)."""
    try:
        return review.review_mail_send()
    except (*review.SEND_ERRORS, BreakerOpen) as exc:
        log.warning("Review mail not sent (the next run sends it): %r", exc)
        return False
