"""The WordPress importer: the real export's counts, idempotency, clashes, hostile and broken input."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles.models import Article, Category, MediaFile, Page, Tag
from articles.tests.factories import ArticleFactory
from comments.models import Comment
from transfer.common import TransferError
from transfer.models import ImportedItem
from transfer.wordpress import import_wordpress

from .builders import DATA, wxr, wxr_comment, wxr_post

EXPORT = DATA / "wordpress-export.xml"
UPLOADS = DATA / "wordpress-uploads.tar.gz"

pytestmark = pytest.mark.django_db


def _counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Article, Page, Category, Tag, Comment, MediaFile, ImportedItem)
    }


def test_real_export_imports_with_the_readme_counts():
    report = import_wordpress(EXPORT, media=UPLOADS)
    articles = Article.objects.all()
    # 10 published and 1 scheduled for 2035-01-15 08:00 Shanghai time (whatever today is).
    assert articles.filter(status=Article.Status.PUBLISHED).count() == 11
    scheduled = articles.get(slug="my-2035-reading-list")
    assert scheduled.status == Article.Status.PUBLISHED
    assert scheduled.published_at == datetime(2035, 1, 15, 0, 0, tzinfo=UTC)  # fixed date: the fixture's
    assert articles.filter(status=Article.Status.DRAFT).count() == 4
    assert articles.filter(is_pinned=True).count() == 1
    assert Page.objects.count() == 3
    assert Category.objects.count() == 9
    assert Tag.objects.count() == 10
    assert Comment.objects.filter(status=Comment.Status.APPROVED).count() == 9
    assert Comment.objects.filter(status=Comment.Status.PENDING).count() == 2
    assert MediaFile.objects.count() == 12
    assert articles.exclude(featured_image=None).count() == 6
    # Nested categories keep their parents; percent-encoded slugs are decoded.
    python = Category.objects.get(slug="python-lang")
    assert python.parent.slug == "programming" and python.parent.parent.slug == "technology"
    assert Category.objects.get(slug="日本").parent.parent.name == "生活"
    assert Category.objects.filter(name="Tips & Tricks").exists()
    # Statuses: private and password-protected posts are drafts, and reported.
    assert Article.objects.get(title="Notes to self: password rotation").status == Article.Status.DRAFT
    assert any("password-protected" in note for note in report.notes)
    assert any("private" in note for note in report.notes)
    assert any("the format “aside”" in note for note in report.notes)
    # The trashed comment and the pingback are not imported, and said so.
    assert any("trash" in line for line in report.skipped)
    assert any("pingback" in line for line in report.skipped)
    # Threads: Ada -> Alice -> Ada -> Alice.
    deepest = Comment.objects.filter(parent__parent__parent__isnull=False).get()
    assert deepest.parent.parent.parent.parent is None
    assert Comment.objects.filter(author_name="王芳").exists()
    # Alt texts of the attachments reach the library; bodies show library URLs.
    assert MediaFile.objects.filter(alt_text="Flame graph cover image").exists()
    bodies = "".join(articles.values_list("body", flat=True))
    assert "wp-content/uploads" not in bodies
    assert "<!-- wp:" not in bodies
    assert "[gallery ids" not in bodies and "[caption id" not in bodies
    # Links to the old site's posts become paths here, which their redirects answer.
    assert "](https://blog.example.com/2022/11/10/" not in bodies
    assert "](/2022/11/10/%e4%ba%ac%e9%83%bd" in bodies or "](/2022/11/10/京都" in bodies
    # Classic posts get their paragraphs without stray line breaks around blocks.
    kyoto = Article.objects.get(slug="a-week-in-kyoto").body
    assert "for the bridge.\n\n## Where we ate\n\n- A tiny udon place" in kyoto
    assert "<figcaption>Maple leaves at Eikan-dō, 7:40 in the morning.</figcaption></figure>" in kyoto
    gallery = Article.objects.get(title__startswith="京都")
    assert gallery.body_html.count("<img") == 4 and 'class="gallery"' in gallery.body_html
    profiling = Article.objects.get(slug="profiling-a-slow-django-view")
    assert profiling.comment_count == profiling.comments.filter(status=Comment.Status.APPROVED).count() > 0


def test_importing_twice_changes_nothing():
    import_wordpress(EXPORT, media=UPLOADS)
    before = _counts()
    bodies = dict(Article.objects.values_list("pk", "body"))
    report = import_wordpress(EXPORT, media=UPLOADS)
    assert _counts() == before
    assert dict(Article.objects.values_list("pk", "body")) == bodies
    assert not report.imported
    assert report.unchanged["articles"] == 15


def test_a_slug_clash_is_renamed_and_reported_never_overwritten(user):
    mine = ArticleFactory(slug="migrating-from-mysql-5-7-to-postgresql", title="Mine", author=user)
    report = import_wordpress(EXPORT, media=UPLOADS)
    mine.refresh_from_db()
    assert mine.title == "Mine"
    imported = Article.objects.get(title="Migrating from MySQL 5.7 to PostgreSQL")
    assert imported.slug != mine.slug
    assert any("migrating-from-mysql-5-7-to-postgresql" in line for line in report.renamed)


def test_a_dry_run_says_what_the_export_holds_and_writes_nothing():
    out = io.StringIO()
    call_command("import_wordpress", str(EXPORT), dry_run=True, stdout=out)
    assert "posts (publish): 10" in out.getvalue() and "comments (approved): 9" in out.getvalue()
    assert Article.objects.count() == 0 and ImportedItem.objects.count() == 0


def test_missing_media_is_reported_and_the_posts_still_imported():
    out = io.StringIO()
    call_command("import_wordpress", str(EXPORT), stdout=out, verbosity=0)
    assert Article.objects.count() == 15
    assert MediaFile.objects.count() == 0
    summary = out.getvalue()
    assert "Imported: 15 articles" in summary
    assert "Skipped: media attachment 22 flamegraph-cover.jpg: no media given" in summary


def test_old_permalinks_redirect_and_imported_pages_render(client):
    import_wordpress(EXPORT, media=UPLOADS)
    article = Article.objects.get(slug="migrating-from-mysql-5-7-to-postgresql")
    response = client.get("/2019/06/30/migrating-from-mysql-5-7-to-postgresql/")
    assert response.status_code == 301
    assert response["Location"] == article.get_absolute_url()
    kyoto = Article.objects.get(title__startswith="京都")
    response = client.get("/2022/11/10/京都相册-kyoto-photo-gallery/")
    assert response.status_code == 301 and response["Location"] == kyoto.get_absolute_url()
    team = Page.objects.get(title="The team / 团队")
    assert client.get("/about/team/")["Location"] == team.get_absolute_url()
    for obj in [*Article.objects.published(), *Page.objects.published()]:
        assert client.get(obj.get_absolute_url()).status_code == 200, obj
    cover = MediaFile.objects.get(alt_text="Flame graph cover image")
    assert client.get("/wp-content/uploads/2023/04/flamegraph-cover.jpg")["Location"] == cover.url
    assert client.get("/2023/04/12/profiling-a-slow-django-view/flamegraph-cover/")["Location"] == cover.url
    assert client.get("/no/such/old/path/").status_code == 404


def test_hostile_markup_is_sanitised(client):
    hostile = (
        '<p onclick="steal()">Hi <script>alert(1)</script><a href="javascript:alert(2)">x</a></p>'
        '<img src="https://old.example.com/x.png" onerror="alert(3)" alt="">'
        '<iframe src="javascript:alert(4)"></iframe><style>body{display:none}</style>'
    )
    comment = wxr_comment(
        1, text='<a href="javascript:alert(5)" onmouseover="x()">me</a><script>bad()</script>'
    )
    path = _write(wxr(wxr_post(1, content=hostile, comments=comment)))
    import_wordpress(path)
    article = Article.objects.get()
    html = article.body_html + Comment.objects.get().body_html
    for needle in (
        "<script",
        "onclick",
        "onerror",
        "onmouseover",
        "javascript:",
        "<style",
        "<iframe",
        "alert(",
    ):
        assert needle not in html.lower()
    assert client.get(article.get_absolute_url()).status_code == 200


def test_scheduled_posts_stay_scheduled_relative_to_now():
    later = (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    earlier = (timezone.now() - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    items = wxr_post(1, slug="later", status="future", date_gmt=later) + wxr_post(
        2, slug="earlier", date_gmt=earlier
    )
    import_wordpress(_write(wxr(items)))
    assert Article.objects.get(slug="later").is_scheduled
    assert Article.objects.get(slug="earlier").is_public


def test_a_reply_to_a_missing_comment_is_reported_and_skipped():
    comments = (
        wxr_comment(1)
        + wxr_comment(2, parent=99)
        + wxr_comment(3, parent=1)
        + wxr_comment(4, approved="spam")
    )
    report = import_wordpress(_write(wxr(wxr_post(1, comments=comments))))
    assert sorted(Comment.objects.values_list("author_name", flat=True)) == ["Reader 1", "Reader 3"]
    assert any("replies to comment 99" in line for line in report.skipped)
    assert any("spam" in line for line in report.skipped)


def test_entities_and_broken_files_are_refused_with_a_clear_error(tmp_path):
    bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><rss>&b;</rss>'
    with pytest.raises(TransferError, match="entities"):
        import_wordpress(_write(bomb))
    with pytest.raises(TransferError, match="not well-formed"):
        import_wordpress(_write("<rss><channel>"))
    with pytest.raises(TransferError, match="not a WordPress export"):
        import_wordpress(_write("<rss><channel></channel></rss>"))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_wordpress", str(tmp_path / "missing.xml"))
    with pytest.raises(CommandError, match="not a tar archive"):
        call_command("import_wordpress", str(EXPORT), media=str(EXPORT))
    assert Article.objects.count() == 0


_files = iter(range(1_000_000))


def _write(text: str):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / f"export-{next(_files)}.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_odd_items_are_imported_or_reported_never_a_crash():
    odd = (
        "<item><title></title><wp:post_type>post</wp:post_type><wp:status>publish</wp:status>"
        "<wp:post_date>not a date</wp:post_date><wp:comment><wp:comment_id>x</wp:comment_id>"
        "<wp:comment_approved>1</wp:comment_approved><wp:comment_content>hi</wp:comment_content>"
        "</wp:comment></item>"
        "<item><title>Menu</title><wp:post_id>7</wp:post_id><wp:post_type>nav_menu_item</wp:post_type></item>"
        "<item><wp:post_type>page</wp:post_type><wp:post_id>8</wp:post_id><wp:menu_order>x</wp:menu_order>"
        "<wp:status>publish</wp:status></item>"
        + wxr_post(9, title="T" * 500, slug="s" * 300, content='[gallery ids="1,2"][caption]x[/caption]')
    )
    terms = (
        "<wp:tag><wp:term_id>1</wp:term_id><wp:tag_slug></wp:tag_slug><wp:tag_name></wp:tag_name></wp:tag>"
        f"<wp:category><wp:term_id>2</wp:term_id><wp:category_nicename>{'c' * 300}</wp:category_nicename>"
        f"<wp:category_parent>nowhere</wp:category_parent><wp:cat_name>{'C' * 300}</wp:cat_name>"
        "</wp:category>"
    )
    report = import_wordpress(_write(wxr(odd, extra_channel=terms)))
    assert Tag.objects.filter(name="tag").exists() and Category.objects.filter(name="C" * 100).exists()
    assert Article.objects.filter(title="(untitled)").exists()
    assert Article.objects.filter(title="T" * 200).exists()
    assert Page.objects.filter(title="(untitled)").exists()
    assert any("no such attachment" in line for line in report.skipped)
    assert not any("nav_menu_item" in line for line in report.lines())  # menus are not content
