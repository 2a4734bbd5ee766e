"""Imports started from the admin run here, in the worker (``jobs.job_run``); the admin
starts them through ``job_start`` (services do not import tasks: the queueing is here)."""

from __future__ import annotations

import logging

from celery import shared_task

from blog_project.broker import publish

from . import jobs
from .models import ImportJob

log = logging.getLogger(__name__)


@shared_task(acks_late=False)
def run_import(job_id: int) -> None:
    jobs.job_run(job_id=job_id)


def job_start(*, job: ImportJob) -> bool:
    """Queue the import (False if it was not waiting). Without a broker, or when the broker
    cannot take it, it runs here and now."""
    if not jobs.job_mark_queued(job=job):
        return False
    if not publish(run_import, args=(job.pk,)):
        log.warning("Import %s: the broker did not take it, running it in this process", job.pk)
        jobs.job_run(job_id=job.pk)
    return True
