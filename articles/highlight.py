"""Search results as readers see them: the query's words marked in titles and excerpts.

Words are found with the full-text index's own tokenization (``fulltext.text_runs``), so
what is marked is what matched: a word of a spaced script by its prefix ("redis" marks
"Redisson"), Chinese by the query's runs of characters (or, when a text lacks the whole
run, by its pairs, as the index matches them). Safe for any input: the text is cut into
plain pieces first and each piece is escaped; only our own ``<mark>`` tags are added.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .fulltext import query_terms, text_runs
from .markdown import plain_text

EXCERPT_LENGTH = 220  # characters of body text around the first match
_LEAD = 60  # of which, before it


def match_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where the query's words are in ``text``: sorted, non-overlapping (start, end)."""
    words, cjk = query_terms(query)
    if not words and not cjk:
        return []
    spans: list[tuple[int, int]] = []
    cjk_runs = []
    for start, end, run, is_cjk in text_runs(text):
        if is_cjk:
            cjk_runs.append((start, run))
        elif any(run.startswith(word) for word in words):
            spans.append((start, end))
    for term in cjk:
        found = _find_all(cjk_runs, [term])
        if not found and len(term) > 2:  # the index matched its pairs, maybe apart
            found = _find_all(cjk_runs, [term[i : i + 2] for i in range(len(term) - 1)])
        spans += found
    return _merged(spans)


def _find_all(runs: list[tuple[int, str]], needles: list[str]) -> list[tuple[int, int]]:
    spans = []
    for start, run in runs:
        for needle in needles:
            at = run.find(needle)
            while at != -1:
                spans.append((start + at, start + at + len(needle)))
                at = run.find(needle, at + 1)
    return spans


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _marked(text: str, spans: list[tuple[int, int]]) -> SafeString:
    out, position = [], 0
    for start, end in spans:
        out += [escape(text[position:start]), "<mark>", escape(text[start:end]), "</mark>"]
        position = end
    out.append(escape(text[position:]))
    return mark_safe("".join(out))


def highlight(text: str, query: str) -> SafeString:
    """``text`` escaped, with the query's words in ``<mark>``."""
    return _marked(text, match_spans(text, query))


def excerpt(text: str, query: str, *, length: int = EXCERPT_LENGTH) -> SafeString | None:
    """A piece of ``text`` around the query's first match, highlighted (None: no match)."""
    spans = match_spans(text, query)
    if not spans:
        return None
    first = spans[0][0]
    start = max(0, first - _LEAD)
    if start:
        space = text.rfind(" ", start, first)
        start = space + 1 if space != -1 and first - space < _LEAD else start
    end = min(len(text), start + length)
    if end < len(text):
        space = text.rfind(" ", first, end)
        end = space if space > spans[0][1] and end - space < length // 4 else end
    piece = text[start:end]
    inside = [(s - start, min(e, end) - start) for s, e in spans if s < end and e > start]
    marked = _marked(piece, [(max(0, s), e) for s, e in inside])
    return mark_safe(("…" if start else "") + marked + ("…" if end < len(text) else ""))


def mark_results(articles: list, query: str) -> list:
    """Give each result ``search_title`` and ``search_excerpt``: its summary when the
    query is in it, else a piece of its text (from ``body_html``), else the summary."""
    for article in articles:
        article.search_title = highlight(article.title, query)
        summary = article.summary
        if match_spans(summary, query):
            article.search_excerpt = highlight(summary, query)
            continue
        body = plain_text(article.body_html)
        article.search_excerpt = excerpt(body, query) or escape(summary)
    return articles
