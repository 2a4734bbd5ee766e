"""The sitemap index and its sections: every public URL exactly once with lastmod, sections
paginated at the limit (each page its own, cached or not), nothing unpublished, robots.txt
names the index."""

import xml.etree.ElementTree as ET

import pytest

from articles import sitemaps
from articles.tests.factories import ArticleFactory, DraftFactory, PageFactory, ScheduledFactory, TagFactory

pytestmark = pytest.mark.django_db
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def _locations(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    root = ET.fromstring(response.content)
    return [node.text for node in root.iter(f"{{{NS['s']}}}loc")]


def _all_urls(client) -> dict[str, ET.Element]:
    entries = {}
    for section in _locations(client, "/sitemap.xml"):
        root = ET.fromstring(client.get(section.replace("http://testserver", "")).content)
        for url in root.findall("s:url", NS):
            location = url.find("s:loc", NS).text
            assert location not in entries, f"{location} listed twice"
            entries[location] = url
    return entries


def test_the_index_lists_sections_that_list_every_public_url_once_with_lastmod(client):
    tag = TagFactory(name="t1", slug="t1")
    article = ArticleFactory(title="中文 文章", tags=[tag])
    draft = DraftFactory(tags=[TagFactory(name="draft-only", slug="draft-only")])
    scheduled = ScheduledFactory(tags=[TagFactory(name="later", slug="later")])
    PageFactory(slug="about")
    entries = _all_urls(client)
    assert "http://testserver/" in entries and "http://testserver/archives/" in entries
    article_url = "http://testserver" + article.get_absolute_url()
    assert entries[article_url].find("s:lastmod", NS).text.startswith(str(article.updated_at.date()))
    assert "http://testserver/p/about/" in entries
    assert entries["http://testserver/tag/t1/"].find("s:lastmod", NS) is not None
    category_url = "http://testserver" + article.category.get_absolute_url()
    assert entries[category_url].find("s:lastmod", NS) is not None
    for hidden in (draft, scheduled):
        assert "http://testserver" + hidden.get_absolute_url() not in entries
    assert "http://testserver/tag/draft-only/" not in entries
    assert "http://testserver/tag/later/" not in entries, "a tag of scheduled articles only"
    assert client.get("/sitemap-index.xml").content == client.get("/sitemap.xml").content


def test_a_category_of_only_unpublished_articles_is_not_listed(client):
    draft = DraftFactory()
    assert "http://testserver" + draft.category.get_absolute_url() not in _all_urls(client)


def test_sections_are_paginated_and_every_page_is_its_own_cached_or_not(client, monkeypatch):
    monkeypatch.setattr(sitemaps.ArticleSitemap, "limit", 2)
    articles = [ArticleFactory() for _ in range(5)]
    sections = [url for url in _locations(client, "/sitemap.xml") if "sitemap-articles" in url]
    assert [url.rsplit("/", 1)[1] for url in sections] == [
        "sitemap-articles.xml",
        "sitemap-articles.xml?p=2",
        "sitemap-articles.xml?p=3",
    ]
    pages = {}
    for _round in ("rendered", "cached"):
        for url in sections:
            path = url.replace("http://testserver", "")
            pages.setdefault(path, []).append(_locations(client, path))
    listed = [location for path in pages for location in pages[path][0]]
    assert sorted(listed) == sorted("http://testserver" + a.get_absolute_url() for a in articles)
    for path, (rendered, cached) in pages.items():
        assert rendered == cached, path
    assert client.get("/sitemap-articles.xml?p=9").status_code == 404


def test_robots_txt_names_the_index(client):
    assert "Sitemap: http://testserver/sitemap.xml" in client.get("/robots.txt").content.decode()


def test_article_locations_are_their_urls_chinese_slugs_included():
    article = ArticleFactory(title="中文 标题")
    assert sitemaps.ArticleSitemap().location(article) == article.get_absolute_url()
