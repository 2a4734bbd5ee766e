"""The core's URLs that have no language prefix: the editor's endpoints (the admin's
writing room), the sitemaps (one index for every language) and robots.txt. The reader
pages are in ``urls.py``, under ``i18n_patterns``."""

from django.urls import path

from blog_project.caching import cache_page

from . import editor, views
from .sitemaps import SITEMAPS, sitemap_index, sitemap_section

cached_sitemap_index = cache_page()(sitemap_index)
SITEMAP_INDEX_OPTIONS = {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"}

urlpatterns = [
    path("editor/markdownify/", editor.preview, name="markdownx_markdownify"),
    path("editor/upload/", editor.upload, name="markdownx_upload"),
    path("editor/media/", editor.media_list, name="editor_media"),
    path("editor/autosave/", editor.autosave, name="editor_autosave"),
    path("editor/autosave/discard/", editor.autosave_discard, name="editor_autosave_discard"),
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
]
