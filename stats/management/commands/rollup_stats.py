"""``manage.py rollup_stats [--from DATE --to DATE] [--dry-run]``.

Without dates: what the nightly task does (every finished day not yet final that the
counters still hold). With dates: those days, e.g. to backfill after an outage or to
check a day; today may be included and gets its running figures, which later runs
overwrite. ``--dry-run`` prints what the counters hold beside what is stored, writing
nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone
from redis.exceptions import RedisError
from tqdm import tqdm

from stats import services
from stats.backends import get_backend
from stats.models import DailyStat


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"“{value}” is not a date; write it as YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = "Roll up page views and visitors into the daily stats tables (safe to repeat)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", help="First day, YYYY-MM-DD (local time zone).")
        parser.add_argument("--to", dest="end", help="Last day, YYYY-MM-DD; default: the --from day.")
        parser.add_argument("--dry-run", action="store_true", help="Show the figures, write nothing.")

    def handle(self, *args, start: str | None, end: str | None, dry_run: bool, verbosity: int, **options):
        if end and not start:
            raise CommandError("--to needs --from.")
        first = parse_day(start) if start else None
        last = parse_day(end) if end else first
        today = timezone.localdate()
        if first and last:
            if first > last:
                raise CommandError("--from is after --to.")
            if last > today:
                raise CommandError(f"--to is in the future (today is {today}).")
        try:
            if dry_run:
                self.show(first or today - timedelta(days=1), last or today - timedelta(days=1))
                return
            self.roll_up(first, last, quiet=verbosity == 0)
        except (RedisError, DatabaseError) as exc:
            raise CommandError(f"The counters or the database cannot be reached: {exc}") from exc

    def roll_up(self, first: date | None, last: date | None, *, quiet: bool) -> None:
        total = (last - first).days + 1 if first and last else None
        # The stream under the wrapper (which would end each of tqdm's writes with a newline).
        stream = cast(TextIO, self.stderr._out)
        with tqdm(total=total, unit="day", disable=quiet, file=stream) as bar:
            result = services.stats_rollup(start=first, end=last, progress=lambda _day: bar.update())
        if result.locked:
            raise CommandError("Another rollup is running; try again in a minute.")
        for day in result.days:
            if day.written:
                self.stdout.write(f"{day.date}  {day.pv:>9} PV  {day.uv:>8} UV  {day.articles:>5} articles")
            else:
                self.stdout.write(f"{day.date}  no counters held (no views, or expired); left as stored")
        self.stdout.write(self.style.SUCCESS(result.summary().capitalize() + "."))

    def show(self, first: date, last: date) -> None:
        backend = get_backend()
        stored = {row.date: row for row in DailyStat.objects.filter(date__range=(first, last))}
        self.stdout.write(f"{'date':10}  {'counters PV/UV':>20}  {'stored PV/UV':>20}")
        for day in services.days_between(first, last):
            site = backend.site_day(day)  # the site's figures only: no per-article reads
            held = f"{site.pv}/{site.uv}" if site else "—"
            row = stored.get(day)
            self.stdout.write(f"{day}  {held:>20}  {f'{row.pv}/{row.uv}' if row else '—':>20}")
