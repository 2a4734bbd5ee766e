"""Imports started from the admin: upload, preview, run (in Celery, or here without a
broker), progress.

The uploads are stored under ``BLOG_IMPORT_DIR`` (default ``<var>/imports``), never under
the public media folder; the worker must see that folder too (in compose: a volume shared
with the web replicas). They are deleted once the import has finished.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from . import ghost, site_import, wordpress
from .common import Report, TransferError
from .models import ImportJob

log = logging.getLogger(__name__)

PREVIEWS: dict[str, Callable[[str | Path], dict[str, int]]] = {
    ImportJob.Kind.WORDPRESS: wordpress.preview,
    ImportJob.Kind.GHOST: ghost.preview,
    ImportJob.Kind.SITE: site_import.preview_zip,
}
IMPORTS: dict[str, Callable[..., Report]] = {
    ImportJob.Kind.WORDPRESS: wordpress.import_wordpress,
    ImportJob.Kind.GHOST: ghost.import_ghost,
    ImportJob.Kind.SITE: site_import.import_zip,
}


def import_dir() -> Path:
    return Path(getattr(settings, "BLOG_IMPORT_DIR", "") or Path(settings.VAR_DIR) / "imports")


def _store(folder: Path, upload: UploadedFile, name: str) -> str:
    suffix = "".join(Path(upload.name or "").suffixes[-2:]).lower()
    suffix = suffix if suffix in (".xml", ".json", ".tar.gz", ".tgz", ".tar", ".zip") else ""
    target = folder / f"{name}{suffix}"
    with open(target, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return str(target)


def job_create(*, kind: str, export: UploadedFile, media: UploadedFile | None, user) -> ImportJob:
    """Store the uploads and read the preview; TransferError (nothing kept) for a file that
    is not an export of that kind."""
    folder = import_dir() / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        export_path = _store(folder, export, "export")
        media_path = _store(folder, media, "media") if media else ""
        preview = PREVIEWS[kind](export_path)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    names = ", ".join(upload.name or "" for upload in (export, media) if upload)
    return ImportJob.objects.create(
        kind=kind,
        export_file=export_path,
        media_file=media_path,
        original_names=names[:600],
        preview=preview,
        created_by=user,
    )


def job_mark_queued(*, job: ImportJob) -> bool:
    """Mark the import queued (False if it was not waiting for that). ``tasks.job_start``
    then queues it, or runs it here."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.state != ImportJob.State.PREVIEW:
            return False
        locked.state = ImportJob.State.QUEUED
        locked.save(update_fields=["state"])
    return True


def job_run(*, job_id: int) -> None:
    updated = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING
    )
    if not updated:
        return  # already run (a redelivered task)
    job = ImportJob.objects.get(pk=job_id)

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(done=done, total=total)

    lines: list[str]
    try:
        report = IMPORTS[job.kind](job.export_file, media=job.media_file or None, progress=progress)
    except TransferError as exc:
        state, lines, error = ImportJob.State.FAILED, [], str(exc)
    except Exception as exc:  # recorded for the admin; the traceback goes to the log
        log.exception("Import %s failed", job_id)
        state, lines, error = ImportJob.State.FAILED, [], f"{exc.__class__.__name__}: {exc}"
    else:
        state, lines, error = ImportJob.State.DONE, report.lines(), ""
    ImportJob.objects.filter(pk=job_id).update(
        state=state, report=lines, error=error, finished_at=timezone.now()
    )
    _uploads_delete(job)


def _uploads_delete(job: ImportJob) -> None:
    folder = Path(job.export_file).parent
    if folder.parent == import_dir():  # only the job's own upload folder
        shutil.rmtree(folder, ignore_errors=True)


def job_delete(*, job: ImportJob) -> None:
    """Forget a job and its uploads (an import that is running keeps going)."""
    _uploads_delete(job)
    job.delete()
