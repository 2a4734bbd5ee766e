"""The sitemap lists public URLs with lastmod, absolute, and nothing unpublished."""

import xml.etree.ElementTree as ET

import pytest

from articles.tests.factories import ArticleFactory, DraftFactory, PageFactory, ScheduledFactory, TagFactory

pytestmark = pytest.mark.django_db
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def test_sitemap_lists_public_urls_with_lastmod(client):
    tag = TagFactory(name="t1", slug="t1")
    article = ArticleFactory(title="中文 文章", tags=[tag])
    draft = DraftFactory(tags=[tag])
    scheduled = ScheduledFactory()
    page = PageFactory(slug="about")
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    entries = {url.find("s:loc", NS).text: url for url in root.findall("s:url", NS)}
    assert "http://testserver/" in entries
    article_url = "http://testserver" + article.get_absolute_url()
    assert article_url in entries
    assert entries[article_url].find("s:lastmod", NS).text.startswith(str(article.updated_at.date()))
    assert "http://testserver/p/about/" in entries
    assert "http://testserver/tag/t1/" in entries
    assert "http://testserver" + article.category.get_absolute_url() in entries
    for hidden in (draft, scheduled):
        assert "http://testserver" + hidden.get_absolute_url() not in entries
    assert page.get_absolute_url()


def test_category_of_only_unpublished_articles_is_not_listed(client):
    draft = DraftFactory()
    body = client.get("/sitemap.xml").content.decode()
    assert draft.category.get_absolute_url() not in body
