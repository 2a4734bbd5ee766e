"""rebuild_derived: rows copied into the articles table in SQL reach lists, counts and search."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from articles.listings import month_key
from articles.models import Article, ArticleSearchIndex, Tag, Tally
from articles.tests.factories import ArticleFactory, CategoryFactory, TagFactory

pytestmark = pytest.mark.django_db


def _copy_in_sql(article: Article, suffix: str) -> int:
    """INSERT ... SELECT the article's row under another slug and title, and its tags."""
    quote = connection.ops.quote_name
    table, tags = quote(Article._meta.db_table), quote(Article.tags.through._meta.db_table)
    columns = [f.column for f in Article._meta.concrete_fields if not f.primary_key]

    def concat(column: str) -> str:
        return f"CONCAT({quote(column)}, %s)" if connection.vendor == "mysql" else f"{quote(column)} || %s"

    selected = [concat(c) if c in ("slug", "title") else quote(c) for c in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"SELECT {', '.join(selected)} FROM {table} WHERE id = %s",
            [suffix if c == "title" else f"-{suffix}" for c in columns if c in ("slug", "title")]
            + [article.pk],
        )
        new_id = Article.objects.get(slug=f"{article.slug}-{suffix}").pk
        cursor.execute(
            f"INSERT INTO {tags} (article_id, tag_id) SELECT %s, tag_id FROM {tags} WHERE article_id = %s",  # noqa: S608
            [new_id, article.pk],
        )
    return new_id


def test_rows_copied_in_sql_appear_on_category_tag_and_month_pages_after_rebuild(client, user):
    parent = CategoryFactory(name="Parent")
    child = CategoryFactory(name="Child", parent=parent)
    tag = TagFactory(name="copied")
    when = timezone.now() - timedelta(days=3)
    original = ArticleFactory(
        title="Original words",
        category=child,
        status=Article.Status.PUBLISHED,
        published_at=when,
        author=user,
    )
    original.tags.add(tag)
    copy_ids = [_copy_in_sql(original, f"copy{n}") for n in range(2)]
    month = month_key(when)

    assert Tally.objects.get(key=f"c:{parent.pk}").count == 1  # the copies are invisible so far
    call_command("rebuild_derived", verbosity=0)

    assert Tally.objects.get(key=f"c:{parent.pk}").count == 3
    assert Tally.objects.get(key=f"c:{child.pk}").count == 3
    assert Tally.objects.get(key=month).count == 3
    assert Tag.objects.get(pk=tag.pk).published_count == 3
    year, number = month[2:].split("-")
    for url in (parent.get_absolute_url(), tag.get_absolute_url(), f"/archives/{int(year)}/{int(number)}/"):
        page = client.get(url).content.decode()
        assert "Original wordscopy0" in page and "Original wordscopy1" in page, url
    # Their search index rows (MariaDB's FULLTEXT sees rows only once committed, so the
    # rows themselves are checked here; articles' search tests cover the matching).
    indexed = ArticleSearchIndex.objects.filter(article_id__in=copy_ids)
    assert indexed.count() == 2
    assert all("woriginal" in row.title_tokens and row.status == Article.Status.PUBLISHED for row in indexed)


def test_rebuild_twice_changes_nothing(user):
    ArticleFactory(status=Article.Status.PUBLISHED, author=user)
    call_command("rebuild_derived", verbosity=0)
    first = sorted(Tally.objects.values_list("key", "count"))
    call_command("rebuild_derived", verbosity=0)
    assert sorted(Tally.objects.values_list("key", "count")) == first
