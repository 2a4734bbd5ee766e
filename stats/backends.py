"""Where page views are counted until the daily rollup: Redis, or the database.

Both backends give the same answers through the same small interface:

- ``record(day=, visitor=, article_id=)`` counts one page view;
- ``snapshot(day)`` returns a day's site and per-article figures (None: nothing held);
- ``site_figures(days)`` returns the site's figures of a few days at once (live numbers);
- ``article_batches(day, size)`` yields a day's per-article figures a batch at a time, in
  article order (the rollup: its rows are written along the per-article indexes);
- ``top_articles(day, n)`` returns the ``n`` most read articles of a day with their page
  views, most first; ``article_pvs(day, ids)`` and ``article_visitors(day, ids)`` the page
  views and unique visitors of given articles (the dashboard's live day, without reading
  every article's counters);
- ``article_views(days, article_ids)`` returns the page views of some articles over the
  days not rolled up yet among ``days``, in one read (live view counts on pages and in the
  admin); ``knows_final_days`` says whether the backend leaves out the rolled-up days
  itself (the database, in the same query) or must be given only the others (Redis);
- ``salt(day)`` is the day's random visitor salt, gone after the day (``visitors``);
- ``lock(name, timeout)`` is a context manager yielding whether the lock was taken;
- ``purge(before=)`` forgets counters older than the retention window.

Every Redis call goes through the "redis" circuit breaker (``cache_client.guarded``): a
hung or dead Redis costs one short wait per process per interval, then
``CountersUnavailable`` at once.

Redis: one round trip per page view (INCR for the site's PV, PFADD into a HyperLogLog for
its UV, ZINCRBY into the day's sorted set of articles by PV and PFADD for the article),
every key expiring a fixed number of days after the end of its day (EXPIREAT with every
view, so whichever view creates a key gives it its expiry). HyperLogLog is exact in
practice for small numbers and within ~1% beyond. (Before the sorted set, per-article PV
was a hash, ``apv``: a day counted partly by the older code is folded into the sorted set
when it is first read.)

Database: an atomic upsert of the PV rows and an insert-or-ignore of one row per visitor,
day and page; UV is the number of those rows. Exact, and fine for a single machine.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, DateField, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from redis.exceptions import LockError, ResponseError

from blog_project.cache_client import RedisUnavailable, guarded, roundtrip

from . import conf
from .models import SITE, FillState, LiveCounter, LiveVisitor, VisitorSalt

log = logging.getLogger(__name__)


# Redis did not answer, or its breaker is open: the live counters cannot be used now.
CountersUnavailable = RedisUnavailable

View = tuple[str, int | None]  # (visitor, article id or None: a page that is not an article)


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


class _Backend(ABC):
    """What the two backends share: a whole day read through their own ``site_day`` and
    ``article_batches`` (one implementation of ``snapshot``, whatever holds the counters)."""

    @abstractmethod
    def site_day(self, day: date) -> Figures | None:
        """The site's figures of ``day`` (None: nothing counted)."""

    @abstractmethod
    def article_batches(self, day: date, size: int) -> Iterator[dict[int, Figures]]:
        """The figures of ``day``'s articles, ``size`` articles at a time."""

    def snapshot(self, day: date) -> DaySnapshot | None:
        site = self.site_day(day)
        if site is None:
            return None
        articles: dict[int, Figures] = {}
        for batch in self.article_batches(day, size=10_000):
            articles.update(batch)
        return DaySnapshot(date=day, site=site, articles=dict(sorted(articles.items())))


class RedisBackend(_Backend):
    name = "redis"

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.prefix = conf.key_prefix()
        self._keys_memo: dict[tuple, tuple] = {}

    def _key(self, day: date, part: str) -> str:
        return f"{self.prefix}:{day.isoformat()}:{part}"

    def record(self, *, day: date, visitor: str, article_id: int | None = None) -> None:
        """Count one view (``record_many`` of one)."""
        self.record_many(day=day, views=[(visitor, article_id)])

    def record_many(self, *, day: date, views: Sequence[View]) -> None:
        """Count ``day``'s ``views`` in one round trip (see ``view_commands``)."""
        if not views:
            return
        replies = guarded(lambda: roundtrip(self.client, self.view_commands(day, views)))
        errors = [reply for reply in replies if isinstance(reply, Exception)]
        if errors:
            raise errors[0]

    def view_commands(self, day: date, views: Sequence[View]) -> list[tuple]:
        """The commands that count ``views`` (visitor, article id or None), summed per key:
        INCRBY the day's PV, PFADD the visitors to its UV, the same per article (a sorted
        set of PVs, not a hash: the dashboard reads a day's most read articles without
        reading them all), and EXPIREAT on every key they touch, so each of a day's keys
        expires whichever batch created it. No MULTI/EXEC: nothing reads these keys
        between the commands."""
        pv, uv, articles, expire_at = self._day_keys(day)
        commands: list[tuple] = [
            ("INCRBY", pv, len(views)),
            ("PFADD", uv, *dict.fromkeys(visitor for visitor, _article in views)),
            ("EXPIREAT", pv, expire_at),
            ("EXPIREAT", uv, expire_at),
        ]
        per_article: dict[int, list[str]] = {}
        for visitor, article_id in views:
            if article_id:
                per_article.setdefault(article_id, []).append(visitor)
        for article_id, readers in per_article.items():
            article_uv = self._key(day, f"auv:{article_id}")
            commands += [
                ("ZINCRBY", articles, len(readers), article_id),
                ("PFADD", article_uv, *dict.fromkeys(readers)),
                ("EXPIREAT", article_uv, expire_at),
            ]
        if per_article:
            commands.append(("EXPIREAT", articles, expire_at))
        return commands

    def _day_keys(self, day: date) -> tuple:
        """(pv, uv, articles, expire_at) of a day, worked out once per day and setting."""
        memo_key = (day, self.prefix, conf.get("STATS_RETENTION_DAYS"), settings.TIME_ZONE)
        found = self._keys_memo.get(memo_key)
        if found is None:
            if len(self._keys_memo) > 64:
                self._keys_memo.clear()
            keys = (self._key(day, part) for part in ("pv", "uv", "articles"))
            found = (*keys, self.expire_at(day))
            self._keys_memo[memo_key] = found
        return found

    @staticmethod
    def expire_at(day: date) -> int:
        """When a day's counters go: the retention window after the end of the day."""
        return int(day_end(day).timestamp()) + conf.get("STATS_RETENTION_DAYS") * 86400

    def salt(self, day: date) -> str:
        """The day's visitor salt, random, shared by every process, and gone at the end of
        the day (EXAT): after that no hash counted that day can be tied to an address."""
        key = self._key(day, "salt")
        expire_at = int(day_end(day).timestamp())
        commands = [("SET", key, secrets.token_hex(16), "NX", "EXAT", expire_at), ("GET", key)]
        replies = guarded(lambda: roundtrip(self.client, commands))
        if isinstance(replies[-1], Exception) or not replies[-1]:
            raise CountersUnavailable(f"no salt for {day}: {replies!r}")
        return replies[-1].decode()

    knows_final_days = False

    def article_views(self, days: list[date], article_ids: list[int]) -> dict[int, int]:
        """One pipeline: ZMSCORE of the articles in each day's sorted set (the caller
        leaves out the days already rolled up)."""
        if not days or not article_ids:
            return {}
        members = [str(article_id) for article_id in article_ids]
        for day in days:
            self._fold_legacy(day)
        pipe = self.client.pipeline(transaction=False)
        for day in days:
            pipe.zmscore(self._key(day, "articles"), members)
        totals: dict[int, int] = {}
        for scores in guarded(pipe.execute):
            for article_id, score in zip(article_ids, scores, strict=True):
                if score:
                    totals[article_id] = totals.get(article_id, 0) + int(score)
        return totals

    def site_day(self, day: date) -> Figures | None:
        """The site's figures of a day, or None when nothing of that day is held."""
        pipe = self.client.pipeline(transaction=False)
        pipe.get(self._key(day, "pv"))
        pipe.pfcount(self._key(day, "uv"))
        pv, uv = guarded(pipe.execute)
        return None if pv is None else Figures(pv=int(pv), uv=int(uv))

    def article_batches(self, day: date, size: int) -> Iterator[dict[int, Figures]]:
        """The day's per-article figures, ``size`` articles at a time, in article order.

        The set is read by rank, ``size`` at a time, into (article, views) pairs (about 10
        MB at 100,000 articles read), then ordered by article: whoever writes them walks
        per-article indexes once, from one end to the other."""
        self._fold_legacy(day)
        key = self._key(day, "articles")
        pvs: list[tuple[int, int]] = []
        while ranked := cast(
            "list[tuple[bytes, float]]",
            guarded(lambda: self.client.zrange(key, len(pvs), len(pvs) + size - 1, withscores=True)),
        ):
            pvs.extend((int(member), int(score)) for member, score in ranked)
        pvs.sort()
        for start in range(0, len(pvs), size):
            yield self._with_visitors(day, dict(pvs[start : start + size]))

    def top_articles(self, day: date, n: int) -> list[tuple[int, int]]:
        self._fold_legacy(day)
        ranked = cast(
            "list[tuple[bytes, float]]",
            guarded(lambda: self.client.zrevrange(self._key(day, "articles"), 0, n - 1, withscores=True)),
        )
        return [(int(member), int(score)) for member, score in ranked]

    def article_pvs(self, day: date, ids: list[int]) -> dict[int, int]:
        """Page views of the given articles on a day (those not read are left out)."""
        if not ids:
            return {}
        scores = guarded(
            lambda: self.client.zmscore(self._key(day, "articles"), [str(article_id) for article_id in ids])
        )
        return {article_id: int(score) for article_id, score in zip(ids, scores, strict=True) if score}

    def article_visitors(self, day: date, ids: list[int]) -> dict[int, int]:
        """Unique visitors of the given articles on a day."""
        return {
            article_id: figures.uv
            for article_id, figures in self._with_visitors(day, dict.fromkeys(ids, 0)).items()
        }

    def _with_visitors(self, day: date, pvs: dict[int, int]) -> dict[int, Figures]:
        pipe = self.client.pipeline(transaction=False)
        for article_id in pvs:
            pipe.pfcount(self._key(day, f"auv:{article_id}"))
        uvs = guarded(pipe.execute) if pvs else []
        return {
            article_id: Figures(pv=pv, uv=int(uv))
            for (article_id, pv), uv in zip(pvs.items(), uvs, strict=True)
        }

    def _fold_legacy(self, day: date) -> None:
        """Move per-article PV counted into the older hash (``apv``) into the sorted set.

        The hash is renamed first (atomic), so views counted by older code meanwhile start
        a new hash, folded on a later read; the set keeps the day's expiry."""
        legacy = self._key(day, "apv")
        if not guarded(lambda: self.client.exists(legacy)):
            return
        folding = f"{legacy}:folding:{secrets.token_hex(4)}"
        try:
            guarded(lambda: self.client.rename(legacy, folding))
        except ResponseError:
            return  # folded by another reader meanwhile
        counts = guarded(lambda: self.client.hgetall(folding))
        target = self._key(day, "articles")
        pipe = self.client.pipeline(transaction=False)
        for article_id, count in counts.items():
            pipe.zincrby(target, int(count), article_id)
        pipe.expireat(target, int(day_end(day).timestamp()) + conf.get("STATS_RETENTION_DAYS") * 86400)
        pipe.delete(folding)
        guarded(pipe.execute)

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
        """Delete the keys of days before ``before`` (each expires by itself too; this
        catches those an older version left without an expiry)."""
        pattern = f"{self.prefix}:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]:*"
        cut = len(self.prefix) + 1
        old = [
            key
            for key in guarded(lambda: list(self.client.scan_iter(match=pattern, count=1000)))
            if key[cut : cut + 10].decode() < before.isoformat()
        ]
        for start in range(0, len(old), 500):
            guarded(functools.partial(self.client.unlink, *old[start : start + 500]))


def visitor_digest(visitor: str) -> str:
    """What the database backend stores for a visitor id: 24 hex digits of a digest."""
    return hashlib.blake2b(visitor.encode(), digest_size=12).hexdigest()


class DatabaseBackend(_Backend):
    name = "database"

    def record(self, *, day: date, visitor: str, article_id: int | None = None) -> None:
        """Count one view (``record_many`` of one)."""
        self.record_many(day=day, views=[(visitor, article_id)])

    def record_many(self, *, day: date, views: Sequence[View]) -> None:
        """Count ``day``'s ``views`` in one transaction: one upsert of the summed PVs, and
        each visitor (a digest) inserted once per page."""
        if not views:
            return
        pvs: dict[int, int] = {SITE: len(views)}
        seen: set[tuple[int, str]] = set()
        for visitor, article_id in views:
            digest = visitor_digest(visitor)
            seen.add((SITE, digest))
            if article_id:
                pvs[article_id] = pvs.get(article_id, 0) + 1
                seen.add((article_id, digest))
        with transaction.atomic():
            self._increment(day, pvs)
            LiveVisitor.objects.bulk_create(
                [LiveVisitor(date=day, article_id=page, visitor=digest) for page, digest in sorted(seen)],
                ignore_conflicts=True,
            )

    @staticmethod
    def _increment(day: date, pvs: dict[int, int]) -> None:
        """One atomic upsert: a new row starts at its count, an existing one goes up by it."""
        quote = connection.ops.quote_name
        table = quote(LiveCounter._meta.db_table)
        columns = ", ".join(quote(name) for name in ("date", "article_id", "pv"))
        values = ", ".join(["(%s, %s, %s)"] * len(pvs))
        pv = quote("pv")
        if connection.vendor == "mysql":
            conflict = f"ON DUPLICATE KEY UPDATE {pv} = {pv} + VALUES({pv})"
        else:  # SQLite and PostgreSQL
            target = f"{quote('date')}, {quote('article_id')}"
            conflict = f"ON CONFLICT ({target}) DO UPDATE SET {pv} = {table}.{pv} + excluded.{pv}"
        params: list = []
        for page, count in sorted(pvs.items()):
            params += [connection.ops.adapt_datefield_value(day), page, count]
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} {conflict}", params)  # noqa: S608

    def site_day(self, day: date) -> Figures | None:
        pv = LiveCounter.objects.filter(date=day, article_id=SITE).values_list("pv", flat=True).first()
        if pv is None:
            return None
        return Figures(pv=pv, uv=LiveVisitor.objects.filter(date=day, article_id=SITE).count())

    def article_batches(self, day: date, size: int) -> Iterator[dict[int, Figures]]:
        after = SITE
        while True:
            pvs = dict(
                LiveCounter.objects.filter(date=day, article_id__gt=after)
                .order_by("article_id")
                .values_list("article_id", "pv")[:size]
            )
            if not pvs:
                return
            yield self._with_visitors(day, pvs)
            after = max(pvs)

    def top_articles(self, day: date, n: int) -> list[tuple[int, int]]:
        return list(
            LiveCounter.objects.filter(date=day, article_id__gt=SITE)
            .order_by("-pv", "-article_id")
            .values_list("article_id", "pv")[:n]
        )

    def article_pvs(self, day: date, ids: list[int]) -> dict[int, int]:
        ids = [article_id for article_id in ids if article_id != SITE]
        if not ids:
            return {}
        return dict(LiveCounter.objects.filter(date=day, article_id__in=ids).values_list("article_id", "pv"))

    def article_visitors(self, day: date, ids: list[int]) -> dict[int, int]:
        return {
            article_id: figures.uv
            for article_id, figures in self._with_visitors(day, dict.fromkeys(ids, 0)).items()
        }

    @staticmethod
    def _with_visitors(day: date, pvs: dict[int, int]) -> dict[int, Figures]:
        uvs = dict(
            LiveVisitor.objects.filter(date=day, article_id__in=list(pvs))
            .order_by()
            .values("article_id")
            .annotate(n=Count("id"))
            .values_list("article_id", "n")
        )
        return {
            article_id: Figures(pv=pv, uv=uvs.get(article_id, 0)) for article_id, pv in sorted(pvs.items())
        }

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

    def salt(self, day: date) -> str:
        """The day's visitor salt, random, shared by every process; the salts of days
        before are deleted when a day's is made (no hash of theirs can be tied to an
        address after that)."""
        salt, created = VisitorSalt.objects.get_or_create(date=day, defaults={"salt": secrets.token_hex(16)})
        if created:
            VisitorSalt.objects.filter(date__lt=day).delete()
        return salt.salt


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
    # Only with Redis as the cache: the embedded mode has no django-redis connection.
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def get_backend() -> RedisBackend | DatabaseBackend:
    """The backend the settings choose, read at call time."""
    if conf.backend_name() == "redis":
        return RedisBackend(redis_client())
    return DatabaseBackend()
