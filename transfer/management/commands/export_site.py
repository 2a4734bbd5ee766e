"""manage.py export_site DIR"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from transfer.common import TransferError
from transfer.site_export import site_export


class Command(BaseCommand):
    help = (
        "Write every article and page as Markdown with front matter, the media files, and the "
        "categories, tags, comments and daily statistics as JSON, into a new folder."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", help="a folder that does not exist yet, or an empty one")

    def handle(self, *args, directory: str, **options) -> None:
        try:
            counts = site_export(directory)
        except (TransferError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("Exported: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
