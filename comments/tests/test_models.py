"""The Comment model: field rules, sanitised rendering, avatars, constraints, utf8mb4."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from articles.tests.factories import ArticleFactory
from comments.models import Comment
from comments.tests.factories import CommentFactory

pytestmark = pytest.mark.django_db


def _valid(**overrides) -> Comment:
    article = overrides.pop("article", None) or ArticleFactory()
    fields = {
        "article": article,
        "author_name": "Ada",
        "author_email": "ada@example.com",
        "body": "Hello",
        "number": 1,
        "thread_number": 1,
    }
    fields.update(overrides)
    return Comment(**fields)


def test_body_is_rendered_once_and_sanitised_on_save():
    comment = CommentFactory(
        body="**Hi** <script>alert(1)</script> [x](javascript:alert(1)) https://example.com ![i](https://e.com/i.png)"
    )
    html = comment.body_html
    assert "<strong>Hi</strong>" in html
    assert "<script" not in html and "&lt;script&gt;" in html  # raw HTML is shown as text
    assert 'href="javascript' not in html
    assert "<img" not in html
    assert 'rel="nofollow ugc noopener noreferrer"' in html


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("author_name", "Eve\r\nBcc: victim@example.com"),
        ("author_name", "   "),
        ("author_email", "eve@example.com\nBcc: victim@example.com"),
        ("author_email", "not-an-address"),
        ("author_url", "javascript:alert(1)"),
        ("author_url", "ftp://example.com/"),
        ("body", "   \n  "),
    ],
)
def test_bad_fields_are_refused_by_full_clean(field, value):
    comment = _valid(**{field: value})
    with pytest.raises(ValidationError) as excinfo:
        comment.full_clean()
    assert field in excinfo.value.message_dict


def test_body_length_is_limited_by_setting(settings):
    settings.COMMENTS_MAX_LENGTH = 10
    with pytest.raises(ValidationError) as excinfo:
        _valid(body="x" * 11).full_clean()
    assert "body" in excinfo.value.message_dict
    _valid(body="x" * 10).full_clean()


def test_parent_must_belong_to_the_same_article():
    parent = CommentFactory()
    comment = _valid(parent=parent)  # on another article
    with pytest.raises(ValidationError) as excinfo:
        comment.full_clean()
    assert excinfo.value.message_dict["parent"] == ["You can only reply to a comment on the same article."]


def test_email_is_trimmed_and_lower_cased_by_clean():
    comment = _valid(author_email="  Ada@Example.COM ", author_name="  Ada  ")
    comment.full_clean()
    assert comment.author_email == "ada@example.com" and comment.author_name == "Ada"


def test_gravatar_uses_the_trimmed_lower_cased_address():
    comment = Comment(author_email=" Ada@Example.com ")
    digest = hashlib.sha256(b"ada@example.com").hexdigest()
    assert comment.avatar_url.startswith(f"https://www.gravatar.com/avatar/{digest}?")


def test_number_is_unique_per_article_only():
    first = CommentFactory()
    CommentFactory(number=first.number)  # another article: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        CommentFactory(article=first.article, number=first.number)


def test_deleting_a_parent_keeps_its_replies_in_the_thread_and_the_article_takes_all():
    parent = CommentFactory()
    reply = CommentFactory(article=parent.article, parent=parent)
    CommentFactory(article=parent.article, parent=reply)
    parent.delete()
    reply.refresh_from_db()
    assert reply.parent is None and reply.thread_number == parent.number
    reply.article.delete()  # a whole thread in one statement (MariaDB checks per row)
    assert not Comment.objects.exists()


@pytest.mark.real_backends
def test_emoji_and_chinese_survive_mariadb_utf8mb4():
    text = "你好，世界 👋🏽 — 𠜎 and a family 👨‍👩‍👧"
    comment = CommentFactory(author_name="读者 🐼", body=text)
    stored = Comment.objects.get(pk=comment.pk)
    assert stored.author_name == "读者 🐼"
    assert stored.body == text
    assert "👋🏽" in stored.body_html and "你好" in stored.body_html
