"""Editors' and moderators' pages, the nightly rollup and the traffic dashboard, at scale.

    .venv/bin/python bench/admin.py --database-url mysql://root@127.0.0.1:3306/blog_large \\
        --redis-url redis://127.0.0.1:6379/13 --articles 100000 --comments 1000000 --label 100k

In-process (Django's test client, a logged-in superuser), on the database and Redis named
(or the configured ones). An empty database is first filled with ``seed_large.py``
(``--articles``/``--comments``, 31 days of traffic rows); a filled one is used as it is.

Then:

1. the rollup of yesterday as the nightly beat runs it: the high-water mark is set back
   one day, yesterday's live counters are filled once (every public article read, twice
   as many views as articles) and ``stats_rollup()`` runs ``--rounds`` times (each
   round sets the mark back again: the same work); time, queries and the growth of the
   process's peak memory;
2. today's live counters are filled once the same way, so the dashboard has a live day;
3. each admin page: one request to warm up, then ``--rounds`` timed requests; the median
   time and the largest number of SQL queries.

Prints a markdown table and writes it (with the raw figures as JSON) under bench/results/.
Counter keys use the cache prefix ``BLOG_CACHE_PREFIX`` (``blogbench-<database>`` unless
set), so a run never touches another prefix's keys in the same Redis DB. The rollup's
memory is the growth of the process's peak (VmHWM, reset before each round).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--articles", type=int, default=1_000, help="seeded when the database is empty")
    parser.add_argument("--comments", type=int, default=14_000, help="seeded when the database is empty")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--label", default="")
    parser.add_argument("--no-warm-up", action="store_true", help="no untimed first request per page")
    parser.add_argument("--skip-rollup", action="store_true")
    parser.add_argument("--only", help="measure only the pages whose name contains this text")
    return parser.parse_args()


def _setup(args: argparse.Namespace) -> None:
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if args.redis_url:
        os.environ["REDIS_URL"] = args.redis_url
    # Counter keys of their own per database: the rollup of one never reads another's.
    database = urlparse(os.environ.get("DATABASE_URL", "sqlite")).path.strip("/").replace("/", "-")
    os.environ.setdefault("BLOG_CACHE_PREFIX", f"blogbench-{database or 'default'}")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ.setdefault("BLOG_VAR_DIR", str(ROOT / "var" / "bench-admin"))
    import django

    django.setup()


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak_rss() -> float:
    """Start measuring the process's peak memory afresh (Linux); returns the memory now."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


class Bench:
    def __init__(self, rounds: int, *, warm_up: bool = True) -> None:
        from django.db import connection

        self.connection = connection
        self.rounds = rounds
        self.warm_up = warm_up
        self.rows: list[dict] = []

    def measure(self, name: str, func, *, warm: bool = True, before=None) -> dict:
        from django.test.utils import CaptureQueriesContext

        if warm and self.warm_up:
            func()
        times, queries, grown = [], 0, 0.0
        for _ in range(self.rounds):
            if before is not None:
                before()
            rss = _reset_peak_rss()
            with CaptureQueriesContext(self.connection) as captured:
                start = time.perf_counter()
                outcome = func()
                times.append((time.perf_counter() - start) * 1000)
            grown = max(grown, _status_mb("VmHWM") - rss)
            queries = max(queries, len(captured))
        row = {
            "name": name,
            "ms": statistics.median(times),
            "max_ms": max(times),
            "queries": queries,
            "peak_rss_growth_mb": round(grown, 1),
            "outcome": outcome,
        }
        self.rows.append(row)
        print(f"{name:<58}{row['ms']:>10.1f} ms{queries:>6} q{row['peak_rss_growth_mb']:>8} MB", flush=True)
        return row


def _ensure_data(args: argparse.Namespace) -> None:
    from articles.models import Article

    if Article.objects.exists():
        return
    import seed_large

    seeder = seed_large.Seeder(seed=13)
    authors, categories, tags = seeder.taxonomy()
    plan = seeder.articles(args.articles, authors, categories, tags)
    seeder.comments(args.comments, plan)
    seeder.stats(31, plan)


def _superuser():
    from django.contrib.auth import get_user_model

    user, _created = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    return user


def _fill_live_day(day, public_ids: list[int]) -> None:
    import seed_large

    from stats.backends import get_backend

    backend = get_backend()
    if backend.site_figures([day])[day].pv:
        return  # filled by an earlier run (the counters live for days)
    seed_large.seed_live_views(day, article_ids=public_ids, views=2 * len(public_ids))


def bench_rollup(bench: Bench) -> None:
    from django.db import transaction
    from django.utils import timezone

    from articles.models import Article
    from stats import services
    from stats.models import ArticleDailyStat, DailyStat

    yesterday = timezone.localdate() - timedelta(days=1)
    public_ids = list(Article.objects.published().order_by("pk").values_list("pk", flat=True))
    _fill_live_day(yesterday, public_ids)

    def set_back() -> None:
        # As before last night's rollup: the mark and the per-article sums a day back.
        with transaction.atomic():
            state = services._locked_state()
            if state.sums_through is None:
                services._traffic_follow(state, state.filled_through)  # made once, as after an upgrade
            state.filled_through = yesterday - timedelta(days=1)
            state.save(update_fields=["filled_through"])
            services._traffic_follow(state, state.filled_through)
            # The view counts of the evening before: last night's rollup raises them all.
            services._view_counts_from_sums(state.filled_through)
            # Yesterday's rows are written by the rollup, not found there.
            ArticleDailyStat.objects.filter(date=yesterday).delete()
            DailyStat.objects.filter(date=yesterday).delete()

    def rollup():
        result = services.stats_rollup()
        assert result.days_written == 1, result.summary()
        return result.days[0].articles

    bench.measure(
        f"nightly rollup of a day ({len(public_ids):,} articles read)", rollup, warm=False, before=set_back
    )


def _last_page(client, url: str) -> int:
    """The last page the list itself links to."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return max([1, *(int(p) for p in re.findall(r'href="\?p=(\d+)"', response.content.decode()))])


def bench_pages(bench: Bench, only: str | None) -> None:
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from articles.models import Article, Category, Tag
    from comments.models import Comment

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(_superuser())
    now = timezone.localtime()
    busy_tag = Tag.objects.annotate(n=Count("articles")).order_by("-n").values_list("pk", flat=True).first()
    busy_category = (
        Category.objects.annotate(n=Count("articles")).order_by("-n").values_list("pk", flat=True).first()
    )
    busy_article = Article.objects.order_by("-comment_count").values_list("pk", flat=True).first()
    some_article = Article.objects.order_by("pk").values_list("pk", flat=True).first()
    some_comment = Comment.objects.order_by("pk").values_list("pk", flat=True).first()
    articles, comments = "/admin/articles/article/", "/admin/comments/comment/"
    article_pages = _last_page(client, articles)
    comment_pages = _last_page(client, comments)
    pages = [
        ("admin index", "/admin/"),
        ("article changelist", articles),
        (f"article changelist, page {min(100, article_pages)}", f"{articles}?p={min(100, article_pages)}"),
        ("article changelist, last page", f"{articles}?p={article_pages}"),
        ("article changelist ?tags__id__exact=(busiest tag)", f"{articles}?tags__id__exact={busy_tag}"),
        (
            "article changelist ?category__id__exact=(busiest)",
            f"{articles}?category__id__exact={busy_category}",
        ),
        ("article changelist ?status__exact=draft", f"{articles}?status__exact=draft"),
        ("article changelist ?q=redis", f"{articles}?q=redis"),
        ("article changelist ?q=bench-42 (slug)", f"{articles}?q=bench-42"),
        ("article changelist, date hierarchy year", f"{articles}?published_at__year={now.year}"),
        (
            "article changelist, date hierarchy month",
            f"{articles}?published_at__year={now.year}&published_at__month={now.month}",
        ),
        ("article changelist, sorted by views", f"{articles}?o=5"),
        ("article change form", f"{articles}{some_article}/change/"),
        ("comment changelist", comments),
        (f"comment changelist, page {min(100, comment_pages)}", f"{comments}?p={min(100, comment_pages)}"),
        ("comment queue ?status__exact=pending", f"{comments}?status__exact=pending"),
        ("comment changelist ?status__exact=spam", f"{comments}?status__exact=spam"),
        ("comment changelist ?q=reader42", f"{comments}?q=reader42"),
        ("comment changelist ?q=reader42@example.com", f"{comments}?q=reader42%40example.com"),
        ("comment changelist ?article=(most comments)", f"{comments}?article={busy_article}"),
        (
            "comment changelist, date hierarchy month",
            f"{comments}?created_at__year={now.year}&created_at__month={now.month}",
        ),
        ("comment change form", f"{comments}{some_comment}/change/"),
        ("tag changelist", "/admin/articles/tag/"),
        ("category changelist", "/admin/articles/category/"),
        ("page changelist", "/admin/articles/page/"),
        ("traffic dashboard, 7 days", "/admin/stats/dailystat/?days=7"),
        ("traffic dashboard, 30 days", "/admin/stats/dailystat/?days=30"),
        ("traffic dashboard, 90 days", "/admin/stats/dailystat/?days=90"),
        ("traffic CSV export, 90 days", "/admin/stats/dailystat/export.csv?days=90"),
    ]
    for name, url in pages:
        if only and only not in name:
            continue

        def get(url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response.status_code

        bench.measure(name, get)


def main() -> None:
    args = _parse_args()
    _setup(args)
    sys.path.insert(0, str(ROOT / "bench"))
    from django.core.management import call_command
    from django.utils import timezone

    from articles.models import Article
    from comments.models import Comment

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    _ensure_data(args)
    from django.db import connection

    engine = {"mysql": "MariaDB", "sqlite": "SQLite"}.get(connection.vendor, connection.vendor)
    articles, comments = Article.objects.count(), Comment.objects.count()
    label = args.label or f"{articles // 1000}k"
    print(
        f"{engine}: {articles:,} articles, {comments:,} comments; {args.rounds} rounds; "
        f"load {os.getloadavg()[0]:.2f}"
    )
    bench = Bench(args.rounds, warm_up=not args.no_warm_up)
    if not args.skip_rollup:
        bench_rollup(bench)
    public_ids = list(Article.objects.published().order_by("pk").values_list("pk", flat=True))
    _fill_live_day(timezone.localdate(), public_ids)
    bench_pages(bench, args.only)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    lines = [
        f"| {label}: {engine}, {articles:,} articles, {comments:,} comments "
        "| median ms | queries | peak MB+ |",
        "|---|---:|---:|---:|",
        *(
            f"| {row['name']} | {row['ms']:,.1f} | {row['queries']} | {row['peak_rss_growth_mb']} |"
            for row in bench.rows
        ),
    ]
    table = "\n".join(lines)
    (out / f"admin-{label}-{stamp}.md").write_text(table + "\n")
    (out / f"admin-{label}-{stamp}.json").write_text(json.dumps(bench.rows, indent=1, default=str))
    print()
    print(table)


if __name__ == "__main__":
    main()
