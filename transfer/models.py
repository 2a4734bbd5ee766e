"""What an import remembers: which source item became which row (so a second run of the
same file changes nothing), and the old addresses that now redirect to the new pages."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from articles.models import Article, MediaFile, Page


class ImportedItem(models.Model):
    """One item of a source (a WordPress post, a Ghost tag, ...) and the row it became."""

    class Kind(models.TextChoices):
        ARTICLE = "article", _("article")
        PAGE = "page", _("page")
        COMMENT = "comment", _("comment")
        MEDIA = "media", _("media file")
        CATEGORY = "category", _("category")
        TAG = "tag", _("tag")
        USER = "user", _("user")

    # "wordpress:https://blog.example.com", "ghost:<site uuid or title>", "site".
    source = models.CharField(_("source"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # The source's own id (WordPress post ID, Ghost object id, a file path for media).
    source_id = models.CharField(_("source id"), max_length=300)
    object_id = models.PositiveBigIntegerField(_("object id"))
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("imported item")
        verbose_name_plural = _("imported items")
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "source_id"], name="imported_item_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.source_id} -> {self.object_id}"


def legacy_path_key(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()


class LegacyRedirect(models.Model):
    """An old address (a WordPress permalink, a Ghost slug) answered with a 301 to the
    article, page or file it became. Looked up only when a request would be a 404
    (``transfer.middleware``), so it costs readers of existing pages nothing."""

    old_path = models.CharField(_("old path"), max_length=500)
    # Unique by a digest: a unique index on 500 utf8mb4 characters is past what MySQL
    # promises for an index key (Django's mysql.W003), and old paths can be that long.
    path_key = models.CharField(max_length=64, unique=True, editable=False)
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(Page, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    media = models.ForeignKey(MediaFile, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("old address")
        verbose_name_plural = _("old addresses")

    def __str__(self) -> str:
        return self.old_path

    def save(self, *args, **kwargs) -> None:
        self.path_key = legacy_path_key(self.old_path)
        super().save(*args, **kwargs)

    def target_url(self) -> str:
        target = self.article or self.page
        if target is not None:
            return target.get_absolute_url()
        return self.media.url if self.media is not None else ""


class ImportJob(models.Model):
    """An import started from the admin: the uploaded files (kept outside the public media
    folder until the import is done), what the preview found, then progress and report."""

    class Kind(models.TextChoices):
        WORDPRESS = "wordpress", _("WordPress export (.xml)")
        GHOST = "ghost", _("Ghost export (.json)")
        SITE = "site", _("This blog's site export (.zip)")

    class State(models.TextChoices):
        PREVIEW = "preview", _("Ready to import")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PREVIEW)
    export_file = models.CharField(_("export file"), max_length=300)
    media_file = models.CharField(_("media archive"), max_length=300, blank=True)
    original_names = models.CharField(_("uploaded files"), max_length=600, blank=True)
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    done = models.PositiveIntegerField(_("items done"), default=0)
    total = models.PositiveIntegerField(_("items"), default=0)
    report = models.JSONField(_("report"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}" if self.created_at else self.kind

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)
