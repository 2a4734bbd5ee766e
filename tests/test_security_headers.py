"""Every reader and admin page carries a Content-Security-Policy that allows no inline
script, and a Permissions-Policy; pages answered early (from the page cache, error pages)
too. In Chromium the reader pages, the admin and the Markdown editor run under it without a
single violation."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from articles.tests.factories import ArticleFactory, TagFactory, UserFactory
from blog_project.security import content_security_policy
from comments.models import CommentSettings
from comments.services import comment_create
from comments.tests.conftest import set_policy
from comments.tests.factories import CommentFactory

PASSWORD = "correct horse battery staple"


def _script_sources(policy: str) -> list[str]:
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return directives["script-src"].split()


def _assert_headers(response, path: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    assert policy, f"no CSP on {path}"
    assert _script_sources(policy) == ["'self'"], (path, policy)
    assert "'unsafe-inline'" not in _script_sources(policy) and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "camera=()" in response.get("Permissions-Policy", ""), path


def test_the_policy_keeps_the_settings_order_and_reads_true_as_a_bare_directive():
    directives = {
        "default-src": ["'self'"],
        "img-src": ["'self'", "https:", "'self'"],
        "sandbox": None,
        "block-all-mixed-content": False,
        "upgrade-insecure-requests": True,
        "report-uri": "/csp-report/",
    }
    assert content_security_policy({"DIRECTIVES": directives}) == (
        "default-src 'self'; img-src 'self' https:; upgrade-insecure-requests; report-uri /csp-report/"
    )
    assert content_security_policy(None) == content_security_policy({}) == ""


def test_the_header_middleware_sits_right_after_security_under_the_page_cache():
    middleware = settings.MIDDLEWARE
    assert middleware[0] == "blog_project.caching.PageCacheMiddleware"
    assert middleware[1] == "django.middleware.security.SecurityMiddleware"
    assert middleware[2] == "blog_project.security.PolicyHeadersMiddleware"
    assert middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") > 2


@pytest.mark.django_db
def test_a_page_answered_from_the_cache_carries_the_headers_it_was_rendered_with():
    article = ArticleFactory(slug="a")
    for path in ("/", article.get_absolute_url()):
        rendered = Client().get(path)
        cached = Client().get(path)
        assert (rendered["X-Page-Cache"], cached["X-Page-Cache"]) == ("miss", "hit")
        for name in (
            "Content-Security-Policy",
            "Permissions-Policy",
            "X-Frame-Options",
            "X-Content-Type-Options",
            "Referrer-Policy",
            "Cross-Origin-Opener-Policy",
            "Content-Language",
            "Content-Type",
        ):
            assert cached[name] == rendered[name], (path, name)
        assert "Accept-Encoding" in cached["Vary"] and "Accept-Language" not in cached["Vary"]


@pytest.mark.django_db
def test_reader_pages_error_pages_and_cached_pages_carry_the_policies(client):
    tag = TagFactory(slug="t")
    article = ArticleFactory(slug="a", tags=[tag])
    CommentFactory(article=article)
    paths = [
        "/",
        "/?page=1",
        article.get_absolute_url(),
        f"/category/{article.category.slug}/",
        "/tag/t/",
        "/archives/",
        "/search/?q=x",
        "/feed/rss/",
        "/sitemap.xml",
        "/robots.txt",
        "/no-such-page/",
        "/healthz",
        "/readyz",
        f"/comments/{article.comments.get().pk}/reply/",
    ]
    for path in paths:
        _assert_headers(client.get(path), path)
    cached = Client().get("/")
    assert cached["X-Page-Cache"] == "hit"
    _assert_headers(cached, "/ (cached)")
    bad = Client(enforce_csrf_checks=True)
    bad.cookies["csrftoken"] = "a" * 32
    refused = bad.generic(
        "POST", "/i18n/setlang/", b"x=\xe9", content_type="application/x-www-form-urlencoded; charset=latin-1"
    )
    assert refused.status_code == 400
    _assert_headers(refused, "400 page")


@pytest.mark.django_db
def test_admin_pages_carry_the_policies(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for path in ["/admin/", "/admin/articles/article/", "/admin/articles/article/add/",
                 "/admin/comments/comment/", "/admin/stats/dailystat/"]:  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_headers(response, path)
    _assert_headers(Client().get("/admin/login/"), "/admin/login/")


# --- in Chromium ------------------------------------------------------------------------


def _watch_violations(page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return seen


@pytest.mark.browser
def test_pages_admin_and_editor_run_under_the_policy_without_violations(live_server, transactional_db, page):
    UserFactory(username="editor", is_staff=True, is_superuser=True, password=PASSWORD)
    article = ArticleFactory(slug="csp", body="| a | b |\n|--:|:--|\n| 1 | 2 |\n\n```python\nx = 1\n```\n")
    set_policy(comment_moderation=CommentSettings.Moderation.NONE)
    comment_create(article=article, author_name="Grace", author_email="grace@example.com", body="Hello")
    violations = _watch_violations(page)
    page.goto(f"{live_server.url}/")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    page.locator("a.reply-link").first.click()  # comments.js turns the form into a reply
    page.locator("#comment-form-title", has_text="Reply to Grace").wait_for()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/articles/article/add/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/articles/article/add/")
    page.locator("#id_title").press_sequentially("Under a policy")
    assert page.input_value("#id_slug") == "under-a-policy"  # the admin's own scripts run
    page.locator("textarea.markdownx-editor").fill("It is **previewed** here.")
    page.locator(".markdownx-preview strong", has_text="previewed").wait_for()  # markdownx runs
    assert violations == []


@pytest.mark.browser
def test_a_new_reader_posts_a_first_comment_in_one_press(live_server, transactional_db, page, settings):
    """Reading sets no cookie; the form's script asks for a token when the first comment is
    sent (under the policy: connect-src 'self'), so the reader presses "Post" once."""
    from comments.models import Comment

    settings.COMMENTS_MIN_FILL_SECONDS = 0
    article = ArticleFactory(slug="first-comment")
    set_policy(comment_moderation=CommentSettings.Moderation.NONE)
    violations = _watch_violations(page)
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    assert page.context.cookies() == [], "reading sets no cookie"
    page.fill("#id_author_name", "Ada")
    page.fill("#id_author_email", "ada@example.com")
    page.fill("#id_body", "My first remark, sent once.")
    page.click("#comment-form button[type=submit]")
    page.locator(".comment", has_text="My first remark, sent once.").first.wait_for()
    assert Comment.objects.filter(body="My first remark, sent once.").count() == 1
    assert "csrftoken" in {cookie["name"] for cookie in page.context.cookies()}
    assert violations == []
