"""SQL queries and in-process time per anonymous page: flushed, cold, render, warm.

    .venv/bin/python bench/queries.py [--json FILE] PATH [PATH ...]

Uses the configured settings (run it with the same environment as the server under test:
bench/run.sh does) and Django's test client, so it measures the view and middleware stack
without HTTP. For each path, the maximum query count and the median time of a few rounds:

- flushed: the whole cache emptied (a Redis flush or restart) and this process's
  per-generation memo dropped: nothing is known, not even the generation;
- cold: right after an edit (``bump_generation()``, as every relevant write does on
  commit): every fragment and page is stale and rebuilt;
- render: the page cache is bypassed (a cookie from BLOG_PAGE_CACHE_BYPASS_COOKIES) while
  fragments are warm: the cost of rendering a page whose cached copy is missing;
- warm: the anonymous page cache hit every reader gets.

DESIGN.md's bar: warm <= 2 queries, cold <= 10.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from articles import cache as article_cache  # noqa: E402

ROUNDS = 7
WARM_BAR, COLD_BAR = 2, 10


def _flush() -> None:
    cache.clear()
    article_cache._memo.clear()  # this process's memos (see memoize_per_generation)
    article_cache._structure_memo.clear()


def _edit() -> None:
    article_cache.bump_generation()


def _measure(client: Client, path: str, *, before=None) -> tuple[int, float, int, str]:
    if before:
        before()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
    return len(queries), elapsed, response.status_code, response.get("X-Page-Cache", "-")


STATES = ("flushed", "cold", "render", "warm")


def profile(path: str) -> dict:
    client = Client(HTTP_HOST="127.0.0.1")
    bypass = Client(HTTP_HOST="127.0.0.1")
    bypass.cookies[settings.BLOG_PAGE_CACHE_BYPASS_COOKIES[0]] = "bench"
    client.get(path)  # imports and template loading are not part of any state below
    runs = {
        "flushed": [_measure(client, path, before=_flush) for _ in range(ROUNDS)],
        "cold": [_measure(client, path, before=_edit) for _ in range(ROUNDS)],
    }
    client.get(path)
    runs["render"] = [_measure(bypass, path) for _ in range(ROUNDS)]
    runs["warm"] = [_measure(client, path) for _ in range(ROUNDS)]
    result = {"path": path}
    for name in STATES:
        statuses = {status for _q, _t, status, _c in runs[name]}
        assert statuses == {200}, f"{path} {name}: status {statuses}"
        result[name] = {
            "queries": max(q for q, _t, _s, _c in runs[name]),
            "ms_median": round(statistics.median(t for _q, t, _s, _c in runs[name]), 2),
            "page_cache": sorted({c for _q, _t, _s, c in runs[name]}),
        }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = [profile(path) for path in args.paths]
    backend = f"{connection.vendor} + {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
    print(f"\nSQL queries (q) and median ms per anonymous request, {backend}")
    print(f"bar: warm <= {WARM_BAR} queries, cold <= {COLD_BAR}")
    print(f"{'page':<44} " + " ".join(f"{f'{state} q':>9} {f'{state} ms':>10}" for state in STATES))
    ok = True
    for r in results:
        print(
            f"{r['path'][:44]:<44} "
            + " ".join(f"{r[state]['queries']:>9} {r[state]['ms_median']:>10}" for state in STATES)
        )
        ok &= r["warm"]["queries"] <= WARM_BAR and r["cold"]["queries"] <= COLD_BAR
        ok &= r["warm"]["page_cache"] == ["hit"] and "hit" not in r["render"]["page_cache"]
    print("query bar:", "met" if ok else "MISSED")
    if args.json:
        args.json.write_text(json.dumps({"backend": backend, "pages": results}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
