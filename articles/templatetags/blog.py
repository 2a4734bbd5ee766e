import json

from django import template
from django.utils.safestring import mark_safe

from blog_project.caching import hole

from ..registry import render_article_sections

register = template.Library()


@register.simple_tag
def csrf_hole() -> str:
    """A CSRF input whose token is filled per request, so the page can be cached."""
    return mark_safe(f'<input type="hidden" name="csrfmiddlewaretoken" value="{hole("csrf")}">')


@register.simple_tag
def reader_hole(name: str, arg: str = "") -> str:
    """A per-reader part of a cacheable page (filled by ``caching.register_hole`` fillers)."""
    return mark_safe(hole(name, arg))


@register.simple_tag(takes_context=True)
def article_sections(context, article) -> str:
    """The sections other apps add under an article (comments, ...)."""
    return mark_safe(render_article_sections(article, context.get("request")))


@register.filter
def absolute(path: str, request) -> str:
    return request.build_absolute_uri(path) if request else path


_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def ld_json(data: dict) -> str:
    """A JSON-LD script body that cannot close its <script> element early."""
    return mark_safe(json.dumps(data, ensure_ascii=False, default=str).translate(_JSON_ESCAPES))
