"""manage.py import_site DIR"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from transfer.common import TransferError
from transfer.site_import import site_import


class Command(BaseCommand):
    help = "Import a folder written by export_site (idempotent; existing rows are never overwritten)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", help="the folder export_site wrote")

    def handle(self, *args, directory: str, **options) -> None:
        try:
            report = site_import(directory)
        except TransferError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
