"""manage.py rebuild_derived: list entries, tallies, search tokens, comment and view counts."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from articles.models import Article
from transfer.derived import derived_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the data the writes keep (list entries and tallies, the search index, comment "
        "counts, per-article traffic sums and view counts): after a restore or rows changed in SQL. "
        "Safe on a live site."
    )

    def handle(self, *args, verbosity: int = 1, **options) -> None:
        total = Article.objects.count() * 2 + 2
        with tqdm(total=total, desc="Rebuilding", unit="step", disable=verbosity == 0) as bar:

            def progress(step: str, done: int) -> None:
                bar.set_postfix_str(step)
                bar.update(done or 1)

            result = derived_rebuild(progress=progress)
        self.stdout.write(", ".join(f"{value} {name}" for name, value in result.items()))
