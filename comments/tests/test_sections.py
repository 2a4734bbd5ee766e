"""The thread and form under each article, and the recent-comments widget: what readers
see, freshness of the cached pages after moderation, and query counts pinned flat from
0 to 200 comments for anonymous and staff visitors."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from articles.models import SidebarWidget
from articles.tests.factories import ArticleFactory, DraftFactory, WidgetFactory
from blog_project.caching import forget_process_copies
from comments import services
from comments.apps import RECENT_COMMENTS
from comments.models import Comment, CommentSettings
from comments.tests.conftest import form_data, post_url, set_policy
from comments.tests.factories import CommentFactory

pytestmark = pytest.mark.django_db


def _page(client, article, query="") -> str:
    return client.get(article.get_absolute_url() + query).content.decode()


def _recounted(article):
    services._recount([article.pk])
    article.refresh_from_db()
    return article


def test_thread_markup(client, article, settings):
    settings.COMMENTS_MAX_DEPTH = 1
    root = CommentFactory(article=article, author_name="Grace", author_url="https://grace.example")
    reply = CommentFactory(article=article, parent=root, author_name="Alan")
    deep = CommentFactory(article=article, parent=reply, author_name="Kurt")
    page = _page(client, _recounted(article))
    assert 'id="c-1"' in page and 'id="c-2"' in page and 'id="c-3"' in page
    assert 'class="comment depth-0"' in page and 'class="comment depth-1"' in page
    assert 'replying to <a href="#c-2">@Alan</a>' in page  # depth capped: shown flat
    assert f'href="/comments/{deep.pk}/reply/"' in page
    assert '<a href="https://grace.example" rel="nofollow ugc noopener noreferrer">Grace</a>' in page
    assert "https://www.gravatar.com/avatar/" in page
    assert "3 comments" in page


def test_removed_parent_shows_as_removed_and_the_reply_keeps_its_place(client, article):
    root = CommentFactory(article=article, body="Words to be removed")
    CommentFactory(article=article, parent=root, body="A reply that stays")
    CommentFactory(article=article, body="Later thread")
    services.comment_moderate(comments=Comment.objects.filter(pk=root.pk), status=Comment.Status.REMOVED)
    page = _page(client, _recounted(article))
    assert "Words to be removed" not in page
    assert page.index("[removed]") < page.index("A reply that stays") < page.index("Later thread")
    assert "2 comments" in page


def test_avatars_can_be_turned_off(client, article, settings):
    settings.COMMENTS_AVATARS = False
    CommentFactory(article=article)
    assert "gravatar.com" not in _page(client, _recounted(article))


def test_no_section_on_a_draft_preview(staff_client):
    draft = DraftFactory()
    page = staff_client.get(draft.get_absolute_url()).content.decode()
    assert 'id="comments"' not in page


def test_moderation_refreshes_cached_pages_lists_and_widget(client, django_capture_on_commit_callbacks):
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    WidgetFactory(kind=RECENT_COMMENTS, title="Latest talk")
    article = ArticleFactory(title="Talked about")
    reader = Client()
    with django_capture_on_commit_callbacks(execute=True):
        reader.post(post_url(article), form_data(body="Held then shown"))
    anonymous = Client()
    assert "Held then shown" not in _page(anonymous, article)
    assert anonymous.get(article.get_absolute_url())["X-Page-Cache"] == "hit"
    assert "0 comments" in anonymous.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_moderate(comments=Comment.objects.all(), status=Comment.Status.APPROVED)
    response = anonymous.get(article.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"
    page = response.content.decode()
    assert "Held then shown" in page
    widget = page.split("Latest talk")[1].split("</section>")[0]
    assert "Ada Lovelace" in widget and "Held then shown" in widget
    assert "1 comment" in anonymous.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_moderate(comments=Comment.objects.all(), status=Comment.Status.SPAM)
    assert "Held then shown" not in _page(anonymous, article)
    assert "0 comments" in anonymous.get("/").content.decode()


def test_a_new_published_comment_shows_on_the_cached_page(
    client, open_policy, django_capture_on_commit_callbacks
):
    article = ArticleFactory()
    anonymous = Client()
    _page(anonymous, article)
    assert anonymous.get(article.get_absolute_url())["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(post_url(article), form_data(body="Fresh words"))
    assert "Fresh words" in _page(anonymous, article)


def test_recent_comments_widget_without_comments(client):
    WidgetFactory(kind=RECENT_COMMENTS, title="Latest talk")
    assert "No comments yet." in client.get("/").content.decode()


def _grow(article, total: int) -> None:
    """Threads of a comment and a reply, plus some held and removed ones, up to ``total``."""
    while Comment.objects.filter(article=article).count() < total:
        root = CommentFactory(article=article)
        CommentFactory(article=article, parent=root)
        if root.number % 10 == 1:
            CommentFactory(article=article, parent=root, status=Comment.Status.PENDING)
            services.comment_moderate(comments=Comment.objects.filter(pk=root.pk), status="removed")
    _recounted(article)


@pytest.mark.parametrize("visitor", ["anonymous", "staff"])
def test_article_page_query_count_is_flat_from_0_to_200_comments(
    staff_client, django_assert_max_num_queries, visitor
):
    for kind in (
        RECENT_COMMENTS,
        SidebarWidget.Kind.RECENT_POSTS,
        SidebarWidget.Kind.TAGS,
    ):
        WidgetFactory(kind=kind)
    browser = staff_client if visitor == "staff" else Client()
    article = ArticleFactory()
    counts = {}
    for total in (0, 1, 20, 200):
        _grow(article, total)
        cache.clear()  # cold: nothing cached, not even this process's live view counts
        forget_process_copies()
        with CaptureQueriesContext(connection) as queries:
            response = browser.get(article.get_absolute_url())
        assert response.status_code == 200
        counts[total] = len(queries)
    # Two queries for the comments (visible thread numbers, then one page of threads),
    # none at all for an article without comments, and one for the recent-comments widget
    # to check that the newest comments' articles are public once there are comments; the
    # same for 1 or 200 comments.
    assert counts[1] == counts[20] == counts[200] == counts[0] + 3, counts
    cache.clear()
    with django_assert_max_num_queries(counts[0] + 3):
        page = browser.get(article.get_absolute_url()).content.decode()
    assert page.count('class="comment ') >= 50
    if visitor == "anonymous":
        with django_assert_max_num_queries(0):
            assert browser.get(article.get_absolute_url())["X-Page-Cache"] == "hit"


@pytest.mark.parametrize(
    "stored", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "java\tscript:x"]
)
def test_a_stored_website_that_is_not_http_is_not_a_link(client, article, stored):
    """The form refuses such URLs, but an import or a shell can store one: checked when shown."""
    comment = CommentFactory(article=article, author_name="Mallory")
    Comment.objects.filter(pk=comment.pk).update(author_url=stored)
    page = _page(client, _recounted(article))
    assert '<span class="comment-author">Mallory</span>' in page
    assert "alert(1)" not in page and "data:text/html" not in page


def test_comment_times_are_valid_html_datetimes(client, article):
    import re

    CommentFactory(article=article)
    page = _page(client, _recounted(article))
    stamps = re.findall(r'<time datetime="([^"]*)"', page)
    assert len(stamps) >= 2  # the article's and the comment's
    for stamp in stamps:  # at most millisecond precision (the Nu checker's rule); we give seconds
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", stamp), stamp


# --- a reader's own held comments --------------------------------------------------------


def _hold_and_post(client, article, **fields):
    response = client.post(post_url(article), form_data(**fields))
    assert response.status_code == 303
    return response


def test_a_held_reply_is_shown_under_its_thread_with_whom_it_answers(client, article):
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    root = CommentFactory(article=article, author_name="Grace")
    _recounted(article)
    response = _hold_and_post(client, article, parent=root.pk, body="Held reply words")
    held = Comment.objects.get(body="Held reply words")
    assert response["Location"] == f"{article.get_absolute_url()}#c-{held.number}"
    page = _page(client, article)
    own = page.split('class="comment-list pending-comments"')[1].split("</ol>")[0]
    assert "Held reply words" in own and f'id="c-{held.number}"' in own
    assert 'replying to <a href="#c-1">@Grace</a>' in own
    assert "Reply</a>" not in own  # no reply link on a comment nobody else can see


def test_held_comments_are_shown_on_their_thread_page(client, article, settings):
    settings.COMMENTS_THREADS_PER_PAGE = 2
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    first, _second, third = (CommentFactory(article=article) for _ in range(3))
    _recounted(article)
    reply = _hold_and_post(client, article, parent=first.pk, body="On page one")
    new = _hold_and_post(client, article, body="A new thread")
    assert reply["Location"].startswith(article.get_absolute_url() + "#c-")  # page 1
    assert new["Location"].startswith(article.get_absolute_url() + "?page=2#c-")  # the last page
    page_one, page_two = _page(client, article), _page(client, article, "?page=2")
    assert "On page one" in page_one and "A new thread" not in page_one
    assert "A new thread" in page_two and "On page one" not in page_two
    assert f'id="c-{third.number}"' in page_two


def test_only_the_author_sees_a_held_comment_and_a_forged_cookie_shows_nothing(client, article):
    from comments import conf

    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    _hold_and_post(client, article, body="Mine alone")
    assert "Mine alone" in _page(client, article)
    stranger = Client()
    assert "Mine alone" not in _page(stranger, article)
    cookie = client.cookies[conf.PENDING_COOKIE].value
    stranger.cookies[conf.PENDING_COOKIE] = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert "Mine alone" not in _page(stranger, article)
    other_article = ArticleFactory()
    assert "Mine alone" not in _page(client, other_article)  # the cookie names its article


def test_once_moderated_the_comment_is_in_the_thread_or_gone(
    client, article, django_capture_on_commit_callbacks
):
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    _hold_and_post(client, article, body="Soon approved")
    _hold_and_post(client, article, body="Soon spam")
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_moderate(comments=Comment.objects.filter(body="Soon approved"), status="approved")
        services.comment_moderate(comments=Comment.objects.filter(body="Soon spam"), status="spam")
    page = _page(client, article)
    assert page.count("Soon approved") == 1 and "Soon spam" not in page
    assert "pending-comments" not in page and "awaiting moderation" not in page


def test_readers_without_the_cookie_pay_nothing_for_it(client, article, django_assert_num_queries):
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    _hold_and_post(Client(), article, body="Someone else's")
    _page(client, article)
    with django_assert_num_queries(0):
        response = client.get(article.get_absolute_url())
    assert response["X-Page-Cache"] == "hit" and "Someone else" not in response.content.decode()


def test_the_cookie_keeps_the_last_few_held_comments(client, settings):
    from comments import conf, sections

    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    settings.COMMENTS_RATE_LIMIT = 100
    articles = [ArticleFactory() for _ in range(conf.PENDING_COOKIE_ITEMS + 2)]
    for number, each in enumerate(articles):
        _hold_and_post(client, each, body=f"Held number {number}")
    request = type("R", (), {"COOKIES": {conf.PENDING_COOKIE: client.cookies[conf.PENDING_COOKIE].value}})()
    pairs = sections._pending_pairs(request)
    assert len(pairs) == conf.PENDING_COOKIE_ITEMS
    assert pairs[-1][0] == articles[-1].pk and articles[0].pk not in {pair[0] for pair in pairs}
    assert "Held number 11" in _page(client, articles[-1])


def test_the_reply_page_has_one_h1_and_the_form_heading_under_it(client, article):
    import re

    parent = CommentFactory(article=article, author_name="Grace")
    body = client.get(f"/comments/{parent.pk}/reply/").content.decode()
    assert re.findall(r"<h1[^>]*>([^<]*)</h1>", body) == ["Reply to Grace"]
    assert '<h2 class="comment-form-title" id="comment-form-title"' in body
