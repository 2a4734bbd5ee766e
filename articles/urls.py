from django.urls import path, re_path

from blog_project.caching import cache_page

from . import feeds, views

app_name = "articles"

# Slugs may be unicode (Chinese titles), so they are matched with \w rather than <slug:>.
SLUG = r"(?P<slug>[-\w]+)"

urlpatterns = [
    path("", views.home, name="home"),
    re_path(rf"^article/{SLUG}/$", views.article_detail, name="detail"),
    re_path(rf"^category/{SLUG}/$", views.category_detail, name="category"),
    re_path(rf"^tag/{SLUG}/$", views.tag_detail, name="tag"),
    re_path(rf"^p/{SLUG}/$", views.page_detail, name="page"),
    path("archives/", views.archive_index, name="archives"),
    path("archives/<int:year>/<int:month>/", views.archive_month, name="archive_month"),
    path("search/", views.search, name="search"),
    path("feed/rss/", cache_page()(feeds.RssFeed()), name="rss"),
    path("feed/atom/", cache_page()(feeds.AtomFeed()), name="atom"),
]
