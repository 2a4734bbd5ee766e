"""Reads of traffic figures: live totals for the sidebar, series for the dashboard.

"Live" means: the stored final rows (days up to ``FillState.filled_through``) plus the
live counters of every later day still held (normally just today). So the numbers are
exact at any moment, before or after the rollup has run, and never count a day twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Sum
from django.utils import timezone
from redis.exceptions import RedisError

from articles.models import Article
from articles.selectors import public_counts
from blog_project import caching

from . import conf
from .backends import Figures, get_backend
from .models import ArticleDailyStat, DailyStat, FillState
from .services import days_between, final_totals

log = logging.getLogger(__name__)


def filled_through() -> date | None:
    return FillState.objects.filter(name=FillState.DAILY).values_list("filled_through", flat=True).first()


def live_days(final_through: date | None, start: date | None, end: date) -> list[date]:
    """Days of [start, end] not final yet whose counters are still held (``end`` is today
    or earlier; no ``start``: as far back as the counters go)."""
    first = end - timedelta(days=conf.get("STATS_RETENTION_DAYS"))
    if start is not None:
        first = max(start, first)
    if final_through is not None:
        first = max(first, final_through + timedelta(days=1))
    return days_between(first, end) if first <= end else []


@dataclass(frozen=True)
class StoredTotals:
    filled_through: date | None
    total_pv: int
    articles: int
    comments: int


def _load_stored_totals() -> StoredTotals:
    final_through, total_pv = final_totals()
    counts = public_counts()
    return StoredTotals(
        filled_through=final_through, total_pv=total_pv, articles=counts.articles, comments=counts.comments
    )


def stored_totals(request=None) -> StoredTotals:
    """What the sidebar needs besides the live counters: the final totals (changed only by
    a rollup) and the core's counts of public articles and comments, kept under the
    versions of those scopes."""
    return caching.value(
        "stats:stored-totals",
        scopes=("stats", "articles", "comments"),
        build=_load_stored_totals,
        request=request,
    )


@dataclass(frozen=True)
class SiteNumbers:
    today: Figures | None  # None: the counters cannot be read right now
    total_pv: int
    articles: int
    comments: int


def site_numbers(request=None) -> SiteNumbers:
    """Today's PV and UV, total PV, articles and comments: one counter round trip when warm."""
    stored = stored_totals(request)
    today = timezone.localdate()
    try:
        live = get_backend().site_figures(live_days(stored.filled_through, None, today))
    except RedisError as exc:
        # Once per page view: the "redis" breaker logs the outage (once each way) instead.
        log.debug("Stats: live counters unavailable for the sidebar: %r", exc)
        return SiteNumbers(None, stored.total_pv, stored.articles, stored.comments)
    return SiteNumbers(
        today=live.get(today, Figures()),
        total_pv=stored.total_pv + sum(figures.pv for figures in live.values()),
        articles=stored.articles,
        comments=stored.comments,
    )


def cached_filled_through(request=None) -> date | None:
    """The last day rolled up: changed only by a rollup, which bumps the ``stats`` scope."""
    return caching.value("stats:filled-through", scopes=("stats",), build=filled_through, request=request)


def live_article_views(article_ids: list[int], request=None) -> dict[int, int]:
    """The views of these articles not yet in their ``view_count``: every day after the
    last rollup that the counters still hold (normally today), as the Traffic page counts
    them. One counter read (a Redis round trip, or a query on the database backend)."""
    backend = get_backend()
    final_through = None if backend.knows_final_days else cached_filled_through(request)
    try:
        return backend.article_views(live_days(final_through, None, timezone.localdate()), list(article_ids))
    except RedisError as exc:  # the rolled-up counts are shown meanwhile
        log.debug("Stats: live counters unavailable for view counts: %r", exc)
        return {}


@dataclass(frozen=True)
class DayRow:
    date: date
    pv: int
    uv: int
    live: bool


@dataclass(frozen=True)
class ArticleRow:
    article: Article
    pv: int
    visitor_days: int  # daily unique visitors added up over the period


@dataclass(frozen=True)
class Traffic:
    start: date
    end: date
    days: list[DayRow]
    top_articles: list[ArticleRow]
    total_pv: int  # all time, live
    filled_through: date | None
    counters_unavailable: bool = False  # Redis down: the days not rolled up yet show nothing

    @property
    def period_pv(self) -> int:
        return sum(row.pv for row in self.days)

    @property
    def period_visitor_days(self) -> int:
        return sum(row.uv for row in self.days)

    @property
    def average_uv(self) -> float:
        return self.period_visitor_days / len(self.days) if self.days else 0.0

    @property
    def peak(self) -> DayRow | None:
        busiest = max(self.days, key=lambda row: (row.pv, row.date), default=None)
        return busiest if busiest is not None and busiest.pv else None


def traffic(*, days: int, top: int = 10) -> Traffic:
    """The dashboard's figures for the last ``days`` local days, today included.

    A fixed number of queries whatever the period or the number of articles: the fill
    state, the stored days, the all-time sum, the stored article sums, the top articles'
    titles, plus two counter reads per live day (normally one: today).
    """
    end = timezone.localdate()
    start = end - timedelta(days=days - 1)
    final_through = filled_through()
    stored_days = {}
    article_totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    total_pv = 0
    if final_through is not None:
        stored_days = {
            row.date: row for row in DailyStat.objects.filter(date__range=(start, min(end, final_through)))
        }
        total_pv = DailyStat.objects.filter(date__lte=final_through).aggregate(total=Sum("pv"))["total"] or 0
        sums = (
            ArticleDailyStat.objects.filter(date__range=(start, min(end, final_through)))
            .order_by()
            .values("article_id")
            .annotate(pv=Sum("pv"), uv=Sum("uv"))
            .values_list("article_id", "pv", "uv")
        )
        for article_id, pv, uv in sums:
            article_totals[article_id] = [pv, uv]
    backend = get_backend()
    held = live_days(final_through, None, end)
    earlier, live, unavailable = {}, {}, False
    try:
        # Live days before the period (a rollup far behind) still belong to the all-time total.
        earlier = backend.site_figures([day for day in held if day < start])
        snapshots = [backend.snapshot(day) for day in held if day >= start]
    except RedisError as exc:
        log.warning("Stats: live counters unavailable for the dashboard: %r", exc)
        snapshots, earlier, unavailable = [], {}, True
    for snapshot in snapshots:
        if snapshot is None:
            continue
        live[snapshot.date] = snapshot.site
        for article_id, figures in snapshot.articles.items():
            article_totals[article_id][0] += figures.pv
            article_totals[article_id][1] += figures.uv
    total_pv += sum(figures.pv for figures in [*live.values(), *earlier.values()])
    rows = []
    for day in days_between(start, end):
        if day in live:
            rows.append(DayRow(day, live[day].pv, live[day].uv, live=True))
        elif day in stored_days:
            rows.append(DayRow(day, stored_days[day].pv, stored_days[day].uv, live=False))
        else:
            # No view yet on a day still counting; older days had none, and are not "live".
            rows.append(DayRow(day, 0, 0, live=day in held))
    ranked = sorted(article_totals.items(), key=lambda item: (-item[1][0], item[0]))[: top * 2]
    articles = Article.objects.only("title", "slug").in_bulk([article_id for article_id, _totals in ranked])
    top_rows = [
        ArticleRow(articles[article_id], pv, uv)
        for article_id, (pv, uv) in ranked
        if article_id in articles and pv > 0
    ][:top]
    return Traffic(
        start=start,
        end=end,
        days=rows,
        top_articles=top_rows,
        total_pv=total_pv,
        filled_through=final_through,
        counters_unavailable=unavailable,
    )
