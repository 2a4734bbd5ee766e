"""manage.py import_ghost export.json [--media images.tar.gz|folder]"""

from __future__ import annotations

from transfer import ghost
from transfer.management.importing import ImportCommand


class Command(ImportCommand):
    help = "Import a Ghost export (JSON): posts, pages, tags, authors and images."
    source = ghost
    export_help = "the .json file from Settings > Export"
    media_help = "the content/images folder, or a .tar.gz of it"

    def run(self, export: str, *, media: str | None, progress):
        return ghost.import_ghost(export, media=media, progress=progress)
