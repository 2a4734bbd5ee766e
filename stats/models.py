"""Traffic figures.

Two kinds of tables:

- the rollups, written once a day with absolute numbers (``DailyStat``, ``ArticleDailyStat``)
  and the high-water mark of how far they are final (``FillState``, as in Zulip's
  analytics): a crashed or repeated rollup rewrites the same rows, never adds to them;
  ``ArticleTraffic`` keeps per-article sums of those rows (all time, and the dashboard's
  periods), moved along by the rollup in the same transactions;
- the live counters of the database backend (``LiveCounter``, ``LiveVisitor``), the
  embedded stand-in for Redis: the rollup reads them like it reads Redis, and purges them
  once they are older than the retention window.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from articles.models import Article

SITE = 0  # ``article_id`` of the site-wide live counters


class DailyStat(models.Model):
    """Page views and unique visitors of the whole site on one local day."""

    date = models.DateField(_("date"))
    pv = models.PositiveBigIntegerField(_("page views"), default=0)
    uv = models.PositiveBigIntegerField(_("unique visitors"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("traffic")
        verbose_name_plural = _("traffic")
        constraints = [models.UniqueConstraint(fields=["date"], name="stats_dailystat_date_uniq")]

    def __str__(self) -> str:
        return f"{self.date}: {self.pv} PV, {self.uv} UV"


class ArticleDailyStat(models.Model):
    """Page views and unique visitors of one article on one local day."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="daily_stats"
    )
    date = models.DateField(_("date"))
    pv = models.PositiveBigIntegerField(_("page views"), default=0)
    uv = models.PositiveBigIntegerField(_("unique visitors"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-date", "-pv"]
        verbose_name = _("article traffic")
        verbose_name_plural = _("article traffic")
        constraints = [
            models.UniqueConstraint(fields=["article", "date"], name="stats_articledailystat_uniq"),
        ]
        # The rollup reads whole days (moving ArticleTraffic's sums), from the index alone.
        indexes = [models.Index(fields=["date", "article", "pv", "uv"], name="stats_article_day_idx")]

    def __str__(self) -> str:
        return f"{self.article_id} {self.date}: {self.pv} PV, {self.uv} UV"


# The dashboard's periods, in days (today included); ArticleTraffic has columns for each.
PERIODS = (7, 30, 90)


class ArticleTraffic(models.Model):
    """Sums of an article's final daily rows, kept by the rollup (``services``).

    ``pv_total`` adds every final day: ``Article.view_count`` is set from it. For each
    dashboard period P, ``pv_P`` and ``uv_P`` add the P - 1 final days that end on the
    day the sums are made through (``FillState.sums_through``, the daily mark): the part
    of the last P days, today included, that is stored when yesterday is final. No index
    on them: the rollup rewrites them for every article read, and the dashboard reads the
    most read from ``TrafficTop``.
    """

    article = models.OneToOneField(
        Article, primary_key=True, on_delete=models.CASCADE, related_name="traffic", verbose_name=_("article")
    )
    pv_total = models.BigIntegerField(default=0)
    pv_7 = models.BigIntegerField(default=0)
    uv_7 = models.BigIntegerField(default=0)
    pv_30 = models.BigIntegerField(default=0)
    uv_30 = models.BigIntegerField(default=0)
    pv_90 = models.BigIntegerField(default=0)
    uv_90 = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("article traffic sums")
        verbose_name_plural = _("article traffic sums")

    def __str__(self) -> str:
        return f"{self.article_id}: {self.pv_total} PV"


class TrafficTop(models.Model):
    """The ``KEPT`` most read articles of each period by their stored sums (``pv_P`` of
    ``ArticleTraffic``), remade by the rollup whenever the sums change: the dashboard's
    ranked list, read from the top of a small index."""

    KEPT = 1000

    days = models.PositiveSmallIntegerField()
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    pv = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["days", "pv", "article"], name="stats_traffictop_rank_idx")]

    def __str__(self) -> str:
        return f"{self.days} days: {self.article_id} {self.pv} PV"


class FillState(models.Model):
    """How far the rollups are final: every day up to ``filled_through`` is written whole.

    The row is locked (SELECT ... FOR UPDATE) for the whole planning step of a rollup, so
    two rollups that got past the Redis lock (an expired lock, a second beat) still run one
    after the other, and the second finds nothing left to do.
    """

    DAILY = "daily"

    name = models.CharField(max_length=40, unique=True)
    filled_through = models.DateField(_("final through"), null=True, blank=True)
    # The day ArticleTraffic's sums are made through: the same as filled_through once a
    # rollup has run (None: not made yet, e.g. right after an upgrade).
    sums_through = models.DateField(_("sums through"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)

    class Meta:
        verbose_name = _("fill state")
        verbose_name_plural = _("fill states")

    def __str__(self) -> str:
        return f"{self.name}: {self.filled_through}"


class LiveCounter(models.Model):
    """Database backend: page views per day, for the site (article_id 0) and per article.

    ``article_id`` is a plain number, not a foreign key, so counting needs no join and a
    deleted article's counts simply stop mattering.
    """

    date = models.DateField()
    article_id = models.PositiveBigIntegerField(default=SITE)
    pv = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["date", "article_id"], name="stats_livecounter_uniq")]
        # A day's most read articles (the dashboard's live day).
        indexes = [models.Index(fields=["date", "pv"], name="stats_livecounter_top_idx")]

    def __str__(self) -> str:
        return f"{self.date} #{self.article_id}: {self.pv}"


class LiveVisitor(models.Model):
    """Database backend: one row per visitor, day and page (article_id 0: the site).

    ``visitor`` is a digest of the visitor id (never an address); unique visitors are the
    number of rows.
    """

    date = models.DateField()
    article_id = models.PositiveBigIntegerField(default=SITE)
    visitor = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["date", "article_id", "visitor"], name="stats_livevisitor_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.date} #{self.article_id}: {self.visitor}"


class VisitorSalt(models.Model):
    """The database backend's random salt of one day's visitor hashes (Redis keeps it as
    a key expiring at the end of the day). Deleted once the next day's is made."""

    date = models.DateField(_("date"), unique=True)
    salt = models.CharField(_("salt"), max_length=64)

    class Meta:
        verbose_name = _("visitor salt")
        verbose_name_plural = _("visitor salts")

    def __str__(self) -> str:
        return str(self.date)
