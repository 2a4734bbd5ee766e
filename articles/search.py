"""Readers' search over published articles: every term of the query must occur; results
ranked (the exact phrase in the title first, then every term in the title, then in the
summary, then the index's relevance; newest first among equals); counted exactly; every
result reachable page by page.

Both databases search the full-text index of ``fulltext.py``'s tokens, so Chinese and
English work alike: FULLTEXT indexes on MariaDB, an FTS5 table on SQLite. A query with no
token at all (a single letter, only symbols) falls back to a scan for whole words of the
plain text, capped at ``MAX_FALLBACK_RESULTS`` results and said so. Any input is safe:
the query is cut to ``MAX_QUERY_LENGTH`` characters and ``fulltext.MAX_QUERY_TERMS``
terms, and only tokens made by ``fulltext.py`` reach the full-text syntax; the phrase is a
LIKE parameter with its wildcards escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.utils import timezone

from .fulltext import ALL_COLUMNS, FTS_TABLE, expression, query_tokens
from .models import Article
from .selectors import ArticleList, articles_in_order

MAX_QUERY_LENGTH = 100
MAX_FALLBACK_RESULTS = 1000


def clean_query(raw: str) -> str:
    return " ".join(raw.replace("\x00", "").split())[:MAX_QUERY_LENGTH]


class SearchResults(ArticleList):
    def __init__(self, total: int, fetch: Callable[[int, int], list], *, capped: bool = False) -> None:
        super().__init__(total, fetch)
        self.capped = capped  # True: there are more than ``total`` results (substring scan)


def search_articles(query: str, *, page: int = 1, per_page: int = 10) -> SearchResults:
    """The results of ``query``; ``page`` of ``per_page`` (the one the reader asked for)
    is ranked and counted in the same statement."""
    tokens = query_tokens(query)
    if not tokens:
        return _word_search(query)
    backend = _MYSQL if connection.vendor == "mysql" else _SQLITE
    query_expression = expression(connection.vendor, tokens)
    # ``Article.objects.published()``'s rule, on the status and time the index rows copy
    # (the wide article rows are not read); the page's rows then come through
    # ``published()`` itself.
    public: list[Any] = [Article.Status.PUBLISHED, timezone.now()]  # query parameters
    table = "articles_articlesearchindex"
    phrase = _like_pattern(query.lower()) if len(query.split()) > 1 else None

    def ranked(offset: int, limit: int) -> tuple[list[int], int | None]:
        """A page of ids and the number of all results (None when the page is empty)."""
        sql, params = backend.page(table, query_expression, phrase)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *public, limit, offset])
            rows = cursor.fetchall()
        return [row[0] for row in rows], (int(rows[0][-1]) if rows else None)

    # Matching a common word is most of a search's cost (30 ms for 9,000 of 100,000
    # articles on InnoDB): the page asked for carries the count (a window over all the
    # matches), so the index is searched once, not once more for a COUNT.
    asked = max(page - 1, 0) * per_page
    asked_ids, total = ranked(asked, per_page)
    if total is None:  # nothing there: no result at all, or a page past the end
        total = 0 if asked == 0 else _count(backend, table, query_expression, public)

    def fetch(offset: int, limit: int) -> list[Article]:
        held = offset == asked and limit <= len(asked_ids)
        return articles_in_order(asked_ids[:limit] if held else ranked(offset, limit)[0], with_body_html=True)

    return SearchResults(total, fetch)


def _count(backend, table: str, query_expression: str, public: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(backend.count_sql(table), [query_expression, *public])
        return int(cursor.fetchone()[0])


# Ranking: the exact phrase in the title first, then every term in the title, then in
# the summary, then the index's own relevance; newest first among equals.
_PUBLIC = "s.status = %s AND s.published_at <= %s"
_ORDER = "ORDER BY rank_phrase DESC, rank_title DESC, rank_summary DESC, relevance {order}, "
_ORDER += "{table}published_at DESC, {table}article_id DESC LIMIT %s OFFSET %s"


def _like_pattern(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere, with ``!`` escaping (the same on MySQL and
    SQLite, which has no default escape character)."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


# The title's plain words start the index row's ``text`` (see ``build_search_text``).
_PHRASE = "s.text LIKE %s ESCAPE '!'"


class _MySQL:
    """InnoDB FULLTEXT in boolean mode: ``+token`` required, ``token*`` a prefix."""

    @staticmethod
    def _match(columns: str) -> str:
        return f"MATCH({columns}) AGAINST (%s IN BOOLEAN MODE)"

    def count_sql(self, table: str) -> str:
        return f"SELECT COUNT(*) FROM {table} s WHERE {self._match(ALL_COLUMNS)} AND {_PUBLIC}"  # noqa: S608

    def page(self, table: str, expression: str, phrase: str | None) -> tuple[str, list]:
        everything = self._match(ALL_COLUMNS)
        sql = (
            f"SELECT s.article_id, {_PHRASE if phrase else '0'} AS rank_phrase, "  # noqa: S608
            f"{self._match('title_tokens')} > 0 AS rank_title, "
            f"{self._match('summary_tokens')} > 0 AS rank_summary, {everything} AS relevance, "
            f"COUNT(*) OVER () AS total FROM {table} s WHERE {everything} AND {_PUBLIC} "
            + _ORDER.format(order="DESC", table="s.")
        )
        return sql, [*([phrase] if phrase else []), expression, expression, expression, expression]


class _SQLite:
    """FTS5: quoted tokens joined with AND, ``"token"*`` a prefix; bm25 for relevance
    (lower is better). bm25 cannot sit beside a window function, so the count is taken
    over the ranked rows from outside."""

    @staticmethod
    def count_sql(table: str) -> str:
        return (
            f"SELECT COUNT(*) FROM {FTS_TABLE} f JOIN {table} s ON s.article_id = f.rowid "  # noqa: S608
            f"WHERE {FTS_TABLE} MATCH %s AND {_PUBLIC}"
        )

    @staticmethod
    def page(table: str, expression: str, phrase: str | None) -> tuple[str, list]:
        # Column filters ("{title_tokens}: ...") test where the terms are, per row found.
        ranked = (
            f"SELECT f.rowid AS article_id, {_PHRASE if phrase else '0'} AS rank_phrase, "  # noqa: S608
            f"f.rowid IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s) AS rank_title, "
            f"f.rowid IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s) AS rank_summary, "
            f"bm25({FTS_TABLE}) AS relevance, s.published_at AS published_at "
            f"FROM {FTS_TABLE} f JOIN {table} s ON s.article_id = f.rowid "
            f"WHERE {FTS_TABLE} MATCH %s AND {_PUBLIC}"
        )
        sql = f"SELECT article_id, COUNT(*) OVER () AS total FROM ({ranked}) ranked " + _ORDER.format(  # noqa: S608
            order="ASC", table=""
        )
        in_title, in_summary = f"{{title_tokens}}: ({expression})", f"{{summary_tokens}}: ({expression})"
        return sql, [*([phrase] if phrase else []), in_title, in_summary, expression]


_MYSQL, _SQLITE = _MySQL(), _SQLite()


def _word_search(query: str) -> SearchResults:
    """Terms the index cannot hold (one letter, only symbols): whole words of the plain
    text, newest first, a capped scan."""
    ids = list(
        Article.objects.published()
        .search(query)
        .newest_first()
        .values_list("pk", flat=True)[: MAX_FALLBACK_RESULTS + 1]
    )
    capped = len(ids) > MAX_FALLBACK_RESULTS
    ids = ids[:MAX_FALLBACK_RESULTS]
    return SearchResults(
        len(ids),
        lambda offset, limit: articles_in_order(ids[offset : offset + limit], with_body_html=True),
        capped=capped,
    )
