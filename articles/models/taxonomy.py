"""Categories and tags: the lists an article is filed on, each with its own URL."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

DEFAULT_CATEGORY_SLUG = "uncategorized"
# Stored in English; shown in the reader's or editor's language while nobody renamed it.
DEFAULT_CATEGORY_NAME = "Uncategorized"


def unique_slug(model: type[models.Model], text: str, *, instance_pk=None, max_length=200) -> str:
    """A unicode slug from ``text`` that no other row of ``model`` uses yet."""
    base = slugify(text, allow_unicode=True)[: max_length - 8].strip("-") or "post"
    slug, n = base, 2
    others = model._default_manager.exclude(pk=instance_pk)
    while others.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        # Removing a parent lifts its children to the top level rather than losing them.
        on_delete=models.SET_NULL,
        related_name="children",
    )
    order = models.IntegerField(_("order"), default=0)
    is_hidden = models.BooleanField(_("hidden from navigation"), default=False)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return str(self.name)

    def get_absolute_url(self) -> str:
        # Kept on the instance: categories come from the cached site structure, and a
        # sidebar links each of them several times. Per language: each has its URLs.
        key = (self.slug, translation.get_language())
        if getattr(self, "_url_of", None) != key:
            self._url, self._url_of = reverse("articles:category", args=[self.slug]), key
        return self._url

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Moving a category rewrites its articles' list entries (``listings``): the
        # parent it was loaded with tells a move from a rename.
        instance._loaded_parent_id = instance.__dict__.get("parent_id")
        if instance.__dict__.get("slug") == DEFAULT_CATEGORY_SLUG and instance.__dict__.get("name") == (
            DEFAULT_CATEGORY_NAME
        ):
            # Lazy: translated where it is shown (a page, the admin), in that page's language.
            instance.name = _("Uncategorized")
        return instance

    @property
    def is_default(self) -> bool:
        return self.slug == DEFAULT_CATEGORY_SLUG

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": _("A category cannot be its own ancestor.")})
            ancestor = ancestor.parent

    def save(self, *args, **kwargs) -> None:
        if self.is_default and str(self.name) in _default_category_names():
            self.name = DEFAULT_CATEGORY_NAME  # its translation, saved back from a form
        if not self.slug:
            self.slug = unique_slug(Category, self.name, instance_pk=self.pk, max_length=100)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_default:
            raise ValidationError(_("The default category cannot be deleted."))
        return super().delete(*args, **kwargs)

    @classmethod
    def default(cls) -> Category:
        category, _created = cls.objects.get_or_create(
            slug=DEFAULT_CATEGORY_SLUG, defaults={"name": DEFAULT_CATEGORY_NAME, "order": 1000}
        )
        return category


def _default_category_names() -> set[str]:
    """The default category's name in every language of the site."""
    names = {DEFAULT_CATEGORY_NAME}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.add(str(_("Uncategorized")))
    return names


def default_category_id() -> int:
    return Category.default().pk


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True, allow_unicode=True)
    # Published articles with this tag (scheduled ones included), kept by the writes
    # (``articles.listings``): the tag cloud is the top of an index, not a count per tag.
    published_count = models.PositiveIntegerField(_("published articles"), default=0, editable=False)
    # When the tag's list last changed (an article on it written): the sitemap's lastmod.
    list_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        indexes = [models.Index(fields=["published_count", "name"], name="tag_top_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:tag", args=[self.slug])

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = unique_slug(Tag, self.name, instance_pk=self.pk, max_length=60)
        super().save(*args, **kwargs)
