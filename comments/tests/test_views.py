"""Posting, replying, permalinks and unsubscribing over HTTP: every bad input gets a clear
message and the right status code, a refused post gives back everything typed, nothing
personal ever lands in the shared page cache, and abuse is bounded: rate limits per network
(not per user agent), one comment per form stamp, known commenters by proof only."""

import html
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from articles.tests.factories import ArticleFactory, DraftFactory, UserFactory
from comments import notifications, services
from comments.conf import AUTHOR_COOKIE, PROOF_COOKIE
from comments.models import Comment, CommentSettings
from comments.tests.conftest import aged_stamp, form_data, post_url, set_policy, stamp_in
from comments.tests.factories import CommentFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def _tags(page: str) -> list[tuple[str, list]]:
    """Every element the browser would build: (tag, attributes)."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(page)
    return found


# --- the happy paths -------------------------------------------------------------------


def test_published_comment_lands_on_its_anchor(
    client, article, open_policy, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        data = form_data(stamp=aged_stamp(ip="198.51.100.23"))
        response = client.post(post_url(article), data, REMOTE_ADDR="198.51.100.23")
    assert response.status_code == 303
    assert response["Location"] == f"{article.get_absolute_url()}#c-1"
    comment = Comment.objects.get()
    assert comment.is_approved and comment.number == 1
    assert len(comment.client_hash) == 64
    stored = " ".join(str(value) for value in Comment.objects.values().get().values())
    assert "198.51.100.23" not in stored  # the address is never stored
    page = _text(client.get(response["Location"]))
    assert 'id="c-1"' in page and "A thoughtful remark about <em>engines</em>." in page
    assert "Your comment is published." in page
    assert "1 comment" in page


def test_held_comment_is_shown_in_place_to_its_author_alone(client, article):
    """The author lands on their comment, marked as awaiting moderation, with the notice
    beside the form; other readers see nothing; both are answered from the page cache."""
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    Client().get(article.get_absolute_url())  # the page is cached before the post
    response = client.post(post_url(article), form_data())
    assert response.status_code == 303 and response["Location"].endswith("#c-1")
    assert "messages" not in response.cookies  # nothing that would take the page out of the cache
    landed = client.get(response["Location"])
    assert landed["X-Page-Cache"] == "hit"
    section = _text(landed).split('id="comments"')[1]
    thread = section.split('id="comment-form"')[0]
    assert 'id="c-1"' in thread and "comment-pending" in thread and "Awaiting moderation" in thread
    assert "A thoughtful remark about <em>engines</em>." in thread
    assert "Your comment is awaiting moderation" in thread[thread.rindex("</ol>") :]  # beside the form
    assert 'class="comments-empty"' in thread  # in the markup, hidden by CSS next to the reader's own
    other = Client().get(article.get_absolute_url())
    assert other["X-Page-Cache"] == "hit"
    assert "A thoughtful remark" not in _text(other) and "awaiting moderation" not in _text(other)
    assert Comment.objects.get().status == Comment.Status.PENDING


def test_reply_without_javascript(client, article, open_policy):
    parent = CommentFactory(article=article, author_name="Grace")
    page = client.get(f"/comments/{parent.pk}/reply/")
    assert page.status_code == 200
    body = _text(page)
    assert f'name="parent" value="{parent.pk}"' in body and "Reply to Grace (#1)" in body
    assert page["X-Robots-Tag"] == "noindex"
    response = client.post(post_url(article), form_data(parent=parent.pk, body="Agreed."))
    assert response["Location"].endswith("#c-2")
    assert Comment.objects.get(number=2).parent == parent


def test_reply_page_is_404_for_hidden_comments(client, article):
    held = CommentFactory(article=article, status=Comment.Status.PENDING)
    on_draft = CommentFactory(article=DraftFactory())
    for comment_id in (held.pk, on_draft.pk, 999_999):
        assert client.get(f"/comments/{comment_id}/reply/").status_code == 404


def test_permalink_finds_the_page_of_the_thread(client, article, settings):
    settings.COMMENTS_THREADS_PER_PAGE = 2
    comments = [CommentFactory(article=article) for _ in range(3)]
    reply = CommentFactory(article=article, parent=comments[2])
    services._recount([article.pk])
    url = article.get_absolute_url()
    assert client.get(comments[0].get_absolute_url())["Location"] == f"{url}#c-1"
    assert client.get(reply.get_absolute_url())["Location"] == f"{url}?page=2#c-4"
    page_two = _text(client.get(f"{url}?page=2"))
    assert 'id="c-3"' in page_two and 'id="c-4"' in page_two and 'id="c-1"' not in page_two
    hidden = CommentFactory(article=article, status=Comment.Status.SPAM)
    assert client.get(hidden.get_absolute_url()).status_code == 404


def test_name_and_email_are_remembered_in_pages_served_from_the_cache(client, article, open_policy):
    """The remembered commenter's details are holes of the shared page: filled for them,
    empty for everyone else, and the commenter stays in the page cache."""
    client.post(post_url(article), form_data(author_url="https://ada.example", notify_on_reply="on"))
    cookie = client.cookies[AUTHOR_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    client.cookies.pop("messages", None)
    other = ArticleFactory()
    Client().get(other.get_absolute_url())  # someone else's visit stores the page
    response = client.get(other.get_absolute_url())
    assert response["X-Page-Cache"] == "hit"
    page = _text(response)
    assert 'value="Ada Lovelace"' in page and 'value="ada@example.com"' in page
    assert 'value="https://ada.example"' in page
    assert re.search(r'name="notify_on_reply"[^>]*checked', page)
    anonymous = _text(Client().get(other.get_absolute_url()))
    assert "Ada Lovelace" not in anonymous


def test_a_chinese_name_is_remembered_in_an_ascii_cookie(client, article, open_policy):
    client.post(post_url(article), form_data(author_name="小明 🐼"))
    value = client.cookies[AUTHOR_COOKIE].value
    assert value.isascii() and ";" not in value and " " not in value
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200 and 'value="小明 🐼"' in _text(response)


def test_the_remember_box_says_it_sets_a_cookie_and_none_is_set_unless_it_is_ticked(
    client, article, open_policy
):
    page = client.get(article.get_absolute_url())
    assert not page.cookies, "reading sets no cookie (the CSRF cookie comes with a first comment)"
    text = _text(page)
    assert 'aria-describedby="remember-help"' in text and "a cookie keeps them here for a year" in text
    client.post(post_url(article), form_data(remember=None))
    assert not client.cookies.get(AUTHOR_COOKIE) or client.cookies[AUTHOR_COOKIE].value == ""


def test_unticking_remember_forgets_and_a_forged_cookie_is_ignored(client, article, open_policy):
    client.post(post_url(article), form_data())
    client.post(post_url(article), form_data(body="Second", remember=None))
    assert client.cookies[AUTHOR_COOKIE].value == ""
    client.cookies[AUTHOR_COOKIE] = '{"author_name": "Mallory"}'
    page = _text(client.get(article.get_absolute_url()))
    assert "Mallory" not in page


def test_staff_badge_comes_from_the_server_only(staff_client, article, open_policy):
    reader = Client()
    reader.post(post_url(article), form_data(author_name="Fake Staff", is_staff_reply="on", body="fake"))
    staff_client.post(post_url(article), form_data(author_name="Real Staff", body="real"))
    fake, real = Comment.objects.order_by("number")
    assert not fake.is_staff_reply and real.is_staff_reply
    page = _text(reader.get(article.get_absolute_url()))
    assert page.count("staff-badge") == 1
    assert page.index("staff-badge") > page.index('id="c-2"')


# --- bad input: each a clear answer with the right status, nothing lost --------------------


BAD_INPUTS = {
    "empty body": ({"body": ""}, "body", "This field is required."),
    "huge body": ({"body": "词" * 5001}, "body", "at most 5000 characters"),
    "malformed e-mail": ({"author_email": "ada(at)example"}, "author_email", "Enter a valid email address."),
    "CR/LF in name": ({"author_name": "Ada\r\nBcc: x@example.com"}, "author_name", "single line"),
    "CR/LF in e-mail": (
        {"author_email": "a@example.com\r\nBcc: x@example.com"},
        "author_email",
        "valid email",
    ),
    "script in URL": ({"author_url": "javascript:alert(1)"}, "author_url", "Enter a valid URL."),
    "too many links": (
        {"body": " ".join(f"https://{n}.example" for n in range(5))},
        "body",
        "at most 3 links",
    ),
    "honeypot": ({"homepage": "http://spam.example"}, None, "meant to stay empty"),
    "too fast": ({"stamp": "FAST"}, None, "That was quick!"),
    "missing stamp": ({"stamp": None}, None, "The form was incomplete"),
    "forged stamp": ({"stamp": "1700000000.0:forged"}, None, "damaged in transit"),
    "missing parent": ({"parent": "987654"}, "parent", "does not exist"),
}


@pytest.mark.parametrize("case", BAD_INPUTS.keys())
def test_bad_input_rerenders_the_form_with_everything_typed(client, article, open_policy, case):
    overrides, _field, message = BAD_INPUTS[case]
    if overrides.get("stamp") == "FAST":
        overrides = {**overrides, "stamp": aged_stamp(0)}
    data = form_data(author_name="Zoë <b>Z</b>", body="Kept text — 保留 😀", author_url="https://z.example")
    data.update({key: value for key, value in overrides.items() if value is not None})
    for key in [key for key, value in overrides.items() if value is None]:
        data.pop(key)
    response = client.post(post_url(article), data)
    assert response.status_code == 400
    page = _text(response)
    assert html.escape(message, quote=False).split("“")[0] in page or message in page
    for field in ("author_name", "author_email", "author_url", "body"):
        typed = data.get(field, "")
        if typed and len(typed) < 6000:
            assert html.escape(typed) in page, (case, field)
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "Your comment was not posted" in page and "messages" not in response.cookies
    assert "<b>Z</b>" not in page  # typed HTML is shown as text
    assert not Comment.objects.exists()
    # The refused page was not stored for other readers.
    assert message not in _text(Client().get(article.get_absolute_url()))


@pytest.mark.parametrize("which", ["other article", "held", "removed"])
def test_bad_parents_are_refused_with_the_text_kept(client, article, open_policy, which):
    parent = {
        "other article": lambda: CommentFactory(),
        "held": lambda: CommentFactory(article=article, status=Comment.Status.PENDING),
        "removed": lambda: CommentFactory(article=article, status=Comment.Status.REMOVED),
    }[which]()
    response = client.post(post_url(article), form_data(parent=parent.pk, body="My reply"))
    assert response.status_code == 400
    page = _text(response)
    assert "My reply" in page
    assert "only reply to a comment on this article" in page or "not published" in page
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("closer", ["article", "site"])
def test_closed_comments_show_a_notice_and_refuse_posts(client, open_policy, closer):
    article = ArticleFactory(allow_comments=closer != "article")
    CommentFactory(article=article, body="Old but still shown")
    services._recount([article.pk])
    if closer == "site":
        set_policy(comments_enabled=False)
    page = _text(client.get(article.get_absolute_url()))
    assert "Old but still shown" in page
    assert 'id="comment-form"' not in page and "reply-link" not in page
    assert "Comments are closed for this article." in page or "Comments are turned off on this site." in page
    response = client.post(post_url(article), form_data(body="Late words"))
    assert response.status_code == 403
    assert "Comments are closed for this article." in _text(response)
    assert "Late words" in _text(response) and "ada@example.com" in _text(response)
    assert Comment.objects.count() == 1


def test_unknown_or_unpublished_articles_are_404(client, open_policy):
    assert client.post("/comments/post/424242/", form_data()).status_code == 404
    assert client.post(post_url(DraftFactory()), form_data()).status_code == 404
    assert not Comment.objects.exists()


def test_only_post_is_allowed(client, article):
    assert client.get(post_url(article)).status_code == 405


def test_a_first_comment_without_javascript_is_kept_and_sent_with_a_second_press(article, open_policy):
    """Reading sets no cookie, so a first comment sent without the form's script arrives
    without a CSRF cookie: it is refused with the text kept, a cookie and a token given."""
    browser = Client(enforce_csrf_checks=True)
    reading = browser.get(article.get_absolute_url())
    assert not reading.cookies, "reading sets no cookie"
    assert re.search(r'name="csrfmiddlewaretoken" value=""', _text(reading))
    response = browser.post(post_url(article), form_data(body="Words I typed"))
    assert response.status_code == 403
    page = _text(response)
    assert "Please press “Post comment” again" in page and "Words I typed" in page
    assert "csrftoken" in response.cookies
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert not Comment.objects.exists()
    # The re-rendered form carries a working token: sending it again succeeds.
    again = browser.post(post_url(article), form_data(body="Words I typed", csrfmiddlewaretoken=token))
    assert again.status_code == 303 and Comment.objects.count() == 1


def test_csrf_token_from_a_cached_page_works_for_a_reader_with_the_cookie(article, open_policy):
    Client().get(article.get_absolute_url())  # fills the page cache
    browser = Client(enforce_csrf_checks=True)
    asked = browser.get("/comments/token/")  # what the form's script asks before a first comment
    assert asked.status_code == 200 and "no-store" in asked["Cache-Control"]
    assert asked.json()["token"] and "csrftoken" in asked.cookies
    secret = asked.cookies["csrftoken"].value
    tokens, renewed = [], []
    for _attempt in range(2):
        page = browser.get(article.get_absolute_url())
        assert page["X-Page-Cache"] == "hit"
        renewed.append(page.cookies["csrftoken"].value if "csrftoken" in page.cookies else None)
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', _text(page)).group(1))
    # Renewed (the same secret) when this process first makes a token for it, then kept.
    assert renewed in ([secret, None], [None, None])
    for n, token in enumerate(tokens):
        response = browser.post(post_url(article), form_data(body=f"Remark {n}", csrfmiddlewaretoken=token))
        assert response.status_code == 303
    assert Comment.objects.count() == 2
    # A token made for one reader's cookie is refused with another's.
    other = Client(enforce_csrf_checks=True)
    other.get("/comments/token/")
    refused = other.post(post_url(article), form_data(body="Not mine", csrfmiddlewaretoken=tokens[0]))
    assert refused.status_code == 403 and Comment.objects.count() == 2


def test_double_submission_stores_one_comment(client, article, open_policy):
    first = client.post(post_url(article), form_data())
    second = client.post(post_url(article), form_data())
    assert first.status_code == second.status_code == 303
    assert second["Location"] == first["Location"]
    assert Comment.objects.count() == 1
    assert "already posted this comment" in _text(client.get(second["Location"]))


def test_rate_limit_is_429_with_retry_after_and_the_text_kept(client, article, open_policy, settings):
    settings.COMMENTS_RATE_LIMIT = 2
    for n in range(2):
        assert client.post(post_url(article), form_data(body=f"post {n}")).status_code == 303
    response = client.post(post_url(article), form_data(body="one too many"))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.COMMENTS_RATE_WINDOW
    assert "commenting too fast" in _text(response) and "one too many" in _text(response)
    assert Comment.objects.count() == 2
    other = Client(REMOTE_ADDR="203.0.113.99")
    someone_else = form_data(body="someone else", stamp=aged_stamp(ip="203.0.113.99"))
    assert other.post(post_url(article), someone_else).status_code == 303


def _post_from(article, ip: str, agent: str, body: str):
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent).post(
        post_url(article), form_data(body=body, stamp=aged_stamp(ip=ip))
    )


def test_rotating_the_user_agent_or_the_ipv6_address_gets_no_more_posts(article, open_policy, settings):
    settings.COMMENTS_RATE_LIMIT = 3
    statuses = [_post_from(article, "203.0.113.5", f"Agent/{n}", f"post {n}").status_code for n in range(5)]
    assert statuses == [303, 303, 303, 429, 429]
    # Every address of one IPv6 /64 counts as one client; the next /64 is another.
    statuses = [
        _post_from(article, f"2001:db8:0:1::{n:x}", "Agent", f"v6 post {n}").status_code for n in range(1, 6)
    ]
    assert statuses == [303, 303, 303, 429, 429]
    assert _post_from(article, "2001:db8:0:2::1", "Agent", "next network").status_code == 303
    assert Comment.objects.count() == 7


def test_a_form_stamp_carries_one_comment_from_the_network_it_was_shown_to(client, article, open_policy):
    stamp = aged_stamp()
    assert client.post(post_url(article), form_data(stamp=stamp)).status_code == 303
    again = client.post(post_url(article), form_data(stamp=stamp, body="Another text, same form"))
    assert again.status_code == 400 and "already used for a comment" in _text(again)
    elsewhere = client.post(post_url(article), form_data(stamp=aged_stamp(ip="198.51.100.1"), body="Mine"))
    assert elsewhere.status_code == 400 and "opened from another network" in _text(elsewhere)
    assert Comment.objects.count() == 1


def test_the_stamp_on_a_page_is_bound_to_the_readers_network(article, open_policy, monkeypatch, settings):
    settings.COMMENTS_MIN_FILL_SECONDS = 0
    page = Client(REMOTE_ADDR="2001:db8:5::1").get(article.get_absolute_url())
    stamp = stamp_in(_text(page))
    same_network = Client(REMOTE_ADDR="2001:db8:5::abcd")
    assert same_network.post(post_url(article), form_data(stamp=stamp)).status_code == 303
    other = Client(REMOTE_ADDR="2001:db8:6::1").post(post_url(article), form_data(stamp=stamp, body="x"))
    assert other.status_code == 400


def test_a_commenter_is_known_by_their_browsers_proof_never_by_a_typed_address(client, article):
    set_policy(comment_moderation=CommentSettings.Moderation.FIRST_TIME)
    first = client.post(post_url(article), form_data(body="My first comment"))
    assert first.status_code == 303 and Comment.objects.get().status == Comment.Status.PENDING
    proof = client.cookies[PROOF_COOKIE]
    assert proof["path"] == "/comments/" and proof["httponly"]
    Comment.objects.update(status=Comment.Status.APPROVED)
    # Someone else typing the same address is held ...
    stranger = Client().post(post_url(article), form_data(body="Pretending to be Ada"))
    assert stranger.status_code == 303
    assert Comment.objects.get(body="Pretending to be Ada").status == Comment.Status.PENDING
    # ... while the browser that posted the approved comment is known.
    client.post(post_url(article), form_data(body="My second comment"))
    assert Comment.objects.get(body="My second comment").status == Comment.Status.APPROVED
    forged = Client()
    forged.cookies[PROOF_COOKIE] = "W1s1XV0:forged"
    forged.post(post_url(article), form_data(body="With a forged proof"))
    assert Comment.objects.get(body="With a forged proof").status == Comment.Status.PENDING


def test_posting_under_the_admins_address_is_held(client, article, open_policy):
    UserFactory(is_staff=True, is_superuser=True, email="admin@example.com")
    response = client.post(
        post_url(article), form_data(author_email="ADMIN@example.com", body="Hi, admin here")
    )
    held = Comment.objects.get()
    # Held: its author lands on it (shown to them alone, awaiting moderation).
    assert response.status_code == 303 and response["Location"].endswith(f"#c-{held.number}")
    assert held.status == Comment.Status.PENDING
    assert "Hi, admin here" not in _text(Client().get(article.get_absolute_url()))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Ada\u202egnp.exe", "text-direction control"),
        ("\u2066Ada\u2069", "text-direction control"),
        ("\u200b\u200b", "visible characters"),
        ("\u3164", "visible characters"),
        ("\u2800 \u200d", "visible characters"),
    ],
)
def test_names_that_hide_or_reorder_text_are_refused(client, article, open_policy, name, message):
    response = client.post(post_url(article), form_data(author_name=name))
    assert response.status_code == 400 and message in _text(response)
    assert not Comment.objects.exists()


def test_request_too_large_is_413(client, article, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client.post(post_url(article), form_data(body="x" * 20_000))
    assert response.status_code == 413
    assert "far too long" in _text(response)


def test_unreadable_form_data_is_400(client, article):
    response = client.post(post_url(article), data=b"--x\r\n", content_type="multipart/form-data")
    assert response.status_code == 400 and "could not be read" in _text(response)


def test_html_and_script_in_every_field_are_inert(client, article, open_policy):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    data = form_data(author_name=evil[:50], body=f"{evil}\n\n[click](javascript:alert(1))")
    response = client.post(post_url(article), data)
    assert response.status_code == 303
    page = _text(client.get(article.get_absolute_url()))
    tags = _tags(page)
    assert not [attrs for tag, attrs in tags if any(name.startswith("on") for name, _v in attrs)]
    images = [dict(attrs)["src"] for tag, attrs in tags if tag == "img"]
    assert all(src.startswith("https://www.gravatar.com/avatar/") for src in images)
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page
    assert "&lt;script&gt;" in page


def test_posting_with_a_dead_mail_server_still_stores_and_redirects(
    client, article, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    settings.ADMINS = [("Mod", "mod@example.com")]
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(post_url(article), form_data())
    assert response.status_code == 303
    held = Comment.objects.get()
    assert held.status == Comment.Status.PENDING and held.moderators_notified_at is None


def test_staff_gets_the_form_prefilled(staff_client, article):
    staff_client.staff_user.email = "boss@example.com"
    staff_client.staff_user.save()
    page = _text(staff_client.get(article.get_absolute_url()))
    assert 'value="boss@example.com"' in page and "You are signed in as staff" in page


# --- unsubscribing ---------------------------------------------------------------------


def test_unsubscribe_asks_on_get_and_acts_on_post(client, article):
    CommentFactory(article=article, author_email="ada@example.com", notify_on_reply=True)
    url = f"/comments/unsubscribe/{notifications.unsubscribe_token('ada@example.com')}/"
    assert client.head(url).status_code == 200
    page = client.get(url)
    assert page.status_code == 200 and page["X-Robots-Tag"] == "noindex"
    assert "Stop e-mails about replies to the comments written with ada@example.com?" in _text(page)
    assert re.search(r'<form method="post" action="">', _text(page))
    assert Comment.objects.get().notify_on_reply  # a visit (or a link checker) changes nothing
    for _ in range(2):
        response = client.post(url)
        assert response.status_code == 200 and "ada@example.com will get no more e-mails" in _text(response)
    assert not Comment.objects.get().notify_on_reply


def test_one_click_unsubscribe_from_a_mail_client_needs_no_login_or_token(article):
    CommentFactory(article=article, author_email="ada@example.com", notify_on_reply=True)
    url = f"/comments/unsubscribe/{notifications.unsubscribe_token('ada@example.com')}/"
    one_click = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert not Comment.objects.get().notify_on_reply


def test_broken_unsubscribe_links_are_400_and_old_ones_410(client, article):
    response = client.get("/comments/unsubscribe/not-a-token/")
    assert response.status_code == 400 and "broken" in _text(response)
    CommentFactory(article=article, author_email="ada@example.com", notify_on_reply=True)
    url = f"/comments/unsubscribe/{notifications.unsubscribe_token('ada@example.com')}/"
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        for method in (client.get, client.post):
            expired = method(url)
            assert expired.status_code == 410 and "expired (links work for 90 days)" in _text(expired)
    assert Comment.objects.get().notify_on_reply


def test_reply_mail_link_unsubscribes(client, article, open_policy, django_capture_on_commit_callbacks):
    parent = CommentFactory(article=article, author_email="ada@example.com", notify_on_reply=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(post_url(article), form_data(parent=parent.pk, author_email="bob@example.com"))
    link = re.search(r"http://\S+/comments/unsubscribe/\S+/", mail.outbox[0].body).group(0)
    assert client.post(link.split("://", 1)[1].split("/", 1)[1].join(["/", ""])).status_code == 200
    parent.refresh_from_db()
    assert not parent.notify_on_reply


# --- MariaDB ---------------------------------------------------------------------------


@pytest.mark.real_backends
def test_emoji_and_chinese_round_trip_through_the_page_on_mariadb(client, article, open_policy):
    data = form_data(author_name="小明 🐼", body="你好，世界！👋🏽 𠜎")
    assert client.post(post_url(article), data).status_code == 303
    page = _text(client.get(article.get_absolute_url()))
    assert "小明 🐼" in page and "你好，世界！👋🏽 𠜎" in page
    assert Comment.objects.get().author_name == "小明 🐼"
