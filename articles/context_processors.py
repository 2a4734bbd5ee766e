"""Site-wide template context. Everything here is lazy or cached: a page served whole
from the cache never evaluates it."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from . import selectors
from .cache import CSRF_HOLE, cached_fragment


def _navigation_html() -> str:
    from django.template.loader import render_to_string

    def build() -> str:
        categories, pages = selectors.navigation()
        return render_to_string("includes/nav_items.html", {"nav_categories": categories, "nav_pages": pages})

    return cached_fragment("nav", build=build)


def _sidebar_html() -> str:
    from .widgets import sidebar_html

    return sidebar_html()


def site(request):
    return {
        "site": SimpleLazyObject(selectors.site_settings),
        "navigation_html": SimpleLazyObject(_navigation_html),
        "sidebar_html": SimpleLazyObject(_sidebar_html),
        "CSRF_HOLE": CSRF_HOLE,
        "SITE_URL": settings.SITE_URL,
    }
