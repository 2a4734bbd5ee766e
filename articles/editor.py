"""The editor's endpoints, for active staff only (markdownx leaves its own open to anyone).

- ``preview``: markdownx's preview, rendered by the very function that renders ``body_html``.
- ``upload``: an image with its alt text becomes a media library row (``articles.media``);
  the answer is the Markdown to insert, or the reason it was refused (400), never a 500.
- ``media_list``: the library, searchable, for inserting an image again or picking a
  featured image.
- ``autosave`` / ``autosave_discard``: the draft being written (``articles.autosave``).

Every POST needs the CSRF token (Django's middleware checks it; none is exempt). Each
endpoint asks ``articles.roles`` too: a contributor uploads only for an article of their
own and sees only their own uploads; autosave only for what the user may edit.
"""

from __future__ import annotations

from functools import wraps

from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import autosave as autosaves
from . import roles
from .markdown import MAX_MARKDOWN_LENGTH, markdownify
from .media import ImageUploadForm, media_create, media_search
from .models import Article, MediaFile, Page

MEDIA_PAGE_SIZE = 24


def staff_only(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not (request.user.is_authenticated and request.user.is_active and request.user.is_staff):
            return JsonResponse({"error": _("Only staff can use the editor.")}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


@require_POST
@staff_only
def preview(request: HttpRequest) -> HttpResponse:
    content = request.POST.get("content", "")
    if len(content) > MAX_MARKDOWN_LENGTH:
        return HttpResponse(_("The text is too long to preview."), status=413)
    return HttpResponse(markdownify(content))


def media_json(media: MediaFile) -> dict:
    return {
        "id": media.pk,
        "url": media.url,
        "alt": media.alt_text,
        "name": media.original_name,
        "width": media.width,
        "height": media.height,
        "size": media.size,
        "markdown": media.markdown(),
    }


def _refused() -> JsonResponse:
    return JsonResponse({"error": _("Your role does not allow this.")}, status=403)


def may_write(user, target: autosaves.AutosaveTarget) -> bool:
    """Whether ``user`` may edit the article or page (``object_id`` 0: add a new one)."""
    if target.kind == "page":
        page = Page.objects.filter(pk=target.object_id).first() if target.object_id else None
        return roles.may_change_page(user, page)
    if not target.object_id:
        return user.has_perm("articles.add_article")
    article = Article.objects.filter(pk=target.object_id).only("pk", "author_id", "status").first()
    return article is not None and roles.may_change_article(user, article)


@require_POST
@staff_only
def upload(request: HttpRequest) -> JsonResponse:
    if not roles.may_upload(request.user):
        return _refused()
    if not request.user.has_perm("articles.add_mediafile"):
        # Not a keeper of the library: only into an article the user may edit (the form's
        # upload URL names it: ?kind=article&object_id=<id>, empty for a new one; or the post).
        source = request.GET if "kind" in request.GET else request.POST
        kind, raw_id = source.get("kind", ""), source.get("object_id", "") or "0"
        if kind not in ("article", "page") or not raw_id.isdigit() or len(raw_id) > 18:
            return _refused()
        if not may_write(request.user, autosaves.AutosaveTarget(kind=kind, object_id=int(raw_id))):
            return _refused()
    form = ImageUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = form.errors.get("image") or form.errors.get("alt") or [_("No image was sent.")]
        return JsonResponse({"image": errors, "error": " ".join(str(error) for error in errors)}, status=400)
    upload = request.FILES["image"]
    assert isinstance(upload, UploadedFile)  # one file (form.is_valid() saw it)
    media = media_create(
        image=form.cleaned_data["image"],
        original_name=upload.name or "",
        alt_text=form.cleaned_data["alt"],
        user=request.user,
    )
    return JsonResponse({"image_code": media.markdown(), "media": media_json(media)})


@require_GET
@staff_only
def media_list(request: HttpRequest) -> JsonResponse:
    query = request.GET.get("q", "")[:100]
    files = media_search(query)
    if not roles.may_use_library(request.user):
        files = files.filter(uploaded_by=request.user.pk)  # staff_only: a signed-in user
    paginator = Paginator(files, MEDIA_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return JsonResponse(
        {
            "results": [media_json(media) for media in page.object_list],
            "page": page.number,
            "has_next": page.has_next(),
        }
    )


@require_POST
@staff_only
def autosave(request: HttpRequest) -> JsonResponse:
    target = autosaves.AutosaveTarget.from_request(request)
    if target is None:
        return JsonResponse({"error": _("Unknown article or page.")}, status=400)
    if not may_write(request.user, target):
        return _refused()
    opts = target.model._meta
    result = autosaves.autosave_store(
        target=target, user=request.user, fields=request.POST, base=request.POST.get("base", "")[:64]
    )
    if result.conflict is not None:
        other = result.conflict
        return JsonResponse(
            {
                "conflict": True,
                "version": autosaves.version_of(other),
                "saved_at": other.updated_at.isoformat(),
                "by": autosaves.author_name(other),
                "fields": other.data,
                "error": _("Another tab or editor autosaved newer text."),
            },
            status=409,
        )
    answer = {
        "saved_at": (result.saved.updated_at if result.saved else timezone.now()).isoformat(),
        "version": autosaves.version_of(result.saved) if result.saved else "",
        "object_id": result.object_id or "",
    }
    if result.created:
        change = f"admin:{opts.app_label}_{opts.model_name}_change"
        answer["change_url"] = reverse(change, args=[result.object_id])
        # The new row's optimistic-lock token (admin_editor.lock_token_of), for the form.
        rows = target.model._default_manager.filter(pk=result.object_id)
        stamp = rows.values_list("updated_at", flat=True).first()
        answer["lock_token"] = stamp.isoformat() if stamp else ""
    return JsonResponse(answer)


@require_POST
@staff_only
def autosave_discard(request: HttpRequest) -> JsonResponse:
    target = autosaves.AutosaveTarget.from_request(request)
    if target is None:
        return JsonResponse({"error": _("Unknown article or page.")}, status=400)
    opts = target.model._meta
    if not request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
        return JsonResponse({"error": _("You may not write this.")}, status=403)
    autosaves.autosave_discard(target=target)
    return JsonResponse({"discarded": True})
