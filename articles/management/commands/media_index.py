"""Add images uploaded before the media library existed to it, and record where every file
is used. Idempotent: a file already in the library is left as it is."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from PIL import Image, UnidentifiedImageError

from articles.models import Article, MediaFile, MediaUsage, Page

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")


def _walk(folder: str):
    try:
        directories, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}{name}"
    for directory in directories:
        yield from _walk(f"{folder}{directory}/")


class Command(BaseCommand):
    help = "Add existing uploads to the media library and record where each file is used."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--folder",
            default=settings.MARKDOWNX_MEDIA_PATH,
            help="Folder under MEDIA_ROOT (default: uploads/).",
        )

    def handle(self, *args, folder: str, **options) -> None:
        folder = folder.rstrip("/") + "/"
        known = set(MediaFile.objects.values_list("file", flat=True))
        added = 0
        for name in _walk(folder):
            if name in known or not name.lower().endswith(IMAGE_EXTENSIONS):
                continue
            try:
                with default_storage.open(name) as handle, Image.open(handle) as image:
                    width, height = image.size
            except (UnidentifiedImageError, OSError):
                self.stderr.write(f"Skipped {name}: not a readable image.")
                continue
            MediaFile.objects.create(
                file=name,
                original_name=name.rsplit("/", 1)[-1],
                width=width,
                height=height,
                size=default_storage.size(name),
            )
            added += 1
        for article in Article.objects.only("pk", "body_html").iterator(chunk_size=500):
            MediaUsage.sync(article=article)
        for page in Page.objects.only("pk", "body_html").iterator(chunk_size=500):
            MediaUsage.sync(page=page)
        self.stdout.write(f"Media library: {added} file(s) added, usage recorded for every article and page.")
