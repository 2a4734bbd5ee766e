"""Writes of the stats app: counting a page view, and the daily rollup.

The rollup turns the live counters (Redis or the database backend) into ``DailyStat`` and
``ArticleDailyStat`` rows. It is safe to run any number of times, at once or in a row:

- a lock (Redis, or the cache) lets one run go ahead and turns the others away at once;
- the ``FillState`` row is locked for the planning step, so even two runs that both got a
  lock (one expired) run one after the other, and the second finds nothing left to do;
- rows hold **absolute** numbers written by upsert, so a rerun writes the same rows again;
- ``ArticleTraffic`` holds per-article sums of the final rows (all time and the
  dashboard's periods); they move with the high-water mark and with every rewrite of a
  final row, in the same transaction, each by the difference between the new and the
  stored numbers, so they always equal the sums of the rows (a rerun changes nothing);
- ``Article.view_count`` is set from those all-time sums (absolute), never incremented.

At scale (a day on which 100,000 articles were read) the work is set-based: the counters
are read and written ``BATCH_SIZE`` articles at a time (one upsert per batch), the sums
move in one ``INSERT ... SELECT`` per day read, and the view counts in one ``UPDATE``; memory
holds the day's (article, views) pairs and one batch (about 10 MB at 100,000 articles read).

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
from django.db.models import F, Func, OuterRef, Subquery
from django.utils import timezone

from articles.models import Article
from blog_project.caching import bump_on_commit

from . import conf
from .backends import get_backend
from .models import PERIODS, ArticleDailyStat, ArticleTraffic, DailyStat, FillState, TrafficTop

BATCH_SIZE = 5_000

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


def _write_day(backend, day: date, *, sums_through: date | None) -> DayResult:
    """Write a day's site row and per-article rows from the counters, a batch at a time.

    A day the traffic sums already include (a rerun or backfill of a final day) moves
    them by the difference between the new rows and the stored ones."""
    site = backend.site_day(day)
    if site is None:
        return DayResult(date=day, written=False)
    daily = DailyStat(date=day, pv=site.pv, uv=site.uv)
    daily.full_clean(validate_unique=False, validate_constraints=False)
    DailyStat.objects.bulk_create([daily], **_upsert_options(DailyStat, ["date"]))
    in_sums = sums_through is not None and day <= sums_through
    written = 0
    # Articles deleted since they were read have nothing left to hold their numbers. Their
    # keys, read once from the smallest index (a few MB at 100,000 articles), spare a
    # look-up of every batch's keys in the table itself.
    existing = set(Article.objects.order_by().values_list("pk", flat=True))
    for batch in backend.article_batches(day, BATCH_SIZE):
        # Built from the counters' own integers: full_clean() (or model instances at all)
        # per row would cost more than the whole write at 100,000 rows.
        # In article order (as the batches come): the (article, date) index is written along
        # from one end to the other, each of its pages read and written once, not at random.
        rows = [
            (article_id, max(0, figures.pv), max(0, figures.uv))
            for article_id, figures in sorted(batch.items())
            if article_id in existing
        ]
        if in_sums and sums_through is not None:
            _traffic_rewrite(day, rows, sums_through)
        _upsert_article_rows(day, rows)
        written += len(rows)
    return DayResult(date=day, written=True, pv=daily.pv, uv=daily.uv, articles=written)


def _upsert_article_rows(day: date, rows: list[tuple[int, int, int]]) -> None:
    """Write (article_id, pv, uv) rows of a day, replacing stored ones: one statement."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(ArticleDailyStat._meta.db_table)
    columns = ("article_id", "date", "pv", "uv", "updated_at")
    replaced = ("pv", "uv", "updated_at")
    if connection.vendor == "mysql":
        updates = ", ".join(f"{quote(c)} = VALUES({quote(c)})" for c in replaced)
        conflict = f"ON DUPLICATE KEY UPDATE {updates}"
    else:  # SQLite and PostgreSQL
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in replaced)
        conflict = f"ON CONFLICT ({quote('article_id')}, {quote('date')}) DO UPDATE SET {updates}"
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES (%s, %s, %s, %s, %s) {conflict}"
    )
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    on_day = _sql_date(day)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(article_id, on_day, pv, uv, stamp) for article_id, pv, uv in rows])


# --- per-article sums (ArticleTraffic) ---------------------------------------------------

SUM_COLUMNS = ("pv_total", *(f"{kind}_{days}" for days in PERIODS for kind in ("pv", "uv")))


def _window_start(through: date, days: int) -> date:
    """First day of period ``days``'s stored part: the days - 1 final days up to ``through``
    (``_window``)."""
    return through - timedelta(days=days - 2)


def _sql_date(day: date):
    return connection.ops.adapt_datefield_value(day)


def _add_to_sums_sql(source_sql: str) -> str:
    """INSERT the rows of ``source_sql`` (article_id and one value per SUM_COLUMNS) into
    the sums, adding to a row that exists."""
    quote = connection.ops.quote_name
    table = quote(ArticleTraffic._meta.db_table)
    columns = ", ".join(quote(name) for name in ("article_id", *SUM_COLUMNS))
    if connection.vendor == "mysql":
        updates = ", ".join(
            f"{table}.{quote(c)} = {table}.{quote(c)} + VALUES({quote(c)})" for c in SUM_COLUMNS
        )
        conflict = f"ON DUPLICATE KEY UPDATE {updates}"
    else:  # SQLite and PostgreSQL
        updates = ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in SUM_COLUMNS)
        conflict = f"ON CONFLICT ({quote('article_id')}) DO UPDATE SET {updates}"
    return f"INSERT INTO {table} ({columns}) {source_sql} {conflict}"


def _traffic_rewrite(day: date, rows: list[tuple[int, int, int]], through: date) -> None:
    """Move the sums by (new - stored) for (article_id, pv, uv) rows of a day they include."""
    stored = {
        article_id: (pv, uv)
        for article_id, pv, uv in ArticleDailyStat.objects.filter(
            date=day, article_id__in=[article_id for article_id, _pv, _uv in rows]
        ).values_list("article_id", "pv", "uv")
    }
    deltas = []
    for article_id, pv, uv in rows:
        old_pv, old_uv = stored.get(article_id, (0, 0))
        if (pv, uv) == (old_pv, old_uv):
            continue
        values = [pv - old_pv]
        for days in PERIODS:
            inside = day >= _window_start(through, days)
            values += [pv - old_pv, uv - old_uv] if inside else [0, 0]
        deltas.append((article_id, *values))
    if deltas:
        placeholders = ", ".join(["%s"] * (len(SUM_COLUMNS) + 1))
        with connection.cursor() as cursor:
            cursor.executemany(_add_to_sums_sql(f"VALUES ({placeholders})"), deltas)


def _traffic_rebuild(through: date) -> None:
    """Sum every final row again (the first rollup after an upgrade, or a long gap)."""
    quote = connection.ops.quote_name
    rows = quote(ArticleDailyStat._meta.db_table)
    selected, params = ["SUM(pv)"], []
    for days in PERIODS:
        for kind in ("pv", "uv"):
            selected.append(f"SUM(CASE WHEN {quote('date')} >= %s THEN {quote(kind)} ELSE 0 END)")
            params.append(_sql_date(_window_start(through, days)))
    params.append(_sql_date(through))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quote(ArticleTraffic._meta.db_table)}")  # noqa: S608
        source = (
            f"SELECT article_id, {', '.join(selected)} FROM {rows} "  # noqa: S608
            f"WHERE {quote('date')} <= %s GROUP BY article_id"
        )
        cursor.execute(_add_to_sums_sql(source), params)


def _window(through: date, days: int) -> set[date]:
    return {through - timedelta(days=n) for n in range(days - 1)}


def _traffic_shift(old: date, new: date) -> None:
    """Move the sums from ``old`` to ``new`` (either way), reading only the days whose
    membership changes: a day the sums gain is added, a day they lose is taken away
    (normally: yesterday added, and each period's oldest day taken away)."""
    quote = connection.ops.quote_name
    date_col = quote("date")
    low, high = sorted((old, new))
    between = set(days_between(low + timedelta(days=1), high)) if low < high else set()
    changes = [("pv", between, set()) if new > old else ("pv", set(), between)]
    for days in PERIODS:
        gained, lost = _window(new, days) - _window(old, days), _window(old, days) - _window(new, days)
        changes += [("pv", gained, lost), ("uv", gained, lost)]
    read = sorted({day for _kind, gained, lost in changes for day in gained | lost})
    # One statement per day read (normally four: yesterday, and the oldest day of each
    # period), each an index range of that day's rows with the signed value of that day for
    # every column: no grouping, so no temporary table however many articles were read.
    table = quote(ArticleDailyStat._meta.db_table)
    with connection.cursor() as cursor:
        for day in read:
            values = []
            for kind, gained, lost in changes:
                values.append(quote(kind) if day in gained else f"-{quote(kind)}" if day in lost else "0")
            # (A WHERE clause: SQLite needs one in an INSERT ... SELECT ... ON CONFLICT.)
            source = f"SELECT article_id, {', '.join(values)} FROM {table} WHERE {date_col} = %s"  # noqa: S608
            cursor.execute(_add_to_sums_sql(source), [_sql_date(day)])


def _traffic_step(day: date) -> None:
    """Move the sums one day forward, to ``day`` (the nightly case), writing each article
    read that day once: its row of the day, with the rows of the days leaving each period
    joined beside it; then the leaving days of articles not read that day."""
    quote = connection.ops.quote_name
    table, date_col = quote(ArticleDailyStat._meta.db_table), quote("date")
    leaving = {days: day - timedelta(days=days - 1) for days in PERIODS}
    # The leaving days' rows are read from the (date, article, pv, uv) index alone; MariaDB
    # would otherwise take the unique (article, date) one and fetch every row besides.
    hint = "FORCE INDEX (stats_article_day_idx)" if connection.vendor == "mysql" else ""
    joins, values, params = [], ["d.pv"], []
    for days, left in leaving.items():
        on = f"l{days}.{date_col} = %s AND l{days}.article_id = d.article_id"
        joins.append(f"LEFT JOIN {table} l{days} {hint} ON {on}")
        params.append(_sql_date(left))
        values += [f"d.{kind} - COALESCE(l{days}.{kind}, 0)" for kind in ("pv", "uv")]
    source = (
        f"SELECT d.article_id, {', '.join(values)} FROM {table} d {' '.join(joins)} "  # noqa: S608
        f"WHERE d.{date_col} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(_add_to_sums_sql(source), [*params, _sql_date(day)])
        for days, left in leaving.items():
            values = ["0"]
            for other in PERIODS:
                values += ["-l.pv", "-l.uv"] if other == days else ["0", "0"]
            # (A join that finds nothing, not NOT EXISTS: MariaDB runs that subquery once
            # per row inside an INSERT ... SELECT.)
            unread = (
                f"SELECT l.article_id, {', '.join(values)} FROM {table} l {hint} "  # noqa: S608
                f"LEFT JOIN {table} d {hint} ON d.{date_col} = %s AND d.article_id = l.article_id "
                f"WHERE l.{date_col} = %s AND d.article_id IS NULL"
            )
            cursor.execute(_add_to_sums_sql(unread), [_sql_date(day), _sql_date(left)])


def _traffic_tops() -> None:
    """Remake each period's list of most read articles from the sums (a pass over the
    sums' narrow table per period; a few thousand rows written)."""
    quote = connection.ops.quote_name
    tops, sums = quote(TrafficTop._meta.db_table), quote(ArticleTraffic._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {tops}")  # noqa: S608
        for days in PERIODS:
            pv = quote(f"pv_{days}")
            cursor.execute(
                f"INSERT INTO {tops} (days, article_id, pv) SELECT %s, article_id, {pv} FROM {sums} "  # noqa: S608
                f"WHERE {pv} > 0 ORDER BY {pv} DESC, article_id DESC LIMIT %s",
                [days, TrafficTop.KEPT],
            )


def _traffic_follow(state: FillState, through: date | None, *, changed: bool = False) -> None:
    """Make the sums hold the final rows through ``through`` (the daily mark); ``state``
    is the locked daily FillState row, which records how far they go. The lists of most
    read articles follow them (also when ``changed``: rows they include were rewritten)."""
    old = state.sums_through
    if through is None or old == through:
        if changed:
            _traffic_tops()
        return
    if old is None or abs((through - old).days) > max(PERIODS):
        _traffic_rebuild(through)
    elif through == old + timedelta(days=1):
        _traffic_step(through)
    else:
        _traffic_shift(old, through)
    state.sums_through = through
    state.save(update_fields=["sums_through"])
    _traffic_tops()


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
    form loaded before the rollup is put right by the next one. One UPDATE from the
    all-time sums (only rows that differ are written). Returns how many changed.
    """
    with transaction.atomic():
        _traffic_follow(_locked_state(), filled_through)
        return _view_counts_from_sums(filled_through)


def _view_counts_from_sums(filled_through: date | None) -> int:
    quote = connection.ops.quote_name
    articles, sums = quote(Article._meta.db_table), quote(ArticleTraffic._meta.db_table)
    views = quote("view_count")
    with connection.cursor() as cursor:
        if filled_through is None:
            cursor.execute(f"UPDATE {articles} SET {views} = 0 WHERE {views} <> 0")  # noqa: S608
        elif connection.vendor == "mysql":
            cursor.execute(
                f"UPDATE {articles} a LEFT JOIN {sums} t ON t.article_id = a.id "  # noqa: S608
                f"SET a.{views} = COALESCE(t.pv_total, 0) WHERE a.{views} <> COALESCE(t.pv_total, 0)"
            )
        else:
            total = f"COALESCE((SELECT t.pv_total FROM {sums} t WHERE t.article_id = {articles}.id), 0)"  # noqa: S608
            cursor.execute(f"UPDATE {articles} SET {views} = {total} WHERE {views} <> {total}")  # noqa: S608
        return cursor.rowcount


def stats_rollup(
    *,
    start: date | None = None,
    end: date | None = None,
    progress: Callable[[DayResult], object] | None = None,
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
            days = _pending_days(state, today) if start is None or end is None else days_between(start, end)
        for day in days:
            with transaction.atomic():
                state = _locked_state()
                if catching_up and state.filled_through is not None and day <= state.filled_through:
                    continue  # another run finished it meanwhile
                in_sums = state.sums_through is not None and day <= state.sums_through
                outcome = _write_day(backend, day, sums_through=state.sums_through)
                _advance(state, day, today, catching_up=catching_up)
                state.save(update_fields=["filled_through"])
                _traffic_follow(state, state.filled_through, changed=in_sums and outcome.written)
            result.days.append(outcome)
            if progress is not None:
                progress(outcome)
        with transaction.atomic():
            state = _locked_state()
            state.last_run_at = timezone.now()
            state.save(update_fields=["last_run_at"])
            result.filled_through = state.filled_through
            _traffic_follow(state, state.filled_through)
            result.view_counts_changed = _view_counts_from_sums(state.filled_through)
            if result.days_written or result.view_counts_changed:
                bump_on_commit("stats")
        refresh_final_totals()
        backend.purge(before=today - timedelta(days=conf.get("STATS_RETENTION_DAYS")))
    log.info("Stats rollup: %s", result.summary())
    return result


def article_traffic_rebuild() -> int:
    """Every per-article sum and most-read list again from the final daily rows, then the
    view counts from them (``manage.py rebuild_derived``: after a restore, or rows changed
    in SQL). Runs with the fill state locked, so a rollup waits for it. Returns how many
    view counts changed."""
    with transaction.atomic():
        state = _locked_state()
        if state.filled_through is not None:
            _traffic_rebuild(state.filled_through)
            state.sums_through = state.filled_through
            state.save(update_fields=["sums_through"])
            _traffic_tops()
        changed = _view_counts_from_sums(state.filled_through)
        bump_on_commit("stats")
    refresh_final_totals()
    return changed
