"""Query plans on MariaDB: enough rows for the optimizer to plan as at scale, and a check
that every query a page runs reads the big tables through an index.

Used by the admin tests marked ``real_backends`` (the plans are MariaDB's).
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from articles.models import Article, Category, Tag

# A plan row that reads every row of a big table, or sorts them.
FULL_SCAN = "ALL"
# Sorting this many rows of a filter's share is cheap (MariaDB may prefer it to a second
# index on the same column with the other direction).
SMALL_SORT = 500


def bulk_blog(*, articles: int, comments: int, author) -> list[Article]:
    """Rows written in bulk (no save(): the list never shows the rendered body)."""
    from comments.models import Comment

    now = timezone.now()
    categories = Category.objects.bulk_create(Category(name=f"Plan {n}", slug=f"plan-{n}") for n in range(10))
    tags = Tag.objects.bulk_create(Tag(name=f"plantag{n}", slug=f"plantag-{n}") for n in range(20))
    rows = Article.objects.bulk_create(
        Article(
            title=f"Plan article {n}",
            slug=f"plan-article-{n}",
            body="Body.",
            body_html="<p>Body.</p>",
            summary="Body.",
            category=categories[n % len(categories)],
            status=Article.Status.DRAFT if n % 50 == 0 else Article.Status.PUBLISHED,
            published_at=now - timedelta(hours=n),
            author=author,
            is_pinned=n == 7,
        )
        for n in range(articles)
    )
    Article.tags.through.objects.bulk_create(
        Article.tags.through(article_id=article.pk, tag_id=tags[(n * n) % len(tags)].pk)
        for n, article in enumerate(rows)
    )
    Comment.objects.bulk_create(
        (
            Comment(
                article=rows[n % articles],
                number=n // articles + 1,
                thread_number=n // articles + 1,
                author_name=f"reader{n % 997}",
                author_email=f"reader{n % 997}@example.com",
                body="A comment.",
                body_html="<p>A comment.</p>",
                status=Comment.Status.PENDING if n % 17 == 0 else Comment.Status.APPROVED,
                created_at=now - timedelta(minutes=n),
                client_hash=f"{n % 991:064x}",
            )
            for n in range(comments)
        ),
        batch_size=2000,
    )
    # (No ANALYZE TABLE: it commits, and the test's rows would outlive it. Range
    # estimates come from the indexes themselves anyway.)
    return rows


def unindexed_reads(captured_queries, big_tables: set[str]) -> list[str]:
    """Each query of ``captured_queries`` whose plan scans or sorts a big table, with the
    plan: a full table scan, or a sort of its rows (except a sort of a list of keys, the
    rows of one page or a search's matches, and of a few hundred rows)."""
    problems = []
    for query in captured_queries:
        sql = query["sql"]
        if not sql.startswith("SELECT") or not any(f"`{table}`" in sql for table in big_tables):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql)
            columns = [column[0] for column in cursor.description]
            plan = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        # Subqueries name their tables U0, U1, ...: those of a big table count too.
        watched = big_tables | {
            alias for table, alias in re.findall(r"`(\w+)` (U\d+)", sql) if table in big_tables
        }
        for step in plan:
            if step["table"] not in watched:
                continue
            keys_listed = step["key"] == "PRIMARY" and step["type"] == "range"
            small = int(str(step["rows"] or 0).split()[0]) <= SMALL_SORT  # MariaDB may add " (2%)"
            sorted_rows = "filesort" in (step["Extra"] or "") and not keys_listed and not small
            if step["type"] == FULL_SCAN or sorted_rows:
                problems.append(f"{sql[:300]}\n    {step}")
                break
    return problems
