"""The editor's admin: every page opens, bulk publishing goes through the services, the
singletons and the default category are protected, and the article list costs flat queries."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import admin as articles_admin
from articles.models import Article, Category, Page, SidebarWidget, SiteSettings, Tag
from articles.tests.factories import (
    ArticleFactory,
    CategoryFactory,
    DraftFactory,
    PageFactory,
    ScheduledFactory,
    TagFactory,
    UserFactory,
    WidgetFactory,
)

pytestmark = pytest.mark.django_db

ARTICLES = "/admin/articles/article/"
CATEGORIES = "/admin/articles/category/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def rows():
    """One row of every model, so each change page has something to show."""
    category = CategoryFactory(name="Python")
    tag = TagFactory(name="django")
    return {
        Article: ArticleFactory(category=category, tags=[tag]),
        Category: category,
        Tag: tag,
        Page: PageFactory(),
        SidebarWidget: WidgetFactory(),
        SiteSettings: SiteSettings.load(),
    }


@pytest.mark.parametrize("model", [Article, Category, Tag, Page, SidebarWidget, SiteSettings])
def test_every_admin_page_opens_for_a_superuser(staff_client, rows, model):
    base = f"/admin/articles/{model._meta.model_name}/"
    changelist = staff_client.get(base, follow=True)
    assert changelist.status_code == 200
    change = staff_client.get(f"{base}{rows[model].pk}/change/")
    assert change.status_code == 200
    if model is SiteSettings:
        # The one row: the list leads straight to its form, and no second row can be added.
        assert changelist.redirect_chain[-1][0] == f"{base}1/change/"
        assert staff_client.get(f"{base}add/").status_code == 403
    else:
        assert staff_client.get(f"{base}add/").status_code == 200
        assert staff_client.get(f"{base}?q=a").status_code == 200


def test_admin_needs_a_staff_login(client, user):
    assert client.get(ARTICLES).status_code == 302
    client.force_login(user)
    assert client.get(ARTICLES).status_code == 302


# --- Article list ---------------------------------------------------------------------


def test_article_list_shows_the_editors_columns(staff_client):
    category = CategoryFactory(name="Databases")
    article = ArticleFactory(title="Indexes explained", category=category)
    Article.objects.filter(pk=article.pk).update(view_count=4321, comment_count=17)
    DraftFactory(title="Half-written")
    ScheduledFactory(title="Coming Monday")

    html = staff_client.get(ARTICLES).content.decode()
    for column in ("title", "status_label", "category", "published_at", "views", "comment_count"):
        assert re.search(rf'<th scope="col" class="[^"]*\bcolumn-{column}\b', html), column
    row = html[html.index("Indexes explained") :]
    row = row[: row.index("</tr>")]
    for value in ("Published", "Databases", "4321", "17"):
        assert value in row, value
    assert "Draft" in html and "Scheduled" in html


@pytest.mark.django_db(transaction=True)  # MariaDB's full-text index reads committed rows
def test_article_list_filters_search_and_dates(staff_client):
    ArticleFactory(title="About caching", published_at=timezone.now() - timedelta(days=400))
    DraftFactory(title="Secret plans")
    html = staff_client.get(ARTICLES + "?status__exact=draft").content.decode()
    assert "Secret plans" in html and "About caching" not in html
    html = staff_client.get(ARTICLES + "?q=caching").content.decode()
    assert "About caching" in html and "Secret plans" not in html
    year = timezone.localtime(timezone.now() - timedelta(days=400)).year
    html = staff_client.get(ARTICLES + f"?published_at__year={year}").content.decode()
    assert "About caching" in html and "Secret plans" not in html


def test_article_changelist_queries_are_flat(staff_client):
    def count_queries() -> int:
        staff_client.get(ARTICLES)  # warm: site generation and settings are read once per process
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(ARTICLES)
        assert response.status_code == 200
        return len(queries)

    categories = [CategoryFactory() for _ in range(3)]
    tags = [TagFactory() for _ in range(3)]
    authors = [UserFactory() for _ in range(3)]
    for n in range(3):
        ArticleFactory(category=categories[n], tags=tags, author=authors[n])
    few = count_queries()
    for n in range(27):
        factory = DraftFactory if n % 5 == 0 else ArticleFactory
        factory(category=categories[n % 3], tags=tags, author=authors[n % 3])
    assert Article.objects.count() == 30
    many = count_queries()
    # session, user, filter choices (category, tag), two counts, the page, date hierarchy,
    # and the page's live view counts (one read of the counters: a query in embedded mode)
    assert many == few <= 11


def test_bulk_publish_goes_through_the_service(staff_client, monkeypatch):
    calls = []
    real = articles_admin.article_publish
    monkeypatch.setattr(articles_admin, "article_publish", lambda **kw: calls.append(kw) or real(**kw))
    drafts = [DraftFactory(), DraftFactory()]
    untouched = DraftFactory()
    response = staff_client.post(
        ARTICLES,
        {"action": "publish_selected", "_selected_action": [d.pk for d in drafts]},
        follow=True,
    )
    assert response.status_code == 200
    assert len(calls) == 1
    assert "2 articles published." in messages_of(response)
    for draft in drafts:
        draft.refresh_from_db()
        assert draft.is_public
    untouched.refresh_from_db()
    assert untouched.status == Article.Status.DRAFT


def test_bulk_unpublish_goes_through_the_service(staff_client, monkeypatch, client):
    calls = []
    real = articles_admin.article_unpublish
    monkeypatch.setattr(articles_admin, "article_unpublish", lambda **kw: calls.append(kw) or real(**kw))
    published, scheduled = ArticleFactory(), ScheduledFactory()
    response = staff_client.post(
        ARTICLES,
        {"action": "unpublish_selected", "_selected_action": [published.pk, scheduled.pk]},
        follow=True,
    )
    assert len(calls) == 1
    assert "2 articles unpublished." in messages_of(response)
    assert set(Article.objects.values_list("status", flat=True)) == {Article.Status.DRAFT}
    client.logout()
    assert client.get(published.get_absolute_url()).status_code == 404


# --- Writing an article ---------------------------------------------------------------


@pytest.mark.parametrize("model", [Article, Page])
def test_forms_have_the_markdownx_editor(staff_client, rows, model):
    base = f"/admin/articles/{model._meta.model_name}/"
    for url in (base + "add/", f"{base}{rows[model].pk}/change/"):
        html = staff_client.get(url).content.decode()
        assert 'class="markdownx writing-room"' in html
        assert re.search(r'<textarea [^>]*class="vLargeTextField markdownx-editor"', html)
        # The preview is styled by the reader's own stylesheets (editor.js puts them in its
        # shadow root), with the reader's highlighting colours.
        preview = re.search(r'class="markdownx-preview" data-reader-css="([^"]*)"', html)
        assert preview and "css/blog.css" in preview.group(1) and "css/pygments.css" in preview.group(1)
        assert "editor/editor.js" in html and "markdown-toolbar-element" in html
        assert "<markdown-toolbar" in html and "data-media-open" in html
        # No inline script (the admin's Content-Security-Policy allows none).
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
        assert 'data-markdownx-urls-path="/editor/markdownify/"' in html
        assert 'data-markdownx-upload-urls-path="/editor/upload/"' in html
        assert "markdownx/js/markdownx" in html
        assert "&quot;#id_slug&quot;" in html  # slug prepopulated from the title


def test_adding_an_article_through_the_form(staff_client):
    category = CategoryFactory(name="Notes")
    tag = TagFactory(name="markdown")
    now = timezone.localtime()
    response = staff_client.post(
        ARTICLES + "add/",
        {
            "title": "Hello 世界",
            "slug": "hello-世界",
            "body": "## Hi\n\nSome **bold** text.",
            "summary": "",
            "summary_is_auto": "on",
            "_publish": "Publish now",
            "published_at_0": now.strftime("%Y-%m-%d"),
            "published_at_1": (now - timedelta(minutes=1)).strftime("%H:%M:%S"),
            "category": category.pk,
            "tags": [tag.pk],
            "allow_comments": "on",
            "author": staff_client.staff_user.pk,
            "source": "original",
            "source_url": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get(slug="hello-世界")
    assert "<strong>bold</strong>" in article.body_html
    assert article.summary == "Some bold text."  # prose only: the heading is left out
    assert article.is_public and article.summary_is_auto
    assert article.author == staff_client.staff_user
    assert list(article.tags.all()) == [tag]


def test_new_article_defaults_to_the_current_author(staff_client):
    html = staff_client.get(ARTICLES + "add/").content.decode()
    assert f'<option value="{staff_client.staff_user.pk}" selected>' in html


def test_reprint_without_source_url_is_a_form_error(staff_client):
    now = timezone.localtime()
    response = staff_client.post(
        ARTICLES + "add/",
        {
            "title": "Borrowed",
            "slug": "borrowed",
            "body": "Text",
            "status": "draft",
            "published_at_0": now.strftime("%Y-%m-%d"),
            "published_at_1": now.strftime("%H:%M:%S"),
            "category": Category.default().pk,
            "author": staff_client.staff_user.pk,
            "source": "reprint",
            "source_url": "",
        },
    )
    assert response.status_code == 200
    assert "source_url" in response.context["adminform"].form.errors
    assert not Article.objects.filter(slug="borrowed").exists()


@pytest.mark.parametrize("field", ["category", "tags"])
def test_autocomplete_for_category_and_tags(staff_client, field):
    CategoryFactory(name="Python")
    CategoryFactory(name="Rust")
    TagFactory(name="python-tips")
    TagFactory(name="rust-tips")
    response = staff_client.get(
        "/admin/autocomplete/",
        {"app_label": "articles", "model_name": "article", "field_name": field, "term": "pyth"},
    )
    assert response.status_code == 200
    texts = [result["text"] for result in response.json()["results"]]
    assert texts == (["Python"] if field == "category" else ["python-tips"])


def test_autocomplete_is_for_staff_only(client, user):
    params = {"app_label": "articles", "model_name": "article", "field_name": "category", "term": "a"}
    client.force_login(user)
    assert client.get("/admin/autocomplete/", params).status_code in (302, 403)


# --- View on site and draft preview ---------------------------------------------------


def test_view_on_site_and_preview_links(staff_client):
    public, draft = ArticleFactory(), DraftFactory()
    content_type = ContentType.objects.get_for_model(Article)
    for article in (public, draft):
        html = staff_client.get(f"{ARTICLES}{article.pk}/change/").content.decode()
        shortcut = f"/admin/r/{content_type.pk}/{article.pk}/"
        assert f'href="{shortcut}"' in html
        redirect = staff_client.get(shortcut)
        assert redirect.status_code == 302
        assert redirect["Location"].endswith(article.get_absolute_url())
    html = staff_client.get(ARTICLES).content.decode()
    assert f'href="{public.get_absolute_url()}" target="_blank" rel="noopener">View<' in html
    assert f'href="{draft.get_absolute_url()}" target="_blank" rel="noopener">Preview<' in html


@pytest.mark.parametrize("factory", [DraftFactory, ScheduledFactory])
def test_staff_preview_a_hidden_article_readers_get_404(staff_client, client, factory):
    article = factory(title="Not yet", body="Hidden **words**")
    response = staff_client.get(article.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]
    assert "<strong>words</strong>" in html
    assert 'class="preview-banner"' in html

    reader = client.__class__()
    assert reader.get(article.get_absolute_url()).status_code == 404
    # The staff preview was not cached for readers.
    assert reader.get(article.get_absolute_url()).status_code == 404


# --- Singletons and the default category ----------------------------------------------


def test_site_settings_cannot_be_added_twice_or_deleted(staff_client):
    SiteSettings.load()
    base = "/admin/articles/sitesettings/"
    assert staff_client.get(base + "add/").status_code == 403
    assert staff_client.post(base + "add/", {"title": "Second"}).status_code == 403
    assert staff_client.get(base + "1/delete/").status_code == 403
    assert staff_client.post(base + "1/delete/", {"post": "yes"}).status_code == 403
    staff_client.post(base, {"action": "delete_selected", "_selected_action": [1], "post": "yes"})
    assert SiteSettings.objects.count() == 1
    assert "delete_selected" not in staff_client.get(base + "1/change/").content.decode()


def test_site_settings_are_edited_in_the_admin(staff_client):
    site = SiteSettings.load()
    form = {
        "title": "New title",
        "tagline": "t",
        "description": "",
        "time_zone": "Europe/Berlin",
        "posts_per_page": "7",
        "announcement": "**Hello**",
        "footer": "",
    }
    assert staff_client.post(f"/admin/articles/sitesettings/{site.pk}/change/", form).status_code == 302
    site.refresh_from_db()
    assert (site.title, site.posts_per_page) == ("New title", 7)
    assert site.time_zone == "Europe/Berlin"
    assert "<strong>Hello</strong>" in site.announcement_html
    bad = staff_client.post(
        f"/admin/articles/sitesettings/{site.pk}/change/", {**form, "posts_per_page": "0"}
    )
    assert bad.status_code == 200
    assert "posts_per_page" in bad.context["adminform"].form.errors


def test_default_category_has_no_delete_page(staff_client):
    default = Category.default()
    assert staff_client.get(f"{CATEGORIES}{default.pk}/delete/").status_code == 403
    assert staff_client.post(f"{CATEGORIES}{default.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Category.objects.filter(pk=default.pk).exists()


def test_deleting_a_category_moves_its_articles_to_the_default(staff_client):
    doomed = CategoryFactory(name="Doomed")
    articles = [ArticleFactory(category=doomed), DraftFactory(category=doomed)]
    response = staff_client.post(f"{CATEGORIES}{doomed.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Category.objects.filter(pk=doomed.pk).exists()
    for article in articles:
        article.refresh_from_db()
        assert article.category.is_default


def test_bulk_delete_leaves_the_default_category_and_warns(staff_client):
    default = Category.default()
    doomed = CategoryFactory(name="Doomed")
    article = ArticleFactory(category=doomed)
    selection = {"action": "delete_selected", "_selected_action": [default.pk, doomed.pk]}

    confirm = staff_client.post(CATEGORIES, selection)
    assert confirm.status_code == 200
    assert any("default category" in message for message in messages_of(confirm))

    done = staff_client.post(CATEGORIES, {**selection, "post": "yes"}, follow=True)
    assert done.status_code == 200
    assert list(Category.objects.values_list("slug", flat=True)) == [default.slug]
    article.refresh_from_db()
    assert article.category_id == default.pk
    shown = messages_of(done)
    assert any("default category" in message for message in shown)
    assert "Successfully deleted 1 category." in shown


def test_bulk_delete_of_only_the_default_category_deletes_nothing(staff_client):
    default = Category.default()
    response = staff_client.post(
        CATEGORIES,
        {"action": "delete_selected", "_selected_action": [default.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert Category.objects.filter(pk=default.pk).exists()
    assert any("default category" in message for message in messages_of(response))


def test_editors_without_superuser_rights_need_permissions(client):
    editor = UserFactory(is_staff=True)
    client.force_login(editor)
    assert client.get(ARTICLES).status_code == 403
    editor.user_permissions.add(*Permission.objects.filter(codename__in=["view_article", "change_article"]))
    assert client.get(ARTICLES).status_code == 200


def test_the_admin_is_branded_for_the_blog_in_both_languages(staff_client):
    assert "Blog administration" in staff_client.get("/admin/").content.decode()
    chinese = staff_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "博客管理后台" in chinese


# --- the list at any size -------------------------------------------------------------

LIST_QUERIES = [
    "",
    "?p=2",
    "?status__exact=draft",
    "?category__id__exact={category}",
    "?tags__id__exact={tag}",
    "?q=caching",
    "?q={slug}",
    "?published_at__year={year}",
    "?published_at__year={year}&published_at__month={month}",
    "?o=5",
    "?o=-1",
    "?is_pinned__exact=1",
    "?source__exact=reprint",
    "?allow_comments__exact=0",
]


@pytest.mark.parametrize("query", LIST_QUERIES)
def test_every_article_list_costs_a_few_queries_whatever_its_size(
    staff_client, query, django_assert_max_num_queries
):
    category, tag = CategoryFactory(), TagFactory()
    now = timezone.localtime()

    def cost() -> int:
        url = ARTICLES + query.format(
            category=category.pk,
            tag=tag.pk,
            slug=Article.objects.first().slug,
            year=now.year,
            month=now.month,
        )
        staff_client.get(url)  # warm: site generation and settings are read once per process
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        return len(queries)

    ArticleFactory(title="About caching", category=category, tags=[tag])
    few = cost()
    for n in range(120):
        ArticleFactory(
            title=f"More caching {n}", category=category, tags=[tag], published_at=now - timedelta(hours=n)
        )
    many = cost()
    # session, user, the filters' choices (categories, tags), the count, the page's keys
    # and rows, the date hierarchy's ends and periods, the page's live view counts (a
    # query with the embedded counters) (+ a search's slug check)
    assert many <= 12 and few <= 12, (few, many)
    assert many <= few + 1, "a second page adds the keys query, nothing else grows"


def test_the_tag_filter_is_a_semi_join_without_distinct(staff_client):
    python, other = TagFactory(name="python"), TagFactory(name="other")
    both = ArticleFactory(title="Tagged twice", tags=[python, other])
    ArticleFactory(title="Untagged")
    with CaptureQueriesContext(connection) as queries:
        html = staff_client.get(ARTICLES, {"tags__id__exact": python.pk}).content.decode()
    assert "Tagged twice" in html and "Untagged" not in html
    assert html.count(f"/admin/articles/article/{both.pk}/change/") == 1
    assert not any("DISTINCT" in q["sql"] for q in queries.captured_queries)
    assert staff_client.get(ARTICLES, {"tags__id__exact": "junk"}).status_code == 200


@pytest.mark.django_db(transaction=True)  # MariaDB's full-text index reads committed rows
def test_search_uses_the_site_search_and_an_exact_slug(staff_client):
    ArticleFactory(title="Redis in production", slug="redis-prod")
    ArticleFactory(title="Caching", body="Mostly about redis and memcached.")
    ArticleFactory(title="Unrelated")
    html = staff_client.get(ARTICLES, {"q": "REDIS"}).content.decode()
    assert "Redis in production" in html and "Caching" in html and "Unrelated" not in html
    html = staff_client.get(ARTICLES, {"q": "redis-prod"}).content.decode()
    assert "Redis in production" in html and "Caching" not in html


@pytest.mark.django_db(transaction=True)  # MariaDB's full-text index reads committed rows
def test_a_search_with_the_date_hierarchy_searches_the_index_a_few_times(staff_client):
    """Per-period probes would each search the full-text index again (one per year of
    the site, 30 ms apiece for a common word at 100k): a search's dates come from one pass
    over its matches instead."""
    now = timezone.now()
    years = sorted({(now - timedelta(days=365 * back)).year for back in range(6)})
    for back in range(6):
        ArticleFactory(title=f"Redis notes {back}", published_at=now - timedelta(days=365 * back))
    ArticleFactory(title="Unrelated", published_at=now - timedelta(days=365 * 7))
    with CaptureQueriesContext(connection) as queries:
        html = staff_client.get(ARTICLES, {"q": "redis"}).content.decode()
    assert len(set(re.findall(r"Redis notes \d", html))) == 6 and "Unrelated" not in html
    shown = sorted(int(year) for year in re.findall(r"published_at__year=(\d{4})", html))
    assert shown == years, "the hierarchy offers the years of the matches, and only those"
    searches = sum(q["sql"].count(" MATCH") for q in queries.captured_queries)
    assert searches <= 4, f"the index searched {searches} times: count, span, dates, page"


def test_a_list_past_the_count_limit_says_so(staff_client, monkeypatch):
    from articles import adminlists

    monkeypatch.setattr(adminlists, "COUNT_LIMIT", 3)
    for _ in range(5):
        ArticleFactory()
    html = staff_client.get(ARTICLES, {"status__exact": "published"}).content.decode()
    assert "3+ articles" in html
    assert "Select all 3+ articles" in html


@pytest.mark.real_backends
def test_every_article_list_reads_through_indexes(staff_client):
    from articles.tests.plans import bulk_blog, unindexed_reads

    rows = bulk_blog(articles=3000, comments=0, author=staff_client.staff_user)
    now = timezone.localtime()
    category, tag = rows[0].category_id, Article.tags.through.objects.values_list("tag_id", flat=True).first()
    problems = []
    for query in [*LIST_QUERIES, "?p=40", "?o=-6", "?o=1", "?status__exact=published"]:
        url = ARTICLES + query.format(
            category=category, tag=tag, slug=rows[5].slug, year=now.year, month=now.month
        )
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        problems += unindexed_reads(queries.captured_queries, {"articles_article"})
    assert not problems, "\n".join(problems)
    unsorted = "SELECT `id` FROM `articles_article` ORDER BY `articles_article`.`summary` LIMIT 50"
    assert unindexed_reads([{"sql": unsorted}], {"articles_article"}), "the check sees a sort of every row"


@pytest.mark.parametrize(
    ("url", "factory"),
    [
        ("/admin/articles/tag/", TagFactory),
        (CATEGORIES, CategoryFactory),
        ("/admin/articles/page/", PageFactory),
    ],
)
def test_the_taxonomy_and_page_lists_cost_the_same_few_queries_at_any_size(staff_client, url, factory):
    def cost() -> int:
        staff_client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        return len(queries)

    factory()
    few = cost()
    for _ in range(120):  # more than a page
        factory()
    assert cost() == few <= 6


WIDGETS = "/admin/articles/sidebarwidget/"


def test_widget_kinds_offered_are_the_registered_ones(staff_client):
    """The kind select lists what the installed apps register, the core's kinds first."""
    form = staff_client.get(f"{WIDGETS}add/").context["adminform"].form
    offered = [key for key, _label in form.fields["kind"].choices]
    assert set(offered[: len(SidebarWidget.Kind.values)]) == set(SidebarWidget.Kind.values)
    assert {"recent_comments", "site_stats"} <= set(offered)  # comments and stats are installed here


def test_a_kind_no_app_provides_is_refused(staff_client):
    fields = {"title": "", "kind": "gone_app_widget", "body": "", "item_count": "5", "order": "0"}
    answer = staff_client.post(f"{WIDGETS}add/", {**fields, "enabled": "on"})
    assert answer.status_code == 200
    assert "kind" in answer.context["adminform"].form.errors
    assert not SidebarWidget.objects.exists()


def test_a_widget_of_a_removed_app_is_shown_unavailable_and_kept(staff_client):
    """Its row keeps its kind; the list says it is unavailable, and it can still be edited."""
    widget = WidgetFactory(kind="gone_app_widget", title="")
    listing = staff_client.get(WIDGETS).content.decode()
    assert "Unavailable (“gone_app_widget”: its app is not installed)" in listing
    fields = {"title": "Old", "kind": "gone_app_widget", "body": "", "item_count": "5", "order": "3"}
    assert staff_client.post(f"{WIDGETS}{widget.pk}/change/", fields).status_code == 302
    widget.refresh_from_db()
    assert (widget.kind, widget.title, widget.order, widget.enabled) == ("gone_app_widget", "Old", 3, False)


def test_site_settings_link_the_apps_settings(staff_client):
    """The comment policy is the comments app's: linked from the site settings page."""
    page = staff_client.get(f"/admin/articles/sitesettings/{SiteSettings.load().pk}/change/").content.decode()
    assert 'id="more-settings"' in page and "/admin/comments/commentsettings/" in page
    assert "comment_moderation" not in page
