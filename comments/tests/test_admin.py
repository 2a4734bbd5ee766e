"""Moderation in the admin: the queue with filters and search, bulk actions through the
services, thread and history on the change page, staff replies, the pending count."""

from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from articles.tests.factories import ArticleFactory
from comments import services
from comments.models import Comment, CommentSettings
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


# --- the queue at any size --------------------------------------------------------------

QUEUE_QUERIES = [
    "",
    "?p=2",
    "?status__exact=pending",
    "?is_staff_reply__exact=1",
    "?article={article}",
    "?q=reader1",
    "?q=reader1%40example.com",
    "?q=needle",
    "?q={fingerprint}",
    "?created_at__year={year}",
    "?created_at__year={year}&created_at__month={month}",
    "?o=-2",
    "?created_at__gte={today}",
]


@pytest.mark.parametrize("query", QUEUE_QUERIES)
def test_every_comment_list_costs_a_few_queries_whatever_its_size(
    staff_client, article, query, django_assert_max_num_queries
):
    now = timezone.localtime()

    def cost() -> int:
        url = CHANGELIST + query.format(
            article=article.pk,
            fingerprint="a" * 64,
            year=now.year,
            month=now.month,
            today=quote(now.replace(hour=0, minute=0, second=0, microsecond=0).isoformat()),
        )
        staff_client.get(url)  # warm the per-process site data
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        return len(queries)

    CommentFactory(
        article=article,
        author_name="reader1",
        author_email="reader1@example.com",
        status=Comment.Status.PENDING,
    )
    few = cost()
    for n in range(110):
        CommentFactory(
            article=article if n % 2 else ArticleFactory(),
            author_name=f"reader{n}",
            author_email=f"reader{n}@example.com",
            status=Comment.Status.PENDING if n % 3 else Comment.Status.APPROVED,
            client_hash="a" * 64 if n % 4 == 0 else "",
        )
    many = cost()
    # session, user, the article filter's choices, (a search's keys per part,) the count,
    # the page's keys and rows, the date hierarchy's ends and periods
    assert many <= 13 and few <= 13, (few, many)
    assert many <= few + 1, "a second page adds the keys query, nothing else grows"


def test_search_finds_names_and_addresses_by_their_beginning_and_text_in_the_newest(
    staff_client, monkeypatch
):
    from comments import admin as comments_admin

    old = CommentFactory(author_name="Grace Hopper", author_email="grace@navy.mil", body="An old needle.")
    CommentFactory(
        author_name="Ada", author_email="ada@example.com", body="Needles and pins.", client_hash="b" * 64
    )
    CommentFactory(author_name="Someone", author_email="someone@example.com", body="Nothing here.")

    def found(term: str) -> set[str]:
        response = staff_client.get(CHANGELIST, {"q": term})
        assert response.status_code == 200
        return {c.author_name for c in response.context["cl"].result_list}

    assert found("grace h") == {"Grace Hopper"}, "the beginning of a name, any case"
    assert found("GRACE@") == {"Grace Hopper"}, "the beginning of an address"
    assert found("needle") == {"Grace Hopper", "Ada"}, "words of the text"
    assert found("b" * 64) == {"Ada"}, "a client fingerprint"
    assert found(f"#{old.pk}") == {"Grace Hopper"}, "a comment number"
    monkeypatch.setattr(comments_admin, "TEXT_SEARCH_WINDOW", 2)
    assert found("needle") == {"Ada"}, "the text of older comments is not searched"
    assert found("grace") == {"Grace Hopper"}, "names are, however old"


def test_a_search_with_too_many_matches_says_so(staff_client, article, monkeypatch):
    from comments import admin as comments_admin

    monkeypatch.setattr(comments_admin, "SEARCH_COUNT_LIMIT", 2)
    for n in range(4):
        CommentFactory(article=article, author_name=f"Reader {n}")
    html = staff_client.get(CHANGELIST, {"q": "reader"}).content.decode()
    assert "2+ comments" in html


def test_the_article_filter_lists_the_newest_articles_with_comments(staff_client, article):
    quiet = ArticleFactory(title="Nobody commented")
    CommentFactory(article=article)
    html = staff_client.get(CHANGELIST).content.decode()
    assert f"?article={article.pk}" in html and f"?article={quiet.pk}" not in html


@pytest.mark.real_backends
def test_every_comment_list_reads_through_indexes(staff_client):
    from articles.tests.plans import bulk_blog, unindexed_reads

    rows = bulk_blog(articles=500, comments=20000, author=staff_client.staff_user)
    now = timezone.localtime()
    problems = []
    for query in [
        *QUEUE_QUERIES,
        "?p=30",
        "?status__exact=pending&p=3",
        "?q=reader5",
        "?q=reader5%40example.com",
    ]:
        url = CHANGELIST + query.format(
            article=rows[3].pk,
            fingerprint=f"{5:064x}",
            year=now.year,
            month=now.month,
            today=quote(now.replace(hour=0, minute=0, second=0, microsecond=0).isoformat()),
        )
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        problems += unindexed_reads(queries.captured_queries, {"comments_comment"})
    assert not problems, "\n".join(problems)


def test_the_comment_policy_is_edited_on_its_own_screen(staff_client):
    """Comments' settings screen (linked from the site settings): one row, straight to it."""
    listing = staff_client.get("/admin/comments/commentsettings/")
    assert listing.status_code == 302
    change = listing["Location"]
    fields = {"comments_enabled": "", "comment_moderation": CommentSettings.Moderation.ALL}
    assert staff_client.post(change, fields).status_code == 302
    policy = CommentSettings.objects.get()
    assert (policy.comments_enabled, policy.comment_moderation) == (False, "all")
    bad = staff_client.post(change, {**fields, "comment_moderation": "sometimes"})
    assert bad.status_code == 200 and "comment_moderation" in bad.context["adminform"].form.errors
    assert staff_client.get(change.replace("/change/", "/delete/")).status_code == 403
