#!/usr/bin/env python3
"""Make the configuration reference's table (docs/configuration.md) from .env.example, the
one list of variables.

    python3 scripts/config_table.py           # print it
    python3 scripts/config_table.py --write   # replace the table in docs/configuration.md
    python3 scripts/config_table.py --check   # fail if the committed page is not the one made

tests/test_settings.py checks that the code reads no variable .env.example misses and that
the committed page is the one this script makes (so it lists every variable), and `make docs`
runs --check before building the site.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / ".env.example"
PAGE = ROOT / "docs" / "configuration.md"
HEADER = "| Variable | Default | What it does |\n|---|---|---|"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def rows(lines: list[str]) -> list[str]:
    out, comment, in_section = [], [], False
    for line in lines:
        if section := re.match(r"^# --- (.+?) -+$", line):
            out.append(f"| **{section.group(1)}** | | |")
            comment, in_section = [], True
        elif variable := re.match(r"^#? ?([A-Z][A-Z0-9_]+)=", line):
            text = " ".join(comment)
            default = ""
            if found := re.search(r"Default: (.*)$", text):
                default, text = found.group(1), text[: found.start()].strip()
            out.append(f"| `{variable.group(1)}` | {_cell(default)} | {_cell(text)} |")
            comment = []
        elif line.startswith("# ") and in_section:
            comment.append(line[2:].strip())
        elif not line.strip():
            comment = []
    return out


def table() -> str:
    return HEADER + "\n" + "\n".join(rows(ENV_EXAMPLE.read_text().splitlines()))


def page() -> str:
    """docs/configuration.md with the table under its "# Configuration" heading made afresh."""
    text = PAGE.read_text()
    start = text.index(HEADER, text.index("# Configuration"))
    end = start
    for line in text[start:].splitlines(keepends=True):
        if not line.startswith("|"):
            break
        end += len(line)
    return text[:start] + table() + "\n" + text[end:]


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        PAGE.write_text(page())
    elif sys.argv[1:] == ["--check"]:
        if PAGE.read_text() != page():
            sys.exit(f"{PAGE.relative_to(ROOT)} is not made from .env.example: run {sys.argv[0]} --write")
    else:
        print(table())
