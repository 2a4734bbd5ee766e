"""Reader comments on articles: threaded, moderated, numbered per article."""

from __future__ import annotations

import hashlib
import unicodedata
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, URLValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.markdown import Profile, render_markdown
from articles.models import Article

from . import conf

NAME_MAX_LENGTH = 50


def _max_body_length(value: str) -> None:
    MaxLengthValidator(conf.get("COMMENTS_MAX_LENGTH"))(value)


def single_line(value: str) -> None:
    """No line breaks or other control characters (they would inject mail headers)."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError(_("Use a single line without control characters."), code="control_chars")


# Bidirectional embeddings, overrides and isolates: they reorder the text around a name
# (a name that makes "moc.elpmaxe" read as "example.com", or turns the line after it).
_BIDI_CONTROLS = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
# Letters that render as nothing (Hangul fillers, the braille blank).
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def visible_name(value: str) -> None:
    """A name must show something, and must not reorder the text around it."""
    if any(unicodedata.bidirectional(char) in _BIDI_CONTROLS for char in value):
        raise ValidationError(
            _("Use a name without text-direction control characters."), code="bidi_controls"
        )
    shown = [
        char
        for char in value
        if unicodedata.category(char) not in ("Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me")
        and char not in _BLANK_LETTERS
    ]
    if value and not shown:
        raise ValidationError(_("Use a name with visible characters."), code="invisible")


class CommentQuerySet(models.QuerySet):
    def approved(self) -> CommentQuerySet:
        return self.filter(status=Comment.Status.APPROVED)

    def pending(self) -> CommentQuerySet:
        return self.filter(status=Comment.Status.PENDING)

    def on_public_articles(self) -> CommentQuerySet:
        """Comments whose article is public: ``Article.objects.published()``'s rule as a
        join on the article's primary key (not a semi-join over every public article)."""
        return self.filter(
            article__status=Article.Status.PUBLISHED, article__published_at__lte=timezone.now()
        )


class Comment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting moderation")
        APPROVED = "approved", _("Approved")
        SPAM = "spam", _("Spam")
        REMOVED = "removed", _("Removed")

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="comments"
    )
    # Deleting a comment never deletes other readers' replies: they keep their thread (and
    # place in it) through thread_number. Moderators normally *remove* instead, which keeps
    # a "[removed]" placeholder. (RESTRICT would be nicer, but Django cannot order the
    # deletion of a self-referencing RESTRICT, and MariaDB checks the constraint per row.)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("in reply to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
    )
    # Per-article number ("#12"): the anchor of the comment and its place in the thread.
    number = models.PositiveIntegerField(_("number"), editable=False)
    # The number of the top-level comment of this thread (its own number for a top-level
    # comment): a page of threads is one range of these.
    thread_number = models.PositiveIntegerField(_("thread"), editable=False)
    author_name = models.CharField(
        _("name"), max_length=NAME_MAX_LENGTH, validators=[single_line, visible_name]
    )
    author_email = models.EmailField(_("e-mail"), validators=[single_line])
    author_url = models.URLField(
        _("website"), blank=True, validators=[URLValidator(schemes=["http", "https"]), single_line]
    )
    body = models.TextField(_("comment"), validators=[_max_body_length])
    body_html = models.TextField(editable=False, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    # Set by the server when a logged-in staff member posts; never taken from a form.
    is_staff_reply = models.BooleanField(_("staff reply"), default=False, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        editable=False,
        related_name="+",
    )
    notify_on_reply = models.BooleanField(_("e-mail replies"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # Salted hash of the IP address and user agent, for rate limiting and spam review.
    client_hash = models.CharField(_("client fingerprint"), max_length=64, blank=True, editable=False)
    moderators_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    reply_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["article", "number"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="comment_number_per_article"),
        ]
        indexes = [
            models.Index(fields=["article", "status", "thread_number"], name="comment_thread_idx"),
            models.Index(fields=["author_email"], name="comment_email_idx"),
            models.Index(fields=["client_hash"], name="comment_client_idx"),
            # The moderators' list: newest first, by status, by article, staff replies, and
            # the search by the beginning of a name (ties broken by the primary key). Read
            # backwards, (status, created_at) also gives the newest comments of a status
            # (a descending copy made MariaDB sort when it picked that one: the primary key
            # appended to it runs the other way).
            models.Index(fields=["created_at"], name="comment_admin_date_idx"),
            models.Index(fields=["status", "created_at"], name="comment_admin_status_idx"),
            models.Index(fields=["article", "created_at"], name="comment_admin_article_idx"),
            models.Index(fields=["is_staff_reply", "created_at"], name="comment_admin_staff_idx"),
            models.Index(fields=["author_name"], name="comment_admin_name_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.author_name}"

    def get_absolute_url(self) -> str:
        return reverse("comments:permalink", args=[self.pk])

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    @property
    def avatar_url(self) -> str:
        digest = hashlib.sha256(self.author_email.strip().lower().encode()).hexdigest()
        query = urlencode({"s": 80, "d": conf.get("COMMENTS_GRAVATAR_DEFAULT")})
        return f"https://www.gravatar.com/avatar/{digest}?{query}"

    def clean_fields(self, exclude=None) -> None:
        self.author_name = self.author_name.strip()
        self.author_email = self.author_email.strip().lower()
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        if not self.author_name:
            raise ValidationError({"author_name": _("Please tell us your name.")})
        if not self.body.strip():
            raise ValidationError({"body": _("The comment is empty.")})
        if self.parent_id is not None:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": _("A comment cannot reply to itself.")})
            parent = self.parent
            assert parent is not None  # parent_id is set
            if parent.article_id != self.article_id:
                raise ValidationError({"parent": _("You can only reply to a comment on the same article.")})

    def save(self, *args, **kwargs) -> None:
        # Render once, on write; pages show the stored, sanitised HTML.
        self.body_html = render_markdown(self.body, profile=Profile.COMMENT).html
        super().save(*args, **kwargs)


class OutboxMessage(models.Model):
    """Mail not sent yet: every reply mail from the moment it is queued, and any mail that
    could not be handed to the broker or the mail server when it was due.

    The queued task sends its row; a periodic task (``comments.tasks.send_waiting_mail``,
    every few minutes from beat) sends whatever is left, oldest first (a broker that lost
    its queue loses no mail). A row is deleted once its mail is out. ``kind`` names what to
    send (see ``notifications.MAIL_KINDS``), ``arguments`` its keyword arguments.
    """

    kind = models.CharField(_("kind"), max_length=40)
    arguments = models.JSONField(_("arguments"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("mail waiting to be sent")
        verbose_name_plural = _("mail waiting to be sent")

    def __str__(self) -> str:
        return f"{self.kind} {self.arguments}"


class PostingWindow(models.Model):
    """Comments posted by one client network in one fixed window: the rate limit's count.

    Kept in the database, not the cache: a flood of distinct cached pages that fills Redis
    would evict keys with an expiry first, and a limit that can be evicted is no limit.
    Rows of finished windows are deleted as new posts arrive.
    """

    client_key = models.CharField(max_length=64)
    window_start = models.PositiveBigIntegerField()
    posts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_key", "window_start"], name="comments_posting_window_unique"
            )
        ]
        indexes = [models.Index(fields=["window_start"], name="comments_posting_window_start")]

    def __str__(self) -> str:
        return f"{self.client_key[:12]}… {self.window_start}: {self.posts}"


class SpentStamp(models.Model):
    """A comment form's stamp that already carried a comment (so the same form is refused).

    In the database for the same reason as ``PostingWindow``; rows past the form's maximum
    age are deleted as new stamps are spent."""

    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.digest[:12]


class CommentSettings(models.Model):
    """The site's comment policy: one row, edited in the admin (linked from the site
    settings). Pages read it through ``selectors.comment_settings`` (cached with the site
    structure); a missing row means the defaults."""

    class Moderation(models.TextChoices):
        NONE = "none", _("Publish comments at once")
        FIRST_TIME = "first_time", _("Hold comments from first-time commenters")
        ALL = "all", _("Hold every comment for moderation")

    comments_enabled = models.BooleanField(_("comments enabled site-wide"), default=True)
    comment_moderation = models.CharField(
        _("comment moderation"), max_length=20, choices=Moderation.choices, default=Moderation.FIRST_TIME
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("comment settings")
        verbose_name_plural = _("comment settings")

    def __str__(self) -> str:
        return str(_("Comment settings"))

    def save(self, *args, **kwargs) -> None:
        self.pk = 1  # one row, always
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The comment settings cannot be deleted."))

    @classmethod
    def load(cls) -> CommentSettings:
        """The row, created with the defaults if missing (for editing)."""
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    @classmethod
    def current(cls) -> CommentSettings:
        """The row, or the defaults if there is none: reads never write."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
