"""Pages, the site's settings and its sidebar widgets: what every page is framed by."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from markdownx.models import MarkdownxField

from .. import registry
from ..markdown import MAX_MARKDOWN_LENGTH, render_markdown
from .media import MediaUsage
from .taxonomy import unique_slug


class PageQuerySet(models.QuerySet):
    def published(self) -> PageQuerySet:
        return self.filter(is_published=True)


class Page(models.Model):
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, allow_unicode=True, blank=True)
    body = MarkdownxField(_("body"), validators=[MaxLengthValidator(MAX_MARKDOWN_LENGTH)])
    body_html = models.TextField(editable=False, blank=True)
    is_published = models.BooleanField(_("published"), default=True)
    show_in_nav = models.BooleanField(_("show in navigation"), default=False)
    order = models.IntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]
        verbose_name = _("page")
        verbose_name_plural = _("pages")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("articles:page", args=[self.slug])

    def save(self, *args, **kwargs) -> None:
        self.body_html = render_markdown(self.body).html
        if not self.slug:
            self.slug = unique_slug(Page, self.title, instance_pk=self.pk)
        super().save(*args, **kwargs)
        MediaUsage.sync(page=self)


def default_time_zone() -> str:
    """The site's zone before an editor picks one: DJANGO_TIME_ZONE."""
    return settings.TIME_ZONE


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(zone)s” is not a known time zone.") % {"zone": value})


class SiteSettings(models.Model):
    """The one row of site-wide settings, edited in the admin. The optional apps keep
    their own (the comment policy: ``comments.CommentSettings``)."""

    title = models.CharField(_("title"), max_length=100, default="My Blog")
    tagline = models.CharField(_("tagline"), max_length=200, blank=True)
    description = models.TextField(
        _("description"), blank=True, help_text=_("Used as the meta description of the home page.")
    )
    announcement = models.TextField(_("announcement (Markdown)"), blank=True)
    announcement_html = models.TextField(editable=False, blank=True)
    footer = models.TextField(_("footer (Markdown)"), blank=True)
    footer_html = models.TextField(editable=False, blank=True)
    posts_per_page = models.PositiveSmallIntegerField(_("posts per page"), default=10)
    show_reading_time = models.BooleanField(
        _("show reading time"),
        default=True,
        db_default=True,
        help_text=_("Each article's page says how long it takes to read."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("Dates on pages and the archives follow it. Editors see their own zone in the admin."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("site settings")
        verbose_name_plural = _("site settings")

    def __str__(self) -> str:
        return str(_("Site settings"))

    def clean(self) -> None:
        if not 1 <= self.posts_per_page <= 100:
            raise ValidationError({"posts_per_page": _("Choose between 1 and 100 posts per page.")})

    def save(self, *args, **kwargs) -> None:
        self.pk = 1  # one row, always
        self.announcement_html = render_markdown(self.announcement).html
        self.footer_html = render_markdown(self.footer).html
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The site settings cannot be deleted."))

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # A change of time zone moves articles between archive months (``listings``).
        instance._loaded_time_zone = instance.__dict__.get("time_zone")
        return instance

    @classmethod
    def load(cls) -> SiteSettings:
        """The row, created with the defaults if missing (for editing)."""
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    @classmethod
    def current(cls) -> SiteSettings:
        """The row, or the defaults if there is none: reads never write."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class SidebarWidget(models.Model):
    """One widget of the sidebar. Its kind is a key of ``registry``: the core's kinds below,
    and those the optional apps register; a kind whose app is gone renders nothing."""

    class Kind(models.TextChoices):
        """The core's kinds (registered by ``widgets.register_core_widgets``)."""

        CUSTOM = "custom", _("Custom Markdown")
        CATEGORIES = "categories", _("Categories")
        TAGS = "tags", _("Tags")
        ARCHIVES = "archives", _("Archives")
        RECENT_POSTS = "recent_posts", _("Recent posts")
        POPULAR_POSTS = "popular_posts", _("Popular posts")
        LINKS = "links", _("Links")
        SEARCH = "search", _("Search")

    title = models.CharField(
        _("title"),
        max_length=100,
        blank=True,
        help_text=_(
            "Leave blank to show the kind's own heading (“Categories”, …) in each reader's language."
        ),
    )
    # No choices here: the admin offers the registered kinds (``registry``), so an app adds
    # kinds without a migration of the core, and rows of a removed app keep their value.
    kind = models.CharField(_("kind"), max_length=30)
    body = models.TextField(
        _("content"),
        blank=True,
        help_text=_(
            "Custom: Markdown. Links: one per line as “Label https://example.com”. Other kinds: unused."
        ),
    )
    body_html = models.TextField(editable=False, blank=True)
    item_count = models.PositiveSmallIntegerField(_("number of items"), default=5)
    order = models.IntegerField(_("order"), default=0)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("sidebar widget")
        verbose_name_plural = _("sidebar widgets")

    def __str__(self) -> str:
        return self.title or self.kind_label

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # A widget of a removed app may be kept (and edited) with its kind; not chosen anew.
        instance._loaded_kind = instance.__dict__.get("kind")
        return instance

    @property
    def is_available(self) -> bool:
        """Whether an installed app provides this kind (else the widget is not shown)."""
        return registry.widget_kind(self.kind) is not None

    @property
    def kind_label(self) -> str:
        kind = registry.widget_kind(self.kind)
        if kind is None:
            return str(_("Unavailable (“%(kind)s”: its app is not installed)") % {"kind": self.kind})
        return str(kind.label)

    @property
    def heading(self) -> str:
        """The editor's title, else the kind's name in the language being rendered (a
        custom widget has none)."""
        if self.title or self.kind == self.Kind.CUSTOM:
            return self.title
        kind = registry.widget_kind(self.kind)
        return str(kind.label) if kind is not None else ""

    def clean(self) -> None:
        if not self.is_available and self.kind != getattr(self, "_loaded_kind", None):
            raise ValidationError({"kind": _("Choose one of the kinds offered.")})
        if not 1 <= self.item_count <= 50:
            raise ValidationError({"item_count": _("Choose between 1 and 50 items.")})
        if self.kind == self.Kind.LINKS:
            for number, line in enumerate(self.body.splitlines(), start=1):
                if line.strip() and not parse_link_line(line):
                    raise ValidationError({"body": _("Line %(n)s is not “Label https://…”.") % {"n": number}})

    def save(self, *args, **kwargs) -> None:
        self.body_html = render_markdown(self.body).html if self.kind == self.Kind.CUSTOM else ""
        super().save(*args, **kwargs)

    def links(self) -> list[tuple[str, str]]:
        return [link for line in self.body.splitlines() if (link := parse_link_line(line))]


def parse_link_line(line: str) -> tuple[str, str] | None:
    label, _sep, url = line.strip().rpartition(" ")
    if label.strip() and url.startswith(("http://", "https://", "/")):
        return label.strip(), url
    return None
