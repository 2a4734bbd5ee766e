"""Writes to comments: posting, moderation, edits, deletion, unsubscribing, mail.

Every write that changes what readers see runs in one transaction with the article row
locked (``SELECT ... FOR UPDATE``; on SQLite the IMMEDIATE transaction already
serialises writers), recounts ``Article.comment_count`` from the approved comments in
that same transaction, and bumps the site generation once it commits. Mail is sent by
Celery tasks enqueued on commit (``tasks.enqueue_*``: a short wait for the broker at most,
the outbox when it cannot take them), so neither a failing mail server nor a failing
broker ever touches the comment itself.

Moderation: under the first-time policy a commenter is known only by proof, a comment
of theirs that was approved, listed in the signed cookie their browser got when posting
it (``spam.proven_comment_ids``); typing an address proves nothing. A post by a visitor
under a staff member's or a moderator's address is always held.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.listings import site_comments_recount
from articles.models import Article
from blog_project.caching import bump_on_commit

from . import conf, selectors, tasks
from .models import Comment, CommentSettings
from .notifications import moderator_addresses

log = logging.getLogger(__name__)

NUMBER_RETRIES = 5
EDITABLE_FIELDS = ("author_name", "author_email", "author_url", "body", "notify_on_reply")


class CommentsClosed(Exception):
    """The article (or the whole site) does not take comments."""


class DuplicateComment(Exception):
    """The same author already posted this text here (a double submission)."""

    def __init__(self, existing: Comment) -> None:
        super().__init__(existing.pk)
        self.existing = existing


def comments_open(article: Article) -> bool:
    policy = selectors.comment_settings()
    return bool(article.allow_comments and article.is_public and policy.comments_enabled)


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _find_duplicate(*, article_id: int, body: str, email: str, client_hash: str) -> Comment | None:
    since = timezone.now() - timedelta(seconds=conf.get("COMMENTS_DUPLICATE_WINDOW"))
    same_author = Comment.objects.filter(article_id=article_id, created_at__gte=since, author_email=email)
    if client_hash:
        same_author = same_author | Comment.objects.filter(
            article_id=article_id, created_at__gte=since, client_hash=client_hash
        )
    wanted = _normalised(body)
    # Whatever its status: reposting a removed or spam comment is refused the same way.
    for candidate in same_author.order_by("-created_at")[:50]:
        if _normalised(candidate.body) == wanted:
            return candidate
    return None


def is_staff_address(email: str) -> bool:
    """An address of a staff member or a moderator: a visitor posting under it could pass
    for them (their avatar comes from it), so such posts are always held."""
    email = email.strip().lower()
    if email in {address.strip().lower() for address in moderator_addresses()}:
        return True
    return get_user_model().objects.filter(is_staff=True, email__iexact=email).exists()


def _initial_status(*, email: str, is_staff: bool, proven_comment_ids: Collection[int]) -> str:
    if is_staff:
        return Comment.Status.APPROVED
    if is_staff_address(email):
        return Comment.Status.PENDING
    policy = selectors.comment_settings().comment_moderation
    if policy == CommentSettings.Moderation.NONE:
        return Comment.Status.APPROVED
    if policy == CommentSettings.Moderation.FIRST_TIME:
        ids = [pk for pk in proven_comment_ids if isinstance(pk, int)]
        known = bool(ids) and Comment.objects.approved().filter(pk__in=ids, author_email=email).exists()
        return Comment.Status.APPROVED if known else Comment.Status.PENDING
    return Comment.Status.PENDING


def _next_number(article_id: int) -> int:
    last = (
        Comment.objects.filter(article_id=article_id)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return (last or 0) + 1


def _lock_articles(article_ids: Iterable[int]) -> list[Article]:
    # Always in primary-key order, so two bulk moderations cannot deadlock.
    return list(Article.objects.select_for_update().filter(pk__in=set(article_ids)).order_by("pk").only("pk"))


def _recount(article_ids: Iterable[int]) -> None:
    """Set comment_count from the approved comments (run with the articles locked)."""
    approved = (
        Comment.objects.filter(article=OuterRef("pk"), status=Comment.Status.APPROVED)
        .order_by()
        .values("article")
        .annotate(total=Count("pk"))
        .values("total")
    )
    Article.objects.filter(pk__in=set(article_ids)).update(
        comment_count=Coalesce(Subquery(approved), Value(0))
    )
    site_comments_recount()


def _after_commit(func) -> None:
    # robust: a failing broker (or anything else after commit) is logged, and never turns
    # an already stored comment into an error page.
    transaction.on_commit(func, robust=True)


def _enqueue_notifications(comment: Comment) -> None:
    if comment.status == Comment.Status.PENDING and comment.moderators_notified_at is None:
        _after_commit(tasks.enqueue_moderation_digest)
    if (
        comment.status == Comment.Status.APPROVED
        and comment.parent_id is not None
        and comment.reply_notified_at is None
    ):
        comment_id = comment.pk
        _after_commit(lambda: tasks.enqueue_reply_mail(comment_id))


def comment_create(
    *,
    article: Article,
    author_name: str,
    author_email: str,
    body: str,
    author_url: str = "",
    parent: Comment | None = None,
    notify_on_reply: bool = False,
    client_hash: str = "",
    user=None,
    proven_comment_ids: Collection[int] = (),
) -> Comment:
    """Store a new comment, numbered within its article, moderated by the site policy.

    ``proven_comment_ids``: comments the poster's browser proves it posted (the signed
    proof cookie); under the first-time policy one of them approved with the same address
    makes the poster known.

    Raises CommentsClosed, DuplicateComment, or ValidationError (bad fields, or a parent
    that is not an approved comment of this article).
    """
    is_staff = bool(user is not None and user.is_authenticated and user.is_staff)
    if parent is not None and parent.article_id != article.pk:
        raise ValidationError({"parent": _("You can only reply to a comment on the same article.")})
    for attempt in range(NUMBER_RETRIES):
        try:
            with transaction.atomic():
                locked = (
                    Article.objects.select_for_update()
                    .only("pk", "status", "published_at", "allow_comments")
                    .get(pk=article.pk)
                )
                if not comments_open(locked):
                    raise CommentsClosed
                if parent is not None:
                    fresh_parent = Comment.objects.filter(pk=parent.pk).only("status").first()
                    if fresh_parent is None or fresh_parent.status != Comment.Status.APPROVED:
                        raise ValidationError({"parent": _("That comment is not open for replies.")})
                comment = Comment(
                    article_id=article.pk,
                    parent=parent,
                    author_name=author_name,
                    author_email=author_email,
                    author_url=author_url,
                    body=body,
                    notify_on_reply=notify_on_reply,
                    client_hash=client_hash,
                    is_staff_reply=is_staff,
                    user=user if is_staff else None,
                )
                comment.number = _next_number(article.pk)
                comment.thread_number = parent.thread_number if parent is not None else comment.number
                comment.full_clean(exclude=["number", "thread_number"])
                duplicate = _find_duplicate(
                    article_id=article.pk, body=body, email=comment.author_email, client_hash=client_hash
                )
                if duplicate is not None:
                    raise DuplicateComment(duplicate)
                comment.status = _initial_status(
                    email=comment.author_email, is_staff=is_staff, proven_comment_ids=proven_comment_ids
                )
                comment.save()
                if comment.is_approved:
                    _recount([article.pk])
                    bump_on_commit("comments")
                _enqueue_notifications(comment)
            return comment
        except IntegrityError:
            # Another writer took this number (only possible if it bypassed the lock).
            if attempt == NUMBER_RETRIES - 1:
                raise
            log.warning("Comment number clash on article %s; retrying", article.pk)
    raise AssertionError("unreachable")


def comment_moderate(*, comments: QuerySet[Comment], status: str) -> int:
    """Set the status of several comments; counts, caches and reply mail follow."""
    if status not in Comment.Status.values:
        raise ValidationError(_("Unknown status."))
    with transaction.atomic():
        targets = list(comments.exclude(status=status).values_list("pk", "article_id"))
        if not targets:
            return 0
        article_ids = {article_id for _pk, article_id in targets}
        _lock_articles(article_ids)
        changed = list(
            Comment.objects.select_for_update()
            .filter(pk__in=[pk for pk, _article_id in targets])
            .exclude(status=status)
            .order_by("pk")
        )
        for comment in changed:
            comment.status = status
            comment.save(update_fields=["status"])
            if status == Comment.Status.APPROVED:
                _enqueue_notifications(comment)  # the reply mail, if one is due
        _recount(article_ids)
        bump_on_commit("comments")
    return len(changed)


def comment_edit(
    *,
    comment: Comment,
    author_name: str,
    author_email: str,
    author_url: str,
    body: str,
    notify_on_reply: bool,
) -> Comment:
    """A moderator's correction of a comment's fields (not its status)."""
    with transaction.atomic():
        comment.author_name = author_name
        comment.author_email = author_email
        comment.author_url = author_url
        comment.body = body
        comment.notify_on_reply = notify_on_reply
        comment.full_clean()
        comment.save(update_fields=[*EDITABLE_FIELDS, "body_html"])
        bump_on_commit("comments")
    return comment


def comment_delete(*, comments: QuerySet[Comment]) -> int:
    """Delete comments for good; their replies stay, in the same thread."""
    with transaction.atomic():
        article_ids = set(comments.values_list("article_id", flat=True))
        if not article_ids:
            return 0
        _lock_articles(article_ids)
        deleted, _by_model = comments.delete()
        _recount(article_ids)
        bump_on_commit("comments")
    return deleted


def comment_staff_reply(*, parent: Comment, user, body: str) -> Comment:
    """A staff member's reply (from the admin); a pending parent is approved first."""
    if parent.status == Comment.Status.PENDING:
        comment_moderate(comments=Comment.objects.filter(pk=parent.pk), status=Comment.Status.APPROVED)
        parent.refresh_from_db()
    name = user.get_full_name() or user.get_username()
    return comment_create(
        article=parent.article,
        parent=parent,
        author_name=name[: Comment._meta.get_field("author_name").max_length],
        author_email=user.email or settings.DEFAULT_FROM_EMAIL,
        body=body,
        user=user,
    )


# --- unsubscribing ----------------------------------------------------------------------


def comment_unsubscribe(*, email: str) -> int:
    """Stop reply mail for every comment written with this address (idempotent)."""
    return Comment.objects.filter(author_email=email.strip().lower(), notify_on_reply=True).update(
        notify_on_reply=False
    )


def comment_counts_recount(*, article_ids: Iterable[int]) -> None:
    """Set the articles' comment counts from their approved comments, with the articles
    locked (imports and ``manage.py rebuild_derived``, which write comments in bulk)."""
    ids = sorted(set(article_ids))
    with transaction.atomic():
        _lock_articles(ids)
        _recount(ids)
