"""RSS and Atom feeds parse, list only published articles, and use absolute URLs."""

import feedparser
import pytest

from articles.tests.factories import ArticleFactory, DraftFactory, ScheduledFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("url", "version"), [("/feed/rss/", "rss20"), ("/feed/atom/", "atom10")])
def test_feed_is_valid_and_complete(client, url, version):
    tag = TagFactory(name="python")
    article = ArticleFactory(
        title="Feed 条目 🎉", body="Hello ![img](/media/a.png) [l](/article/x/)", tags=[tag]
    )
    DraftFactory(title="Draft in feed")
    ScheduledFactory(title="Scheduled in feed")
    response = client.get(url)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == version
    assert [entry.title for entry in feed.entries] == ["Feed 条目 🎉"]
    entry = feed.entries[0]
    assert entry.link == f"http://testserver{article.get_absolute_url()}"
    content = entry.get("summary") or entry.content[0].value
    assert 'src="http://testserver/media/a.png"' in content
    assert 'href="http://testserver/article/x/"' in content
    assert {t.term for t in entry.tags} >= {"python", article.category.name}
    assert feed.feed.link.startswith("http://testserver/")


def test_feed_is_limited_and_newest_first(client):
    for _ in range(25):
        ArticleFactory()
    feed = feedparser.parse(client.get("/feed/rss/").content)
    assert len(feed.entries) == 20
    dates = [entry.published_parsed for entry in feed.entries]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("url", ["/feed/rss/", "/feed/atom/"])
def test_featured_image_is_an_enclosure(client, url):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from articles.models import MediaFile

    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        return len(captured), response

    media = MediaFile.objects.create(file="uploads/cover.jpg", width=800, height=400, size=12345)
    ArticleFactory(featured_image=media)
    ArticleFactory()
    few, _response = queries()
    for _ in range(2):
        ArticleFactory(featured_image=MediaFile.objects.create(file="uploads/other.jpg", size=1))
    many, response = queries()
    assert many == few  # the images come with the articles, not one query each
    feed = feedparser.parse(response.content)
    enclosures = [entry.enclosures for entry in feed.entries]
    assert sorted(len(e) for e in enclosures) == [0, 1, 1, 1]
    enclosure = next(e[0] for e in enclosures if e and "cover" in e[0].href)
    assert enclosure.href == "http://testserver/media/uploads/cover.jpg"
    assert enclosure.type == "image/jpeg" and enclosure.length == "12345"
