"""Helpers shared by the comments tests: a valid form post, site policy switches."""

from __future__ import annotations

import re
import time

import pytest
from django.core import signing

from articles.models import SiteSettings
from articles.tests.factories import ArticleFactory
from blog_project.caching import bump
from comments import spam


def aged_stamp(age: float = 60.0) -> str:
    """A form stamp as if the form had been shown ``age`` seconds ago."""
    return signing.dumps(round(time.time() - age, 3), salt=spam._STAMP_SALT, compress=False)


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


def set_site(**fields) -> SiteSettings:
    """Change the site settings row and make every reader see it now (no commit needed)."""
    row = SiteSettings.load()
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
    return set_site(comment_moderation=SiteSettings.Moderation.NONE)
