"""Cache invalidation: any write that changes what a public page shows bumps the site
generation once the transaction commits (signals are used only for this decoupled job)."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from .cache import bump_generation
from .models import Article, Category, Page, SidebarWidget, SiteSettings, Tag


def _bump_on_commit(**_kwargs) -> None:
    transaction.on_commit(bump_generation)


def _bump_structure_on_commit(**_kwargs) -> None:
    transaction.on_commit(lambda: bump_generation(structure=True))


STRUCTURE_MODELS = (Category, Page, SiteSettings, SidebarWidget)


def connect() -> None:
    for model in (Article, Tag, *STRUCTURE_MODELS):
        bump = _bump_structure_on_commit if model in STRUCTURE_MODELS else _bump_on_commit
        post_save.connect(bump, sender=model, dispatch_uid=f"bump-save-{model.__name__}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"bump-del-{model.__name__}")
    m2m_changed.connect(_bump_on_commit, sender=Article.tags.through, dispatch_uid="bump-tags")
