"""One table of a bench/run.sh run, held against DESIGN.md's bars.

    .venv/bin/python bench/summarize.py bench/results/<timestamp>-run

Reads what the run wrote (after-write-<vendor>-<articles>.json from bench/after_write.py,
pages-<articles>.path pointing at bench/pages.sh's rows.jsonl) and prints markdown.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

READER_BAR, COMMENTER_BAR, TAIL_BAR = 0.75, 0.65, 3.0  # new and returning readers; commenters
KINDS = ("new", "reader", "commenter")
QUERY_BAR, MS_BAR, SAME_BAR, RSS_BAR, SEARCH_BAR = 10, 50.0, 1.20, 20.0, 30.0
WRITES = ("after article edit", "after approved comment")


def mark(ok: bool) -> str:
    return "" if ok else " ✗"


def pages_table(run: Path) -> list[str]:
    lines = []
    for pointer in sorted(run.glob("pages-*.path"), key=lambda p: int(p.stem.split("-")[1])):
        articles = pointer.stem.split("-")[1]
        rows_file = Path(pointer.read_text().strip()) / "rows.jsonl"
        if not rows_file.exists():
            lines.append(f"\n(no page figures for {articles} articles: see {rows_file.parent})")
            continue
        rows = [json.loads(line) for line in rows_file.read_text().splitlines() if line.strip()]
        lines += [
            f"\n### Requests/s, {articles} articles (2 sync workers on one core, wrk -c32 on the other)\n",
            "| row | req/s | share of plain hello | bar | p50 ms | p99 ms | p99/p50 (≤ 3) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in rows:
            share = row["rps"] / row["hello_rps"] if row["hello_rps"] else 0
            bar = (
                None
                if row["row"] == "hello"
                else COMMENTER_BAR
                if row["row"].endswith("-commenter")
                else READER_BAR
            )
            ok = bar is None or share >= bar
            tail_ok = row["row"] == "hello" or row["p99_over_p50"] <= TAIL_BAR
            bar_text = "" if bar is None else f"≥ {bar:.0%}"
            lines.append(
                f"| {row['row']} | {row['rps']:,} | {share:.0%}{mark(ok)} | {bar_text} "
                f"| {row['p50_ms']} | {row['p99_ms']} | {row['p99_over_p50']}{mark(tail_ok)} |"
            )
        lines += readers_matrix(rows)
    return lines


def readers_matrix(rows: list[dict]) -> list[str]:
    """Each page as a new reader, a returning reader and a remembered commenter, as a
    share of the plain hello of the same run."""
    shares: dict[str, dict[str, str]] = {}
    for row in rows:
        page, _sep, kind = row["row"].rpartition("-")
        if kind in KINDS and row["hello_rps"]:
            bar = COMMENTER_BAR if kind == "commenter" else READER_BAR
            share = row["rps"] / row["hello_rps"]
            shares.setdefault(page, {})[kind] = f"{share:.0%}{mark(share >= bar)}"
    pages = [page for page, found in shares.items() if len(found) == len(KINDS)]
    if not pages:
        return []
    hello = next((row["rps"] for row in rows if row["row"] == "hello"), 0)
    lines = [
        f"\nShare of the plain hello ({hello:,} req/s) in the same run:\n",
        "| page | new reader (≥ 75%) | returning reader (≥ 75%) | remembered commenter (≥ 65%) |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {page} | " + " | ".join(shares[page][kind] for kind in KINDS) + " |" for page in pages]
    return lines


def after_write_tables(run: Path) -> list[str]:
    lines = []
    for vendor in ("mysql", "sqlite"):
        found = sorted(
            run.glob(f"after-write-{vendor}-*.json"), key=lambda path: int(path.stem.rsplit("-", 1)[1])
        )
        if not found:
            continue
        results = [json.loads(path.read_text()) for path in found]
        small, large = results[0], results[-1]
        sizes = " → ".join(f"{r['articles']:,}" for r in results)
        lines += [
            f"\n### First render after a write, {vendor} ({sizes} articles)\n",
            "| page | write | queries | ms | ms at the smallest size | within 20% | ≤ 10 q, ≤ 50 ms |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for page, row in large["pages"].items():
            for write in (*WRITES, "flushed", "warm"):
                figures, base = row[write], small["pages"][page][write]
                same = figures["ms"] <= max(base["ms"] * SAME_BAR, base["ms"] + 2.0)
                bars = figures["queries"] <= QUERY_BAR and figures["ms"] <= MS_BAR
                lines.append(
                    f"| {page} | {write} | {figures['queries']} | {figures['ms']} | {base['ms']} "
                    f"| {'yes' if same else 'no ✗' if write in WRITES else 'no'} "
                    f"| {('yes' if bars else 'no ✗') if write in WRITES else '-'} |"
                )
        rss_growth = large["rss_after_mb"] - small["rss_after_mb"]
        lines.append(
            f"\nProcess RSS after the pages: {small['rss_after_mb']} MB at {small['articles']:,} articles, "
            f"{large['rss_after_mb']} MB at {large['articles']:,} "
            f"({rss_growth:+.1f} MB; bar ± {RSS_BAR:.0f} MB)"
            f"{mark(abs(rss_growth) <= RSS_BAR)}."
        )
        for result in results:
            search = result.get("search")
            if search:
                ok = search["new_ms_median"] <= SEARCH_BAR and search["repeated_page_cache"] == ["hit"]
                lines.append(
                    f"Search at {result['articles']:,} articles: new queries median "
                    f"{search['new_ms_median']} ms (max {search['new_ms_max']}, at most "
                    f"{search['new_queries_max']} queries; bar ≤ {SEARCH_BAR:.0f} ms), repeated "
                    f"{search['repeated_ms_median']} ms from the page cache{mark(ok)}."
                )
    return lines


def main() -> int:
    run = Path(sys.argv[1])
    lines = [f"# Read path benchmark ({run.name})", "", "✗ marks a missed bar."]
    lines += pages_table(run)
    lines += after_write_tables(run)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
