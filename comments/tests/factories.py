"""Factories for comment tests."""

import factory

from articles.tests.factories import ArticleFactory
from comments.models import Comment


def _next_number(article) -> int:
    numbers = Comment.objects.filter(article=article).order_by("-number").values_list("number", flat=True)
    return (numbers.first() or 0) + 1


class CommentFactory(factory.django.DjangoModelFactory):
    """An approved top-level comment, numbered after the article's last one.

    Bypasses the services (no locking, no count update): tests that need exact counts
    call ``services.comment_create`` or recount afterwards.
    """

    class Meta:
        model = Comment

    article = factory.SubFactory(ArticleFactory)
    author_name = factory.Sequence(lambda n: f"Reader {n}")
    author_email = factory.Sequence(lambda n: f"reader{n}@example.com")
    body = factory.Sequence(lambda n: f"Comment text number {n}.")
    status = Comment.Status.APPROVED
    parent = None
    number = factory.LazyAttribute(lambda c: _next_number(c.article))
    thread_number = factory.LazyAttribute(lambda c: c.parent.thread_number if c.parent else c.number)
