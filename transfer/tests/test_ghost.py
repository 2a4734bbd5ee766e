"""The Ghost importer: the real export's counts, idempotency, cards, redirects and bad files."""

import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from articles.models import Article, MediaFile, Page, Tag
from articles.tests.factories import UserFactory
from transfer.ghost import import_ghost
from transfer.models import ImportedItem

from .builders import DATA

EXPORT = DATA / "ghost-export.json"
IMAGES = DATA / "ghost-images.tar.gz"

pytestmark = pytest.mark.django_db


def test_real_export_imports_with_the_readme_counts():
    report = import_ghost(EXPORT, media=IMAGES)
    articles = Article.objects.all()
    # 7 published and 1 scheduled for 2035-02-01 01:00 UTC (whatever today is).
    assert articles.filter(status=Article.Status.PUBLISHED).count() == 8
    roadmap = articles.get(slug="roadmap-2035")
    assert roadmap.status == Article.Status.PUBLISHED
    assert roadmap.published_at == datetime(2035, 2, 1, 1, 0, tzinfo=UTC)  # fixed date: the fixture's
    assert articles.filter(status=Article.Status.DRAFT).count() == 2
    assert Page.objects.published().count() == 2
    assert Tag.objects.count() == 4
    assert MediaFile.objects.count() == 14
    assert any("#feature" in line for line in report.skipped)
    users = get_user_model().objects.filter(email__in=["hannah@example.com", "zhang.min@example.com"])
    assert users.count() == 2 and not any(user.is_active or user.has_usable_password() for user in users)
    calm = Article.objects.get(slug="calmer-reading")
    assert calm.is_pinned
    assert calm.seo_title == "Designing a calmer reading experience | Quiet Pixels"
    assert calm.summary.startswith("What happened when we made our reading pages quieter")
    assert calm.featured_image.alt_text == "A calm, mostly empty page"
    assert "<figcaption>Left: 110 characters per line. Right: 65.</figcaption>" in calm.body_html
    bodies = "\n".join(articles.values_list("body", flat=True))
    assert "__GHOST_URL__" not in bodies and "kg-" not in bodies
    # Cards: code with its language, callout, bookmark, toggle, gallery, embed.
    assert (
        "```css" in bodies and "> 💡 Tip" in bodies and "[Ghost Themes - Developer Documentation](" in bodies
    )
    assert "<details><summary>" in bodies and '<figure class="gallery">' in bodies
    assert "(https://www.youtube.com/watch?v=aqz-KE-bpKQ)" in bodies
    chinese = Article.objects.get(slug="zai-hang-zhou-de-yi-zhou-xi-hu-long-jing-yu-yu-tian")
    assert chinese.title == "在杭州的一周：西湖、龙井与雨天"
    assert Tag.objects.get(slug="lu-xing").name == "旅行"
    assert Article.objects.get(slug="content-api-getting-started").source_url


def test_importing_twice_changes_nothing():
    import_ghost(EXPORT, media=IMAGES)
    before = [model.objects.count() for model in (Article, Page, Tag, MediaFile, ImportedItem)]
    report = import_ghost(EXPORT, media=IMAGES)
    assert [model.objects.count() for model in (Article, Page, Tag, MediaFile, ImportedItem)] == before
    assert not report.imported


def test_an_author_is_mapped_to_the_user_with_the_same_email():
    hannah = UserFactory(email="Hannah@Example.com")
    import_ghost(EXPORT, media=IMAGES)
    assert Article.objects.get(slug="calmer-reading").author == hannah


def test_ghost_slugs_redirect_and_imported_pages_render(client):
    import_ghost(EXPORT, media=IMAGES)
    response = client.get("/calmer-reading/")
    assert response.status_code == 301
    assert response["Location"] == Article.objects.get(slug="calmer-reading").get_absolute_url()
    assert client.get("/about/")["Location"] == Page.objects.get(slug="about").get_absolute_url()
    # A scheduled post keeps its old address too (its page answers once its time comes).
    assert client.get("/roadmap-2035/")["Location"] == "/article/roadmap-2035/"
    for obj in [*Article.objects.published(), *Page.objects.published()]:
        assert client.get(obj.get_absolute_url()).status_code == 200, obj


def test_bad_files_give_clear_errors(tmp_path):
    not_json = tmp_path / "a.json"
    not_json.write_text("{nope", encoding="utf-8")
    other = tmp_path / "b.json"
    other.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("import_ghost", str(not_json))
    with pytest.raises(CommandError, match="not a Ghost export"):
        call_command("import_ghost", str(other))
    with pytest.raises(CommandError, match="No media"):
        call_command("import_ghost", str(EXPORT), media=str(tmp_path / "none.tar.gz"))


def test_odd_posts_are_imported_or_reported_never_a_crash(tmp_path):
    odd = {
        "db": [
            {
                "data": {
                    "posts": [
                        {"id": "1", "title": None, "slug": None, "html": None, "status": "published"},
                        {
                            "id": "2",
                            "title": "X" * 400,
                            "status": "published",
                            "html": "<p onclick='x()'>hi</p>",
                        },
                        {
                            "id": "3",
                            "title": "Members",
                            "status": "published",
                            "visibility": "paid",
                            "html": "<p>$</p>",
                        },
                        {"id": "4", "title": "Weird", "status": "archived"},
                        "not a post",
                    ],
                    "posts_authors": [{"post_id": "1", "author_id": "missing", "sort_order": None}],
                    "tags": [{"id": "t", "name": "#hidden", "slug": "hash-hidden", "visibility": "internal"}],
                }
            }
        ]
    }
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(odd), encoding="utf-8")
    report = import_ghost(path)
    assert Article.objects.filter(title="(untitled)", status=Article.Status.PUBLISHED).exists()
    assert "onclick" not in Article.objects.get(title="X" * 200).body_html
    assert Article.objects.get(title="Members").status == Article.Status.DRAFT
    assert any("members only" in line for line in report.notes)
    assert any("archived" in line for line in report.skipped)


def test_a_date_without_an_offset_is_read_as_utc():
    # Ghost writes "...Z"; a hand-edited export may leave the offset out. Such a date was
    # made aware with django.utils.timezone.utc, which Django 5.0 removed (AttributeError).
    from transfer.ghost import _date

    moment = _date("2020-01-02T03:04:05")  # fixed date: a past moment, read not compared to today
    assert moment == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)  # fixed date: the same moment
