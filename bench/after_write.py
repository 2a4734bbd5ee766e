"""The first render of each reader page after a write: SQL queries, time and the process's
memory, in-process (Django's test client), against the configured database and cache.

    .venv/bin/python bench/after_write.py [--json FILE] [--rounds 5]

Run it with the environment of the server under test (bench/run.sh does, for each data
size). For every page it measures, median of ``--rounds``:

- after an article edit (a title changed and saved: the ``articles`` scope and every page
  go stale, as in production, by the save's own signals and on-commit bump);
- after an approved comment (the ``comments`` scope: the article's thread, counts, the
  recent-comments widget);
- flushed: the cache emptied (a Redis restart): even the site structure is read again;
- warm: the page cache answering.

The bars (DESIGN.md): after a write at most 10 queries and 50 ms, within 20 % of the
figure at 1,000 articles, the worker's RSS within 20 MB of it. The script prints the
table and the RSS before and after; comparing two sizes is bench/run.sh's job.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from articles.models import Article, ListEntry, Tag  # noqa: E402
from blog_project import caching  # noqa: E402
from comments.models import Comment  # noqa: E402
from comments.services import comment_moderate  # noqa: E402

QUERY_BAR, MS_BAR, SEARCH_MS_BAR = 10, 50.0, 30.0
# New searches, each asked once (a page-cache miss), in both languages, rare and common.
SEARCHES = [
    "redis",
    "django cache",
    "缓存",
    "数据库",
    "数据库 索引",
    "worker queue",
    "schema migration",
    "监控 deploy",
    "latency",
    "bench article 4242",
    "nothing-matches-this",
    "队列",
]


def measure_search(client: Client) -> dict:
    new, repeated = [], []
    for query in SEARCHES:
        new.append(measure(client, f"/search/?q={query}", None))
    for query in SEARCHES:
        repeated.append(measure(client, f"/search/?q={query}", None))
    return {
        "new_ms_median": round(statistics.median(ms for _q, ms, _c in new), 2),
        "new_ms_max": round(max(ms for _q, ms, _c in new), 2),
        "new_queries_max": max(q for q, _ms, _c in new),
        "repeated_ms_median": round(statistics.median(ms for _q, ms, _c in repeated), 2),
        "repeated_queries_max": max(q for q, _ms, _c in repeated),
        "repeated_page_cache": sorted({c for _q, _ms, c in repeated}),
    }


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pages() -> dict[str, str]:
    """One URL of each kind of reader page, chosen from the data (mid-size lists)."""
    public = Article.objects.published()
    article = public.filter(comment_count__gt=3).order_by("-published_at")[50:51].first() or public.first()
    busiest_tag = Tag.objects.filter(published_count__gt=0).order_by("-published_count").first()
    month = timezone.localtime(public.order_by("-published_at").values_list("published_at", flat=True)[200])
    return {
        "home": "/",
        "article": article.get_absolute_url(),
        "category": article.category.get_absolute_url(),
        "tag": busiest_tag.get_absolute_url() if busiest_tag else "/",
        "archive": f"/archives/{month.year}/{month.month}/",
        "search": "/search/?q=redis",
        "feed": "/feed/atom/",
        "sitemap": "/sitemap-articles.xml",
    }


class Writes:
    def __init__(self) -> None:
        self.article = Article.objects.published().order_by("-published_at")[500]
        self.count = 0
        self.pending: list[int] = []

    def article_edit(self) -> None:
        self.count += 1
        self.article.title = f"{self.article.title.split(' · ')[0]} · edit {self.count}"
        self.article.save()  # autocommit: the on-commit bump runs here

    def comment_approved(self) -> None:
        """A moderator approves a held comment (as the admin's bulk action does)."""
        if not self.pending:
            public = list(
                Article.objects.published().order_by("-published_at").values_list("pk", flat=True)[:2000]
            )
            self.pending = list(
                Comment.objects.pending().filter(article_id__in=public).values_list("pk", flat=True)
            )
        pk = self.pending.pop()
        comment_moderate(comments=Comment.objects.filter(pk=pk), status=Comment.Status.APPROVED)

    def flush(self) -> None:
        cache.clear()
        caching.forget_process_copies()


def measure(client: Client, path: str, before) -> tuple[int, float, str]:
    if before is not None:
        before()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
        elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return len(queries), elapsed, response.get("X-Page-Cache", "-")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    client = Client(HTTP_HOST="127.0.0.1")
    writes = Writes()
    urls = pages()
    for path in urls.values():  # imports, templates, connections: not part of any figure
        client.get(path)
        client.get(path)
    rss_before = rss_mb()
    states = {
        "after article edit": writes.article_edit,
        "after approved comment": writes.comment_approved,
        "flushed": writes.flush,
        "warm": None,
    }
    results = {}
    for name, path in urls.items():
        row = {"path": path}
        for state, before in states.items():
            runs = [measure(client, path, before) for _ in range(args.rounds)]
            if state != "warm":
                client.get(path)  # leave it warm for the next state
            row[state] = {
                "queries": max(q for q, _ms, _c in runs),
                "ms": round(statistics.median(ms for _q, ms, _c in runs), 2),
                "page_cache": sorted({c for _q, _ms, c in runs}),
            }
        results[name] = row
    rss_after = rss_mb()
    articles = Article.objects.count()
    entries = ListEntry.objects.count()
    print(f"\nFirst render after a write, {connection.vendor}, {articles} articles ({entries} list entries)")
    print(
        f"median of {args.rounds}; queries = the most of any round; bar: <= {QUERY_BAR} q, <= {MS_BAR:.0f} ms"
    )
    header = f"{'page':<10} " + " ".join(f"{state + ' q':>26} {'ms':>8}" for state in states)
    print(header)
    ok = True
    for name, row in results.items():
        print(
            f"{name:<10} "
            + " ".join(f"{row[state]['queries']:>26} {row[state]['ms']:>8}" for state in states)
        )
        for state in ("after article edit", "after approved comment"):
            ok &= row[state]["queries"] <= QUERY_BAR and row[state]["ms"] <= MS_BAR
        ok &= row["warm"]["queries"] == 0 and row["warm"]["page_cache"] == ["hit"]
    print(f"process RSS: {rss_before:.1f} MB before, {rss_after:.1f} MB after")
    search = measure_search(client)
    print(
        f"search: {len(SEARCHES)} new queries, median {search['new_ms_median']} ms "
        f"(max {search['new_ms_max']} ms, "
        f"at most {search['new_queries_max']} queries); repeated: median {search['repeated_ms_median']} ms, "
        f"{search['repeated_queries_max']} queries, {search['repeated_page_cache']}"
    )
    ok &= search["new_ms_median"] <= SEARCH_MS_BAR and search["repeated_page_cache"] == ["hit"]
    print("bar:", "met" if ok else "MISSED")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "vendor": connection.vendor,
                    "articles": articles,
                    "rss_before_mb": round(rss_before, 1),
                    "rss_after_mb": round(rss_after, 1),
                    "pages": results,
                    "search": search,
                },
                indent=2,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
