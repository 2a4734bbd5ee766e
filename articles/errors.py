"""The 404 page, in the site's layout (the 500 and 503 pages are static and live in
``blog_project.errors``: they must render when the database or the cache failed)."""

from django.http import HttpResponseNotFound
from django.template.loader import render_to_string


def page_not_found(request, exception=None):
    return HttpResponseNotFound(render_to_string("404.html", {"message": ""}, request=request))
