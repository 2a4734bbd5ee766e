"""The core of the blog: articles, their taxonomy, pages, site settings and widgets."""

from __future__ import annotations

import functools
import re
import zoneinfo

import reversion
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from markdownx.models import MarkdownxField

from . import registry
from .fulltext import MAX_QUERY_TERMS, build_tokens, expression, matching_ids_sql, query_tokens
from .markdown import MAX_MARKDOWN_LENGTH, plain_text, prose_summary, render_markdown

DEFAULT_CATEGORY_SLUG = "uncategorized"
# Stored in English; shown in the reader's or editor's language while nobody renamed it.
DEFAULT_CATEGORY_NAME = "Uncategorized"
SUMMARY_LENGTH = 160


def unique_slug(model: type[models.Model], text: str, *, instance_pk=None, max_length=200) -> str:
    """A unicode slug from ``text`` that no other row of ``model`` uses yet."""
    base = slugify(text, allow_unicode=True)[: max_length - 8].strip("-") or "post"
    slug, n = base, 2
    others = model._default_manager.exclude(pk=instance_pk)
    while others.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


class ArticleQuerySet(models.QuerySet):
    def published(self) -> ArticleQuerySet:
        """The only start of a public read: published and not scheduled for later."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())

    def for_list(self) -> ArticleQuerySet:
        """What a list entry shows, loaded in a fixed number of queries."""
        return (
            self.select_related("category", "featured_image")
            .prefetch_related("tags")
            .defer("body", "body_html", "toc_html")
        )

    def for_detail(self) -> ArticleQuerySet:
        """What the article page shows, loaded in a fixed number of queries."""
        return self.select_related("category", "author", "featured_image").prefetch_related("tags")

    def newest_first(self) -> ArticleQuerySet:
        return self.order_by("-published_at", "-pk")

    def search(self, query: str) -> ArticleQuerySet:
        """Articles whose title, summary or text hold every term of ``query``: through
        the full-text index (``articles.fulltext``), or, for terms it cannot hold (one
        letter, symbols), as whole words of the plain text. Unranked: readers' search
        ranks and counts in ``articles.search``."""
        tokens = query_tokens(query)
        if tokens:
            vendor = connection.vendor
            # Only tokens made by fulltext.py reach the SQL, as a parameter.
            ids = RawSQL(matching_ids_sql(vendor), [expression(vendor, tokens)])  # noqa: S611
            return self.filter(pk__in=ids)
        qs = self
        for term in query.lower().split()[:MAX_QUERY_TERMS]:
            qs = qs.filter(
                Q(search_index__text=term)
                | Q(search_index__text__startswith=f"{term} ")
                | Q(search_index__text__endswith=f" {term}")
                | Q(search_index__text__contains=f" {term} ")
            )
        return qs


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


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    class Source(models.TextChoices):
        ORIGINAL = "original", _("Original")
        REPRINT = "reprint", _("Reprint")
        TRANSLATION = "translation", _("Translation")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, allow_unicode=True, blank=True)
    summary = models.TextField(
        _("summary"),
        blank=True,
        help_text=_("Follows the opening of the body until you write your own."),
    )
    body = MarkdownxField(_("body"), validators=[MaxLengthValidator(MAX_MARKDOWN_LENGTH)])
    body_html = models.TextField(editable=False, blank=True)
    toc_html = models.TextField(editable=False, blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.SET_DEFAULT,
        default=default_category_id,
        related_name="articles",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="articles")
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.ORIGINAL)
    source_url = models.URLField(_("source URL"), blank=True, max_length=500)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField(
        _("published at"),
        default=timezone.now,
        db_index=True,
        help_text=_("A time in the future schedules the article."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="articles",
    )
    allow_comments = models.BooleanField(_("allow comments"), default=True)
    is_pinned = models.BooleanField(_("pinned"), default=False)
    # The editor's additions: automatic summary, featured image, search-engine texts.
    summary_is_auto = models.BooleanField(
        _("summary follows the body"),
        default=True,
        help_text=_("Rebuilt from the body's prose on every save until you write a summary yourself."),
    )
    featured_image = models.ForeignKey(
        "MediaFile",
        verbose_name=_("featured image"),
        null=True,
        blank=True,
        # An image in use is never deleted from under an article (the media library refuses too).
        on_delete=models.PROTECT,
        related_name="featured_in",
    )
    seo_title = models.CharField(
        _("SEO title"),
        max_length=200,
        blank=True,
        help_text=_("For search results and link previews; left blank, the title is used."),
    )
    seo_description = models.CharField(
        _("SEO description"),
        max_length=300,
        blank=True,
        help_text=_("For search results and link previews; left blank, the summary is used."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Review (``articles.review``): a draft submitted by a writer who may not publish it.
    # Not a status: the one ``published()`` filter stays "published and due".
    review_requested_at = models.DateTimeField(
        _("submitted for review"), null=True, blank=True, editable=False, db_index=True
    )
    # Editors not yet told about the submission (mail at once or in a daily digest).
    review_told_at = models.DateTimeField(null=True, blank=True, editable=False)
    review_note = models.TextField(_("note from the editor"), blank=True, editable=False, db_default="")
    # Kept exact by the apps that own them, so lists never count per row.
    view_count = models.PositiveBigIntegerField(_("views"), default=0, editable=False)
    comment_count = models.PositiveIntegerField(_("comments"), default=0, editable=False)

    COUNTER_FIELDS = ("view_count", "comment_count")

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        permissions = [
            ("publish_article", _("Can publish, schedule and unpublish articles")),
            ("edit_others_article", _("Can edit and publish other writers' articles")),
        ]
        indexes = [
            # The admin list: each filter beside the date order it is shown in, and each
            # sortable column (ties broken by the primary key, which InnoDB appends).
            # Ascending: read backwards (status, published_at) gives (published_at DESC,
            # id DESC), the order of every "newest first" read of the reader pages too.
            models.Index(fields=["status", "published_at"], name="article_admin_status_idx"),
            models.Index(fields=["category", "published_at"], name="article_admin_category_idx"),
            models.Index(fields=["source", "published_at"], name="article_admin_source_idx"),
            models.Index(fields=["is_pinned", "published_at"], name="article_admin_pinned_idx"),
            models.Index(fields=["allow_comments", "published_at"], name="article_admin_open_idx"),
            models.Index(fields=["title"], name="article_admin_title_idx"),
            models.Index(fields=["view_count"], name="article_admin_views_idx"),
            models.Index(fields=["comment_count"], name="article_admin_comments_idx"),
            # The home page: pinned first, then newest; read backwards from the top.
            models.Index(fields=["status", "is_pinned", "published_at"], name="article_home_idx"),
            # The popular posts: most viewed first, newest first among equals.
            models.Index(fields=["status", "view_count", "published_at"], name="article_popular_idx"),
            models.Index(fields=["status", "updated_at"], name="article_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("articles:detail", args=[self.slug])

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.published_at > timezone.now()

    @property
    def seo_title_or_title(self) -> str:
        return self.seo_title.strip() or self.title

    @property
    def seo_description_or_summary(self) -> str:
        return self.seo_description.strip() or self.summary

    @property
    def og_image_url(self) -> str:
        """Site-relative URL of the featured image ("" without one); templates make it absolute."""
        return self.featured_image.url if self.featured_image is not None else ""

    def clean(self) -> None:
        if self.source != self.Source.ORIGINAL and not self.source_url:
            raise ValidationError({"source_url": _("A reprint or translation needs its source URL.")})

    def save(self, *args, **kwargs) -> None:
        # Render once, on write: pages never render Markdown per request.
        rendered = render_markdown(self.body)
        self.body_html, self.toc_html = rendered.html, rendered.toc_html
        if self._state.adding and self.summary_is_auto and self.summary.strip():
            self.summary_is_auto = False  # created with a summary of its own: keep it
        if self.summary_is_auto or not self.summary.strip():
            # Follows the body until an editor writes one (a blank summary goes back to following).
            self.summary = prose_summary(self.body_html, limit=SUMMARY_LENGTH)
            self.summary_is_auto = True
        if not self.slug:
            self.slug = unique_slug(Article, self.title, instance_pk=self.pk)
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            # The counters belong to the comments and stats apps, which update them in SQL
            # while an editor has the article open: a save must not write back stale ones.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.COUNTER_FIELDS
            ]
        super().save(*args, **kwargs)
        body_text = plain_text(self.body_html)
        ArticleSearchIndex.objects.update_or_create(
            article=self,
            defaults={
                "text": build_search_text(self.title, self.summary, body_text),
                "title_tokens": build_tokens(self.title),
                "summary_tokens": build_tokens(self.summary),
                "body_tokens": build_tokens(body_text),
                "status": self.status,
                "published_at": self.published_at,
            },
        )
        MediaUsage.sync(article=self)


def build_search_text(title: str, summary: str, body_text: str) -> str:
    """Lower-cased text with repeated words dropped, for the substring fallback.

    Search terms never contain whitespace, so a term occurs in the text exactly when it
    occurs in one of its whitespace-separated words: keeping each word once changes no
    result and makes the scan shorter.
    """
    words = "\n".join((title, summary, body_text)).lower().split()
    return " ".join(dict.fromkeys(words))


class ArticleSearchIndex(models.Model):
    """What search reads, in a narrow table of its own: the tokens of the title, summary
    and body carry the full-text index (MariaDB FULLTEXT, SQLite FTS5: ``articles.search``),
    ``text`` the plain words for the fallback."""

    article = models.OneToOneField(
        Article, primary_key=True, on_delete=models.CASCADE, related_name="search_index"
    )
    text = models.TextField()
    title_tokens = models.TextField(default="")
    summary_tokens = models.TextField(default="")
    body_tokens = models.TextField(default="")
    # The article's, copied (as in ListEntry): search filters and orders the rows the
    # index found without reading the wide article rows.
    status = models.CharField(max_length=20, default="")
    published_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("search index entry")
        verbose_name_plural = _("search index")

    def __str__(self) -> str:
        return str(self.article_id)


class ListEntryQuerySet(models.QuerySet):
    def public(self) -> ListEntryQuerySet:
        """Entries of published articles whose time has come (the same rule as
        ``Article.objects.published()``, on the copied columns)."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())


class ListEntry(models.Model):
    """One article on one list: its category and each ancestor (``c:<id>``), each tag
    (``t:<id>``) and its month in the site's time zone (``m:2026-11``).

    The article's status and time are copied here, so a list page, however long the list,
    is one index range read from its newest end. Written only by ``articles.listings``.
    """

    list_key = models.CharField(max_length=24)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="list_entries")
    status = models.CharField(max_length=20)
    published_at = models.DateTimeField()

    objects = ListEntryQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["list_key", "article"], name="listentry_unique")]
        indexes = [
            models.Index(fields=["list_key", "status", "published_at", "article"], name="listentry_page_idx")
        ]

    def __str__(self) -> str:
        return f"{self.list_key} {self.article_id}"


class Tally(models.Model):
    """How many published articles a category (children included) or a month holds
    (scheduled ones included: readers' counts subtract those, see ``articles.selectors``),
    and the site's totals (``s:articles``, ``s:comments``). Tags keep theirs on the tag
    (``Tag.published_count``). Recounted, never incremented, by the writes that change
    them (``articles.listings``)."""

    # The keys of the site's totals: written by ``articles.listings``, read by the selectors.
    SITE_ARTICLES = "s:articles"
    SITE_COMMENTS = "s:comments"

    key = models.CharField(max_length=24, unique=True)
    kind = models.CharField(max_length=1)  # c, m (as in ListEntry.list_key) or s
    count = models.PositiveBigIntegerField(default=0)
    # When the list last changed (an article on it written): the sitemap's lastmod.
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind"], name="tally_kind_idx")]

    def __str__(self) -> str:
        return f"{self.key}={self.count}"


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


# --- The editor: media library, usage, autosave, revisions ---------------------------------


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


class MediaUsage(models.Model):
    """Which article or page shows a media file in its body, kept by their saves, so the
    library can say where a file is used (and refuse to delete it) without scanning bodies."""

    media = models.ForeignKey(MediaFile, on_delete=models.CASCADE, related_name="usages")
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.CASCADE, related_name="media_usages"
    )
    page = models.ForeignKey(
        Page, null=True, blank=True, on_delete=models.CASCADE, related_name="media_usages"
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
    def sync(cls, *, article: Article | None = None, page: Page | None = None) -> None:
        """Record the media files the owner's body shows now (a few queries per save)."""
        owner: dict[str, Article | Page | None] = (
            {"article": article} if article is not None else {"page": page}
        )
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


# Revisions (django-reversion): what an editor writes, not what the site computes or counts.
reversion.register(
    Article,
    exclude=(
        *("body_html", "toc_html", "view_count", "comment_count", "created_at", "updated_at"),
        *("review_requested_at", "review_told_at", "review_note"),
    ),
)
reversion.register(Page, exclude=("body_html", "updated_at"))
