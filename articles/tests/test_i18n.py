"""English and Simplified Chinese: each language at its own URLs (the default language,
a deployment setting, unprefixed); neither Accept-Language nor a cookie changes a page.

The Chinese pages are tried under ``tests.i18n_urls`` (the site's URLs in
``i18n_patterns``), as the language-in-the-URL work serves them."""

import pytest

from articles.tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db
in_url_languages = pytest.mark.urls("tests.i18n_urls")


def test_english_by_default(client):
    ArticleFactory()
    response = client.get("/")
    assert response["Content-Language"] == "en"
    body = response.content.decode()
    assert '<html lang="en">' in body and "Archives" in body and "Read more" in body


@in_url_languages
def test_the_chinese_url_is_chinese_whatever_the_browser_says(client):
    ArticleFactory()
    response = client.get("/zh-hans/", HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in body and "归档" in body and "阅读全文" in body


def test_the_default_language_is_a_deployment_setting_and_headers_do_not_change_it(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    ArticleFactory()
    assert "首页" in client.get("/").content.decode()
    assert "首页" in client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB").content.decode()


def test_a_language_cookie_changes_no_page(client):
    ArticleFactory()
    client.cookies["django_language"] = "zh-hans"
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en">' in body


def test_switch_refuses_unknown_language_and_foreign_redirects(client):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code in (302, 204)
    assert "evil.example" not in response.get("Location", "")
    assert '<html lang="en">' in client.get("/").content.decode()


def test_garbage_cookie_or_header_falls_back_safely(client):
    client.cookies["django_language"] = "../../etc"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="?;q=abc,,;")
    assert response.status_code == 200 and response["Content-Language"] == "en"


@in_url_languages
def test_404_page_is_translated(client):
    response = client.get("/zh-hans/nope/")
    assert response.status_code == 404 and "页面未找到" in response.content.decode()


@in_url_languages
def test_counts_pluralise_in_both_languages(client):
    ArticleFactory(view_count=1)
    assert "1 view" in client.get("/").content.decode()
    assert "1 次阅读" in client.get("/zh-hans/").content.decode()


@in_url_languages
def test_the_apps_reader_parts_are_translated_too(client):
    """The comment form and the site-statistics widget, in Chinese for a Chinese browser."""
    from articles.models import SidebarWidget
    from articles.tests.factories import WidgetFactory

    WidgetFactory(kind=SidebarWidget.Kind.SITE_STATS, title="")
    article = ArticleFactory()
    page = client.get(f"/zh-hans{article.get_absolute_url()}").content.decode()
    for text in ("发表评论", "提交评论", "今日浏览量"):
        assert text in page, text
    english = client.get(article.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Leave a comment" in english and "发表评论" not in english


@in_url_languages
def test_widget_headings_follow_the_pages_language(client):
    """A widget without a title shows its kind's name, translated; an editor's title is kept."""
    from articles.models import SidebarWidget
    from articles.tests.factories import WidgetFactory

    ArticleFactory()
    WidgetFactory(kind=SidebarWidget.Kind.CATEGORIES, title="")
    WidgetFactory(kind=SidebarWidget.Kind.RECENT_POSTS, title="")
    WidgetFactory(kind=SidebarWidget.Kind.TAGS, title="Topics I like")
    WidgetFactory(kind=SidebarWidget.Kind.CUSTOM, title="", body="Hello")
    english = client.get("/").content.decode()
    chinese = client.get("/zh-hans/").content.decode()
    assert '<h2 class="widget-title">Categories</h2>' in english
    assert '<h2 class="widget-title">Recent posts</h2>' in english
    assert '<h2 class="widget-title">分类</h2>' in chinese
    assert '<h2 class="widget-title">最新文章</h2>' in chinese
    assert '<h2 class="widget-title">Topics I like</h2>' in chinese  # the editor's own words
    assert chinese.count('class="widget-title"') == 3  # the untitled custom widget has none


def test_default_widget_titles_are_cleared_by_the_migration(transactional_db):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from articles.models import SidebarWidget
    from articles.tests.factories import WidgetFactory

    plain = WidgetFactory(kind=SidebarWidget.Kind.ARCHIVES, title="Archives")
    own = WidgetFactory(kind=SidebarWidget.Kind.ARCHIVES, title="Old posts")
    other_kind = WidgetFactory(kind=SidebarWidget.Kind.CUSTOM, title="Archives", body="x")
    executor = MigrationExecutor(connection)
    executor.migrate([("articles", "0008_label_task_lists")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    titles = dict(SidebarWidget.objects.values_list("pk", "title"))
    assert titles == {plain.pk: "", own.pk: "Old posts", other_kind.pk: "Archives"}


@in_url_languages
def test_new_reader_words_are_translated(client):
    article = ArticleFactory()
    page = client.get(f"/zh-hans{article.category.get_absolute_url()}").content.decode()
    assert "1 篇文章" in page and 'aria-label="站内搜索"' in page
