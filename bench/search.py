"""Search at scale: time /search/ over N published articles on the configured database.

    DATABASE_URL=mysql://root@127.0.0.1:3306/blog_bench .venv/bin/python bench/search.py --articles 10000
    BLOG_VAR_DIR=var/bench .venv/bin/python bench/search.py --articles 10000      # SQLite

Creates (once) N articles of realistic length in English and Chinese with bulk inserts,
then requests a few searches through Django's test client with the cache disabled and
prints the median time and SQL query count per search. Loopback/in-process only.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from articles.markdown import render_markdown  # noqa: E402
from articles.models import Article, ArticleSearchIndex, Category, build_search_text  # noqa: E402

WORDS_EN = [
    "cache",
    "query",
    "index",
    "server",
    "python",
    "django",
    "redis",
    "worker",
    "queue",
    "page",
    "latency",
    "thread",
]
WORDS_ZH = list("缓存数据库索引服务器队列页面延迟线程部署监控日志配置")
QUERIES = ["django", "redis worker", "缓存", "数据库索引", "nothing-matches-this", "a"]


def _body(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(8):
        words = rng.choices(WORDS_EN, k=60)
        paragraphs.append(" ".join(words) + " " + "".join(rng.choices(WORDS_ZH, k=40)) + "。")
    return "## Part\n\n" + "\n\n".join(paragraphs)


def seed(total: int) -> None:
    existing = Article.objects.count()
    if existing >= total:
        return
    from django.contrib.auth import get_user_model

    author, _ = get_user_model().objects.get_or_create(username="bench")
    category = Category.default()
    rng = random.Random(existing)
    batch = []
    for number in range(existing, total):
        body = _body(rng)
        batch.append(
            Article(
                title=f"Bench article {number} {rng.choice(WORDS_EN)}",
                slug=f"bench-{number}",
                body=body,
                body_html=render_markdown(body).html,
                summary=body[10:150],
                status="published",
                author=author,
                category=category,
            )
        )
        if len(batch) == 1000:
            _insert(batch)
            batch = []
    _insert(batch)


def _insert(batch: list[Article]) -> None:
    Article.objects.bulk_create(batch)
    ArticleSearchIndex.objects.bulk_create(
        ArticleSearchIndex(article=a, text=build_search_text(a.title, a.summary, a.body_html)) for a in batch
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    seed(args.articles)
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    # Fragments warm, the page itself uncached: search pages are never page-cached.
    assert client.get("/search/", {"q": "warmup"}).status_code == 200
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"{engine}: {Article.objects.published().count()} published articles")
    print(f"{'query':<24}{'median ms':>10}{'max ms':>9}{'queries':>9}")
    for query in QUERIES:
        times = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get("/search/", {"q": query})
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        print(f"{query:<24}{statistics.median(times):>10.1f}{max(times):>9.1f}{len(queries):>9}")


if __name__ == "__main__":
    main()
