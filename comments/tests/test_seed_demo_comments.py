"""``manage.py seed_demo_comments``: approved threads on the pinned and newest articles,
posted through the services, and nothing doubled by a second run."""

import pytest
from django.core.management import call_command

from articles.tests.factories import ArticleFactory
from comments.management.commands.seed_demo_comments import THREAD
from comments.models import Comment, CommentSettings
from comments.tests.conftest import set_policy

pytestmark = pytest.mark.django_db


def test_threads_are_seeded_once_and_approved(django_capture_on_commit_callbacks):
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)  # held first, then approved
    pinned = ArticleFactory(is_pinned=True)
    for _ in range(3):
        ArticleFactory()
    closed = ArticleFactory(allow_comments=False)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo_comments", verbosity=0)
    on = set(Comment.objects.values_list("article_id", flat=True))
    assert pinned.pk in on and closed.pk not in on and len(on) == 3
    assert Comment.objects.count() == 3 * len(THREAD)
    assert not Comment.objects.exclude(status=Comment.Status.APPROVED).exists()
    assert Comment.objects.filter(parent__isnull=False).count() == 3 * 3
    pinned.refresh_from_db()
    assert pinned.comment_count == len(THREAD)
    call_command("seed_demo_comments", verbosity=0)
    assert Comment.objects.count() == 3 * len(THREAD)
