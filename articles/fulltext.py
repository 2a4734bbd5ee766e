"""The full-text index's tokens and query syntax, the same words for MariaDB's FULLTEXT
indexes and SQLite's FTS5 table (migration 0006).

Tokens are made here, so that Chinese (which has no spaces between words) and English
work alike, and so that only letters, digits and CJK characters ever reach either
database's query syntax:

- a word of a spaced script becomes ``w<word>``, matched as a prefix (``redis`` finds
  "Redis" and "Redisson");
- a run of CJK characters becomes its characters (``zz<c>``) and their pairs (``z<cc>``):
  a query for 数据库 needs the pairs 数据 and 据库;
- the prefixes keep every token at three characters or more and clear of MariaDB's
  stopword list, so its InnoDB full-text index takes them with its default settings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

MAX_QUERY_TERMS = 8
MAX_WORD = 60  # longer words are indexed (and searched) by their first 60 letters

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_RUNS = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")


def _runs(text: str) -> list[str]:
    return [run[:MAX_WORD] for run in _RUNS.findall(unicodedata.normalize("NFKC", text).lower())]


def _is_cjk(run: str) -> bool:
    return bool(re.match(rf"[{_CJK}]", run))


def _run_tokens(run: str) -> list[str]:
    if not _is_cjk(run):
        return [f"w{run}"] if len(run) >= 2 else []
    return [f"zz{char}" for char in run] + [f"z{run[i : i + 2]}" for i in range(len(run) - 1)]


def text_tokens(text: str) -> list[str]:
    return [token for run in _runs(text) for token in _run_tokens(run)]


def build_tokens(text: str) -> str:
    """The indexed tokens of a text (each once: the index counts documents, and the
    ranking weighs where a match is, not how often)."""
    return " ".join(dict.fromkeys(text_tokens(text)))


def query_tokens(query: str) -> list[tuple[str, bool]]:
    """(token, is_prefix) that a result must all have."""
    required: dict[tuple[str, bool], None] = {}
    for term in query.split()[:MAX_QUERY_TERMS]:
        for run in _runs(term):
            if _is_cjk(run):
                pairs = [f"z{run[i : i + 2]}" for i in range(len(run) - 1)]
                for token in pairs or [f"zz{run}"]:
                    required[(token, False)] = None
            elif len(run) >= 2:
                required[(f"w{run}", True)] = None
    return list(required)


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """What a query looks for, as readers see it (for highlighting): the words of spaced
    scripts (each a prefix, as the index matches them) and the runs of CJK characters."""
    words: dict[str, None] = {}
    cjk: dict[str, None] = {}
    for term in query.split()[:MAX_QUERY_TERMS]:
        for run in _runs(term):
            if _is_cjk(run):
                cjk[run] = None
            elif len(run) >= 2:
                words[run] = None
    return list(words), list(cjk)


def text_runs(text: str) -> Iterator[tuple[int, int, str, bool]]:
    """The runs of ``text`` the index is made of, where they are in ``text``:
    ``(start, end, normalised run, is_cjk)``."""
    for match in _RUNS.finditer(text):
        run = unicodedata.normalize("NFKC", match.group()).lower()
        yield match.start(), match.end(), run, _is_cjk(run)


FTS_TABLE = "articles_search_fts"  # SQLite
ALL_COLUMNS = "title_tokens, summary_tokens, body_tokens"


def expression(vendor: str, tokens: list[tuple[str, bool]]) -> str:
    """The query text for ``match_sql``: every token required."""
    if vendor == "mysql":  # boolean mode: +required, * prefix
        return " ".join(f"+{token}*" if prefix else f"+{token}" for token, prefix in tokens)
    return " AND ".join(f'"{token}"*' if prefix else f'"{token}"' for token, prefix in tokens)


def matching_ids_sql(vendor: str) -> str:
    """SELECT the article ids whose title, summary and body hold the expression (one
    ``%s`` parameter)."""
    if vendor == "mysql":
        return (
            "SELECT article_id FROM articles_articlesearchindex "  # noqa: S608 - our own SQL
            f"WHERE MATCH({ALL_COLUMNS}) AGAINST (%s IN BOOLEAN MODE)"
        )
    return f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608 - our own SQL
