from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path
from django.views.static import serve

from articles import editor, views
from articles.cache import anonymous_page_cache
from articles.sitemaps import SITEMAPS

from . import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("editor/markdownify/", editor.preview, name="markdownx_markdownify"),
    path("editor/upload/", editor.upload, name="markdownx_upload"),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "sitemap.xml",
        anonymous_page_cache(sitemap),
        {"sitemaps": SITEMAPS},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
    # Answered by health.HealthCheckMiddleware before sessions and language; named here.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("comments/", include("comments.urls")),
    path("stats/", include("stats.urls")),
    path("", include("articles.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]

handler400 = "blog_project.errors.bad_request"
handler403 = "blog_project.errors.permission_denied"
handler404 = "articles.errors.page_not_found"
handler500 = "blog_project.errors.server_error"
