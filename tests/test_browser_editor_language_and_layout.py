"""In Chromium: the writing room in Chinese with no English from its JavaScript (autosave,
recovery, the conflict between two tabs, the image dialog, counters, SEO previews), Schedule
without a time taking the next full hour, the sticky action bar never covering the panes
(desktop and phone), and axe-core at 0 violations on the article form in both languages."""

import io
import re
import subprocess
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from articles.media import media_create
from articles.models import Article, EditorAutosave
from articles.tests.factories import ArticleFactory, UserFactory
from tests.browser import save_failure_screenshots

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
EDITOR_ZONE = "America/New_York"
AUDIT = Path(__file__).resolve().parent.parent / "audit"
# Three or more Latin letters in a row: an English word left in a Chinese sentence.
ENGLISH = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture
def editor():
    return UserFactory(username="bo", first_name="", is_staff=True, is_superuser=True, password=PASSWORD)


@pytest.fixture
def browser_context(chromium, request):
    """Contexts made by the test (language, viewport), closed with screenshots on failure."""
    made = []

    def make(locale="en-US", width=1280, height=900, mobile=False, scheme="light"):
        context = chromium.new_context(
            color_scheme=scheme,
            locale=locale,
            timezone_id=EDITOR_ZONE,
            viewport={"width": width, "height": height},
            is_mobile=mobile,
        )
        context.set_default_timeout(15_000)
        made.append(context)
        return context

    yield make
    for context in made:
        save_failure_screenshots(request, context.pages)
        context.close()


def log_in(page, live_server, next_url: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "bo")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_url}")


def no_english(text: str) -> None:
    assert text.strip(), "the JavaScript wrote nothing here"
    assert not ENGLISH.search(text), f"English from JavaScript: {text!r}"


def wait_for_autosave_row(page, article_id: int, body: str) -> EditorAutosave:
    saved = None
    for _attempt in range(150):  # the browser autosaves every few seconds while the text changes
        saved = EditorAutosave.objects.filter(kind="article", object_id=article_id).first()
        if saved and saved.data.get("body") == body:
            return saved
        page.wait_for_timeout(100)
    raise AssertionError(f"no autosave of {body!r}: {saved and saved.data}")


def test_the_chinese_editor_shows_no_english_from_javascript(
    live_server, transactional_db, editor, browser_context, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 30)).save(buffer, format="PNG")
    media_create(image=Image.open(buffer), original_name="", alt_text="", user=editor)
    context = browser_context(locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server, "/admin/articles/article/add/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    status = page.locator("[data-autosave-status]")

    page.fill("#id_title", "读书")
    page.locator("textarea.markdownx-editor").fill("读书使人充实，讨论使人机智，笔记使人准确。")
    page.locator(".markdownx-preview").locator("p", has_text="读书使人充实").wait_for()
    expect(page.locator("[data-word-count]")).to_have_text(re.compile(r"^\d+ 字 · 阅读约 1 分钟$"))
    no_english(page.inner_text("[data-word-count]"))
    # The default category follows the language (stored once, in English).
    assert page.locator("#id_category option:checked").inner_text() == "未分类"

    # The previews beside the SEO fields.
    previews = page.locator(".seo-previews")
    assert previews.locator("h3").all_text_contents() == ["搜索结果中的样子", "分享时的样子（社交卡片）"]
    assert "读书" in previews.locator(".serp-title").text_content()

    # The image dialog: titles, the refusal, the library's tile without a description.
    page.click(".writing-toolbar [data-media-open=upload]")
    expect(page.locator("#media-dialog-title")).to_have_text("插入图片")
    assert page.locator("[data-media-tab]").all_inner_texts() == ["从本机选择", "媒体库"]
    page.click("[data-media-upload]")
    expect(page.locator("[data-media-error]")).to_have_text("请先选择一张图片。")
    page.click("[data-media-close]")
    page.click("[data-featured-image] [data-media-open]")
    expect(page.locator("#media-dialog-title")).to_have_text("特色图片")
    expect(page.locator(".media-tile span")).to_have_text("（无描述）")
    page.click("[data-media-close]")

    # The first autosave makes it a draft.
    expect(status).to_have_text(re.compile(r"^已于 .+ 保存为草稿（在“草稿”中可以找到）$"))
    no_english(status.inner_text())
    draft = Article.objects.get(title="读书")
    assert draft.status == Article.Status.DRAFT
    change_url = f"{live_server.url}/admin/articles/article/{draft.pk}/change/"
    expect(page).to_have_url(change_url)

    # Another tab opens the draft; this tab then autosaves newer text.
    other = context.new_page()
    other.goto(change_url)
    other.locator("[data-word-count]").wait_for()
    page.locator("textarea.markdownx-editor").press_sequentially("第一个标签页。")
    mine = page.input_value("textarea.markdownx-editor")
    wait_for_autosave_row(page, draft.pk, mine)
    expect(status).to_have_text(re.compile(r"^草稿已于 .+ 自动保存$"))
    # The other tab's text does not silently replace it: a notice, in Chinese.
    other.locator("textarea.markdownx-editor").press_sequentially("第二个标签页。")
    conflict = other.locator("#editor-conflict")
    expect(conflict).to_be_visible()
    no_english(other.inner_text("[data-conflict-when]"))
    assert "自动保存了其他内容" in other.inner_text("[data-conflict-when]")
    expect(other.locator("[data-autosave-status]")).to_have_text(
        "未自动保存：另一个标签页或编辑者修改了这篇文章。"
    )
    assert EditorAutosave.objects.get(object_id=draft.pk).data["body"] == mine
    # "Keep my text": the other tab's text is autosaved over it, knowingly.
    other.click("[data-conflict-keep]")
    theirs = other.input_value("textarea.markdownx-editor")
    wait_for_autosave_row(other, draft.pk, theirs)
    expect(other.locator("[data-autosave-status]")).to_have_text(re.compile(r"^草稿已于 .+ 自动保存$"))
    other.close()

    # A third tab is offered the autosave back, and restores it.
    page.close()
    third = context.new_page()
    third.goto(change_url)
    when = third.locator("[data-recovery-when]")
    expect(when).to_have_text(re.compile(r"^由 bo 于 .+ 自动保存。$"))
    no_english(when.inner_text().replace("bo", ""))
    # Typing before choosing autosaves nothing over the text on offer, and says so.
    third.locator("textarea.markdownx-editor").press_sequentially("第三个。")
    # Said at the next autosave tick (every 5 s), however busy the machine is.
    expect(third.locator("[data-autosave-status]")).to_have_text(
        "尚未自动保存：请先恢复或放弃找回的修改。", timeout=30_000
    )
    assert EditorAutosave.objects.get(object_id=draft.pk).data["body"] == theirs
    third.click("[data-recovery-restore]")
    assert third.input_value("textarea.markdownx-editor") == theirs
    expect(third.locator("[data-autosave-status]")).to_have_text("已恢复找回的内容：保存后才会保留。")
    # Its own autosave follows (nothing left in flight when the test's database goes).
    expect(third.locator("[data-autosave-status]")).to_have_text(re.compile(r"^草稿已于 .+ 自动保存$"))


def test_schedule_without_choosing_a_time_takes_the_next_full_hour(
    live_server, transactional_db, editor, browser_context
):
    page = browser_context().new_page()
    log_in(page, live_server, "/admin/articles/article/add/")
    when = page.get_by_label("Published at")  # one control, named by a real <label>
    assert when.get_attribute("type") == "datetime-local"
    page.fill("#id_title", "Later")
    page.locator("textarea.markdownx-editor").fill("Some words.")
    # The first autosave made it a draft: the form now saves that draft, not a second article.
    page.locator("[data-autosave-status]", has_text="Saved as a draft").wait_for()
    zone = ZoneInfo(EDITOR_ZONE)
    before = timezone.now().astimezone(zone)
    page.click("input[name=_schedule]")
    page.locator(".messagelist .success", has_text="Scheduled for").wait_for()
    after = timezone.now().astimezone(zone)
    article = Article.objects.get()  # one article: the draft, scheduled
    assert article.title == "Later"
    hours = {(m.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)) for m in (before, after)}
    assert article.is_scheduled and article.published_at in hours
    shown = timezone.localtime(article.published_at, zone).strftime("%Y-%m-%dT%H:%M")
    assert page.get_by_label("Published at").input_value().startswith(shown)


@pytest.mark.parametrize(
    ("width", "height", "mobile"), [(1440, 900, False), (390, 844, True)], ids=["desktop", "phone"]
)
def test_the_action_bar_never_covers_the_panes(
    live_server, transactional_db, editor, browser_context, width, height, mobile
):
    page = browser_context(width=width, height=height, mobile=mobile).new_page()
    log_in(page, live_server, "/admin/articles/article/add/")
    text = page.locator("textarea.markdownx-editor")
    text.fill("\n\n".join(f"Paragraph {n} of a long article." for n in range(80)))
    page.locator(".markdownx-preview").locator("p", has_text="Paragraph 79").wait_for()
    bar = page.locator(".submit-row.editor-actions")
    for pane in (text, page.locator(".writing-preview")):
        # As the browser scrolls to the text (focus, find, the caret): clear of the bar.
        pane.evaluate("e => e.scrollIntoView({block: 'end'})")
        box, bar_box = pane.bounding_box(), bar.bounding_box()
        assert bar_box["y"] + bar_box["height"] == pytest.approx(height, abs=1)  # the bar is at the bottom
        assert box["y"] + box["height"] <= bar_box["y"] + 0.5, (box, bar_box)
        if not mobile:  # side by side, each pane fits whole between the toolbar and the bar
            toolbar = page.locator(".writing-toolbar").bounding_box()
            assert box["y"] >= toolbar["y"] + toolbar["height"] - 0.5, (box, toolbar)
    if mobile:
        assert bar.bounding_box()["height"] <= 100
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The first autosave (a draft now) has answered: nothing in flight when the database goes.
    page.locator("[data-autosave-status]", has_text="Saved as a draft").wait_for()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core as pinned by audit/package-lock.json, installed the way `make audit` does."""
    path = AUDIT / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=AUDIT,
            check=True,
            timeout=600,
        )
    return path.read_text()


@pytest.mark.parametrize(
    ("locale", "scheme"),
    [("en-US", "light"), ("zh-CN", "light"), ("zh-CN", "dark")],
    ids=["en", "zh", "zh-dark"],
)
def test_the_article_form_has_no_axe_violations(
    live_server, transactional_db, editor, browser_context, axe_source, locale, scheme
):
    article = ArticleFactory(
        author=editor, body="## A heading\n\nText with an ![image](/static/icons/icon.svg)."
    )
    page = browser_context(locale=locale, scheme=scheme).new_page()
    log_in(page, live_server, f"/admin/articles/article/{article.pk}/change/")
    page.locator(".markdownx-preview").locator("h2").wait_for()
    page.locator("[data-word-count]").wait_for()
    # The collapsed sections open, so that the SEO previews are checked too.
    for section in page.locator("fieldset.collapse summary, details > summary").all():
        section.click()
    page.locator(".seo-previews").wait_for()
    page.evaluate(axe_source)
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(
                v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")}`
            );
        }"""
    )
    assert violations == [], "\n".join(violations)
