"""HTML from another blog engine to this blog's Markdown.

markdownify does the general conversion; this module maps what the engines add on top:
Gutenberg's block comments (dropped: the HTML between them is what readers saw),
WordPress's ``[caption]`` and ``[gallery]`` shortcodes and ``wpautop`` paragraphs, and
Ghost's cards (image, gallery, code, bookmark, callout, toggle, button, embed). Images
become ``<figure>`` blocks when they have a caption, Markdown images otherwise; what has no
Markdown form (``<details>``) is kept as HTML. Nothing here is trusted: the Markdown is
rendered and sanitised by ``articles.markdown`` like anything an editor types.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from markdownify import MarkdownConverter

# (src, alt) of an image found in a body -> (new URL, alt text from the library) or None.
ImageResolver = Callable[[str], tuple[str, str] | None]

_DROPPED = ("script", "style", "noscript", "template", "object", "embed", "form", "button", "svg", "input")
_ALL_BLOCKS = (
    "table|thead|tfoot|caption|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|blockquote|address|"
    "p|h[1-6]|hr|section|article|aside|header|footer|nav|figure|figcaption|details|summary"
)
_BLOCK_OPEN = re.compile(rf"(<(?:{_ALL_BLOCKS})[\s/>])", re.I)
_BLOCK_CLOSE = re.compile(rf"(</(?:{_ALL_BLOCKS})>)", re.I)
_BLOCK_START = re.compile(rf"^\s*(?:</?(?:{_ALL_BLOCKS})\b|<!--|\[caption)", re.I)
_SHORTCODE_ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_CAPTION = re.compile(r"\[caption([^\]]*)\](.*?)\[/caption\]", re.S)
_GALLERY = re.compile(r"\[gallery([^\]]*)\]")
_SAFE_URL = re.compile(r"^(?:https?:|mailto:|/|#|\?|[^:/?#]*(?:[/?#]|$))", re.I)
_YOUTUBE_EMBED = re.compile(r"^https?://(?:www\.)?youtube(?:-nocookie)?\.com/embed/([\w-]+)")
_PRE = re.compile(r"<pre\b.*?</pre>", re.S | re.I)


@dataclass
class Converted:
    markdown: str
    media_urls: list[str]  # the new URLs of the library images the body shows


def wpautop(text: str) -> str:
    """WordPress's classic editor stores paragraphs as blank lines and line breaks as
    newlines (``wpautop`` adds the tags on display); add them, leaving ``<pre>`` alone."""
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group())
        return f"\x00{len(kept) - 1}\x00"

    text = _PRE.sub(keep, text.replace("\r\n", "\n"))
    # As WordPress does: every block-level tag starts and ends a paragraph of its own.
    text = _BLOCK_OPEN.sub(r"\n\n\1", text)
    text = _BLOCK_CLOSE.sub(r"\1\n\n", text)
    blocks = []
    for chunk in re.split(r"\n\s*\n", text):
        if not chunk.strip():
            continue
        if _BLOCK_START.match(chunk) or chunk.strip().startswith("\x00"):
            blocks.append(chunk)
        else:
            blocks.append("<p>" + chunk.strip().replace("\n", "<br>\n") + "</p>")
    text = "\n\n".join(blocks)
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], text)


def _attrs(text: str) -> dict[str, str]:
    return {key.lower(): value for key, value in _SHORTCODE_ATTR.findall(text)}


def expand_shortcodes(text: str, *, gallery_image: Callable[[str], str]) -> str:
    """``[caption]`` becomes a figure; ``[gallery ids=...]`` a figure of the images
    ``gallery_image(id)`` gives as ``<img>`` HTML ("" for an unknown one)."""

    def caption(match: re.Match) -> str:
        inner = match.group(2).strip()
        attrs = _attrs(match.group(1))
        split = re.match(r"((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)", inner, re.S)
        image, words = (split.group(1), split.group(2)) if split else (inner, "")
        words = words.strip() or attrs.get("caption", "")
        return f"<figure>{image}<figcaption>{words}</figcaption></figure>"

    def gallery(match: re.Match) -> str:
        ids = [item.strip() for item in _attrs(match.group(1)).get("ids", "").split(",") if item.strip()]
        images = "".join(gallery_image(item) for item in ids)
        return f'<figure class="gallery">{images}</figure>' if images else ""

    return _GALLERY.sub(gallery, _CAPTION.sub(caption, text))


def _md_image(alt: str, url: str) -> str:
    alt = re.sub(r"([\[\]\\])", r"\\\1", " ".join(alt.split()))
    return f"![{alt}]({url.replace(' ', '%20').replace(')', '%29')})"


def _html_attr(text: str) -> str:
    return html.escape(" ".join(text.split()), quote=True)


def _attr(el: Tag, name: str) -> str:
    """A single-valued attribute such as src, alt or href ("" when absent): bs4 gives a
    list only for the multi-valued ones (class, rel, ...)."""
    value = el.get(name)
    assert not isinstance(value, list)
    return value or ""


class _Converter(MarkdownConverter):
    """markdownify with the engines' figures and cards; ``resolve`` gives images their
    library URL."""

    def __init__(self, *, resolve: ImageResolver, **options) -> None:
        super().__init__(**options)
        self.resolve = resolve
        self.media_urls: list[str] = []

    def _image(self, el: Tag) -> tuple[str, str] | None:
        src = _attr(el, "src").strip()
        if not src:
            return None
        found = self.resolve(src)
        if found is None:
            return src, _attr(el, "alt")
        url, library_alt = found
        self.media_urls.append(url)
        return url, _attr(el, "alt") or library_alt

    def convert_img(self, el, text, parent_tags):
        image = self._image(el)
        return _md_image(image[1], image[0]) if image else ""

    def convert_figure(self, el, text, parent_tags):
        caption_el = el.find("figcaption")
        caption = self._children(caption_el, parent_tags).strip() if caption_el else ""
        classes = " ".join(el.get("class") or [])
        if "kg-bookmark-card" in classes:
            return self._bookmark(el, caption)
        images = [image for img in el.find_all("img") if (image := self._image(img))]
        if images:
            if not caption and len(images) == 1:
                return f"\n\n{_md_image(images[0][1], images[0][0])}\n\n"
            tags = "".join(f'<img src="{_html_attr(url)}" alt="{_html_attr(alt)}">' for url, alt in images)
            caption_html = self._caption_html(caption_el) if caption_el else ""
            css = ' class="gallery"' if len(images) > 1 or "gallery" in classes else ""
            return f"\n\n<figure{css}>{tags}{caption_html}</figure>\n\n"
        if caption_el is not None:
            caption_el.extract()
        body = self._children(el, parent_tags)
        return f"\n\n{body.strip()}\n\n" + (f"*{caption}*\n\n" if caption else "")

    def _children(self, el: Tag, parent_tags) -> str:
        # process_element is markdownify's (its __init__.py), missing from its __init__.pyi.
        convert = self.process_element  # type: ignore[attr-defined]
        return "".join(convert(child, parent_tags=parent_tags) for child in el.children)

    def _caption_html(self, caption_el: Tag) -> str:
        for span in caption_el.find_all("span"):
            span.unwrap()  # Ghost wraps caption text in styled spans
        inner = "".join(str(child) for child in caption_el.contents).strip()
        inner = re.sub(r"\s*\n\s*", " ", inner)
        return f"<figcaption>{inner}</figcaption>" if inner else ""

    def _bookmark(self, el: Tag, caption: str) -> str:
        link = el.find("a")
        href = _attr(link, "href") if link else ""
        title_el = el.find(class_="kg-bookmark-title")
        description_el = el.find(class_="kg-bookmark-description")
        title = title_el.get_text(" ", strip=True) if title_el else href
        lines = [f"[{title}]({href})" if href else title]
        if description_el is not None:
            lines.append(description_el.get_text(" ", strip=True))
        if caption:
            lines.append(f"*{caption}*")
        return "\n\n" + "\n\n".join(line for line in lines if line) + "\n\n"

    def convert_iframe(self, el, text, parent_tags):
        src = _attr(el, "src").strip()
        if src.startswith("//"):
            src = f"https:{src}"
        if not src.startswith(("http://", "https://")):
            return ""
        video = _YOUTUBE_EMBED.match(src)
        if video:  # the page a reader can open, not the player
            src = f"https://www.youtube.com/watch?v={video.group(1)}"
        title = el.get("title") or src
        return f"\n\n[{title}]({src})\n\n"

    def convert_details(self, el, text, parent_tags):
        return f"\n\n{_oneblock(str(el))}\n\n"

    def convert_div(self, el, text, parent_tags):
        classes = el.get("class") or []
        if "kg-callout-card" in classes:
            emoji = el.find(class_="kg-callout-emoji")
            words = el.find(class_="kg-callout-text")
            inner = self._children(words, parent_tags).strip() if words else text.strip()
            prefix = f"{emoji.get_text(strip=True)} " if emoji else ""
            return (
                "\n\n" + "\n".join(f"> {line}".rstrip() for line in f"{prefix}{inner}".splitlines()) + "\n\n"
            )
        if "kg-toggle-card" in classes:
            heading = el.find(class_="kg-toggle-heading-text")
            content = el.find(class_="kg-toggle-content")
            summary = heading.get_text(" ", strip=True) if heading else ""
            body = "".join(str(child) for child in content.contents) if content else ""
            return (
                f"\n\n{_oneblock(f'<details><summary>{html.escape(summary)}</summary>{body}</details>')}\n\n"
            )
        if "kg-button-card" in classes:
            link = el.find("a")
            if link is not None and link.get("href"):
                return f"\n\n[{link.get_text(' ', strip=True)}]({link['href']})\n\n"
        return text


def _oneblock(raw: str) -> str:
    """Raw HTML as one Markdown HTML block: a blank line would end it early."""
    return re.sub(r"\n\s*\n", "\n", raw.strip())


def _code_language(el: Tag) -> str:
    for node in (el, el.find("code")):
        if node is None:
            continue
        for css in node.get("class") or []:
            if css.startswith(("language-", "lang-")):
                return css.split("-", 1)[1]
    return ""


def html_to_markdown(
    source: str, *, resolve: ImageResolver, link: Callable[[str], str] | None = None
) -> Converted:
    """Markdown for ``source`` (HTML as the engine stored it, shortcodes already
    expanded); ``link`` rewrites each link's address (the old site's own pages and files)."""
    soup = BeautifulSoup(source, "html.parser")
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()  # Gutenberg's <!-- wp:... --> and <!--more-->
    for node in soup.find_all(_DROPPED):
        node.decompose()
    for text in soup.find_all(string=lambda s: "<" in s and not isinstance(s, Comment)):
        # Text that reads "<div>" is words, not markup: kept as an entity, which Markdown
        # shows as typed (code spans and blocks show it as typed already).
        if not text.find_parent(["code", "pre"]):
            text.replace_with(NavigableString(text.replace("<", "&lt;")))
    for node in soup.find_all(True):
        for attribute in [name for name in node.attrs if name.lower().startswith("on")]:
            del node[attribute]
    for node in soup.find_all(["a", "img"]):
        # The renderer would refuse these too; dropped here, they do not linger as text.
        attribute = "href" if node.name == "a" else "src"
        if not _SAFE_URL.match(_attr(node, attribute).strip()):
            node.unwrap() if node.name == "a" else node.decompose()
        elif link is not None and node.name == "a" and node.get("href"):
            node["href"] = link(_attr(node, "href").strip())
    converter = _Converter(
        resolve=resolve,
        heading_style="ATX",
        bullets="-",
        code_language_callback=_code_language,
        escape_underscores=False,
        escape_asterisks=True,
    )
    markdown = converter.convert_soup(soup)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"
    return Converted(markdown=markdown, media_urls=converter.media_urls)
