"""Who may do what in the writing room: the four roles of Ghost and WordPress.

The roles are Django groups made by migrations (``0014_role_groups`` here; the comments
and stats apps add their own permissions to them), so an administrator can see and adjust
them under Users and groups:

- **Contributor** writes and edits their own drafts and submits them for review; cannot
  publish, and uploads images only from the editor of their own articles.
- **Author** also publishes (and unpublishes) their own articles and uploads images.
- **Editor** edits and publishes every article, edits pages, moderates comments and keeps
  the media library.
- **Administrator** has every permission: site settings, widgets, users and groups.

What a role may do is read here from permissions (``user.has_perm``), never from the
group's name, so a superuser or a hand-made group works the same. Every admin view, bulk
action and editor endpoint asks these functions; templates only hide what they refuse.
"""

from __future__ import annotations

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.db.models import Q

PUBLISH = "articles.publish_article"
EDIT_OTHERS = "articles.edit_others_article"
LIBRARY = "articles.view_mediafile"  # the whole media library, not only one's own uploads

CONTRIBUTOR, AUTHOR, EDITOR, ADMINISTRATOR = "Contributor", "Author", "Editor", "Administrator"

# The articles app's part of each role (app_label, codename); comments and stats add theirs.
_WRITER = [
    ("articles", "add_article"),
    ("articles", "change_article"),
    ("articles", "delete_article"),
    ("articles", "view_article"),
    ("articles", "view_category"),
    ("articles", "view_tag"),
]
ARTICLES_ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    CONTRIBUTOR: _WRITER,
    AUTHOR: [
        *_WRITER,
        ("articles", "publish_article"),
        ("articles", "add_tag"),
        ("articles", "add_mediafile"),
    ],
    EDITOR: [
        *_WRITER,
        ("articles", "publish_article"),
        ("articles", "edit_others_article"),
        *[
            ("articles", f"{action}_{model}")
            for model in ("page", "category", "tag", "mediafile")
            for action in ("add", "change", "delete", "view")
        ],
    ],
}


# The other apps' parts, repeated from their migrations for ``ensure_role_groups``: each
# app adds its own from its ``AppConfig.ready()`` (``register_role_permissions``).
OTHER_APPS_ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {}


def register_role_permissions(role: str, pairs: list[tuple[str, str]]) -> None:
    known = OTHER_APPS_ROLE_PERMISSIONS.setdefault(role, [])
    known.extend(pair for pair in pairs if pair not in known)


def grant_in_migration(apps, grants: dict[str, list[tuple[str, str]]], *, everything_to: str = "") -> None:
    """Give each group (made if missing) the permissions listed; ``everything_to`` names a
    group that gets every permission there is. For data migrations: the permissions of
    models just migrated are made first (Django makes them only after ``migrate``)."""
    # Only for data migrations: auth's permission making, loaded where it is used.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    _grant(apps, grants, everything_to=everything_to)


def ensure_role_groups() -> None:
    """The four groups as the migrations make them, for a database emptied since (tests
    that flush it; ``manage.py flush``)."""
    grants = {role: list(pairs) for role, pairs in ARTICLES_ROLE_PERMISSIONS.items()}
    for role, pairs in OTHER_APPS_ROLE_PERMISSIONS.items():
        grants.setdefault(role, []).extend(pairs)
    grants.setdefault(CONTRIBUTOR, [])
    _grant(django_apps, grants, everything_to=ADMINISTRATOR)


def _grant(apps, grants: dict[str, list[tuple[str, str]]], *, everything_to: str = "") -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, pairs in grants.items():
        group, _created = Group.objects.get_or_create(name=name)
        for app_label, codename in pairs:
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                group.permissions.add(permission)
    if everything_to:
        group, _created = Group.objects.get_or_create(name=everything_to)
        group.permissions.add(*Permission.objects.all())


# --- Questions the admin and the endpoints ask ---------------------------------------------


def _is_active_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def may_publish(user) -> bool:
    return _is_active_staff(user) and user.has_perm(PUBLISH)


def sees_all_articles(user) -> bool:
    return _is_active_staff(user) and user.has_perm(EDIT_OTHERS)


def may_view_article(user, article) -> bool:
    """Open it in the admin, or read its preview while it is not public."""
    if not (_is_active_staff(user) and user.has_perm("articles.view_article")):
        return False
    return sees_all_articles(user) or article.author_id == user.pk


def may_change_article(user, article) -> bool:
    """Edit (and delete) it: one's own draft; one's own published article only with the
    right to publish; anyone's with the right to edit others'."""
    if not (_is_active_staff(user) and user.has_perm("articles.change_article")):
        return False
    if sees_all_articles(user):
        return True
    if article.author_id != user.pk:
        return False
    return article.status == article.Status.DRAFT or user.has_perm(PUBLISH)


def may_publish_article(user, article) -> bool:
    """Publish, schedule or unpublish it (and review it: publish or send back)."""
    return may_publish(user) and may_change_article(user, article)


def may_review(user) -> bool:
    """Publish or send back other writers' submissions."""
    return may_publish(user) and sees_all_articles(user)


def articles_visible_to(user, queryset):
    return queryset if sees_all_articles(user) else queryset.filter(author_id=user.pk)


def author_choices(user, *, current_author_id: int | None = None):
    """Whom the Author field offers: any active staff login to those who edit others'
    articles, otherwise only the user; and the article's author as it is."""

    users = get_user_model().objects
    chosen = Q(is_active=True, is_staff=True) if sees_all_articles(user) else Q(pk=user.pk)
    if current_author_id is not None:
        chosen |= Q(pk=current_author_id)
    return users.filter(chosen)


def may_use_library(user) -> bool:
    """See and pick every image of the library (others see only their own uploads)."""
    return _is_active_staff(user) and user.has_perm(LIBRARY)


def may_upload(user) -> bool:
    """Upload from the editor: library keepers and authors; contributors too, since their
    uploads go into the article they write (the endpoint checks which)."""
    return _is_active_staff(user) and (
        user.has_perm("articles.add_mediafile")
        or user.has_perm("articles.add_article")
        or user.has_perm("articles.add_page")
    )


def may_change_page(user, page=None) -> bool:
    perm = "articles.change_page" if page is not None else "articles.add_page"
    return _is_active_staff(user) and user.has_perm(perm)


def reviewers():
    """Whom "Submitted for review" is told: active staff with an address who may review."""
    # auth's models, loaded on use: this module is imported by migrations too.
    from django.contrib.auth.models import Permission

    permissions = Permission.objects.filter(
        content_type__app_label="articles", codename__in=["publish_article", "edit_others_article"]
    )
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    candidates = users.filter(
        Q(is_superuser=True) | Q(groups__permissions__in=permissions) | Q(user_permissions__in=permissions)
    ).distinct()
    return [user for user in candidates[:200] if may_review(user)]
