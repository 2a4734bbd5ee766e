"""The articles' Celery tasks: thin wrappers around ``review``, and their queueing."""

from __future__ import annotations

import logging

from celery import shared_task

from blog_project.breaker import BreakerOpen
from blog_project.broker import publish

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


def review_mail_queue() -> None:
    """After a submission is committed: tell the editors now, if the site wants that. What
    cannot be queued stays untold and goes with the daily digest."""
    if review.mail_mode() != "now":
        return
    if not publish(send_review_mail):
        log.warning("Review mail not queued (the broker is down); the daily digest sends it.")
