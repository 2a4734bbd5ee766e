"""The comment policy moves from the core's site settings to comments, values kept."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from comments.models import CommentSettings

BEFORE = [
    ("articles", "0017_site_language_is_a_deployment_setting"),
    ("comments", "0006_abuse_limits_in_the_database"),
]


def test_the_policy_is_copied_from_the_site_settings(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    old_apps.get_model("articles", "SiteSettings").objects.update_or_create(
        pk=1, defaults={"title": "Mine", "comments_enabled": False, "comment_moderation": "all"}
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    policy = CommentSettings.objects.get()
    assert (policy.comments_enabled, policy.comment_moderation) == (False, "all")
    # Expand: the old columns stay (the release before this one still writes them).
    with connection.cursor() as cursor:
        columns = {
            c.name for c in connection.introspection.get_table_description(cursor, "articles_sitesettings")
        }
    assert {"comments_enabled", "comment_moderation"} <= columns


def test_without_a_site_settings_row_the_defaults_hold(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.project_state(BEFORE).apps.get_model("articles", "SiteSettings").objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    policy = CommentSettings.current()
    assert (policy.comments_enabled, policy.comment_moderation) == (
        True,
        CommentSettings.Moderation.FIRST_TIME,
    )
