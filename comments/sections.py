"""What the comments app adds to the core's pages: the thread and form under an article,
and the "recent comments" sidebar widget (both registered in ``apps.py``).

The article section is part of the anonymous page cache, so it holds nothing personal:
the CSRF token, the form stamp and a remembered commenter's name, e-mail, website and
reply choice are holes (``blog_project.caching``) filled per request from the signed
cookie, so a commenter stays in the page cache like every other reader.

A held comment is shown to its author alone, in place: after the post, a signed cookie
lists the reader's held comments (``remember_pending``), and two holes of the cached
page show them at the end of the thread, marked "awaiting moderation", with a notice
beside the form. Readers without that cookie cost the holes nothing (a cookie lookup).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe

from blog_project.caching import hole

from . import conf, selectors
from .forms import HONEYPOT_FIELD, CommentForm
from .models import Comment
from .services import comments_open
from .spam import make_stamp

AUTHOR_COOKIE_SALT = "comments.author"
PENDING_COOKIE_SALT = "comments.pending"


def remembered_author(request: HttpRequest | None) -> dict:
    """Name, e-mail and website from the signed cookie set after a post (or nothing)."""
    raw = request.COOKIES.get(conf.AUTHOR_COOKIE) if request is not None else None
    if not raw:
        return {}
    return dict(_author_from_cookie(raw, int(time.time() // _AUTHOR_RECHECK_SECONDS)))


# A commenter's cookie comes back on every page they read: its signature is checked (and
# its payload decompressed) once a minute per process, not per request; keyed by the whole
# signed value, so nothing unverified is held.
_AUTHOR_RECHECK_SECONDS = 60


@functools.lru_cache(maxsize=4096)
def _author_from_cookie(raw: str, _minute: int) -> dict:
    try:
        data = signing.loads(raw, salt=AUTHOR_COOKIE_SALT, max_age=conf.AUTHOR_COOKIE_MAX_AGE)
    except (signing.BadSignature, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    fields = ("author_name", "author_email", "author_url", "notify_on_reply")
    return {key: data[key] for key in fields if isinstance(data.get(key), str | bool)}


def remembered_author_cookie(cleaned: dict) -> str:
    # signing.dumps gives URL-safe base64: a cookie value stays ASCII whatever the name.
    return signing.dumps(
        {
            "author_name": cleaned["author_name"],
            "author_email": cleaned["author_email"],
            "author_url": cleaned.get("author_url") or "",
            "notify_on_reply": bool(cleaned.get("notify_on_reply")),
        },
        salt=AUTHOR_COOKIE_SALT,
        compress=True,
    )


def initial_form_data(request: HttpRequest | None) -> dict:
    initial = {"remember": True}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        initial.update(author_name=user.get_full_name() or user.get_username(), author_email=user.email)
    initial.update(remembered_author(request))
    return initial


AUTHOR_HOLES = {"author_name": "name", "author_email": "email", "author_url": "url"}


def _form_with_holes(article) -> CommentForm:
    """An empty form whose remembered-author fields are holes, for the shared page."""
    form = CommentForm(article=article, initial={"remember": True})
    for field_name, part in AUTHOR_HOLES.items():
        widget = form.fields[field_name].widget
        widget.template_name = "comments/widgets/hole_input.html"
        form.initial[field_name] = mark_safe(hole("comment-author", part))
    form.fields["notify_on_reply"].widget.template_name = "comments/widgets/hole_checkbox.html"
    form.initial["notify_on_reply"] = mark_safe(hole("comment-author", "notify"))
    return form


def fill_author_hole(request: HttpRequest, part: str) -> str:
    """A remembered commenter's name, e-mail, website or reply choice, for their page."""
    # Read once per request, held on it for the other holes of the page.
    if not hasattr(request, "_remembered_author"):
        request._remembered_author = remembered_author(request)  # type: ignore[attr-defined]
    remembered = request._remembered_author  # type: ignore[attr-defined]
    if part == "notify":
        return "checked" if remembered.get("notify_on_reply") else ""
    value = remembered.get(
        {"name": "author_name", "email": "author_email", "url": "author_url"}.get(part, ""), ""
    )
    return escape(value) if isinstance(value, str) else ""


def fill_stamp_hole(request: HttpRequest, arg: str) -> str:
    return make_stamp(request)


def form_context(form: CommentForm, request: HttpRequest | None) -> dict:
    user = getattr(request, "user", None)
    return {
        "form": form,
        "reply_parent": form.parent_comment if form.is_bound else None,
        "honeypot": form[HONEYPOT_FIELD],
        "STAMP_HOLE": mark_safe(hole("comment-stamp")),
        "posting_as_staff": bool(user is not None and user.is_authenticated and user.is_staff),
    }


# --- the reader's own held comments ------------------------------------------------------


def _pending_pairs(request: HttpRequest) -> list[tuple[int, int]]:
    """[(article id, comment id)] from the signed cookie ([] without one, or if forged)."""
    raw = request.COOKIES.get(conf.PENDING_COOKIE)
    if not raw:
        return []
    try:
        data = signing.loads(raw, salt=PENDING_COOKIE_SALT, max_age=conf.PENDING_COOKIE_MAX_AGE)
    except (signing.BadSignature, ValueError):
        return []
    if not isinstance(data, list):
        return []
    return [
        (item[0], item[1])
        for item in data
        if isinstance(item, list) and len(item) == 2 and all(type(n) is int for n in item)
    ]


def remember_pending(request: HttpRequest, response: HttpResponse, comment: Comment) -> None:
    """After a post that is held: add it to the reader's signed list of held comments."""
    pairs = [pair for pair in _pending_pairs(request) if pair[1] != comment.pk]
    pairs = [*pairs, (comment.article_id, comment.pk)][-conf.PENDING_COOKIE_ITEMS :]
    response.set_cookie(
        conf.PENDING_COOKIE,
        signing.dumps([list(pair) for pair in pairs], salt=PENDING_COOKIE_SALT),
        max_age=conf.PENDING_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


@dataclass(frozen=True)
class PendingEntry:
    """A held comment as ``_comment.html`` shows an entry of the thread."""

    comment: Comment
    reply_to: Comment | None
    depth: int = 0
    is_placeholder: bool = False
    reply_to_removed: bool = False
    pending: bool = True


def _pending_for(request: HttpRequest, arg: str) -> list[PendingEntry]:
    """This reader's comments still held on the article and thread page of ``arg``
    (``<article id>.<first thread>.<last thread, empty on the last page>``)."""
    pairs = _pending_pairs(request)
    if not pairs:
        return []
    article_id, _sep, bounds = arg.partition(".")
    low, _sep, high = bounds.partition(".")
    if not (article_id.isdigit() and low.isdigit() and (high.isdigit() or not high)):
        return []
    ids = [comment_id for article, comment_id in pairs if article == int(article_id)]
    if not ids:
        return []
    cache_key = f"_pending_{arg}"
    if not hasattr(request, cache_key):  # the list and the notice are two holes of one page
        rows = (
            Comment.objects.pending()
            .filter(pk__in=ids, article_id=int(article_id), thread_number__gte=int(low))
            .select_related("parent")
            .only(*selectors.DISPLAY_FIELDS, "parent__number", "parent__author_name", "parent__status")
            .order_by("number")
        )
        if high:
            rows = rows.filter(thread_number__lte=int(high))
        setattr(request, cache_key, [PendingEntry(comment=row, reply_to=row.parent) for row in rows])
    return getattr(request, cache_key)


def fill_pending_hole(request: HttpRequest, arg: str) -> str:
    entries = _pending_for(request, arg)
    if not entries:
        return ""
    return render_to_string(
        "comments/_pending.html", {"entries": entries, "avatars": conf.get("COMMENTS_AVATARS")}
    )


def fill_pending_notice_hole(request: HttpRequest, arg: str) -> str:
    entries = _pending_for(request, arg)
    if not entries:
        return ""
    return render_to_string("comments/_pending_notice.html", {"count": len(entries)})


def _pending_arg(article, page) -> str:
    threads = list(page.object_list) if page is not None else []
    low = threads[0] if threads else 0
    high = threads[-1] if threads and page.has_next() else ""
    return f"{article.pk}.{low}.{high}"


# --- the section -----------------------------------------------------------------------


def render_article_section(article, request: HttpRequest | None) -> str:
    bound = getattr(request, "comment_form", None)
    user = getattr(request, "user", None)
    if bound is not None and bound.article.pk == article.pk:
        form = bound
    elif user is not None and user.is_authenticated:
        form = CommentForm(article=article, initial=initial_form_data(request))
    else:
        form = _form_with_holes(article)
    page, entries = selectors.thread_page(article, request.GET.get("page") if request else None)
    policy = selectors.comment_settings()
    context = {
        "article": article,
        "entries": entries,
        "page_obj": page,
        "comments_open": comments_open(article),
        "closed_site_wide": not policy.comments_enabled,
        "avatars": conf.get("COMMENTS_AVATARS"),
        "PENDING_HOLE": mark_safe(hole("comment-pending", _pending_arg(article, page))),
        "PENDING_NOTICE_HOLE": mark_safe(hole("comment-pending-notice", _pending_arg(article, page))),
        **form_context(form, request),
    }
    return render_to_string("comments/section.html", context, request=request)


def render_recent_comments_widget(widget, request: HttpRequest | None) -> str:
    return render_to_string(
        "comments/widget_recent.html",
        {"widget": widget, "comments": selectors.recent_comments(widget.item_count)},
    )
