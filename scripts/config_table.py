#!/usr/bin/env python3
"""Print README's configuration table from .env.example (the one list of variables).

    python3 scripts/config_table.py           # print it
    python3 scripts/config_table.py --write   # replace the table in README.md

tests/test_settings.py checks that the code reads no variable .env.example misses and that
the README's table lists every one of them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / ".env.example"
README = ROOT / "README.md"
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


def write_readme() -> None:
    """Swap the table under README's "## Configuration" heading for a fresh one."""
    text = README.read_text()
    start = text.index(HEADER, text.index("## Configuration"))
    end = start
    lines = text[start:].splitlines(keepends=True)
    for line in lines:
        if not line.startswith("|"):
            break
        end += len(line)
    README.write_text(text[:start] + table() + "\n" + text[end:])


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_readme()
    else:
        print(table())
