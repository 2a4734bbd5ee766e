"""Reader pages. Thin: lists and counts come from the selectors, rows from ``published()``;
whole pages for anonymous readers are stored and answered by the page cache
(``blog_project.caching``), which these views opt into with ``@cache_page``."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from blog_project.caching import cache_page
from blog_project.languages import absolute_url, hreflang

from . import highlight, roles, selectors
from . import search as article_search
from .archive import month_bounds
from .models import Article, Page, Tag

SEARCH_CACHE_SECONDS = 600


def _page(request: HttpRequest, articles: selectors.ArticleList):
    paginator = Paginator(articles, selectors.site_settings().posts_per_page)
    try:
        return paginator.page(request.GET.get("page") or 1)
    except InvalidPage as exc:
        raise Http404(_("That page does not exist.")) from exc


def _asked_page(request: HttpRequest) -> int:
    """The page number asked for, or 1 (the paginator answers a bad one with a 404)."""
    raw = request.GET.get("page") or "1"
    return int(raw) if raw.isdigit() and len(raw) <= 6 else 1


def _list_page(request: HttpRequest, articles: selectors.ArticleList, **context) -> HttpResponse:
    page = _page(request, articles)
    return render(
        request, "articles/article_list.html", {"page_obj": page, "articles": page.object_list, **context}
    )


@require_safe
@cache_page(params=("page",))
def home(request: HttpRequest) -> HttpResponse:
    site = selectors.site_settings()
    jsonld = {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": site.title,
        "description": site.description or site.tagline,
        "url": absolute_url(reverse("articles:home")),
        "inLanguage": hreflang(translation.get_language()),
        "potentialAction": {
            "@type": "SearchAction",
            "target": absolute_url(reverse("articles:search")) + "?q={query}",
            "query-input": "required name=query",
        },
    }
    return _list_page(request, selectors.home_articles(), is_home=True, jsonld=jsonld)


@require_safe
@cache_page(params=("page",))
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_by_slug(slug)
    if category is None:
        raise Http404(_("No such category."))
    key = f"c:{category.pk}"
    articles = selectors.list_articles(key, selectors.public_counts().of(key))
    return _list_page(
        request, articles, category=category, heading=category.name, description=category.description
    )


@require_safe
@cache_page(params=("page",))
def tag_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Tag, slug=slug)
    articles = selectors.list_articles(f"t:{tag.pk}", selectors.tag_count(tag))
    return _list_page(request, articles, tag=tag, heading=_("Tag: %(name)s") % {"name": tag.name})


@require_safe
@cache_page()
def archive_index(request: HttpRequest) -> HttpResponse:
    years: dict[int, list] = {}
    for month, total in selectors.months_with_counts():
        years.setdefault(month.year, []).append((month, total))
    return render(request, "articles/archive_index.html", {"years": list(years.items())})


@require_safe
@cache_page(params=("page",))
def archive_month(request: HttpRequest, year: int, month: int) -> HttpResponse:
    try:
        start, _end = month_bounds(year, month)
    except ValueError as exc:
        raise Http404(_("No such month.")) from exc
    key = f"m:{year:04d}-{month:02d}"
    articles = selectors.list_articles(key, selectors.public_counts().of(key))
    heading = _("Archive: %(month)s") % {"month": start.strftime("%Y-%m")}
    return _list_page(request, articles, heading=heading, archive_month=start)


@require_safe
@cache_page(params=("q", "page"), timeout=SEARCH_CACHE_SECONDS)
def search(request: HttpRequest) -> HttpResponse:
    query = article_search.clean_query(request.GET.get("q", ""))
    context = {"query": query, "heading": _("Search"), "is_search": True}
    if not query:
        return render(request, "articles/article_list.html", {**context, "articles": []})
    results = article_search.search_articles(
        query, page=_asked_page(request), per_page=selectors.site_settings().posts_per_page
    )
    page = _page(request, results)
    # The query's words marked in each result's title and excerpt (the summary when it
    # holds them, else a piece of the body, which search results read with their rows).
    articles = highlight.mark_results(list(page.object_list), query)
    return render(
        request,
        "articles/article_list.html",
        {"page_obj": page, "articles": articles, "results_capped": results.capped, **context},
    )


@require_safe
@cache_page(params=("page",))  # the comment thread's pages
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(Article.objects.for_detail(), slug=slug)
    if not article.is_public and not roles.may_view_article(request.user, article):
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
        # For the view counting (stats and the page cache read it back with getattr()).
        request.viewed_article_id = article.pk  # type: ignore[attr-defined]
    around = selectors.neighbours(article) if not is_preview else selectors.Neighbours(None, None, [])
    response = render(
        request,
        "articles/article_detail.html",
        {
            "article": article,
            "is_preview": is_preview,
            "older": around.older,
            "newer": around.newer,
            "related": around.related,
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
        "mainEntityOfPage": absolute_url(article.get_absolute_url()),
        "inLanguage": hreflang(translation.get_language()),
    }


@require_safe
@cache_page()
def page_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = get_object_or_404(Page.objects.published(), slug=slug)
    return render(request, "articles/page_detail.html", {"page": page})


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    searches = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            searches.append(f"Disallow: {reverse('articles:search')}")
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /editor/",
        *searches,
        f"Sitemap: {absolute_url(reverse('sitemap-index'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
