"""Comment mail: one moderators' digest however many comments arrive, reply mail with an
unsubscribe link that expires (and says so), the "mail" breaker, and the outbox that keeps
what could not be sent and sends it later."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from articles.tests.factories import UserFactory
from blog_project.breaker import breaker
from comments import notifications, services, tasks
from comments.models import Comment, CommentSettings, OutboxMessage
from comments.tests.conftest import set_policy
from comments.tests.factories import CommentFactory
from tests.faults import SmtpServer, free_port

pytestmark = pytest.mark.django_db


def _create(article, **overrides) -> Comment:
    fields = {"author_name": "Ada", "author_email": "ada@example.com", "body": "Hello there"}
    fields.update(overrides)
    return services.comment_create(article=article, **fields)


@pytest.fixture
def moderated(settings):
    settings.ADMINS = [("Mod", "mod@example.com")]
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)


def test_a_flood_of_held_comments_is_one_digest_not_one_mail_each(
    article, moderated, django_capture_on_commit_callbacks
):
    """Thirty posts, each committed on its own: without a broker the first one's digest goes
    out at once; the rest of the window waits for the next digest, which lists them all."""
    held = []
    for n in range(30):
        with django_capture_on_commit_callbacks(execute=True):
            held.append(_create(article, author_name=f"Bot {n}", body=f"Buy now {n}"))
    assert len(mail.outbox) == 1
    assert "Buy now 0" in mail.outbox[0].body and "On engines" in mail.outbox[0].subject
    assert tasks.send_waiting_mail.apply().get()["digest"] is True
    assert len(mail.outbox) == 2
    digest = mail.outbox[1]
    assert digest.subject == "[My Blog] 29 comments awaiting moderation"
    assert "29 comments await your moderation." in digest.body
    assert "Buy now 1\n" in digest.body and "Buy now 20\n" in digest.body  # the first 20 listed
    assert "Buy now 21\n" not in digest.body and "... and 9 more." in digest.body
    assert f"/admin/comments/comment/{held[1].pk}/change/" in digest.body
    assert "?status__exact=pending" in digest.body
    assert not Comment.objects.filter(moderators_notified_at=None).exists()
    assert tasks.send_waiting_mail.apply().get()["digest"] is False  # told once
    assert len(mail.outbox) == 2


def test_the_digest_window_batches_until_it_ends(
    article, moderated, settings, django_capture_on_commit_callbacks
):
    settings.COMMENTS_MODERATION_DIGEST_SECONDS = 60
    with django_capture_on_commit_callbacks(execute=True):
        _create(article, body="first")
    with django_capture_on_commit_callbacks(execute=True):
        _create(article, body="second")
    assert len(mail.outbox) == 1
    assert cache.get(tasks.DIGEST_SCHEDULED_KEY) == 1  # the window's mark, expiring after 60 s
    cache.delete(tasks.DIGEST_SCHEDULED_KEY)  # the window is over
    with django_capture_on_commit_callbacks(execute=True):
        _create(article, body="third, after the window")
    assert len(mail.outbox) == 2 and "2 comments await" in mail.outbox[1].body


def test_moderators_fall_back_to_superusers(settings):
    settings.ADMINS = []
    UserFactory(is_superuser=True, is_staff=True, email="root@example.com")
    UserFactory(is_superuser=True, is_staff=True, email="")
    assert notifications.moderator_addresses() == ["root@example.com"]
    settings.COMMENTS_MODERATOR_EMAILS = ["team@example.com"]
    assert notifications.moderator_addresses() == ["team@example.com"]


def test_reply_mail_with_one_click_unsubscribe_that_says_when_it_expires(
    article, open_policy, django_capture_on_commit_callbacks
):
    parent = _create(article, author_email="ada@example.com", notify_on_reply=True)
    with django_capture_on_commit_callbacks(execute=True):
        reply = _create(article, parent=parent, author_email="bob@example.com", body="Hi Ada")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert "Hi Ada" in message.body and reply.get_absolute_url() in message.body
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert f"the link works for 90 days): {unsubscribe}" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = unsubscribe.rstrip("/").rsplit("/", 1)[-1]
    assert notifications.email_from_unsubscribe_token(token) == "ada@example.com"


def test_reply_mail_is_sent_once_and_only_when_wanted(article, django_capture_on_commit_callbacks):
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    wants = CommentFactory(article=article, author_email="ada@example.com", notify_on_reply=True)
    silent = CommentFactory(article=article, author_email="cy@example.com", notify_on_reply=False)
    with django_capture_on_commit_callbacks(execute=True):
        held = _create(article, parent=wants, author_email="bob@example.com")
        own = _create(article, parent=wants, author_email="ada@example.com", body="self reply")
        quiet = _create(article, parent=silent, author_email="bob@example.com", body="to silent")
    mail.outbox.clear()  # the moderation digest
    replies = Comment.objects.filter(pk__in=[held.pk, own.pk, quiet.pk])
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_moderate(comments=replies, status=Comment.Status.APPROVED)
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_moderate(comments=replies, status=Comment.Status.REMOVED)
        services.comment_moderate(comments=replies, status=Comment.Status.APPROVED)
    assert len(mail.outbox) == 1  # approving again does not mail again


def test_unsubscribe_tokens_are_tamper_proof_and_expire(settings):
    token = notifications.unsubscribe_token("Ada@Example.com")
    assert notifications.email_from_unsubscribe_token(token) == "ada@example.com"
    assert notifications.email_from_unsubscribe_token(token[:-2] + "xx") is None
    assert notifications.email_from_unsubscribe_token("") is None
    with time_machine.travel(timezone.now() + timedelta(days=89)):
        assert notifications.email_from_unsubscribe_token(token) == "ada@example.com"
    with (
        time_machine.travel(timezone.now() + timedelta(days=91)),
        pytest.raises(notifications.UnsubscribeLinkExpired),
    ):
        notifications.email_from_unsubscribe_token(token)


def test_a_dead_mail_server_keeps_the_mail_and_the_outbox_sends_it_later(
    article, open_policy, settings, django_capture_on_commit_callbacks
):
    smtp = SmtpServer(port=free_port())  # not started yet: connections are refused
    smtp.use_in(settings)
    parent = _create(article, author_email="ada@example.com", notify_on_reply=True)
    with django_capture_on_commit_callbacks(execute=True):
        first = _create(article, parent=parent, author_email="bob@example.com", body="first reply")
    assert breaker("mail").is_open  # one failure: the next mails do not even try
    with django_capture_on_commit_callbacks(execute=True):
        second = _create(article, parent=parent, author_email="cy@example.com", body="second reply")
    kept = list(OutboxMessage.objects.values_list("kind", "arguments"))
    assert kept == [("reply", {"comment_id": first.pk}), ("reply", {"comment_id": second.pk})]
    assert Comment.objects.filter(reply_notified_at=None, pk__in=[first.pk, second.pk]).count() == 2
    # Still down at the next run: nothing lost, each attempt counted (the task's, this one).
    breaker("mail").reset()
    assert tasks.send_waiting_mail.apply().get() == {"digest": False, "sent": 0, "waiting": 2}
    assert OutboxMessage.objects.order_by("pk").first().attempts == 2
    smtp.start()
    try:
        breaker("mail").reset()  # the breaker's interval has passed
        assert tasks.send_waiting_mail.apply().get() == {"digest": False, "sent": 2, "waiting": 0}
    finally:
        smtp.stop()
    assert len(smtp.messages) == 2
    assert "first reply" in smtp.messages[0] and "second reply" in smtp.messages[1]
    assert not Comment.objects.filter(reply_notified_at=None, pk__in=[first.pk, second.pk]).exists()


def test_the_outbox_drops_rows_it_cannot_understand(caplog):
    OutboxMessage.objects.create(kind="reply", arguments={"no_such_argument": 1})
    assert notifications.outbox_drain().waiting == 0
    assert "Dropping outbox row" in caplog.text
    with pytest.raises(ValueError):
        notifications.outbox_keep(kind="unknown")
