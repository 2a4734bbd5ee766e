"""The media library: every uploaded image is a ``MediaFile`` row.

Uploads must be real JPEG, PNG or WebP images within the size limit; they are decoded and
re-encoded with Pillow (dropping metadata and anything smuggled after the image data)
before they are stored. A file shown by an article or page (``MediaUsage``, or as a
featured image) cannot be deleted.
"""

from __future__ import annotations

import io
import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, UnidentifiedImageError

from .models import MediaFile

# Keyed by PIL's Image.format (None for an image not read from a file: a KeyError).
FORMATS: dict[str | None, tuple[str, str]] = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
ALT_TEXT_MAX_LENGTH = MediaFile._meta.get_field("alt_text").max_length


class ImageUploadForm(forms.Form):
    image = forms.FileField()
    alt = forms.CharField(required=False, max_length=ALT_TEXT_MAX_LENGTH, strip=True)

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
            max_pixels = settings.BLOG_UPLOAD_MAX_PIXELS
            if image.width * image.height > max_pixels:
                # Checked from the header, before decoding: a small file can decode to
                # hundreds of megabytes, which a worker keeps long after.
                raise forms.ValidationError(
                    _(
                        "The image has too many pixels (%(width)s × %(height)s); at most "
                        "%(megapixels)s megapixels are accepted. Scale it down and try again."
                    )
                    % {"width": image.width, "height": image.height, "megapixels": round(max_pixels / 1e6, 1)}
                )
            if image.format == "JPEG":
                # Decode at the smallest scale still at least as large as what is stored.
                image.draft("RGB", settings.MARKDOWNX_IMAGE_MAX_SIZE["size"])
            image.load()
        except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
            raise forms.ValidationError(_("The file is not a valid image.")) from exc
        return image


_ORIENTATION: dict[object, Image.Transpose] = {  # by the EXIF Orientation value
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


def media_prepare(*, image: Image.Image, original_name: str, alt_text: str, user) -> MediaFile:
    """Store a validated image (re-encoded); its row is returned validated but unsaved."""
    data, extension = _reencode(image)
    width, height = Image.open(io.BytesIO(data)).size
    name = f"{settings.MARKDOWNX_MEDIA_PATH}{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"
    media = MediaFile(
        original_name=original_name[:255],
        alt_text=" ".join(alt_text.split())[:ALT_TEXT_MAX_LENGTH],
        width=width,
        height=height,
        size=len(data),
        uploaded_by=user,
    )
    media.file.name = default_storage.save(name, ContentFile(data))
    try:
        media.full_clean(exclude=["file"])
    except ValidationError:
        default_storage.delete(media.file.name)  # no orphan file without its row
        raise
    return media


def media_create(*, image: Image.Image, original_name: str, alt_text: str, user) -> MediaFile:
    """Store a validated image (re-encoded) and its row."""
    media = media_prepare(image=image, original_name=original_name, alt_text=alt_text, user=user)
    try:
        media.save()
    except Exception:
        default_storage.delete(media.file.name)
        raise
    return media


def media_delete(*, media: MediaFile) -> None:
    """Delete an unused file and its row; the file goes once the deletion is committed."""
    if media.is_used():
        raise ValidationError(
            _("“%(name)s” is used by an article or page; remove it there first.") % {"name": media}
        )
    name = media.file.name
    media.delete()
    transaction.on_commit(lambda: default_storage.delete(name))


def media_search(query: str = "") -> QuerySet[MediaFile]:
    """The library, newest first, filtered by alt text or file name."""
    files = MediaFile.objects.select_related("uploaded_by")
    for term in query.split()[:5]:
        files = files.filter(Q(alt_text__icontains=term) | Q(original_name__icontains=term))
    return files
