"""Reader pages. Thin: querysets come from ``published()`` and the selectors, whole
anonymous pages come from the cache (``anonymous_page_cache``)."""

from __future__ import annotations

from django.core.paginator import InvalidPage, Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from . import selectors
from .archive import month_bounds, months_with_counts
from .cache import anonymous_page_cache
from .models import Article, Page, Tag

MAX_QUERY_LENGTH = 100
MAX_SEARCH_RESULTS = 1000


def _paginate(request: HttpRequest, queryset):
    paginator = Paginator(queryset, selectors.site_settings().posts_per_page)
    try:
        return paginator.page(request.GET.get("page") or 1)
    except InvalidPage as exc:
        raise Http404(_("That page does not exist.")) from exc


def _list_page_of_ids(request: HttpRequest, ids: list[int], **context) -> HttpResponse:
    """A list page of article ids known in order (from the published digest, a tag or a
    search): no count query, and only the page's rows are loaded."""
    page = _paginate(request, ids)
    rows = Article.objects.published().for_list().in_bulk(page.object_list)
    articles = [rows[pk] for pk in page.object_list if pk in rows]
    return render(request, "articles/article_list.html", {"page_obj": page, "articles": articles, **context})


@require_safe
@anonymous_page_cache
def home(request: HttpRequest) -> HttpResponse:
    # Pinned first, then newest (the digest is newest first and the sort is stable).
    ids = [entry.pk for entry in sorted(selectors.published_digest(), key=lambda entry: not entry.is_pinned)]
    site = selectors.site_settings()
    jsonld = {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": site.title,
        "description": site.description or site.tagline,
        "url": request.build_absolute_uri("/"),
        "potentialAction": {
            "@type": "SearchAction",
            "target": request.build_absolute_uri("/search/") + "?q={query}",
            "query-input": "required name=query",
        },
    }
    return _list_page_of_ids(request, ids, is_home=True, jsonld=jsonld)


@require_safe
@anonymous_page_cache
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_by_slug(slug)
    if category is None:
        raise Http404(_("No such category."))
    category_ids = set(selectors.category_with_descendants(category))
    ids = [entry.pk for entry in selectors.published_digest() if entry.category_id in category_ids]
    return _list_page_of_ids(
        request, ids, category=category, heading=category.name, description=category.description
    )


@require_safe
@anonymous_page_cache
def tag_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Tag, slug=slug)
    ids = list(Article.objects.published().filter(tags=tag).newest_first().values_list("pk", flat=True))
    return _list_page_of_ids(request, ids, tag=tag, heading=_("Tag: %(name)s") % {"name": tag.name})


@require_safe
@anonymous_page_cache
def archive_index(request: HttpRequest) -> HttpResponse:
    return render(request, "articles/archive_index.html", {"years": months_with_counts()})


@require_safe
@anonymous_page_cache
def archive_month(request: HttpRequest, year: int, month: int) -> HttpResponse:
    try:
        start, end = month_bounds(year, month)
    except ValueError as exc:
        raise Http404(_("No such month.")) from exc
    ids = [entry.pk for entry in selectors.published_digest() if start <= entry.published_at < end]
    heading = _("Archive: %(month)s") % {"month": start.strftime("%Y-%m")}
    return _list_page_of_ids(request, ids, heading=heading, archive_month=start)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    query = " ".join(request.GET.get("q", "").replace("\x00", "").split())[:MAX_QUERY_LENGTH]
    context = {"query": query, "heading": _("Search"), "is_search": True}
    if not query:
        return render(request, "articles/article_list.html", {**context, "articles": []})
    # One scan collects the matching ids; the page then loads its rows by primary key,
    # instead of scanning once to count and again for the page.
    ids = list(
        Article.objects.published()
        .search(query)
        .newest_first()
        .values_list("pk", flat=True)[:MAX_SEARCH_RESULTS]
    )
    return _list_page_of_ids(request, ids, **context)


@require_safe
@anonymous_page_cache
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(Article.objects.for_detail(), slug=slug)
    if not article.is_public and not (request.user.is_authenticated and request.user.is_staff):
        raise Http404(_("No article found."))
    return render_article_page(request, article)


def render_article_page(request: HttpRequest, article: Article) -> HttpResponse:
    """The article page, rendered now and never cached: for the view above, and for other
    apps that show the page again with something of their own (a refused comment with the
    reader's text). Drafts and scheduled articles render as a ``noindex`` preview; the
    caller decides who may see them. Load ``article`` with ``Article.objects.for_detail()``.
    """
    is_preview = not article.is_public
    if not is_preview:
        request.viewed_article_id = article.pk
    older, newer = selectors.adjacent_articles(article) if not is_preview else (None, None)
    response = render(
        request,
        "articles/article_detail.html",
        {
            "article": article,
            "is_preview": is_preview,
            "older": older,
            "newer": newer,
            "related": selectors.related_articles(article),
            "jsonld": _article_jsonld(request, article),
        },
    )
    if is_preview:
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Cache-Control"] = "private, no-store"
    return response


def _article_jsonld(request: HttpRequest, article: Article) -> dict:
    author = article.author.get_full_name() or article.author.get_username()
    return {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": article.title,
        "description": article.summary,
        "datePublished": article.published_at.isoformat(),
        "dateModified": article.updated_at.isoformat(),
        "author": {"@type": "Person", "name": author},
        "articleSection": article.category.name,
        "keywords": [tag.name for tag in article.tags.all()],
        "mainEntityOfPage": request.build_absolute_uri(article.get_absolute_url()),
        "inLanguage": request.LANGUAGE_CODE if hasattr(request, "LANGUAGE_CODE") else "en",
    }


@require_safe
@anonymous_page_cache
def page_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = get_object_or_404(Page.objects.published(), slug=slug)
    return render(request, "articles/page_detail.html", {"page": page})


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /editor/",
        "Disallow: /search/",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    connection.ensure_connection()
    return HttpResponse("ok\n", content_type="text/plain")
