"""The whole site as files (``manage.py export_site DIR``; the admin's download zips them),
read back by ``site_import``.

The folder holds what a person can read and another tool can take:

```
site.json            format and version, when, the site's title
articles/<slug>.md   front matter (python-frontmatter) + the Markdown body
pages/<slug>.md      the same for pages
media/<file>         the library's files, as stored (media.json: alt text, names)
categories.json tags.json users.json comments.json stats.json
```

Users are exported without passwords; an import maps them by e-mail to existing users or
creates inactive ones. Import is idempotent (``ImportedItem``, source ``site``) and
never overwrites a row: a slug taken by another row is renamed and reported. Derived data
(lists, tallies, search, sums) follows the saves; the daily statistics are written as
final rows and the sums rebuilt from them.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path

import frontmatter
from django.core.files.storage import default_storage
from django.utils import timezone

from articles.models import Article, Category, MediaFile, Page, SiteSettings, Tag
from comments.models import Comment
from stats.models import ArticleDailyStat, DailyStat, FillState

from .common import TransferError

FORMAT = "blog-site-export"
VERSION = 1


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _dump(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _safe_name(slug: str, pk: int) -> str:
    name = slug.replace("/", "-").replace("\\", "-").strip(".") or str(pk)
    return f"{name}.md"


# --- export ------------------------------------------------------------------------------


def site_export(directory: str | Path) -> dict[str, int]:
    """Write the site into ``directory`` (created; must be empty if it exists)."""
    root = Path(directory)
    if root.exists() and any(root.iterdir()):
        raise TransferError(f"{root} is not empty: export into a new or empty folder.")
    for sub in ("articles", "pages", "media"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    counts = {}
    settings = SiteSettings.current()
    _dump(
        root / "site.json",
        {"format": FORMAT, "version": VERSION, "exported_at": _iso(timezone.now()), "title": settings.title},
    )
    _dump(
        root / "categories.json",
        [
            {
                "name": str(c.name),
                "slug": c.slug,
                "description": c.description,
                "parent": c.parent.slug if c.parent is not None else None,
                "order": c.order,
                "is_hidden": c.is_hidden,
            }
            for c in Category.objects.select_related("parent").order_by("pk")
        ],
    )
    _dump(root / "tags.json", [{"name": t.name, "slug": t.slug} for t in Tag.objects.order_by("pk")])
    media_rows = []
    for media in MediaFile.objects.select_related("uploaded_by").order_by("pk").iterator():
        target = root / "media" / media.file.name
        if posixpath.normpath(media.file.name).startswith(".."):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with default_storage.open(media.file.name, "rb") as handle:
                target.write_bytes(handle.read())
        except OSError:
            continue  # a row whose file is gone: nothing to carry
        media_rows.append(
            {
                "file": media.file.name,
                "original_name": media.original_name,
                "alt_text": media.alt_text,
                "uploaded_at": _iso(media.uploaded_at),
                "uploaded_by": media.uploaded_by.email if media.uploaded_by else None,
            }
        )
    _dump(root / "media.json", media_rows)
    counts["media"] = len(media_rows)
    users = {}
    articles = Article.objects.select_related("author", "category", "featured_image").prefetch_related("tags")
    counts["articles"] = 0
    for article in articles.order_by("pk").iterator(chunk_size=500):
        users[article.author_id] = article.author
        post = frontmatter.Post(
            article.body,
            title=article.title,
            slug=article.slug,
            status=article.status,
            published_at=_iso(article.published_at),
            author=article.author.get_username(),
            category=article.category.slug,
            tags=[tag.slug for tag in article.tags.all()],
            summary=article.summary if not article.summary_is_auto else "",
            is_pinned=article.is_pinned,
            allow_comments=article.allow_comments,
            source=article.source,
            source_url=article.source_url,
            seo_title=article.seo_title,
            seo_description=article.seo_description,
            featured_image=article.featured_image.file.name if article.featured_image_id else None,
            created_at=_iso(article.created_at),
        )
        (root / "articles" / _safe_name(article.slug, article.pk)).write_text(
            frontmatter.dumps(post), encoding="utf-8"
        )
        counts["articles"] += 1
    counts["pages"] = 0
    for page in Page.objects.order_by("pk"):
        post = frontmatter.Post(
            page.body,
            title=page.title,
            slug=page.slug,
            is_published=page.is_published,
            show_in_nav=page.show_in_nav,
            order=page.order,
        )
        (root / "pages" / _safe_name(page.slug, page.pk)).write_text(
            frontmatter.dumps(post), encoding="utf-8"
        )
        counts["pages"] += 1
    _dump(
        root / "users.json",
        [
            {
                "username": u.get_username(),
                "email": u.email,
                "first_name": u.first_name,
                "last_name": u.last_name,
            }
            for u in users.values()
        ],
    )
    comments = [
        {
            "id": c.pk,
            "article": c.article.slug,
            "parent": c.parent_id,
            "number": c.number,
            "thread_number": c.thread_number,
            "author_name": c.author_name,
            "author_email": c.author_email,
            "author_url": c.author_url,
            "body": c.body,
            "status": c.status,
            "created_at": _iso(c.created_at),
        }
        for c in Comment.objects.select_related("article").order_by("pk").iterator(chunk_size=2000)
    ]
    _dump(root / "comments.json", comments)
    counts["comments"] = len(comments)
    state = FillState.objects.filter(name=FillState.DAILY).first()
    _dump(
        root / "stats.json",
        {
            "filled_through": _iso(state.filled_through) if state else None,
            "daily": [
                {"date": _iso(d), "pv": pv, "uv": uv}
                for d, pv, uv in DailyStat.objects.values_list("date", "pv", "uv")
            ],
            "articles": [
                {"article": slug, "date": _iso(d), "pv": pv, "uv": uv}
                for slug, d, pv, uv in ArticleDailyStat.objects.values_list(
                    "article__slug", "date", "pv", "uv"
                ).iterator()
            ],
        },
    )
    counts["daily stats"] = DailyStat.objects.count()
    return counts
