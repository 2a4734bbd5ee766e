"""Which language a request is answered in.

Reader pages have one URL per language (``i18n_patterns`` in ``blog_project/urls.py``):
the default language (``DJANGO_LANGUAGE_CODE``) unprefixed, the other under its prefix
(``/zh-hans/...``). Their language comes from the path alone, so a URL is the same page for
every reader, crawler, proxy and CDN: neither ``Accept-Language`` nor the language cookie
changes it, and the response does not vary on them. The staff pages keep one URL and
speak each editor's language (the cookie set by ``/i18n/setlang/``, then the browser's).

The links between the languages of a page (``hreflang`` alternates, the footer's switch)
come from :func:`language_versions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware import locale
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.encoding import iri_to_uri

# Unprefixed paths whose language is negotiated (the admin and the editor's endpoints).
NEGOTIATED_PREFIXES = ("/admin/", "/editor/", "/i18n/")

_NAMES = {"en": "English", "zh-hans": "简体中文"}
_OPENGRAPH_LOCALES = {"en": "en_US", "zh-hans": "zh_CN"}


class LocaleMiddleware(locale.LocaleMiddleware):
    """Django's LocaleMiddleware (reader URLs: the path's language, the default one when
    unprefixed), without its ``Vary: Accept-Language`` on reader pages, which the header
    cannot change; staff pages negotiate as Django does without ``i18n_patterns``."""

    def process_request(self, request: HttpRequest) -> None:
        if not request.path_info.startswith(NEGOTIATED_PREFIXES):
            return super().process_request(request)
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path_info.startswith(NEGOTIATED_PREFIXES):
            patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def hreflang(code: str) -> str:
    """A BCP 47 tag as hreflang and ``inLanguage`` spell it: "zh-hans" -> "zh-Hans"."""
    first, *rest = code.split("-")
    return "-".join([first, *(part.title() if len(part) == 4 else part.upper() for part in rest)])


def opengraph_locale(code: str) -> str:
    return _OPENGRAPH_LOCALES.get(code, code.replace("-", "_"))


@dataclass(frozen=True)
class LanguageVersion:
    code: str  # Django's: "zh-hans"
    tag: str  # BCP 47: "zh-Hans"
    name: str  # in its own language, as a switch shows it
    path: str  # site-relative, with the page's own query parameters
    current: bool
    default: bool

    @property
    def url(self) -> str:
        return absolute_url(self.path)

    @property
    def opengraph_locale(self) -> str:
        return opengraph_locale(self.code)


def absolute_url(path: str) -> str:
    """``path`` on ``BLOG_SITE_URL``: never on the request's Host, which a reader can forge
    and the page cache would then store for everyone. Absolute URLs (a CDN's) are kept."""
    if path.startswith(("http://", "https://")):
        return iri_to_uri(path)
    return iri_to_uri(f"{settings.SITE_URL}/{path.lstrip('/')}")


def language_versions(request: HttpRequest | None, *, or_home: bool = False) -> list[LanguageVersion]:
    """The page at ``request.path`` in every language (its URL reversed in each), or []
    when the path is no reader page (an unknown path, the admin); ``or_home``: the home
    page's versions then."""
    if request is None or request.path_info.startswith(NEGOTIATED_PREFIXES):
        return []
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return _versions("articles:home", (), {}, "") if or_home else []
    if not match.url_name:
        return []
    name = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
    return _versions(name, match.args, match.kwargs, _page_query(request))


def _page_query(request: HttpRequest) -> str:
    """The query parameters reader pages read (the search words, the page number), spelled
    as the page cache keys them: a page and its key hold the same links."""
    params = []
    words = " ".join(request.GET.get("q", "").split())[:100]
    if words:
        params.append(("q", words))
    number = request.GET.get("page", "")
    if number.isdigit() and len(number) <= 6 and int(number) > 1:
        params.append(("page", str(int(number))))
    return urlencode(params)


def _versions(name: str, args, kwargs, query: str) -> list[LanguageVersion]:
    current = translation.get_language()
    versions = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            try:
                path = reverse(name, args=args, kwargs=kwargs)
            except NoReverseMatch:
                return []
        versions.append(
            LanguageVersion(
                code=code,
                tag=hreflang(code),
                name=_NAMES.get(code, code),
                path=f"{path}?{query}" if query else path,
                current=code == current,
                default=code == settings.LANGUAGE_CODE,
            )
        )
    if len({version.path for version in versions}) < len(versions):
        return []  # one URL for every language: not a reader page
    return versions
