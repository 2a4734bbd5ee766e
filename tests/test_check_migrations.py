"""scripts/check_migrations.py (make lint) passes our migrations and refuses the ones old
pods cannot live with during a rolling update: a NOT NULL column without a database
default, a dropped column; a nullable column passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts/check_migrations.py"
# Files and subprocesses only, the same on either backend: the embedded pass runs them once.
pytestmark = pytest.mark.embedded_only

INITIAL = """from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("title", models.CharField(max_length=100)),
            ],
        ),
    ]
"""

STEP = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notes", "0001_initial")]
    operations = [{operation}]
"""


def _check(tmp_path: Path, operation: str) -> subprocess.CompletedProcess[str]:
    """The script over a throw-away app whose second migration is ``operation``."""
    app = tmp_path / "notes"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations/__init__.py").write_text("")
    (app / "migrations/0001_initial.py").write_text(INITIAL)
    (app / "migrations/0002_change.py").write_text(STEP.format(operation=operation))
    (tmp_path / "lint_settings.py").write_text(
        "from blog_project.settings import *  # noqa: F403\n"
        "INSTALLED_APPS = [*INSTALLED_APPS, 'notes']  # noqa: F405\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
        "DJANGO_SETTINGS_MODULE": "lint_settings",
        "BLOG_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("DATABASE_URL", None)  # the SQL of SQLite is enough to read what a migration does
    return subprocess.run(
        [sys.executable, str(SCRIPT), "notes"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_our_migrations_pass(tmp_path):
    env = {**os.environ, "BLOG_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "backward compatible" in result.stdout


def test_a_not_null_column_without_a_database_default_is_refused(tmp_path):
    result = _check(
        tmp_path, 'migrations.AddField("note", "body", models.TextField(default=""), preserve_default=False)'
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0002_change" in result.stdout
    assert "NOT NULL" in result.stdout


def test_a_dropped_column_is_refused(tmp_path):
    result = _check(tmp_path, 'migrations.RemoveField("note", "title")')
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0002_change" in result.stdout


def test_expanding_with_a_nullable_column_passes(tmp_path):
    result = _check(tmp_path, 'migrations.AddField("note", "body", models.TextField(null=True))')
    assert result.returncode == 0, result.stdout + result.stderr
