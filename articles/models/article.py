"""The article, and what is kept beside it so reads stay index ranges: its search row,
its entries on every list it is on, and the lists' tallies."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from markdownx.models import MarkdownxField

from ..fulltext import MAX_QUERY_TERMS, build_tokens, expression, matching_ids_sql, query_tokens
from ..markdown import MAX_MARKDOWN_LENGTH, plain_text, prose_summary, render_markdown
from .media import MediaUsage
from .taxonomy import Category, Tag, default_category_id, unique_slug

SUMMARY_LENGTH = 160


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
