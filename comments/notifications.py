"""Mail about comments: the moderators' digest, reply notifications, unsubscribe links,
and the outbox that keeps mail which could not be queued or sent.

- Moderators get one *digest* of the comments awaiting them, at most one per
  ``COMMENTS_MODERATION_DIGEST_SECONDS`` however many arrive: a flood of posts is one mail.
  The comments themselves say what is still to be told (``moderators_notified_at``), so a
  digest that could not be sent is simply part of the next one.
- A reply notification goes to a parent's author who asked for it, once per reply, with an
  unsubscribe link that works for ``COMMENTS_UNSUBSCRIBE_DAYS`` (the mail says so) and
  RFC 8058 one-click headers.
- Mail goes out through the process's "mail" circuit breaker: a hung mail server costs one
  ``EMAIL_TIMEOUT`` per interval, then sending fails at once until a probe gets through.
- Every reply mail is an ``OutboxMessage`` row before it is queued: the task sends it and
  deletes the row, and ``outbox_drain`` (the periodic ``send_waiting_mail`` task) sends
  what is still there: mail the broker could not take, lost with a broker that restarted
  empty, or that failed at the mail server. A row is claimed under a row lock (skipped by
  anyone else meanwhile), so the task and the drain never send one mail twice. The digest
  needs no row: the comments say what is still untold, and the periodic task sends it.
  Nothing is lost to an outage of Redis, the broker or the mail server.

Tasks (``tasks.py``) call these; this module imports neither the tasks nor the services.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from articles.markdown import plain_text
from articles.selectors import site_settings
from blog_project.breaker import BreakerOpen, breaker

from . import conf
from .models import Comment, OutboxMessage

log = logging.getLogger(__name__)

SEND_ERRORS = (smtplib.SMTPException, OSError)
# Everything that means "not sent now, try later".
MAIL_ERRORS = (*SEND_ERRORS, BreakerOpen)
DIGEST_LISTED = 20  # comments shown in one digest; the rest are counted
DIGEST_CLAIMED = 1000  # comments one digest marks as told
_UNSUBSCRIBE_SALT = "comments.unsubscribe"


@dataclass(frozen=True)
class MailOutcome:
    sent: bool
    reason: str = ""


def send(message: EmailMessage) -> None:
    """Send through the "mail" breaker; raises one of MAIL_ERRORS when it cannot."""
    breaker("mail").call(message.send, errors=SEND_ERRORS)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# --- moderators -------------------------------------------------------------------------


def moderator_addresses() -> list[str]:
    configured = list(conf.get("COMMENTS_MODERATOR_EMAILS")) or [email for _name, email in settings.ADMINS]
    if configured:
        return configured
    users = get_user_model().objects.filter(is_active=True, is_superuser=True).exclude(email="")
    return list(users.values_list("email", flat=True))


def moderation_digest_send() -> MailOutcome:
    """One mail about every comment awaiting moderation that the moderators were not told
    about yet; they are marked told only once the mail is out. Rows another digest is
    sending right now are skipped (``skip_locked``), so two digests never tell twice."""
    recipients = moderator_addresses()
    # MariaDB: the claimed rows stay locked until they are marked (a failed mail rolls back).
    # SQLite has no row locks, and a transaction would hold the whole file's write lock
    # for as long as the mail server takes: there, no transaction.
    claiming = transaction.atomic() if connection.features.has_select_for_update else nullcontext()
    with claiming:
        # Only the comment rows are locked (never their articles: posting locks those).
        claimed = list(
            Comment.objects.pending()
            .filter(moderators_notified_at=None)
            .select_for_update(skip_locked=True)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:DIGEST_CLAIMED]
        )
        waiting = list(
            Comment.objects.filter(pk__in=claimed).select_related("article").order_by("created_at", "pk")
        )
        if not waiting:
            return MailOutcome(False, "nothing waiting")
        if not recipients:
            return MailOutcome(False, "no moderators")
        site = site_settings()
        with translation.override(settings.LANGUAGE_CODE):
            listed = waiting[:DIGEST_LISTED]
            context = {
                "site": site,
                "comments": [
                    {
                        "comment": comment,
                        "text": _one_line(
                            plain_text(comment.body_html) if comment.body_html else comment.body
                        )[:300],
                        "admin_url": _absolute(reverse("admin:comments_comment_change", args=[comment.pk])),
                        "article_url": _absolute(comment.article.get_absolute_url()),
                    }
                    for comment in listed
                ],
                "more": len(waiting) - len(listed),
                "total": len(waiting),
                "queue_url": _absolute(
                    reverse("admin:comments_comment_changelist") + "?status__exact=pending"
                ),
            }
            if len(waiting) == 1:
                subject = _("[%(site)s] Comment awaiting moderation on “%(title)s”") % {
                    "site": site.title,
                    "title": waiting[0].article.title,
                }
            else:
                subject = ngettext(
                    "[%(site)s] %(count)d comment awaiting moderation",
                    "[%(site)s] %(count)d comments awaiting moderation",
                    len(waiting),
                ) % {"site": site.title, "count": len(waiting)}
            body = render_to_string("comments/email/moderation.txt", context)
        send(EmailMessage(subject=_one_line(subject), body=body, to=recipients))
        Comment.objects.filter(pk__in=[comment.pk for comment in waiting]).update(
            moderators_notified_at=timezone.now()
        )
    return MailOutcome(True)


# --- replies ----------------------------------------------------------------------------


def unsubscribe_token(email: str) -> str:
    return signing.dumps({"e": email.strip().lower()}, salt=_UNSUBSCRIBE_SALT, compress=True)


class UnsubscribeLinkExpired(Exception):
    pass


def email_from_unsubscribe_token(token: str) -> str | None:
    """The address a link was made for; None if the link is broken, and
    UnsubscribeLinkExpired if it is older than COMMENTS_UNSUBSCRIBE_DAYS."""
    max_age = timedelta(days=conf.get("COMMENTS_UNSUBSCRIBE_DAYS"))
    try:
        data = signing.loads(token, salt=_UNSUBSCRIBE_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise UnsubscribeLinkExpired from exc
    except (signing.BadSignature, ValueError):
        return None
    email = data.get("e") if isinstance(data, dict) else None
    return email if isinstance(email, str) and email else None


def reply_mail_send(*, comment_id: int) -> MailOutcome:
    """Tell the parent's author about an approved reply, if they asked (once per reply)."""
    reply = Comment.objects.select_related("article", "parent").filter(pk=comment_id).first()
    if reply is None or reply.parent is None or reply.status != Comment.Status.APPROVED:
        return MailOutcome(False, "not an approved reply")
    if reply.reply_notified_at is not None:
        return MailOutcome(False, "already sent")
    parent = reply.parent
    if not parent.notify_on_reply or parent.status != Comment.Status.APPROVED:
        return MailOutcome(False, "not wanted")
    if parent.author_email == reply.author_email:
        return MailOutcome(False, "own reply")
    site = site_settings()
    token = unsubscribe_token(parent.author_email)
    unsubscribe_url = _absolute(reverse("comments:unsubscribe", args=[token]))
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "reply": reply,
            "parent": parent,
            "article": reply.article,
            "site": site,
            "text": plain_text(reply.body_html),
            "reply_url": _absolute(reply.get_absolute_url()),
            "unsubscribe_url": unsubscribe_url,
            "unsubscribe_days": conf.get("COMMENTS_UNSUBSCRIBE_DAYS"),
        }
        subject = _one_line(
            _("[%(site)s] %(name)s replied to your comment on “%(title)s”")
            % {"site": site.title, "name": reply.author_name, "title": reply.article.title}
        )
        body = render_to_string("comments/email/reply.txt", context)
    send(
        EmailMessage(
            subject=subject,
            body=body,
            to=[parent.author_email],
            headers={
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Auto-Submitted": "auto-generated",
            },
        )
    )
    Comment.objects.filter(pk=reply.pk).update(reply_notified_at=timezone.now())
    return MailOutcome(True)


# --- the outbox -------------------------------------------------------------------------

MAIL_KINDS: dict[str, Callable[..., MailOutcome]] = {
    "moderation_digest": lambda: moderation_digest_send(),
    "reply": lambda comment_id: reply_mail_send(comment_id=comment_id),
}


def _check_kind(kind: str) -> None:
    if kind not in MAIL_KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")


def outbox_add(*, kind: str, arguments: dict | None = None) -> OutboxMessage:
    """A mail about to be queued: kept until it is sent, whatever happens to the queue."""
    _check_kind(kind)
    return OutboxMessage.objects.create(kind=kind, arguments=arguments or {})


def outbox_keep(
    *, kind: str, arguments: dict | None = None, error: BaseException | None = None
) -> OutboxMessage:
    """Keep a mail that could not be queued or sent, for ``outbox_drain``."""
    _check_kind(kind)
    row = OutboxMessage.objects.create(
        kind=kind, arguments=arguments or {}, last_error=repr(error)[:300] if error else ""
    )
    log.warning("Comment mail %s %s kept in the outbox: %r", kind, arguments or "", error)
    return row


def outbox_failed(*, pk: int, error: BaseException) -> None:
    """The mail of row ``pk`` could not be queued or sent now: it waits for ``outbox_drain``."""
    row = OutboxMessage.objects.filter(pk=pk).first()
    if row is not None:
        OutboxMessage.objects.filter(pk=pk).update(attempts=row.attempts + 1, last_error=repr(error)[:300])
        log.warning("Comment mail %s %s kept in the outbox: %r", row.kind, row.arguments, error)


def outbox_send(*, pk: int) -> MailOutcome:
    """Send the mail of row ``pk`` and delete the row, in one transaction that holds the row
    locked: the periodic drain skips it meanwhile, and finds it gone after. A row that is
    gone or being sent by someone else is ``MailOutcome(False, ...)``; one of MAIL_ERRORS
    leaves the row as it was (rolled back) for the caller to mark."""
    # SQLite has no row locks; there nothing sends concurrently (tasks run in-process).
    claiming = transaction.atomic() if connection.features.has_select_for_update else nullcontext()
    with claiming:
        row = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
        if row is None:
            return MailOutcome(False, "sent already, or being sent")
        try:
            outcome = MAIL_KINDS[row.kind](**row.arguments)
        except (KeyError, TypeError) as exc:  # a kind or arguments this version does not know
            log.error("Dropping outbox row %s (%s %s): %r", row.pk, row.kind, row.arguments, exc)
            outcome = MailOutcome(False, "unknown kind or arguments")
        OutboxMessage.objects.filter(pk=row.pk).delete()
    return outcome


@dataclass(frozen=True)
class DrainResult:
    sent: int
    waiting: int  # rows still kept (the mail server failed again, or past the batch)


def outbox_drain(*, limit: int = 100) -> DrainResult:
    """Send kept mail, oldest first; stop at the first failure (the server is still down:
    the rest waits for the next run)."""
    done = 0
    for pk in list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True)[:limit]):
        try:
            outbox_send(pk=pk)
        except MAIL_ERRORS as exc:
            outbox_failed(pk=pk, error=exc)
            break
        done += 1
    return DrainResult(sent=done, waiting=OutboxMessage.objects.count())
