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

from django.db.models import F, Sum
from django.utils import timezone
from redis.exceptions import RedisError

from articles.models import Article
from articles.selectors import public_counts
from blog_project import caching

from . import conf
from .backends import Figures, get_backend
from .models import PERIODS, ArticleDailyStat, ArticleTraffic, DailyStat, FillState, TrafficTop
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


def stored_totals() -> StoredTotals:
    """What the sidebar needs besides the live counters: the final totals (changed only by
    a rollup) and the core's counts of public articles and comments, kept under the
    versions of those scopes."""
    return caching.value(
        "stats:stored-totals",
        scopes=("stats", "articles", "comments"),
        build=_load_stored_totals,
    )


@dataclass(frozen=True)
class SiteNumbers:
    today: Figures | None  # None: the counters cannot be read right now
    total_pv: int
    articles: int
    comments: int


def site_numbers() -> SiteNumbers:
    """Today's PV and UV, total PV, articles and comments: one counter round trip when warm."""
    stored = stored_totals()
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


def cached_filled_through() -> date | None:
    """The last day rolled up: changed only by a rollup, which bumps the ``stats`` scope."""
    return caching.value("stats:filled-through", scopes=("stats",), build=filled_through)


def live_article_views(article_ids: list[int]) -> dict[int, int]:
    """The views of these articles not yet in their ``view_count``: every day after the
    last rollup that the counters still hold (normally today), as the Traffic page counts
    them. One counter read (a Redis round trip, or a query on the database backend)."""
    backend = get_backend()
    final_through = None if backend.knows_final_days else cached_filled_through()
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

    A bounded number of queries whatever the number of articles: the fill state, the
    stored days, the all-time total (cached between rollups), the live days' site figures
    in one counter round trip, and the top articles (``top_articles``; none for ``top=0``).
    """
    end = timezone.localdate()
    start = end - timedelta(days=days - 1)
    final_through, sums_through = FillState.objects.filter(name=FillState.DAILY).values_list(
        "filled_through", "sums_through"
    ).first() or (None, None)
    stored_days = {}
    if final_through is not None:
        stored_days = {
            row.date: row for row in DailyStat.objects.filter(date__range=(start, min(end, final_through)))
        }
    cached_through, total_pv = final_totals()
    if cached_through != final_through:  # a rollup committed since: read it afresh
        total_pv = 0
        if final_through is not None:
            total_pv = (
                DailyStat.objects.filter(date__lte=final_through).aggregate(total=Sum("pv"))["total"] or 0
            )
    backend = get_backend()
    held = live_days(final_through, None, end)
    live, unavailable = {}, False
    try:
        live = {day: figures for day, figures in backend.site_figures(held).items() if figures.pv}
    except RedisError as exc:
        log.warning("Stats: live counters unavailable for the dashboard: %r", exc)
        unavailable = True
    total_pv += sum(figures.pv for figures in live.values())
    rows = []
    for day in days_between(start, end):
        if day in live:
            rows.append(DayRow(day, live[day].pv, live[day].uv, live=True))
        elif day in stored_days:
            rows.append(DayRow(day, stored_days[day].pv, stored_days[day].uv, live=False))
        else:
            # No view yet on a day still counting; older days had none, and are not "live".
            rows.append(DayRow(day, 0, 0, live=day in held))
    live_in_period = [day for day in held if day >= start and day in live]
    top_rows = []
    if top:
        stored = _stored_source(start, end, final_through, sums_through)
        top_rows = top_articles(start, end, final_through, live_in_period, top, stored=stored)
    return Traffic(
        start=start,
        end=end,
        days=rows,
        top_articles=top_rows,
        total_pv=total_pv,
        filled_through=final_through,
        counters_unavailable=unavailable,
    )


# Depth of the first look at each ranked list; it doubles until the answer is certain.
FIRST_DEPTH = 50
MAX_DEPTH = 20_000


def top_articles(
    start: date,
    end: date,
    final_through: date | None,
    live: list[date],
    top: int,
    *,
    stored: _StoredSums | None,
) -> list[ArticleRow]:
    """The ``top`` most read articles of ``start``..``end``, with exact figures.

    Each source is a list ranked by page views: the stored sums of the period (their most
    read are kept in ``TrafficTop``) and each live day's counters.
    Reading each list to a depth k gives candidates whose exact totals are then looked up;
    an article not seen in any list has at most the sum of the k-th values (the threshold
    algorithm), so once the ``top``-th candidate reaches it nobody unseen can pass it (an
    equal one may; ties at the cut are in no particular order). Otherwise k doubles.
    Normally one round: the stored list, the candidates' sums and titles, and per live day
    its list and the visitors of the articles shown.
    """
    if stored is None:
        return _top_articles_by_scan(start, end, final_through, live, top)
    backend = get_backend()
    depth = max(FIRST_DEPTH, 4 * top)
    while True:
        stored_ranked = stored.ranked(depth)
        live_ranked = {day: backend.top_articles(day, depth) for day in live}
        ranked = [stored_ranked, *live_ranked.values()]
        candidates = sorted({article_id for ranked_list in ranked for article_id, _pv in ranked_list})
        found = stored.figures(candidates)  # article, stored pv and uv, for those that exist
        totals = {article_id: pv for article_id, (_article, pv, _uv) in found.items()}
        live_pvs = {}
        for day, ranked_list in live_ranked.items():
            # A list read to its end holds every article read that day.
            pvs = dict(ranked_list) if len(ranked_list) < depth else backend.article_pvs(day, list(found))
            live_pvs[day] = pvs
            for article_id, pv in pvs.items():
                if article_id in totals:
                    totals[article_id] += pv
        best = sorted(
            ((pv, article_id) for article_id, pv in totals.items() if pv > 0),
            key=lambda item: (-item[0], item[1]),
        )[:top]
        exhausted = all(len(ranked_list) < depth for ranked_list in ranked)
        threshold = sum(ranked_list[-1][1] for ranked_list in ranked if len(ranked_list) == depth)
        if exhausted or (len(best) == top and best[-1][0] >= threshold) or depth >= MAX_DEPTH:
            break
        depth *= 2
    shown = [article_id for _pv, article_id in best]
    visitors = {article_id: found[article_id][2] for article_id in shown}
    for day in live:
        read = [article_id for article_id in shown if article_id in live_pvs[day]]
        for article_id, uv in backend.article_visitors(day, read).items():
            visitors[article_id] += uv
    return [ArticleRow(found[article_id][0], pv, visitors[article_id]) for pv, article_id in best]


class _StoredSums:
    """The stored part of a period, read from ``ArticleTraffic``: its column holds the
    days - 1 final days through the sums' day; when the rollup is behind, the days
    before the period it also holds are taken away per candidate."""

    def __init__(self, days: int, extra: tuple[date, date] | None, *, empty: bool = False) -> None:
        self.days = days
        self.pv, self.uv = f"pv_{days}", f"uv_{days}"
        self.extra = extra
        self.empty = empty

    def ranked(self, depth: int) -> list[tuple[int, int]]:
        """The most read articles by their stored sums (an upper bound of each article's
        stored part, exact without extra days), most first."""
        if self.empty:
            return []
        if depth <= TrafficTop.KEPT:  # the list the rollup keeps
            ranked = TrafficTop.objects.filter(days=self.days).order_by("-pv", "-article_id")
            return list(ranked.values_list("article_id", "pv")[:depth])
        # Deeper than that (rare: many articles nearly tied): a pass over the sums.
        return list(
            ArticleTraffic.objects.filter(**{f"{self.pv}__gt": 0})
            .order_by(f"-{self.pv}", "-article_id")
            .values_list("article_id", self.pv)[:depth]
        )

    def figures(self, ids: list[int]) -> dict[int, tuple[Article, int, int]]:
        """Each existing article of ``ids`` (title and slug) with its stored pv and uv."""
        if not ids:
            return {}
        articles = Article.objects.filter(pk__in=ids).only("title", "slug")
        if not self.empty:
            articles = articles.annotate(
                stored_pv=F(f"traffic__{self.pv}"), stored_uv=F(f"traffic__{self.uv}")
            )
        found = {
            article.pk: (
                article,
                getattr(article, "stored_pv", 0) or 0,
                getattr(article, "stored_uv", 0) or 0,
            )
            for article in articles
        }
        if self.extra is not None and found:
            before = (
                ArticleDailyStat.objects.filter(article_id__in=list(found), date__range=self.extra)
                .order_by()
                .values("article_id")
                .annotate(pv=Sum("pv"), uv=Sum("uv"))
                .values_list("article_id", "pv", "uv")
            )
            for article_id, pv, uv in before:
                article, stored_pv, stored_uv = found[article_id]
                found[article_id] = (article, stored_pv - pv, stored_uv - uv)
        return found


def _stored_source(
    start: date, end: date, final_through: date | None, sums_through: date | None
) -> _StoredSums | None:
    """The stored sums that cover this period's final days (None: none do: another
    period length, or sums not made through the daily mark yet)."""
    days = (end - start).days + 1
    if days not in PERIODS:
        return None
    if final_through is None:
        return _StoredSums(days, None, empty=True)  # nothing is final yet
    if sums_through != final_through or final_through >= end:
        return None
    window_start = final_through - timedelta(days=days - 2)
    if start <= window_start:
        return _StoredSums(days, None)
    # The rollup is behind: the column also holds final days before the period.
    return _StoredSums(days, (window_start, start - timedelta(days=1)))


def _top_articles_by_scan(
    start: date, end: date, final_through: date | None, live: list[date], top: int
) -> list[ArticleRow]:
    """The same answer by summing every article's rows of the period (a period other
    than the dashboard's, or before the first rollup made the sums)."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    if final_through is not None:
        sums = (
            ArticleDailyStat.objects.filter(date__range=(start, min(end, final_through)))
            .order_by()
            .values("article_id")
            .annotate(pv=Sum("pv"), uv=Sum("uv"))
            .values_list("article_id", "pv", "uv")
        )
        for article_id, pv, uv in sums:
            totals[article_id] = [pv, uv]
    backend = get_backend()
    for day in live:
        for batch in backend.article_batches(day, 10_000):
            for article_id, figures in batch.items():
                totals[article_id][0] += figures.pv
                totals[article_id][1] += figures.uv
    ranked = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))[: top * 2]
    articles = Article.objects.only("title", "slug").in_bulk([article_id for article_id, _totals in ranked])
    return [
        ArticleRow(articles[article_id], pv, uv)
        for article_id, (pv, uv) in ranked
        if article_id in articles and pv > 0
    ][:top]
