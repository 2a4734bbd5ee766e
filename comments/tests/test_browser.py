"""In Chromium: a first-time reader posts a comment (a refused try keeps what they typed;
then held), a moderator approves it in the admin, and the reader, now known, replies in
place and sees the thread."""

import pytest

from articles.tests.factories import ArticleFactory, UserFactory
from comments.models import Comment, CommentSettings
from comments.tests.conftest import set_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def test_reader_comments_moderator_approves_reader_replies(live_server, page, chromium, settings):
    settings.COMMENTS_MIN_FILL_SECONDS = 0  # a script fills the form faster than any person
    set_policy(comment_moderation=CommentSettings.Moderation.FIRST_TIME)
    UserFactory(username="moderator", is_staff=True, is_superuser=True, password=PASSWORD)
    article = ArticleFactory(title="Threads in the browser")
    url = live_server.url + article.get_absolute_url()

    # The reader posts a first comment: held for moderation, with a clear message.
    page.goto(url)
    page.fill("#id_author_name", "Ada Reader")
    page.fill("#id_author_email", "ada@example.com")
    page.check("#id_notify_on_reply")
    # Sent without a comment: refused, with the reason, and nothing typed is lost.
    page.click("button:has-text('Post comment')")
    page.locator(".field-body .field-error", has_text="This field is required.").wait_for()
    assert page.get_by_text("Your comment was not posted").count() == 1
    assert page.input_value("#id_author_name") == "Ada Reader"
    assert page.is_checked("#id_notify_on_reply")
    assert page.evaluate("document.activeElement.id") == "id_body"
    page.fill("#id_body", "First thoughts, with **bold** words.")
    page.click("button:has-text('Post comment')")
    # Held: the reader lands on it, in place and marked, with the notice beside the form.
    page.wait_for_url("**#c-1")
    page.get_by_text("Your comment is awaiting moderation").wait_for()
    held = page.locator("#c-1.comment-pending")
    assert "First thoughts, with bold words." in held.inner_text()
    assert "Awaiting moderation" in held.inner_text()
    box, viewport = held.bounding_box(), page.viewport_size
    assert 0 <= box["y"] < viewport["height"], "the page opens on the held comment"
    assert page.get_by_text("No comments yet").is_hidden()
    assert Comment.objects.get().status == Comment.Status.PENDING

    # The moderator sees the count on the admin index and approves it from the queue.
    moderator_context = chromium.new_context(locale="en-US")
    admin = moderator_context.new_page()
    try:
        admin.goto(f"{live_server.url}/admin/login/?next=/admin/")
        admin.fill("#id_username", "moderator")
        admin.fill("#id_password", PASSWORD)
        admin.click("input[type=submit]")
        admin.get_by_text("1 comment awaits moderation").click()
        admin.wait_for_url("**/admin/comments/comment/?status__exact=pending")
        admin.locator("input[name=_selected_action]").first.check()
        admin.select_option("select[name=action]", "approve_selected")
        admin.click("button[name=index]")
        admin.get_by_text("1 comment approved.").wait_for()
    finally:
        moderator_context.close()

    # The reader comes back: the comment is there; the form remembers them.
    page.goto(url)
    first = page.locator("#c-1")
    assert "First thoughts, with bold words." in first.inner_text()
    assert page.input_value("#id_author_name") == "Ada Reader"
    # "Reply" moves the form under the comment (JavaScript); the reader is known now,
    # so the reply is published at once and the page lands on it.
    first.get_by_role("link", name="Reply").click()
    assert page.locator("#c-1 #comment-form").count() == 1
    assert page.locator("#comment-form-title").inner_text() == "Reply to Ada Reader"
    page.fill("#id_body", "A reply to myself, in the thread.")
    page.click("button:has-text('Post comment')")
    page.wait_for_url("**#c-2")
    page.get_by_text("Your comment is published.").wait_for()
    reply = page.locator("#c-2")
    assert "A reply to myself, in the thread." in reply.inner_text()
    assert "depth-1" in reply.get_attribute("class")
    assert page.locator("#comments-title").inner_text() == "2 comments"
    page.screenshot(path="/tmp/comments-flow.png", full_page=True)
    assert list(Comment.objects.values_list("number", "parent__number", "status")) == [
        (1, None, "approved"),
        (2, 1, "approved"),
    ]
