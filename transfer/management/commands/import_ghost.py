"""manage.py import_ghost export.json [--media images.tar.gz|folder]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from transfer import ghost
from transfer.common import TransferError
from transfer.ghost import import_ghost


class Command(BaseCommand):
    help = "Import a Ghost export (JSON): posts, pages, tags, authors and images."

    def add_arguments(self, parser) -> None:
        parser.add_argument("export", help="the .json file from Settings > Export")
        parser.add_argument(
            "--dry-run", action="store_true", help="only say what the export holds; write nothing"
        )
        parser.add_argument("--media", help="the content/images folder, or a .tar.gz of it")

    def handle(
        self, *args, export: str, media: str | None, dry_run: bool = False, verbosity: int = 1, **options
    ) -> None:
        if dry_run:
            try:
                counts = ghost.preview(export)
            except TransferError as exc:
                raise CommandError(str(exc)) from exc
            for label, count in counts.items():
                self.stdout.write(f"{label}: {count}")
            return
        with tqdm(desc="Importing", unit="post", disable=verbosity == 0) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                report = import_ghost(export, media=media, progress=progress)
            except TransferError as exc:
                raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
