"""English and Simplified Chinese: one URL per page and language (the default unprefixed),
whatever the reader's Accept-Language or cookie; hreflang alternates; the footer's links."""

import json
import re

import pytest
from django.urls import reverse
from django.utils import translation

from articles.tests.factories import ArticleFactory, PageFactory, TagFactory

pytestmark = pytest.mark.django_db

SITE = "https://blog.example.com"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def world():
    article = ArticleFactory(title="Hello world", tags=[TagFactory(name="t1", slug="t1")])
    PageFactory(slug="about", title="About")
    return article


def _en(obj) -> str:
    """An object's default-language path (the test's own language follows its requests)."""
    with translation.override("en"):
        return obj.get_absolute_url()


def _reader_paths(article) -> list[str]:
    """Every kind of reader page, by its default-language (unprefixed) path."""
    month = article.published_at
    return [
        "/",
        _en(article),
        _en(article.category),
        "/tag/t1/",
        "/p/about/",
        "/archives/",
        f"/archives/{month.year}/{month.month}/",
        "/search/?q=hello",
    ]


def _language_of(response) -> str:
    return re.search(r'<html lang="([^"]+)">', response.content.decode()).group(1)


def test_the_default_language_is_unprefixed_and_english_by_default(client, world):
    response = client.get("/")
    assert response["Content-Language"] == "en"
    body = response.content.decode()
    assert '<html lang="en">' in body and "Archives" in body and "Read more" in body


def test_each_page_serves_its_urls_language_whatever_the_browser_or_cookie_says(client, world):
    for path in _reader_paths(world):
        chinese_path = f"/zh-hans{path}"
        for accept, cookie in (("zh-CN,zh;q=0.9", "zh-hans"), ("en-US", "en"), ("", ""), ("fr", "xx")):
            client.cookies["django_language"] = cookie
            english = client.get(path, HTTP_ACCEPT_LANGUAGE=accept)
            chinese = client.get(chinese_path, HTTP_ACCEPT_LANGUAGE=accept)
            assert english.status_code == chinese.status_code == 200, (path, accept)
            assert (_language_of(english), english["Content-Language"]) == ("en", "en"), (path, accept)
            assert (_language_of(chinese), chinese["Content-Language"]) == ("zh-hans", "zh-hans"), (
                chinese_path,
                accept,
            )
            assert "Archives" in english.content.decode() and "归档" not in english.content.decode()
            assert "归档" in chinese.content.decode()


def test_a_crawler_without_accept_language_reaches_the_chinese_pages(client, world):
    path = _en(world)
    home = client.get("/zh-hans/")
    assert home.status_code == 200 and "阅读全文" in home.content.decode()
    # The Chinese home links to the Chinese pages, so a crawler following links stays there.
    assert f'href="/zh-hans{path}"' in home.content.decode()
    article = client.get(f"/zh-hans{path}")
    assert article.status_code == 200 and "发表评论" in article.content.decode()


def test_the_other_languages_prefix_is_not_a_url_of_the_default_language(client, world):
    assert client.get("/en/").status_code == 404
    assert client.get(f"/en{_en(world)}").status_code == 404


def test_todays_unprefixed_urls_are_unchanged(client, world):
    with translation.override("en"):
        assert reverse("articles:home") == "/"
        assert reverse("articles:detail", args=["x"]) == "/article/x/"
        assert reverse("articles:category", args=["x"]) == "/category/x/"
        assert reverse("articles:tag", args=["x"]) == "/tag/x/"
        assert reverse("articles:page", args=["x"]) == "/p/x/"
        assert reverse("articles:archives") == "/archives/"
        assert reverse("articles:search") == "/search/"
        assert reverse("articles:rss") == "/feed/rss/"
        assert reverse("articles:atom") == "/feed/atom/"
        assert reverse("comments:post", args=[1]) == "/comments/post/1/"
    for path in ("/sitemap.xml", "/robots.txt", "/feed/rss/", "/feed/atom/"):
        assert client.get(path).status_code == 200, path
    assert client.get("/admin/").status_code == 302  # the admin: unprefixed, to the login


@pytest.fixture
def chinese_by_default(settings):
    """DJANGO_LANGUAGE_CODE=zh-hans (read at start-up: the URL caches are rebuilt)."""
    from django.urls import clear_url_caches

    settings.LANGUAGE_CODE = "zh-hans"
    clear_url_caches()
    yield
    settings.LANGUAGE_CODE = "en"
    clear_url_caches()


def test_the_default_language_is_a_deployment_setting(client, chinese_by_default, world):
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert _language_of(chinese) == "zh-hans" and "首页" in chinese.content.decode()
    english = client.get("/en/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert _language_of(english) == "en" and "Home" in english.content.decode()
    assert client.get("/zh-hans/").status_code == 404
    body = chinese.content.decode()
    assert f'<link rel="alternate" hreflang="x-default" href="{SITE}/">' in body
    assert f'<link rel="alternate" hreflang="en" href="{SITE}/en/">' in body


def test_every_reader_page_carries_absolute_hreflang_alternates_and_x_default(client, world):
    for path in _reader_paths(world):
        query = path.partition("?")[2]
        bare = path.partition("?")[0]
        for prefix in ("", "/zh-hans"):
            body = client.get(prefix + path).content.decode()
            suffix = f"?{query}" if query else ""
            links = re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', body)
            assert links == [
                ("en", f"{SITE}{bare}{suffix}"),
                ("x-default", f"{SITE}{bare}{suffix}"),
                ("zh-Hans", f"{SITE}/zh-hans{bare}{suffix}"),
            ], prefix + path
            canonical = re.search(r'<link rel="canonical" href="([^"]+)">', body).group(1)
            assert canonical.startswith(f"{SITE}{prefix}{bare}"), canonical


def test_hreflang_urls_of_chinese_slugs_are_encoded(client):
    article = ArticleFactory(title="中文 标题")
    body = client.get(f"/zh-hans{_en(article)}").content.decode()
    href = re.search(r'hreflang="zh-Hans" href="([^"]+)"', body).group(1)
    assert href.isascii() and href.startswith(f"{SITE}/zh-hans/article/%E4%B8%AD")


def test_the_switch_is_a_pair_of_links_to_the_same_page_in_each_language(client, world):
    for path in _reader_paths(world):
        for prefix, here in (("", "en"), ("/zh-hans", "zh-hans")):
            body = client.get(prefix + path).content.decode()
            switch = re.search(r'<nav class="lang-switch"[^>]*>(.*?)</nav>', body, re.S).group(1)
            assert "<form" not in body.split('class="site-footer"')[1], "no POST form in the footer"
            links = {code: href for href, code in re.findall(r'<a href="([^"]+)" hreflang="([^"]+)"', switch)}
            assert links == {"en": path, "zh-Hans": f"/zh-hans{path}"}, prefix + path
            current = re.search(r'<a href="([^"]+)"[^>]*aria-current="page"', switch).group(1)
            assert current == (path if here == "en" else f"/zh-hans{path}")
            assert "English" in switch and "简体中文" in switch


def test_the_switch_on_an_unknown_path_leads_to_the_home_pages(client, world):
    response = client.get("/zh-hans/nope/")
    body = response.content.decode()
    assert response.status_code == 404 and "页面未找到" in body
    assert 'href="/" hreflang="en"' in body and 'href="/zh-hans/" hreflang="zh-Hans"' in body
    assert 'rel="alternate" hreflang' not in body, "no alternates for a page that is not there"


def test_pagination_links_keep_the_prefix(client, settings):
    from articles.models import SiteSettings

    SiteSettings.objects.filter(pk=1).update(posts_per_page=1)
    ArticleFactory.create_batch(3)
    body = client.get("/zh-hans/?page=2").content.decode()
    # Relative links (?page=N) stay under the page's own path, hence its language.
    assert 'rel="next" href="?page=3"' in body and 'rel="prev" href="?page=1"' in body
    assert f'hreflang="zh-Hans" href="{SITE}/zh-hans/?page=2"' in body


def test_opengraph_and_json_ld_follow_the_urls_language(client, world):
    path = _en(world)
    english = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    chinese = client.get(f"/zh-hans{path}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<meta property="og:locale" content="en_US">' in english
    assert '<meta property="og:locale:alternate" content="zh_CN">' in english
    assert '<meta property="og:locale" content="zh_CN">' in chinese
    assert '<meta property="og:locale:alternate" content="en_US">' in chinese
    assert f'<meta property="og:url" content="{SITE}/zh-hans{path}">' in chinese

    def jsonld(body: str) -> dict:
        return json.loads(body.split('<script type="application/ld+json">')[1].split("</script>")[0])

    assert jsonld(english)["inLanguage"] == "en"
    assert jsonld(chinese)["inLanguage"] == "zh-Hans"
    assert jsonld(chinese)["mainEntityOfPage"] == f"{SITE}/zh-hans{path}"
    home = jsonld(client.get("/zh-hans/").content.decode())
    assert home["url"] == f"{SITE}/zh-hans/"
    assert home["potentialAction"]["target"] == f"{SITE}/zh-hans/search/?q={{query}}"


def test_each_language_has_its_feeds(client, world):
    english = client.get("/").content.decode()
    chinese = client.get("/zh-hans/").content.decode()
    assert 'type="application/rss+xml" title="My Blog RSS" href="/feed/rss/"' in english
    assert 'href="/zh-hans/feed/rss/"' in chinese and 'href="/zh-hans/feed/atom/"' in chinese
    rss = client.get("/zh-hans/feed/rss/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<language>zh-hans</language>" in rss
    assert f"<link>{SITE}/zh-hans/</link>" in rss
    assert f"<link>{SITE}/zh-hans{_en(world)}</link>" in rss
    atom = client.get("/zh-hans/feed/atom/").content.decode()
    assert 'xml:lang="zh-hans"' in atom and f'href="{SITE}/zh-hans/feed/atom/"' in atom
    assert "<language>en</language>" in client.get("/feed/rss/").content.decode()


def test_garbage_cookie_or_header_falls_back_safely(client):
    client.cookies["django_language"] = "../../etc"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="?;q=abc,,;")
    assert response.status_code == 200 and response["Content-Language"] == "en"
    assert client.get("/zh-hans/", HTTP_ACCEPT_LANGUAGE="?;q=abc,,;").status_code == 200


def test_the_admin_still_speaks_each_editors_language(staff_client):
    chinese = staff_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert chinese["Content-Language"] == "zh-hans" and "Accept-Language" in chinese["Vary"]
    assert staff_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"


def test_404_page_is_translated(client):
    response = client.get("/zh-hans/nope/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404 and "页面未找到" in response.content.decode()
    english = client.get("/nope/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert english.status_code == 404 and "Page not found" in english.content.decode()


def test_counts_pluralise_in_both_languages(client):
    ArticleFactory(view_count=1)
    assert "1 view" in client.get("/").content.decode()
    assert "1 次阅读" in client.get("/zh-hans/").content.decode()


def test_the_apps_reader_parts_are_translated_too(client):
    """The comment form and the site-statistics widget, in Chinese on the Chinese page."""
    from articles.tests.factories import WidgetFactory

    WidgetFactory(kind="site_stats", title="")  # registered by stats
    article = ArticleFactory()
    page = client.get(f"/zh-hans{_en(article)}").content.decode()
    for text in ("发表评论", "提交评论", "今日浏览量"):
        assert text in page, text
    assert 'action="/zh-hans/comments/post/' in page, "the post keeps the page's language"
    english = client.get(_en(article), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Leave a comment" in english and "发表评论" not in english


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


def test_new_reader_words_are_translated(client):
    article = ArticleFactory()
    page = client.get(f"/zh-hans{_en(article.category)}").content.decode()
    assert "1 篇文章" in page and 'aria-label="站内搜索"' in page


def test_the_default_category_is_named_in_the_page_language(client):
    from articles.models import DEFAULT_CATEGORY_NAME, Category

    article = ArticleFactory(category=Category.default())
    english = client.get(article.get_absolute_url()).content.decode()
    chinese = client.get(f"/zh-hans{article.get_absolute_url()}").content.decode()
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


def test_a_comment_posted_from_a_chinese_page_comes_back_to_it(client, django_capture_on_commit_callbacks):
    from comments.models import CommentSettings
    from comments.tests.conftest import aged_stamp, form_data, set_policy

    set_policy(comment_moderation=CommentSettings.Moderation.NONE)
    article = ArticleFactory()
    path = _en(article)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/zh-hans/comments/post/{article.pk}/",
            form_data(stamp=aged_stamp()),
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 303 and response["Location"] == f"/zh-hans{path}#c-1"
    page = client.get(response["Location"].split("#")[0]).content.decode()
    assert '<html lang="zh-hans">' in page and "A thoughtful remark" in page


def test_below_the_page_cache_reader_pages_do_not_vary_on_accept_language(rf):
    """LocaleMiddleware: a reader URL's language is its path's; the admin negotiates."""
    from django.http import HttpResponse

    from blog_project.languages import LocaleMiddleware

    middleware = LocaleMiddleware(lambda request: HttpResponse(translation.get_language()))
    for path, language in (("/", "en"), ("/zh-hans/", "zh-hans"), ("/article/x/", "en")):
        response = middleware(rf.get(path, HTTP_ACCEPT_LANGUAGE="zh-CN" if language == "en" else "en"))
        assert response.content.decode() == response["Content-Language"] == language, path
        assert "Vary" not in response, path
    admin = middleware(rf.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN"))
    assert admin["Content-Language"] == "zh-hans" and admin["Vary"] == "Accept-Language"
