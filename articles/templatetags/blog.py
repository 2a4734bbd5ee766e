import json
from datetime import datetime
from urllib.parse import urlsplit

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

from blog_project import languages
from blog_project.caching import hole
from blog_project.languages import absolute_url, language_versions

from ..live import views_html
from ..markdown import reading_stats
from ..registry import is_counted, render_article_sections

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
def absolute(path: str, _request=None) -> str:
    """``path`` on ``BLOG_SITE_URL``, never on the request's (forgeable) Host."""
    return absolute_url(path) if path else ""


@register.filter
def opengraph_locale(code: str) -> str:
    """og:locale for a language code: "zh-hans" -> "zh_CN"."""
    return languages.opengraph_locale(code)


@register.simple_tag(takes_context=True)
def page_languages(context, or_home: bool = False) -> list:
    """This page in every language (``LanguageVersion``s), for hreflang and the switch."""
    return language_versions(context.get("request"), or_home=or_home)


_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def ld_json(data: dict) -> str:
    """A JSON-LD script body that cannot close its <script> element early."""
    return mark_safe(json.dumps(data, ensure_ascii=False, default=str).translate(_JSON_ESCAPES))


@register.filter
def machine_time(value: datetime | None) -> str:
    """A ``<time datetime>`` value: local time to the second with its offset (HTML allows
    at most three digits of a fraction; ``date:'c'`` would give six)."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.isoformat(timespec="seconds")


_WEB_SCHEMES = ("http", "https")


@register.filter
def web_url(value: str | None, relative: str = "") -> str:
    """``value`` if it is an http(s) URL, else "": URLs from the database are checked when
    shown, not only when entered (an import or a shell can store ``javascript:``).
    ``web_url:"relative"`` also lets a site path through (``/about/``)."""
    url = (value or "").strip()
    if not url or any(ord(char) < 33 or ord(char) == 127 for char in url):
        return ""  # browsers drop tabs and newlines inside a scheme: "java\tscript:"
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme:
        return url if parts.scheme.lower() in _WEB_SCHEMES and parts.netloc else ""
    if relative and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return ""


@register.simple_tag
def article_views(article) -> str:
    """ "12 views": the rolled-up count plus today's, filled per page from the counters."""
    return mark_safe(views_html(article))


@register.filter
def counted(field: str) -> bool:
    """Whether an installed app keeps this count of articles (``registry``)."""
    return is_counted(field)


@register.filter
def reading_minutes(fragment: str) -> int:
    """Minutes to read rendered HTML (0 when it has no words)."""
    return reading_stats(fragment or "").minutes
