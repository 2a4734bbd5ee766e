"""Review: a writer who may not publish submits a draft; an editor publishes it or sends
it back with a note the writer sees on the article's page.

- "Submitted for review" is ``Article.review_requested_at`` on a draft, not a status of its
  own, so ``Article.objects.published()`` stays the one public filter. The admin lists them
  under the status filter "Pending review".
- The editors (``roles.reviewers()``) are told by mail. The articles say what is still to
  be told (``review_told_at``), as comments do for their moderators' digest: a mail that
  could not go out is part of the next one, and nothing is kept elsewhere.
  ``BLOG_REVIEW_MAIL`` chooses when: ``"now"`` (the default: a task queued once the
  submission is committed, by ``articles.tasks.review_mail_queue``) or ``"daily"`` (the
  daily digest only). The daily periodic task (``articles.tasks.send_review_mail``, see
  ``schedule.py``) also sends whatever "now" could not.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from blog_project.breaker import breaker

from . import roles
from .models import Article
from .selectors import site_settings

NOTE_MAX_LENGTH = 2000
MAIL_MODES = ("now", "daily")
SEND_ERRORS = (smtplib.SMTPException, OSError)


def mail_mode() -> str:
    mode = getattr(settings, "BLOG_REVIEW_MAIL", "now")
    return mode if mode in MAIL_MODES else "now"


def pending_review() -> QuerySet[Article]:
    return Article.objects.filter(status=Article.Status.DRAFT, review_requested_at__isnull=False)


def review_mail_send() -> bool:
    """One mail to the editors about every submission they were not told about yet; the
    submissions are marked told once it is out. False if there was nothing to tell, or no
    one to tell; raises one of SEND_ERRORS or BreakerOpen when the mail could not go."""
    waiting = list(
        pending_review()
        .filter(review_told_at=None)
        .select_related("author")
        .order_by("review_requested_at")[:50]
    )
    recipients = [user.email for user in roles.reviewers()]
    if not waiting or not recipients:
        return False
    site = site_settings()
    with translation.override(settings.LANGUAGE_CODE):
        entries = [
            {
                "article": article,
                "author": article.author.get_full_name() or article.author.get_username(),
                "admin_url": settings.SITE_URL + reverse("admin:articles_article_change", args=[article.pk]),
            }
            for article in waiting
        ]
        queue_url = f"{settings.SITE_URL}{reverse('admin:articles_article_changelist')}?status__exact=pending"
        subject = ngettext(
            "[%(site)s] %(count)d article submitted for review",
            "[%(site)s] %(count)d articles submitted for review",
            len(waiting),
        ) % {"site": site.title, "count": len(waiting)}
        body = render_to_string("articles/email/review.txt", {"entries": entries, "queue_url": queue_url})
    message = EmailMessage(subject=" ".join(subject.split()), body=body, to=recipients)
    breaker("mail").call(message.send, errors=SEND_ERRORS)
    Article.objects.filter(pk__in=[article.pk for article in waiting]).update(review_told_at=timezone.now())
    return True


# The admin's form marks the article (``mark_*``) and saves it; the admin queues the mail
# on commit of a submission (``articles.tasks.review_mail_queue``: services do not import
# tasks, the caller enqueues).


def mark_submitted(article: Article) -> None:
    article.status = Article.Status.DRAFT
    article.review_requested_at = timezone.now()
    article.review_told_at = None
    article.review_note = ""


def mark_sent_back(article: Article, *, note: str) -> None:
    article.status = Article.Status.DRAFT
    article.review_requested_at = None
    article.review_told_at = None
    article.review_note = note.strip()[:NOTE_MAX_LENGTH]


def mark_reviewed(article: Article) -> None:
    """Published or scheduled: no longer waiting, and the old note is done with."""
    article.review_requested_at = None
    article.review_told_at = None
    article.review_note = ""
