"""Configuration mistakes are one clear line at start-up, from manage.py and from gunicorn:
a malformed DATABASE_URL or REDIS_URL, a database that does not answer or does not exist,
MariaDB without its time zone tables (a private mariadbd, as mariadb-install-db leaves it),
and in production a Redis that does not answer (a warning: pages are served without it)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults import MariaDBServer, free_port

ROOT = Path(__file__).resolve().parent.parent
_MODE_VARS = {"DATABASE_URL", "REDIS_URL", "DJANGO_ENV", "DJANGO_SECRET_KEY", "BLOG_TEST_BACKENDS",
              "CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL", "STATS_REDIS_URL"}  # fmt: skip


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _MODE_VARS}
    env.update(
        BLOG_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="blog_project.settings", PYTHONPATH=str(ROOT)
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "manage.py", *args], env)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not-a-url", "DATABASE_URL='not-a-url' is not a database URL this blog can use"),
        ("postgres://u:secret@db/blog", "DATABASE_URL='postgres://u:***@db/blog' is not a database URL"),
        ("mysql://root@127.0.0.1:3306/", "names no database"),
    ],
)
def test_a_malformed_database_url_is_one_line(tmp_path, url, message):
    result = _manage("migrate", env=_env(tmp_path, DATABASE_URL=url))
    assert result.returncode == 1
    assert _lines(result.stderr) == [_lines(result.stderr)[0]] and message in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


def test_a_malformed_redis_url_is_one_line(tmp_path):
    result = _manage("check", env=_env(tmp_path, REDIS_URL="localhost:6379"))
    assert result.returncode == 1
    expected = (
        "Configuration error: REDIS_URL='localhost:6379' is not a Redis URL: "
        "expected redis://host:6379/0 (rediss:// for TLS, unix:///path/redis.sock)."
    )
    assert _lines(result.stderr) == [expected]


@pytest.mark.real_backends
def test_a_database_that_does_not_answer_or_exist_is_one_line(tmp_path):
    dead = _manage("migrate", env=_env(tmp_path, DATABASE_URL=f"mysql://root@127.0.0.1:{free_port()}/blog"))
    assert dead.returncode == 1 and len(_lines(dead.stderr)) == 1, dead.stderr
    assert dead.stderr.startswith("Database error: Cannot use the database 'blog' on 127.0.0.1:")
    missing = _manage(
        "migrate", env=_env(tmp_path, DATABASE_URL="mysql://root@127.0.0.1:3306/no_such_blog_db")
    )
    assert missing.returncode == 1 and len(_lines(missing.stderr)) == 1, missing.stderr
    assert "Unknown database 'no_such_blog_db'" in missing.stderr
    gunicorn = _run(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "deploy/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{free_port()}", "blog_project.wsgi"],
        _env(tmp_path, DATABASE_URL="mysql://root@127.0.0.1:3306/no_such_blog_db", GUNICORN_ACCESSLOG=""),
    )  # fmt: skip
    assert gunicorn.returncode == 1
    assert "Error: Cannot use the database 'no_such_blog_db'" in gunicorn.stderr
    assert "Traceback" not in gunicorn.stderr and "Booting worker" not in gunicorn.stderr


@pytest.mark.real_backends
def test_mariadb_without_time_zone_tables_is_refused_by_migrate_and_gunicorn(tmp_path):
    server = MariaDBServer(tmp_path).install().start()
    try:
        server.sql("CREATE DATABASE blog")
        env = _env(tmp_path, DATABASE_URL=server.url("blog"), GUNICORN_ACCESSLOG="")
        migrate = _manage("migrate", env=env)
        assert migrate.returncode == 1
        assert "(blog.E002) MySQL/MariaDB has no time zone tables" in migrate.stderr
        assert "mysql_tzinfo_to_sql /usr/share/zoneinfo | mysql -u root mysql" in migrate.stderr
        gunicorn = _run(
            [str(Path(sys.executable).with_name("gunicorn")), "-c", "deploy/gunicorn.conf.py",
             "--bind", f"127.0.0.1:{free_port()}", "blog_project.wsgi"],
            env,
        )  # fmt: skip
        assert gunicorn.returncode == 1
        assert "Error: MySQL/MariaDB has no time zone tables" in gunicorn.stderr
        server.load_time_zones("UTC", "Asia/Shanghai")
        assert _manage("migrate", "-v0", env=env).returncode == 0  # and with them, it starts
    finally:
        server.stop()


def test_an_unreachable_redis_in_production_is_one_warning_line(tmp_path):
    env = _env(
        tmp_path,
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
    )
    result = _manage("check", env=env)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in _lines(result.stderr) if "blog.W001" in line]
    assert len(warnings) == 1 and "Redis (redis) at redis://127.0.0.1:" in warnings[0]
    assert "does not answer" in warnings[0]
