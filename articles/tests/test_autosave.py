"""Autosave: a new article is a draft from its first autosave; then one autosave per article
(or page), staff only and CSRF-checked, never silently over a newer one from another tab
(409), offered back only when newer than what is stored, dropped by a save."""

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


def test_the_draft_is_stored_once_per_article(editor_client, editor):
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
    version = response.json()["version"]
    editor_client.post(AUTOSAVE, {**fields, "body": "Line\r\nThree", "base": version})
    saved = EditorAutosave.objects.get()
    assert (saved.user, saved.kind, saved.object_id) == (editor, "article", article.pk)
    # Only the typed fields, with the textarea's line ends; nothing else is kept.
    assert saved.data == {"title": "New title", "body": "Line\nThree"}
    # Another editor who has seen it writes over it: still one row for the article.
    other = Client()
    other.force_login(UserFactory(is_staff=True, is_superuser=True))
    answer = other.post(
        AUTOSAVE, {**fields, "body": "Theirs", "base": EditorAutosave.objects.get().updated_at.isoformat()}
    )
    assert answer.status_code == 200
    assert EditorAutosave.objects.get().data["body"] == "Theirs"
    editor_client.post(DISCARD, {"kind": "article", "object_id": article.pk})
    assert not EditorAutosave.objects.exists()


def test_a_new_article_is_a_draft_from_its_first_autosave(editor_client, editor):
    from articles.models import Article

    # Nothing typed yet: nothing made.
    empty = editor_client.post(AUTOSAVE, {"kind": "article", "object_id": "", "title": " ", "body": ""})
    assert empty.status_code == 200 and empty.json()["object_id"] == "" and not Article.objects.exists()
    first = editor_client.post(
        AUTOSAVE,
        {"kind": "article", "object_id": "", "title": "First tab", "slug": "not a slug!", "body": "One"},
    ).json()
    second = editor_client.post(AUTOSAVE, {"kind": "article", "object_id": "", "body": "Second tab"}).json()
    assert first["object_id"] != second["object_id"]  # two "Add article" tabs: two drafts
    draft = Article.objects.get(pk=first["object_id"])
    assert first["change_url"] == f"/admin/articles/article/{draft.pk}/change/"
    assert (draft.title, draft.slug, draft.body, draft.status, draft.author) == (
        "First tab",
        "first-tab",
        "One",
        Article.Status.DRAFT,
        editor,
    )
    untitled = Article.objects.get(pk=second["object_id"])
    assert untitled.title == "Untitled draft" and untitled.status == Article.Status.DRAFT
    # Listed under Drafts, and never to readers.
    listed = editor_client.get("/admin/articles/article/?status__exact=draft").content.decode()
    assert "First tab" in listed and "Untitled draft" in listed
    assert not Article.objects.published().filter(pk=draft.pk).exists()
    # A new page becomes an unpublished page.
    from articles.models import Page

    made = editor_client.post(AUTOSAVE, {"kind": "page", "object_id": "", "title": "About us", "body": "x"})
    page = Page.objects.get(pk=made.json()["object_id"])
    assert (page.title, page.is_published, page.show_in_nav) == ("About us", False, False)


def test_a_newer_autosave_from_another_tab_is_a_conflict_not_an_overwrite(editor_client, editor):
    article = ArticleFactory(title="Stored")
    target = {"kind": "article", "object_id": article.pk}
    first = editor_client.post(AUTOSAVE, {**target, "title": "Tab one", "base": ""}).json()
    other = Client()
    other.force_login(UserFactory(is_staff=True, is_superuser=True, username="bea", first_name="Bea"))
    # Tab two loaded the article before tab one autosaved: it has seen no autosave.
    refused = other.post(AUTOSAVE, {**target, "title": "Tab two", "base": ""})
    assert refused.status_code == 409
    answer = refused.json()
    assert answer["conflict"] and answer["version"] == first["version"]
    assert answer["fields"] == {"title": "Tab one"} and answer["by"] == editor.get_username()
    assert EditorAutosave.objects.get().data == {"title": "Tab one"}  # nothing overwritten
    # A made-up or stale base is refused the same way, never a 500.
    assert other.post(AUTOSAVE, {**target, "title": "x", "base": "garbage" * 20}).status_code == 409
    # Having seen it ("keep my text"), tab two writes over it.
    kept = other.post(AUTOSAVE, {**target, "title": "Tab two", "base": answer["version"]})
    assert kept.status_code == 200
    assert EditorAutosave.objects.get().data == {"title": "Tab two"}
    assert (
        editor_client.post(
            AUTOSAVE, {**target, "title": "Tab one again", "base": first["version"]}
        ).status_code
        == 409
    )


def test_writing_needs_the_add_or_change_permission(client):
    from django.contrib.auth.models import Permission

    writer = UserFactory(is_staff=True)
    client.force_login(writer)
    article = ArticleFactory()
    assert client.post(AUTOSAVE, {"kind": "article", "object_id": "", "body": "x"}).status_code == 403
    assert client.post(AUTOSAVE, {"kind": "article", "object_id": article.pk, "body": "x"}).status_code == 403
    writer.user_permissions.add(Permission.objects.get(codename="add_article"))
    made = Client()
    made.force_login(writer)
    assert made.post(AUTOSAVE, {"kind": "article", "object_id": "", "body": "x"}).status_code == 200


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
    state = response.context["editor_autosave"]
    assert state["pending"] and state["fields"] == {"title": "Typed after"}
    assert state["version"] == EditorAutosave.objects.get().updated_at.isoformat()
    assert 'id="editor-autosave"' in response.content.decode()
    # Older than the stored article (saved elsewhere since): not offered, but its version
    # is the tab's base, so the tab's first autosave replaces it without a conflict.
    EditorAutosave.objects.update(updated_at=article.updated_at - timedelta(minutes=1))
    stale = editor_client.get(url).context["editor_autosave"]
    assert not stale["pending"] and stale["fields"] == {}
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


def test_odd_fields_on_the_first_autosave_still_make_a_draft(editor_client):
    from articles.models import Article

    taken = ArticleFactory(slug="taken")
    odd = {"kind": "article", "object_id": "", "title": "t" * 5000, "slug": "taken", "seo_title": "s" * 5000}
    response = editor_client.post(AUTOSAVE, {**odd, "body": "x\x00y", "base": "\xff" * 500})
    assert response.status_code == 200
    draft = Article.objects.get(pk=response.json()["object_id"])
    assert len(draft.title) == 200 and draft.slug != taken.slug and len(draft.seo_title) <= 200
    for slug in ("-" * 3000, "<script>", "%00"):
        assert editor_client.post(AUTOSAVE, {**odd, "slug": slug}).status_code == 200
