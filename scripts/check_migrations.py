#!/usr/bin/env python3
"""Refuse migrations that old pods cannot live with during a rolling update (make lint).

While a release rolls out, pods of the old release keep serving on the schema the new
release's migrate Job has already changed (deploy/k8s, compose's `up`). So a migration
must not drop or rename a column or table the old code reads, nor add a NOT NULL column
without a database default the old code's INSERTs would miss. django-migration-linter reads
the SQL of every migration of our apps (`sqlmigrate`) and names what is not backward
compatible; README "Kubernetes" says how to split such a change into an expand and a
contract release.

Migrations released before this check are listed in BASELINE with what they did: they were
applied before pods could roll (a fresh cluster applies them before any pod starts).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["articles", "comments", "stats"]
BASELINE = {
    # NOT NULL columns added with a one-off default (Django drops it after filling).
    ("articles", "0005_lists_and_tallies"),
    ("articles", "0006_search_tokens"),
    ("articles", "0007_editor_media_autosave_seo"),
    ("stats", "0002_article_traffic_sums"),
}


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")
    import django

    django.setup()
    logging.getLogger("django_migration_linter").setLevel(logging.WARNING)
    from django_migration_linter.migration_linter import MigrationLinter

    linter = MigrationLinter(
        include_apps=APPS,
        ignore_name=[name for _app, name in BASELINE],
        no_cache=True,
        quiet=["ok", "ignore"],
    )
    linter.lint_all_migrations()
    if linter.has_errors:
        print("Backward-incompatible migration: split it (README, Kubernetes: expand, then contract).")
        return 1
    print(f"Migrations of {', '.join(APPS)}: backward compatible ({len(BASELINE)} baselined).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
