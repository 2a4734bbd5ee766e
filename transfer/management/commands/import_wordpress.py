"""manage.py import_wordpress export.xml [--media uploads.tar.gz|folder]"""

from __future__ import annotations

from transfer import wordpress
from transfer.management.importing import ImportCommand


class Command(ImportCommand):
    help = "Import a WordPress export (WXR): posts, pages, comments, categories, tags and media."
    source = wordpress
    export_help = "the .xml file from Tools > Export"
    media_help = "the wp-content/uploads folder, or a .tar.gz of it"

    def run(self, export: str, *, media: str | None, progress):
        return wordpress.import_wordpress(export, media=media, progress=progress)
