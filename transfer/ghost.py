"""Ghost's JSON export (Settings > Export) into articles, pages, tags, authors and media.

Bodies come from the ``html`` Ghost stored for every post (the rendering of its Lexical or
Mobiledoc document, cards included), converted by ``transfer.htmlconv``. The mapping:

- posts -> articles: ``published`` stays published, ``scheduled`` stays scheduled, drafts
  stay drafts; posts for members only are reported and imported as drafts; featured posts
  are pinned; ``custom_excerpt`` is the summary; ``posts_meta`` gives the SEO title and
  description (Open Graph / Twitter texts as a fallback), the feature image's alt text;
  a ``canonical_url`` makes the article a reprint of that address.
- pages -> pages; public tags -> tags; internal tags (``#...``) are not imported, reported.
- staff users -> existing users with the same e-mail, else new inactive users. Password
  hashes, settings and members are never read.
- images under ``content/images`` -> the media library (tag and profile images too, kept
  in the library: tags and users have no image here, reported).
- each imported post's and page's Ghost address (``/<slug>/``) redirects (301) here.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from articles.models import Article, Category, MediaFile, Page, Tag

from .common import Importer, MediaSource, Report, TransferError
from .htmlconv import html_to_markdown
from .models import ImportedItem

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_IMAGES = "/content/images/"
_SIZE = re.compile(r"^size/w\d+(?:h\d+)?/")
MAX_EXPORT_BYTES = 200 * 1024 * 1024


def load(path: str | Path) -> dict:
    try:
        if Path(path).stat().st_size > MAX_EXPORT_BYTES:
            raise TransferError(f"{path} is larger than {MAX_EXPORT_BYTES // 1024 // 1024} MB.")
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise TransferError(f"Cannot read {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise TransferError(f"{path} is not JSON: {exc}") from exc
    db = document.get("db") if isinstance(document, dict) else None
    if isinstance(db, list) and db and isinstance(db[0], dict):
        document = db[0]
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("posts"), list):
        raise TransferError(f"{path} is not a Ghost export: no data.posts in it.")
    return data


def _date(value) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


def _str(value) -> str:
    return value.strip() if isinstance(value, str) else ""


class GhostImporter(Importer):
    source = "ghost"

    def __init__(
        self, data: dict, *, media: MediaSource, report: Report | None = None, progress=None
    ) -> None:
        super().__init__(media=media, report=report, progress=progress)
        self.data = data
        # Keyed by the export's ids, whatever JSON type they have.
        self.users: dict[Any, User] = {}
        self.tags: dict[Any, Tag] = {}

    def rows(self, name: str) -> list[dict]:
        rows = self.data.get(name) or []
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    def run(self) -> Report:
        for user in self.rows("users"):
            self._user(user)
        for tag in self.rows("tags"):
            self._tag(tag)
        authors, post_tags = defaultdict(list), defaultdict(list)
        for row in sorted(self.rows("posts_authors"), key=lambda r: r.get("sort_order") or 0):
            authors[row.get("post_id")].append(row.get("author_id"))
        for row in sorted(self.rows("posts_tags"), key=lambda r: r.get("sort_order") or 0):
            post_tags[row.get("post_id")].append(row.get("tag_id"))
        meta = {row.get("post_id"): row for row in self.rows("posts_meta")}
        posts = self.rows("posts")
        for done, post in enumerate(posts, start=1):
            with transaction.atomic():
                self._post(
                    post, authors[post.get("id")], post_tags[post.get("id")], meta.get(post.get("id"), {})
                )
            self.progress(done, len(posts))
        return self.report

    # --- media ---------------------------------------------------------------------------

    def _file(self, url: str) -> str | None:
        url = (url or "").strip()
        if url.startswith("__GHOST_URL__"):
            url = url[len("__GHOST_URL__") :]
        path = unquote(urlsplit(url).path)
        if _IMAGES not in f"/{path.lstrip('/')}":
            return None
        relative = f"/{path.lstrip('/')}".split(_IMAGES, 1)[1]
        return _SIZE.sub("", relative)

    def _media(self, url: str, *, alt: str = "", user=None) -> MediaFile | None:
        relative = self._file(url)
        if relative is None:
            if url:
                self.report.notes.append(f"image {url} is not one of the site's files: left as a link")
            return None
        return self.media_file(key=relative, relative=f"images/{relative}", alt_text=alt, user=user)

    def _resolve(self, src: str) -> tuple[str, str] | None:
        if self._file(src) is None:
            return None
        media = self._media(src)
        return (media.url, media.alt_text) if media else None

    def _link(self, href: str) -> str:
        """Links to the site's own files go to the library; to its pages, a path here
        (answered by the redirect of the post it was)."""
        if self._file(href) is not None:
            found = self._resolve(href)
            return found[0] if found else href
        if href.startswith("__GHOST_URL__"):
            return href[len("__GHOST_URL__") :] or "/"
        return href

    # --- users and tags ------------------------------------------------------------------

    def _user(self, row: dict) -> None:
        name = _str(row.get("name"))
        first, _sep, last = name.partition(" ")
        user = self.author(
            source_id=f"user:{row.get('id')}",
            login=_str(row.get("slug")) or name,
            email=_str(row.get("email")),
            first_name=first,
            last_name=last,
        )
        self.users[row.get("id")] = user
        if row.get("profile_image"):
            self._media(row["profile_image"], alt=name, user=user)
            self.report.notes.append(
                f"profile image of {name}: kept in the media library (users have none here)"
            )

    def _tag(self, row: dict) -> None:
        name, slug = _str(row.get("name")), _str(row.get("slug"))
        if row.get("visibility") == "internal" or name.startswith("#"):
            self.report.skipped.append(
                f"tag “{name}”: an internal tag (Ghost's #tags are not shown to readers)"
            )
            return
        tag = self.known_object(ImportedItem.Kind.TAG, row.get("id"), Tag)
        if tag is not None:
            self.report.unchanged["tags"] += 1
        else:
            tag = Tag.objects.filter(slug=slug).first() or Tag.objects.filter(name=name[:50]).first()
            if tag is None:
                tag = Tag(
                    name=name[:50] or slug[:50] or "tag",
                    slug=self.free_slug(Tag, slug or name, what=f"tag {name}", max_length=60),
                )
                if not self._valid(tag, f"tag “{name}”"):
                    return
                tag.save()
                self.report.imported["tags"] += 1
            self.remember(ImportedItem.Kind.TAG, row.get("id"), tag)
        self.tags[row.get("id")] = tag
        if row.get("feature_image"):
            self._media(row["feature_image"], alt=name)
            self.report.notes.append(
                f"image of tag “{name}”: kept in the media library (tags have none here)"
            )

    # --- posts and pages -----------------------------------------------------------------

    def _post(self, post: dict, author_ids: list, tag_ids: list, meta: dict) -> None:
        kind = "page" if post.get("type") == "page" else "post"
        title = _str(post.get("title")) or "(untitled)"
        label = f"{kind} “{title}”"
        item_kind = ImportedItem.Kind.PAGE if kind == "page" else ImportedItem.Kind.ARTICLE
        if self.known(item_kind, post.get("id")) is not None:
            self.report.unchanged["pages" if kind == "page" else "articles"] += 1
            return
        status = _str(post.get("status"))
        if status not in ("published", "scheduled", "draft", "sent"):
            self.report.skipped.append(f"{label}: status “{status}”")
            return
        members_only = _str(post.get("visibility")) not in ("", "public")
        if members_only:
            self.report.notes.append(
                f"{label} is for members only ({post.get('visibility')}): imported as a draft"
            )
        if status == "sent":
            self.report.notes.append(f"{label} was sent as a newsletter only: imported as a draft")
        public = status in ("published", "scheduled") and not members_only
        body = html_to_markdown(_str(post.get("html")), resolve=self._resolve, link=self._link).markdown
        slug = _str(post.get("slug"))
        if kind == "page":
            page = Page(
                title=title[:200],
                slug=self.free_slug(Page, slug or title, what=label),
                body=body,
                is_published=public,
            )
            if not self._valid(page, label):
                return
            page.save()
            self.remember(ImportedItem.Kind.PAGE, post.get("id"), page)
            self.report.imported["pages"] += 1
            if public:
                self.redirect(f"/{slug}/", page=page)
            return
        author_id = author_ids[0] if author_ids else None
        author = self.users.get(author_id) or self.author(
            source_id="user:unknown", login="ghost-author", email=""
        )
        if len(author_ids) > 1:
            self.report.notes.append(f"{label} has {len(author_ids)} authors: the first is its author here")
        excerpt = _str(post.get("custom_excerpt"))
        canonical = _str(post.get("canonical_url"))
        feature = _str(post.get("feature_image"))
        article = Article(
            title=title[:200],
            slug=self.free_slug(Article, slug or title, what=label),
            body=body,
            summary=excerpt,
            summary_is_auto=not excerpt,
            status=Article.Status.PUBLISHED if public else Article.Status.DRAFT,
            published_at=_date(post.get("published_at")) or _date(post.get("created_at")) or timezone.now(),
            author=author,
            category=Category.default(),
            is_pinned=str(post.get("featured")) in ("1", "True", "true"),
            featured_image=self._media(feature, alt=_str(meta.get("feature_image_alt")), user=author)
            if feature
            else None,
            seo_title=(_str(meta.get("meta_title")) or _str(meta.get("og_title")))[:200],
            seo_description=(_str(meta.get("meta_description")) or _str(meta.get("og_description")))[:300],
            source=Article.Source.REPRINT
            if canonical.startswith(("http://", "https://"))
            else Article.Source.ORIGINAL,
            source_url=canonical[:500] if canonical.startswith(("http://", "https://")) else "",
        )
        if meta.get("feature_image_caption"):
            self.report.notes.append(
                f"{label}: the feature image's caption is not shown here (alt text kept)"
            )
        if not self._valid(article, label):
            return
        article.save()
        article.tags.set([self.tags[tag_id] for tag_id in tag_ids if tag_id in self.tags])
        self.remember(ImportedItem.Kind.ARTICLE, post.get("id"), article)
        self.report.imported["articles"] += 1
        if public and slug:
            self.redirect(f"/{slug}/", article=article)

    def _valid(self, obj, label: str) -> bool:
        try:
            obj.full_clean()
        except ValidationError as exc:
            self.report.skipped.append(f"{label}: {'; '.join(exc.messages)}")
            return False
        return True


def preview(path: str | Path) -> dict[str, int]:
    """What an import of ``path`` would bring, read without writing anything."""
    data = load(path)
    counts: Counter = Counter()
    for post in data.get("posts") or []:
        if isinstance(post, dict):
            counts[f"{post.get('type') or 'post'}s ({post.get('status')})"] += 1
    for tag in data.get("tags") or []:
        if isinstance(tag, dict):
            internal = tag.get("visibility") == "internal" or str(tag.get("name", "")).startswith("#")
            counts["tags (internal, skipped)" if internal else "tags"] += 1
    counts["authors"] = len([u for u in data.get("users") or [] if isinstance(u, dict)])
    counts["already imported"] = ImportedItem.objects.filter(source="ghost").count()
    return dict(sorted(counts.items()))


def import_ghost(path: str | Path, *, media: str | Path | None = None, progress=None) -> Report:
    data = load(path)
    source = MediaSource(media)
    try:
        return GhostImporter(data, media=source, progress=progress).run()
    finally:
        source.close()
