"""The media library: every upload is a row with its alt text, the editor lists and searches
it, usage is kept by the saves of articles and pages, and a used file cannot be deleted."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from articles.media import media_delete
from articles.models import Article, MediaFile, MediaUsage
from articles.tests.factories import ArticleFactory, PageFactory, UserFactory

pytestmark = pytest.mark.django_db

UPLOAD = "/editor/upload/"
LIBRARY = "/editor/media/"
ADMIN = "/admin/articles/mediafile/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def editor_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def png(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client, *, alt="", name="photo.png", data=None):
    return client.post(
        UPLOAD, {"image": SimpleUploadedFile(name, data or png(), content_type="image/png"), "alt": alt}
    )


def test_an_upload_is_a_row_with_its_alt_text_used_in_the_markdown(editor_client, media_root):
    response = upload(editor_client, alt="  A red   [box]  ")
    assert response.status_code == 200
    media = MediaFile.objects.get()
    assert (media.alt_text, media.original_name, media.width, media.height) == (
        "A red [box]",
        "photo.png",
        40,
        30,
    )
    assert media.size == (media_root / media.file.name).stat().st_size
    assert media.uploaded_by.is_staff
    # Brackets in the alt text are escaped so that they cannot end it early.
    assert response.json()["image_code"] == f"![A red \\[box\\]]({media.url})"
    assert response.json()["media"]["id"] == media.pk


def test_a_refused_upload_says_why_and_stores_nothing(editor_client, media_root):
    response = upload(editor_client, alt="text", data=b"not an image at all")
    assert response.status_code == 400
    assert response.json()["error"] == "The file is not a valid image."
    assert not MediaFile.objects.exists()
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_the_library_is_searchable_and_paged_for_staff_only(editor_client, client):
    for alt in ("Harbour at dawn", "Mountain lake", "harbour crane"):
        upload(editor_client, alt=alt)
    results = editor_client.get(LIBRARY, {"q": "HARBOUR"}).json()["results"]
    assert sorted(item["alt"] for item in results) == ["Harbour at dawn", "harbour crane"]
    assert {"url", "markdown", "width", "height"} <= set(results[0])
    first = editor_client.get(LIBRARY).json()
    assert first["page"] == 1 and first["has_next"] is False and len(first["results"]) == 3
    anonymous = client.__class__()
    assert anonymous.get(LIBRARY).status_code == 403
    reader = UserFactory()
    client.force_login(reader)
    assert client.get(LIBRARY).status_code == 403


def test_usage_follows_the_bodies_and_the_featured_image(editor_client):
    first = MediaFile.objects.get(pk=upload(editor_client, alt="one").json()["media"]["id"])
    second = MediaFile.objects.get(pk=upload(editor_client, alt="two").json()["media"]["id"])
    article = ArticleFactory(body=f"Text\n\n{first.markdown()}")
    page = PageFactory(body=f"![x](http://testserver{second.url})")
    assert set(MediaUsage.objects.values_list("media_id", "article_id", "page_id")) == {
        (first.pk, article.pk, None),
        (second.pk, None, page.pk),
    }
    assert first.is_used() and second.is_used()
    article.body = "No image now"
    article.featured_image = second
    article.save()
    assert not first.is_used()
    assert list(second.featured_in.all()) == [article]
    assert not MediaUsage.objects.filter(article=article).exists()


def test_a_used_file_cannot_be_deleted_an_unused_one_goes_with_its_file(
    editor_client, media_root, django_capture_on_commit_callbacks
):
    used = MediaFile.objects.get(pk=upload(editor_client, alt="used").json()["media"]["id"])
    unused = MediaFile.objects.get(pk=upload(editor_client, alt="unused").json()["media"]["id"])
    ArticleFactory(body=used.markdown())
    assert editor_client.get(f"{ADMIN}{used.pk}/delete/").status_code == 403
    assert "Not used" in editor_client.get(f"{ADMIN}{unused.pk}/change/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the file goes once the row is gone
        response = editor_client.post(
            ADMIN,
            {"action": "delete_selected", "_selected_action": [used.pk, unused.pk], "post": "yes"},
            follow=True,
        )
    assert response.status_code == 200
    assert "left out" in response.content.decode()
    assert list(MediaFile.objects.all()) == [used]
    assert (media_root / used.file.name).is_file()
    assert not (media_root / unused.file.name).exists()
    with pytest.raises(Exception, match="used by an article"):
        media_delete(media=used)


def test_the_admin_lists_searches_and_adds_with_the_same_checks(editor_client):
    upload(editor_client, alt="Harbour at dawn")
    html = editor_client.get(ADMIN, {"q": "harbour"}).content.decode()
    assert "Harbour at dawn" in html and "40 × 30" in html and 'class="media-thumb"' in html
    bad = editor_client.post(
        f"{ADMIN}add/",
        {"alt_text": "x", "upload": SimpleUploadedFile("a.png", b"<svg/>", content_type="image/png")},
    )
    assert bad.status_code == 200 and "upload" in bad.context["adminform"].form.errors
    good = editor_client.post(
        f"{ADMIN}add/",
        {
            "alt_text": "Added in the admin",
            "upload": SimpleUploadedFile("b.png", png(), content_type="image/png"),
        },
    )
    assert good.status_code == 302
    media = MediaFile.objects.get(alt_text="Added in the admin")
    assert (media.original_name, media.width) == ("b.png", 40)
    assert editor_client.get(f"{ADMIN}{media.pk}/change/").status_code == 200


def test_the_article_form_picks_a_featured_image(editor_client):
    media = MediaFile.objects.get(pk=upload(editor_client, alt="cover").json()["media"]["id"])
    article = ArticleFactory(featured_image=media)
    html = editor_client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()
    assert f'name="featured_image" value="{media.pk}"' in html and media.url in html
    assert Article.objects.get().og_image_url == media.url


def test_an_image_in_use_says_by_what_with_links_and_why_it_has_no_delete_button(editor_client, media_root):
    media = MediaFile.objects.get(pk=upload(editor_client, alt="shared").json()["media"]["id"])
    article = ArticleFactory(title="Uses it", body=media.markdown())
    featured = ArticleFactory(title="Features it", featured_image=media)
    page = PageFactory(title="About", body=media.markdown())
    html = editor_client.get(f"{ADMIN}{media.pk}/change/").content.decode()
    assert "In use by" in html
    for owner, kind in ((article, "article"), (featured, "article"), (page, "page")):
        assert f'<a href="/admin/articles/{kind}/{owner.pk}/change/">{owner.title}</a>' in html
    assert "There is no Delete button while it is in use" in html
    assert f'href="{ADMIN}{media.pk}/delete/"' not in html
