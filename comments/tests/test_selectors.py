"""Thread reads: depth-first order, capped indentation with "replying to", placeholders for
removed parents, pages of whole threads in two queries, recent comments, positions."""

import pytest

from articles.tests.factories import ArticleFactory, DraftFactory
from comments import selectors, services
from comments.models import Comment
from comments.tests.factories import CommentFactory

pytestmark = pytest.mark.django_db

APPROVED, PENDING, REMOVED, SPAM = (Comment.Status.APPROVED, Comment.Status.PENDING, "removed", "spam")


def _chain(article, length, status=APPROVED):
    comments, parent = [], None
    for _ in range(length):
        parent = CommentFactory(article=article, parent=parent, status=status)
        comments.append(parent)
    return comments


def _page(article, number=1):
    services._recount([article.pk])
    article.refresh_from_db()
    return selectors.thread_page(article, number)


def test_depth_first_order_and_capped_depth(article, settings):
    settings.COMMENTS_MAX_DEPTH = 2
    root = CommentFactory(article=article)
    a = CommentFactory(article=article, parent=root)
    other_root = CommentFactory(article=article)
    b = CommentFactory(article=article, parent=a)
    c = CommentFactory(article=article, parent=b)  # depth 3: shown at 2, "replying to"
    sibling = CommentFactory(article=article, parent=root)
    _page_obj, entries = _page(article)
    assert [e.comment.pk for e in entries] == [root.pk, a.pk, b.pk, c.pk, sibling.pk, other_root.pk]
    assert [e.depth for e in entries] == [0, 1, 2, 2, 1, 0]
    assert [e.reply_to and e.reply_to.pk for e in entries] == [None, None, None, b.pk, None, None]


def test_removed_parent_keeps_its_place_as_a_placeholder(article):
    root = CommentFactory(article=article, body="original words")
    reply = CommentFactory(article=article, parent=root)
    lonely_removed = CommentFactory(article=article, status=REMOVED)
    services.comment_moderate(comments=Comment.objects.filter(pk=root.pk), status=REMOVED)
    _page_obj, entries = _page(article)
    assert [(e.comment.pk, e.is_placeholder) for e in entries] == [(root.pk, True), (reply.pk, False)]
    assert lonely_removed.pk not in [e.comment.pk for e in entries]


def test_hidden_replies_and_their_subtrees_are_left_out(article):
    root = CommentFactory(article=article)
    held = CommentFactory(article=article, parent=root, status=PENDING)
    CommentFactory(article=article, parent=held, status=SPAM)
    shown = CommentFactory(article=article, parent=root)
    _page_obj, entries = _page(article)
    assert [e.comment.pk for e in entries] == [root.pk, shown.pk]


def test_pages_hold_whole_threads(article, settings):
    settings.COMMENTS_THREADS_PER_PAGE = 2
    roots = [CommentFactory(article=article) for _ in range(5)]
    CommentFactory(article=article, parent=roots[1])
    CommentFactory(article=article, status=PENDING)  # a hidden thread takes no slot
    page, entries = _page(article, 2)
    assert page.paginator.num_pages == 3
    assert [e.comment.pk for e in entries] == [roots[2].pk, roots[3].pk]
    last, _entries = _page(article, "999")
    assert last.number == 3
    first, _entries = _page(article, "not-a-number")
    assert first.number == 1


def test_an_article_without_comments_costs_no_query(article, django_assert_num_queries):
    with django_assert_num_queries(0):
        page, entries = selectors.thread_page(article, None)
    assert entries == [] and page.number == 1


def test_a_page_costs_two_queries_however_long_the_threads(article, django_assert_num_queries):
    for _ in range(20):
        _chain(article, 5)
    services._recount([article.pk])
    article.refresh_from_db()
    with django_assert_num_queries(2):
        _page_obj, entries = selectors.thread_page(article, 1)
    assert len(entries) == 100


def test_very_deep_threads_do_not_recurse(article):
    chain = _chain(article, 1200)
    _page_obj, entries = _page(article)
    assert len(entries) == 1200 and entries[-1].reply_to.pk == chain[-2].pk


def test_page_of_comment(article, settings):
    settings.COMMENTS_THREADS_PER_PAGE = 2
    roots = [CommentFactory(article=article) for _ in range(3)]
    reply = CommentFactory(article=article, parent=roots[2])
    services._recount([article.pk])
    reply.article.refresh_from_db()
    assert selectors.page_of_comment(roots[0]) == 1
    assert selectors.page_of_comment(reply) == 2


def test_recent_comments_are_approved_on_public_articles_only(article):
    old = CommentFactory(article=article)
    CommentFactory(article=article, status=PENDING)
    CommentFactory(article=DraftFactory())
    new = CommentFactory(article=ArticleFactory())
    assert [c.pk for c in selectors.recent_comments(5)] == [new.pk, old.pk]
    assert [c.pk for c in selectors.recent_comments(1)] == [new.pk]


def test_pending_count(article):
    CommentFactory(article=article, status=PENDING)
    CommentFactory(article=article, status=PENDING)
    CommentFactory(article=article)
    assert selectors.pending_count() == 2
