"""manage.py media_index: uploads from before the library become rows, once, with usage."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image

from articles.models import MediaFile, MediaUsage
from articles.tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_existing_uploads_are_added_once_with_their_usage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    folder = Path(settings.MEDIA_ROOT) / "uploads" / "old"
    folder.mkdir(parents=True)
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20)).save(buffer, format="PNG")
    (folder / "pic.png").write_bytes(buffer.getvalue())
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.jpg").write_bytes(b"garbage")
    article = ArticleFactory(body="![old](/media/uploads/old/pic.png)")
    assert not MediaUsage.objects.exists()  # no row for the file yet
    call_command("media_index", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("media_index", stdout=io.StringIO(), stderr=io.StringIO())
    media = MediaFile.objects.get()
    assert (media.file.name, media.width, media.height, media.size) == (
        "uploads/old/pic.png",
        30,
        20,
        len(buffer.getvalue()),
    )
    assert list(media.usages.values_list("article_id", flat=True)) == [article.pk]
