"""RSS and Atom feeds parse and validate (feedparser, and a RELAX NG schema of each
format), list only published articles, carry the whole article (Atom in <content>) without
heading permalinks, name authors by their display name, and take every URL from the
configured site URL."""

from functools import cache
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from articles.tests.factories import ArticleFactory, DraftFactory, ScheduledFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "schemas"
SITE = "https://blog.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


@cache
def _schema(name: str) -> etree.RelaxNG:
    return etree.RelaxNG.from_rnc_string((SCHEMAS / f"{name}.rnc").read_text())


def _valid(name: str, content: bytes) -> etree._Element:
    document = etree.fromstring(content)
    schema = _schema(name)
    assert schema.validate(document), schema.error_log
    return document


@pytest.mark.parametrize(("url", "version"), [("/feed/rss/", "rss20"), ("/feed/atom/", "atom10")])
def test_feed_is_valid_and_complete(client, url, version):
    tag = TagFactory(name="python")
    article = ArticleFactory(
        title="Feed 条目 🎉", body="Hello ![img](/media/a.png) [l](/article/x/)", tags=[tag]
    )
    DraftFactory(title="Draft in feed")
    ScheduledFactory(title="Scheduled in feed")
    response = client.get(url, HTTP_HOST="127.0.0.1")
    assert response.status_code == 200
    _valid("rss" if version == "rss20" else "atom", response.content)
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == version
    assert [entry.title for entry in feed.entries] == ["Feed 条目 🎉"]
    entry = feed.entries[0]
    # The configured site URL, whatever Host the request came with.
    assert entry.link == f"{SITE}{article.get_absolute_url()}"
    content = entry.content[0].value if version == "atom10" else entry.summary
    assert f'src="{SITE}/media/a.png"' in content
    assert f'href="{SITE}/article/x/"' in content
    assert {t.term for t in entry.tags} >= {"python", article.category.name}
    assert feed.feed.link == f"{SITE}/"
    assert "127.0.0.1" not in response.content.decode()


def test_atom_has_the_summary_and_the_whole_article_without_heading_permalinks(client):
    author = UserFactory(username="jdoe", first_name="Jane", last_name="Doe")
    ArticleFactory(
        author=author,
        summary="Short <b>and</b> sweet.",
        body="## First part\n\nThe whole body, " + "long " * 200 + "\n\n## Second part\n\nEnd.",
    )
    response = client.get("/feed/atom/")
    document = _valid("atom", response.content)
    entries = document.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    summary, content = entry.find(f"{ATOM}summary"), entry.find(f"{ATOM}content")
    assert content.get("type") == "html" and summary.get("type") == "html"
    assert "The whole body" in content.text and "End." in content.text
    assert 'id="first-part"' in content.text  # the headings keep their ids ...
    assert "header-anchor" not in content.text and ">#</a>" not in content.text  # ... not the "#" links
    # The plain-text summary, escaped so that an HTML-typed summary shows it literally.
    assert feedparser.parse(response.content).entries[0].summary == "Short &lt;b&gt;and&lt;/b&gt; sweet."
    # RFC 4287: an entry without a feed-level author names its own.
    assert document.find(f"{ATOM}author") is None
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "Jane Doe"
    self_link = document.find(f"{ATOM}link[@rel='self']")
    assert self_link.get("href") == f"{SITE}/feed/atom/"


def test_rss_carries_the_whole_article_and_the_display_name(client):
    ArticleFactory(
        author=UserFactory(username="jdoe", first_name="Jane", last_name="Doe"), body="## Part\n\nAll."
    )
    ArticleFactory(author=UserFactory(username="plainlogin"))  # no name given: the user name
    response = client.get("/feed/rss/")
    _valid("rss", response.content)
    entries = feedparser.parse(response.content).entries
    assert sorted(entry.author for entry in entries) == ["Jane Doe", "plainlogin"]
    with_body = next(entry for entry in entries if "All." in entry.summary)
    assert 'id="part"' in with_body.summary and "header-anchor" not in with_body.summary


@pytest.mark.parametrize("name", ["rss", "atom"])
def test_the_schemas_catch_broken_feeds(name):
    """The schema check is real: a feed missing a required element fails it."""
    broken = {
        "rss": b'<rss version="2.0"><channel><title>t</title><description>d</description></channel></rss>',
        "atom": b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b"<updated>2020-01-01T00:00:00</updated></feed>",
    }[name]
    assert not _schema(name).validate(etree.fromstring(broken))


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
    assert enclosure.href == f"{SITE}/media/uploads/cover.jpg"
    assert enclosure.type == "image/jpeg" and enclosure.length == "12345"
