#!/usr/bin/env python3
"""Refuse migrations that old pods cannot live with during a rolling update (make lint).

While a release rolls out, pods of the old release keep serving on the schema the new
release's migrate Job has already changed (deploy/k8s, compose's `up`). So a migration
must not drop or rename a column or table the old code reads, nor add a NOT NULL column
without a database default the old code's INSERTs would miss. django-migration-linter reads
the SQL of every migration of our apps (`sqlmigrate`) and names what is not backward
compatible; docs/kubernetes.md says how to split such a change into an expand and a
contract release.

Usage: scripts/check_migrations.py [APP ...]   (default: articles comments stats)

The SQL read is the configured database's: SQLite's by default (no server needed), which
rebuilds a table for many changes MariaDB makes in place, so the check errs towards
refusing. A migration it refuses that is safe where it stands goes into ACCEPTED with the
reason: those released before this check (a fresh cluster applies them before any pod
starts), and contract steps, which run once no pod of the release before them is left.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["articles", "comments", "stats", "transfer"]
ACCEPTED = {
    ("articles", "0005_lists_and_tallies"): "released before the check",
    ("articles", "0006_search_tokens"): "released before the check",
    ("articles", "0007_editor_media_autosave_seo"): "released before the check",
    ("stats", "0002_article_traffic_sums"): "released before the check",
    # Its one NOT NULL column has a database default (db_default=""), so inserts by the
    # release before it still work; SQLite rebuilds the table for it, which the linter
    # reads as a bare NOT NULL.
    ("articles", "0013_roles_and_review"): "review_note has a database default",
    ("articles", "0015_site_setting_show_reading_time"): "show_reading_time has a database default",
    # During the update an old pod's autosave by a second editor of the same article is
    # refused by the new constraint (that autosave only; the form's save is unaffected).
    ("articles", "0016_one_autosave_per_article"): "one autosave per article: old pods' second editor only",
    # Expand: the column stays, with a database default; only the models forget it.
    ("articles", "0017_site_language_is_a_deployment_setting"): "the language column stays (expand)",
    # Expand: the comment policy's columns stay, with database defaults (the policy now
    # lives in comments.CommentSettings); the widget kind loses its choices (no SQL).
    ("articles", "0018_plugins_register_themselves"): "the comment policy columns stay (expand)",
}


def main(apps: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")
    import django

    django.setup()
    logging.getLogger("django_migration_linter").setLevel(logging.WARNING)
    from django_migration_linter.migration_linter import MigrationLinter

    linter = MigrationLinter(
        include_apps=apps,
        ignore_name=[name for _app, name in ACCEPTED],
        no_cache=True,
        quiet=["ok", "ignore"],
    )
    linter.lint_all_migrations()
    if linter.has_errors:
        print("Backward-incompatible migration: split it (docs/kubernetes.md: expand, then contract).")
        return 1
    print(f"Migrations of {', '.join(apps)}: backward compatible ({len(ACCEPTED)} accepted by name).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or APPS))
