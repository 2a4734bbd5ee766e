"""Search over published articles: every term must appear in the title, summary or text.

Any input is safe: the query is cut to ``MAX_QUERY_LENGTH`` characters and ``MAX_TERMS``
terms. Results are newest first; the count is exact up to ``MAX_RESULTS`` and said as
"more than" beyond it.
"""

from __future__ import annotations

from .models import Article
from .selectors import ArticleList, articles_in_order

MAX_QUERY_LENGTH = 100
MAX_TERMS = 8
MAX_RESULTS = 1000


def clean_query(raw: str) -> str:
    return " ".join(raw.replace("\x00", "").split())[:MAX_QUERY_LENGTH]


class SearchResults(ArticleList):
    capped: bool = False


def search_ids(query: str) -> SearchResults:
    ids = list(
        Article.objects.published()
        .search(query)
        .newest_first()
        .values_list("pk", flat=True)[: MAX_RESULTS + 1]
    )
    capped = len(ids) > MAX_RESULTS
    ids = ids[:MAX_RESULTS]
    results = SearchResults(len(ids), lambda offset, limit: articles_in_order(ids[offset : offset + limit]))
    results.capped = capped
    return results
