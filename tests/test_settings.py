"""Settings from the environment: production refuses to start without a secret and passes
`check --deploy`; the embedded default keeps a private key; MySQL runs utf8mb4 and strict;
.env.example documents every variable the code reads, and the configuration reference
(docs/configuration.md) is made from it."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Variables a test environment may carry that would change the mode under test.
_MODE_VARS = {
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_ENV",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "BLOG_TEST_BACKENDS",
    "CELERY_TASK_ALWAYS_EAGER",
    "DJANGO_SECURE_SSL_REDIRECT",
}


def _env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _MODE_VARS}
    env.update(
        BLOG_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="blog_project.settings", PYTHONPATH=str(ROOT)
    )
    env.update(extra)
    return env


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


# A developer's .env must not be the thing that supplies the key in this test.
NO_DOTENV_SETUP = (
    "import environ; environ.Env.read_env = classmethod(lambda cls, *a, **k: None)\n"
    "import django; django.setup()\n"
)


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = _python(NO_DOTENV_SETUP, _env(tmp_path, DJANGO_ENV="production"))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY must be set when DJANGO_ENV=production" in result.stderr
    assert not (tmp_path / "secret_key").exists()  # no silent fallback to a generated key


def test_production_refuses_an_empty_secret_key(tmp_path):
    result = _python(
        "import django; django.setup()", _env(tmp_path, DJANGO_ENV="production", DJANGO_SECRET_KEY="")
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_debug(tmp_path):
    env = _env(
        tmp_path, DJANGO_ENV="production", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_DEBUG="true"
    )
    result = _python("import django; django.setup()", env)
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be off" in result.stderr


PRINT_KEY = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"


def test_embedded_default_keeps_a_private_generated_key(tmp_path):
    first = _python(PRINT_KEY, _env(tmp_path))
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) >= 50
    assert first.stdout.strip() == key_file.read_text().strip()
    second = _python(PRINT_KEY, _env(tmp_path))
    assert second.stdout == first.stdout  # stable across restarts: sessions survive
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".secret_key")] == []


def test_processes_starting_together_agree_on_the_embedded_key(tmp_path):
    """Several gunicorn workers booting on a fresh checkout must not each mint their own key."""
    env = _env(tmp_path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PRINT_KEY], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    keys = {proc.communicate(timeout=60)[0].strip() for proc in procs}
    assert all(proc.returncode == 0 for proc in procs)
    assert keys == {(tmp_path / "secret_key").read_text().strip()}


PRINT_DB = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default'], default=str))"
)


def test_mysql_options_are_utf8mb4_and_strict(tmp_path):
    env = _env(tmp_path, DATABASE_URL="mysql://blog:pw@db.example:3306/blog")
    result = _python(PRINT_DB, env)
    assert result.returncode == 0, result.stderr
    db = json.loads(result.stdout)
    assert db["ENGINE"] == "django.db.backends.mysql"
    assert db["OPTIONS"]["charset"] == "utf8mb4"
    assert "STRICT_TRANS_TABLES" in db["OPTIONS"]["init_command"]
    assert "utf8mb4" in db["OPTIONS"]["init_command"]
    assert db["TEST"]["CHARSET"] == "utf8mb4"


@pytest.mark.real_backends
def test_live_mysql_session_is_utf8mb4_and_strict(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.sql_mode, @@character_set_connection, @@collation_connection")
        sql_mode, charset, collation = cursor.fetchone()
    assert "STRICT_TRANS_TABLES" in sql_mode
    assert charset == "utf8mb4"
    assert collation.startswith("utf8mb4_")


def _test_database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"mysql://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"


@pytest.mark.real_backends
def test_check_deploy_is_clean_with_production_settings(tmp_path, db):
    """`manage.py check --deploy` on MariaDB + Redis: no warning at all, including the
    database checks (strict mode)."""
    env = _env(
        tmp_path,
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DATABASE_URL=_test_database_url(),
        REDIS_URL=os.environ["REDIS_URL"],
        DJANGO_ALLOWED_HOSTS="blog.example.com",
        BLOG_SITE_URL="https://blog.example.com",
    )
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--database",
            "default",
            "--fail-level",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


def _variables_read_by_the_code() -> set[str]:
    names = set(
        re.findall(r'\benv\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', (ROOT / "blog_project/settings.py").read_text())
    )
    for path in (ROOT / "deploy").glob("*.py"):
        names |= set(re.findall(r'os\.environ\.get\(\s*"([A-Z][A-Z0-9_]*)"', path.read_text()))
    names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "compose.yaml").read_text()))
    return names


def _documented_variables() -> dict[str, str]:
    """Each variable of .env.example with the comment block just above it."""
    documented, comment = {}, []
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^#?\s?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            documented[match.group(1)] = " ".join(comment)
            comment = []
        elif line.startswith("#"):
            comment.append(line.lstrip("# "))
        else:
            comment = []
    return documented


def test_env_example_documents_every_variable_with_a_comment():
    read = _variables_read_by_the_code()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOWED_HOSTS"} <= read
    documented = _documented_variables()
    assert read - documented.keys() == set(), "variables missing from .env.example"
    undocumented = [name for name in read if len(documented[name]) < 20]
    assert undocumented == [], "variables without an explanatory comment"


def test_configuration_reference_lists_every_variable():
    page = (ROOT / "docs/configuration.md").read_text()
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", page, re.M))
    documented = _documented_variables().keys()
    assert documented - listed == set(), "docs/configuration.md is missing variables"
    assert listed - documented == set(), "docs/configuration.md lists variables .env.example does not"


def test_configuration_reference_is_the_one_made_from_env_example():
    """The committed page is what scripts/config_table.py makes, so it cannot drift."""
    spec = importlib.util.spec_from_file_location("config_table", ROOT / "scripts/config_table.py")
    config_table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config_table)
    committed = (ROOT / "docs/configuration.md").read_text()
    assert committed == config_table.page(), "run: python3 scripts/config_table.py --write"


def test_env_example_holds_no_secret():
    for line in (ROOT / ".env.example").read_text().splitlines():
        if re.match(r"^(DJANGO_SECRET_KEY|MARIADB_PASSWORD)=", line):
            assert line.split("=", 1)[1] == "", line


def test_the_default_language_must_be_one_the_site_speaks(tmp_path):
    spelled = _python(
        "import django; django.setup(); from django.conf import settings; print(settings.LANGUAGE_CODE)",
        _env(tmp_path, DJANGO_LANGUAGE_CODE="zh-Hans"),
    )
    assert spelled.returncode == 0 and spelled.stdout.strip() == "zh-hans", spelled.stderr
    unknown = _python("import django; django.setup()", _env(tmp_path, DJANGO_LANGUAGE_CODE="fr"))
    assert unknown.returncode != 0 and "DJANGO_LANGUAGE_CODE='fr'" in unknown.stderr
