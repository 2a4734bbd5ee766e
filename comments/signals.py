"""Cache bumps for the comment policy: pages show the form (or "closed") by it."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from blog_project.caching import bump_on_commit

from .models import CommentSettings


def _policy_changed(**_kwargs) -> None:
    # Read with the site structure (``selectors.comment_settings``), shown on every article.
    bump_on_commit("structure", "comments")


def connect() -> None:
    post_save.connect(_policy_changed, sender=CommentSettings, dispatch_uid="bump-save-CommentSettings")
    post_delete.connect(_policy_changed, sender=CommentSettings, dispatch_uid="bump-del-CommentSettings")
