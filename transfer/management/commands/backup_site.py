"""manage.py backup_site DIR (``make backup``)"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from transfer.backup import backup_create
from transfer.common import TransferError


class Command(BaseCommand):
    help = "Back up the database, the media files and the traffic counters Redis holds, into a new folder."

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory")

    def handle(self, *args, directory: str, **options) -> None:
        try:
            summary = backup_create(directory)
        except (TransferError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backed up into {directory}: database, media, {summary['redis keys']} Redis keys")
