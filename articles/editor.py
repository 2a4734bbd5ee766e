"""The markdownx editor endpoints, for staff only (markdownx leaves them open to anyone).

The preview uses the very renderer that produces ``body_html``. Uploads must be real
JPEG, PNG or WebP images within the size limit; they are decoded and re-encoded with
Pillow (dropping metadata and anything smuggled after the image data) before saving.
"""

from __future__ import annotations

import io
import uuid
from functools import wraps

from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from PIL import ExifTags, Image, UnidentifiedImageError

from .markdown import MAX_MARKDOWN_LENGTH, markdownify

FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
MAX_PIXELS = 40_000_000


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


class ImageUploadForm(forms.Form):
    image = forms.FileField()

    def clean_image(self):
        upload = self.cleaned_data["image"]
        if upload.size > settings.MARKDOWNX_UPLOAD_MAX_SIZE:
            limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE // (1024 * 1024)
            raise forms.ValidationError(_("The image is larger than %(mb)s MB.") % {"mb": limit})
        try:
            with Image.open(upload) as probe:
                probe.verify()
            upload.seek(0)
            image = Image.open(upload)
            if image.format not in FORMATS:
                raise forms.ValidationError(_("Only JPEG, PNG and WebP images are accepted."))
            if image.width * image.height > MAX_PIXELS:
                raise forms.ValidationError(_("The image has too many pixels."))
            image.load()
        except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
            raise forms.ValidationError(_("The file is not a valid image.")) from exc
        return image


_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation (phone photos), since the EXIF block is dropped on save.

    Not ImageOps.exif_transpose: it rewrites the EXIF block and raises on malformed tags.
    """
    try:
        method = _ORIENTATION.get(image.getexif().get(ExifTags.Base.Orientation))
    except Exception:  # any malformed EXIF: keep the pixels as stored
        method = None
    return image.transpose(method) if method is not None else image


def _reencode(image: Image.Image) -> tuple[bytes, str]:
    extension, _content_type = FORMATS[image.format]
    image_format = image.format
    max_size = settings.MARKDOWNX_IMAGE_MAX_SIZE["size"]
    image = _upright(image)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image_format == "JPEG" and image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail(max_size)
    buffer = io.BytesIO()
    # icc_profile=None: PNG would otherwise copy the source's profile (JPEG and WebP do not).
    image.save(
        buffer,
        format=image_format,
        quality=settings.MARKDOWNX_IMAGE_MAX_SIZE["quality"],
        icc_profile=None,
    )
    return buffer.getvalue(), extension


@require_POST
@staff_only
def upload(request: HttpRequest) -> JsonResponse:
    form = ImageUploadForm(files=request.FILES)
    if not form.is_valid():
        return JsonResponse({"image": form.errors.get("image", [_("No image was sent.")])}, status=400)
    data, extension = _reencode(form.cleaned_data["image"])
    name = f"{settings.MARKDOWNX_MEDIA_PATH}{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"
    saved = default_storage.save(name, ContentFile(data))
    return JsonResponse({"image_code": f"![]({default_storage.url(saved)})"})
