"""What an import remembers: which source item became which row (so a second run of the
same file changes nothing), and the old addresses that now redirect to the new pages."""

from __future__ import annotations

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


class LegacyRedirect(models.Model):
    """An old address (a WordPress permalink, a Ghost slug) answered with a 301 to the
    article, page or file it became. Looked up only when a request would be a 404
    (``transfer.middleware``), so it costs readers of existing pages nothing."""

    old_path = models.CharField(_("old path"), max_length=500, unique=True)
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(Page, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    media = models.ForeignKey(MediaFile, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("old address")
        verbose_name_plural = _("old addresses")

    def __str__(self) -> str:
        return self.old_path

    def target_url(self) -> str:
        target = self.article or self.page
        if target is not None:
            return target.get_absolute_url()
        return self.media.url if self.media_id else ""
