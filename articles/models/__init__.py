"""The core of the blog, one module per idea: the taxonomy (categories, tags), the article
and what is kept beside it for reads, the site's frame (pages, settings, widgets), and the
editor's room (media, autosaves). Everything is importable from here, as before the split
(migrations name ``articles.models.default_category_id`` and others)."""

import reversion

from .article import (
    SUMMARY_LENGTH,
    Article,
    ArticleQuerySet,
    ArticleSearchIndex,
    ListEntry,
    ListEntryQuerySet,
    Tally,
    build_search_text,
)
from .media import EditorAutosave, MediaFile, MediaUsage
from .site import (
    Page,
    PageQuerySet,
    SidebarWidget,
    SiteSettings,
    default_time_zone,
    parse_link_line,
    validate_time_zone,
)
from .taxonomy import (
    DEFAULT_CATEGORY_NAME,
    DEFAULT_CATEGORY_SLUG,
    Category,
    Tag,
    default_category_id,
    unique_slug,
)

__all__ = [
    "DEFAULT_CATEGORY_NAME",
    "DEFAULT_CATEGORY_SLUG",
    "SUMMARY_LENGTH",
    "Article",
    "ArticleQuerySet",
    "ArticleSearchIndex",
    "Category",
    "EditorAutosave",
    "ListEntry",
    "ListEntryQuerySet",
    "MediaFile",
    "MediaUsage",
    "Page",
    "PageQuerySet",
    "SidebarWidget",
    "SiteSettings",
    "Tag",
    "Tally",
    "build_search_text",
    "default_category_id",
    "default_time_zone",
    "parse_link_line",
    "unique_slug",
    "validate_time_zone",
]

# Revisions (django-reversion): what an editor writes, not what the site computes or counts.
reversion.register(
    Article,
    exclude=(
        *("body_html", "toc_html", "view_count", "comment_count", "created_at", "updated_at"),
        *("review_requested_at", "review_told_at", "review_note"),
    ),
)
reversion.register(Page, exclude=("body_html", "updated_at"))
