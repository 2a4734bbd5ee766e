"""Site-wide template context. Everything here is lazy and cached: a page answered by the
page cache never evaluates it."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.functional import SimpleLazyObject

from blog_project import caching

from . import selectors, widgets


def site(request):
    def navigation_html() -> str:
        def build() -> str:
            categories, pages = selectors.navigation()
            return render_to_string(
                "includes/nav_items.html", {"nav_categories": categories, "nav_pages": pages}
            )

        return caching.fragment("nav", scopes=("structure", "articles"), build=build)

    def sidebar_html() -> str:
        return widgets.sidebar_html(request)

    return {
        "site": SimpleLazyObject(selectors.site_settings),
        "navigation_html": SimpleLazyObject(navigation_html),
        "sidebar_html": SimpleLazyObject(sidebar_html),
        "SITE_URL": settings.SITE_URL,
    }
