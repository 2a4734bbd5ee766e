#!/usr/bin/env python3
"""Flag literal calendar dates in test code.

A test that writes down a date of the year it was written passes only near that day:
fixtures published "now" are in the future of a travelled clock, and Redis expires keys by
its own clock. Dates in tests are computed from the day the suite runs. A literal date is
allowed only where no clock is involved (parsing a date, laying out a chart), and then the
line says so with a ``# fixed date: <why>`` comment.

Usage: scripts/check_test_dates.py [PATH ...]   (default: every test module of the project)
Exit 1 with one line per finding, 0 when clean.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LITERAL_DATE = re.compile(
    r"""\b(?:date|datetime)\(\s*(?:19|20)\d\d\s*,"""  # date(2026, 11, 23), datetime(2026, ...)
    r"""|["'](?:19|20)\d\d-\d\d-\d\d"""  # "2026-11-23", '2026-11-23T10:00'
    r"""|["'](?:19|20)\d\d(?:0[1-9]|1[0-2])\d\d["']"""  # "20261123"
)
PRAGMA = "# fixed date:"


def test_modules() -> list[Path]:
    skip = {".venv", "var", ".git", "node_modules"}
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not skip.intersection(path.relative_to(ROOT).parts)
        and ("tests" in path.relative_to(ROOT).parts[:-1] or path.name == "conftest.py")
    )


def findings(path: Path) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if LITERAL_DATE.search(line) and PRAGMA not in line:
            found.append(f"{path.relative_to(ROOT)}:{number}: literal date in a test: {line.strip()}")
    return found


def main(argv: list[str]) -> int:
    paths = [Path(arg).resolve() for arg in argv] or test_modules()
    problems = [problem for path in paths for problem in findings(path)]
    for problem in problems:
        print(problem)
    if problems:
        print(
            f"{len(problems)} literal date(s) in tests: compute them from the day the suite runs "
            f"(timezone.localdate(), timezone.now()), or mark a clock-free use with '{PRAGMA} <why>'.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
