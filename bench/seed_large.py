"""Fill a database with a large blog, fast: what a site looks like after years of writing.

    .venv/bin/python bench/seed_large.py --articles 100000 --comments 1000000
    .venv/bin/python bench/seed_large.py --articles 100000 --comments 1000000 --stats-days 31 \\
        --database-url mysql://root@127.0.0.1:3306/blog_large --reset

Works on MariaDB/MySQL and SQLite (``--database-url``, or ``DATABASE_URL`` as usual; the
schema is migrated first). Rows are generated in Python from a seeded random source and
written with ``executemany`` in batches of a few thousand rows (mysqlclient turns each
batch into one multi-row INSERT), then the derived columns are set in SQL, so 100,000
articles and 1,000,000 comments take a few minutes, not hours.

What it writes (every row valid for the models: unique slugs, one number per comment and
article, threads inside one article, exact counters):

- a few authors, 20 top-level categories with 4 children each, 500 tags;
- articles spread over six years, about 2% drafts, 0.5% scheduled (the newest ones, in
  the future), three pinned; short Markdown bodies rendered as the models render them;
  0-4 tags each (a few tags are far more popular than the rest); the search index rows;
- comments on public articles only, a heavy-tailed number per article; about 90%
  approved, 6% pending, 3% spam, 1% removed; about a third are replies to an approved
  comment of the same article (``thread_number`` is the thread's top-level number);
  ``Article.comment_count`` is then set from the approved comments;
- with ``--stats-days D``: ``DailyStat`` and ``ArticleDailyStat`` rows for the D finished
  days before today (every public article read on every day, popular ones more),
  ``FillState`` final through yesterday and ``Article.view_count`` the sum of those rows.

It refuses to write into a database that already has articles unless ``--reset`` is given,
which first empties the tables it fills (articles, taxonomy, comments, stats; users,
pages, settings and widgets stay). ``seed_live_views()`` adds a day of live page views to
the configured counters (Redis or the database backend); ``bench/admin.py`` uses it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")

BATCH = 5_000
HISTORY_DAYS = 6 * 365
WORDS = [
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
    "deploy",
    "monitor",
    "log",
    "config",
    "schema",
    "migration",
    "template",
    "admin",
    "editor",
    "comment",
    "reader",
    "feed",
    "search",
    # Chinese words too, so that searches in both languages can be measured
    "缓存",
    "数据库",
    "索引",
    "队列",
    "部署",
    "监控",
]
TOP_CATEGORIES, CHILD_CATEGORIES, TAGS, AUTHORS = 20, 4, 500, 5
STATUSES = (("approved", 90), ("pending", 6), ("spam", 3), ("removed", 1))

ARTICLE_BODY = "Article IIDX about AAW and BBW.\n\n## Notes\n\nSecond paragraph on CCW with `code`."
COMMENT_BODY = "Comment IIDX on AAW: I tried BBW and it worked."


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000)
    parser.add_argument("--comments", type=int, default=14_000)
    parser.add_argument("--stats-days", type=int, default=0, help="finished days of traffic rows (0: none)")
    parser.add_argument("--database-url", help="default: DATABASE_URL, else the embedded SQLite file")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--reset", action="store_true", help="empty the tables this script fills first")
    return parser.parse_args(argv)


def _setup(database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


def _utc_text(moment: datetime) -> str:
    """A datetime as both backends store it: naive UTC text (what Django's adapters write)."""
    return str(moment.astimezone(UTC).replace(tzinfo=None))


class Seeder:
    def __init__(self, *, seed: int, verbose: bool = True) -> None:
        from django.db import connection

        self.connection = connection
        self.rng = random.Random(seed)
        self.verbose = verbose
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.started = time.perf_counter()

    # --- plumbing -------------------------------------------------------------------------

    def log(self, message: str) -> None:
        if self.verbose:
            print(f"[{time.perf_counter() - self.started:7.1f}s] {message}", flush=True)

    def table(self, model) -> str:
        return self.connection.ops.quote_name(model._meta.db_table)

    def insert(self, model, columns: list[str], rows) -> int:
        """Insert an iterable of tuples in batches, each batch in its own transaction."""
        from django.db import transaction

        quote = self.connection.ops.quote_name
        sql = (
            f"INSERT INTO {self.table(model)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        total, batch = 0, []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                with transaction.atomic(), self.connection.cursor() as cursor:
                    cursor.executemany(sql, batch)
                total, batch = total + len(batch), []
        if batch:
            with transaction.atomic(), self.connection.cursor() as cursor:
                cursor.executemany(sql, batch)
            total += len(batch)
        return total

    def execute(self, sql: str, params=()) -> int:
        from django.db import transaction

        with transaction.atomic(), self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def next_id(self, model) -> int:
        from django.db.models import Max

        return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1

    # --- reset ----------------------------------------------------------------------------

    def reset(self) -> None:
        from django.apps import apps

        from articles.models import DEFAULT_CATEGORY_SLUG, Category

        fixed = [
            apps.get_model(name)
            for name in (
                "comments.Comment",
                "stats.ArticleDailyStat",
                "stats.DailyStat",
                "stats.FillState",
                "stats.LiveCounter",
                "stats.LiveVisitor",
                "articles.ArticleSearchIndex",
                "articles.Tally",
            )
        ]
        article = apps.get_model("articles.Article")
        # Tables that later migrations add beside articles (derived per-article rows) are
        # emptied too: every model of these apps with a foreign key to Article.
        derived = [
            model
            for model in apps.get_models()
            if model not in fixed
            and model._meta.app_label in ("articles", "comments", "stats")
            and any(field.related_model is article for field in model._meta.concrete_fields)
        ]
        models = [*derived, *fixed, article.tags.through, article, apps.get_model("articles.Tag")]
        vendor = self.connection.vendor
        with self.connection.cursor() as cursor:
            if vendor == "mysql":
                cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
                for model in models:
                    cursor.execute(f"TRUNCATE TABLE {self.table(model)}")
                cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
            else:
                cursor.execute("PRAGMA foreign_keys = OFF")
                for model in models:
                    cursor.execute(f"DELETE FROM {self.table(model)}")  # noqa: S608
                cursor.execute("PRAGMA foreign_keys = ON")
        Category.objects.exclude(slug=DEFAULT_CATEGORY_SLUG).update(parent=None)
        Category.objects.exclude(slug=DEFAULT_CATEGORY_SLUG).delete()
        self.log("emptied the tables this script fills")

    # --- taxonomy and authors -------------------------------------------------------------

    def taxonomy(self) -> tuple[list[int], list[int], list[int]]:
        from django.contrib.auth import get_user_model

        from articles.models import Category, Tag

        User = get_user_model()
        authors = []
        for number in range(AUTHORS):
            user, _created = User.objects.get_or_create(
                username=f"bench-author-{number}",
                defaults={"email": f"author{number}@example.com", "is_staff": True},
            )
            authors.append(user.pk)
        parents = Category.objects.bulk_create(
            Category(name=f"Topic {p}", slug=f"topic-{p}", order=p) for p in range(TOP_CATEGORIES)
        )
        parents = list(Category.objects.filter(slug__in=[c.slug for c in parents]).order_by("order"))
        children = Category.objects.bulk_create(
            Category(name=f"Topic {p}.{c}", slug=f"topic-{p}-{c}", parent=parent, order=c)
            for p, parent in enumerate(parents)
            for c in range(CHILD_CATEGORIES)
        )
        children = list(
            Category.objects.filter(slug__in=[c.slug for c in children]).values_list("pk", flat=True)
        )
        Tag.objects.bulk_create(Tag(name=f"{WORDS[t % len(WORDS)]}{t}", slug=f"tag-{t}") for t in range(TAGS))
        tags = list(Tag.objects.filter(slug__startswith="tag-").order_by("pk").values_list("pk", flat=True))
        self.log(f"{len(authors)} authors, {len(parents) + len(children)} categories, {len(tags)} tags")
        return authors, [c.pk for c in parents] + children, tags

    # --- articles -------------------------------------------------------------------------

    def articles(self, total: int, authors: list[int], categories: list[int], tags: list[int]) -> list[tuple]:
        """Insert the articles, their tags and search index rows; return (id, published_at,
        public) of each."""
        from articles.fulltext import build_tokens
        from articles.markdown import plain_text, render_markdown
        from articles.models import Article, ArticleSearchIndex, build_search_text

        rng = self.rng
        html = render_markdown(ARTICLE_BODY).html
        first_id = self.next_id(Article)
        step = timedelta(days=HISTORY_DAYS) / max(total, 1)
        scheduled_from = total - max(1, total // 200)
        plan = []  # (id, published_at, public)
        rows, links, index_rows = [], [], []
        for i in range(total):
            pk = first_id + i
            words = (WORDS[(i * 7) % len(WORDS)], WORDS[(i * 13 + 3) % len(WORDS)], rng.choice(WORDS))
            if i >= scheduled_from:
                published = self.now + timedelta(hours=6 * (i - scheduled_from + 1))
                status = "published"
            else:
                published = self.now - step * (total - i) - timedelta(seconds=rng.randrange(60))
                status = "draft" if rng.random() < 0.02 else "published"
            public = status == "published" and published <= self.now
            title = f"Bench article {i} on {words[0]} and {words[1]}"
            body = ARTICLE_BODY.replace("IIDX", str(i)).replace("AAW", words[0])
            body = body.replace("BBW", words[1]).replace("CCW", words[2])
            body_html = html.replace("IIDX", str(i)).replace("AAW", words[0])
            body_html = body_html.replace("BBW", words[1]).replace("CCW", words[2])
            summary = f"Article {i} about {words[0]} and {words[1]}."
            stamp = _utc_text(published)
            rows.append(
                (
                    pk,
                    title,
                    f"bench-{i}",
                    summary,
                    body,
                    body_html,
                    "",
                    categories[int(len(categories) * rng.random() ** 1.5)],
                    "original",
                    "",
                    status,
                    stamp,
                    authors[i % len(authors)],
                    True,
                    public and i % (total // 3 + 1) == 7,  # three pinned
                    True,
                    "",
                    "",
                    stamp,
                    stamp,
                    0,
                    0,
                )
            )
            chosen = {tags[int(len(tags) * rng.random() ** 2.5)] for _ in range(rng.randrange(5))}
            links.extend((pk, tag) for tag in sorted(chosen))
            body_text = plain_text(body_html)
            index_rows.append(
                (
                    pk,
                    build_search_text(title, summary, body_text),
                    build_tokens(title),
                    build_tokens(summary),
                    build_tokens(body_text),
                    status,
                    stamp,
                )
            )
            plan.append((pk, published, public))
        columns = [
            "id",
            "title",
            "slug",
            "summary",
            "body",
            "body_html",
            "toc_html",
            "category_id",
            "source",
            "source_url",
            "status",
            "published_at",
            "author_id",
            "allow_comments",
            "is_pinned",
            "summary_is_auto",
            "seo_title",
            "seo_description",
            "created_at",
            "updated_at",
            "view_count",
            "comment_count",
        ]
        self.insert(Article, columns, rows)
        self.log(f"{len(rows)} articles")
        self.insert(Article.tags.through, ["article_id", "tag_id"], links)
        self.log(f"{len(links)} article-tag links")
        index_columns = [
            "article_id",
            "text",
            "title_tokens",
            "summary_tokens",
            "body_tokens",
            "status",
            "published_at",
        ]
        self.insert(ArticleSearchIndex, index_columns, index_rows)
        self.log(f"{len(index_rows)} search index rows")
        return plan

    def sidebar(self) -> None:
        """A sidebar with one widget of every kind and an About page, as a real blog has
        (only when the site has no widgets yet)."""
        from articles import registry
        from articles.models import Page, SidebarWidget

        if SidebarWidget.objects.exists():
            return
        # Every registered kind: the core's and the installed apps' (recent comments, statistics).
        for order, (kind, label) in enumerate(registry.widget_kind_choices()):
            body = (
                "Django https://djangoproject.com"
                if kind == SidebarWidget.Kind.LINKS
                else "About *this* blog."
            )
            SidebarWidget(kind=kind, title=label, body=body, order=order).save()
        Page.objects.get_or_create(
            slug="about", defaults={"title": "About", "body": "A benchmark blog.", "show_in_nav": True}
        )
        self.log("a sidebar widget of every kind and an About page")

    def lists(self) -> None:
        """The derived lists and counts readers' pages read (``articles.listings``)."""
        from articles.listings import lists_rebuild

        started = time.monotonic()
        entries = lists_rebuild()
        self.log(f"{entries} list entries and their tallies ({time.monotonic() - started:.0f} s)")

    # --- comments -------------------------------------------------------------------------

    def comments(self, total: int, plan: list[tuple]) -> None:
        from articles.markdown import Profile, render_markdown
        from articles.models import Article
        from comments.models import Comment

        rng = self.rng
        public = [(pk, published) for pk, published, is_public in plan if is_public]
        if not public or not total:
            return
        weights = [min(200.0, rng.paretovariate(1.3)) for _ in public]
        scale = total / sum(weights)
        counts = [int(w * scale) for w in weights]
        for index in rng.sample(range(len(public)), k=min(len(public), total - sum(counts))):
            counts[index] += 1
        shortfall = total - sum(counts)
        counts[0] += shortfall  # only when there are fewer articles than missing comments
        readers = max(1_000, total // 20)
        hashes = [hashlib.sha256(f"client{r}".encode()).hexdigest() for r in range(readers)]
        html = render_markdown(COMMENT_BODY, profile=Profile.COMMENT).html
        statuses = [name for name, weight in STATUSES for _ in range(weight)]
        first_id = self.next_id(Comment)

        def rows():
            pk = first_id
            for (article_id, published), count in zip(public, counts, strict=True):
                if not count:
                    continue
                span = max(60.0, (self.now - published).total_seconds())
                offsets = sorted(rng.random() * span for _ in range(count))
                approved: list[tuple[int, int]] = []  # (id, thread_number) of repliable ones
                for number, offset in enumerate(offsets, start=1):
                    parent_id, thread = None, number
                    if approved and rng.random() < 0.35:
                        parent_id, thread = approved[-1 - int(rng.random() * min(len(approved), 10))]
                    status = statuses[int(rng.random() * 100)]
                    reader = int(readers * rng.random() ** 3)
                    word_a, word_b = rng.choice(WORDS), rng.choice(WORDS)
                    body = (
                        COMMENT_BODY.replace("IIDX", str(number))
                        .replace("AAW", word_a)
                        .replace("BBW", word_b)
                    )
                    body_html = (
                        html.replace("IIDX", str(number)).replace("AAW", word_a).replace("BBW", word_b)
                    )
                    created = _utc_text(published + timedelta(seconds=offset))
                    yield (
                        pk,
                        article_id,
                        parent_id,
                        number,
                        thread,
                        f"reader{reader}",
                        f"reader{reader}@example.com",
                        f"https://reader{reader}.example.com" if reader % 10 == 0 else "",
                        body,
                        body_html,
                        status,
                        False,
                        None,
                        False,
                        created,
                        hashes[reader],
                        created,
                        created if parent_id else None,
                    )
                    if status == "approved":
                        approved.append((pk, thread))
                    pk += 1

        columns = [
            "id",
            "article_id",
            "parent_id",
            "number",
            "thread_number",
            "author_name",
            "author_email",
            "author_url",
            "body",
            "body_html",
            "status",
            "is_staff_reply",
            "user_id",
            "notify_on_reply",
            "created_at",
            "client_hash",
            "moderators_notified_at",
            "reply_notified_at",
        ]
        written = self.insert(Comment, columns, rows())
        self.log(f"{written} comments")
        article, comment = self.table(Article), self.table(Comment)
        self.execute(
            f"UPDATE {article} SET comment_count = (SELECT COUNT(*) FROM {comment} c "  # noqa: S608
            f"WHERE c.article_id = {article}.id AND c.status = 'approved')"
        )
        self.log("comment counts set from the approved comments")

    # --- stats ----------------------------------------------------------------------------

    def stats(self, days: int, plan: list[tuple]) -> None:
        from django.utils import timezone

        from articles.models import Article
        from stats.models import ArticleDailyStat, DailyStat, FillState

        rng = self.rng
        today = timezone.localdate()
        public = [(pk, published) for pk, published, is_public in plan if is_public]
        popularity = [min(200.0, rng.paretovariate(1.2)) for _ in public]
        updated = _utc_text(self.now)
        site = []

        def rows():
            for back in range(days, 0, -1):
                day = today - timedelta(days=back)
                end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
                pv_total = uv_total = 0
                for (article_id, published), weight in zip(public, popularity, strict=True):
                    if published >= end:
                        continue
                    pv = 1 + int(weight * rng.random() * 3)
                    uv = max(1, pv - int(rng.random() * pv / 2))
                    pv_total, uv_total = pv_total + pv, uv_total + uv
                    yield (article_id, day.isoformat(), pv, uv, updated)
                site.append((day.isoformat(), pv_total + pv_total // 3, uv_total // 2 + 1, updated))

        written = self.insert(ArticleDailyStat, ["article_id", "date", "pv", "uv", "updated_at"], rows())
        self.insert(DailyStat, ["date", "pv", "uv", "updated_at"], site)
        FillState.objects.update_or_create(
            name=FillState.DAILY, defaults={"filled_through": today - timedelta(days=1)}
        )
        self.traffic_sums()
        article, per_day = self.table(Article), self.table(ArticleDailyStat)
        self.execute(
            f"UPDATE {article} SET view_count = COALESCE((SELECT SUM(s.pv) FROM {per_day} s "  # noqa: S608
            f"WHERE s.article_id = {article}.id), 0)"
        )
        self.log(f"{written} article-day and {len(site)} site-day traffic rows; view counts set")

    def traffic_sums(self) -> None:
        """The rollup's per-article sums, made as its first run after an upgrade makes them."""
        from django.db import transaction

        from stats import services

        with transaction.atomic():
            state = services._locked_state()
            services._traffic_follow(state, state.filled_through)
        self.log(f"per-article traffic sums made through {state.filled_through}")


def seed_live_views(day: date, *, article_ids: list[int], views: int, seed: int = 13) -> int:
    """Count ``views`` page views of ``day`` spread over ``article_ids`` (every article at
    least once, when there are enough views) through the configured counters, fast: Redis
    commands go out in pipelines of a few thousand views, the database backend in batches.
    Returns how many were counted."""
    from blog_project.cache_client import roundtrip
    from stats.backends import DatabaseBackend, get_backend

    rng = random.Random(seed)
    backend = get_backend()
    targets = [article_ids[n % len(article_ids)] for n in range(min(views, len(article_ids)))]
    targets += [article_ids[int(len(article_ids) * rng.random() ** 3)] for _ in range(views - len(targets))]
    visitors = [f"h:{n}" for n in range(max(1, views // 2))]
    if isinstance(backend, DatabaseBackend):
        for start in range(0, len(targets), BATCH):
            for article_id in targets[start : start + BATCH]:
                backend.record(day=day, visitor=rng.choice(visitors), article_id=article_id)
        return len(targets)
    for start in range(0, len(targets), BATCH):
        views = [(rng.choice(visitors), article_id) for article_id in targets[start : start + BATCH]]
        roundtrip(backend.client, backend.view_commands(day, views))
    return len(targets)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    _setup(args.database_url)
    from django.core.management import call_command

    from articles.models import Article

    call_command("migrate", verbosity=0)
    seeder = Seeder(seed=args.seed)
    if args.reset:
        seeder.reset()
    elif Article.objects.exists():
        sys.exit("The database already has articles: give --reset to empty the seeded tables first.")
    seeder.log(f"seeding {seeder.connection.vendor} ({seeder.connection.settings_dict['NAME']})")
    authors, categories, tags = seeder.taxonomy()
    plan = seeder.articles(args.articles, authors, categories, tags)
    seeder.comments(args.comments, plan)
    seeder.lists()
    seeder.sidebar()
    if args.stats_days:
        seeder.stats(args.stats_days, plan)
    seeder.log("done")


if __name__ == "__main__":
    main()
