"""Imports started from the admin run here, in the worker (``jobs.job_run``)."""

from celery import shared_task

from . import jobs


@shared_task(acks_late=False)
def run_import(job_id: int) -> None:
    jobs.job_run(job_id=job_id)
