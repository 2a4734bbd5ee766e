from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from articles import editor, views
from articles.sitemaps import SITEMAPS, sitemap_index, sitemap_section
from blog_project.caching import cache_page

from . import health

cached_sitemap_index = cache_page()(sitemap_index)
SITEMAP_INDEX_OPTIONS = {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"}

urlpatterns = [
    path("admin/", admin.site.urls),
    path("editor/markdownify/", editor.preview, name="markdownx_markdownify"),
    path("editor/upload/", editor.upload, name="markdownx_upload"),
    path("editor/media/", editor.media_list, name="editor_media"),
    path("editor/autosave/", editor.autosave, name="editor_autosave"),
    path("editor/autosave/discard/", editor.autosave_discard, name="editor_autosave_discard"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The index names a section per 10,000 URLs: /sitemap-articles.xml?p=2, ...
    path("sitemap.xml", cached_sitemap_index, SITEMAP_INDEX_OPTIONS, name="sitemap-index"),
    path("sitemap-index.xml", cached_sitemap_index, SITEMAP_INDEX_OPTIONS),
    path(
        "sitemap-<section>.xml",
        cache_page(params=("p",))(sitemap_section),
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
    # Answered by health.HealthCheckMiddleware before sessions and language; named here.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
# The plugins' own URLs, for those installed (settings.PLUGINS: a deleted folder drops them).
if "stats" in settings.PLUGINS:
    urlpatterns.append(path("stats/", include("stats.urls")))

# Reader pages: one URL per page and language. The default language (DJANGO_LANGUAGE_CODE)
# keeps the unprefixed URLs, the other is prefixed (/zh-hans/...); LocaleMiddleware takes
# the language from the path, never from Accept-Language or a cookie. The comment views
# are here too: a reply form, an error page or the redirect after a post keep the
# language of the page the reader came from.
urlpatterns += i18n_patterns(
    *([path("comments/", include("comments.urls"))] if "comments" in settings.PLUGINS else []),
    path("", include("articles.urls")),
    prefix_default_language=False,
)

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]

handler400 = "blog_project.errors.bad_request"
handler403 = "blog_project.errors.permission_denied"
handler404 = "articles.errors.page_not_found"
handler500 = "blog_project.errors.server_error"
