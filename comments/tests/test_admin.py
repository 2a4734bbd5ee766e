"""Moderation in the admin: the queue with filters and search, bulk actions through the
services, thread and history on the change page, staff replies, the pending count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from articles.tests.factories import ArticleFactory
from comments import services
from comments.models import Comment
from comments.tests.factories import CommentFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/comments/comment/"


def _change_url(comment) -> str:
    return reverse("admin:comments_comment_change", args=[comment.pk])


def _count(article) -> int:
    return Article.objects.values_list("comment_count", flat=True).get(pk=article.pk)


def _action(staff_client, action, comments):
    return staff_client.post(
        CHANGELIST, {"action": action, "_selected_action": [c.pk for c in comments]}, follow=True
    )


def test_index_shows_the_pending_count(staff_client, article):
    CommentFactory(article=article, status=Comment.Status.PENDING)
    CommentFactory(article=article, status=Comment.Status.PENDING)
    page = staff_client.get("/admin/").content.decode()
    assert "2 comments await moderation" in page and f"{CHANGELIST}?status__exact=pending" in page
    Comment.objects.update(status=Comment.Status.APPROVED)
    assert "No comments await moderation." in staff_client.get("/admin/").content.decode()


def test_queue_filters_and_search(staff_client, article):
    CommentFactory(article=article, author_name="Findme", status=Comment.Status.PENDING)
    CommentFactory(article=article, author_name="Approved one")
    CommentFactory(author_name="Elsewhere", body="needle in the body")
    pending = staff_client.get(CHANGELIST, {"status__exact": "pending"}).content.decode()
    assert "Findme" in pending and "Approved one" not in pending
    by_article = staff_client.get(CHANGELIST, {"article": article.pk}).content.decode()
    assert "Findme" in by_article and "Elsewhere" not in by_article
    found = staff_client.get(CHANGELIST, {"q": "needle"}).content.decode()
    assert "Elsewhere" in found and "Findme" not in found
    this_year = staff_client.get(CHANGELIST, {"created_at__year": timezone.now().year}).content.decode()
    assert "Findme" in this_year
    assert staff_client.get(CHANGELIST, {"article": "junk"}).status_code == 200


def test_changelist_query_count_is_flat(staff_client):
    staff_client.get(CHANGELIST)  # warm the per-process site data
    counts = []
    for total in (3, 40):
        while Comment.objects.count() < total:
            CommentFactory(article=ArticleFactory())
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(CHANGELIST).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_bulk_actions_go_through_the_services(staff_client, article):
    held = [CommentFactory(article=article, status=Comment.Status.PENDING) for _ in range(3)]
    response = _action(staff_client, "approve_selected", held)
    assert "3 comments approved." in response.content.decode()
    assert _count(article) == 3
    _action(staff_client, "mark_spam_selected", held[:1])
    _action(staff_client, "remove_selected", held[1:2])
    assert _count(article) == 1
    assert sorted(Comment.objects.values_list("status", flat=True)) == ["approved", "removed", "spam"]


def test_bulk_delete_keeps_counts_and_replies(staff_client, article):
    parent = CommentFactory(article=article)
    reply = CommentFactory(article=article, parent=parent)
    services._recount([article.pk])
    response = staff_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [parent.pk], "post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert list(Comment.objects.all()) == [reply] and _count(article) == 1


def test_change_page_shows_article_thread_and_history(staff_client, article):
    root = CommentFactory(article=article, author_email="ada@example.com", author_name="Ada")
    reply = CommentFactory(article=article, parent=root, author_name="Bob")
    CommentFactory(author_email="ada@example.com", status=Comment.Status.SPAM)
    page = staff_client.get(_change_url(reply)).content.decode()
    assert article.title in page and f"{article.get_absolute_url()}#c-2" in page
    assert "In reply to" in page and "#1 Ada" in page
    assert "2 comments in this thread" in page
    assert f'href="{article.get_absolute_url()}#c-2" class="viewsitelink"' in page
    history = staff_client.get(_change_url(root)).content.decode()
    assert "Spam: 1" in history and "all by this e-mail" in history
    assert "Replies" in history and "#2 Bob" in history


def test_editing_rerenders_and_status_changes_recount(staff_client, article):
    comment = CommentFactory(article=article, status=Comment.Status.PENDING, body="tpyo")
    data = {
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "author_url": "",
        "body": "*typo* fixed",
        "status": "approved",
        "staff_reply": "",
    }
    response = staff_client.post(_change_url(comment), data)
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.is_approved and comment.body_html == "<p><em>typo</em> fixed</p>\n"
    assert _count(article) == 1
    bad = staff_client.post(_change_url(comment), {**data, "author_name": "a\r\nb"})
    assert bad.status_code == 200 and "single line" in bad.content.decode()


def test_staff_reply_from_the_admin(staff_client, article):
    held = CommentFactory(article=article, status=Comment.Status.PENDING, author_name="Ada")
    data = {
        "author_name": "Ada",
        "author_email": held.author_email,
        "author_url": "",
        "body": held.body,
        "status": "pending",
        "staff_reply": "Thanks, **fixed**.",
        "is_staff_reply": "on",  # ignored: not a form field
    }
    response = staff_client.post(_change_url(held), data, follow=True)
    assert "Your reply is published." in response.content.decode()
    reply = Comment.objects.get(parent=held)
    held.refresh_from_db()
    assert held.is_approved and reply.is_approved and reply.is_staff_reply
    assert (
        reply.user == staff_client.staff_user
        and reply.body_html == "<p>Thanks, <strong>fixed</strong>.</p>\n"
    )
    assert _count(article) == 2
    # The reader's comment itself never becomes a staff comment.
    assert not held.is_staff_reply


def test_staff_reply_on_a_closed_article_is_explained(staff_client):
    article = ArticleFactory(allow_comments=False)
    comment = CommentFactory(article=article)
    data = {
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "body": comment.body,
        "status": "approved",
        "staff_reply": "Too late",
    }
    response = staff_client.post(_change_url(comment), data, follow=True)
    assert "comments are closed for this article" in response.content.decode()
    assert Comment.objects.count() == 1


def test_comments_cannot_be_added_in_the_admin(staff_client):
    assert staff_client.get("/admin/comments/comment/add/").status_code == 403
