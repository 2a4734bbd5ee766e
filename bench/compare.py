"""Put runs of bench/admin.py side by side: one markdown table, a column per run.

    .venv/bin/python bench/compare.py "1k before=bench/results/admin-before-1k-*.json" \\
        "1k after=bench/results/admin-after-1k-*.json" ...

Each argument is ``label=file`` (a shell pattern picks the newest match). Rows are matched
by their place in the run (every run measures the same pages in the same order; page
numbers in names differ with the data), named as in the last run.
"""

from __future__ import annotations

import glob
import json
import os
import sys


def main(arguments: list[str]) -> None:
    runs = []
    for argument in arguments:
        label, _sep, pattern = argument.partition("=")
        matches = sorted(glob.glob(pattern), key=os.path.getmtime)
        if not matches:
            sys.exit(f"nothing matches {pattern}")
        runs.append((label, json.loads(open(matches[-1]).read())))  # noqa: SIM115
    names = [row["name"] for row in runs[-1][1]]
    print("| page | " + " | ".join(label for label, _rows in runs) + " |")
    print("|---|" + "---:|" * len(runs))
    for index, name in enumerate(names):
        cells = []
        for _label, rows in runs:
            row = rows[index] if index < len(rows) else None
            cells.append(f"{row['ms']:,.0f} ms, {row['queries']} q" if row else "—")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
