"""Helpers shared by the comments tests: a valid form post, site policy switches."""

from __future__ import annotations

import re
import secrets
import time

import pytest

from articles.tests.factories import ArticleFactory
from blog_project.caching import bump
from blog_project.security import network_of
from comments import spam
from comments.models import CommentSettings

TEST_CLIENT_IP = "127.0.0.1"  # the test client's REMOTE_ADDR


def aged_stamp(age: float = 60.0, *, ip: str = TEST_CLIENT_IP) -> str:
    """A form stamp as if the form had been shown to ``ip`` ``age`` seconds ago."""
    client = spam.network_key(network_of(ip))[:16]
    nonce = secrets.token_hex(4)
    return spam.sign_stamp(shown_at=time.time() - age, client=client, nonce=nonce)


def client_key(ip: str = TEST_CLIENT_IP) -> str:
    return spam.network_key(network_of(ip))


def form_data(**overrides) -> dict:
    data = {
        "author_name": "Ada Lovelace",
        "author_email": "ada@example.com",
        "author_url": "",
        "body": "A thoughtful remark about *engines*.",
        "stamp": aged_stamp(),
        "remember": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def post_url(article) -> str:
    return f"/comments/post/{article.pk}/"


def stamp_in(html: str) -> str:
    match = re.search(r'name="stamp" value="([^"]*)"', html)
    assert match, "no stamp field in the page"
    return match.group(1)


def set_policy(**fields) -> CommentSettings:
    """Change the comment policy and make every reader see it now (no commit needed)."""
    row = CommentSettings.load()
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    bump("structure")
    return row


@pytest.fixture
def article(db):
    return ArticleFactory(title="On engines", body="The analytical engine weaves patterns.")


@pytest.fixture
def open_policy(db):
    """Publish comments at once (the default policy holds first-time commenters)."""
    return set_policy(comment_moderation=CommentSettings.Moderation.NONE)
