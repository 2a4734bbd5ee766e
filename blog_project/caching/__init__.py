"""The read path's cache: versions, fragments, whole pages, the per-reader holes.

The rest of the code calls only what is imported here; docs/how-it-works.md ("How a
page reaches a reader") has the picture. One module per idea:

- ``scopes``: the scopes and the page generation, as the store and the versions name them;
- ``versions``: reading and renewing them (``bump``, ``bump_on_commit``);
- ``values``: fragments and small values cached under those versions;
- ``memo``: what this process and the request being served remember of them, so the
  store is not asked again (selectors take no request: the middleware opens the memo);
- ``keys``: which requests are answered from the cache, and under which key;
- ``pages``: a stored page, and this process's copies;
- ``holes``: the per-reader parts of a cached page, filled per request;
- ``csrf``: the CSRF token of a cached page's forms, for a reader who holds the cookie;
- ``gzip``: compressing a page once per process, not per request;
- ``stores``: the Django cache or Redis, at most one round trip per page;
- ``watch``: knowing the generation without asking (bumps announced by Redis);
- ``counting``: the view counter the stats app plugs in;
- ``middleware``: ``PageCacheMiddleware`` and ``cache_page``.
"""

from .counting import register_view_counter
from .csrf import forget_tokens
from .holes import forget_shared_fillings, hole, register_hole
from .memo import forget_values
from .middleware import PageCacheMiddleware, cache_page
from .pages import local_pages
from .scopes import SCOPES, register_site_hooks
from .stores import store
from .values import fragment, value
from .versions import bump, bump_on_commit, next_due, page_generation

__all__ = [
    "SCOPES",
    "PageCacheMiddleware",
    "bump",
    "bump_on_commit",
    "cache_page",
    "forget_process_copies",
    "fragment",
    "hole",
    "next_due",
    "page_generation",
    "register_hole",
    "register_site_hooks",
    "register_view_counter",
    "value",
]


def forget_process_copies() -> None:
    """Drop this process's copies of pages, values, shared hole fillings and CSRF tokens
    (tests; the shared cache still holds them under their versions)."""
    local_pages.clear()
    forget_values()
    forget_shared_fillings()
    forget_tokens()
    store().watch.close()
