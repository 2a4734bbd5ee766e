"""An export folder (``site_export``) read back (``manage.py import_site DIR``), or the
zip of one (the admin's upload): idempotent (``ImportedItem``, source ``site``), never
overwriting a row (a slug taken by another row is renamed and reported); users mapped by
e-mail to existing ones, or created inactive; derived data (lists, tallies, search, sums)
follows the saves, the daily statistics written as final rows and the sums rebuilt."""

from __future__ import annotations

import io
import json
import posixpath
import shutil
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import frontmatter
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from articles.media import FORMATS
from articles.models import Article, Category, MediaFile, Page, Tag
from comments.models import Comment
from comments.services import comment_counts_recount
from stats.models import ArticleDailyStat, DailyStat, FillState
from stats.services import article_traffic_rebuild

from .common import Importer, MediaSource, Report, TransferError, as_int
from .models import ImportedItem
from .site_export import FORMAT, VERSION

# --- import ------------------------------------------------------------------------------


def _load_json(root: Path, name: str, default):
    path = root / name
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TransferError(f"{path} is not readable JSON: {exc}") from exc


def _when(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


class SiteImporter(Importer):
    source = "site"

    def __init__(self, root: Path, *, report: Report | None = None, progress=None) -> None:
        super().__init__(
            media=MediaSource(root / "media" if (root / "media").is_dir() else None),
            report=report,
            progress=progress,
        )
        self.root = root
        self.media_urls: dict[str, str] = {}  # old URL -> new URL
        self.media_by_name: dict[str, MediaFile] = {}

    def run(self) -> Report:
        meta = _load_json(self.root, "site.json", None)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise TransferError(f"{self.root} is not a site export: no site.json of format {FORMAT}.")
        if meta.get("version") != VERSION:
            raise TransferError(
                f"{self.root} is version {meta.get('version')}; this site reads version {VERSION}."
            )
        users = {
            row.get("username"): row
            for row in _load_json(self.root, "users.json", [])
            if isinstance(row, dict)
        }
        self.users = {
            name: self.author(
                source_id=f"user:{name}",
                login=name or "",
                email=row.get("email") or "",
                first_name=row.get("first_name") or "",
                last_name=row.get("last_name") or "",
            )
            for name, row in users.items()
        }
        with transaction.atomic():
            self._categories()
            self._tags()
        self._media()
        articles = sorted((self.root / "articles").glob("*.md"))
        pages = sorted((self.root / "pages").glob("*.md"))
        for done, path in enumerate([*articles, *pages], start=1):
            with transaction.atomic():
                self._article(path) if done <= len(articles) else self._page(path)
            self.progress(done, len(articles) + len(pages))
        with transaction.atomic():
            self._comments()
        self._stats()
        return self.report

    def _categories(self) -> None:
        rows = [row for row in _load_json(self.root, "categories.json", []) if isinstance(row, dict)]
        self.categories: dict[str, Category] = {}
        for row in rows:
            slug = str(row.get("slug") or "")
            category = (
                self.known_object(ImportedItem.Kind.CATEGORY, slug, Category)
                or Category.objects.filter(slug=slug).first()
            )
            if category is None:
                name = str(row.get("name") or slug)[:100]
                if Category.objects.filter(name=name).exists():
                    category = Category.objects.get(name=name)
                else:
                    category = Category.objects.create(
                        name=name,
                        slug=self.free_slug(Category, slug, what=f"category {name}", max_length=100),
                        description=str(row.get("description") or ""),
                        order=as_int(row.get("order")),
                        is_hidden=bool(row.get("is_hidden")),
                    )
                    self.report.imported["categories"] += 1
                self.remember(ImportedItem.Kind.CATEGORY, slug, category)
            self.categories[slug] = category
        for row in rows:
            category, parent = (
                self.categories.get(str(row.get("slug"))),
                self.categories.get(str(row.get("parent"))),
            )
            if (
                category is not None
                and parent is not None
                and category.parent_id is None
                and parent != category
            ):
                category.parent = parent
                category.save()

    def _tags(self) -> None:
        self.tags: dict[str, Tag] = {}
        for row in _load_json(self.root, "tags.json", []):
            if not isinstance(row, dict):
                continue
            slug, name = str(row.get("slug") or ""), str(row.get("name") or "")[:50]
            tag = Tag.objects.filter(slug=slug).first() or Tag.objects.filter(name=name).first()
            if tag is None:
                tag = Tag.objects.create(
                    name=name or slug[:50], slug=self.free_slug(Tag, slug, what=f"tag {name}", max_length=60)
                )
                self.report.imported["tags"] += 1
            self.tags[slug] = tag

    def _media(self) -> None:
        for row in _load_json(self.root, "media.json", []):
            if not isinstance(row, dict) or not row.get("file"):
                continue
            name = posixpath.normpath(str(row["file"])).lstrip("/")
            media = self.known_object(ImportedItem.Kind.MEDIA, name, MediaFile)
            if media is not None:
                self.report.unchanged["media files"] += 1
            else:
                media = self._media_copy(name, row)
                if media is None:
                    continue
                self.remember(ImportedItem.Kind.MEDIA, name, media)
                self.report.imported["media files"] += 1
            self.media_by_name[name] = media
            self.media_urls[default_storage.url(name)] = media.url

    def _media_copy(self, name: str, row: dict) -> MediaFile | None:
        """The file as it was stored (it was checked and re-encoded when first uploaded):
        checked again, then kept byte for byte, under its old name when that is free."""
        data = self.media.read(name)
        if data is None:
            self.report.skipped.append(f"media {name}: not in the export's media folder")
            return None
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in FORMATS:
                    raise ValueError(image.format)
                width, height = image.size
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            self.report.skipped.append(f"media {name}: not a JPEG, PNG or WebP image")
            return None
        stored = default_storage.save(name, ContentFile(data))
        media = MediaFile(
            original_name=str(row.get("original_name") or "")[:255],
            alt_text=str(row.get("alt_text") or "")[:300],
            width=width,
            height=height,
            size=len(data),
            uploaded_at=_when(row.get("uploaded_at")) or timezone.now(),
        )
        media.file.name = stored
        media.save()
        return media

    def _rewrite(self, body: str) -> str:
        for old, new in self.media_urls.items():
            if old != new:
                body = body.replace(old, new)
        return body

    def _read(self, path: Path):
        try:
            return frontmatter.loads(path.read_text(encoding="utf-8"))
        except Exception as exc:  # YAML errors come in many classes
            self.report.skipped.append(f"{path.name}: unreadable front matter ({exc.__class__.__name__})")
            return None

    def _article(self, path: Path) -> None:
        post = self._read(path)
        if post is None:
            return
        slug = str(post.get("slug") or path.stem)
        if self.known(ImportedItem.Kind.ARTICLE, slug) is not None:
            self.report.unchanged["articles"] += 1
            return
        title = str(post.get("title") or slug)
        summary = str(post.get("summary") or "")
        featured = self.media_by_name.get(str(post.get("featured_image") or ""))
        author = self.users.get(post.get("author")) or self.author(
            source_id="user:unknown", login="author", email=""
        )
        article = Article(
            title=title[:200],
            slug=self.free_slug(Article, slug, what=f"article “{title}”"),
            body=self._rewrite(post.content),
            summary=summary,
            summary_is_auto=not summary,
            status=Article.Status.PUBLISHED if post.get("status") == "published" else Article.Status.DRAFT,
            published_at=_when(post.get("published_at")) or timezone.now(),
            author=author,
            category=self.categories.get(str(post.get("category"))) or Category.default(),
            is_pinned=bool(post.get("is_pinned")),
            allow_comments=post.get("allow_comments") is not False,
            source=str(post.get("source") or Article.Source.ORIGINAL),
            source_url=str(post.get("source_url") or ""),
            seo_title=str(post.get("seo_title") or "")[:200],
            seo_description=str(post.get("seo_description") or "")[:300],
            featured_image=featured,
        )
        try:
            article.full_clean()
        except ValidationError as exc:
            self.report.skipped.append(f"{path.name}: {'; '.join(exc.messages)}")
            return
        article.save()
        tags = post.get("tags") if isinstance(post.get("tags"), list) else []
        article.tags.set([self.tags[str(slug)] for slug in tags if str(slug) in self.tags])
        self.remember(ImportedItem.Kind.ARTICLE, slug, article)
        self.report.imported["articles"] += 1

    def _page(self, path: Path) -> None:
        post = self._read(path)
        if post is None:
            return
        slug = str(post.get("slug") or path.stem)
        if self.known(ImportedItem.Kind.PAGE, slug) is not None:
            self.report.unchanged["pages"] += 1
            return
        title = str(post.get("title") or slug)
        page = Page(
            title=title[:200],
            slug=self.free_slug(Page, slug, what=f"page “{title}”"),
            body=self._rewrite(post.content),
            is_published=post.get("is_published") is not False,
            show_in_nav=bool(post.get("show_in_nav")),
            order=int(post.get("order") or 0) if str(post.get("order") or 0).lstrip("-").isdigit() else 0,
        )
        try:
            page.full_clean()
        except ValidationError as exc:
            self.report.skipped.append(f"{path.name}: {'; '.join(exc.messages)}")
            return
        page.save()
        self.remember(ImportedItem.Kind.PAGE, slug, page)
        self.report.imported["pages"] += 1

    def _article_for(self, slug: str) -> Article | None:
        return self.known_object(ImportedItem.Kind.ARTICLE, slug, Article)

    def _comments(self) -> None:
        rows = [row for row in _load_json(self.root, "comments.json", []) if isinstance(row, dict)]
        made: dict[Any, Comment] = {}  # by the export's ids
        touched = set()
        for row in sorted(rows, key=lambda r: (str(r.get("article")), as_int(r.get("number")))):
            source_id = str(row.get("id"))
            if self.known(ImportedItem.Kind.COMMENT, source_id) is not None:
                self.report.unchanged["comments"] += 1
                continue
            article = self._article_for(str(row.get("article")))
            label = f"comment {source_id} on {row.get('article')}"
            if article is None:
                self.report.skipped.append(f"{label}: its article was not imported")
                continue
            parent = None
            if row.get("parent") is not None:
                parent = made.get(row.get("parent")) or self.known_object(
                    ImportedItem.Kind.COMMENT, str(row.get("parent")), Comment
                )
                if parent is None:
                    self.report.skipped.append(f"{label}: replies to a comment that was not imported")
                    continue
            number = (
                Comment.objects.filter(article=article)
                .order_by("-number")
                .values_list("number", flat=True)
                .first()
                or 0
            ) + 1
            comment = Comment(
                article=article,
                parent=parent,
                number=number,
                thread_number=parent.thread_number if parent else number,
                author_name=str(row.get("author_name") or "Anonymous")[:100],
                author_email=str(row.get("author_email") or "unknown@example.invalid"),
                author_url=str(row.get("author_url") or ""),
                body=str(row.get("body") or "…"),
                status=str(row.get("status"))
                if row.get("status") in Comment.Status.values
                else Comment.Status.PENDING,
                created_at=_when(row.get("created_at")) or timezone.now(),
            )
            try:
                comment.full_clean()
            except ValidationError as exc:
                self.report.skipped.append(f"{label}: {'; '.join(exc.messages)}")
                continue
            comment.save()
            made[row.get("id")] = comment
            touched.add(article.pk)
            self.remember(ImportedItem.Kind.COMMENT, source_id, comment)
            self.report.imported["comments"] += 1
        if touched:
            comment_counts_recount(article_ids=touched)

    def _stats(self) -> None:
        data = _load_json(self.root, "stats.json", {})
        if not isinstance(data, dict):
            return

        def day(value) -> date | None:
            try:
                return date.fromisoformat(str(value))
            except ValueError:
                return None

        daily = [
            DailyStat(date=d, pv=max(as_int(row.get("pv")), 0), uv=max(as_int(row.get("uv")), 0))
            for row in data.get("daily") or []
            if isinstance(row, dict) and (d := day(row.get("date")))
        ]
        per_article = []
        for row in data.get("articles") or []:
            article = self._article_for(str(row.get("article"))) if isinstance(row, dict) else None
            if article is not None and (d := day(row.get("date"))):
                per_article.append(
                    ArticleDailyStat(
                        article=article,
                        date=d,
                        pv=max(as_int(row.get("pv")), 0),
                        uv=max(as_int(row.get("uv")), 0),
                    )
                )
        with transaction.atomic():
            before = DailyStat.objects.count() + ArticleDailyStat.objects.count()
            DailyStat.objects.bulk_create(daily, ignore_conflicts=True)
            ArticleDailyStat.objects.bulk_create(per_article, ignore_conflicts=True)
            added = DailyStat.objects.count() + ArticleDailyStat.objects.count() - before
            through = day(data.get("filled_through"))
            state, _created = FillState.objects.get_or_create(name=FillState.DAILY)
            if through and (state.filled_through is None or state.filled_through < through):
                state.filled_through = through
                state.save(update_fields=["filled_through"])
        if added:
            self.report.imported["daily statistics rows"] += added
        article_traffic_rebuild()


def site_import(directory: str | Path, *, progress=None) -> Report:
    root = Path(directory)
    if not root.is_dir():
        raise TransferError(f"No export folder at {root}.")
    importer = SiteImporter(root, progress=progress)
    try:
        return importer.run()
    finally:
        importer.media.close()


# --- the same as a zip (the admin's download and upload) ---------------------------------

MAX_ZIP_MEMBER = 50 * 1024 * 1024
MAX_ZIP_TOTAL = 2 * 1024 * 1024 * 1024


def _zip_members(path: str | Path) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise TransferError(f"{Path(path).name} is not a zip archive: {exc}") from exc
    members = [info for info in archive.infolist() if not info.is_dir()]
    for info in members:
        name = posixpath.normpath(info.filename)
        if name.startswith(("/", "..")) or "\\" in info.filename or ":" in name:
            archive.close()
            raise TransferError(f"The archive holds a path outside its folder: {info.filename}")
        if info.file_size > MAX_ZIP_MEMBER:
            archive.close()
            raise TransferError(f"{info.filename} is larger than {MAX_ZIP_MEMBER // 1024 // 1024} MB.")
    if sum(info.file_size for info in members) > MAX_ZIP_TOTAL:
        archive.close()
        raise TransferError("The archive unpacks to more than 2 GB.")
    if "site.json" not in {posixpath.normpath(info.filename) for info in members}:
        archive.close()
        raise TransferError("Not a site export: no site.json at the top of the archive.")
    return archive, members


def preview_zip(path: str | Path) -> dict[str, int]:
    """What a zip from the site download holds, read without writing anything."""
    archive, members = _zip_members(path)
    with archive:
        names = [posixpath.normpath(info.filename) for info in members]
        counts = {
            "articles": sum(n.startswith("articles/") and n.endswith(".md") for n in names),
            "pages": sum(n.startswith("pages/") and n.endswith(".md") for n in names),
            "media files": sum(n.startswith("media/") for n in names),
        }
        for name in ("comments.json", "categories.json", "tags.json"):
            if name in names:
                try:
                    rows = json.loads(archive.read(name))
                except (ValueError, UnicodeDecodeError) as exc:
                    raise TransferError(f"{name} in the archive is not JSON: {exc}") from exc
                counts[name.removesuffix(".json")] = len(rows) if isinstance(rows, list) else 0
    counts["already imported"] = ImportedItem.objects.filter(source=SiteImporter.source).count()
    return dict(sorted(counts.items()))


def import_zip(path: str | Path, *, media=None, progress=None) -> Report:
    """Unpack (checked member by member) beside the zip, then ``site_import``."""
    target = Path(path).parent / "site"
    archive, members = _zip_members(path)
    with archive:
        for info in members:
            destination = target / posixpath.normpath(info.filename)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, open(destination, "wb") as out:
                shutil.copyfileobj(source, out)
    return site_import(target, progress=progress)
