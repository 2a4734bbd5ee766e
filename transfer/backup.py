"""Backups that restore: the database, the media files and the traffic counters Redis holds
that the daily rollup has not moved into the database yet (``make backup`` / ``make restore``).

A backup folder holds:

- ``database.sql`` (MariaDB/MySQL: ``mariadb-dump --single-transaction``, a consistent
  snapshot without locking readers out) or ``database.sqlite3`` (SQLite's online backup);
- ``media.tar.gz``: the media folder;
- ``redis-stats.json``: each stats counter key (``<prefix>:stats:<day>:...``) with its
  expiry, as Redis's own DUMP format (embedded, the counters are database rows: in the dump);
- ``backup.json``: what was backed up, when.

Restore writes them back into the configured database (which may be empty: the dump makes
its tables), media folder and Redis, then renews the cache generations so no page from
before the restore is served. Stop the web and worker processes while restoring.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from blog_project import caching
from stats.backends import get_backend

from .common import TransferError

DUMP_TIMEOUT = 3600


def _mysql_args(settings_dict: dict) -> tuple[list[str], dict]:
    args = [
        f"--host={settings_dict.get('HOST') or '127.0.0.1'}",
        f"--port={settings_dict.get('PORT') or 3306}",
        f"--user={settings_dict.get('USER') or 'root'}",
        "--default-character-set=utf8mb4",
    ]
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["MYSQL_PWD"] = settings_dict["PASSWORD"]  # not on the command line (ps shows it)
    return args, env


def _redis_client():
    backend = get_backend()
    return (backend.client, backend.prefix) if backend.name == "redis" else (None, "")


def _run(command: list[str], **kwargs) -> None:
    try:
        subprocess.run(command, check=True, timeout=DUMP_TIMEOUT, **kwargs)  # noqa: S603 - our arguments
    except FileNotFoundError as exc:
        raise TransferError(f"{command[0]} is not installed.") from exc
    except subprocess.CalledProcessError as exc:
        raise TransferError(f"{command[0]} failed (exit status {exc.returncode}).") from exc


def backup_create(directory: str | Path) -> dict:
    root = Path(directory)
    if root.exists() and any(root.iterdir()):
        raise TransferError(f"{root} is not empty: back up into a new or empty folder.")
    root.mkdir(parents=True, exist_ok=True)
    db = connection.settings_dict
    summary: dict[str, object] = {"created_at": timezone.now().isoformat(), "vendor": connection.vendor}
    if connection.vendor == "mysql":
        args, env = _mysql_args(db)
        with open(root / "database.sql", "wb") as out:
            _run(
                ["mariadb-dump", *args, "--single-transaction", "--routines", "--events", db["NAME"]],
                stdout=out,
                env=env,
            )
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(root / "database.sqlite3")
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    else:
        raise TransferError(f"Backups of {connection.vendor} databases are not supported.")
    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(root / "media.tar.gz", "w:gz") as archive:
        if media_root.is_dir():
            archive.add(media_root, arcname="media")
    client, prefix = _redis_client()
    keys = []
    if client is not None:
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            name = key.decode() if isinstance(key, bytes) else key
            if name.startswith(f"{prefix}:lock:"):
                continue
            dumped, ttl = client.dump(key), client.pttl(key)
            if dumped is not None:
                keys.append({"key": name, "ttl_ms": max(ttl, 0), "dump": base64.b64encode(dumped).decode()})
    (root / "redis-stats.json").write_text(json.dumps(keys), encoding="utf-8")
    summary["redis keys"] = len(keys)
    (root / "backup.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return summary


def backup_restore(directory: str | Path) -> dict:
    root = Path(directory)
    meta_path = root / "backup.json"
    if not meta_path.is_file():
        raise TransferError(f"{root} is not a backup: no backup.json in it.")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("vendor") != connection.vendor:
        raise TransferError(
            f"This backup is of a {meta.get('vendor')} database; this site uses {connection.vendor}."
        )
    db = connection.settings_dict
    if connection.vendor == "mysql":
        args, env = _mysql_args(db)
        with open(root / "database.sql", "rb") as dump:
            _run(["mariadb", *args, db["NAME"]], stdin=dump, env=env)
    else:
        source = sqlite3.connect(root / "database.sqlite3")
        try:
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()
    connection.close()  # the tables were replaced under this connection
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(root / "media.tar.gz", "r:gz") as archive:
        staging = media_root.parent / f".restore-{timezone.now():%Y%m%d%H%M%S}"
        archive.extractall(staging, filter="data")  # no absolute paths, links or devices
    restored = staging / "media"
    if restored.is_dir():
        shutil.copytree(restored, media_root, dirs_exist_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    client, _prefix = _redis_client()
    keys = (
        json.loads((root / "redis-stats.json").read_text(encoding="utf-8"))
        if (root / "redis-stats.json").exists()
        else []
    )
    if client is not None:
        for row in keys:
            client.restore(
                row["key"], int(row.get("ttl_ms") or 0), base64.b64decode(row["dump"]), replace=True
            )
    caching.bump(*caching.SCOPES)
    return {"redis keys": len(keys) if client is not None else 0, **meta}
