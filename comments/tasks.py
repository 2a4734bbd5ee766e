"""Mail about comments, sent by Celery after the comment is committed.

The tasks are thin: the services decide and send. A mail server that fails makes the
task retry later on a worker; when tasks run eagerly (no broker, the embedded default)
the failure is logged and the request that stored the comment is not held up.
"""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task

from . import conf, services

log = logging.getLogger(__name__)

MAIL_ERRORS = (smtplib.SMTPException, OSError)
MAX_RETRIES = 6


def _retry_or_log(task, exc: Exception, comment_id: int):
    if task.request.is_eager:
        log.error("Comment mail for comment %s failed (not retried in eager mode): %r", comment_id, exc)
        return None
    # 1, 2, 4, ... minutes (by default): a mail server down for a while still gets the mail.
    delay = conf.get("COMMENTS_MAIL_RETRY_DELAY") * 2**task.request.retries
    log.warning("Comment mail for comment %s failed, retrying in %ss: %r", comment_id, delay, exc)
    raise task.retry(exc=exc, countdown=delay)


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def notify_moderators(self, comment_id: int) -> bool:
    try:
        return services.comment_notify_moderators(comment_id=comment_id).sent
    except MAIL_ERRORS as exc:
        return _retry_or_log(self, exc, comment_id)


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def notify_reply(self, comment_id: int) -> bool:
    try:
        return services.comment_notify_reply(comment_id=comment_id).sent
    except MAIL_ERRORS as exc:
        return _retry_or_log(self, exc, comment_id)
