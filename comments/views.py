"""Comment views: posting, the no-JavaScript reply page, permalinks and unsubscribing.

Thin: the form checks the input, ``services.comment_create`` decides and stores. A post
that is refused re-renders the article page (never from the cache) with the reader's
text in the form and the reason above it, with a status code that says what happened.
A stored comment is a success whatever happens to its mail afterwards.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from articles import views as article_views
from articles.models import Article

from . import conf, selectors, spam
from .forms import CommentForm
from .models import Comment
from .notifications import UnsubscribeLinkExpired, email_from_unsubscribe_token
from .sections import form_context, initial_form_data, remember_pending, remembered_author_cookie
from .services import (
    CommentsClosed,
    DuplicateComment,
    comment_create,
    comment_unsubscribe,
    comments_open,
)


def _public_article(article_id: int) -> Article:
    return get_object_or_404(Article.objects.published(), pk=article_id)


def _comment_url(comment: Comment) -> str:
    page = selectors.page_of_comment(comment)
    query = f"?page={page}" if page > 1 else ""
    return f"{comment.article.get_absolute_url()}{query}#c-{comment.number}"


def _refuse(request: HttpRequest, article: Article, form: CommentForm, status: int, message: str = ""):
    """The article page again, with the reader's form, its errors and ``message``."""
    # Read back with getattr() where the page renders the form (comments.sections).
    request.comment_form = form  # type: ignore[attr-defined]
    if message:
        form.add_error(None, message)
    # Shown at the top of the page (the form is further down); consumed by this response.
    messages.error(request, _("Your comment was not posted: please see the comment form below."))
    # Rendered afresh, outside the page cache: this copy must never be stored for others.
    response = article_views.render_article_page(request, Article.objects.for_detail().get(pk=article.pk))
    response.status_code = status
    response["Cache-Control"] = "private, no-store"
    return response


def _no_view(request: HttpRequest) -> HttpResponse:
    """The view process_view() is told about: it only reads its csrf_exempt flag, and never
    calls it."""
    return HttpResponse(status=204)


def _csrf_failed(request: HttpRequest) -> bool:
    # Checked here rather than by the middleware, so that a refused token still gives the
    # reader their text back instead of Django's bare 403 page.
    return CsrfViewMiddleware(lambda req: HttpResponse()).process_view(request, _no_view, (), {}) is not None


@require_safe
@never_cache
def csrf_token(request: HttpRequest) -> JsonResponse:
    """A token for the comment form, asked for by its script when the reader sends their
    first comment (reading pages sets no cookie); sets the CSRF cookie."""
    return JsonResponse({"token": get_token(request)})


@csrf_exempt
@require_POST
@never_cache
def post_comment(request: HttpRequest, article_id: int) -> HttpResponse:
    try:
        data = request.POST
    except (RequestDataTooBig, TooManyFieldsSent):
        return render(
            request,
            "comments/refused.html",
            {"message": _("Your comment is far too long to be received. Nothing was posted.")},
            status=413,
        )
    except MultiPartParserError:
        return render(
            request,
            "comments/refused.html",
            {"message": _("The form data could not be read. Nothing was posted: please try again.")},
            status=400,
        )
    article = _public_article(article_id)
    client_key = spam.client_network_key(request)
    form = CommentForm(data, article=article, client_key=client_key)
    if _csrf_failed(request):
        # Reading sets no cookie: a first comment sent without JavaScript (which asks for a
        # token before sending) arrives without one, and is given one here, with the text.
        return _refuse(
            request,
            article,
            form,
            403,
            _(
                "Your comment is not posted yet: the form needs a security cookie, which your "
                "browser has now been given. Please press “Post comment” again. (If this comes "
                "back, your browser refuses cookies from this site.)"
            ),
        )
    if not comments_open(article):
        return render(
            request,
            "comments/refused.html",
            {"article": article, "message": _("Comments are closed for this article."), "data": data},
            status=403,
        )
    fingerprint = spam.client_fingerprint(request)
    # Counted per network, never per user agent: rotating it gets nobody more posts.
    decision = spam.rate_limit_hit(client_key)
    if not decision.allowed:
        response = _refuse(
            request,
            article,
            form,
            429,
            _("You are commenting too fast. Please wait %(seconds)d seconds and send it again.")
            % {"seconds": decision.retry_after},
        )
        response["Retry-After"] = str(decision.retry_after)
        return response
    if not form.is_valid():
        return _refuse(request, article, form, 400)
    cleaned = form.cleaned_data
    try:
        comment = comment_create(
            article=article,
            parent=form.parent_comment,
            author_name=cleaned["author_name"],
            author_email=cleaned["author_email"],
            author_url=cleaned["author_url"],
            body=cleaned["body"],
            notify_on_reply=cleaned["notify_on_reply"],
            client_hash=fingerprint,
            user=request.user,
            proven_comment_ids=spam.proven_comment_ids(request),
        )
    except CommentsClosed:
        return render(
            request,
            "comments/refused.html",
            {"article": article, "message": _("Comments are closed for this article."), "data": data},
            status=403,
        )
    except DuplicateComment as duplicate:
        existing = duplicate.existing
        messages.info(request, _("You already posted this comment; it was not posted twice."))
        return _after_post(request, existing, form)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _refuse(request, article, form, 400)
    spam.spend_stamp(form.cleaned_data["stamp"])
    if comment.is_approved:
        messages.success(request, _("Thank you! Your comment is published."))
    # A held comment needs no message: the page shows it to its author in place, with a
    # notice beside the form (sections.remember_pending), and stays in the page cache.
    return _after_post(request, comment, form)


def _after_post(request: HttpRequest, comment: Comment, form: CommentForm) -> HttpResponse:
    comment.article = Article.objects.only("slug", "comment_count").get(pk=comment.article_id)
    response = HttpResponseRedirect(_comment_url(comment), status=303)
    if not comment.is_approved:
        remember_pending(request, response, comment)
    if form.cleaned_data.get("remember"):
        response.set_cookie(
            conf.AUTHOR_COOKIE,
            remembered_author_cookie(form.cleaned_data),
            max_age=conf.AUTHOR_COOKIE_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    else:
        response.delete_cookie(conf.AUTHOR_COOKIE, samesite="Lax")
    # This browser posted this comment: once it is approved, it makes the author known.
    response.set_cookie(
        conf.PROOF_COOKIE,
        spam.proof_cookie_value([*spam.proven_comment_ids(request), comment.pk]),
        max_age=conf.PROOF_COOKIE_MAX_AGE,
        path=conf.PROOF_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@require_safe
def reply_form(request: HttpRequest, comment_id: int) -> HttpResponse:
    """The reply form on a page of its own: replying works without JavaScript."""
    parent = get_object_or_404(
        Comment.objects.select_related("article").filter(article__in=Article.objects.published()),
        pk=comment_id,
        status=Comment.Status.APPROVED,
    )
    article = parent.article
    initial = {**initial_form_data(request), "parent": parent.pk}
    form = CommentForm(article=article, initial=initial)
    context = {
        "article": article,
        "parent": parent,
        "comments_open": comments_open(article),
        "avatars": conf.get("COMMENTS_AVATARS"),
        **form_context(form, request),
        "reply_parent": parent,
    }
    response = render(request, "comments/reply.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def permalink(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = (
        Comment.objects.approved()
        .on_public_articles()
        .select_related("article")
        .only("pk", "number", "thread_number", "status", "article__slug", "article__comment_count")
        .filter(pk=comment_id)
        .first()
    )
    if comment is None:
        raise Http404(_("This comment does not exist or is not published."))
    return HttpResponseRedirect(_comment_url(comment))


@csrf_exempt  # the signed token is the authority; mail clients POST it (RFC 8058)
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link does and a button; POST (the button, or a mail client's
    one-click request) unsubscribes. Link checkers and prefetchers only ever GET."""
    try:
        email = email_from_unsubscribe_token(token)
    except UnsubscribeLinkExpired:
        return _unsubscribe_page(
            request,
            {
                "state": "broken",
                "message": _(
                    "This unsubscribe link has expired (links work for %(days)d days). Nothing was "
                    "done: use the link in a more recent notification."
                )
                % {"days": conf.get("COMMENTS_UNSUBSCRIBE_DAYS")},
            },
            status=410,
        )
    if email is None:
        return _unsubscribe_page(
            request,
            {
                "state": "broken",
                "message": _("This unsubscribe link is broken or was changed. Nothing was done."),
            },
            status=400,
        )
    if request.method == "POST":
        comment_unsubscribe(email=email)
        return _unsubscribe_page(request, {"state": "done", "email": email})
    return _unsubscribe_page(request, {"state": "confirm", "email": email})


def _unsubscribe_page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, "comments/unsubscribe.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response
