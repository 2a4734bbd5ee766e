"""Search results mark the query's words (English by prefix, Chinese by characters) in
titles and excerpts, and nothing a reader types or an author wrote can inject markup."""

import re

import pytest

from articles.highlight import excerpt, highlight, mark_results, match_spans
from articles.tests.factories import ArticleFactory


def _marked(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


def test_words_are_marked_by_prefix_in_any_case():
    html = highlight("Redis, Redisson and predis: REDIS everywhere", "redis")
    assert _marked(html) == ["Redis", "Redisson", "REDIS"]  # "predis" does not start with it


def test_every_word_of_the_query_is_marked():
    assert _marked(highlight("Running Redis with MySQL in production", "mysql redis")) == ["Redis", "MySQL"]


def test_full_width_and_accented_text_is_found_like_the_index_finds_it():
    assert _marked(highlight("Ｒｅｄｉｓ notes", "redis")) == ["Ｒｅｄｉｓ"]
    assert _marked(highlight("Café culture", "café")) == ["Café"]


def test_chinese_runs_are_marked_inside_longer_text():
    assert _marked(highlight("分布式数据库系统与数据库设计", "数据库")) == ["数据库", "数据库"]
    assert _marked(highlight("学习 Redis 缓存", "redis 缓存")) == ["Redis", "缓存"]


def test_chinese_falls_back_to_the_pairs_the_index_matched():
    # No "数据库" in the text, but both of its pairs: that is why the index found it.
    assert _marked(highlight("数据很多，据库存", "数据库")) == ["数据", "据库"]


def test_single_characters_and_symbols_mark_nothing():
    assert highlight("a b c <x>", "a") == "a b c &lt;x&gt;"
    assert match_spans("anything", "!!! ???") == []


@pytest.mark.parametrize(
    "query",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "</mark><b>bold",
        "&amp; &lt;",
        "mark",
    ],
)
def test_any_query_on_any_text_yields_only_our_own_markup(query):
    text = 'Use <script>alert(1)</script> & "quotes" to <b>mark</b> img onerror src'
    html = str(highlight(text, query)) + str(excerpt(text, query) or "")
    without_marks = html.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks and ">" not in without_marks
    assert html.count("<mark>") == html.count("</mark>")


def test_excerpt_is_a_window_around_the_first_match():
    text = " ".join(f"word{i}" for i in range(200)) + " the needle is here " + "tail " * 100
    piece = excerpt(text, "needle")
    assert piece.startswith("…") and piece.endswith("…")
    assert "<mark>needle</mark>" in piece
    assert len(piece.replace("<mark>", "").replace("</mark>", "")) <= 222
    assert excerpt(text, "absent") is None


def test_excerpt_at_the_start_has_no_leading_ellipsis():
    piece = excerpt("Needle first, then a short rest.", "needle")
    assert piece == "<mark>Needle</mark> first, then a short rest."


def test_results_get_a_title_and_an_excerpt():
    class Row:
        def __init__(self, title, summary, body_html):
            self.title, self.summary, self.body_html = title, summary, body_html

    in_summary = Row("Redis notes", "Why Redis is fast.", "<p>Redis.</p>")
    in_body = Row("Caching", "About caches <in general>.", "<p>Long intro. Then <em>redis</em> shows up.</p>")
    nowhere = Row("Other", "Plain <summary>.", "<p>Nothing.</p>")
    mark_results([in_summary, in_body, nowhere], "redis")
    assert in_summary.search_title == "<mark>Redis</mark> notes"
    assert in_summary.search_excerpt == "Why <mark>Redis</mark> is fast."
    assert in_body.search_title == "Caching"
    assert in_body.search_excerpt == "Long intro. Then <mark>redis</mark> shows up."
    assert nowhere.search_excerpt == "Plain &lt;summary&gt;."


@pytest.mark.django_db(transaction=True)  # MariaDB indexes FULLTEXT at commit
def test_the_search_page_marks_titles_and_excerpts(client):
    ArticleFactory(title="What I learned running Redis in production", summary="Lessons from ops.")
    ArticleFactory(
        title="Caches", summary="A summary without it.", body="Intro text. We also use redis here."
    )
    ArticleFactory(title="缓存与数据库", summary="关于分布式数据库的笔记。")
    body = client.get("/search/", {"q": "redis"}).content.decode()
    assert "running <mark>Redis</mark> in production</a>" in body
    assert "We also use <mark>redis</mark> here." in body
    chinese = client.get("/search/", {"q": "数据库"}).content.decode()
    assert "缓存与<mark>数据库</mark>" in chinese and "分布式<mark>数据库</mark>的笔记" in chinese


@pytest.mark.django_db(transaction=True)  # MariaDB indexes FULLTEXT at commit
def test_hostile_queries_render_safely(client):
    ArticleFactory(title="Script kiddies", summary="About <script> tags and img onerror handlers.")
    for query in ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "%00", "\u202e"]:
        response = client.get("/search/", {"q": query})
        assert response.status_code == 200
        page = response.content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page
