"""The writing room's form: Publish now / Schedule / Save draft, the "Scheduled" filter,
tags typed into the tag box, the summary that follows the body, the preview of an unsaved
form, the editor's time zone, and the periodic-task screens kept for superusers."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from articles.models import Article, Category, Tag
from articles.tests.factories import ArticleFactory, DraftFactory, ScheduledFactory, TagFactory, UserFactory
from articles.timezones import EDITOR_TZ_COOKIE

pytestmark = pytest.mark.django_db

ARTICLES = "/admin/articles/article/"


def new_article(staff_client, **changes) -> dict:
    now = timezone.localtime()
    data = {
        "title": "Fresh",
        "slug": "fresh",
        "body": "Some text.",
        "summary": "",
        "summary_is_auto": "on",
        "published_at_0": now.strftime("%Y-%m-%d"),
        "published_at_1": now.strftime("%H:%M:%S"),
        "category": Category.default().pk,
        "author": staff_client.staff_user.pk,
        "source": "original",
        "allow_comments": "on",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("button", "public", "status"),
    [("_draft", False, Article.Status.DRAFT), ("_publish", True, Article.Status.PUBLISHED)],
)
def test_save_draft_and_publish_now_stay_on_the_form(staff_client, button, public, status):
    response = staff_client.post(ARTICLES + "add/", {**new_article(staff_client), button: "1"})
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{ARTICLES}{article.pk}/change/"
    assert (article.status, article.is_public) == (status, public)


def test_schedule_takes_the_time_in_the_editors_zone(staff_client):
    staff_client.cookies[EDITOR_TZ_COOKIE] = "America/New_York"
    zone = ZoneInfo("America/New_York")
    tomorrow = timezone.now().astimezone(zone).date() + timedelta(days=1)
    data = new_article(
        staff_client, published_at_0=tomorrow.isoformat(), published_at_1="09:30:00", _schedule="1"
    )
    response = staff_client.post(ARTICLES + "add/", data, follow=True)
    article = Article.objects.get()
    assert article.is_scheduled
    assert article.published_at == timezone.datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, 9, 30, tzinfo=zone
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("Scheduled for" in m and "America/New_York" in m for m in messages)
    html = response.content.decode()
    assert "In your time zone (America/New_York)" in html
    assert 'value="Update schedule"' in html


def test_schedule_in_the_past_is_a_form_error(staff_client):
    past = timezone.localtime() - timedelta(hours=2)
    data = new_article(
        staff_client,
        published_at_0=past.strftime("%Y-%m-%d"),
        published_at_1=past.strftime("%H:%M:%S"),
        _schedule="1",
    )
    response = staff_client.post(ARTICLES + "add/", data)
    assert response.status_code == 200
    assert "published_at" in response.context["adminform"].form.errors
    assert not Article.objects.exists()


def test_publish_now_moves_a_scheduled_article_to_now_and_back_to_draft(staff_client):
    article = ScheduledFactory(author=staff_client.staff_user)
    url = f"{ARTICLES}{article.pk}/change/"
    local = timezone.localtime(article.published_at)
    data = new_article(
        staff_client,
        title=article.title,
        slug=article.slug,
        category=article.category_id,
        published_at_0=local.strftime("%Y-%m-%d"),
        published_at_1=local.strftime("%H:%M:%S"),
    )
    staff_client.post(url, {**data, "_publish": "1"})
    article.refresh_from_db()
    assert article.is_public and article.published_at <= timezone.now()
    staff_client.post(url, {**data, "_draft": "1"})
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_the_status_filter_has_scheduled(staff_client):
    ArticleFactory(title="Out now")
    ScheduledFactory(title="Coming soon")
    DraftFactory(title="Still writing")
    for value, shown in (("scheduled", "Coming soon"), ("published", "Out now"), ("draft", "Still writing")):
        html = staff_client.get(ARTICLES, {"status__exact": value}).content.decode()
        titles = {"Out now", "Coming soon", "Still writing"}
        assert shown in html
        assert not any(other in html for other in titles - {shown}), value


def test_new_tags_typed_in_the_box_are_created_on_save(staff_client):
    existing = TagFactory(name="Python")
    data = new_article(staff_client, tags=[existing.pk, "new:Django ORM", "new:python", "new:  "], _draft="1")
    assert staff_client.post(ARTICLES + "add/", data).status_code == 302
    article = Article.objects.get()
    # "python" is the existing tag whatever its case; blanks are dropped.
    assert sorted(tag.name for tag in article.tags.all()) == ["Django ORM", "Python"]
    assert Tag.objects.count() == 2
    assert Tag.objects.get(name="Django ORM").slug == "django-orm"


def test_new_tags_need_the_add_tag_permission_and_survive_a_form_error(client):
    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["add_article", "change_article", "view_article", "view_tag", "view_category"]
        )
    )
    client.force_login(editor)
    client.staff_user = editor
    response = client.post(ARTICLES + "add/", new_article(client, tags=["new:Mine"], _draft="1"))
    assert response.status_code == 200
    assert "tags" in response.context["adminform"].form.errors
    # The typed tag is still in the box when the form comes back.
    assert '<option value="new:Mine" selected>Mine</option>' in response.content.decode()
    assert not Tag.objects.exists() and not Article.objects.exists()


def test_the_summary_follows_the_body_until_an_editor_writes_one(staff_client):
    staff_client.post(ARTICLES + "add/", {**new_article(staff_client, body="First words."), "_draft": "1"})
    article = Article.objects.get()
    assert (article.summary, article.summary_is_auto) == ("First words.", True)
    url = f"{ARTICLES}{article.pk}/change/"
    base = new_article(staff_client, summary=article.summary)
    staff_client.post(url, {**base, "body": "Second words.", "_draft": "1"})
    article.refresh_from_db()
    assert article.summary == "Second words."  # followed the new opening
    staff_client.post(url, {**base, "body": "Second words.", "summary": "My own summary.", "_draft": "1"})
    article.refresh_from_db()
    assert (article.summary, article.summary_is_auto) == ("My own summary.", False)
    staff_client.post(
        url, {**base, "body": "Third.", "summary": "My own summary.", "summary_is_auto": "", "_draft": "1"}
    )
    article.refresh_from_db()
    assert article.summary == "My own summary."  # written: kept
    staff_client.post(url, {**base, "body": "Fourth.", "summary": "My own summary.", "_draft": "1"})
    article.refresh_from_db()
    assert (article.summary, article.summary_is_auto) == ("Fourth.", True)  # ticked again: follows


def test_preview_renders_the_unsaved_form(staff_client):
    media_less = new_article(
        staff_client, title="Not saved yet", body="## Part\n\nSome *words*.", tags=["new:Fresh"]
    )
    response = staff_client.post(ARTICLES + "preview/", media_less)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Not saved yet" in html and "<em>words</em>" in html and "#Fresh" in html
    assert 'content="noindex, nofollow"' in html
    assert not Article.objects.exists() and not Tag.objects.exists()
    assert staff_client.get(ARTICLES + "preview/").status_code == 405
    assert staff_client.post("/admin/articles/page/preview/", {"title": "P", "body": "x"}).status_code == 200


def test_periodic_task_screens_are_under_advanced_for_superusers_only(client, staff_client):
    index = staff_client.get("/admin/")
    assert not any(app["app_label"] == "django_celery_beat" for app in index.context["app_list"])
    assert [app["app_label"] for app in index.context["advanced_apps"]] == ["django_celery_beat"]
    assert 'id="advanced-apps"' in index.content.decode()
    assert staff_client.get("/admin/django_celery_beat/periodictask/").status_code == 200
    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(*Permission.objects.filter(content_type__app_label="django_celery_beat"))
    client.force_login(editor)
    assert client.get("/admin/").context["advanced_apps"] == []
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 403


def test_the_article_list_keeps_view_and_preview_links(staff_client):
    ScheduledFactory(title="Coming soon")
    html = staff_client.get(ARTICLES).content.decode()
    assert "editor/admin.css" in html and "Preview" in html


def test_schedule_is_one_labelled_date_time_control_in_the_editors_zone(staff_client):
    staff_client.cookies[EDITOR_TZ_COOKIE] = "Asia/Kolkata"  # a half-hour offset
    html = staff_client.get(ARTICLES + "add/").content.decode()
    assert 'for="id_published_at">' in html
    assert '<input type="datetime-local" name="published_at"' in html and "published_at_0" not in html
    zone = ZoneInfo("Asia/Kolkata")
    tomorrow = timezone.now().astimezone(zone).date() + timedelta(days=1)
    data = new_article(staff_client, _schedule="1", published_at=f"{tomorrow.isoformat()}T09:30")
    del data["published_at_0"], data["published_at_1"]
    staff_client.post(ARTICLES + "add/", data)
    assert Article.objects.get().published_at == timezone.datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, 9, 30, tzinfo=zone
    )


def test_schedule_without_choosing_a_time_takes_the_next_full_hour(staff_client):
    staff_client.cookies[EDITOR_TZ_COOKIE] = "Asia/Kolkata"
    zone = ZoneInfo("Asia/Kolkata")
    draft = DraftFactory(author=staff_client.staff_user, published_at=timezone.now() - timedelta(days=3))
    shown = timezone.localtime(draft.published_at, zone).strftime("%Y-%m-%dT%H:%M:%S")
    data = new_article(staff_client, title=draft.title, slug=draft.slug, published_at=shown, _schedule="1")
    data["initial-published_at"] = shown  # as the form rendered it: untouched
    del data["published_at_0"], data["published_at_1"]
    before = timezone.now().astimezone(zone)
    response = staff_client.post(f"{ARTICLES}{draft.pk}/change/", data, follow=True)
    after = timezone.now().astimezone(zone)
    draft.refresh_from_db()
    hours = {
        (moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)) for moment in (before, after)
    }
    assert draft.is_scheduled and draft.published_at in hours
    assert draft.published_at.astimezone(zone).minute == 0  # o'clock where the editor is, not UTC's
    messages = [str(m) for m in response.context["messages"]]
    assert any("Scheduled for" in m and "Asia/Kolkata" in m for m in messages)
