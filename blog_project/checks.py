"""Start-up checks: a configuration mistake is one clear line, not a traceback, and not a
site that starts and then fails page by page.

- blog.E001: the database does not answer (wrong host, port, credentials or database
  name; the server is down).
- blog.E002: MySQL/MariaDB without its time zone tables (USE_TZ date lookups, such as the
  archives and the admin's date hierarchy, would fail).
- blog.W001: in production, a Redis in REDIS_URL / STATS_REDIS_URL / CELERY_BROKER_URL that
  does not answer. A warning: the blog serves pages without Redis (a replica restarted
  during a Redis outage must come up), but the operator should know at once.
- blog.W002: with BLOG_MEDIA_STORAGE=s3, a bucket that cannot be reached or read with the
  configured keys. A warning too: pages are served, uploads fail until it is fixed.

They run with ``manage.py check --database default`` and ``migrate`` (Django's database
checks), and before gunicorn starts its workers (``deploy/gunicorn.conf.py`` calls
``startup_report``). A malformed DATABASE_URL or REDIS_URL is refused while the settings
load (ImproperlyConfigured, one line through ``manage.py`` and gunicorn alike).
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError, connections

from .health import ping_redis, redis_urls

DB_ALIAS = "default"


def _where() -> str:
    db = settings.DATABASES[DB_ALIAS]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite file {db['NAME']}"
    host = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 3306}"
    return f"database {db['NAME']!r} on {host} as {db.get('USER')!r}"


def database_problem() -> str | None:
    connection = connections[DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        connection.close()
        detail = exc.args[1] if len(exc.args) > 1 else exc
        return f"Cannot use the {_where()}: {detail} (check DATABASE_URL, and that the server runs)."
    return None


def timezone_tables_problem() -> str | None:
    connection = connections[DB_ALIAS]
    if connection.vendor != "mysql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONVERT_TZ('2020-01-01 00:00:00', 'UTC', %s)", [settings.TIME_ZONE])
        converted = cursor.fetchone()[0]
    if converted is None:
        return (
            f"MySQL/MariaDB has no time zone tables (TIME_ZONE {settings.TIME_ZONE!r} is unknown to it); "
            "load them once: mysql_tzinfo_to_sql /usr/share/zoneinfo | mysql -u root mysql"
        )
    return None


def redis_problems() -> list[str]:
    found = []
    for role, url in redis_urls().items():
        try:
            ping_redis(url)
        except Exception as exc:
            found.append(f"Redis ({role}) at {url} does not answer: {exc!r}")
    return found


@register(Tags.database)
def check_database(app_configs=None, databases=None, **kwargs) -> list:
    """Runs when checks are asked to look at the database (migrate, check --database)."""
    if not databases or DB_ALIAS not in databases:
        return []
    problem = database_problem()
    if problem:
        return [Error(problem, id="blog.E001")]
    problem = timezone_tables_problem()
    return [Error(problem, id="blog.E002")] if problem else []


@register()
def check_redis(app_configs=None, **kwargs) -> list:
    if not getattr(settings, "IS_PRODUCTION", False):
        return []
    hint = "Pages are served without Redis, but nothing is cached or counted and mail waits in the outbox."
    return [Warning(problem, hint=hint, id="blog.W001") for problem in redis_problems()]


@register()
def check_media_bucket(app_configs=None, **kwargs) -> list:
    if getattr(settings, "BLOG_MEDIA_STORAGE", "filesystem") != "s3":
        return []
    # Only with S3 media: the storage module needs boto3 and django-storages.
    from django.core.files.storage import default_storage

    from .storage import bucket_problem

    problem = bucket_problem(default_storage)
    hint = "Pages and their images are served; uploads in the editor fail until it is fixed."
    return [Warning(problem, hint=hint, id="blog.W002")] if problem else []


def startup_report() -> tuple[list[str], list[str]]:
    """(errors, warnings) as single lines, for a process about to serve (gunicorn)."""
    errors = [message.msg for message in check_database(databases=[DB_ALIAS])]
    warnings = [message.msg for message in check_redis() + check_media_bucket()]
    for connection in connections.all(initialized_only=True):
        connection.close()  # the server process forks its workers after this
    return errors, warnings
