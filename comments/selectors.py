"""Reads for comment pages: one page of threads in two queries, recent comments, positions."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator

from articles.models import Article
from blog_project import caching

from . import conf
from .models import Comment, CommentSettings

DISPLAY_FIELDS = (
    "pk",
    "article_id",
    "parent_id",
    "number",
    "thread_number",
    "author_name",
    "author_email",
    "author_url",
    "body_html",
    "status",
    "is_staff_reply",
    "created_at",
)


@dataclass(frozen=True)
class ThreadEntry:
    comment: Comment
    depth: int  # indentation, capped at COMMENTS_MAX_DEPTH
    is_placeholder: bool  # not approved but has approved replies: shown as "[removed]"
    reply_to: Comment | None  # set when the indentation no longer shows whom this answers
    reply_to_removed: bool


def visible_thread_numbers(article: Article) -> list[int]:
    """Thread numbers holding at least one approved comment, oldest first."""
    if not article.comment_count:  # exact, so no query for an article without comments
        return []
    return list(
        Comment.objects.approved()
        .filter(article=article)
        .order_by("thread_number")
        .values_list("thread_number", flat=True)
        .distinct()
    )


def _paginator(numbers: list[int]) -> Paginator:
    return Paginator(numbers, conf.get("COMMENTS_THREADS_PER_PAGE"))


def thread_page(article: Article, page_number: str | int | None) -> tuple[Page, list[ThreadEntry]]:
    """One page of threads (invalid page numbers fall back to the nearest page)."""
    page = _paginator(visible_thread_numbers(article)).get_page(page_number)
    threads = list(page.object_list)
    if not threads:
        return page, []
    rows = list(
        Comment.objects.filter(article=article, thread_number__gte=threads[0], thread_number__lte=threads[-1])
        .only(*DISPLAY_FIELDS)
        .order_by("number")
    )
    wanted = set(threads)
    return page, thread_entries([row for row in rows if row.thread_number in wanted])


def thread_entries(rows: list[Comment]) -> list[ThreadEntry]:
    """Depth-first thread order; hidden comments stay only as placeholders for replies."""
    max_depth = conf.get("COMMENTS_MAX_DEPTH")
    by_pk: dict[int | None, Comment] = {row.pk: row for row in rows}
    children: dict[int | None, list[Comment]] = {}
    for row in rows:
        parent_id = row.parent_id if row.parent_id in by_pk else None
        children.setdefault(parent_id, []).append(row)

    shown: dict[int, bool] = {}

    def has_visible(row: Comment) -> bool:
        # Iterative post-order, so a very deep thread cannot hit the recursion limit.
        stack = [(row, False)]
        while stack:
            node, expanded = stack.pop()
            if node.pk in shown:
                continue
            if expanded:
                shown[node.pk] = node.is_approved or any(shown[c.pk] for c in children.get(node.pk, []))
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in children.get(node.pk, []))
        return shown[row.pk]

    entries: list[ThreadEntry] = []
    stack = [(root, 0) for root in reversed(children.get(None, []))]
    while stack:
        row, depth = stack.pop()
        if not has_visible(row):
            continue
        parent = by_pk.get(row.parent_id)
        capped = depth > max_depth
        entries.append(
            ThreadEntry(
                comment=row,
                depth=min(depth, max_depth),
                is_placeholder=not row.is_approved,
                reply_to=parent if capped else None,
                reply_to_removed=bool(capped and parent is not None and not parent.is_approved),
            )
        )
        stack.extend((child, depth + 1) for child in reversed(children.get(row.pk, [])))
    return entries


def page_of_comment(comment: Comment) -> int:
    """The thread page on which a comment is shown: its thread's page, or the last page
    for a thread not visible yet (a held comment that starts one is shown there to its
    author)."""
    numbers = visible_thread_numbers(comment.article)
    per_page = conf.get("COMMENTS_THREADS_PER_PAGE")
    try:
        index = numbers.index(comment.thread_number)
    except ValueError:
        return max(1, -(-len(numbers) // per_page))
    return index // per_page + 1


def recent_comments(limit: int) -> list[Comment]:
    """The newest approved comments on public articles: the newest end of the
    (status, created_at) index a batch at a time, keeping the comments whose article is
    public (read by primary key). Two small queries, whatever the number of comments or
    articles: a join lets the database start from the articles and sort every comment."""
    picked: list[Comment] = []
    batch = max(limit * 4, 20)
    fields = ("pk", "number", "author_name", "body_html", "created_at", "article_id")
    newest = Comment.objects.approved().order_by("-created_at", "-pk").only(*fields)
    for offset in range(0, batch * 5, batch):
        rows = list(newest[offset : offset + batch])
        public = Article.objects.published().only("title", "slug").in_bulk({row.article_id for row in rows})
        for row in rows:
            if row.article_id in public:
                row.article = public[row.article_id]
                picked.append(row)
                if len(picked) == limit:
                    return picked
        if len(rows) < batch:
            break
    return picked


def pending_count() -> int:
    return Comment.objects.pending().count()


def comment_settings() -> CommentSettings:
    """The comment policy, cached like the site settings (renewed when it is saved)."""
    return caching.value("comment-settings", scopes=("structure",), build=CommentSettings.current)
