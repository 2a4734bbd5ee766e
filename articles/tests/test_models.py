"""Model rules: slugs, summaries, rendering on save, the default category, singletons."""

import pytest
from django.core.exceptions import ValidationError

from articles.models import DEFAULT_CATEGORY_SLUG, Article, Category, SidebarWidget, SiteSettings
from articles.tests.factories import ArticleFactory, CategoryFactory, PageFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_unicode_slug_is_generated_and_unique():
    first = ArticleFactory(title="你好 世界", slug="")
    second = ArticleFactory(title="你好 世界", slug="")
    assert first.slug == "你好-世界" and second.slug == "你好-世界-2"


def test_symbol_only_title_still_gets_a_slug():
    assert ArticleFactory(title="!!!", slug="").slug == "post"


def test_body_is_rendered_and_summary_generated_on_save():
    article = ArticleFactory(body="## Head\n\nFirst **para**.\n\n" + "word " * 100, summary="")
    assert "<strong>para</strong>" in article.body_html
    # Prose only: the heading is left out, inline markup leaves no stray spaces.
    assert article.summary.startswith("First para. word") and article.summary.endswith("…")
    assert len(article.summary) <= 161
    assert 'href="#head"' not in article.toc_html  # one heading: no table of contents


def test_summary_leaves_out_code_and_tables():
    article = ArticleFactory(
        body="Intro words.\n\n```python\nx = 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nEnd."
    )
    assert article.summary == "Intro words. End."


def test_explicit_summary_is_kept():
    assert ArticleFactory(summary="Mine").summary == "Mine"


def test_saving_a_stale_article_keeps_the_counters_others_updated():
    article = ArticleFactory(body="first")
    stale = Article.objects.get(pk=article.pk)  # an editor opens the article ...
    Article.objects.filter(pk=article.pk).update(view_count=120, comment_count=7)  # ... readers read
    stale.body = "second"
    stale.save()
    article.refresh_from_db()
    assert (article.view_count, article.comment_count) == (120, 7)
    assert "second" in article.body_html


def test_reprint_needs_source_url():
    article = ArticleFactory.build(author=UserFactory(), category=CategoryFactory(), source="reprint")
    with pytest.raises(ValidationError) as error:
        article.full_clean()
    assert "source_url" in error.value.message_dict


def test_default_category_exists_and_cannot_be_deleted():
    default = Category.objects.get(slug=DEFAULT_CATEGORY_SLUG)
    with pytest.raises(ValidationError):
        default.delete()
    assert Category.objects.filter(slug=DEFAULT_CATEGORY_SLUG).exists()


def test_deleting_a_category_moves_its_articles_to_the_default():
    category = CategoryFactory()
    child = CategoryFactory(parent=category)
    article = ArticleFactory(category=category)
    category.delete()
    article.refresh_from_db()
    child.refresh_from_db()
    assert article.category.slug == DEFAULT_CATEGORY_SLUG
    assert child.parent is None  # children are kept, lifted to the top level


def test_new_article_defaults_to_the_default_category():
    article = Article.objects.create(title="t", body="b", author=UserFactory())
    assert article.category.slug == DEFAULT_CATEGORY_SLUG


def test_category_cannot_be_its_own_ancestor():
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    parent.parent = child
    with pytest.raises(ValidationError):
        parent.full_clean()


def test_site_settings_is_a_single_row():
    first = SiteSettings.load()
    SiteSettings(title="Other").save()
    assert SiteSettings.objects.count() == 1
    assert SiteSettings.load().title == "Other" and first.pk == 1
    with pytest.raises(ValidationError):
        SiteSettings.load().delete()


@pytest.mark.parametrize("posts", [0, 101])
def test_site_settings_validates_posts_per_page(posts):
    with pytest.raises(ValidationError):
        SiteSettings(posts_per_page=posts).full_clean()


def test_links_widget_validates_lines():
    widget = SidebarWidget(kind=SidebarWidget.Kind.LINKS, body="Good https://a.example\nbad line")
    with pytest.raises(ValidationError) as error:
        widget.full_clean()
    assert "Line 2" in str(error.value)
    ok = SidebarWidget(kind=SidebarWidget.Kind.LINKS, body="Good one https://a.example\n\nHome /")
    ok.full_clean()
    assert ok.links() == [("Good one", "https://a.example"), ("Home", "/")]


def test_custom_widget_and_page_markdown_is_sanitised():
    widget = SidebarWidget.objects.create(kind="custom", body="<script>x</script>\n\n**hi**")
    page = PageFactory(body="<img src=x onerror=alert(1)>")
    assert "<script>" not in widget.body_html and "<strong>hi</strong>" in widget.body_html
    assert "onerror" not in page.body_html


@pytest.mark.real_backends
@pytest.mark.django_db(transaction=True)  # the full-text index reads committed rows
def test_utf8mb4_text_round_trips_through_mariadb():
    text = "Emoji 🎉🚀 and 中文标题 and 𠜎 (4-byte CJK ext B)"
    article = ArticleFactory(title=text, body=f"# {text}\n\n{text}", slug="")
    fresh = Article.objects.get(pk=article.pk)
    assert fresh.title == text and text in fresh.body and fresh.slug.startswith("emoji-and-中文标题")
    assert Article.objects.filter(title__contains="🚀").count() == 1
    assert Article.objects.published().search("中文标题").count() == 1


def test_summary_is_prose_only():
    article = ArticleFactory(
        summary="",
        body="# Title\n\n- [x] done\n- [ ] todo\n\n```python\nx = 1\n```\n\n"
        "Opening **line** with `inline code`.\n\n- a point\n\n> quoted\n\n"
        "| a |\n|---|\n| 1 |\n\nText[^1].\n\n[^1]: Note.",
    )
    assert article.summary == "Opening line with inline code. a point quoted Text."


def test_summary_follows_the_body_until_written():
    article = ArticleFactory(summary="", body="First opening.")
    assert article.summary_is_auto and article.summary == "First opening."
    article.body = "A new opening."
    article.save()
    assert article.summary == "A new opening."
    article.summary, article.summary_is_auto = "Mine.", False
    article.save()
    article.body = "Yet another."
    article.save()
    assert article.summary == "Mine."
    article.summary = ""
    article.save()
    assert (article.summary, article.summary_is_auto) == ("Yet another.", True)  # blank: follows again


def test_seo_fallbacks_and_og_image(tmp_path, settings):
    from articles.models import MediaFile

    article = ArticleFactory(title="Title", summary="Summary")
    assert (article.seo_title_or_title, article.seo_description_or_summary, article.og_image_url) == (
        "Title",
        "Summary",
        "",
    )
    media = MediaFile.objects.create(file="uploads/x.png", width=10, height=10, size=1)
    article.seo_title, article.seo_description, article.featured_image = "For search", "Described", media
    article.save()
    assert (article.seo_title_or_title, article.seo_description_or_summary) == ("For search", "Described")
    assert article.og_image_url == "/media/uploads/x.png"
