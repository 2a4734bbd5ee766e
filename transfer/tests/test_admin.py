"""The admin import (upload, preview, run, report) and the site download, for superusers only."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from articles.models import Article
from articles.tests.factories import UserFactory
from transfer.models import ImportJob

from .builders import DATA

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.BLOG_IMPORT_DIR = str(tmp_path / "imports")
    return tmp_path / "imports"


def _upload(name: str, path) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, path.read_bytes())


def test_upload_preview_then_import_with_a_report(staff_client, import_dir):
    response = staff_client.post(
        reverse("admin:transfer_importjob_add"),
        {
            "kind": "ghost",
            "export": _upload("export.json", DATA / "ghost-export.json"),
            "media": _upload("images.tar.gz", DATA / "ghost-images.tar.gz"),
        },
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/change/")
    assert Article.objects.count() == 0  # a preview writes nothing
    page = staff_client.get(response["Location"]).content.decode()
    assert "posts (published)" in page and "<td>7</td>" in page

    response = staff_client.post(reverse("admin:transfer_importjob_run", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.done == job.total == 12
    assert Article.objects.filter(status=Article.Status.PUBLISHED).count() == 8
    assert not any(import_dir.iterdir())  # the uploads are gone once imported
    page = staff_client.get(response["Location"]).content.decode()
    assert "Imported: 10 articles" in page
    # Started twice: refused, nothing imported again.
    staff_client.post(reverse("admin:transfer_importjob_run", args=[job.pk]))
    assert Article.objects.count() == 10


def test_a_file_that_is_not_an_export_is_a_form_error(staff_client):
    response = staff_client.post(
        reverse("admin:transfer_importjob_add"),
        {"kind": "wordpress", "export": SimpleUploadedFile("x.xml", b"<html>nope")},
    )
    assert response.status_code == 200
    assert "not well-formed XML" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_deleting_a_job_that_was_not_run_deletes_its_uploads(staff_client, import_dir):
    staff_client.post(
        reverse("admin:transfer_importjob_add"),
        {"kind": "ghost", "export": _upload("export.json", DATA / "ghost-export.json")},
    )
    job = ImportJob.objects.get()
    assert any(import_dir.iterdir())
    staff_client.post(reverse("admin:transfer_importjob_delete", args=[job.pk]), {"post": "yes"})
    assert not ImportJob.objects.exists() and not any(import_dir.iterdir())


def test_other_staff_cannot_import_or_download(client):
    editor = UserFactory(is_staff=True)
    client.force_login(editor)
    assert client.get(reverse("admin:transfer_importjob_add")).status_code == 403
    assert client.get(reverse("admin:transfer_export_site")).status_code == 403


def test_superusers_download_the_whole_site_as_a_zip(staff_client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    Article.objects.create(title="Zipped", body="Hello", author=user)
    response = staff_client.get(reverse("admin:transfer_export_site"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "site.json" in archive.namelist() and "articles/zipped.md" in archive.namelist()


def test_an_upload_folder_that_cannot_be_written_is_a_form_error(staff_client, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.BLOG_IMPORT_DIR = str(blocker)
    response = staff_client.post(
        reverse("admin:transfer_importjob_add"),
        {"kind": "ghost", "export": _upload("export.json", DATA / "ghost-export.json")},
    )
    assert response.status_code == 200
    assert "The upload could not be stored" in response.content.decode()


def test_a_downloaded_site_zip_is_uploaded_back(staff_client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    Article.objects.create(
        title="Round trip", body="Hello **there**", author=user, status=Article.Status.PUBLISHED
    )
    download = b"".join(staff_client.get(reverse("admin:transfer_export_site")).streaming_content)
    Article.objects.all().delete()
    response = staff_client.post(
        reverse("admin:transfer_importjob_add"),
        {"kind": "site", "export": SimpleUploadedFile("site.zip", download)},
    )
    job = ImportJob.objects.get()
    assert "<td>1</td>" in staff_client.get(response["Location"]).content.decode()
    staff_client.post(reverse("admin:transfer_importjob_run", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE, job.error
    assert Article.objects.get(slug="round-trip").body_html.startswith("<p>Hello <strong>there</strong>")


def test_a_zip_with_paths_outside_its_folder_is_refused(staff_client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("site.json", "{}")
        archive.writestr("../../evil.md", "x")
    response = staff_client.post(
        reverse("admin:transfer_importjob_add"),
        {"kind": "site", "export": SimpleUploadedFile("site.zip", buffer.getvalue())},
    )
    assert response.status_code == 200 and "outside its folder" in response.content.decode()
    assert not ImportJob.objects.exists()
