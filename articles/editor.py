"""The editor's endpoints, for active staff only (markdownx leaves its own open to anyone).

- ``preview``: markdownx's preview, rendered by the very function that renders ``body_html``.
- ``upload``: an image with its alt text becomes a media library row (``articles.media``);
  the answer is the Markdown to insert, or the reason it was refused (400), never a 500.
- ``media_list``: the library, searchable, for inserting an image again or picking a
  featured image.
- ``autosave`` / ``autosave_discard``: the draft being written (``articles.autosave``).

Every POST needs the CSRF token (Django's middleware checks it; none is exempt).
"""

from __future__ import annotations

from functools import wraps

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import autosave as autosaves
from .markdown import MAX_MARKDOWN_LENGTH, markdownify
from .media import ImageUploadForm, media_create, media_search
from .models import MediaFile

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


@require_POST
@staff_only
def upload(request: HttpRequest) -> JsonResponse:
    form = ImageUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = form.errors.get("image") or form.errors.get("alt") or [_("No image was sent.")]
        return JsonResponse({"image": errors, "error": " ".join(errors)}, status=400)
    media = media_create(
        image=form.cleaned_data["image"],
        original_name=request.FILES["image"].name,
        alt_text=form.cleaned_data["alt"],
        user=request.user,
    )
    return JsonResponse({"image_code": media.markdown(), "media": media_json(media)})


@require_GET
@staff_only
def media_list(request: HttpRequest) -> JsonResponse:
    query = request.GET.get("q", "")[:100]
    paginator = Paginator(media_search(query), MEDIA_PAGE_SIZE)
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
    opts = target.model._meta
    needed = "add" if not target.object_id else "change"
    if not request.user.has_perm(f"{opts.app_label}.{needed}_{opts.model_name}"):
        return JsonResponse({"error": _("You may not write this.")}, status=403)
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
