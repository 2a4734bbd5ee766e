"""What follows a write to the core's models, whichever path made it (admin, services,
shell): the derived lists and counts (``listings``) in the same transaction, and the
cache versions once it commits. Signals are used only for these decoupled jobs."""

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from blog_project.caching import bump_on_commit

from . import listings
from .models import Article, Category, ListEntry, Page, SidebarWidget, SiteSettings, Tag
from .timezones import zone_or_none


def _article_saved(instance: Article, raw: bool = False, **_kwargs) -> None:
    if raw:  # loaddata: `manage.py rebuild_lists` afterwards
        return
    listings.article_lists_sync(instance)
    bump_on_commit("articles")


def _article_deleting(instance: Article, **_kwargs) -> None:
    # Kept on the instance for _article_deleted (post_delete), which reads it with getattr().
    keys = set(ListEntry.objects.filter(article=instance).values_list("list_key", flat=True))
    instance._list_keys = keys  # type: ignore[attr-defined]


def _article_deleted(instance: Article, **_kwargs) -> None:
    listings.article_lists_forget(getattr(instance, "_list_keys", ()))
    bump_on_commit("articles")


def _tags_changed(instance, action: str, reverse: bool, pk_set, **_kwargs) -> None:
    if action == "pre_clear" and reverse:
        instance._cleared_article_ids = list(instance.articles.values_list("pk", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        listings.article_lists_sync(instance)
    else:
        ids = pk_set if action != "post_clear" else getattr(instance, "_cleared_article_ids", [])
        for article in Article.objects.filter(pk__in=list(ids or [])):
            listings.article_lists_sync(article)
    bump_on_commit("articles")


def _tag_saved(**_kwargs) -> None:
    bump_on_commit("articles")


def _tag_deleted(instance: Tag, **_kwargs) -> None:
    listings.tag_lists_forget(instance.pk)
    bump_on_commit("articles")


def _category_saved(instance: Category, created: bool, raw: bool = False, **_kwargs) -> None:
    moved = not created and getattr(instance, "_loaded_parent_id", None) != instance.parent_id
    if moved and not raw:
        listings.category_lists_rebuild()
    instance._loaded_parent_id = instance.parent_id  # type: ignore[attr-defined]  # as loaded (post_init)
    bump_on_commit("structure", "articles")


def _category_deleted(**_kwargs) -> None:
    listings.category_lists_rebuild()
    bump_on_commit("structure", "articles")


def _structure_changed(**_kwargs) -> None:
    bump_on_commit("structure")


def _site_settings_saved(instance: SiteSettings, created: bool, raw: bool = False, **_kwargs) -> None:
    # Before the row existed the archives used the default zone (``SiteSettings.current()``).
    before = settings.TIME_ZONE if created else getattr(instance, "_loaded_time_zone", None)
    if not raw and before != instance.time_zone:
        # Archives are by month in the site's time zone (read here from the row being
        # saved: the cached settings are renewed only once this commits).
        listings.month_lists_rebuild(zone_or_none(instance.time_zone))
        instance._loaded_time_zone = instance.time_zone  # type: ignore[attr-defined]  # as loaded (post_init)
    bump_on_commit("structure", "articles")


def connect() -> None:
    post_save.connect(_article_saved, sender=Article, dispatch_uid="lists-article-save")
    pre_delete.connect(_article_deleting, sender=Article, dispatch_uid="lists-article-deleting")
    post_delete.connect(_article_deleted, sender=Article, dispatch_uid="lists-article-delete")
    m2m_changed.connect(_tags_changed, sender=Article.tags.through, dispatch_uid="lists-article-tags")
    post_save.connect(_tag_saved, sender=Tag, dispatch_uid="bump-tag-save")
    post_delete.connect(_tag_deleted, sender=Tag, dispatch_uid="lists-tag-delete")
    post_save.connect(_category_saved, sender=Category, dispatch_uid="lists-category-save")
    post_delete.connect(_category_deleted, sender=Category, dispatch_uid="lists-category-delete")
    post_save.connect(_site_settings_saved, sender=SiteSettings, dispatch_uid="lists-settings-save")
    post_delete.connect(_structure_changed, sender=SiteSettings, dispatch_uid="bump-del-SiteSettings")
    for model in (Page, SidebarWidget):
        post_save.connect(_structure_changed, sender=model, dispatch_uid=f"bump-save-{model.__name__}")
        post_delete.connect(_structure_changed, sender=model, dispatch_uid=f"bump-del-{model.__name__}")
