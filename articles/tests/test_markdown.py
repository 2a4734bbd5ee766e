"""The one Markdown renderer: every supported feature, and the sanitiser against XSS."""

from html.parser import HTMLParser

import pytest

from articles.markdown import Profile, markdownify, plain_text, render_markdown

RICH = """# Title

## First part

Some **bold**, *em*, ~~gone~~ and `code`. Visit https://example.com now.

- [x] done
- [ ] todo

| left | right |
|:-----|------:|
| a    | 1     |

```python
def answer():
    return 42
```

Text with a note[^1].

[^1]: The footnote.

### 第三节 中文标题
"""


def test_commonmark_and_gfm_features_render():
    html = render_markdown(RICH).html
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert "<s>gone</s>" in html
    assert '<a href="https://example.com"' in html  # autolink
    assert 'type="checkbox"' in html and 'checked="checked"' in html and 'disabled="disabled"' in html
    assert "<table>" in html and 'style="text-align:right"' in html
    assert 'class="footnote-ref"' in html and 'id="fn1"' in html


def test_code_is_highlighted_with_pygments_classes():
    html = render_markdown(RICH).html
    assert '<code class="language-python">' in html
    assert '<span class="hl-k">def</span>' in html


def test_headings_get_unicode_ids_and_toc():
    rendered = render_markdown(RICH)
    assert 'id="first-part"' in rendered.html
    assert 'id="第三节-中文标题"' in rendered.html
    assert 'href="#first-part"' in rendered.toc_html
    assert 'href="#第三节-中文标题"' in rendered.toc_html
    assert "Title" not in rendered.toc_html  # h1 is not a contents entry


def test_duplicate_headings_get_distinct_ids():
    html = render_markdown("## Same\n\n## Same\n").html
    assert 'id="same"' in html and 'id="same-1"' in html


def test_unknown_code_language_is_escaped_plain_code():
    html = render_markdown("```nosuchlang\n<b>x</b>\n```").html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
        '<iframe src="https://evil.example"></iframe>',
        "<svg><script>alert(1)</script></svg>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        '<p onclick="alert(1)">x</p>',
        '<form action="https://evil.example"><input name="a"></form>',
        '<object data="x.swf"></object><embed src="x.swf">',
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
        '<a href="vbscript:msgbox(1)">x</a>',
        "<style>body{display:none}</style>",
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    ],
)
@pytest.mark.parametrize("profile", list(Profile))
def test_sanitiser_removes_script_vectors(source, profile):
    elements = _elements(render_markdown(source, profile=profile).html)
    for tag, attrs in elements:
        assert tag not in FORBIDDEN_TAGS, (source, tag)
        for name, value in attrs:
            assert not name.startswith("on"), (source, name)
            assert name != "style" or "url(" not in (value or ""), (source, value)
            if name in ("href", "src", "action", "xlink:href"):
                scheme = (value or "").strip().lower().split(":", 1)[0]
                assert ":" not in (value or "") or scheme in ("http", "https", "mailto"), (source, value)


FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "svg",
    "math",
    "object",
    "embed",
    "style",
    "meta",
    "form",
    "link",
    "base",
}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))


def _elements(html):
    collector = _Collector()
    collector.feed(html)
    return collector.elements


def test_comment_profile_is_limited_and_nofollow():
    html = render_markdown(
        "# head\n\n<b>raw</b> [l](https://x.example) ![i](https://x.example/i.png)", profile=Profile.COMMENT
    ).html
    assert "<h1" not in html and "<img" not in html
    assert "&lt;b&gt;raw&lt;/b&gt;" in html  # raw HTML is shown, not interpreted
    assert 'rel="nofollow ugc noopener noreferrer"' in html


def test_images_are_lazy_and_keep_https_sources():
    html = render_markdown("![alt text](https://img.example/a.png)").html
    assert '<img src="https://img.example/a.png" alt="alt text" loading="lazy">' in html


def test_preview_is_exactly_the_article_renderer():
    assert markdownify(RICH) == render_markdown(RICH).html


def test_empty_input_renders_nothing():
    assert render_markdown("").html == "" and render_markdown("   \n").toc_html == ""


@pytest.mark.parametrize(
    ("fragment", "limit", "expected"),
    [
        ("<p>Hello <b>world</b> &amp; all</p>", None, "Hello world & all"),
        ('<h2>Head <a class="header-anchor" href="#h">#</a></h2><p>x</p>', None, "Head x"),
        ("<p>one two three four</p>", 9, "one two…"),
        ("<p>" + "中文" * 50 + "</p>", 10, "中文中文中文中文中文…"),
    ],
)
def test_plain_text(fragment, limit, expected):
    assert plain_text(fragment, limit=limit) == expected


def test_task_list_checkboxes_are_labelled_by_their_text():
    html = render_markdown("- [x] ship **it**\n- [ ] write [docs](https://example.com)\n").html
    items = _elements(html)
    labels = [attrs for tag, attrs in items if tag == "label"]
    boxes = [attrs for tag, attrs in items if tag == "input"]
    assert len(labels) == 2 and len(boxes) == 2
    # The checkbox sits inside its <label>, so the label's text names it.
    assert '<label><input class="task-list-item-checkbox" checked="checked" disabled="disabled"' in html
    assert "ship <strong>it</strong></label>" in html
    assert "docs</a></label>" in html


def test_stored_task_lists_are_rerendered_with_labels(transactional_db):
    """Migration 0008 re-renders articles written before task items had labels."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from articles.models import Article
    from articles.tests.factories import ArticleFactory

    article = ArticleFactory(body="- [ ] one\n- [x] two\n")
    plain = ArticleFactory(body="No tasks here.")
    stale = '<ul><li class="task-list-item"><input type="checkbox"> one</li></ul>'
    Article.objects.filter(pk__in=[article.pk, plain.pk]).update(body_html=stale)
    executor = MigrationExecutor(connection)
    executor.migrate([("articles", "0007_editor_media_autosave_seo")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert "<label><input" in Article.objects.get(pk=article.pk).body_html
    assert Article.objects.get(pk=plain.pk).body_html == stale  # untouched: no task list


def test_a_titled_image_alone_in_its_paragraph_becomes_a_figure_with_its_caption():
    html = render_markdown('![A cat on a mat](https://img.example/cat.png "Our <b>cat</b>, 2024")').html
    assert html.strip() == (
        '<figure><img src="https://img.example/cat.png" alt="A cat on a mat" loading="lazy">'
        "<figcaption>Our &lt;b&gt;cat&lt;/b&gt;, 2024</figcaption></figure>"
    )


@pytest.mark.parametrize(
    "source",
    [
        "![plain](https://img.example/a.png)",  # no title: no caption
        'Text before ![inline](https://img.example/a.png "t") and after',  # not alone
        '- ![in a list](https://img.example/a.png "t")',  # a tight list's hidden paragraph
    ],
)
def test_other_images_stay_images(source):
    html = render_markdown(source).html
    assert "<figure>" not in html and "<figcaption>" not in html and "<img" in html


def test_figures_are_still_sanitised():
    html = render_markdown(
        '![x](javascript:alert(1) "a")\n\n<figure onclick="evil()"><figcaption onmouseover="x()">'
        'Raw</figcaption></figure>\n\n![y](https://img.example/y.png "\\"><script>alert(1)</script>")'
    ).html
    assert 'src="javascript' not in html and "onclick" not in html and "onmouseover" not in html
    assert "<script" not in html
    assert "<figure><figcaption>Raw</figcaption></figure>" in html
    assert '<figcaption>"&gt;&lt;script&gt;alert(1)&lt;/script&gt;</figcaption>' in html


def test_reading_stats_count_words_and_cjk_characters():
    from articles.markdown import reading_stats

    assert reading_stats("").minutes == reading_stats("<p> </p>").words == 0
    english = reading_stats(render_markdown("It's a well-known word. " * 115).html)
    assert english.words == 460 and english.minutes == 2  # 460 words at 230 a minute
    chinese = reading_stats(render_markdown("读书使人充实。" * 100).html)
    assert chinese.words == 600 and chinese.minutes == 2  # 600 characters at 400 a minute
    short = reading_stats(render_markdown("Just a few words").html)
    assert short.words == 4 and short.minutes == 1
