"""What ``import_wordpress`` and ``import_ghost`` share: the arguments, the dry run, the
progress bar and the report. Each command names its source's module and its help texts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import ModuleType

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from transfer.common import TransferError


class ImportCommand(BaseCommand, ABC):
    source: ModuleType  # the importer module: its preview(path) is the dry run
    export_help = ""
    media_help = ""

    def add_arguments(self, parser) -> None:
        parser.add_argument("export", help=self.export_help)
        parser.add_argument(
            "--dry-run", action="store_true", help="only say what the export holds; write nothing"
        )
        parser.add_argument("--media", help=self.media_help)

    def handle(
        self, *args, export: str, media: str | None, dry_run: bool = False, verbosity: int = 1, **options
    ) -> None:
        try:
            if dry_run:
                for label, count in self.source.preview(export).items():
                    self.stdout.write(f"{label}: {count}")
                return
            with tqdm(desc="Importing", unit="post", disable=verbosity == 0) as bar:

                def progress(done: int, total: int) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                report = self.run(export, media=media, progress=progress)
        except TransferError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)

    @abstractmethod
    def run(self, export: str, *, media: str | None, progress):
        """Import ``export`` (and its ``media``), calling ``progress(done, total)``; the report."""
