"""The site runs without its plugins: with the comments or stats folder (or both) deleted
and nothing else changed, it migrates and serves every reader page, the feeds, the
sitemap and the admin index.

Each build is a copy of this checkout without the plugin's folder, run by the same Python
in a subprocess on a fresh SQLite database and file cache (its own var/). settings.py
finds the plugins that are there, so no other line changes; transfer needs both plugins
and leaves with either.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.embedded_only

ROOT = Path(__file__).resolve().parent.parent
# A local .env stays behind: it may point at a real database or Redis.
SKIPPED = shutil.ignore_patterns(
    ".venv",
    "var",
    ".git",
    ".env",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "site",
    "*.sqlite3",
)

# Run inside the copy: seeds a small demo blog, then asks for each page as a reader (and
# the admin index as a logged-in superuser); prints {path: status}.
PROBE = r"""
import json, os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings, setup_test_environment

setup_test_environment()
# Static files unhashed, as in the suite (no collectstatic for a throwaway copy).
UNHASHED = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
override_settings(STORAGES={**settings.STORAGES, "staticfiles": UNHASHED}).enable()
call_command("seed_demo", articles=4, verbosity=0)
from django.contrib.auth import get_user_model
from articles.models import Article, Category, Page, SidebarWidget, Tag

# Widgets a site that had both plugins keeps: skipped on pages, "unavailable" in the admin.
for kind in ("recent_comments", "site_stats"):
    SidebarWidget.objects.get_or_create(kind=kind, title="", defaults={"order": 200})

article = Article.objects.published().first()
paths = [
    "/",
    article.get_absolute_url(),
    Category.objects.first().get_absolute_url(),
    Tag.objects.filter(articles__in=[article]).first().get_absolute_url(),
    "/archives/",
    f"/archives/{article.published_at.year}/{article.published_at.month}/",
    "/search/?q=django",
    Page.objects.filter(is_published=True).first().get_absolute_url(),
    "/feed/rss/",
    "/feed/atom/",
    "/sitemap.xml",
    "/sitemap-articles.xml",
    "/robots.txt",
]
kinds = sorted(SidebarWidget.objects.values_list("kind", flat=True))
statuses = {"plugins": settings.PLUGINS, "kinds": kinds}
reader = Client(raise_request_exception=False)
for path in paths:
    statuses[path] = reader.get(path).status_code
# The counts under each title on the home page: only those an installed app keeps.
import re
metas = " ".join(re.findall(r'<p class="meta">(.*?)</p>', reader.get("/").content.decode(), re.S))
statuses["counts"] = sorted(word for word in ("comment", "view") if word in metas)
admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
editor = Client(raise_request_exception=False)
editor.force_login(admin)
for path in ("/admin/", "/admin/articles/sidebarwidget/", "/admin/articles/sitesettings/"):
    statuses[path] = editor.get(path, follow=True).status_code
print(json.dumps(statuses))
"""


def _build_without(tmp_path: Path, removed: tuple[str, ...]) -> dict:
    copy = tmp_path / "site"
    shutil.copytree(ROOT, copy, ignore=SKIPPED, symlinks=True)
    for app in removed:
        shutil.rmtree(copy / app)
    (copy / "probe.py").write_text(PROBE)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "STATS_REDIS_URL", "BLOG_PLUGINS", "CELERY_BROKER_URL"}
        and not key.startswith("PYTEST")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="blog_project.settings",
        BLOG_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    run("manage.py", "migrate", "--no-input", "-v", "0")
    return json.loads(run("probe.py").strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("removed", "plugins"),
    [
        (("comments",), ["stats"]),
        (("stats",), ["comments"]),
        (("comments", "stats"), []),
    ],
    ids=["without-comments", "without-stats", "without-both"],
)
def test_site_migrates_and_serves_without_the_plugin(tmp_path, removed, plugins):
    statuses = _build_without(tmp_path, removed)
    assert statuses.pop("plugins") == plugins  # transfer leaves with either plugin
    assert {"recent_comments", "site_stats"} <= set(statuses.pop("kinds"))
    assert statuses.pop("counts") == sorted({"comments": "comment", "stats": "view"}[app] for app in plugins)
    assert len(statuses) == 16
    assert {path: status for path, status in statuses.items() if status != 200} == {}


def test_blog_plugins_narrows_the_plugins_in_use():
    """BLOG_PLUGINS picks among the plugins present; transfer needs comments and stats."""
    env = {**os.environ, "BLOG_PLUGINS": "stats,transfer,nonsense"}
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.PLUGINS)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['stats']"
