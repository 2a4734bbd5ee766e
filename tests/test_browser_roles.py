"""In Chromium: a contributor writes a draft, finds no Publish button (and a forged one is
refused) and submits it for review; an editor finds it under "Pending review" and
publishes it; a reader reads it."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from articles import roles
from articles.models import Article
from articles.tests.factories import UserFactory
from tests.browser import save_failure_screenshots

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def staff_member(username: str, role: str):
    roles.ensure_role_groups()  # the live server's database is flushed between tests
    user = UserFactory(username=username, email=f"{username}@example.com", is_staff=True, password=PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    return user


def log_in(page, live_server, username: str, next_url: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_url}")


@pytest.fixture
def context(chromium, request):
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    save_failure_screenshots(request, context.pages)
    context.close()


def test_a_contributor_submits_for_review_and_an_editor_publishes(live_server, transactional_db, context):
    staff_member("cora", roles.CONTRIBUTOR)
    staff_member("edith", roles.EDITOR)
    page = context.new_page()
    log_in(page, live_server, "cora", "/admin/articles/article/add/")
    expect(page.locator("input[name=_publish]")).to_have_count(0)
    expect(page.locator("input[name=_schedule]")).to_have_count(0)
    page.locator("#id_title").press_sequentially("A guest post")
    page.locator("textarea.markdownx-editor").fill("Written by a contributor.")
    page.click("input[name=_submit_review]")
    page.locator(".messagelist", has_text="Submitted for review").wait_for()
    expect(page.locator(".editor-state")).to_contain_text("Pending review")
    expect(page.locator("input[name=_publish]")).to_have_count(0)
    article = Article.objects.get(title="A guest post")
    assert article.status == Article.Status.DRAFT and article.review_requested_at is not None

    # "Publish now" forged from the contributor's own session: 403, nothing changed.
    form = {
        name: page.input_value(f"[name={name}]")
        for name in ("csrfmiddlewaretoken", "title", "slug", "body", "category", "author", "source")
    }
    forged = context.request.post(page.url, form={**form, "title": "Forged", "_publish": "1"})
    assert forged.status == 403 and "CSRF" not in forged.text()  # refused for the role
    article.refresh_from_db()
    assert (article.title, article.status) == ("A guest post", Article.Status.DRAFT)

    context.clear_cookies()
    log_in(page, live_server, "edith", "/admin/articles/article/?status__exact=pending")
    page.get_by_role("link", name="A guest post").click()
    page.click("input[name=_publish]")
    page.locator(".messagelist", has_text="Published").wait_for()
    article.refresh_from_db()
    assert article.is_public and article.review_requested_at is None

    context.clear_cookies()
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    expect(page.locator("article")).to_contain_text("Written by a contributor.")
