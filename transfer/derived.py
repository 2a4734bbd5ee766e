"""Rebuild what the writes keep (``manage.py rebuild_derived``): after a restore, a bulk
change in SQL, or to check them. Each part is absolute (recounted from the rows, never
incremented), so running it twice, or on a live site while readers read, is safe:

- comment counts (``Article.comment_count``) from the approved comments, in batches of
  articles locked in key order, as the comments app does;
- per-article traffic sums, most-read lists and view counts from the final daily rows
  (``stats.services.article_traffic_rebuild``, with the rollup's lock row held);
- list entries and tallies (``articles.listings.lists_rebuild``, one transaction: readers
  keep seeing the old lists until it commits);
- the search index (tokens and plain text) of every article, in batches; an article whose
  HTML is missing (copied in SQL without it) is rendered first.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from articles import listings
from articles.fulltext import build_tokens
from articles.markdown import plain_text, render_markdown
from articles.models import Article, ArticleSearchIndex, MediaUsage, build_search_text
from blog_project.caching import bump_on_commit
from comments.services import comment_counts_recount
from stats.services import article_traffic_rebuild

BATCH = 500
Progress = Callable[[str, int], None]  # (step, units done)


def _ids_in_batches() -> list[list[int]]:
    ids = list(Article.objects.order_by("pk").values_list("pk", flat=True))
    return [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]


def comment_counts_rebuild(progress: Progress) -> None:
    for batch in _ids_in_batches():
        comment_counts_recount(article_ids=batch)
        progress("comment counts", len(batch))


def search_index_rebuild(progress: Progress) -> None:
    for batch in _ids_in_batches():
        with transaction.atomic():
            for article in Article.objects.filter(pk__in=batch).select_for_update().order_by("pk"):
                if article.body.strip() and not article.body_html.strip():
                    rendered = render_markdown(article.body)
                    article.body_html, article.toc_html = rendered.html, rendered.toc_html
                    Article.objects.filter(pk=article.pk).update(
                        body_html=rendered.html, toc_html=rendered.toc_html
                    )
                    MediaUsage.sync(article=article)
                body_text = plain_text(article.body_html)
                ArticleSearchIndex.objects.update_or_create(
                    article=article,
                    defaults={
                        "text": build_search_text(article.title, article.summary, body_text),
                        "title_tokens": build_tokens(article.title),
                        "summary_tokens": build_tokens(article.summary),
                        "body_tokens": build_tokens(body_text),
                        "status": article.status,
                        "published_at": article.published_at,
                    },
                )
        progress("search index", len(batch))


def derived_rebuild(*, progress: Progress | None = None) -> dict[str, int]:
    """Every derived row again; returns a few numbers for the summary."""
    progress = progress or (lambda _step, _n: None)
    comment_counts_rebuild(progress)
    views_changed = article_traffic_rebuild()
    progress("traffic sums", 0)
    entries = listings.lists_rebuild()
    progress("list entries", 0)
    search_index_rebuild(progress)
    bump_on_commit("articles", "structure", "stats", "comments")
    return {
        "articles": Article.objects.count(),
        "list entries": entries,
        "view counts changed": views_changed,
    }
