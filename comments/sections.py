"""What the comments app adds to the core's pages: the thread and form under an article,
and the "recent comments" sidebar widget (both registered in ``apps.py``).

The article section is part of the anonymous page cache, so it holds nothing personal:
the CSRF token and the form stamp are holes filled per request. Readers with the
remembered-author cookie (or a session) bypass the page cache, so their form can be
filled in for them.
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest
from django.template.loader import render_to_string

from articles.selectors import site_settings

from . import conf, selectors
from .forms import HONEYPOT_FIELD, CommentForm
from .services import comments_open
from .spam import STAMP_HOLE

AUTHOR_COOKIE_SALT = "comments.author"


def remembered_author(request: HttpRequest | None) -> dict:
    """Name, e-mail and website from the signed cookie set after a post (or nothing)."""
    raw = request.COOKIES.get(conf.AUTHOR_COOKIE) if request is not None else None
    if not raw:
        return {}
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


def form_context(form: CommentForm, request: HttpRequest | None) -> dict:
    user = getattr(request, "user", None)
    return {
        "form": form,
        "reply_parent": form.parent_comment if form.is_bound else None,
        "honeypot": form[HONEYPOT_FIELD],
        "STAMP_HOLE": STAMP_HOLE,
        "posting_as_staff": bool(user is not None and user.is_authenticated and user.is_staff),
    }


def render_article_section(article, request: HttpRequest | None) -> str:
    bound = getattr(request, "comment_form", None)
    if bound is not None and bound.article.pk == article.pk:
        form = bound
    else:
        form = CommentForm(article=article, initial=initial_form_data(request))
    page, entries = selectors.thread_page(article, request.GET.get("page") if request else None)
    site = site_settings()
    context = {
        "article": article,
        "entries": entries,
        "page_obj": page,
        "comments_open": comments_open(article),
        "closed_site_wide": not site.comments_enabled,
        "avatars": conf.get("COMMENTS_AVATARS"),
        **form_context(form, request),
    }
    return render_to_string("comments/section.html", context, request=request)


def render_recent_comments_widget(widget, request: HttpRequest | None) -> str:
    return render_to_string(
        "comments/widget_recent.html",
        {"widget": widget, "comments": selectors.recent_comments(widget.item_count)},
    )
