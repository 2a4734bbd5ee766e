"""The core of the blog: articles, their taxonomy, pages, site settings and widgets."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from markdownx.models import MarkdownxField

from .markdown import MAX_MARKDOWN_LENGTH, plain_text, render_markdown

DEFAULT_CATEGORY_SLUG = "uncategorized"
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
        return self.select_related("category").prefetch_related("tags").defer("body", "body_html", "toc_html")

    def for_detail(self) -> ArticleQuerySet:
        """What the article page shows, loaded in a fixed number of queries."""
        return self.select_related("category", "author").prefetch_related("tags")

    def newest_first(self) -> ArticleQuerySet:
        return self.order_by("-published_at", "-pk")

    def search(self, query: str) -> ArticleQuerySet:
        """Every whitespace-separated term must appear in the title, summary or text.

        Matches ``ArticleSearchIndex.text``, kept lower-cased, with a case-sensitive
        ``contains``: on MySQL that is ``LIKE BINARY``, several times faster than a
        collation-aware LIKE, and substring matching works for Chinese, which has no
        word boundaries for a full-text index to use.
        """
        qs = self
        for term in query.lower().split()[:8]:
            qs = qs.filter(search_index__text__contains=term)
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
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:category", args=[self.slug])

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
            slug=DEFAULT_CATEGORY_SLUG, defaults={"name": "Uncategorized", "order": 1000}
        )
        return category


def default_category_id() -> int:
    return Category.default().pk


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

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
        _("summary"), blank=True, help_text=_("Left blank, it is taken from the body.")
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
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Kept exact by the apps that own them, so lists never count per row.
    view_count = models.PositiveBigIntegerField(_("views"), default=0, editable=False)
    comment_count = models.PositiveIntegerField(_("comments"), default=0, editable=False)

    COUNTER_FIELDS = ("view_count", "comment_count")

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [
            models.Index(fields=["status", "-published_at"], name="article_pub_idx"),
            # The admin list: each filter beside the date order it is shown in, and each
            # sortable column (ties broken by the primary key, which InnoDB appends).
            models.Index(fields=["status", "published_at"], name="article_admin_status_idx"),
            models.Index(fields=["category", "published_at"], name="article_admin_category_idx"),
            models.Index(fields=["source", "published_at"], name="article_admin_source_idx"),
            models.Index(fields=["is_pinned", "published_at"], name="article_admin_pinned_idx"),
            models.Index(fields=["allow_comments", "published_at"], name="article_admin_open_idx"),
            models.Index(fields=["title"], name="article_admin_title_idx"),
            models.Index(fields=["view_count"], name="article_admin_views_idx"),
            models.Index(fields=["comment_count"], name="article_admin_comments_idx"),
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

    def clean(self) -> None:
        if self.source != self.Source.ORIGINAL and not self.source_url:
            raise ValidationError({"source_url": _("A reprint or translation needs its source URL.")})

    def save(self, *args, **kwargs) -> None:
        # Render once, on write: pages never render Markdown per request.
        rendered = render_markdown(self.body)
        self.body_html, self.toc_html = rendered.html, rendered.toc_html
        if not self.summary.strip():
            self.summary = plain_text(self.body_html, limit=SUMMARY_LENGTH, prose_only=True)
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
        ArticleSearchIndex.objects.update_or_create(
            article=self, defaults={"text": build_search_text(self.title, self.summary, self.body_html)}
        )


def build_search_text(title: str, summary: str, body_html: str) -> str:
    """Lower-cased text with repeated words dropped.

    Search terms never contain whitespace, so a term occurs in the text exactly when it
    occurs in one of its whitespace-separated words: keeping each word once changes no
    result and makes the scan shorter.
    """
    words = "\n".join((title, summary, plain_text(body_html))).lower().split()
    return " ".join(dict.fromkeys(words))


class ArticleSearchIndex(models.Model):
    """The text that search scans, in a narrow table of its own.

    Beside ``body`` and ``body_html`` the text would be stored off-page by InnoDB and a
    scan would cost several times more; alone in its row it is read sequentially.
    """

    article = models.OneToOneField(
        Article, primary_key=True, on_delete=models.CASCADE, related_name="search_index"
    )
    text = models.TextField()

    class Meta:
        verbose_name = _("search index entry")
        verbose_name_plural = _("search index")

    def __str__(self) -> str:
        return str(self.article_id)


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


class SiteSettings(models.Model):
    """The one row of site-wide settings, edited in the admin."""

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        CHINESE = "zh-hans", "简体中文"

    class Moderation(models.TextChoices):
        NONE = "none", _("Publish comments at once")
        FIRST_TIME = "first_time", _("Hold comments from first-time commenters")
        ALL = "all", _("Hold every comment for moderation")

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
    language = models.CharField(
        _("default language"), max_length=10, choices=Language.choices, default=Language.ENGLISH
    )
    comments_enabled = models.BooleanField(_("comments enabled site-wide"), default=True)
    comment_moderation = models.CharField(
        _("comment moderation"), max_length=20, choices=Moderation.choices, default=Moderation.FIRST_TIME
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
    def load(cls) -> SiteSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class SidebarWidget(models.Model):
    class Kind(models.TextChoices):
        CUSTOM = "custom", _("Custom Markdown")
        CATEGORIES = "categories", _("Categories")
        TAGS = "tags", _("Tags")
        ARCHIVES = "archives", _("Archives")
        RECENT_POSTS = "recent_posts", _("Recent posts")
        POPULAR_POSTS = "popular_posts", _("Popular posts")
        LINKS = "links", _("Links")
        SEARCH = "search", _("Search")
        # Kinds provided by the optional apps; they render nothing if the app is absent.
        RECENT_COMMENTS = "recent_comments", _("Recent comments")
        SITE_STATS = "site_stats", _("Site statistics")

    title = models.CharField(_("title"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
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
        return self.title or self.get_kind_display()

    def clean(self) -> None:
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
