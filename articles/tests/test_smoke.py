"""Smoke: the home page renders on whichever backends the pass uses."""

import pytest

from articles.tests.factories import ArticleFactory


@pytest.mark.django_db
def test_home_lists_published_article(client):
    ArticleFactory(title="Hello 世界 🎉")
    response = client.get("/")
    assert response.status_code == 200
    assert "Hello 世界 🎉" in response.content.decode()
