"""Reader pages carry the featured image (list entries, og:image, twitter:card) and the
optional SEO title and description, falling back to the title and the summary."""

import pytest

from articles.models import MediaFile
from articles.tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_article_meta_uses_seo_texts_and_the_featured_image(
    client, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "http://testserver"
    media = MediaFile.objects.create(
        file="uploads/cover.png", alt_text="A cover", width=1200, height=630, size=9
    )
    article = ArticleFactory(title="Plain title", summary="Plain summary", featured_image=media)
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<meta property="og:image" content="http://testserver/media/uploads/cover.png">' in html
    assert '<meta property="og:image:width" content="1200">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert '<meta property="og:title" content="Plain title">' in html
    assert '<meta name="description" content="Plain summary">' in html
    article.seo_title, article.seo_description = "Search title", "Search description"
    with django_capture_on_commit_callbacks(execute=True):  # the cached page goes stale
        article.save()
    html = client.get(article.get_absolute_url()).content.decode()
    assert "<title>Search title · " in html
    assert '<meta property="og:description" content="Search description">' in html


def test_without_image_the_card_is_a_summary(client):
    article = ArticleFactory()
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<meta name="twitter:card" content="summary">' in html and "og:image" not in html


def test_list_entries_show_the_featured_image(client):
    media = MediaFile.objects.create(file="uploads/cover.png", width=1200, height=630, size=9)
    ArticleFactory(featured_image=media)
    ArticleFactory()
    html = client.get("/").content.decode()
    assert html.count('class="entry-image"') == 1
    assert 'src="/media/uploads/cover.png" alt="" width="1200" height="630"' in html
