"""Error pages with the right status codes. The 500 page is static: it must render even
when the database or the cache is what failed."""

from django.http import HttpResponseNotFound, HttpResponseServerError
from django.template.loader import render_to_string


def page_not_found(request, exception=None):
    return HttpResponseNotFound(render_to_string("404.html", {"message": ""}, request=request))


def server_error(request):
    return HttpResponseServerError(render_to_string("500.html"))
