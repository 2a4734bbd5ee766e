"""What the comments app adds to the core's pages: the thread and form under an article,
and the "recent comments" sidebar widget (both registered in ``apps.py``).

The article section is part of the anonymous page cache, so it holds nothing personal:
the CSRF token, the form stamp and a remembered commenter's name, e-mail, website and
reply choice are holes (``blog_project.caching``) filled per request from the signed
cookie, so a commenter stays in the page cache like every other reader.
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe

from articles.selectors import site_settings
from blog_project.caching import hole

from . import conf, selectors
from .forms import HONEYPOT_FIELD, CommentForm
from .services import comments_open

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
    if not hasattr(request, "_remembered_author"):
        request._remembered_author = remembered_author(request)
    remembered = request._remembered_author
    if part == "notify":
        return "checked" if remembered.get("notify_on_reply") else ""
    value = remembered.get(
        {"name": "author_name", "email": "author_email", "url": "author_url"}.get(part, ""), ""
    )
    return escape(value) if isinstance(value, str) else ""


def fill_stamp_hole(request: HttpRequest, arg: str) -> str:
    from .spam import make_stamp

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
    site = site_settings(request)
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
