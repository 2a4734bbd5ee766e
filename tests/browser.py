"""Playwright driving Debian's Chromium (/usr/bin/chromium); no browser is downloaded."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("BLOG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    """A Chromium browser for the session. Fails (never skips) if Chromium is missing."""
    from playwright.sync_api import expect, sync_playwright

    # expect() waits 5 s unless told, whatever a context's default timeout: as long as any
    # action here, so an assertion that waits for the editor's autosave (every 5 s) or a
    # busy machine's answer never races the clock (one did, in CI).
    expect.set_options(timeout=15_000)
    if not shutil.which(CHROMIUM):
        pytest.fail(f"No Chromium at {CHROMIUM}: run scripts/system-deps --all (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # in such a thread unless told that this is deliberate (tests only).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# Where a failed browser test leaves a screenshot of every page it had open (CI keeps var/).
ARTIFACTS = Path(
    os.environ.get("BLOG_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "var" / "artifacts")
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def save_failure_screenshots(request, pages) -> None:
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
    for number, page in enumerate(pages):
        if not page.is_closed():
            page.screenshot(path=str(ARTIFACTS / f"{name}-{number}.png"), full_page=True)


@pytest.fixture
def page(chromium, request):
    """A fresh browser context (no cookies) and page per test; screenshots of its pages are
    kept under var/artifacts/ when the test fails."""
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    save_failure_screenshots(request, context.pages)
    context.close()


class _OpenRequests:
    """Counts the connections a live server (Django's ThreadedWSGIServer) accepted and has
    not finished with: counted when accepted (in the server's one accepting thread), let go
    when the thread handling it ends."""

    def __init__(self, httpd) -> None:
        self.count = 0
        self.changed = threading.Condition()
        accept, handle = httpd.process_request, httpd.process_request_thread

        def process_request(request, client_address):
            with self.changed:
                self.count += 1
            try:
                accept(request, client_address)
            except BaseException:
                self._done()
                raise

        def process_request_thread(request, client_address):
            try:
                handle(request, client_address)
            finally:
                self._done()

        httpd.process_request, httpd.process_request_thread = process_request, process_request_thread

    def _done(self) -> None:
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    @classmethod
    def of(cls, httpd) -> _OpenRequests:
        if getattr(httpd, "_open_requests", None) is None:
            httpd._open_requests = cls(httpd)
        return httpd._open_requests

    def drain(self, url: str, timeout: float = 60) -> None:
        """Wait until every connection accepted so far is answered and closed. One request
        of our own first: connections are accepted in order, so once it is answered every
        connection a closed browser left in the queue has been accepted (and counted)."""
        address = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout)
        try:
            conn.request("GET", "/healthz", headers={"Connection": "close"})
            conn.getresponse().read()
        finally:
            conn.close()
        with self.changed:
            if not self.changed.wait_for(lambda: self.count == 0, timeout=timeout):
                raise AssertionError(f"the live server still handles {self.count} connections")


@pytest.fixture(autouse=True)
def _live_server_idle_before_the_flush(request):
    """A test's browser may leave requests in flight (an autosave, a preview) when its
    context closes; the live server's threads would still write to the database while
    ``transactional_db`` empties it (SQLite: "database table is locked" at teardown). Set up
    after ``transactional_db`` and before any browser context, this waits at teardown, once
    the contexts are closed, until the live server has answered everything."""
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")
    server = request.getfixturevalue("live_server")
    open_requests = _OpenRequests.of(server.thread.httpd)
    yield
    open_requests.drain(server.url)
