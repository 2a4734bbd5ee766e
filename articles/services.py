"""Writes to articles go through these services; views and the admin stay thin."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Article


@transaction.atomic
def article_publish(*, articles: QuerySet[Article], at: datetime | None = None) -> int:
    """Publish drafts now (or at ``at``); already published articles keep their time."""
    moment = at or timezone.now()
    count = 0
    for article in articles.select_for_update().filter(status=Article.Status.DRAFT):
        article.status = Article.Status.PUBLISHED
        article.review_requested_at = article.review_told_at = None  # reviewed: published
        article.review_note = ""
        if at is not None or article.published_at < moment:
            article.published_at = moment
        article.full_clean()
        article.save()
        count += 1
    return count


@transaction.atomic
def article_unpublish(*, articles: QuerySet[Article]) -> int:
    """Turn published or scheduled articles back into drafts."""
    count = 0
    for article in articles.select_for_update().filter(status=Article.Status.PUBLISHED):
        article.status = Article.Status.DRAFT
        article.save()
        count += 1
    return count
