#!/usr/bin/env python3
"""Print README's configuration table from .env.example (the one list of variables).

    python3 scripts/config_table.py   # paste under "## Configuration" in README.md

tests/test_settings.py checks that the code reads no variable .env.example misses and that
the README's table lists every one of them.
"""

from __future__ import annotations

import re
from pathlib import Path

ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


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


if __name__ == "__main__":
    print("| Variable | Default | What it does |\n|---|---|---|")
    print("\n".join(rows(ENV_EXAMPLE.read_text().splitlines())))
