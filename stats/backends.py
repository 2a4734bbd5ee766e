"""Where page views are counted until the daily rollup: Redis, or the database.

Both backends give the same answers through the same small interface:

- ``record(day=, visitor=, article_id=)`` counts one page view;
- ``snapshot(day)`` returns a day's site and per-article figures (None: nothing held);
- ``site_figures(days)`` returns the site's figures of a few days at once (live numbers);
- ``article_views(days, article_ids)`` returns the page views of some articles over the
  days not rolled up yet among ``days``, in one read (live view counts on pages and in the
  admin); ``knows_final_days`` says whether the backend leaves out the rolled-up days
  itself (the database, in the same query) or must be given only the others (Redis);
- ``lock(name, timeout)`` is a context manager yielding whether the lock was taken;
- ``purge(before=)`` forgets counters older than the retention window.

Redis: one pipeline per page view (INCR for the site's PV, PFADD into a HyperLogLog for
its UV, HINCRBY and PFADD for the article), every key expiring a fixed number of days
after the end of its day (EXPIREAT, so repeating it is harmless). HyperLogLog is exact in
practice for small numbers and within ~1% beyond.

Database: an atomic upsert of the PV rows and an insert-or-ignore of one row per visitor,
day and page; UV is the number of those rows. Exact, and fine for a single machine.

Redis calls go through the process's "redis" circuit breaker with short socket timeouts
(``BLOG_REDIS_TIMEOUT``): a hung or dead Redis costs one short wait per breaker interval,
and meanwhile every call raises ``CountersUnavailable`` (a ``RedisError``) at once, which
callers already handle (a view not counted, the dashboard without live figures, a rollup
retried later).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, DateField, F, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from redis.exceptions import LockError, RedisError

from blog_project.breaker import breaker
from blog_project.cache_client import OUTAGE_ERRORS

from . import conf
from .models import SITE, FillState, LiveCounter, LiveVisitor
from .visitors import visitor_digest

log = logging.getLogger(__name__)
T = TypeVar("T")


class CountersUnavailable(RedisError):
    """Redis did not answer, or its breaker is open: the live counters cannot be used now."""

    def __repr__(self) -> str:  # redis-py's own repr drops the message
        return f"CountersUnavailable({str(self)!r})"


@dataclass(frozen=True)
class Figures:
    pv: int = 0
    uv: int = 0


@dataclass
class DaySnapshot:
    date: date
    site: Figures
    articles: dict[int, Figures] = field(default_factory=dict)


def day_end(day: date) -> datetime:
    """The end of a local day (the next local midnight), as an aware datetime."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def guarded(call: Callable[[], T]) -> T:
    """``call()`` (which talks to Redis) through the "redis" breaker."""
    guard = breaker("redis")
    if not guard.allow():
        raise CountersUnavailable("Redis is not answering (circuit breaker open)")
    try:
        result = call()
    except OUTAGE_ERRORS as exc:
        guard.failure(exc)
        raise CountersUnavailable(f"{type(exc).__name__}: {exc}") from exc
    except BaseException:
        guard.success()  # Redis answered (an error reply), or a local error
        raise
    guard.success()
    return result


class RedisBackend:
    name = "redis"

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.prefix = conf.key_prefix()

    def _key(self, day: date, part: str) -> str:
        return f"{self.prefix}:{day.isoformat()}:{part}"

    def record(self, *, day: date, visitor: str, article_id: int | None = None) -> None:
        """Count one view in one round trip (see ``queue_view``)."""
        pipe = self.client.pipeline(transaction=False)
        settle = self.queue_view(pipe, day=day, visitor=visitor, article_id=article_id)
        settle(guarded(pipe.execute))

    def queue_view(
        self, pipe, *, day: date, visitor: str, article_id: int | None = None
    ) -> Callable[[list], None]:
        """Queue the commands that count one view on ``pipe`` (which may carry other
        commands before them: the page cache sends its own in the same round trip), and
        return ``settle(replies)``, to be called with the replies from this call's first
        command on.

        INCR the day's PV, PFADD the visitor to its UV, and the same per article. A day's
        keys get their expiry from the view that creates them (the counter comes back as
        1), in one more round trip once per key and day, so the common view sends only its
        counting commands. No MULTI/EXEC: nothing reads these keys between the commands."""
        pv, uv, article_pvs = self._key(day, "pv"), self._key(day, "uv"), self._key(day, "apv")
        article_uv = self._key(day, f"auv:{article_id}") if article_id else ""
        pipe.incr(pv)
        pipe.pfadd(uv, visitor)
        if article_id:
            pipe.hincrby(article_pvs, str(article_id), 1)
            pipe.pfadd(article_uv, visitor)

        def settle(replies: list) -> None:
            new_keys = [pv, uv, article_pvs] if replies[0] == 1 else []
            if article_id and replies[2] == 1:
                new_keys.append(article_uv)
            if new_keys:
                expire_at = int(day_end(day).timestamp()) + conf.get("STATS_RETENTION_DAYS") * 86400
                expiry = self.client.pipeline(transaction=False)
                for key in new_keys:
                    expiry.expireat(key, expire_at)
                guarded(expiry.execute)

        return settle

    def unrecord(self, *, day: date, article_id: int | None = None) -> None:
        """Take back the page views of one view counted ahead of a page that was then not
        served (unique visitors stay: a HyperLogLog cannot forget one)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.decr(self._key(day, "pv"))
        if article_id:
            pipe.hincrby(self._key(day, "apv"), str(article_id), -1)
        guarded(pipe.execute)

    def snapshot(self, day: date) -> DaySnapshot | None:
        pipe = self.client.pipeline(transaction=False)
        pipe.get(self._key(day, "pv"))
        pipe.pfcount(self._key(day, "uv"))
        pipe.hgetall(self._key(day, "apv"))
        pv, uv, article_pvs = guarded(pipe.execute)
        if pv is None:
            return None
        pvs = {int(article_id): int(count) for article_id, count in article_pvs.items()}
        ids = sorted(pvs)
        pipe = self.client.pipeline(transaction=False)
        for article_id in ids:
            pipe.pfcount(self._key(day, f"auv:{article_id}"))
        uvs = guarded(pipe.execute) if ids else []
        articles = {
            article_id: Figures(pv=pvs[article_id], uv=int(article_uv))
            for article_id, article_uv in zip(ids, uvs, strict=True)
        }
        return DaySnapshot(date=day, site=Figures(pv=int(pv), uv=int(uv)), articles=articles)

    def site_figures(self, days: list[date]) -> dict[date, Figures]:
        if not days:
            return {}
        pipe = self.client.pipeline(transaction=False)
        for day in days:
            pipe.get(self._key(day, "pv"))
            pipe.pfcount(self._key(day, "uv"))
        replies = guarded(pipe.execute)
        pairs = zip(replies[::2], replies[1::2], strict=True)
        return {day: Figures(pv=int(pv or 0), uv=int(uv)) for day, (pv, uv) in zip(days, pairs, strict=True)}

    knows_final_days = False

    def article_views(self, days: list[date], article_ids: list[int]) -> dict[int, int]:
        """One pipeline: HMGET of the articles' fields in each day's per-article hash (the
        caller leaves out the days already rolled up)."""
        if not days or not article_ids:
            return {}
        fields = [str(article_id) for article_id in article_ids]
        pipe = self.client.pipeline(transaction=False)
        for day in days:
            pipe.hmget(self._key(day, "apv"), fields)
        totals: dict[int, int] = {}
        for replies in guarded(pipe.execute):
            for article_id, count in zip(article_ids, replies, strict=True):
                if count:
                    totals[article_id] = totals.get(article_id, 0) + int(count)
        return totals

    @contextlib.contextmanager
    def lock(self, name: str, timeout: int) -> Iterator[bool]:
        lock = self.client.lock(f"{self.prefix}:lock:{name}", timeout=timeout)
        acquired = guarded(lambda: lock.acquire(blocking=False))
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    lock.release()
                except LockError:
                    log.warning("The %s lock expired before the work was done (timeout %ss).", name, timeout)

    def purge(self, *, before: date) -> None:
        """Nothing to do: every key expires by itself."""


class DatabaseBackend:
    name = "database"

    def record(self, *, day: date, visitor: str, article_id: int | None = None) -> None:
        pages = [SITE, article_id] if article_id else [SITE]
        digest = visitor_digest(visitor)
        with transaction.atomic():
            self._increment(day, pages)
            LiveVisitor.objects.bulk_create(
                [LiveVisitor(date=day, article_id=page, visitor=digest) for page in pages],
                ignore_conflicts=True,
            )

    def unrecord(self, *, day: date, article_id: int | None = None) -> None:
        pages = [SITE, article_id] if article_id else [SITE]
        LiveCounter.objects.filter(date=day, article_id__in=pages, pv__gt=0).update(pv=F("pv") - 1)

    @staticmethod
    def _increment(day: date, pages: list[int]) -> None:
        """One atomic upsert: a new row starts at 1, an existing one goes up by 1."""
        quote = connection.ops.quote_name
        table = quote(LiveCounter._meta.db_table)
        columns = ", ".join(quote(name) for name in ("date", "article_id", "pv"))
        values = ", ".join(["(%s, %s, 1)"] * len(pages))
        pv = quote("pv")
        if connection.vendor == "mysql":
            conflict = f"ON DUPLICATE KEY UPDATE {pv} = {pv} + 1"
        else:  # SQLite and PostgreSQL
            target = f"{quote('date')}, {quote('article_id')}"
            conflict = f"ON CONFLICT ({target}) DO UPDATE SET {pv} = {table}.{pv} + 1"
        params: list = []
        for page in pages:
            params += [connection.ops.adapt_datefield_value(day), page]
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} {conflict}", params)  # noqa: S608

    def snapshot(self, day: date) -> DaySnapshot | None:
        pvs = dict(LiveCounter.objects.filter(date=day).values_list("article_id", "pv"))
        if SITE not in pvs:
            return None
        uvs = dict(
            LiveVisitor.objects.filter(date=day)
            .order_by()
            .values("article_id")
            .annotate(n=Count("id"))
            .values_list("article_id", "n")
        )
        articles = {
            article_id: Figures(pv=pv, uv=uvs.get(article_id, 0))
            for article_id, pv in sorted(pvs.items())
            if article_id != SITE
        }
        return DaySnapshot(date=day, site=Figures(pv=pvs[SITE], uv=uvs.get(SITE, 0)), articles=articles)

    def site_figures(self, days: list[date]) -> dict[date, Figures]:
        if not days:
            return {}
        pvs = dict(LiveCounter.objects.filter(date__in=days, article_id=SITE).values_list("date", "pv"))
        uvs = dict(
            LiveVisitor.objects.filter(date__in=days, article_id=SITE)
            .order_by()
            .values("date")
            .annotate(n=Count("id"))
            .values_list("date", "n")
        )
        return {day: Figures(pv=pvs.get(day, 0), uv=uvs.get(day, 0)) for day in days}

    knows_final_days = True

    def article_views(self, days: list[date], article_ids: list[int]) -> dict[int, int]:
        """One query; days up to the rollup's high-water mark are left out in it."""
        if not days or not article_ids:
            return {}
        final = FillState.objects.filter(name=FillState.DAILY).values("filled_through")[:1]
        after = Coalesce(Subquery(final, output_field=DateField()), Value(date(1970, 1, 1)))  # none yet: all
        rows = (
            LiveCounter.objects.filter(date__in=days, article_id__in=article_ids, date__gt=after)
            .order_by()
            .values("article_id")
            .annotate(total=Sum("pv"))
            .values_list("article_id", "total")
        )
        return {article_id: int(total) for article_id, total in rows if total}

    @contextlib.contextmanager
    def lock(self, name: str, timeout: int) -> Iterator[bool]:
        # Best effort (the file cache's add is not atomic across processes); the rollup
        # also locks its FillState row, which is what really keeps runs apart.
        key, token = f"stats:lock:{name}", secrets.token_hex(8)
        acquired = cache.add(key, token, timeout)
        try:
            yield acquired
        finally:
            if acquired and cache.get(key) == token:
                cache.delete(key)

    def purge(self, *, before: date) -> None:
        LiveCounter.objects.filter(date__lt=before).delete()
        LiveVisitor.objects.filter(date__lt=before).delete()


@functools.lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    timeout = getattr(settings, "REDIS_TIMEOUT", 0.5)
    return redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, health_check_interval=30
    )


def redis_client() -> redis.Redis:
    url = conf.get("STATS_REDIS_URL")
    if url:
        return _client_for(url)
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def get_backend() -> RedisBackend | DatabaseBackend:
    """The backend the settings choose, read at call time."""
    if conf.backend_name() == "redis":
        return RedisBackend(redis_client())
    return DatabaseBackend()
