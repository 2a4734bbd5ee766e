"""manage.py restore_site DIR (``make restore``)"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from transfer.backup import backup_restore
from transfer.common import TransferError


class Command(BaseCommand):
    help = (
        "Restore a backup_site folder into the configured database, media folder and Redis "
        "(stop the web and worker processes first)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory")

    def handle(self, *args, directory: str, **options) -> None:
        try:
            summary = backup_restore(directory)
        except (TransferError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored the backup of {summary.get('created_at')}: {summary['redis keys']} Redis keys"
        )
