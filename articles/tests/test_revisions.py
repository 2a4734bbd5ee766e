"""Revisions of articles and pages (django-reversion): every admin save keeps a version,
the history shows a readable diff, and one click restores an older version as a new one."""

import pytest
from django.utils import timezone

from articles.models import Article, Category, Page, Tag
from articles.revisions import changes_between, text_diff_html
from articles.tests.factories import ArticleFactory, CategoryFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

ARTICLES = "/admin/articles/article/"


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


def test_text_diff_marks_changed_words_and_folds_the_rest():
    old = "\n".join(f"line {n}" for n in range(20)) + "\nThe quick brown fox"
    new = "\n".join(f"line {n}" for n in range(20)) + "\nThe slow brown <fox>"
    html = str(text_diff_html(old, new))
    assert "<del>quick</del>" in html and "<ins>slow</ins>" in html
    assert "&lt;" in html and "<fox>" not in html  # escaped
    assert "line 3<" not in html  # far from the change: folded away
    assert "line 19" in html  # context


def test_restore_brings_back_text_and_tags_as_a_new_version(staff_client):
    old_tag, new_tag = TagFactory(name="old"), TagFactory(name="new")
    article = ArticleFactory(body="## First\n\nThe **first** text.", tags=[old_tag])
    url = f"{ARTICLES}{article.pk}/change/"
    assert staff_client.post(url, form_data(article)).status_code == 302
    assert (
        staff_client.post(url, form_data(article, body="Second text.", tags=[new_tag.pk])).status_code == 302
    )
    Article.objects.filter(pk=article.pk).update(view_count=42, comment_count=3)  # counted meanwhile

    history = staff_client.get(f"{ARTICLES}{article.pk}/history/")
    assert history.status_code == 200
    rows = history.context["rows"]
    assert len(rows) == 3 and rows[0]["is_current"]  # with the state before the first edit
    first_version = rows[1]["version"]
    compare = staff_client.get(rows[0]["compare_previous"])
    labels = [change.label for change in compare.context["changes"]]
    assert "Body" in labels and "Tags" in labels
    tags_change = next(change for change in compare.context["changes"] if change.label == "Tags")
    assert (tags_change.old, tags_change.new) == ("old", "new")

    assert staff_client.get(rows[1]["restore"]).status_code == 405  # a state change: POST only
    response = staff_client.post(rows[1]["restore"])
    assert response.status_code == 302 and response["Location"] == url
    article.refresh_from_db()
    assert article.body == "## First\n\nThe **first** text."
    assert "<strong>first</strong>" in article.body_html  # rendered again on restore
    assert list(article.tags.all()) == [old_tag]
    assert (article.view_count, article.comment_count) == (42, 3)  # counters are not history
    versions = staff_client.get(f"{ARTICLES}{article.pk}/history/").context["rows"]
    assert len(versions) == 4 and "Restored" in versions[0]["version"].revision.get_comment()
    assert versions[0]["version"].field_dict["body"] == first_version.field_dict["body"]


def test_restore_skips_rows_deleted_since(staff_client):
    gone = CategoryFactory(name="Gone")
    article = ArticleFactory(category=gone)
    url = f"{ARTICLES}{article.pk}/change/"
    staff_client.post(url, form_data(article))
    kept = CategoryFactory(name="Kept")
    staff_client.post(url, form_data(article, category=kept.pk, body="Later"))
    gone.delete()
    article.refresh_from_db()
    restore = staff_client.get(f"{ARTICLES}{article.pk}/history/").context["rows"][1]["restore"]
    staff_client.post(restore)
    article.refresh_from_db()
    assert article.category == kept and article.body != "Later"


def test_restore_needs_the_change_permission(client, staff_client):
    article = ArticleFactory()
    url = f"{ARTICLES}{article.pk}/change/"
    staff_client.post(url, form_data(article))
    staff_client.post(url, form_data(article, body="Edited"))
    restore = staff_client.get(f"{ARTICLES}{article.pk}/history/").context["rows"][1]["restore"]
    viewer = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    # Sees everyone's articles (roles.py), may change none.
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_article", "edit_others_article"])
    )
    client.force_login(viewer)
    assert client.get(f"{ARTICLES}{article.pk}/history/").status_code == 200
    assert client.post(restore).status_code == 403
    assert Article.objects.get().body == "Edited"


def test_pages_have_revisions_too(staff_client):
    page = Page.objects.create(title="About", body="Version one")
    url = f"/admin/articles/page/{page.pk}/change/"
    base = {"title": "About", "slug": page.slug, "is_published": "on", "order": 0, "_continue": "1"}
    staff_client.post(url, {**base, "body": "Version one"})
    staff_client.post(url, {**base, "body": "Version two"})
    rows = staff_client.get(f"/admin/articles/page/{page.pk}/history/").context["rows"]
    staff_client.post(rows[1]["restore"])
    page.refresh_from_db()
    assert page.body == "Version one" and page.body_html == "<p>Version one</p>\n"


def test_changes_between_leaves_out_what_did_not_change():
    category = Category.default()
    tag = Tag.objects.create(name="t")
    same = {"title": "A", "category_id": category.pk, "tags": [tag.pk]}
    assert changes_between(Article, same, dict(same)) == []
    changes = changes_between(Article, same, {**same, "title": "B"})
    assert [(c.label, c.old, c.new) for c in changes] == [("Title", "A", "B")]


def test_the_first_edit_of_an_older_article_can_be_undone(staff_client):
    article = ArticleFactory(body="Written before revisions were kept.")  # no version yet
    url = f"{ARTICLES}{article.pk}/change/"
    staff_client.post(url, form_data(article, body="First edit in the admin."))
    rows = staff_client.get(f"{ARTICLES}{article.pk}/history/").context["rows"]
    assert len(rows) == 2 and "first version" in rows[1]["version"].revision.get_comment()
    staff_client.post(rows[1]["restore"])
    article.refresh_from_db()
    assert article.body == "Written before revisions were kept."
