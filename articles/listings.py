"""Lists and counts that cost the same at 100 and at 100,000 articles.

Readers' list pages and counts never scan the articles table:

- ``ListEntry`` says which lists show an article: its category and every ancestor
  (``c:<id>``, so a category page includes its children), each tag (``t:<id>``) and its
  month in the site's time zone (``m:2026-11``), with the article's status and time
  copied, so one page of any list is one index range read from its newest end.
- ``Tally`` holds how many published articles each category and month has, and the
  site's totals of published articles and of their approved comments; a tag's count is
  ``Tag.published_count``.

Both are derived data, kept exact by the writes, never by readers:

- an article saved, or its tags changed: ``article_lists_sync`` (model signals, so the
  admin, services and the shell all keep them right);
- an article deleted: its entries go with it; its tallies are recounted;
- a category moved under another parent, or deleted: ``category_lists_rebuild``;
- the site's time zone changed: ``month_lists_rebuild``;
- a tag deleted: its entries and tally go;
- approved comments changed (the comments app): ``site_comments_recount``.

Tallies are recounted, never incremented: the rows are locked first (in key order, so
two writers cannot deadlock), then counted from the entries in one GROUP BY over index
ranges, so two writes at once cannot both miss each other's article. Scheduled articles
are counted (their status is published); readers subtract them (``selectors``), so no
write is needed when one comes due.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from .models import Article, Category, ListEntry, Tag, Tally
from .timezones import site_zone

SITE_ARTICLES = Tally.SITE_ARTICLES
SITE_COMMENTS = Tally.SITE_COMMENTS
PUBLISHED = Article.Status.PUBLISHED


def archive_timezone() -> tzinfo:
    """The time zone whose months the archives use: the site's (a site setting)."""
    return site_zone()


def month_key(moment: datetime, zone: tzinfo | None = None) -> str:
    return f"m:{timezone.localtime(moment, zone or archive_timezone()):%Y-%m}"


def _category_chains() -> dict[int, list[int]]:
    """Each category's id followed by its ancestors' (a cycle, which the admin refuses,
    is cut where it repeats)."""
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    chains: dict[int, list[int]] = {}
    for pk in parents:
        chain: list[int] = []
        current: int | None = pk
        while current is not None and current not in chain:
            chain.append(current)
            current = parents.get(current)
        chains[pk] = chain
    return chains


def article_keys(article: Article, *, chains: dict[int, list[int]] | None = None) -> set[str]:
    category_id = article.category_id
    found = chains or _category_chains()
    chain: Sequence[int | None] = [None]  # an article without a category
    if category_id is not None:
        chain = found.get(category_id, [category_id])
    keys = {f"c:{pk}" for pk in chain}
    keys |= {
        f"t:{pk}"
        for pk in Article.tags.through.objects.filter(article=article).values_list("tag_id", flat=True)
    }
    keys.add(month_key(article.published_at))
    return keys


def article_lists_sync(article: Article) -> None:
    """Bring the article's list entries and the tallies they touch up to date."""
    with transaction.atomic():
        rows = dict(ListEntry.objects.filter(article=article).values_list("list_key", "status"))
        was_published = PUBLISHED in rows.values()
        old_status = next(iter(rows.values()), None)
        wanted = article_keys(article)
        removed, added = set(rows) - wanted, wanted - set(rows)
        if removed:
            ListEntry.objects.filter(article=article, list_key__in=removed).delete()
        ListEntry.objects.filter(article=article).update(
            status=article.status, published_at=article.published_at
        )
        ListEntry.objects.bulk_create(
            [
                ListEntry(
                    list_key=key, article=article, status=article.status, published_at=article.published_at
                )
                for key in sorted(added)
            ]
        )
        is_published = article.status == PUBLISHED
        touched = set()
        if was_published or is_published:
            touched |= removed | added
        if old_status != article.status:
            touched |= wanted | {SITE_ARTICLES, SITE_COMMENTS}
        tallies_recount(touched)
        if was_published or is_published:
            lists_touch(wanted | removed)


def lists_touch(keys: Iterable[str]) -> None:
    """Record that these lists' pages changed now (their sitemap lastmod)."""
    now = timezone.now()
    keys = set(keys)
    Tally.objects.filter(key__in=[key for key in keys if key[0] in "cm"]).update(changed_at=now)
    Tag.objects.filter(pk__in=[int(key[2:]) for key in keys if key[0] == "t"]).update(list_changed_at=now)


def article_lists_forget(keys: Iterable[str]) -> None:
    """After an article was deleted: recount the lists it was on and the site totals."""
    tallies_recount({*keys, SITE_ARTICLES, SITE_COMMENTS})


def tag_lists_forget(tag_id: int) -> None:
    ListEntry.objects.filter(list_key=f"t:{tag_id}").delete()


def site_comments_recount() -> None:
    """The approved comments on published articles changed (the comments app calls this in
    the transaction that changed ``Article.comment_count``)."""
    tallies_recount({SITE_COMMENTS})


def tallies_recount(keys: Iterable[str]) -> None:
    keys = sorted(set(keys))
    if not keys:
        return
    tally_keys = [key for key in keys if key[0] != "t"]
    tag_ids = [int(key[2:]) for key in keys if key[0] == "t"]
    with transaction.atomic():
        Tally.objects.bulk_create([Tally(key=key, kind=key[0]) for key in tally_keys], ignore_conflicts=True)
        list(Tally.objects.select_for_update().filter(key__in=tally_keys).order_by("key").values_list("pk"))
        list(Tag.objects.select_for_update().filter(pk__in=tag_ids).order_by("pk").values_list("pk"))
        list_keys = [key for key in keys if key[0] != "s"]
        counts = dict.fromkeys(keys, 0)
        if list_keys:
            counts.update(
                ListEntry.objects.filter(list_key__in=list_keys, status=PUBLISHED)
                .order_by()
                .values("list_key")
                .annotate(total=Count("pk"))
                .values_list("list_key", "total")
            )
        published = Article.objects.filter(status=PUBLISHED)
        if SITE_ARTICLES in counts:
            counts[SITE_ARTICLES] = published.count()
        if SITE_COMMENTS in counts:
            counts[SITE_COMMENTS] = published.aggregate(total=Sum("comment_count"))["total"] or 0
        now = timezone.now()
        for key, total in counts.items():
            if key[0] == "t":
                Tag.objects.filter(pk=int(key[2:])).update(published_count=total, list_changed_at=now)
            else:
                Tally.objects.filter(key=key).update(count=total, changed_at=now)


def category_lists_rebuild() -> None:
    """Rewrite every category entry: a category moved to another parent, or was deleted
    (its articles moved to the default category). Set-based: one INSERT ... SELECT per
    category and ancestor; seconds at 100,000 articles, and categories rarely move."""
    with transaction.atomic():
        old_keys = set(
            ListEntry.objects.filter(list_key__startswith="c:").values_list("list_key", flat=True).distinct()
        )
        ListEntry.objects.filter(list_key__startswith="c:").delete()
        for category_id, chain in _category_chains().items():
            articles = Article.objects.filter(category_id=category_id)
            for ancestor in chain:
                _copy_entries(f"c:{ancestor}", articles)
        Tally.objects.filter(key__startswith="c:").exclude(
            key__in=[f"c:{pk}" for pk in _category_chains()]
        ).delete()
        tallies_recount(old_keys | {f"c:{pk}" for pk in _category_chains()})


def _copy_entries(key: str, articles) -> None:
    """INSERT INTO the list entries SELECT the ``articles`` rows, in one statement."""
    sql, params = articles.values_list("pk", "status", "published_at").order_by().query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(ListEntry._meta.db_table)
    columns = ", ".join(quote(name) for name in ("list_key", "article_id", "status", "published_at"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT %s, q.* FROM ({sql}) q",  # noqa: S608 - our own SQL
            [key, *params],
        )


def month_lists_rebuild(zone: tzinfo | None = None) -> None:
    """Every month entry again, in ``zone`` (default: the site's): the site's time zone
    changed, so an article written near midnight may belong to another month."""
    zone = zone or archive_timezone()
    with transaction.atomic():
        old_keys = set(
            ListEntry.objects.filter(list_key__startswith="m:").values_list("list_key", flat=True).distinct()
        )
        ListEntry.objects.filter(list_key__startswith="m:").delete()
        months: dict[str, list[int]] = {}
        for pk, moment in Article.objects.values_list("pk", "published_at").iterator(chunk_size=5000):
            months.setdefault(month_key(moment, zone), []).append(pk)
        for key, ids in months.items():
            for start in range(0, len(ids), 5000):
                _copy_entries(key, Article.objects.filter(pk__in=ids[start : start + 5000]))
        Tally.objects.filter(key__startswith="m:").exclude(key__in=list(months)).delete()
        tallies_recount(old_keys | set(months))


def lists_rebuild() -> int:
    """Every entry and tally from scratch (after a bulk import in SQL, a change of the
    archives' time zone, or to check them). Returns the number of entries."""
    with transaction.atomic():
        ListEntry.objects.all().delete()
        Tally.objects.all().delete()
        Tag.objects.update(published_count=0)
        chains = _category_chains()
        for category_id, chain in chains.items():
            for ancestor in chain:
                _copy_entries(f"c:{ancestor}", Article.objects.filter(category_id=category_id))
        through = Article.tags.through
        for tag_id in through.objects.values_list("tag_id", flat=True).distinct().order_by():
            _copy_entries(f"t:{tag_id}", Article.objects.filter(tags__id=tag_id))
        month_lists_rebuild()
        keys = set(ListEntry.objects.values_list("list_key", flat=True).distinct().order_by())
        tallies_recount(keys | {SITE_ARTICLES, SITE_COMMENTS})
        return ListEntry.objects.count()
