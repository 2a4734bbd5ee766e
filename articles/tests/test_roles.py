"""Roles (articles/roles.py): what a contributor, author, editor and administrator may do,
held on the server (forged posts refused with 403 and nothing changed); the review flow;
restore of content only; the history in words; and stale forms refused (optimistic lock)."""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from articles import roles
from articles.models import Article, EditorAutosave, MediaFile, Page
from articles.tasks import send_review_mail
from articles.tests.factories import ArticleFactory, CategoryFactory, DraftFactory, PageFactory, UserFactory

pytestmark = pytest.mark.django_db

ARTICLES = "/admin/articles/article/"


def member(role: str, **fields):
    roles.ensure_role_groups()  # a flushed database has none (the migration made them once)
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def contributor():
    return member(roles.CONTRIBUTOR, username="cora", email="cora@example.com")


@pytest.fixture
def author():
    return member(roles.AUTHOR, username="arthur", email="arthur@example.com")


@pytest.fixture
def editor():
    return member(roles.EDITOR, username="edith", email="edith@example.com")


def form_data(article: Article, **changes) -> dict:
    local = timezone.localtime(article.published_at)
    data = {
        "title": article.title,
        "slug": article.slug,
        "body": article.body,
        "summary": article.summary,
        "summary_is_auto": "on" if article.summary_is_auto else "",
        "published_at_0": local.strftime("%Y-%m-%d"),
        "published_at_1": local.strftime("%H:%M:%S"),
        "category": article.category_id,
        "tags": [tag.pk for tag in article.tags.all()],
        "allow_comments": "on",
        "author": article.author_id,
        "source": "original",
        "source_url": "",
        "_continue": "1",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def history_notes(client, article) -> list[str]:
    rows = client.get(f"{ARTICLES}{article.pk}/history/").context["rows"]
    return [row["version"].revision.get_comment() for row in rows]


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("a.png", buffer.getvalue(), content_type="image/png")


# --- The groups -----------------------------------------------------------------------


def test_the_migrations_made_the_four_roles():
    """Not ensure_role_groups: what migrate itself left (this test's database is not flushed)."""
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Contributor", "Author", "Editor", "Administrator"} <= names

    def codes(name):
        return set(
            Group.objects.get(name=name).permissions.values_list("content_type__app_label", "codename")
        )

    assert ("articles", "add_article") in codes("Contributor")
    assert ("articles", "publish_article") not in codes("Contributor")
    assert ("articles", "publish_article") in codes("Author")
    assert ("articles", "edit_others_article") not in codes("Author")
    editor = codes("Editor")
    assert {
        ("articles", "edit_others_article"),
        ("articles", "change_page"),
        ("articles", "delete_mediafile"),
    } <= editor
    assert ("comments", "change_comment") in editor
    assert ("articles", "change_sitesettings") not in editor and ("auth", "change_user") not in editor
    administrator = codes("Administrator")
    assert {
        ("articles", "change_sitesettings"),
        ("auth", "change_user"),
        ("comments", "change_comment"),
    } <= administrator


# --- Contributor ----------------------------------------------------------------------


def test_a_contributor_lists_and_opens_only_their_own_articles(client, contributor):
    own, other = DraftFactory(author=contributor, title="Mine"), DraftFactory(title="Theirs")
    client.force_login(contributor)
    listed = list(client.get(ARTICLES).context["cl"].result_list)
    assert listed == [own]
    assert client.get(f"{ARTICLES}{own.pk}/change/").status_code == 200
    assert client.get(f"{ARTICLES}{other.pk}/change/").status_code == 302  # "does not exist"
    response = client.post(f"{ARTICLES}{other.pk}/change/", form_data(other, title="Hijacked"))
    assert response.status_code == 302
    assert Article.objects.get(pk=other.pk).title == "Theirs"


def test_a_contributor_sees_no_publish_button_and_may_pick_only_themselves(client, contributor, editor):
    client.force_login(contributor)
    response = client.get(f"{ARTICLES}add/")
    html = response.content.decode()
    assert 'name="_publish"' not in html and 'name="_schedule"' not in html
    assert 'name="_submit_review"' in html
    authors = list(response.context["adminform"].form.fields["author"].queryset)
    assert authors == [contributor]


@pytest.mark.parametrize("button", ["_publish", "_schedule"])
def test_a_forged_publish_by_a_contributor_is_refused_and_changes_nothing(client, contributor, button):
    draft = DraftFactory(author=contributor, title="Draft title", body="Draft body")
    client.force_login(contributor)
    later = timezone.localtime(timezone.now() + timedelta(days=3))
    data = form_data(
        draft,
        title="Changed",
        _continue="",
        published_at_0=later.strftime("%Y-%m-%d"),
        published_at_1=later.strftime("%H:%M:%S"),
        **{button: "1"},
    )
    response = client.post(f"{ARTICLES}{draft.pk}/change/", data)
    assert response.status_code == 403
    draft.refresh_from_db()
    assert (draft.status, draft.title) == (Article.Status.DRAFT, "Draft title")
    # A new article posted with Publish now: refused too, nothing stored.
    new = form_data(draft, title="Brand new", slug="brand-new", _continue="", **{button: "1"})
    assert client.post(f"{ARTICLES}add/", new).status_code == 403
    assert not Article.objects.filter(title="Brand new").exists()


def test_a_forged_bulk_publish_by_a_contributor_is_refused(client, contributor):
    draft = DraftFactory(author=contributor)
    client.force_login(contributor)
    for action in ("publish_selected", "unpublish_selected"):
        response = client.post(ARTICLES, {"action": action, "_selected_action": [draft.pk]})
        assert response.status_code == 403
    assert Article.objects.get(pk=draft.pk).status == Article.Status.DRAFT


def test_a_contributor_cannot_edit_their_article_once_published(client, contributor):
    live = ArticleFactory(author=contributor, title="Live")
    client.force_login(contributor)
    response = client.post(f"{ARTICLES}{live.pk}/change/", form_data(live, title="Edited after publishing"))
    assert response.status_code == 403
    response = client.post(f"{ARTICLES}{live.pk}/change/", form_data(live, _continue="", _draft="1"))
    assert response.status_code == 403
    live.refresh_from_db()
    assert (live.title, live.status) == ("Live", Article.Status.PUBLISHED)
    assert client.post(f"{ARTICLES}{live.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Article.objects.filter(pk=live.pk).exists()


def test_a_contributor_uploads_only_into_their_own_articles(client, contributor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    own, other = DraftFactory(author=contributor), DraftFactory()
    client.force_login(contributor)
    assert client.post("/editor/upload/", {"image": png()}).status_code == 403  # no article named
    assert (
        client.post(f"/editor/upload/?kind=article&object_id={other.pk}", {"image": png()}).status_code == 403
    )
    assert client.post("/editor/upload/?kind=page&object_id=", {"image": png()}).status_code == 403
    assert MediaFile.objects.count() == 0
    assert (
        client.post(f"/editor/upload/?kind=article&object_id={own.pk}", {"image": png()}).status_code == 200
    )
    assert (
        client.post("/editor/upload/?kind=article&object_id=", {"image": png()}).status_code == 200
    )  # new one
    other_in_post = {"image": png(), "kind": "article", "object_id": other.pk}
    assert client.post("/editor/upload/", other_in_post).status_code == 403
    assert MediaFile.objects.filter(uploaded_by=contributor).count() == 2
    # The library: no admin screen, and the editor's dialog lists only their own uploads.
    MediaFile.objects.create(file="uploads/x.png", uploaded_by=UserFactory(), width=1, height=1)
    assert client.get("/admin/articles/mediafile/").status_code == 403
    listed = client.get("/editor/media/").json()["results"]
    assert len(listed) == 2


def test_autosave_only_into_what_the_user_may_edit(client, contributor):
    own, other, page = DraftFactory(author=contributor), DraftFactory(), PageFactory()
    client.force_login(contributor)
    for kind, object_id in (("article", other.pk), ("page", page.pk), ("page", "")):
        response = client.post("/editor/autosave/", {"kind": kind, "object_id": object_id, "body": "x"})
        assert response.status_code == 403
    assert not EditorAutosave.objects.exists()
    ok = client.post("/editor/autosave/", {"kind": "article", "object_id": own.pk, "body": "mine"})
    assert ok.status_code == 200


def test_the_public_preview_of_a_draft_is_for_those_who_may_see_it(client, contributor, editor):
    own, other = DraftFactory(author=contributor), DraftFactory()
    client.force_login(contributor)
    assert client.get(own.get_absolute_url()).status_code == 200
    assert client.get(other.get_absolute_url()).status_code == 404
    client.force_login(editor)
    assert client.get(other.get_absolute_url()).status_code == 200


# --- Author and editor ----------------------------------------------------------------


def test_an_author_publishes_their_own_articles_only(client, author):
    own, other = DraftFactory(author=author), DraftFactory()
    client.force_login(author)
    response = client.post(f"{ARTICLES}{own.pk}/change/", form_data(own, _continue="", _publish="1"))
    assert response.status_code == 302
    assert Article.objects.get(pk=own.pk).is_public
    client.post(ARTICLES, {"action": "publish_selected", "_selected_action": [other.pk]})
    assert Article.objects.get(pk=other.pk).status == Article.Status.DRAFT
    response = client.post(f"{ARTICLES}{own.pk}/change/", form_data(own, _continue="", _draft="1"))
    assert response.status_code == 302
    assert Article.objects.get(pk=own.pk).status == Article.Status.DRAFT


def test_an_editor_edits_anyones_article_and_picks_any_staff_author(client, editor, contributor):
    theirs = DraftFactory(author=contributor)
    reader = UserFactory(username="reader")
    client.force_login(editor)
    authors = set(
        client.get(f"{ARTICLES}{theirs.pk}/change/").context["adminform"].form.fields["author"].queryset
    )
    assert {editor, contributor} <= authors and reader not in authors
    response = client.post(f"{ARTICLES}{theirs.pk}/change/", form_data(theirs, _continue="", _publish="1"))
    assert response.status_code == 302
    assert Article.objects.get(pk=theirs.pk).is_public
    forged = client.post(f"{ARTICLES}{theirs.pk}/change/", form_data(theirs, author=reader.pk))
    assert list(forged.context["adminform"].form.errors) == ["author"]  # not a choice
    assert Article.objects.get(pk=theirs.pk).author == contributor


def test_pages_site_settings_and_users_by_role(client, author, editor):
    page = PageFactory()
    client.force_login(author)
    assert client.get(f"/admin/articles/page/{page.pk}/change/").status_code == 403
    client.force_login(editor)
    assert client.get(f"/admin/articles/page/{page.pk}/change/").status_code == 200
    assert client.get("/admin/comments/comment/").status_code == 200
    assert client.get("/admin/articles/sitesettings/1/change/").status_code == 403
    assert client.get("/admin/auth/user/").status_code == 403
    administrator = member(roles.ADMINISTRATOR, username="ada")
    client.force_login(administrator)
    assert client.get("/admin/auth/user/").status_code == 200
    assert client.get(f"/admin/articles/page/{page.pk}/change/").status_code == 200


# --- Review ---------------------------------------------------------------------------


def test_submit_for_review_tells_the_editors_and_the_editor_sends_it_back(
    client, contributor, editor, django_capture_on_commit_callbacks
):
    draft = DraftFactory(author=contributor, title="For review")
    client.force_login(contributor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{ARTICLES}{draft.pk}/change/", form_data(draft, _continue="", _submit_review="1")
        )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT and draft.review_requested_at is not None
    assert draft.review_told_at is not None
    assert [message.to for message in mail.outbox] == [["edith@example.com"]]
    assert "For review" in mail.outbox[0].body and "status__exact=pending" in mail.outbox[0].body
    assert "Pending review" in client.get(f"{ARTICLES}{draft.pk}/change/").content.decode()

    client.force_login(editor)
    pending = client.get(ARTICLES, {"status__exact": "pending"}).context["cl"].result_list
    assert list(pending) == [draft]
    page = client.get(f"{ARTICLES}{draft.pk}/change/").content.decode()
    assert 'name="_send_back"' in page and 'name="_publish"' in page
    data = form_data(draft, _continue="", _send_back="1", review_note="Cite your sources, please.")
    assert client.post(f"{ARTICLES}{draft.pk}/change/", data).status_code == 302
    draft.refresh_from_db()
    assert draft.review_requested_at is None and draft.review_note == "Cite your sources, please."
    assert not client.get(ARTICLES, {"status__exact": "pending"}).context["cl"].result_list

    client.force_login(contributor)
    shown = messages_of(client.get(f"{ARTICLES}{draft.pk}/change/"))
    assert "Sent back by the editor: Cite your sources, please." in shown
    notes = history_notes(client, draft)
    assert notes[0].startswith("Sent back: Cite your sources, please.")
    assert notes[1].startswith("Submitted for review.")


def test_a_contributor_cannot_send_back_or_review(client, contributor):
    draft = DraftFactory(author=contributor, review_requested_at=timezone.now())
    client.force_login(contributor)
    data = form_data(draft, _continue="", _send_back="1", review_note="self-approved")
    assert client.post(f"{ARTICLES}{draft.pk}/change/", data).status_code == 403
    assert Article.objects.get(pk=draft.pk).review_requested_at is not None


def test_the_editor_publishes_a_submission(client, contributor, editor):
    draft = DraftFactory(
        author=contributor, review_requested_at=timezone.now(), review_told_at=timezone.now()
    )
    client.force_login(editor)
    response = client.post(f"{ARTICLES}{draft.pk}/change/", form_data(draft, _continue="", _publish="1"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_public and draft.review_requested_at is None
    assert history_notes(client, draft)[0].startswith("Published.")


def test_the_daily_digest_setting_waits_for_the_periodic_task(
    client, contributor, editor, settings, django_capture_on_commit_callbacks
):
    settings.BLOG_REVIEW_MAIL = "daily"
    first, second = (
        DraftFactory(author=contributor, title="One"),
        DraftFactory(author=contributor, title="Two"),
    )
    client.force_login(contributor)
    with django_capture_on_commit_callbacks(execute=True):
        for draft in (first, second):
            client.post(f"{ARTICLES}{draft.pk}/change/", form_data(draft, _continue="", _submit_review="1"))
    assert mail.outbox == []
    assert send_review_mail() is True
    assert len(mail.outbox) == 1 and "One" in mail.outbox[0].body and "Two" in mail.outbox[0].body
    assert send_review_mail() is False  # each submission is told once


# --- Restore keeps status and time ------------------------------------------------------


def test_restoring_the_first_draft_version_of_a_live_article_keeps_it_live(client, editor):
    client.force_login(editor)
    draft = DraftFactory(author=editor, title="First title", body="The first text.")
    url = f"{ARTICLES}{draft.pk}/change/"
    client.post(url, form_data(draft))  # the first version: a draft
    client.post(url, form_data(draft, title="Live title", body="The live text.", _continue="", _publish="1"))
    live = Article.objects.get(pk=draft.pk)
    assert live.is_public
    published_at = live.published_at
    rows = client.get(f"{ARTICLES}{live.pk}/history/").context["rows"]
    response = client.post(rows[-1]["restore"], follow=True)
    live.refresh_from_db()
    assert (live.title, live.body) == ("First title", "The first text.")
    assert live.is_public and live.published_at == published_at and live.slug == draft.slug
    assert client.get(live.get_absolute_url()).status_code == 200
    [message] = messages_of(response)
    assert "Title" in message and "Body" in message and "readers see it was not changed" in message
    assert "Status" not in message
    assert history_notes(client, live)[0].startswith("Restored version of ")


def test_restoring_within_the_scheduling_window_does_not_reschedule(client, editor):
    client.force_login(editor)
    article = ArticleFactory(author=editor, body="Old text")
    url = f"{ARTICLES}{article.pk}/change/"
    later = timezone.localtime(timezone.now() + timedelta(days=5))
    client.post(
        url,
        form_data(
            article,
            published_at_0=later.strftime("%Y-%m-%d"),
            published_at_1=later.strftime("%H:%M:%S"),
            _continue="",
            _schedule="1",
        ),
    )
    article.refresh_from_db()
    assert article.is_scheduled
    client.post(url, form_data(article, body="Newer text", _continue="", _publish="1"))
    article.refresh_from_db()
    assert article.is_public
    scheduled_row = client.get(f"{ARTICLES}{article.pk}/history/").context["rows"][1]
    client.post(scheduled_row["restore"])
    article.refresh_from_db()
    assert article.is_public and article.body == "Old text"


# --- History in words ------------------------------------------------------------------


def test_the_history_says_what_happened_and_who_did_it(client, editor):
    client.force_login(editor)
    article = DraftFactory(author=editor, category=CategoryFactory())
    url = f"{ARTICLES}{article.pk}/change/"
    client.post(url, form_data(article, body="Changed body"))
    client.post(url, form_data(article, _continue="", _publish="1"))
    article.refresh_from_db()
    client.post(url, form_data(article, _continue="", _draft="1"))
    later = timezone.now() + timedelta(days=3)
    client.post(
        url,
        form_data(
            article,
            published_at_0=later.strftime("%Y-%m-%d"),
            published_at_1=later.strftime("%H:%M:%S"),
            _continue="",
            _schedule="1",
        ),
    )
    rows = client.get(f"{ARTICLES}{article.pk}/history/").context["rows"]
    notes = [row["version"].revision.get_comment() for row in rows]
    assert re.match(r"Scheduled for .+ \([A-Za-z_]+/[A-Za-z_]+\)\.", notes[0])  # the time and its zone
    assert notes[1].startswith("Unpublished.")
    assert notes[2].startswith("Published.")
    assert notes[3].startswith("Changed Body")
    assert {row["version"].revision.user for row in rows[:4]} == {editor}


# --- Two editors, one article ------------------------------------------------------------


def loaded(client, url) -> dict:
    """What the change form holds when it is opened (the lock token included)."""
    form = client.get(url).context["adminform"].form
    return {"lock_token": form["lock_token"].value()}


def test_a_stale_form_is_refused_and_keeps_what_its_editor_typed(client, editor):
    other = member(roles.EDITOR, username="bert")
    article = ArticleFactory(author=editor, title="Old title", body="Old body")
    url = f"{ARTICLES}{article.pk}/change/"
    client.force_login(editor)
    a_form = loaded(client, url)
    client.force_login(other)
    b_form = loaded(client, url)

    client.force_login(editor)
    assert client.post(url, form_data(article, title="A's title", **a_form)).status_code == 302
    client.force_login(other)
    response = client.post(url, form_data(article, body="B's new paragraph", **b_form))
    assert response.status_code == 200
    html = response.content.decode()
    assert "edith saved this article" in html and "Nothing was saved" in html
    assert f'href="{url}"' in html  # the newer version
    assert "B&#x27;s new paragraph" in html or "B's new paragraph" in html
    article.refresh_from_db()
    assert (article.title, article.body) == ("A's title", "Old body")
    # The form shown again carries the newer stamp: saving it now replaces on purpose.
    again = response.context["adminform"].form["lock_token"].value()
    assert again != b_form["lock_token"]
    assert client.post(url, form_data(article, body="B's new paragraph", lock_token=again)).status_code == 302
    article.refresh_from_db()
    assert (article.title, article.body) == ("A's title", "B's new paragraph")


def test_a_stale_page_form_is_refused_too(client, editor):
    page = Page.objects.create(title="About", body="One")
    url = f"/admin/articles/page/{page.pk}/change/"
    client.force_login(editor)
    token = loaded(client, url)["lock_token"]
    base = {"title": "About", "slug": page.slug, "is_published": "on", "order": 0, "_continue": "1"}
    assert client.post(url, {**base, "body": "Two", "lock_token": token}).status_code == 302
    response = client.post(url, {**base, "body": "Three", "lock_token": token})
    assert response.status_code == 200 and "Nothing was saved" in response.content.decode()
    assert Page.objects.get(pk=page.pk).body == "Two"


def test_a_mangled_lock_token_is_a_clear_refusal_not_an_error(client, editor):
    article = ArticleFactory(author=editor, title="Kept")
    client.force_login(editor)
    url = f"{ARTICLES}{article.pk}/change/"
    response = client.post(url, form_data(article, title="New", lock_token="x" * 5000))
    assert response.status_code == 200 and "Nothing was saved" in response.content.decode()
    assert Article.objects.get(pk=article.pk).title == "Kept"


def test_the_preview_renders_a_stale_form_and_is_closed_to_staff_without_a_role(client, editor):
    article = ArticleFactory(author=editor, title="Previewed")
    client.force_login(editor)
    response = client.post(f"{ARTICLES}preview/", form_data(article, body="Fresh *text*", lock_token="stale"))
    assert response.status_code == 200 and "<em>text</em>" in response.content.decode()
    client.force_login(UserFactory(is_staff=True))
    assert client.post(f"{ARTICLES}preview/", form_data(article)).status_code == 403


def test_a_contributor_picks_a_featured_image_only_from_their_own_uploads(client, contributor):
    theirs = MediaFile.objects.create(file="uploads/theirs.png", uploaded_by=UserFactory(), width=1, height=1)
    mine = MediaFile.objects.create(file="uploads/mine.png", uploaded_by=contributor, width=1, height=1)
    draft = DraftFactory(author=contributor)
    client.force_login(contributor)
    url = f"{ARTICLES}{draft.pk}/change/"
    refused = client.post(url, form_data(draft, featured_image=theirs.pk))
    assert list(refused.context["adminform"].form.errors) == ["featured_image"]  # not a choice
    assert Article.objects.get(pk=draft.pk).featured_image is None
    assert client.post(url, form_data(draft, featured_image=mine.pk)).status_code == 302
    assert Article.objects.get(pk=draft.pk).featured_image == mine


def test_editors_see_the_traffic_authors_do_not(client, author, editor):
    client.force_login(author)
    assert client.get("/admin/stats/dailystat/").status_code == 403
    client.force_login(editor)
    assert client.get("/admin/stats/dailystat/").status_code == 200


def test_reversions_own_revert_and_recover_cannot_go_around_the_roles(client, contributor, editor):
    """django-reversion's revert form would put back the status too (a contributor's live
    article back to draft); its recovery of deleted articles is for editors."""
    article = DraftFactory(author=contributor, title="Draft")
    client.force_login(contributor)
    client.post(f"{ARTICLES}{article.pk}/change/", form_data(article, body="First"))
    Article.objects.filter(pk=article.pk).update(status=Article.Status.PUBLISHED)  # an editor published it
    version = client.get(f"{ARTICLES}{article.pk}/history/").context["rows"][0]["version"]
    revert = f"{ARTICLES}{article.pk}/history/{version.pk}/"
    assert client.post(revert, form_data(article, title="Reverted", _draft="1")).status_code == 405
    article.refresh_from_db()
    assert (article.status, article.title) == (Article.Status.PUBLISHED, "Draft")
    assert client.get(revert).url == f"{ARTICLES}{article.pk}/history/{version.pk}/compare/"
    assert client.get(f"{ARTICLES}recover/").status_code == 403
    assert client.get(f"{ARTICLES}recover/{version.pk}/").status_code == 403
    client.force_login(editor)
    assert client.get(f"{ARTICLES}recover/").status_code == 200


@pytest.mark.parametrize("role", [roles.CONTRIBUTOR, roles.AUTHOR, roles.EDITOR, roles.ADMINISTRATOR])
def test_every_role_finds_its_writing_room(client, role):
    user = member(role, username=f"someone-{role.lower()}")
    own = DraftFactory(author=user)
    client.force_login(user)
    for url in (
        "/admin/",
        ARTICLES,
        f"{ARTICLES}add/",
        f"{ARTICLES}{own.pk}/change/",
        f"{ARTICLES}{own.pk}/history/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get(ARTICLES, {"status__exact": "pending", "q": "x"}).status_code == 200
