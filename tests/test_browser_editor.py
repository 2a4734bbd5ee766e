"""In Chromium: an editor writes an article in the admin with the live Markdown preview and
publishes it; an anonymous reader finds it on the home page and reads the rendered body."""

import base64
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image
from playwright.sync_api import expect

from articles.models import Article
from articles.tests.factories import UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
TITLE = "Browser-written article"
BODY = """## Why this works

It is **really simple** to write here.

```python
def greet(name):
    return f"Hello, {name}!"
```

| Engine | Speed |
|--------|------:|
| Fast   | 10 ms |
| Slow   | 90 ms |
"""
SCREENSHOT = Path("/tmp/editor-flow.png")


@pytest.fixture
def editor():
    return UserFactory(username="editor", is_staff=True, is_superuser=True, password=PASSWORD)


def log_in(page, live_server, next_url: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_url}")


def test_editor_writes_and_publishes_a_reader_reads_it(live_server, transactional_db, editor, page, chromium):
    # The editor: the add form, with the markdownx editor and its live preview.
    log_in(page, live_server, "/admin/articles/article/add/")
    page.locator("#id_title").press_sequentially(TITLE)  # key by key, as the slug script listens
    assert page.input_value("#id_slug") == "browser-written-article"  # prepopulated
    body = page.locator("textarea.markdownx-editor")
    body.click()
    page.keyboard.type("Draft…")  # typing fires the editor's input handler
    body.fill(BODY)
    preview = page.locator(".markdownx-preview")
    preview.locator("strong", has_text="really simple").wait_for()
    preview.locator("table").wait_for()
    assert preview.locator("h2", has_text="Why this works").count() == 1
    # Highlighted and coloured as on the page (the preview uses the reader's stylesheet).
    keyword = preview.locator("pre .hl-k").first
    assert keyword.evaluate("e => getComputedStyle(e).color") != preview.locator("pre").evaluate(
        "e => getComputedStyle(e).color"
    )
    page.select_option("#id_status", "published")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/articles/article/")
    assert page.locator(".messagelist .success").count() == 1

    article = Article.objects.get(title=TITLE)
    assert article.is_public and article.author == editor
    assert "<strong>really simple</strong>" in article.body_html

    # The reader: a fresh browser context, no cookies.
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        reader = context.new_page()
        reader.goto(live_server.url + "/")
        reader.get_by_role("link", name=TITLE).first.click()
        reader.wait_for_url(f"**{article.get_absolute_url()}")
        assert reader.locator("h1.article-title").inner_text() == TITLE
        rendered = reader.locator(".article-body")
        assert rendered.locator("h2", has_text="Why this works").count() == 1
        assert rendered.locator("strong").inner_text() == "really simple"
        assert rendered.locator("pre span[class^=hl-]").count() > 0
        assert rendered.locator("table td").all_inner_texts() == ["Fast", "10 ms", "Slow", "90 ms"]
        # Highlighting is styled (the Pygments stylesheet loaded): the keyword is coloured.
        keyword_colour = rendered.locator("pre .hl-k").first.evaluate("e => getComputedStyle(e).color")
        text_colour = rendered.locator("pre").evaluate("e => getComputedStyle(e).color")
        assert keyword_colour != text_colour
        # Nothing overflows horizontally on a desktop viewport.
        assert reader.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        reader.screenshot(path=str(SCREENSHOT), full_page=True)
    finally:
        context.close()
    assert SCREENSHOT.stat().st_size > 10_000


def test_dropping_an_image_on_the_editor_uploads_it(live_server, transactional_db, editor, page):
    """Drag-and-drop: the markdownx script posts the file (with the CSRF token) and inserts
    the Markdown for the re-encoded image, which the preview then shows."""
    log_in(page, live_server, "/admin/articles/article/add/")
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 120, 200)).save(buffer, format="PNG")
    page.locator("textarea.markdownx-editor").evaluate(
        """(editor, data) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
            editor.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
        }""",
        base64.b64encode(buffer.getvalue()).decode(),
    )
    # expect(), not wait_for_function(): the page's Content-Security-Policy forbids the eval
    # that a string predicate needs.
    expect(page.locator("textarea.markdownx-editor")).to_have_value(re.compile(r"/media/uploads/"))
    value = page.input_value("textarea.markdownx-editor")
    url = re.search(r"!\[\]\((/media/uploads/[^)]+\.png)\)", value).group(1)
    saved = Path(settings.MEDIA_ROOT) / url.removeprefix(settings.MEDIA_URL)
    try:
        assert saved.is_file()
        image = page.locator(f'.markdownx-preview img[src="{url}"]')
        image.wait_for()
        image.scroll_into_view_if_needed()  # the sanitiser makes images loading="lazy"
        expect(image).to_have_js_property("complete", True)
        expect(image).to_have_js_property("naturalWidth", 120)
    finally:
        saved.unlink(missing_ok=True)
