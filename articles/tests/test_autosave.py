"""Autosave: the draft being written is kept per editor and article (or page), staff only
and CSRF-checked, offered back only when newer than what is stored, dropped by a save."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from articles.models import EditorAutosave
from articles.tests.factories import ArticleFactory, PageFactory, UserFactory

pytestmark = pytest.mark.django_db

AUTOSAVE = "/editor/autosave/"
DISCARD = "/editor/autosave/discard/"


@pytest.fixture
def editor():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def test_the_draft_is_stored_per_editor_and_article(editor_client, editor):
    article = ArticleFactory()
    fields = {
        "kind": "article",
        "object_id": article.pk,
        "title": "New title",
        "body": "Line\r\nTwo",
        "status": "x",
    }
    response = editor_client.post(AUTOSAVE, fields)
    assert response.status_code == 200 and "saved_at" in response.json()
    editor_client.post(AUTOSAVE, {**fields, "body": "Line\r\nThree"})
    saved = EditorAutosave.objects.get()
    assert (saved.user, saved.kind, saved.object_id) == (editor, "article", article.pk)
    # Only the typed fields, with the textarea's line ends; nothing else is kept.
    assert saved.data == {"title": "New title", "body": "Line\nThree"}
    editor_client.post(AUTOSAVE, {"kind": "article", "object_id": "", "title": "Unsaved one"})
    assert EditorAutosave.objects.get(object_id=0).data == {"title": "Unsaved one"}
    editor_client.post(DISCARD, {"kind": "article", "object_id": article.pk})
    assert list(EditorAutosave.objects.values_list("object_id", flat=True)) == [0]


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "comment", "object_id": "1"},
        {"kind": "article", "object_id": "999999"},
        {"kind": "page", "object_id": "-1"},
    ],
)
def test_unknown_targets_are_a_clear_400(editor_client, fields):
    response = editor_client.post(AUTOSAVE, {**fields, "body": "x"})
    assert response.status_code == 400 and "error" in response.json()
    assert not EditorAutosave.objects.exists()


def test_staff_and_the_csrf_token_are_required(client, editor):
    assert client.post(AUTOSAVE, {"kind": "article", "body": "x"}).status_code == 403
    client.force_login(UserFactory())
    assert client.post(AUTOSAVE, {"kind": "article", "body": "x"}).status_code == 403
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(editor)
    assert checked.post(AUTOSAVE, {"kind": "article", "body": "x"}).status_code == 403
    assert checked.get(AUTOSAVE).status_code == 405
    assert not EditorAutosave.objects.exists()


def test_the_form_offers_a_newer_draft_back_and_a_save_drops_it(editor_client, editor):
    article = ArticleFactory(title="Stored")
    url = f"/admin/articles/article/{article.pk}/change/"
    editor_client.post(AUTOSAVE, {"kind": "article", "object_id": article.pk, "title": "Typed after"})
    response = editor_client.get(url)
    assert response.context["editor_autosave"]["fields"] == {"title": "Typed after"}
    assert 'id="editor-autosave"' in response.content.decode()
    # Older than the stored article (saved elsewhere since): not offered.
    EditorAutosave.objects.update(updated_at=article.updated_at - timedelta(minutes=1))
    assert editor_client.get(url).context["editor_autosave"] is None
    # Saving the page drops its draft.
    page = PageFactory()
    editor_client.post(AUTOSAVE, {"kind": "page", "object_id": page.pk, "title": "Draft"})
    response = editor_client.post(
        f"/admin/articles/page/{page.pk}/change/",
        {
            "title": page.title,
            "slug": page.slug,
            "body": "Saved",
            "is_published": "on",
            "order": 0,
            "_continue": "1",
        },
    )
    assert response.status_code == 302
    assert not EditorAutosave.objects.filter(kind="page").exists()
    assert EditorAutosave.objects.filter(kind="article").exists()  # other drafts stay
    assert timezone.now() >= EditorAutosave.objects.get().updated_at
