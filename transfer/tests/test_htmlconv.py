"""HTML from other engines to Markdown: paragraphs, shortcodes, cards, text that looks like tags."""

from articles.markdown import render_markdown
from transfer.htmlconv import expand_shortcodes, html_to_markdown, wpautop


def _md(source: str) -> str:
    return html_to_markdown(source, resolve=lambda _src: None).markdown


def test_text_that_reads_like_markup_stays_text():
    markdown = _md(
        "<p>Wrap it in &lt;div&gt;, never &lt;script&gt;. 1 &lt; 2</p><pre><code>a &lt; b</code></pre>"
    )
    html = render_markdown(markdown).html
    assert "&lt;div&gt;" in html and "&lt;script&gt;" in html and "1 &lt; 2" in html
    assert "<pre><code>a &lt; b" in html


def test_wpautop_makes_paragraphs_and_keeps_pre():
    html = wpautop("One\nline two\n\nThree\n<h2>Title</h2>\n<pre>a\n\nb</pre>")
    assert html.startswith("<p>One<br>\nline two</p>")
    assert "<p>Three</p>" in html and "<h2>Title</h2>" in html and "<pre>a\n\nb</pre>" in html


def test_caption_and_gallery_shortcodes_become_figures():
    text = expand_shortcodes(
        '[caption id="attachment_1" width="300"]<img src="/a.jpg" alt="A"> The caption[/caption]'
        '[gallery ids="1,9"]',
        gallery_image=lambda pk: f'<img src="/{pk}.jpg" alt="">' if pk == "1" else "",
    )
    assert '<figure><img src="/a.jpg" alt="A"><figcaption>The caption</figcaption></figure>' in text
    assert '<figure class="gallery"><img src="/1.jpg" alt=""></figure>' in text


def test_images_are_resolved_to_the_library_with_its_alt_text():
    converted = html_to_markdown(
        '<p><img src="https://old/wp-content/uploads/x-300x200.jpg" alt=""></p>',
        resolve=lambda src: ("/media/uploads/new.jpg", "From the library"),
    )
    assert converted.markdown.strip() == "![From the library](/media/uploads/new.jpg)"
    assert converted.media_urls == ["/media/uploads/new.jpg"]


def test_unsafe_links_keep_their_text_only():
    markdown = _md('<p><a href="javascript:alert(1)">click</a> <a href="data:text/html,x">two</a></p>')
    assert markdown.strip() == "click two"
