"""The one Markdown renderer: editor preview, articles, pages, announcements, widgets and
(with a stricter profile) comments all go through ``render_markdown``.

CommonMark plus GFM tables, strikethrough, task lists and autolinks, footnotes, Pygments
highlighting and heading ids, then an allow-list sanitiser (nh3) so that no script,
event handler, ``javascript:`` or ``data:`` URL survives, whatever the author typed.

An image alone in its paragraph with a title (``![alt](src "caption")``) becomes a
``<figure>`` whose ``<figcaption>`` is the title: the usual way to caption an image in
Markdown (Ghost and Hugo read it the same), and still plain Markdown elsewhere.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from enum import Enum
from functools import cache
from html.parser import HTMLParser

import nh3
from django.utils.text import slugify
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

MAX_MARKDOWN_LENGTH = 500_000  # characters; the admin form refuses longer bodies

_URL_SCHEMES = {"http", "https", "mailto"}
_INLINE_TAGS = {
    "a",
    "abbr",
    "b",
    "br",
    "code",
    "del",
    "em",
    "i",
    "kbd",
    "mark",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
}
_BLOCK_TAGS = {"blockquote", "dd", "div", "dl", "dt", "hr", "li", "ol", "p", "pre", "ul"}
_ARTICLE_TAGS = (
    _INLINE_TAGS
    | _BLOCK_TAGS
    | {
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "img",
        "input",
        "label",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "caption",
        "section",
        "figure",
        "figcaption",
        "details",
        "summary",
    }
)
_ARTICLE_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "input": {"type", "checked", "disabled"},
    "th": {"style", "colspan", "rowspan"},
    "td": {"style", "colspan", "rowspan"},
    "ol": {"start"},
}
_COMMENT_TAGS = _INLINE_TAGS | _BLOCK_TAGS - {"div", "dl", "dt", "dd"}
_COMMENT_ATTRIBUTES = {"a": {"href"}, "code": {"class"}, "span": {"class"}, "pre": {"class"}}
# Only text-align survives in the style attribute GFM tables use.
_STYLE_PROPERTIES = {"text-align"}


class Profile(Enum):
    ARTICLE = "article"  # editors: headings, images, tables, raw HTML (sanitised)
    COMMENT = "comment"  # readers: no raw HTML, no images or headings, links are nofollow


@dataclass(frozen=True)
class Rendered:
    html: str
    toc_html: str


def _highlight(code: str, lang: str, _attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(lang.strip() or "text", stripall=False)
    except ClassNotFound:
        return ""  # markdown-it escapes it as plain code
    return pygments_highlight(code, lexer, HtmlFormatter(nowrap=True, classprefix="hl-"))


def _slug(text: str) -> str:
    return slugify(text, allow_unicode=True) or "section"


def _figures(state) -> None:
    """A paragraph holding one titled image and nothing else becomes a figure."""
    tokens = state.tokens
    for index in range(len(tokens) - 2):
        opening, inline, closing = tokens[index : index + 3]
        if opening.type != "paragraph_open" or opening.hidden or inline.type != "inline":
            continue
        children = [c for c in inline.children or [] if not (c.type == "text" and not c.content.strip())]
        if len(children) != 1 or children[0].type != "image" or not children[0].attrGet("title"):
            continue
        image = children[0]
        image.meta["caption"] = image.attrGet("title")
        image.attrs.pop("title", None)
        inline.children = [image]
        opening.tag = closing.tag = "figure"


def _render_image(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    token.attrs["alt"] = self.renderInlineAsText(token.children or [], options, env)
    rendered = self.renderToken(tokens, idx, options, env)
    caption = token.meta.get("caption") if token.meta else None
    if caption:
        rendered += f"<figcaption>{html.escape(caption)}</figcaption>"
    return rendered


@cache
def _parser(profile: Profile) -> MarkdownIt:
    md = MarkdownIt(
        "gfm-like",
        {"html": profile is Profile.ARTICLE, "linkify": True, "typographer": False, "highlight": _highlight},
    )
    # label=True wraps each task's checkbox and text in a <label>: the box is named by its text.
    md.use(footnote_plugin).use(tasklists_plugin, enabled=False, label=True)
    if profile is Profile.ARTICLE:
        md.use(
            anchors_plugin,
            min_level=1,
            max_level=4,
            slug_func=_slug,
            permalink=True,
            permalinkSymbol="#",
            permalinkBefore=False,
        )
        md.core.ruler.push("figures", _figures)
        md.add_render_rule("image", _render_image)
    else:
        md.disable(["heading", "lheading", "image"])
    return md


def _toc(tokens) -> str:
    entries = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in {"h2", "h3"} and token.attrGet("id"):
            text = tokens[i + 1].content
            entries.append((int(token.tag[1]), token.attrGet("id"), text))
    if len(entries) < 2:
        return ""
    items = "".join(
        f'<li class="toc-l{level}"><a href="#{html.escape(anchor)}">{html.escape(text)}</a></li>'
        for level, anchor, text in entries
    )
    return f"<ul>{items}</ul>"


def _sanitise(raw_html: str, profile: Profile) -> str:
    if profile is Profile.ARTICLE:
        return nh3.clean(
            raw_html,
            tags=_ARTICLE_TAGS,
            attributes=_ARTICLE_ATTRIBUTES,
            url_schemes=_URL_SCHEMES,
            link_rel="noopener noreferrer",
            filter_style_properties=_STYLE_PROPERTIES,
            set_tag_attribute_values={"img": {"loading": "lazy"}, "input": {"disabled": "disabled"}},
        )
    return nh3.clean(
        raw_html,
        tags=_COMMENT_TAGS,
        attributes=_COMMENT_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="nofollow ugc noopener noreferrer",
    )


def render_markdown(text: str, *, profile: Profile = Profile.ARTICLE) -> Rendered:
    """Markdown source to sanitised HTML plus a table of contents (h2/h3)."""
    if not text or not text.strip():
        return Rendered(html="", toc_html="")
    md = _parser(profile)
    env: dict = {}
    tokens = md.parse(text, env)
    raw_html = md.renderer.render(tokens, md.options, env)
    toc = _toc(tokens) if profile is Profile.ARTICLE else ""
    return Rendered(html=_sanitise(raw_html, profile), toc_html=_sanitise(toc, profile))


def markdownify(text: str) -> str:
    """The editor preview (django-markdownx): exactly what readers will get."""
    return render_markdown(text).html


_WHITESPACE = re.compile(r"\s+")
_HEADER_ANCHOR = re.compile(r'[ ]?<a [^>]*class="header-anchor"[^>]*>.*?</a>', re.S)


def without_heading_anchors(fragment: str) -> str:
    """Rendered HTML without the headings' "#" permalinks (meaningless out of the page:
    feeds, excerpts)."""
    return _HEADER_ANCHOR.sub("", fragment)


def plain_text(fragment: str, *, limit: int | None = None) -> str:
    """Visible text of an HTML fragment, whitespace collapsed, cut at ``limit`` characters."""
    fragment = _HEADER_ANCHOR.sub(" ", fragment)  # a space: the heading's text ends there
    text = _WHITESPACE.sub(" ", html.unescape(nh3.clean(fragment, tags=set()))).strip()
    if limit is not None and len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
        # Chinese text has no spaces; never cut shorter than two thirds of the limit.
        if len(cut) < limit * 2 // 3:
            cut = text[:limit]
        text = cut.rstrip(" ,.;:，。；：") + "…"
    return text


class _ProseParser(HTMLParser):
    """Collects the text of paragraphs, lists and quotes, skipping what is not prose."""

    SKIPPED = {"pre", "table", "section", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "details"}
    VOID = {"br", "hr", "img", "input", "wbr"}
    # Blocks end a sentence-run: a space between them, none around inline tags ("**a**.").
    BLOCKS = {"p", "div", "li", "ul", "ol", "blockquote", "dl", "dt", "dd", "br", "hr", "tr", "td", "th"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._stack: list[bool] = []  # per open element: is it skipped?

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.BLOCKS or tag in self.SKIPPED:
            self.parts.append(" ")
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        skipped = tag in self.SKIPPED or bool(
            {"task-list-item", "header-anchor", "footnote-ref"} & set(classes)
        )
        self._stack.append(skipped)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self._stack:
            self._stack.pop()
        if tag in self.BLOCKS or tag in self.SKIPPED:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not any(self._stack):
            self.parts.append(data)


def prose_summary(fragment: str, *, limit: int) -> str:
    """The opening prose of rendered HTML for a summary: no headings, task items, code
    blocks, tables or footnotes (they read as noise when glued into one line)."""
    parser = _ProseParser()
    parser.feed(fragment)
    parser.close()
    text = _WHITESPACE.sub(" ", "".join(parser.parts)).strip()
    return plain_text(html.escape(text), limit=limit)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
WORDS_PER_MINUTE = 230  # adult silent reading of English prose
CJK_CHARACTERS_PER_MINUTE = 400  # and of Chinese, Japanese or Korean text


@dataclass(frozen=True)
class ReadingStats:
    words: int  # a CJK character counts as one word, as word processors count them
    minutes: int


def reading_stats(fragment: str) -> ReadingStats:
    """Words and reading time (whole minutes, at least one) of rendered HTML. The editor's
    counter (``static/editor/editor.js``) counts the same way."""
    text = plain_text(fragment)
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text)))
    if not words and not cjk:
        return ReadingStats(words=0, minutes=0)
    minutes = max(1, round(words / WORDS_PER_MINUTE + cjk / CJK_CHARACTERS_PER_MINUTE))
    return ReadingStats(words=words + cjk, minutes=minutes)


def pygments_css() -> str:
    """Stylesheet for highlighted code in light and dark themes."""
    light = HtmlFormatter(style="default", classprefix="hl-").get_style_defs(".md pre")
    dark = HtmlFormatter(style="monokai", classprefix="hl-").get_style_defs(".md pre")
    dark = "\n".join(f"  {line}" for line in dark.splitlines())
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"
