from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from . import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # The core's unprefixed URLs: the editor's endpoints, sitemaps, robots.txt.
    path("", include("articles.site_urls")),
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
