"""Publishing services used by the admin's bulk actions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Article
from articles.services import article_publish, article_unpublish
from articles.tests.factories import ArticleFactory, DraftFactory

pytestmark = pytest.mark.django_db


def test_publish_makes_drafts_public_now_and_leaves_published_alone():
    old = DraftFactory(published_at=timezone.now() - timedelta(days=10))
    published = ArticleFactory()
    before = published.published_at
    assert article_publish(articles=Article.objects.all()) == 1
    old.refresh_from_db()
    published.refresh_from_db()
    assert old.is_public and old.published_at > timezone.now() - timedelta(minutes=1)
    assert published.published_at == before


def test_publish_at_a_future_time_schedules():
    draft = DraftFactory()
    when = timezone.now() + timedelta(days=1)
    article_publish(articles=Article.objects.filter(pk=draft.pk), at=when)
    draft.refresh_from_db()
    assert draft.is_scheduled and not Article.objects.published().filter(pk=draft.pk).exists()


def test_unpublish_returns_articles_to_draft():
    article = ArticleFactory()
    assert article_unpublish(articles=Article.objects.all()) == 1
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    assert not Article.objects.published().exists()
