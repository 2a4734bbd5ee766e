"""Mail about comments, sent by Celery after the comment is committed.

The tasks are thin: ``notifications`` decides and sends. Enqueueing never fails a post:
``enqueue_*`` publish within a short timeout (``blog_project.broker``). A reply mail is an
outbox row before it is queued, deleted once sent; a digest the broker could not take is
kept there too. A mail that fails at the mail server stays in the outbox,
and ``send_waiting_mail`` (every few minutes from beat, see ``schedule.py``) sends the
outbox and any digest still due. When tasks run eagerly (no broker, the embedded default)
they run in-process after the commit; a mail sent successfully then also sends what the
outbox holds.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache

from blog_project.broker import publish

from . import conf, notifications
from .models import OutboxMessage

log = logging.getLogger(__name__)

DIGEST_SCHEDULED_KEY = "comments:moderation-digest:scheduled"


def _after_success() -> None:
    if OutboxMessage.objects.exists():
        notifications.outbox_drain()


@shared_task(acks_late=True)
def notify_moderators(comment_id: int | None = None) -> bool:
    """The moderators' digest (``comment_id`` is ignored: kept for messages queued by older
    versions). Not sent: the comments stay untold and the next digest takes them."""
    try:
        outcome = notifications.moderation_digest_send()
    except notifications.MAIL_ERRORS as exc:
        log.warning("Moderation digest not sent (the next run sends it): %r", exc)
        return False
    _after_success()
    return outcome.sent


@shared_task(acks_late=True)
def notify_reply(comment_id: int, outbox_id: int | None = None) -> bool:
    """The reply mail kept in outbox row ``outbox_id`` (messages queued by older versions
    have none: their mail is sent, and kept if that fails)."""
    try:
        if outbox_id is None:
            outcome = notifications.reply_mail_send(comment_id=comment_id)
        else:
            outcome = notifications.outbox_send(pk=outbox_id)
    except notifications.MAIL_ERRORS as exc:
        if outbox_id is None:
            notifications.outbox_keep(kind="reply", arguments={"comment_id": comment_id}, error=exc)
        else:
            notifications.outbox_failed(pk=outbox_id, error=exc)
        return False
    _after_success()
    return outcome.sent


@shared_task(acks_late=True)
def send_waiting_mail() -> dict:
    """Periodic: the digest of comments still untold, then the outbox."""
    try:
        digest = notifications.moderation_digest_send().sent
    except notifications.MAIL_ERRORS as exc:
        log.warning("Moderation digest not sent (the next run sends it): %r", exc)
        return {"digest": False, "sent": 0, "waiting": OutboxMessage.objects.count()}
    drained = notifications.outbox_drain()
    return {"digest": digest, "sent": drained.sent, "waiting": drained.waiting}


def _enqueue(kind: str, task, *, args: tuple = (), arguments: dict | None = None, countdown=None) -> None:
    if not publish(task, args=args, countdown=countdown):
        notifications.outbox_keep(kind=kind, arguments=arguments, error=ConnectionError("broker unavailable"))


def enqueue_moderation_digest() -> None:
    """A comment awaits moderation: a digest goes out at the end of the current window,
    with every comment that arrived in it (one mail, however many)."""
    window = conf.get("COMMENTS_MODERATION_DIGEST_SECONDS")
    if cache.add(DIGEST_SCHEDULED_KEY, 1, timeout=window) is False:
        return  # one is due already; None (the cache is down) schedules to be safe
    _enqueue("moderation_digest", notify_moderators, countdown=window)


def enqueue_reply_mail(comment_id: int) -> None:
    """The mail is a row first, then a message: if the broker cannot take it, or loses it
    (restarted without its data), the periodic task still finds the row and sends it."""
    row = notifications.outbox_add(kind="reply", arguments={"comment_id": comment_id})
    if not publish(notify_reply, args=(comment_id, row.pk)):
        notifications.outbox_failed(pk=row.pk, error=ConnectionError("broker unavailable"))
