"""Writes of the stats app: counting a page view, and the daily rollup.

The rollup turns the live counters (Redis or the database backend) into ``DailyStat`` and
``ArticleDailyStat`` rows. It is safe to run any number of times, at once or in a row:

- a lock (Redis, or the cache) lets one run go ahead and turns the others away at once;
- the ``FillState`` row is locked for the planning step, so even two runs that both got a
  lock (one expired) run one after the other, and the second finds nothing left to do;
- rows hold **absolute** numbers written by upsert, so a rerun writes the same rows again;
- ``Article.view_count`` is recomputed as a sum of final rows, never incremented.

A finished day (before today) is final once rolled up, and ``FillState.filled_through``
moves forward over consecutive final days. Today may be rolled up on request (running
figures, overwritten later); it never counts as final. Live totals add the counters of
the days after ``filled_through`` to the stored numbers (see ``selectors.py``), so they
are exact whether or not the rollup has run yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Func, OuterRef, Subquery, Sum
from django.utils import timezone

from articles.models import Article
from blog_project.caching import bump_on_commit

from . import conf
from .backends import DaySnapshot, get_backend
from .models import ArticleDailyStat, DailyStat, FillState

log = logging.getLogger(__name__)


@dataclass
class DayResult:
    date: date
    written: bool
    pv: int = 0
    uv: int = 0
    articles: int = 0


@dataclass
class RollupResult:
    locked: bool = False
    days: list[DayResult] = field(default_factory=list)
    filled_through: date | None = None
    view_counts_changed: int = 0

    @property
    def days_written(self) -> int:
        return sum(1 for day in self.days if day.written)

    def summary(self) -> str:
        if self.locked:
            return "skipped: another rollup holds the lock"
        return (
            f"rolled up {self.days_written} day(s) of {len(self.days)} planned, final through "
            f"{self.filled_through}, {self.view_counts_changed} view count(s) changed"
        )


def page_view_record(*, day: date, visitor: str, article_id: int | None = None) -> None:
    """Count one page view of the site (and of an article) on a local day."""
    get_backend().record(day=day, visitor=visitor, article_id=article_id)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


FINAL_TOTALS_KEY = "stats:final-totals"


def _final_totals_from_db() -> tuple[date | None, int]:
    # SUM as a plain function: an aggregate over the whole subquery, with no GROUP BY.
    final_pv = (
        DailyStat.objects.filter(date__lte=OuterRef("filled_through"))
        .annotate(total=Func(F("pv"), function="SUM"))
        .values("total")[:1]
    )
    state = (
        FillState.objects.filter(name=FillState.DAILY)
        .annotate(total_pv=Subquery(final_pv))
        .values_list("filled_through", "total_pv")
        .first()
    )
    final_through, total_pv = state or (None, 0)
    return final_through, (total_pv or 0) if final_through else 0


def final_totals() -> tuple[date | None, int]:
    """(final through, total PV of the final days): changes only when a rollup runs, so it
    is kept in the shared cache until the next one (``refresh_final_totals``)."""
    totals = cache.get(FINAL_TOTALS_KEY)
    if totals is None:
        totals = _final_totals_from_db()
        # add, not set: a rollup that committed meanwhile has stored newer figures.
        cache.add(FINAL_TOTALS_KEY, totals, timeout=None)
    return totals


def refresh_final_totals() -> None:
    cache.set(FINAL_TOTALS_KEY, _final_totals_from_db(), timeout=None)


def _locked_state() -> FillState:
    FillState.objects.get_or_create(name=FillState.DAILY)
    return FillState.objects.select_for_update().get(name=FillState.DAILY)


def _pending_days(state: FillState, today: date) -> list[date]:
    """Finished days not yet final that the counters can still hold."""
    oldest_held = today - timedelta(days=conf.get("STATS_RETENTION_DAYS"))
    first = oldest_held
    if state.filled_through is not None:
        first = max(oldest_held, state.filled_through + timedelta(days=1))
        if state.filled_through + timedelta(days=1) < oldest_held:
            log.warning(
                "Stats rollup: days %s to %s were never rolled up and their counters have expired.",
                state.filled_through + timedelta(days=1),
                oldest_held - timedelta(days=1),
            )
    return days_between(first, today - timedelta(days=1))


def _upsert_options(model, unique_fields: list[str]) -> dict:
    options = {"update_conflicts": True, "update_fields": ["pv", "uv", "updated_at"]}
    # MySQL/MariaDB's ON DUPLICATE KEY UPDATE takes no conflict target.
    if connection.features.supports_update_conflicts_with_target:
        options["unique_fields"] = unique_fields
    return options


def _write_day(snapshot: DaySnapshot) -> DayResult:
    day = snapshot.date
    daily = DailyStat(date=day, pv=snapshot.site.pv, uv=snapshot.site.uv)
    daily.full_clean(validate_unique=False, validate_constraints=False)
    DailyStat.objects.bulk_create([daily], **_upsert_options(DailyStat, ["date"]))
    # Articles deleted since they were read have nothing left to hold their numbers.
    existing = set(Article.objects.filter(pk__in=list(snapshot.articles)).values_list("pk", flat=True))
    rows = []
    for article_id, figures in snapshot.articles.items():
        if article_id in existing:
            row = ArticleDailyStat(article_id=article_id, date=day, pv=figures.pv, uv=figures.uv)
            row.full_clean(exclude=["article"], validate_unique=False, validate_constraints=False)
            rows.append(row)
    ArticleDailyStat.objects.bulk_create(
        rows, batch_size=500, **_upsert_options(ArticleDailyStat, ["article", "date"])
    )
    return DayResult(date=day, written=True, pv=daily.pv, uv=daily.uv, articles=len(rows))


def _advance(state: FillState, day: date, today: date, *, catching_up: bool) -> None:
    """Move the high-water mark over ``day`` if it makes every day up to it final.

    A catch-up plans every day still recoverable, in order, so each one it finishes is
    the new mark (days before the retention window are gone for good). A backfill only
    moves the mark over the day right after it.
    """
    if day >= today:
        return
    if catching_up:
        state.filled_through = max(day, state.filled_through or day)
    elif state.filled_through is not None and day == state.filled_through + timedelta(days=1):
        state.filled_through = day


def article_view_counts_sync(*, filled_through: date | None) -> int:
    """Set every ``Article.view_count`` to the sum of its final daily rows.

    Absolute, so a rerun changes nothing, and a count overwritten by an editor saving a
    form loaded before the rollup is put right by the next one. Returns how many changed.
    """
    totals: dict[int, int] = {}
    if filled_through is not None:
        totals = dict(
            ArticleDailyStat.objects.filter(date__lte=filled_through)
            .order_by()
            .values("article_id")
            .annotate(total=Sum("pv"))
            .values_list("article_id", "total")
        )
    changed = [
        Article(pk=pk, view_count=totals.get(pk, 0))
        for pk, current in Article.objects.order_by().values_list("pk", "view_count")
        if current != totals.get(pk, 0)
    ]
    Article.objects.bulk_update(changed, ["view_count"], batch_size=500)
    return len(changed)


def stats_rollup(
    *,
    start: date | None = None,
    end: date | None = None,
    progress: Callable[[DayResult], None] | None = None,
) -> RollupResult:
    """Roll up the pending finished days, or the days from ``start`` to ``end``.

    Raises ``ValueError`` for a range that is reversed or reaches past today; Redis and
    database errors propagate (the task retries, the command reports them).
    """
    today = timezone.localdate()
    if (start is None) != (end is None):
        raise ValueError("Give both the first and the last day, or neither.")
    if start is not None and end is not None:
        if start > end:
            raise ValueError("The first day is after the last day.")
        if end > today:
            raise ValueError("The last day is in the future.")
    backend = get_backend()
    result = RollupResult()
    with backend.lock("rollup", conf.get("STATS_LOCK_SECONDS")) as acquired:
        if not acquired:
            result.locked = True
            return result
        catching_up = start is None
        with transaction.atomic():
            state = _locked_state()
            days = _pending_days(state, today) if catching_up else days_between(start, end)
        for day in days:
            with transaction.atomic():
                state = _locked_state()
                if catching_up and state.filled_through is not None and day <= state.filled_through:
                    continue  # another run finished it meanwhile
                snapshot = backend.snapshot(day)
                outcome = _write_day(snapshot) if snapshot else DayResult(date=day, written=False)
                _advance(state, day, today, catching_up=catching_up)
                state.save(update_fields=["filled_through"])
            result.days.append(outcome)
            if progress is not None:
                progress(outcome)
        with transaction.atomic():
            state = _locked_state()
            state.last_run_at = timezone.now()
            state.save(update_fields=["last_run_at"])
            result.filled_through = state.filled_through
            result.view_counts_changed = article_view_counts_sync(filled_through=state.filled_through)
            if result.days_written or result.view_counts_changed:
                bump_on_commit("stats")
        refresh_final_totals()
        backend.purge(before=today - timedelta(days=conf.get("STATS_RETENTION_DAYS")))
    log.info("Stats rollup: %s", result.summary())
    return result
