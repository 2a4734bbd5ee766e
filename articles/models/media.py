"""The editor's room: the media library and where each file is used, and the drafts a
browser autosaves."""

from __future__ import annotations

import functools
import re
from typing import Protocol

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MediaFile(models.Model):
    """One uploaded image: every upload through the editor or the media library is a row."""

    file = models.ImageField(_("file"), max_length=300, upload_to="uploads/")
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    alt_text = models.CharField(
        _("alt text"),
        max_length=300,
        blank=True,
        help_text=_("What the image shows, for readers who cannot see it (screen readers, search)."),
    )
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    size = models.PositiveIntegerField(_("size in bytes"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("media file")
        verbose_name_plural = _("media library")

    def __str__(self) -> str:
        return self.alt_text or self.original_name or self.file.name

    @property
    def url(self) -> str:
        return self.file.url

    @property
    def content_type(self) -> str:
        extension = self.file.name.rsplit(".", 1)[-1].lower()
        return {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}.get(
            extension, "application/octet-stream"
        )

    def markdown(self) -> str:
        """The Markdown the editor inserts: the alt text, with brackets that would end it escaped."""
        alt = re.sub(r"([\[\]\\])", r"\\\1", " ".join(self.alt_text.split()))
        return f"![{alt}]({self.url})"

    def is_used(self) -> bool:
        return self.usages.exists() or self.featured_in.exists()


@functools.lru_cache(maxsize=4)
def _media_reference(media_url: str) -> re.Pattern:
    """An uploaded file referenced from rendered HTML: src="/media/uploads/..." (or absolute),
    or under an absolute MEDIA_URL (object storage: src="https://media.example.com/uploads/...")."""
    return re.compile(r'(?:src|href)="(?:https?://[^/"]+)?' + re.escape(media_url) + r'([^"?#]+)')


class ShowsMedia(Protocol):
    """An article or a page, as ``MediaUsage.sync`` reads it (named by string here: they
    import this module to keep their usages)."""

    body_html: str


class MediaUsage(models.Model):
    """Which article or page shows a media file in its body, kept by their saves, so the
    library can say where a file is used (and refuse to delete it) without scanning bodies."""

    media = models.ForeignKey(MediaFile, on_delete=models.CASCADE, related_name="usages")
    article = models.ForeignKey(
        "Article", null=True, blank=True, on_delete=models.CASCADE, related_name="media_usages"
    )
    page = models.ForeignKey(
        "Page", null=True, blank=True, on_delete=models.CASCADE, related_name="media_usages"
    )

    class Meta:
        verbose_name = _("media usage")
        verbose_name_plural = _("media usages")
        constraints = [
            models.UniqueConstraint(fields=["media", "article"], name="media_usage_article_uniq"),
            models.UniqueConstraint(fields=["media", "page"], name="media_usage_page_uniq"),
            models.CheckConstraint(
                condition=models.Q(article__isnull=True, page__isnull=False)
                | models.Q(article__isnull=False, page__isnull=True),
                name="media_usage_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.media_id} in {self.article_id or self.page_id}"

    @classmethod
    def sync(cls, *, article: ShowsMedia | None = None, page: ShowsMedia | None = None) -> None:
        """Record the media files the owner's body shows now (a few queries per save)."""
        owner: dict[str, ShowsMedia | None] = {"article": article} if article is not None else {"page": page}
        source = article or page
        assert source is not None  # one of them is given
        body_html = source.body_html
        names = set(_media_reference(settings.MEDIA_URL).findall(body_html))
        wanted = (
            set(MediaFile.objects.filter(file__in=names).values_list("pk", flat=True)) if names else set()
        )
        existing = set(cls.objects.filter(**owner).values_list("media_id", flat=True))
        if existing - wanted:
            cls.objects.filter(**owner, media_id__in=existing - wanted).delete()
        if wanted - existing:
            MediaUsage.objects.bulk_create([MediaUsage(media_id=pk, **owner) for pk in wanted - existing])


class EditorAutosave(models.Model):
    """The draft being written, saved by an editor's browser every few seconds: one row per
    article or page, whoever typed it last (``user``), dropped when the form is saved. The
    form offers it back when it is newer than what is stored (``articles.autosave``)."""

    class Kind(models.TextChoices):
        ARTICLE = "article", _("article")
        PAGE = "page", _("page")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField(default=0)
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("autosaved draft")
        verbose_name_plural = _("autosaved drafts")
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="editor_autosave_one_per_object"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id or 'new'} ({self.user_id})"
