"""WordPress's WXR export (Tools > Export) into articles, pages, comments and media.

Parsed with defusedxml (no entities, no DTD, no bombs). The mapping:

- posts -> articles; ``publish`` stays published, ``future`` stays scheduled, ``draft`` and
  ``pending`` (reported as awaiting review) become drafts, ``private`` and
  password-protected posts become drafts and are reported; ``trash`` and ``auto-draft``
  are skipped. Sticky posts are pinned.
- pages -> pages (this blog's pages have no parents: nested ones are flattened, reported).
- attachments -> the media library (alt text from ``_wp_attachment_image_alt``); image
  URLs in bodies (any generated size) are rewritten to the library's file.
- categories keep their parents; an article takes its post's first category (others are
  reported). Tags, excerpts (summaries), featured images, Yoast / Rank Math SEO texts.
- comments keep their threads and status (held ones stay held); spam and trash are not
  imported; pingbacks and trackbacks are skipped and reported.
- each imported post's and page's old permalink redirects (301) to its new address.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse as safe_parse
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from articles.models import Article, Category, MediaFile, Page, Tag
from articles.timezones import site_zone
from comments.models import Comment
from comments.services import comment_counts_recount

from .common import Importer, MediaSource, Report, TransferError, as_int
from .htmlconv import expand_shortcodes, html_to_markdown, wpautop
from .models import ImportedItem

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_PREFIXES = (
    ("/excerpt/", "excerpt"),
    ("wordpress.org/export", "wp"),
    ("purl.org/rss/1.0/modules/content", "content"),
    ("purl.org/dc/elements", "dc"),
    ("wellformedweb.org", "wfw"),
)
_SIZE_SUFFIX = re.compile(r"-\d+x\d+(?=\.\w+$)")
_UPLOADS = "/wp-content/uploads/"
_PLACEHOLDER_EMAIL = "unknown@example.invalid"


def _plain(tag: str) -> str:
    if not tag.startswith("{"):
        return tag
    uri, local = tag[1:].split("}", 1)
    prefix = next((name for needle, name in _PREFIXES if needle in uri), "x")
    return f"{prefix}_{local}"


def _text(element: Element | None, name: str, default: str = "") -> str:
    found = element.find(name) if element is not None else None
    return (found.text or "").strip() if found is not None and found.text is not None else default


def _raw(element: Element, name: str) -> str:
    found = element.find(name)
    return found.text or "" if found is not None else ""


def _unescape(text: str) -> str:
    return html.unescape(text or "").strip()


def _parse_date(gmt: str, local: str) -> datetime | None:
    """UTC from ``*_gmt`` (zero for drafts), else the local time in the site's zone."""
    for value, zone in ((gmt, UTC), (local, site_zone())):
        if value and not value.startswith("0000"):
            try:
                return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
            except ValueError:
                continue
    return None


def _ancestor_ids(category: Category) -> set[int]:
    ids, current, seen = set(), category.parent, set()
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        ids.add(current.pk)
        current = current.parent
    return ids


def _meta(item: Element) -> dict[str, str]:
    return {
        _text(meta, "wp_meta_key"): _raw(meta, "wp_meta_value")
        for meta in item.findall("wp_postmeta")
        if _text(meta, "wp_meta_key")
    }


def load(path: str | Path) -> Element:
    try:
        tree = safe_parse(str(path))
    except DefusedXmlException as exc:
        raise TransferError(f"{path}: refused, the XML declares entities or a DTD ({exc}).") from exc
    except ParseError as exc:
        raise TransferError(f"{path} is not well-formed XML: {exc}") from exc
    except OSError as exc:
        raise TransferError(f"Cannot read {path}: {exc}") from exc
    root = tree.getroot()
    assert root is not None  # a parsed document has one
    for element in root.iter():
        element.tag = _plain(element.tag)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None or channel.find("wp_wxr_version") is None:
        raise TransferError(f"{path} is not a WordPress export (WXR): no <wp:wxr_version> in its channel.")
    return channel


class WordPressImporter(Importer):
    def __init__(
        self, channel: Element, *, media: MediaSource, report: Report | None = None, progress=None
    ) -> None:
        super().__init__(media=media, report=report, progress=progress)
        self.channel = channel
        self.site = _text(channel, "wp_base_site_url") or _text(channel, "link")
        self.source = f"wordpress:{self.site}"[:200]
        self.authors: dict[str, User] = {}
        self.categories: dict[str, Category] = {}
        self.tags: dict[str, Tag] = {}
        self.attachments: dict[str, dict] = {}  # WordPress post ID -> url, file, alt
        self.by_file: dict[str, dict] = {}  # uploads-relative file -> the same

    # --- the run -------------------------------------------------------------------------

    def run(self) -> Report:
        items = self.channel.findall("item")
        self._authors()
        self._terms()
        self._attachments(items)
        total = sum(_text(item, "wp_post_type") in ("post", "page") for item in items)
        done = 0
        for item in items:
            kind = _text(item, "wp_post_type")
            if kind in ("post", "page"):
                with transaction.atomic():
                    self._post(item) if kind == "post" else self._page(item)
                done += 1
                self.progress(done, total)
            elif kind not in ("attachment", "nav_menu_item", "revision", "wp_global_styles"):
                self.report.skipped.append(
                    f"item {_text(item, 'wp_post_id')} of type “{kind}”: not a post or page"
                )
        return self.report

    # --- authors and terms ---------------------------------------------------------------

    def _authors(self) -> None:
        for element in self.channel.findall("wp_author"):
            login = _text(element, "wp_author_login")
            self.authors[login] = self.author(
                source_id=f"author:{login}",
                login=login,
                email=_text(element, "wp_author_email"),
                first_name=_unescape(_text(element, "wp_author_first_name")),
                last_name=_unescape(_text(element, "wp_author_last_name")),
            )

    def _author_for(self, login: str):
        if login not in self.authors:
            self.authors[login] = self.author(source_id=f"author:{login}", login=login or "author", email="")
        return self.authors[login]

    def _terms(self) -> None:
        categories: dict[str, dict] = {}
        tags: dict[str, dict] = {}
        for element in self.channel.findall("wp_category"):
            slug = _text(element, "wp_category_nicename")
            categories.setdefault(
                slug,
                {
                    "name": _unescape(_text(element, "wp_cat_name")),
                    "parent": _text(element, "wp_category_parent"),
                    "description": _unescape(_text(element, "wp_category_description")),
                },
            )
        for element in self.channel.findall("wp_tag"):
            slug = _text(element, "wp_tag_slug")
            tags.setdefault(slug, {"name": _unescape(_text(element, "wp_tag_name"))})
        # WordPress 6.1 lists every term again as <wp:term>: only the ones not seen yet count.
        for element in self.channel.findall("wp_term"):
            taxonomy, slug = _text(element, "wp_term_taxonomy"), _text(element, "wp_term_slug")
            name = _unescape(_text(element, "wp_term_name"))
            if taxonomy == "category":
                categories.setdefault(
                    slug, {"name": name, "parent": _text(element, "wp_term_parent"), "description": ""}
                )
            elif taxonomy == "post_tag":
                tags.setdefault(slug, {"name": name})
        created: set[str] = set()
        for slug in categories:
            self._category(slug, categories, created, trail=())
        for slug, data in tags.items():
            if tag := self._tag(slug, data["name"]):
                self.tags[slug] = tag

    def _category(self, slug: str, data: dict[str, dict], created: set[str], trail: tuple) -> Category | None:
        if slug in self.categories or slug not in data or slug in trail:
            return self.categories.get(slug)
        info = data[slug]
        parent = self._category(info["parent"], data, created, (*trail, slug)) if info["parent"] else None
        category = self.known_object(ImportedItem.Kind.CATEGORY, slug, Category)
        if category is not None:
            self.report.unchanged["categories"] += 1
        else:
            decoded = unquote(slug)
            category = (
                Category.objects.filter(slug=decoded).first()
                or Category.objects.filter(name=info["name"][:100]).first()
            )
            if category is not None:
                self.report.notes.append(f"category “{info['name']}” matched the existing “{category.name}”")
            else:
                category = Category(
                    name=info["name"][:100] or decoded[:100] or "category",
                    slug=self.free_slug(Category, decoded, what=f"category {info['name']}", max_length=100),
                    description=info["description"],
                    parent=parent,
                )
                try:
                    category.full_clean()
                except ValidationError as exc:
                    self.report.skipped.append(f"category “{info['name']}”: {'; '.join(exc.messages)}")
                    return None
                category.save()
                self.report.imported["categories"] += 1
            self.remember(ImportedItem.Kind.CATEGORY, slug, category)
        self.categories[slug] = category
        return category

    def _tag(self, slug: str, name: str) -> Tag | None:
        tag = self.known_object(ImportedItem.Kind.TAG, slug, Tag)
        if tag is not None:
            self.report.unchanged["tags"] += 1
            return tag
        name = name[:50] or unquote(slug)[:50] or "tag"
        tag = Tag.objects.filter(slug=unquote(slug)).first() or Tag.objects.filter(name=name).first()
        if tag is None:
            tag = Tag(name=name, slug=self.free_slug(Tag, unquote(slug), what=f"tag {name}", max_length=60))
            try:
                tag.full_clean()
            except ValidationError as exc:
                self.report.skipped.append(f"tag “{name}”: {'; '.join(exc.messages)}")
                return None
            tag.save()
            self.report.imported["tags"] += 1
        self.remember(ImportedItem.Kind.TAG, slug, tag)
        return tag

    # --- media ---------------------------------------------------------------------------

    def _attachments(self, items: list[Element]) -> None:
        for item in items:
            if _text(item, "wp_post_type") != "attachment":
                continue
            meta = _meta(item)
            url = _text(item, "wp_attachment_url")
            file = meta.get("_wp_attached_file") or self._uploads_file(url) or ""
            info = {
                "id": _text(item, "wp_post_id"),
                "url": url,
                "file": file,
                "alt": _unescape(meta.get("_wp_attachment_image_alt", "")),
                "caption": _unescape(_raw(item, "excerpt_encoded")),
                "author": _text(item, "dc_creator"),
                "link": _text(item, "link"),
            }
            self.attachments[info["id"]] = info
            if file:
                self.by_file[file] = info
        for info in self.attachments.values():
            if info["file"]:
                new = self.known(ImportedItem.Kind.MEDIA, info["file"]) is None
                media = self._media_for_file(info["file"])
                if media is not None and new:
                    # The file's old address and its attachment page lead to the file.
                    self.redirect(info["url"], media=media)
                    self.redirect(info["link"], media=media)
            else:
                self.report.skipped.append(f"attachment {info['id']}: no file named")

    @staticmethod
    def _uploads_file(url: str) -> str | None:
        path = unquote(urlsplit(url).path)
        return path.split(_UPLOADS, 1)[1] if _UPLOADS in path else None

    def _media_for_file(self, file: str) -> MediaFile | None:
        info = self.by_file.get(file, {})
        return self.media_file(
            key=file,
            relative=f"uploads/{file}",
            alt_text=info.get("alt", ""),
            user=self.authors.get(info.get("author", "")),
            what=f"attachment {info.get('id', '')} {posixpath.basename(file)}".strip(),
        )

    def _resolve(self, src: str) -> tuple[str, str] | None:
        file = self._uploads_file(html.unescape(src))
        if file is None:
            return None
        original = _SIZE_SUFFIX.sub("", file)
        # A generated size (-300x200) shows the original upload; an upload whose own name
        # looks like a size is known by its attachment.
        for candidate in (file, original) if file in self.by_file else (original, file):
            if candidate in self.by_file or self.media.read(f"uploads/{candidate}") is not None:
                media = self._media_for_file(candidate)
                return (media.url, media.alt_text) if media else None
        self.report.skipped.append(f"image {src}: not in the media archive, link kept")
        return None

    def _gallery_image(self, attachment_id: str) -> str:
        info = self.attachments.get(attachment_id)
        if info is None:
            self.report.skipped.append(f"gallery image {attachment_id}: no such attachment in the export")
            return ""
        return f'<img src="{html.escape(info["url"])}" alt="{html.escape(info["alt"])}">'

    def _markdown(self, content: str, *, comment: bool = False) -> str:
        if comment or "<!-- wp:" not in content:
            content = wpautop(content)
        if not comment:
            content = expand_shortcodes(content, gallery_image=self._gallery_image)
        return html_to_markdown(content, resolve=self._resolve, link=self._link).markdown

    def _link(self, href: str) -> str:
        """A link to an upload goes to the library's file; one to the old site's pages
        becomes a path here, which its redirect answers (the post may come later in the
        file)."""
        address = html.unescape(href)
        if self._uploads_file(address) is not None:
            found = self._resolve(address)
            return found[0] if found else href
        parts, site = urlsplit(address), urlsplit(self.site)
        if parts.netloc and parts.netloc == site.netloc and parts.path not in ("", "/") and not parts.query:
            return parts.path + (f"#{parts.fragment}" if parts.fragment else "")
        return href

    # --- posts and pages -----------------------------------------------------------------

    def _post(self, item: Element) -> None:
        post_id = _text(item, "wp_post_id")
        title = _unescape(_text(item, "title")) or "(untitled)"
        if self.known(ImportedItem.Kind.ARTICLE, post_id) is not None:
            self.report.unchanged["articles"] += 1
            return
        status, password = _text(item, "wp_status"), _raw(item, "wp_post_password")
        if status in ("trash", "auto-draft", "inherit"):
            self.report.skipped.append(f"post {post_id} “{title}”: status {status}")
            return
        published_at = (
            _parse_date(_text(item, "wp_post_date_gmt"), _text(item, "wp_post_date")) or timezone.now()
        )
        target = Article.Status.PUBLISHED if status in ("publish", "future") else Article.Status.DRAFT
        if password:
            target = Article.Status.DRAFT
            self.report.notes.append(f"post {post_id} “{title}” is password-protected: imported as a draft")
        elif status == "private":
            self.report.notes.append(f"post {post_id} “{title}” is private: imported as a draft")
        elif status == "pending":
            self.report.notes.append(f"post {post_id} “{title}” was pending review: imported as a draft")
        elif status not in ("publish", "future", "draft"):
            self.report.notes.append(f"post {post_id} “{title}” has status “{status}”: imported as a draft")
        meta = _meta(item)
        terms = [
            (element.get("domain"), element.get("nicename") or "") for element in item.findall("category")
        ]
        category_slugs = [slug for domain, slug in terms if domain == "category"]
        listed = [self.categories[s] for s in category_slugs if s in self.categories]
        # The most specific one: a listed category that is no other listed one's ancestor.
        ancestors = {pk for c in listed for pk in _ancestor_ids(c)}
        category = next((c for c in listed if c.pk not in ancestors), listed[0] if listed else None)
        if len(category_slugs) > 1:
            self.report.notes.append(
                f"post {post_id} “{title}” is in {len(category_slugs)} categories: kept {category}"
            )
        for domain, slug in terms:
            if domain == "post_format":
                self.report.notes.append(
                    f"post {post_id} “{title}” has the format “{slug.removeprefix('post-format-')}”: "
                    "imported as an ordinary article"
                )
        excerpt = _unescape(re.sub(r"<[^>]+>", "", _raw(item, "excerpt_encoded")))
        featured = self.attachments.get(meta.get("_thumbnail_id", ""))
        article = Article(
            title=title[:200],
            slug=self.free_slug(
                Article, _text(item, "wp_post_name") or title, what=f"post {post_id} “{title}”"
            ),
            body=self._markdown(_raw(item, "content_encoded")),
            summary=excerpt,
            summary_is_auto=not excerpt,
            status=target,
            published_at=published_at,
            author=self._author_for(_text(item, "dc_creator")),
            category=category or Category.default(),
            is_pinned=_text(item, "wp_is_sticky") == "1",
            allow_comments=_text(item, "wp_comment_status") != "closed",
            featured_image=self._media_for_file(featured["file"]) if featured and featured["file"] else None,
            seo_title=_unescape(meta.get("_yoast_wpseo_title") or meta.get("rank_math_title", ""))[:200],
            seo_description=_unescape(
                meta.get("_yoast_wpseo_metadesc") or meta.get("rank_math_description", "")
            )[:300],
        )
        try:
            article.full_clean()
        except ValidationError as exc:
            self.report.skipped.append(f"post {post_id} “{title}”: {'; '.join(exc.messages)}")
            return
        article.save()
        article.tags.set(
            [self.tags[slug] for domain, slug in terms if domain == "post_tag" and slug in self.tags]
        )
        self.remember(ImportedItem.Kind.ARTICLE, post_id, article)
        self.report.imported["articles"] += 1
        if status == "publish" and not password:
            self.redirect(_text(item, "link"), article=article)
        self._comments(item, article)

    def _page(self, item: Element) -> None:
        post_id = _text(item, "wp_post_id")
        title = _unescape(_text(item, "title")) or "(untitled)"
        if self.known(ImportedItem.Kind.PAGE, post_id) is not None:
            self.report.unchanged["pages"] += 1
            return
        status = _text(item, "wp_status")
        if status in ("trash", "auto-draft"):
            self.report.skipped.append(f"page {post_id} “{title}”: status {status}")
            return
        if status != "publish" or _raw(item, "wp_post_password"):
            self.report.notes.append(f"page {post_id} “{title}” ({status}): imported unpublished")
        parent = _text(item, "wp_post_parent")
        if parent and parent != "0":
            self.report.notes.append(
                f"page {post_id} “{title}” had parent page {parent}: pages have no parents here, flattened"
            )
        page = Page(
            title=title[:200],
            slug=self.free_slug(Page, _text(item, "wp_post_name") or title, what=f"page {post_id} “{title}”"),
            body=self._markdown(_raw(item, "content_encoded")),
            is_published=status == "publish" and not _raw(item, "wp_post_password"),
            order=as_int(_text(item, "wp_menu_order")),
        )
        try:
            page.full_clean()
        except ValidationError as exc:
            self.report.skipped.append(f"page {post_id} “{title}”: {'; '.join(exc.messages)}")
            return
        page.save()
        if item.findall("wp_comment"):
            count = len(item.findall("wp_comment"))
            self.report.skipped.append(
                f"{count} comments on page {post_id} “{title}”: pages take no comments here"
            )
        self.remember(ImportedItem.Kind.PAGE, post_id, page)
        self.report.imported["pages"] += 1
        if page.is_published:
            self.redirect(_text(item, "link"), page=page)

    # --- comments ------------------------------------------------------------------------

    def _comments(self, item: Element, article: Article) -> None:
        elements = item.findall("wp_comment")
        if not elements:
            return
        rows = sorted(
            elements,
            key=lambda c: (_text(c, "wp_comment_date_gmt"), as_int(_text(c, "wp_comment_id"))),
        )
        made: dict[str, Comment] = {}
        number = 0
        staff = {
            _text(a, "wp_author_id"): self.authors.get(_text(a, "wp_author_login"))
            for a in self.channel.findall("wp_author")
        }
        for element in rows:
            comment_id = _text(element, "wp_comment_id")
            approved = _text(element, "wp_comment_approved")
            kind = _text(element, "wp_comment_type") or "comment"
            author = _unescape(_text(element, "wp_comment_author"))
            label = f"comment {comment_id} by {author or 'anonymous'} on “{article.title}”"
            if approved in ("spam", "trash", "post-trashed"):
                self.report.skipped.append(f"{label}: {approved}")
                continue
            if kind in ("pingback", "trackback"):
                self.report.skipped.append(f"{label}: a {kind}, not a comment")
                continue
            if self.known(ImportedItem.Kind.COMMENT, comment_id) is not None:
                self.report.unchanged["comments"] += 1
                continue
            parent_id = _text(element, "wp_comment_parent")
            parent = None
            if parent_id and parent_id != "0":
                parent = made.get(parent_id)
                if parent is None:
                    self.report.skipped.append(
                        f"{label}: replies to comment {parent_id}, which was not imported"
                    )
                    continue
            email = _text(element, "wp_comment_author_email")
            if not email:
                self.report.notes.append(f"{label}: no e-mail, imported with {_PLACEHOLDER_EMAIL}")
            url = _text(element, "wp_comment_author_url")
            body = self._markdown(_raw(element, "wp_comment_content"), comment=True).strip()
            number += 1
            user = staff.get(_text(element, "wp_comment_user_id"))
            comment = Comment(
                article=article,
                parent=parent,
                number=number,
                thread_number=parent.thread_number if parent else number,
                author_name=(author or "Anonymous")[:100],
                author_email=(email or _PLACEHOLDER_EMAIL).lower(),
                author_url=url if url.startswith(("http://", "https://")) else "",
                body=body or "…",
                status=Comment.Status.APPROVED if approved == "1" else Comment.Status.PENDING,
                user=user,
                is_staff_reply=bool(user is not None and user.is_staff),
                created_at=_parse_date(
                    _text(element, "wp_comment_date_gmt"), _text(element, "wp_comment_date")
                )
                or timezone.now(),
            )
            try:
                comment.full_clean()
            except ValidationError as exc:
                if "author_url" in exc.message_dict:
                    comment.author_url = ""
                    self.report.notes.append(f"{label}: website “{url}” dropped (not a valid URL)")
                try:
                    comment.full_clean()
                except ValidationError as again:
                    number -= 1
                    self.report.skipped.append(f"{label}: {'; '.join(again.messages)}")
                    continue
            comment.save()
            made[comment_id] = comment
            self.remember(ImportedItem.Kind.COMMENT, comment_id, comment)
            self.report.imported[f"comments ({comment.status})"] += 1
        comment_counts_recount(article_ids=[article.pk])


def preview(path: str | Path) -> dict[str, int]:
    """What an import of ``path`` would bring, read without writing anything."""
    channel = load(path)
    counts: Counter = Counter()
    for item in channel.findall("item"):
        kind, status = _text(item, "wp_post_type"), _text(item, "wp_status")
        if kind == "attachment":
            counts["media files"] += 1
            continue
        if kind not in ("post", "page"):
            continue
        if _raw(item, "wp_post_password"):
            status = "password-protected"
        counts[f"{kind}s ({status})"] += 1
        for comment in item.findall("wp_comment"):
            approved = _text(comment, "wp_comment_approved")
            kind_of = _text(comment, "wp_comment_type") or "comment"
            label = {"1": "approved", "0": "held"}.get(approved, approved)
            counts[f"comments ({label})" if kind_of == "comment" else f"{kind_of}s (skipped)"] += 1
    counts["categories"] = len({_text(e, "wp_category_nicename") for e in channel.findall("wp_category")})
    counts["tags"] = len({_text(e, "wp_tag_slug") for e in channel.findall("wp_tag")})
    counts["authors"] = len(channel.findall("wp_author"))
    site = _text(channel, "wp_base_site_url") or _text(channel, "link")
    counts["already imported"] = ImportedItem.objects.filter(source=f"wordpress:{site}"[:200]).count()
    return dict(sorted(counts.items()))


def import_wordpress(path: str | Path, *, media: str | Path | None = None, progress=None) -> Report:
    channel = load(path)
    source = MediaSource(media)
    try:
        return WordPressImporter(channel, media=source, progress=progress).run()
    finally:
        source.close()
