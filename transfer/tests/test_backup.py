"""make backup / make restore: a site backed up, its database, media folder and Redis
counters emptied, then restored, shows the same pages, comments and statistics."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from articles.models import Article, MediaFile
from comments.models import Comment
from stats.backends import get_backend
from stats.models import DailyStat
from stats.services import page_view_record
from transfer.wordpress import import_wordpress

from .builders import DATA


def _state() -> dict:
    return {
        "articles": sorted(Article.objects.values_list("slug", "title", "body_html", "status")),
        "comments": sorted(Comment.objects.values_list("author_name", "body", "status")),
        "daily": sorted(DailyStat.objects.values_list("date", "pv", "uv")),
        "media": sorted(MediaFile.objects.values_list("file", "alt_text")),
    }


def _empty_everything(media_root: Path) -> None:
    quote = connection.ops.quote_name
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        for table in tables:
            cursor.execute(f"DROP TABLE {quote(table)}")
        cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
    backend = get_backend()
    for key in backend.client.scan_iter(match=f"{backend.prefix}:*"):
        backend.client.delete(key)
    for path in sorted(media_root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()


@pytest.mark.real_backends
@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_an_empty_database_media_folder_and_redis(tmp_path, media_root, client):
    import_wordpress(DATA / "wordpress-export.xml", media=DATA / "wordpress-uploads.tar.gz")
    article = Article.objects.published().get(slug="profiling-a-slow-django-view")
    today = timezone.localdate()
    DailyStat.objects.create(date=today - timedelta(days=2), pv=40, uv=30)
    page_view_record(day=today, visitor="reader-1", article_id=article.pk)
    page_view_record(day=today, visitor="reader-2", article_id=article.pk)
    before = _state()
    assert Comment.objects.filter(author_name="王芳").exists()  # utf8mb4 through the dump

    call_command("backup_site", str(tmp_path / "backup"))
    _empty_everything(media_root)
    assert "articles_article" not in connection.introspection.table_names()

    call_command("restore_site", str(tmp_path / "backup"))
    assert _state() == before
    assert all((media_root / name).is_file() for name, _alt in before["media"])
    backend = get_backend()
    assert int(backend.client.get(f"{backend.prefix}:{today.isoformat()}:pv")) == 2
    assert backend.client.zscore(f"{backend.prefix}:{today.isoformat()}:articles", str(article.pk)) == 2
    assert client.get(article.get_absolute_url()).status_code == 200
    chinese = Comment.objects.get(author_name="王芳").article
    assert "王芳" in client.get(chinese.get_absolute_url()).content.decode()


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(CommandError, match="not a backup"):
        call_command("restore_site", str(tmp_path / "x"))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a").write_text("a")
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup_site", str(tmp_path / "full"))


@pytest.mark.embedded_only
@pytest.mark.django_db(transaction=True)
def test_sqlite_backup_restores_the_database_and_media(tmp_path, media_root):
    import_wordpress(DATA / "wordpress-export.xml", media=DATA / "wordpress-uploads.tar.gz")
    before = _state()
    call_command("backup_site", str(tmp_path / "backup"))
    Comment.objects.all().delete()
    Article.objects.filter(featured_image__isnull=True).delete()
    for path in media_root.rglob("*.jpg"):
        path.unlink()
    call_command("restore_site", str(tmp_path / "backup"))
    assert _state() == before
    assert all((media_root / name).is_file() for name, _alt in before["media"])
