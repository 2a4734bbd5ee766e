"""Admin change lists that cost the same at 1,000 and at 1,000,000 rows.

Django's change list counts every matching row (twice: filtered and in total), fetches a
page with ``LIMIT ... OFFSET`` over whole rows, finds the date hierarchy's years, months
and days with ``SELECT DISTINCT`` over every row, and breaks ordering ties with ``-pk``
whatever the column's direction. Each of those is a full scan or a sort of the table once
it is large. Here:

- ``LargeTablePaginator`` counts at most ``COUNT_LIMIT`` rows (``10,000+``); a whole
  table is counted by the database's own statistics (``~1,000,000``); a page is read as
  primary keys first (an index-only scan, however deep the page) and then those rows;
- ``IndexedChangeList`` breaks ties with the primary key in the column's own direction,
  so an index on ``(column)`` (InnoDB appends the key) serves both directions; and finds
  the date hierarchy's choices with one ``EXISTS`` probe per candidate period, in one
  query, each an index range;
- ``LargeListAdminMixin`` puts these together and turns off the full result count.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Paginator
from django.db import connections, models
from django.utils import timezone
from django.utils.functional import cached_property

COUNT_LIMIT = 10_000
# A search scans until it has counted this many matches: less for a search.
SEARCH_COUNT_LIMIT = 1_000
# Beyond this many candidate periods the hierarchy falls back to Django's own query.
MAX_PROBES = 120


class ResultCount(int):
    """A change list's number of rows, as the admin prints it.

    The admin writes ``cl.result_count`` into the paginator line and the actions bar
    ("Select all 10,000+ comments", "All ~960,000 selected") and compares it with the page
    size; as an ``int`` it works everywhere, and it says itself how exact it is.
    """

    exact: bool = True
    estimated: bool = False

    def __new__(cls, value: int, *, capped: bool = False, estimated: bool = False) -> ResultCount:
        count = super().__new__(cls, value)
        count.exact = not (capped or estimated)
        count.estimated = estimated
        return count

    def __str__(self) -> str:
        if self.estimated:
            return f"~{int(self):,}"
        if not self.exact:
            return f"{int(self):,}+"
        return str(int(self))


def table_estimate(model: type[models.Model], using: str) -> int | None:
    """The number of rows of a whole table, from the database's statistics (MySQL and
    MariaDB keep an estimate, usually within a few percent); exact on SQLite, where
    counting an embedded site's table is cheap."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        return model._default_manager.using(using).count()
    if connection.vendor != "mysql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = %s",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else None


class LargeTablePaginator(Paginator):
    """Counts at most ``count_limit`` rows and reads a page as keys first.

    Past the limit, the list offers the first ``count_limit`` rows in its order (the
    editor narrows it with a filter, a search or the date hierarchy); an unfiltered list
    offers every page of the estimated total.
    """

    def __init__(self, *args, count_limit: int = COUNT_LIMIT, capped: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.count_limit = count_limit
        self.capped = capped

    @cached_property
    def count(self) -> ResultCount:
        queryset = self.object_list
        assert isinstance(queryset, models.QuerySet)  # the admin paginates querysets
        counted = queryset.order_by().values("pk")[: self.count_limit + 1].count()
        if counted <= self.count_limit:
            return ResultCount(counted, capped=self.capped)
        if not queryset.query.where:
            estimate = table_estimate(queryset.model, queryset.db)
            if estimate is not None:
                if connections[queryset.db].vendor == "sqlite":
                    return ResultCount(estimate)
                return ResultCount(max(estimate, counted), estimated=True)
        return ResultCount(self.count_limit, capped=True)

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            if self.count.estimated:
                return int(number)  # an estimate may be short: page() finds out
            raise

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        # Keys first: on a secondary index the skipped rows are never read, only its
        # entries (which hold the primary key). Then the page's own rows, by key.
        keys = list(self.object_list.values_list("pk", flat=True)[bottom : bottom + self.per_page])
        if not keys and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return self._get_page(rows_by_keys(self.object_list, keys), number, self)


def rows_by_keys(queryset: models.QuerySet, keys: list) -> models.QuerySet:
    """The rows of ``keys`` loaded as ``queryset`` loads them (related rows, deferred
    columns, prefetches, order), without its filters: they chose the keys already, and
    repeated beside a list of keys they only tempt the optimizer into a worse plan."""
    if queryset.query.annotations or queryset.query.extra or queryset.query.combinator:
        return queryset.filter(pk__in=keys)
    rows = queryset.model._default_manager.db_manager(queryset.db).filter(pk__in=keys)
    rows = rows.order_by(*queryset.query.order_by)
    rows.query.select_related = queryset.query.select_related
    rows.query.deferred_loading = queryset.query.deferred_loading
    # A QuerySet's own (private) record of its prefetch_related() lookups; not in the stubs.
    return rows.prefetch_related(*queryset._prefetch_related_lookups)  # type: ignore[attr-defined]


class IndexedDatesQuerySet(models.QuerySet):
    """``dates()`` and ``datetimes()`` as the admin's date hierarchy asks them, answered by
    index probes instead of ``SELECT DISTINCT`` over every row."""

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None, is_dst=None):
        buckets = self._buckets(field_name, kind, tzinfo or timezone.get_current_timezone(), aware=True)
        if buckets is None:
            return super().datetimes(field_name, kind, order=order, tzinfo=tzinfo)
        return self._probe(field_name, buckets, order)

    def dates(self, field_name, kind, order="ASC"):
        buckets = self._buckets(field_name, kind, None, aware=False)
        if buckets is None:
            return super().dates(field_name, kind, order=order)
        return self._probe(field_name, buckets, order)

    def aggregate(self, *args, **kwargs):
        first, last = kwargs.get("first"), kwargs.get("last")
        if not (isinstance(first, models.Min) and isinstance(last, models.Max) and len(kwargs) == 2) or args:
            return super().aggregate(*args, **kwargs)
        # The date hierarchy's first and last date: the two ends of an index, each found
        # by an ordered probe that stops at the first match (MIN/MAX of a filtered list
        # reads every matching row); kept for the periods asked next.
        field_name = first.source_expressions[0].name
        span = self._span(field_name)
        self._date_spans = {**getattr(self, "_date_spans", {}), field_name: span}
        return span

    def _span(self, field_name) -> dict:
        if field_name in getattr(self, "_date_spans", {}):
            return self._date_spans[field_name]
        base = self.order_by()
        ends = [
            base.order_by(field_name, "pk").values(field_name)[:1],
            base.order_by(f"-{field_name}", "-pk").values(field_name)[:1],
        ]
        row = self._select(ends)
        if row is None:
            return {"first": None, "last": None}
        field = self.model._meta.get_field(field_name)
        column = field.get_col(self.model._meta.db_table)
        connection = connections[self.db]
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        values = []
        for value in row:
            for converter in converters:
                value = converter(value, column, connection)
            values.append(value)
        return {"first": values[0], "last": values[1]}

    def _select(self, subqueries: list[models.QuerySet], *, wrap: str = "({})") -> tuple | None:
        """One ``SELECT`` of several ORM-compiled scalar subqueries (None: the filters can
        match nothing, e.g. ``pk__in=[]``)."""
        parts, params = [], []
        for sub in subqueries:
            try:
                sql, sub_params = sub.query.get_compiler(using=self.db).as_sql()
            except EmptyResultSet:
                return None
            parts.append(wrap.format(sql))
            params.extend(sub_params)
        with connections[self.db].cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(parts)}", params)
            return cursor.fetchone()

    def _buckets(self, field_name, kind, tz, *, aware: bool):
        if kind not in ("year", "month", "day"):
            return None
        span = self._span(field_name)
        first, last = span["first"], span["last"]
        if first is None or last is None:
            return []
        if aware:
            first, last = timezone.localtime(first, tz).date(), timezone.localtime(last, tz).date()
        starts = []
        day = _truncate(first, kind)
        while day <= last:
            starts.append(day)
            day = _next(day, kind)
            if len(starts) > MAX_PROBES:
                return None
        if not aware:
            return [(start, _next(start, kind), start) for start in starts]
        bounds = []
        for start in starts:
            low = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
            high = timezone.make_aware(dt.datetime.combine(_next(start, kind), dt.time.min), tz)
            bounds.append((low, high, low))
        return bounds

    def _probe(self, field_name, buckets, order):
        if not buckets:
            return []
        base = self.order_by()
        probes = [
            base.filter(**{f"{field_name}__gte": low, f"{field_name}__lt": high}).values("pk")[:1]
            for low, high, _label in buckets
        ]
        found = self._select(probes, wrap="EXISTS ({})")
        if found is None:
            return []
        labels = [label for (_low, _high, label), hit in zip(buckets, found, strict=True) if hit]
        return labels if order == "ASC" else labels[::-1]


def _truncate(day: dt.date, kind: str) -> dt.date:
    if kind == "year":
        return day.replace(month=1, day=1)
    if kind == "month":
        return day.replace(day=1)
    return day


def _next(day: dt.date, kind: str) -> dt.date:
    if kind == "year":
        return day.replace(year=day.year + 1)
    if kind == "month":
        return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return day + dt.timedelta(days=1)


@functools.cache
def _indexed_dates_class(queryset_class: type[models.QuerySet]) -> type[models.QuerySet]:
    return type(f"IndexedDates{queryset_class.__name__}", (IndexedDatesQuerySet, queryset_class), {})


def with_indexed_dates(queryset: models.QuerySet) -> models.QuerySet:
    """The same queryset, whose ``dates()``/``datetimes()`` probe an index (its clones keep
    the class, so filters applied later keep it too)."""
    clone = queryset._chain()  # type: ignore[attr-defined]  # Django's clone keeping state; not in the stubs
    clone.__class__ = _indexed_dates_class(type(queryset))
    return clone


class IndexedChangeList(ChangeList):
    def get_ordering(self, request, queryset):
        # A column the editor sorts by is followed by the primary key only (Django adds the
        # admin's default order after it, which no index on the column can serve) ...
        if self.params.get(ORDER_VAR):
            queryset = queryset.order_by()
        ordering = super().get_ordering(request, queryset)
        # ... and Django breaks ties by "-pk" whatever the direction of the column before
        # it; the same direction lets one index on (column) + its key serve both ways.
        if (
            len(ordering) >= 2
            and ordering[-1] == "-pk"
            and isinstance(ordering[-2], str)
            and not ordering[-2].startswith("-")
        ):
            ordering[-1] = "pk"
        return ordering

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        if self.query and getattr(self.model_admin, "search_is_full_text", False):
            # A full-text search narrowed the list: Django's own dates() read its matches
            # in one pass, where a probe per period would search the index again each time.
            return queryset
        return with_indexed_dates(queryset)


class LargeListAdminMixin:
    """For the ModelAdmin of a table that grows without bound."""

    paginator: type[Paginator] = LargeTablePaginator
    show_full_result_count = False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        limit = SEARCH_COUNT_LIMIT if request.GET.get("q", "").strip() else COUNT_LIMIT
        # A search that stopped collecting matches at its limit says so (get_search_results).
        capped = getattr(request, "admin_search_capped", False)
        return self.paginator(
            queryset, per_page, orphans, allow_empty_first_page, count_limit=limit, capped=capped
        )

    def get_changelist(self, request, **kwargs):
        return IndexedChangeList
