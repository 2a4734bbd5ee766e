"""In Chromium: the editor's whole journey in the admin's writing room (toolbar and live
preview, an upload with alt text, a refused upload, autosave and recovery after a closed
tab, schedule, publish, restore of an older revision), and a reader who then reads it."""

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from articles.models import Article, EditorAutosave, MediaFile, MediaUsage
from articles.tests.factories import UserFactory
from tests.browser import save_failure_screenshots

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
# Not the site's zone (DJANGO_TIME_ZONE, Asia/Shanghai by default): scheduling must be in the editor's.
EDITOR_ZONE = "America/New_York"
TITLE = "Browser-written article"
BODY = """## Why this works

It is really simple to write here.

```python
def greet(name):
    return f"Hello, {name}!"
```

| Engine | Speed |
|--------|------:|
| Fast   | 10 ms |
| Slow   | 90 ms |
"""


@pytest.fixture
def editor():
    return UserFactory(username="editor", is_staff=True, is_superuser=True, password=PASSWORD)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def context(chromium, request):
    """A browser in the editor's own time zone; screenshots under var/artifacts/ on failure."""
    context = chromium.new_context(
        locale="en-US", timezone_id=EDITOR_ZONE, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    yield context
    save_failure_screenshots(request, context.pages)
    context.close()


def log_in(page, live_server, next_url: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_url}")


def autosaved(page) -> None:
    """Wait for the autosave of what was typed, so that closing the page sends nothing more
    (a last autosave racing the test database's teardown). The first autosave of a new
    article makes it a draft ("Saved as a draft"), later ones say "autosaved"."""
    page.locator("[data-autosave-status]", has_text=re.compile("autosaved|Saved as a draft")).wait_for()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def drop_file(page, name: str, data: bytes, mime: str) -> None:
    page.locator("textarea.markdownx-editor").evaluate(
        """(editor, [name, bytes, mime]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, {type: mime}));
            const drop = {dataTransfer: transfer, bubbles: true, cancelable: true};
            editor.dispatchEvent(new DragEvent("drop", drop));
        }""",
        [name, list(data), mime],
    )


def test_the_editor_journey(live_server, transactional_db, editor, media_root, context, chromium):
    page = context.new_page()
    body = page.locator("textarea.markdownx-editor")
    preview = page.locator(".markdownx-preview")

    # --- Write, with the toolbar, its shortcuts and the preview beside the text -------------
    log_in(page, live_server, "/admin/articles/article/add/")
    page.locator("#id_title").press_sequentially(TITLE)  # key by key, as the slug script listens
    assert page.input_value("#id_slug") == "browser-written-article"
    body.fill(BODY)
    text = page.input_value("textarea.markdownx-editor")
    start = text.index("really simple")
    body.evaluate("(e, [s, t]) => e.setSelectionRange(s, t)", [start, start + len("really simple")])
    page.locator("md-bold").click()
    assert "**really simple**" in page.input_value("textarea.markdownx-editor")
    start = page.input_value("textarea.markdownx-editor").index("write here")
    body.evaluate("(e, [s, t]) => e.setSelectionRange(s, t)", [start, start + len("write here")])
    body.press("Control+i")  # the shortcut presses the toolbar's button
    assert "_write here_" in page.input_value("textarea.markdownx-editor")
    # The preview (a shadow root, which Playwright's selectors pierce) shows the page's HTML
    # with the reader's styles: code coloured by pygments.css, the body font from blog.css.
    preview.locator("strong", has_text="really simple").wait_for()
    preview.locator("em", has_text="write here").wait_for()
    preview.locator("table").wait_for()
    keyword = preview.locator("pre .hl-k").first
    assert keyword.evaluate("e => getComputedStyle(e).color") != preview.locator("pre").evaluate(
        "e => getComputedStyle(e).color"
    )
    assert preview.locator(".reader-preview").evaluate("e => getComputedStyle(e).fontSize") == "17px"
    # Side by side at 1280 px: the preview starts level with the text, to its right.
    text_box, preview_box = body.bounding_box(), preview.bounding_box()
    assert preview_box["x"] > text_box["x"] + text_box["width"] - 1
    assert abs(preview_box["y"] - text_box["y"]) < 40

    # --- An upload with its alt text, from the button --------------------------------------
    body.evaluate("e => e.setSelectionRange(e.value.length, e.value.length)")
    page.click(".writing-toolbar [data-media-open=upload]")
    page.set_input_files("#media-file", {"name": "blue.png", "mimeType": "image/png", "buffer": png_bytes()})
    page.fill("#media-alt", "A blue [square]")
    page.click("[data-media-upload]")
    # expect(), not wait_for_function(): the page's Content-Security-Policy forbids the eval
    # that wait_for_function needs.
    expect(page.locator("textarea.markdownx-editor")).to_have_value(re.compile(r"/media/uploads/"))
    media = MediaFile.objects.get()
    assert (media.alt_text, media.width, media.height, media.uploaded_by) == (
        "A blue [square]",
        120,
        80,
        editor,
    )
    assert f"![A blue \\[square\\]]({media.url})" in page.input_value("textarea.markdownx-editor")
    assert (Path(settings.MEDIA_ROOT) / media.file.name).is_file()
    image = preview.locator(f'img[src="{media.url}"]')
    image.wait_for()
    assert image.get_attribute("alt") == "A blue [square]"

    # --- A refused upload (a text file named .png, dropped on the text) ---------------------
    before = page.input_value("textarea.markdownx-editor")
    drop_file(page, "notes.png", b"this is not an image", "image/png")
    page.locator("#media-dialog[open]").wait_for()
    assert "notes.png" in page.inner_text("[data-media-chosen]")
    page.fill("#media-alt", "Not an image")
    page.click("[data-media-upload]")
    error = page.locator("[data-media-error]")
    error.wait_for()
    assert "not a valid image" in error.inner_text()
    page.click("[data-media-close]")
    assert page.input_value("textarea.markdownx-editor") == before  # nothing written into the text
    assert "Invalid response" not in before
    assert MediaFile.objects.count() == 1

    # --- The first autosave made it a draft; the tab is closed without saving; the text comes
    # back from the Drafts list -------------------------------------------------------------
    expect(page).to_have_url(re.compile(r"/admin/articles/article/\d+/change/$"))  # the tab edits the draft
    draft = Article.objects.get(title=TITLE)
    assert draft.status == Article.Status.DRAFT and draft.author == editor
    body.evaluate("e => e.setSelectionRange(e.value.length, e.value.length)")
    body.press_sequentially(" Typed after the draft was made.")
    saved = None
    for _attempt in range(150):  # the browser saves every few seconds while the text changes
        saved = EditorAutosave.objects.filter(kind="article", object_id=draft.pk).first()
        if saved and saved.data.get("body") == page.input_value("textarea.markdownx-editor"):
            break
        page.wait_for_timeout(100)
    assert saved.data["title"] == TITLE and media.url in saved.data["body"]
    page.close()
    page = context.new_page()
    body = page.locator("textarea.markdownx-editor")
    preview = page.locator(".markdownx-preview")
    page.goto(f"{live_server.url}/admin/articles/article/?status__exact=draft")
    page.get_by_role("link", name=TITLE).click()
    page.locator("#editor-recovery").wait_for()
    assert "Typed after the draft" not in page.input_value("textarea.markdownx-editor")  # stored text
    page.click("[data-recovery-restore]")
    assert page.input_value("#id_title") == TITLE
    assert page.input_value("textarea.markdownx-editor") == saved.data["body"]
    preview.locator(f'img[src="{media.url}"]').wait_for()

    # --- Save as a draft, then schedule it for tomorrow 09:30 in the editor's zone ----------
    page.click("input[name=_draft]")
    page.locator(".messagelist .success", has_text="draft").wait_for()
    article = Article.objects.get(title=TITLE)
    assert article.pk == draft.pk and article.status == Article.Status.DRAFT and article.author == editor
    assert not EditorAutosave.objects.exists()  # saving supersedes it
    assert list(MediaUsage.objects.values_list("media_id", flat=True)) == [media.pk]
    assert "You are" not in page.inner_text("#content")  # no "N hours behind server time" note
    assert EDITOR_ZONE in page.inner_text(".field-published_at")
    tomorrow = timezone.now().astimezone(ZoneInfo(EDITOR_ZONE)).date() + timedelta(days=1)
    page.get_by_label("Published at").fill(f"{tomorrow.isoformat()}T09:30")
    page.click("input[name=_schedule]")
    page.locator(".messagelist .success", has_text="Scheduled for").wait_for()
    article.refresh_from_db()
    expected = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, 30, tzinfo=ZoneInfo(EDITOR_ZONE))
    assert article.is_scheduled and article.published_at == expected
    assert page.input_value("input[name=_schedule]") == "Update schedule"

    # --- Publish now ------------------------------------------------------------------------
    page.click("input[name=_publish]")
    page.locator(".messagelist .success", has_text="Published").wait_for()
    article.refresh_from_db()
    assert article.is_public
    published_body = article.body

    # --- An edit, then the older revision restored from the history, in one click ----------
    body.fill("Rewritten completely.")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    article.refresh_from_db()
    assert article.body == "Rewritten completely."
    page.click("a.historylink")
    page.locator("#revision-list").wait_for()
    page.get_by_role("link", name="what changed").first.click()
    page.locator(".text-diff .diff-add", has_text="Rewritten completely.").wait_for()
    assert page.locator(".text-diff .diff-del", has_text="really simple").count() == 1
    page.go_back()
    # Newest first: the current version, then the published one before the edit.
    page.locator("#revision-list tbody tr").nth(1).get_by_role("button", name="Restore this version").click()
    page.locator(".messagelist .success", has_text="Restored").wait_for()
    article.refresh_from_db()
    assert article.body == published_body and "<strong>really simple</strong>" in article.body_html
    assert article.is_public

    # --- A reader (no cookies) reads it ------------------------------------------------------
    reader_context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        reader = reader_context.new_page()
        reader.goto(live_server.url + article.get_absolute_url())
        assert reader.locator("h1.article-title").inner_text() == TITLE
        rendered = reader.locator(".article-body")
        assert rendered.locator("strong").inner_text() == "really simple"
        assert rendered.locator("table td").all_inner_texts() == ["Fast", "10 ms", "Slow", "90 ms"]
        assert rendered.locator('img[alt="A blue [square]"]').count() == 1
        assert reader.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        reader_context.close()


def test_preview_before_the_first_save_and_the_unsaved_changes_warning(
    live_server, transactional_db, editor, context
):
    page = context.new_page()
    log_in(page, live_server, "/admin/articles/article/add/")
    page.fill("#id_title", "Never saved")
    page.locator("textarea.markdownx-editor").fill("Some *unsaved* words.")
    with context.expect_page() as opened:
        page.click("button[name=_preview]")
    preview = opened.value
    preview.wait_for_load_state()
    assert preview.locator("h1.article-title").inner_text() == "Never saved"
    assert preview.locator(".article-body em").inner_text() == "unsaved"
    assert preview.locator('meta[name=robots][content*="noindex"]').count() == 1
    # Nothing published (autosave may have made it a draft meanwhile).
    assert not Article.objects.filter(status=Article.Status.PUBLISHED).exists()
    # Leaving with unsaved changes asks first.
    with page.expect_event("dialog") as asked:
        page.evaluate("setTimeout(() => { location.href = '/admin/'; }, 0)")
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()
    assert re.search(r"/admin/articles/article/(add|\d+/change)/$", page.url)
    autosaved(page)


def test_narrow_screen_stacks_text_and_preview(live_server, transactional_db, editor, chromium, request):
    context = chromium.new_context(locale="en-US", viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        log_in(page, live_server, "/admin/articles/article/add/")
        page.locator("textarea.markdownx-editor").fill("**Phone** text")
        preview = page.locator(".markdownx-preview")
        preview.locator("strong").wait_for()
        text_box = page.locator("textarea.markdownx-editor").bounding_box()
        assert preview.bounding_box()["y"] >= text_box["y"] + text_box["height"]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        autosaved(page)
    finally:
        save_failure_screenshots(request, context.pages)
        context.close()
