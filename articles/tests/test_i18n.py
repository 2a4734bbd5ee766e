"""English and Simplified Chinese: site default, Accept-Language, and the reader's switch."""

import pytest

from articles.models import SiteSettings
from articles.tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_english_by_default(client):
    ArticleFactory()
    response = client.get("/")
    assert response["Content-Language"] == "en"
    body = response.content.decode()
    assert '<html lang="en">' in body and "Archives" in body and "Read more" in body


def test_accept_language_is_honoured(client):
    ArticleFactory()
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
    body = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in body and "归档" in body and "阅读全文" in body


def test_site_default_applies_when_the_browser_says_nothing_we_speak(client):
    SiteSettings.objects.filter(pk=1).update(language="zh-hans")
    ArticleFactory()
    assert "首页" in client.get("/").content.decode()
    assert "首页" in client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR").content.decode()
    assert "Home" in client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB").content.decode()


def test_reader_switch_overrides_browser_language(client):
    ArticleFactory()
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="zh-hans">' in body


def test_switch_refuses_unknown_language_and_foreign_redirects(client):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code in (302, 204)
    assert "evil.example" not in response.get("Location", "")
    assert '<html lang="en">' in client.get("/").content.decode()


def test_garbage_cookie_or_header_falls_back_safely(client):
    client.cookies["django_language"] = "../../etc"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="?;q=abc,,;")
    assert response.status_code == 200 and response["Content-Language"] == "en"


def test_404_page_is_translated(client):
    response = client.get("/nope/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404 and "页面未找到" in response.content.decode()


def test_counts_pluralise_in_both_languages(client):
    ArticleFactory(view_count=1)
    assert "1 view" in client.get("/").content.decode()
    assert "1 次阅读" in client.get("/", HTTP_ACCEPT_LANGUAGE="zh").content.decode()


def test_the_apps_reader_parts_are_translated_too(client):
    """The comment form and the site-statistics widget, in Chinese for a Chinese browser."""
    from articles.models import SidebarWidget
    from articles.tests.factories import WidgetFactory

    WidgetFactory(kind=SidebarWidget.Kind.SITE_STATS, title="")
    article = ArticleFactory()
    page = client.get(article.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    for text in ("发表评论", "提交评论", "今日浏览量"):
        assert text in page, text
    english = client.get(article.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Leave a comment" in english and "发表评论" not in english


def test_widget_headings_follow_the_readers_language(client):
    """A widget without a title shows its kind's name, translated; an editor's title is kept."""
    from articles.models import SidebarWidget
    from articles.tests.factories import WidgetFactory

    ArticleFactory()
    WidgetFactory(kind=SidebarWidget.Kind.CATEGORIES, title="")
    WidgetFactory(kind=SidebarWidget.Kind.RECENT_POSTS, title="")
    WidgetFactory(kind=SidebarWidget.Kind.TAGS, title="Topics I like")
    WidgetFactory(kind=SidebarWidget.Kind.CUSTOM, title="", body="Hello")
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
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


def test_new_reader_words_are_translated(client):
    article = ArticleFactory()
    page = client.get(article.category.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "1 篇文章" in page and 'aria-label="站内搜索"' in page


def test_the_default_category_is_named_in_the_page_language(client):
    from articles.models import DEFAULT_CATEGORY_NAME, Category

    article = ArticleFactory(category=Category.default())
    english = client.get(article.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(article.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">Uncategorized</a>" in english and "未分类" not in english
    assert ">未分类</a>" in chinese and "Uncategorized" not in chinese
    # Stored once, in English, even when saved back with its Chinese name from a form.
    category = Category.objects.get(pk=article.category_id)
    category.name = "未分类"
    category.save()
    assert Category.objects.filter(pk=category.pk, name=DEFAULT_CATEGORY_NAME).exists()
    # Renamed by an editor, it is shown as they named it.
    Category.objects.filter(pk=category.pk).update(name="Misc")
    assert str(Category.objects.get(pk=category.pk)) == "Misc"


def test_the_editors_javascript_strings_are_in_the_admins_catalogue(staff_client):
    """editor.js reads its strings from the admin's jsi18n (locale/*/djangojs.po)."""
    chinese = staff_client.get("/admin/jsi18n/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    import json

    for translated in ("插入图片", "草稿已于 %s 自动保存", "阅读约 %s 分钟", "分享时的样子（社交卡片）"):
        assert json.dumps(translated)[1:-1] in chinese  # the catalogue is ASCII JSON
    english = staff_client.get("/admin/jsi18n/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert json.dumps("插入图片")[1:-1] not in english
