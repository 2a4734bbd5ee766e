"""The sitemap index and its sections: every public URL exactly once per language with
lastmod and its hreflang alternates, sections paginated at the limit (each page its own,
cached or not), nothing unpublished, every URL on BLOG_SITE_URL, robots.txt names the index."""

import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.utils import timezone, translation

from articles import sitemaps
from articles.tests.factories import ArticleFactory, DraftFactory, PageFactory, ScheduledFactory, TagFactory

pytestmark = pytest.mark.django_db
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
SITE = "http://testserver"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


def _url(obj) -> str:
    with translation.override("en"):
        return SITE + obj.get_absolute_url()


def _locations(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    root = ET.fromstring(response.content)
    return [node.text for node in root.iter(f"{{{NS['s']}}}loc")]


def _all_urls(client) -> dict[str, ET.Element]:
    entries = {}
    for section in _locations(client, "/sitemap.xml"):
        root = ET.fromstring(client.get(section.replace(SITE, "")).content)
        for url in root.findall("s:url", NS):
            location = url.find("s:loc", NS).text
            assert location not in entries, f"{location} listed twice"
            entries[location] = url
    return entries


def _lastmod(url: ET.Element) -> date:
    return date.fromisoformat(url.find("s:lastmod", NS).text)


def test_the_index_lists_sections_that_list_every_public_url_once_with_lastmod(client):
    tag = TagFactory(name="t1", slug="t1")
    article = ArticleFactory(title="中文 文章", tags=[tag])
    draft = DraftFactory(tags=[TagFactory(name="draft-only", slug="draft-only")])
    scheduled = ScheduledFactory(tags=[TagFactory(name="later", slug="later")])
    PageFactory(slug="about")
    entries = _all_urls(client)
    assert "http://testserver/" in entries and "http://testserver/archives/" in entries
    assert "http://testserver/zh-hans/" in entries and "http://testserver/zh-hans/archives/" in entries
    article_url = _url(article)
    # lastmod is the day in the site's time zone (from 16:00 UTC, the next one in Shanghai)
    assert _lastmod(entries[article_url]) == timezone.localdate(article.updated_at)
    chinese_url = article_url.replace(SITE, SITE + "/zh-hans")
    assert _lastmod(entries[chinese_url]) == timezone.localdate(article.updated_at)
    assert "http://testserver/p/about/" in entries and "http://testserver/zh-hans/p/about/" in entries
    assert entries["http://testserver/tag/t1/"].find("s:lastmod", NS) is not None
    category_url = _url(article.category)
    assert entries[category_url].find("s:lastmod", NS) is not None
    assert category_url.replace(SITE, SITE + "/zh-hans") in entries
    assert len(entries) == 2 * 6, "home, archives, article, page, category, tag; in each language"
    for hidden in (draft, scheduled):
        assert _url(hidden) not in entries
    assert "http://testserver/tag/draft-only/" not in entries
    assert "http://testserver/tag/later/" not in entries, "a tag of scheduled articles only"
    assert client.get("/sitemap-index.xml").content == client.get("/sitemap.xml").content


def test_a_category_of_only_unpublished_articles_is_not_listed(client):
    draft = DraftFactory()
    assert _url(draft.category) not in _all_urls(client)


def test_sections_are_paginated_and_every_page_is_its_own_cached_or_not(client, monkeypatch):
    monkeypatch.setattr(sitemaps.ArticleSitemap, "limit", 2)
    articles = [ArticleFactory() for _ in range(5)]
    sections = [url for url in _locations(client, "/sitemap.xml") if "sitemap-articles" in url]
    # Two URLs a page: each article once per language, so five pages.
    assert [url.rsplit("/", 1)[1] for url in sections] == [
        "sitemap-articles.xml",
        *(f"sitemap-articles.xml?p={page}" for page in range(2, 6)),
    ]
    pages = {}
    for _round in ("rendered", "cached"):
        for url in sections:
            path = url.replace(SITE, "")
            pages.setdefault(path, []).append(_locations(client, path))
    listed = [location for path in pages for location in pages[path][0]]
    english = [_url(a) for a in articles]
    assert sorted(listed) == sorted(english + [url.replace(SITE, SITE + "/zh-hans") for url in english])
    for path, (rendered, cached) in pages.items():
        assert rendered == cached, path
        assert len(rendered) == 2, path
    for bad in ("/sitemap-articles.xml?p=9", "/sitemap-articles.xml?p=0", "/sitemap-articles.xml?p=x"):
        assert client.get(bad).status_code == 404, bad
    assert client.get("/sitemap-nope.xml").status_code == 404


def test_an_odd_limit_splits_an_articles_languages_across_pages(client, monkeypatch):
    monkeypatch.setattr(sitemaps.ArticleSitemap, "limit", 3)
    articles = sorted((ArticleFactory() for _ in range(2)), key=lambda a: (a.published_at, a.pk))
    first, second = (_locations(client, f"/sitemap-articles.xml?p={page}") for page in (1, 2))
    english = [_url(a) for a in articles]
    chinese = [url.replace(SITE, SITE + "/zh-hans") for url in english]
    assert first == [english[0], chinese[0], english[1]] and second == [chinese[1]]


def test_every_entry_lists_its_alternates_and_x_default(client):
    article = ArticleFactory(title="中文 文章")
    entries = _all_urls(client)
    english = _url(article)
    chinese = english.replace(SITE, SITE + "/zh-hans")
    assert english.isascii(), "Chinese slugs are percent-encoded"
    for location in (english, chinese):
        alternates = {
            link.get("hreflang"): link.get("href")
            for link in entries[location].findall("x:link", NS)
            if link.get("rel") == "alternate"
        }
        assert alternates == {"en": english, "zh-Hans": chinese, "x-default": english}, location


def test_x_default_keeps_a_slug_spelled_like_a_language(client):
    TagFactory(name="en", slug="en", published_count=1)
    ArticleFactory(tags=[])
    tag = _all_urls(client)["http://testserver/tag/en/"]
    links = tag.findall("x:link", NS)
    assert [link.get("href") for link in links if link.get("hreflang") == "x-default"] == [f"{SITE}/tag/en/"]


def test_every_url_is_on_the_configured_site_whatever_the_request_says(client, settings):
    settings.SITE_URL = "https://blog.example.com"
    ArticleFactory()
    index = client.get("/sitemap.xml", HTTP_X_FORWARDED_PROTO="http", secure=False).content.decode()
    sections = _locations(client, "/sitemap.xml")
    assert sections and all(url.startswith("https://blog.example.com/sitemap-") for url in sections), index
    listed = []
    for section in sections:
        path = section.replace("https://blog.example.com", "")
        body = client.get(path, HTTP_X_FORWARDED_PROTO="http").content.decode()
        assert "testserver" not in body, path
        listed += _locations(client, path)
    assert len(listed) == 2 * 4 and all(url.startswith("https://blog.example.com/") for url in listed)


def test_robots_txt_names_the_index_and_keeps_crawlers_out_of_every_search(client):
    robots = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in robots
    assert "Disallow: /search/\n" in robots and "Disallow: /zh-hans/search/\n" in robots


def test_article_locations_are_their_urls_chinese_slugs_included():
    article = ArticleFactory(title="中文 标题")
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert sitemaps.ArticleSitemap().location(article) == article.get_absolute_url()
