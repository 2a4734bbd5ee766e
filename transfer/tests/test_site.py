"""export_site then import_site into an empty site gives the same articles, pages,
comments, media and statistics; a second import changes nothing."""

import hashlib
import json
import shutil
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles.models import Article, Category, MediaFile, Page, Tag
from comments.models import Comment
from stats.models import ArticleDailyStat, DailyStat, FillState
from transfer.ghost import import_ghost
from transfer.models import ImportedItem, LegacyRedirect
from transfer.wordpress import import_wordpress

from .builders import DATA

pytestmark = pytest.mark.django_db


def _snapshot() -> dict:
    articles = sorted(
        (
            a.slug,
            a.title,
            a.body.strip(),  # front matter keeps the text, not its trailing blank lines
            a.body_html,
            a.status,
            a.published_at,
            a.category.slug,
            a.category.parent.slug if a.category.parent_id else None,
            tuple(sorted(t.slug for t in a.tags.all())),
            a.summary,
            a.is_pinned,
            a.seo_title,
            a.seo_description,
            a.featured_image.alt_text if a.featured_image_id else None,
            a.author.email,
            a.comment_count,
        )
        for a in Article.objects.select_related("category__parent", "featured_image", "author")
    )
    comments = sorted(
        (
            c.article.slug,
            c.number,
            c.parent.number if c.parent_id else None,
            c.author_name,
            c.author_email,
            c.body,
            c.status,
        )
        for c in Comment.objects.select_related("article", "parent")
    )
    media = sorted(
        (m.file.name, m.alt_text, hashlib.sha256(default_storage.open(m.file.name).read()).hexdigest())
        for m in MediaFile.objects.all()
    )
    return {
        "articles": articles,
        "pages": sorted(
            (p.slug, p.title, p.body.strip(), p.body_html, p.is_published) for p in Page.objects.all()
        ),
        "comments": comments,
        "media": media,
        "daily": sorted(DailyStat.objects.values_list("date", "pv", "uv")),
        "article_daily": sorted(ArticleDailyStat.objects.values_list("article__slug", "date", "pv", "uv")),
        "views": sorted(Article.objects.values_list("slug", "view_count")),
    }


def _empty_the_site(media_root) -> None:
    Comment.objects.all().delete()
    ArticleDailyStat.objects.all().delete()
    DailyStat.objects.all().delete()
    FillState.objects.all().delete()
    Article.objects.all().delete()
    Page.objects.all().delete()
    MediaFile.objects.all().delete()
    Tag.objects.all().delete()
    Category.objects.all().delete()
    ImportedItem.objects.all().delete()
    LegacyRedirect.objects.all().delete()
    get_user_model().objects.all().delete()
    shutil.rmtree(media_root, ignore_errors=True)


def test_export_then_import_into_an_empty_site_reproduces_it(tmp_path, media_root, client):
    import_wordpress(DATA / "wordpress-export.xml", media=DATA / "wordpress-uploads.tar.gz")
    import_ghost(DATA / "ghost-export.json", media=DATA / "ghost-images.tar.gz")
    calm = Article.objects.get(slug="calmer-reading")
    day = timezone.localdate() - timedelta(days=2)
    DailyStat.objects.create(date=day, pv=40, uv=30)
    ArticleDailyStat.objects.create(article=calm, date=day, pv=12, uv=9)
    FillState.objects.create(name=FillState.DAILY, filled_through=day)
    call_command("rebuild_derived", verbosity=0)
    before = _snapshot()
    assert before["views"] and dict(before["views"])["calmer-reading"] == 12

    call_command("export_site", str(tmp_path / "export"))
    front = (tmp_path / "export" / "articles" / "calmer-reading.md").read_text(encoding="utf-8")
    assert front.startswith("---\n") and "title: Designing a calmer reading experience" in front
    assert json.loads((tmp_path / "export" / "site.json").read_text())["version"] == 1

    _empty_the_site(media_root)
    call_command("import_site", str(tmp_path / "export"))
    assert _snapshot() == before
    for obj in [*Article.objects.published(), *Page.objects.published()]:
        assert client.get(obj.get_absolute_url()).status_code == 200

    counts = [model.objects.count() for model in (Article, Page, Comment, MediaFile, Tag, Category)]
    call_command("import_site", str(tmp_path / "export"))
    assert [model.objects.count() for model in (Article, Page, Comment, MediaFile, Tag, Category)] == counts


def test_bad_folders_give_clear_errors(tmp_path):
    with pytest.raises(CommandError, match="No export folder"):
        call_command("import_site", str(tmp_path / "missing"))
    (tmp_path / "other").mkdir()
    with pytest.raises(CommandError, match="not a site export"):
        call_command("import_site", str(tmp_path / "other"))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_site", str(tmp_path / "full"))


def test_a_naive_date_in_a_site_export_is_read_as_utc():
    # A naive date was made aware with django.utils.timezone.utc, gone since Django 5.0.
    from datetime import UTC, datetime

    from transfer.site_import import _when

    naive = datetime(2020, 1, 2, 3, 4, 5)  # fixed date: a past moment, read not compared to today
    expected = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)  # fixed date: the same moment
    assert _when(naive) == expected
    assert _when("2020-01-02T03:04:05") == expected  # fixed date: the same moment, as text
