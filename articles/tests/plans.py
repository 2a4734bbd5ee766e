"""Query plans on MariaDB: enough rows for the optimizer to plan as at scale, and a check
that every query a page runs reads the big tables through an index.

Used by the tests marked ``real_backends`` (the plans are MariaDB's): the admin lists,
and the reader pages (tests/test_reader_plans.py).
"""

from __future__ import annotations

import math
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


def _names(table: str, sql: str) -> bool:
    return re.search(rf"(?<!\w){table}(?!\w)", sql) is not None


def _rows(step: dict) -> int:
    return int(str(step["rows"] or 1).split()[0])  # MariaDB may add " (2%)"


def _one_per_key(step: dict) -> bool:
    """Reads a row per key it is given: one row per row before it, or a list of keys."""
    return step["type"] in ("const", "eq_ref") or (step["key"] == "PRIMARY" and step["type"] == "range")


def _sorted_rows(steps: list[dict], watched: set[str]) -> int:
    """How many rows one SELECT of a plan sorts that a big table makes many (0: none).

    The step that says "Using filesort" is the join's first table: alone, it sorts that
    table's rows; with "Using temporary", the whole join's, so a small table read first
    (the authors, the categories) sorts every article joined to it. A big table read a
    row per key (a list of keys, rows joined one each) adds nothing: the list, or the
    table before it, bounds the sort.
    """
    for position, step in enumerate(steps):
        extra = step["Extra"] or ""
        if "filesort" not in extra:
            continue
        joined = steps[position:] if "temporary" in extra else [step]
        if all(other["table"] not in watched or _one_per_key(other) for other in joined):
            return 0
        return math.prod(_rows(other) for other in joined)
    return 0


def unindexed_reads(captured_queries, big_tables: set[str]) -> list[str]:
    """Each query of ``captured_queries`` whose plan scans or sorts a big table, with the
    plan: a full table scan, or a sort of its rows, alone or joined to another table's
    (except a sort of a list of keys, and of a few hundred rows: the rows of one page or
    a search's matches)."""
    problems = []
    for query in captured_queries:
        sql = query["sql"]
        # Django quotes its table names; raw SQL (search, counts) may not.
        if not sql.startswith("SELECT") or not any(_names(table, sql) for table in big_tables):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql)
            columns = [column[0] for column in cursor.description]
            plan = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        # Subqueries name their tables U0, U1, ..., raw SQL its own (``FROM t s``): those
        # of a big table count too.
        watched = big_tables | {
            alias for table in big_tables for alias in re.findall(rf"(?<!\w)`?{table}`? (?:AS )?(\w+)", sql)
        }
        selects: dict[object, list[dict]] = {}
        for step in plan:
            selects.setdefault(step["id"], []).append(step)
        for steps in selects.values():
            scans = any(step["table"] in watched and step["type"] == FULL_SCAN for step in steps)
            if scans or _sorted_rows(steps, watched) > SMALL_SORT:
                problems.append(f"{sql[:300]}\n    " + "\n    ".join(str(step) for step in steps))
                break
    return problems
