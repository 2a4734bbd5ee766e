"""Search: full-text on both databases (Chinese included), ranked title > summary > body,
counted exactly, every result reachable, only public articles, safe for any input,
repeated queries from the cache. Transactional: MariaDB's full-text index sees rows only
once they are committed."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from articles import search
from articles.fulltext import build_tokens, query_tokens
from articles.models import SiteSettings
from articles.tests.factories import ArticleFactory, DraftFactory, ScheduledFactory

pytestmark = pytest.mark.django_db(transaction=True)


def titles(response) -> list[str]:
    page = re.sub(r"</?mark>", "", response.content.decode())  # the query's words are marked
    return re.findall(
        r'<h2 class="entry-title">(?:<span[^>]*>[^<]*</span> )?<a href="[^"]+">([^<]+)</a>', page
    )


def test_tokens_cover_spaced_words_and_cjk_characters_and_pairs():
    expected = ["wredis", "zz数", "zz据", "zz库", "z数据", "z据库", "wagain"]
    assert build_tokens("Redis 数据库, redis again").split() == expected
    assert query_tokens("Redis 数据库") == [("wredis", True), ("z数据", False), ("z据库", False)]
    assert query_tokens("库") == [("zz库", False)]
    assert query_tokens('+a -"(" ~* @') == [], "no token comes from query syntax or single letters"
    assert query_tokens("x" * 500) == [("w" + "x" * 60, True)]


def test_words_are_found_by_prefix_and_chinese_by_its_characters(client):
    ArticleFactory(title="Unrelated", body="这是一个关于缓存的段落。Running Redisson too.")
    ArticleFactory(title="标题里有数据库", body="x")
    ArticleFactory(title="Third", body="x", summary="摘要提到队列")
    assert titles(client.get("/search/", {"q": "缓存"})) == ["Unrelated"]
    assert titles(client.get("/search/", {"q": "redis"})) == ["Unrelated"]
    assert titles(client.get("/search/", {"q": "数据库"})) == ["标题里有数据库"]
    assert titles(client.get("/search/", {"q": "队列"})) == ["Third"]
    assert titles(client.get("/search/", {"q": "库"})) == ["标题里有数据库"]
    empty = client.get("/search/", {"q": "没有的词"}).content.decode()
    assert "0 results" in empty


def test_every_term_must_occur(client):
    ArticleFactory(title="Redis and MySQL")
    ArticleFactory(title="Only Redis")
    assert titles(client.get("/search/", {"q": "redis mysql"})) == ["Redis and MySQL"]


def test_a_title_match_ranks_above_the_summary_above_the_body_whatever_the_dates(client):
    now = timezone.now()
    ArticleFactory(
        title="What I learned running Redis in production", published_at=now - timezone.timedelta(days=30)
    )
    ArticleFactory(
        title="Caching notes", summary="A look at Redis", published_at=now - timezone.timedelta(days=20)
    )
    ArticleFactory(
        title="Weekly links",
        summary="Links of the week.",
        body="Also: redis, briefly.",
        published_at=now - timezone.timedelta(days=1),
    )
    assert titles(client.get("/search/", {"q": "redis"})) == [
        "What I learned running Redis in production",
        "Caching notes",
        "Weekly links",
    ]


def test_results_are_counted_exactly_and_every_page_reaches_them(client):
    SiteSettings.load()  # the row exists (a transactional test elsewhere may have emptied the table)
    SiteSettings.objects.filter(pk=1).update(posts_per_page=2)
    expected = {f"Needle {n}" for n in range(5)}
    for title in expected:
        ArticleFactory(title=title)
    ArticleFactory(title="Haystack")
    first = client.get("/search/", {"q": "needle"})
    assert "5 results" in first.content.decode()
    found = []
    for page in (1, 2, 3):  # each page counts all the results (the last one holds one)
        answer = client.get("/search/", {"q": "needle", "page": page})
        assert "5 results" in answer.content.decode()
        found += titles(answer)
    assert sorted(found) == sorted(expected)
    for past_the_end in (4, 40):
        assert client.get("/search/", {"q": "needle", "page": past_the_end}).status_code == 404
    for unreadable in ("0", "-1", "x", "9" * 20):
        assert client.get("/search/", {"q": "needle", "page": unreadable}).status_code == 404
    nothing = client.get("/search/", {"q": "nonexistentword"})
    assert nothing.status_code == 200 and not titles(nothing)


def test_only_public_articles_are_found(client):
    ArticleFactory(title="Public needle")
    DraftFactory(title="Draft needle")
    ScheduledFactory(title="Scheduled needle")
    assert titles(client.get("/search/", {"q": "needle"})) == ["Public needle"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "+",
        "-redis",
        "*",
        "redis*",
        "(a",
        "~x @2",
        "<>",
        "a" * 300,
        "\x00",
        "' OR 1=1 --",
        "中 文 🎉",
        "MATCH",
    ],
)
def test_any_input_is_answered_and_nothing_is_executed(client, query):
    ArticleFactory(title="Redis 中文")
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200


def test_terms_the_index_cannot_hold_fall_back_to_a_substring_scan(client):
    ArticleFactory(title="C is a language")
    ArticleFactory(title="Python")
    assert titles(client.get("/search/", {"q": "c"})) == ["C is a language"]
    results = search.search_articles("c")
    assert len(results) == 1 and results.capped is False


def test_a_repeated_query_is_answered_from_the_cache(client):
    ArticleFactory(title="Cached needle")
    assert client.get("/search/", {"q": "needle"})["X-Page-Cache"] == "miss"
    assert client.get("/search/", {"q": "needle"})["X-Page-Cache"] == "hit"
    assert client.get("/search/", {"q": "  needle "})["X-Page-Cache"] == "hit", "the same query, spaced"
