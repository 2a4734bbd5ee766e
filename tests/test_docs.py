"""README is the front door: short, and every link it gives into docs/ reaches a page and,
when it names one, a heading of that page (`make docs` checks the links between the pages
themselves; it does not read README)."""

from __future__ import annotations

import re
from pathlib import Path

import markdown

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _anchors(page: Path) -> set[str]:
    """The heading ids MkDocs gives the page (the same Markdown toc extension)."""
    md = markdown.Markdown(extensions=["toc", "tables", "fenced_code"])
    md.convert(page.read_text())
    ids, tokens = set(), list(md.toc_tokens)
    while tokens:
        token = tokens.pop()
        ids.add(token["id"])
        tokens.extend(token["children"])
    return ids


def test_readme_is_under_150_lines():
    assert len(README.read_text().splitlines()) < 150


def test_readme_links_reach_docs_pages_and_their_headings():
    links = re.findall(r"\]\(([^)\s]+)\)", README.read_text())
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert len(local) >= 10 and all(link.startswith("docs/") for link in local), local
    for link in local:
        path, _, anchor = link.partition("#")
        page = ROOT / path
        assert page.is_file(), f"README links to {path}, which does not exist"
        if anchor:
            assert anchor in _anchors(page), f"README links to {link}: no such heading"
