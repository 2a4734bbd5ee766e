"""``manage.py seed_demo`` fills a realistic bilingual demo blog, idempotently, on both backends."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles import registry
from articles.management import demo_content
from articles.models import Article, Category, Page, SidebarWidget, SiteSettings, Tag
from articles.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, verbosity=0, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot() -> dict:
    """Everything the command writes, in a comparable form."""
    articles = {
        a.slug: (
            a.title,
            a.body,
            a.summary,
            a.status,
            a.published_at,
            a.is_pinned,
            a.category.slug,
            a.source,
            a.source_url,
            a.author_id,
            a.updated_at,
            tuple(sorted(t.slug for t in a.tags.all())),
        )
        for a in Article.objects.select_related("category").prefetch_related("tags")
    }
    return {
        "articles": articles,
        "categories": list(Category.objects.values_list("slug", "name", "parent__slug", "order")),
        "tags": list(Tag.objects.values_list("slug", "name")),
        "pages": list(Page.objects.values_list("slug", "title", "body", "show_in_nav", "updated_at")),
        "widgets": list(SidebarWidget.objects.values_list("pk", "kind", "title", "body", "order")),
        "settings": list(SiteSettings.objects.values_list("pk", "title", "announcement", "updated_at")),
        "users": list(get_user_model().objects.values_list("username", "password")),
    }


def test_running_twice_changes_nothing():
    seed()
    first = snapshot()
    seed()
    second = snapshot()
    assert len(first["articles"]) == 50
    # Same rows, same content, and nothing re-saved (updated_at unchanged).
    assert second == first


def test_another_seed_rewrites_the_same_rows():
    seed("--articles", "12", "--seed", "1")
    slugs = set(Article.objects.values_list("slug", flat=True))
    bodies = dict(Article.objects.values_list("slug", "body"))
    seed("--articles", "12", "--seed", "2")
    assert set(Article.objects.values_list("slug", flat=True)) == slugs
    changed = [slug for slug, body in Article.objects.values_list("slug", "body") if bodies[slug] != body]
    assert len(changed) >= 10  # the generated bodies differ; the hand-written tour does not


def test_demo_blog_has_the_promised_shape(media_root):
    seed()
    articles = list(Article.objects.all())
    assert len(articles) == 50

    chinese = [a for a in articles if HAN.search(a.title)]
    english = [a for a in articles if not HAN.search(a.title)]
    assert len(chinese) >= 20 and len(english) >= 20

    # Categories: the demo's eight (top-level and children) next to the protected default.
    assert Category.objects.count() == len(demo_content.CATEGORIES) + 1
    assert Category.objects.filter(slug="uncategorized").exists()
    children = Category.objects.filter(parent__isnull=False)
    assert children.count() >= 2
    assert all(child.parent.parent is None for child in children)
    assert Tag.objects.count() == len(demo_content.TAGS) >= 20

    html = "".join(a.body_html for a in articles)
    languages = set(re.findall(r'class="language-(\w+)"', html))
    assert {"python", "sql", "bash", "javascript", "go", "rust", "yaml"} <= languages
    assert all("<h2" in a.body_html for a in articles)
    assert all("<pre" in a.body_html for a in articles)
    assert sum("<table>" in a.body_html for a in articles) == 50
    assert all(("<ul>" in a.body_html or "<ol>" in a.body_html) for a in articles)
    assert any("footnote" in a.body_html for a in articles)
    assert any('type="checkbox"' in a.body_html for a in articles)
    assert re.search(r'class="hl-\w+"', html), "code is highlighted"

    images = set(re.findall(r'<img[^>]* src="(/media/demo/[^"]+)"', html))
    assert len(images) >= 2
    for url in images:
        path = Path(media_root) / url.removeprefix("/media/")
        assert path.is_file() and path.stat().st_size > 500

    reprints = [a for a in articles if a.source != Article.Source.ORIGINAL]
    assert {a.source for a in reprints} == {"reprint", "translation"}
    assert all(a.source_url.startswith("https://") for a in reprints)

    assert Article.objects.filter(status=Article.Status.DRAFT).count() == 2
    assert sum(a.is_scheduled for a in articles) == 1
    assert Article.objects.published().filter(is_pinned=True).count() == 1

    published = Article.objects.published().order_by("published_at")
    span = published.last().published_at - published.first().published_at
    assert 365 <= span.days <= 450
    assert published.last().published_at <= timezone.now()
    assert all(a.author.username == "demo" for a in articles)


def test_pages_settings_and_widgets():
    seed("--articles", "3")
    nav = set(Page.objects.published().filter(show_in_nav=True).values_list("title", flat=True))
    assert {"About", "关于"} <= nav
    site = SiteSettings.load()
    assert site.title == demo_content.SITE["title"]
    assert site.tagline and site.footer_html and "<strong>" in site.announcement_html
    kinds = set(SidebarWidget.objects.filter(enabled=True).values_list("kind", flat=True))
    assert kinds == {kind for kind, _label in registry.widget_kind_choices()}  # the installed apps' too


def test_unicode_round_trips_through_the_database():
    """Emoji and Chinese survive the database (utf8mb4 on MariaDB)."""
    seed("--articles", "4")
    site = SiteSettings.objects.get()
    assert site.announcement == demo_content.SITE["announcement"]
    assert "👋" in site.announcement
    title = demo_content.ZH_TOPICS[0].title
    article = Article.objects.get(title=title)
    assert HAN.search(article.slug)
    assert Article.objects.get(slug=article.slug).title == title
    assert "🙂" in "".join(demo_content.ZH_PARAGRAPHS)
    assert Page.objects.get(slug="关于").title == "关于"


def test_drafts_and_scheduled_are_not_public(client):
    seed("--articles", "12")
    hidden = list(Article.objects.exclude(pk__in=Article.objects.published()))
    assert len(hidden) == 3
    pages = [
        client.get("/").content.decode(),
        client.get("/feed/rss/").content.decode(),
        client.get("/sitemap.xml").content.decode(),
        client.get("/archives/").content.decode(),
    ]
    for article in hidden:
        assert client.get(article.get_absolute_url()).status_code == 404
        for page in pages:
            assert article.title not in page
            assert article.slug not in page
    visible = Article.objects.published().first()
    assert client.get(visible.get_absolute_url()).status_code == 200


def test_demo_user_is_staff_without_a_password():
    seed("--articles", "1")
    demo = get_user_model().objects.get(username="demo")
    assert demo.is_staff and not demo.is_superuser
    assert not demo.has_usable_password()


def test_password_option_sets_a_new_users_password():
    seed("--articles", "1", "--password", "a-long demo passphrase")
    assert get_user_model().objects.get(username="demo").check_password("a-long demo passphrase")


def test_password_option_never_overwrites_an_existing_user():
    UserFactory(username="demo")
    errors = StringIO()
    call_command(
        "seed_demo", "--articles", "1", "--password", "another passphrase", stdout=StringIO(), stderr=errors
    )
    demo = get_user_model().objects.get(username="demo")
    assert demo.check_password("correct horse battery staple")
    assert "unchanged" in errors.getvalue()


def test_weak_password_is_refused_and_nothing_is_written():
    with pytest.raises(CommandError, match=r"too short|too common"):
        seed("--articles", "2", "--password", "123")
    assert not get_user_model().objects.filter(username="demo").exists()
    assert not Article.objects.exists()


def test_a_clashing_existing_row_is_a_clear_error_and_nothing_is_written():
    Category.objects.create(name="Python", slug="my-python")
    with pytest.raises(CommandError, match=r"Cannot write the demo category 'python': .* already exists"):
        seed("--articles", "2")
    assert not Article.objects.exists()
    assert not Tag.objects.exists()


def test_article_count_is_validated():
    with pytest.raises(CommandError):
        seed("--articles", "-1")


def test_more_articles_than_titles_get_numbered_slugs():
    seed("--articles", "54")
    assert Article.objects.count() == 54
    assert Article.objects.filter(slug="a-tour-of-markdown-on-this-blog-2").exists()


def test_progress_bar_and_summary(capsys):
    call_command("seed_demo", "--articles", "5")
    captured = capsys.readouterr()
    assert "Seeding demo" in captured.err and "100%" in captured.err
    assert "Demo blog ready: 5 articles" in captured.out


def test_demo_widgets_have_headings_in_both_languages_and_are_not_doubled():
    from articles.models import SidebarWidget

    SidebarWidget.objects.create(kind="custom", title="About me", body="from an earlier demo")
    seed("--articles", "3")
    assert not SidebarWidget.objects.filter(title="About me").exists()
    assert SidebarWidget.objects.filter(kind="custom").count() == 1
    untitled = SidebarWidget.objects.filter(title="").exclude(kind="custom")
    assert untitled.count() == len(demo_content.WIDGETS) - 1  # every kind but the custom one
