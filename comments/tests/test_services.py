"""Comment services: numbering (also under concurrent posts on MariaDB), moderation
policy (known commenters by proof only, staff addresses always held), exact counts in the
same transaction, cache bumps on commit, unsubscribing."""

import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from articles.models import Article
from articles.tests.factories import ArticleFactory, DraftFactory, UserFactory
from blog_project.caching import page_generation
from comments import services
from comments.models import Comment, CommentSettings
from comments.tests.conftest import set_policy
from comments.tests.factories import CommentFactory

pytestmark = pytest.mark.django_db


def _create(article, **overrides) -> Comment:
    fields = {"author_name": "Ada", "author_email": "ada@example.com", "body": "Hello there"}
    fields.update(overrides)
    return services.comment_create(article=article, **fields)


def _count(article) -> int:
    return Article.objects.values_list("comment_count", flat=True).get(pk=article.pk)


def test_numbers_and_threads(article, open_policy):
    first = _create(article, body="one")
    second = _create(article, body="two")
    reply = _create(article, body="three", parent=first)
    deeper = _create(article, body="four", parent=reply)
    assert [c.number for c in (first, second, reply, deeper)] == [1, 2, 3, 4]
    assert [c.thread_number for c in (first, second, reply, deeper)] == [1, 2, 1, 1]
    assert _create(ArticleFactory(), body="elsewhere").number == 1


def test_policy_none_publishes_and_counts_exactly(article, open_policy):
    _create(article, body="a")
    _create(article, body="b", author_email="b@example.com")
    assert _count(article) == 2


def test_policy_all_holds_everything(article):
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    CommentFactory(article=article, author_email="ada@example.com")  # known commenter
    comment = _create(article)
    assert comment.status == Comment.Status.PENDING


def test_policy_first_time_knows_a_commenter_only_by_proof(article):
    """Known = an approved comment of theirs that their browser proves it posted; typing an
    address that has approved comments proves nothing."""
    set_policy(comment_moderation=CommentSettings.Moderation.FIRST_TIME)
    first = _create(article, author_email="New@Example.com")
    assert first.status == Comment.Status.PENDING
    with_proof = {"proven_comment_ids": [first.pk]}
    assert _create(article, body="still held", **with_proof).status == Comment.Status.PENDING
    services.comment_moderate(comments=Comment.objects.filter(pk=first.pk), status=Comment.Status.APPROVED)
    typed = _create(article, author_email="new@example.com", body="typed the address")
    assert typed.status == Comment.Status.PENDING
    again = _create(article, author_email="new@example.com", body="second thought", **with_proof)
    assert again.status == Comment.Status.APPROVED
    # The proof is for that address: another address with the same cookie is new.
    other = _create(article, author_email="other@example.com", body="someone else", **with_proof)
    assert other.status == Comment.Status.PENDING
    assert _count(article) == 2


@pytest.mark.parametrize("policy", CommentSettings.Moderation.values)
def test_a_visitor_posting_under_a_staff_address_is_always_held(article, settings, policy):
    settings.COMMENTS_MODERATOR_EMAILS = ["moderator@example.com"]
    set_policy(comment_moderation=policy)
    admin = UserFactory(is_staff=True, is_superuser=True, email="admin@example.com")
    own = CommentFactory(article=article, author_email="admin@example.com")  # an approved one
    for typed in ("Admin@Example.COM", "moderator@EXAMPLE.com"):
        posed = _create(article, author_email=typed, body=f"I am {typed}", proven_comment_ids=[own.pk])
        assert posed.status == Comment.Status.PENDING, typed
    # The staff member signed in is published at once, under the same address.
    assert _create(article, user=admin, author_email="admin@example.com", body="really me").is_approved


def test_staff_posts_are_published_with_the_badge_and_readers_never_get_it(article):
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    staff = UserFactory(is_staff=True)
    reader = UserFactory(is_staff=False)
    by_staff = _create(article, user=staff)
    by_reader = _create(article, user=reader, body="another")
    assert by_staff.is_approved and by_staff.is_staff_reply and by_staff.user == staff
    assert not by_reader.is_staff_reply and by_reader.user is None
    assert by_reader.status == Comment.Status.PENDING


@pytest.mark.parametrize("closer", ["article", "site", "draft"])
def test_closed_articles_refuse_comments(closer, open_policy):
    article = DraftFactory() if closer == "draft" else ArticleFactory(allow_comments=closer != "article")
    if closer == "site":
        set_policy(comments_enabled=False)
    with pytest.raises(services.CommentsClosed):
        _create(article)
    assert not Comment.objects.exists()


def test_parent_rules(article, open_policy):
    elsewhere = CommentFactory()
    with pytest.raises(ValidationError, match="same article"):
        _create(article, parent=elsewhere)
    held = CommentFactory(article=article, status=Comment.Status.PENDING)
    with pytest.raises(ValidationError, match="not open for replies"):
        _create(article, parent=held)
    assert not Comment.objects.filter(article=article, parent__isnull=False).exists()


def test_duplicates_by_the_same_author_are_refused(article, open_policy):
    first = _create(article, body="Same   words\nhere")
    with pytest.raises(services.DuplicateComment) as excinfo:
        _create(article, body="Same words here", author_email="ADA@example.com")
    assert excinfo.value.existing == first
    _create(article, body="Same words here", author_email="someone@example.com")  # another author
    _create(ArticleFactory(), body="Same words here")  # another article
    services.comment_moderate(comments=Comment.objects.filter(pk=first.pk), status=Comment.Status.SPAM)
    with pytest.raises(services.DuplicateComment):  # reposting spam is no way around moderation
        _create(article, body="Same words here", client_hash="", author_email="ada@example.com")


def test_visible_changes_bump_the_generation_on_commit(article, django_capture_on_commit_callbacks):
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    before = page_generation()
    with django_capture_on_commit_callbacks(execute=True):
        held = _create(article)
    assert page_generation() == before  # a held comment changes no page
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_moderate(comments=Comment.objects.filter(pk=held.pk), status=Comment.Status.APPROVED)
    assert page_generation() != before


def test_moderation_recounts_every_touched_article(open_policy):
    one, two = ArticleFactory(), ArticleFactory()
    for article in (one, two):
        for n in range(3):
            CommentFactory(article=article, status=Comment.Status.PENDING, body=f"c{n}")
    Article.objects.update(comment_count=99)  # drifted: the recount repairs it
    changed = services.comment_moderate(comments=Comment.objects.all(), status=Comment.Status.APPROVED)
    assert changed == 6 and _count(one) == 3 and _count(two) == 3
    target = list(Comment.objects.filter(article=one).order_by("number").values_list("pk", flat=True)[:2])
    assert services.comment_moderate(comments=Comment.objects.filter(pk__in=target), status="spam") == 2
    assert _count(one) == 1
    assert services.comment_moderate(comments=Comment.objects.filter(article=two), status="removed") == 3
    assert _count(two) == 0
    assert services.comment_moderate(comments=Comment.objects.filter(article=two), status="removed") == 0
    with pytest.raises(ValidationError):
        services.comment_moderate(comments=Comment.objects.all(), status="bogus")


def test_delete_keeps_the_count_exact(article, open_policy):
    keep, gone = _create(article, body="keep"), _create(article, body="gone")
    assert services.comment_delete(comments=Comment.objects.filter(pk=gone.pk)) == 1
    assert _count(article) == 1 and Comment.objects.get() == keep


def test_edit_rerenders_and_validates(article, open_policy):
    comment = _create(article)
    services.comment_edit(
        comment=comment,
        author_name="Ada L.",
        author_email="ada@example.com",
        author_url="https://ada.example",
        body="*fixed*",
        notify_on_reply=False,
    )
    comment.refresh_from_db()
    assert comment.body_html == "<p><em>fixed</em></p>\n" and comment.author_name == "Ada L."
    with pytest.raises(ValidationError):
        services.comment_edit(
            comment=comment,
            author_name="x\ny",
            author_email="a@b.c",
            author_url="",
            body="b",
            notify_on_reply=False,
        )


def test_staff_reply_approves_a_held_parent(article):
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    held = _create(article)
    staff = UserFactory(is_staff=True, first_name="Grace", last_name="Hopper")
    reply = services.comment_staff_reply(parent=held, user=staff, body="Thanks!")
    held.refresh_from_db()
    assert held.is_approved and reply.is_approved and reply.is_staff_reply
    assert reply.author_name == "Grace Hopper" and reply.parent == held
    assert _count(article) == 2


def test_number_clash_is_retried(article, open_policy, monkeypatch):
    CommentFactory(article=article)  # number 1, but the first attempt is told 1 is free
    real = services._next_number
    calls = []

    def flaky(article_id):
        calls.append(article_id)
        return 1 if len(calls) == 1 else real(article_id)

    monkeypatch.setattr(services, "_next_number", flaky)
    comment = _create(article)
    assert comment.number == 2 and len(calls) == 2


def test_unsubscribe_is_idempotent(article):
    CommentFactory(article=article, author_email="ada@example.com", notify_on_reply=True)
    CommentFactory(article=article, author_email="ada@example.com", notify_on_reply=True)
    assert services.comment_unsubscribe(email="Ada@Example.com") == 2
    assert services.comment_unsubscribe(email="ada@example.com") == 0
    assert not Comment.objects.filter(notify_on_reply=True).exists()


# --- concurrency on MariaDB ------------------------------------------------------------


@pytest.mark.real_backends
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_get_unique_numbers_and_an_exact_count():
    assert connection.vendor == "mysql"
    set_policy(comment_moderation=CommentSettings.Moderation.NONE)
    article = ArticleFactory()
    threads, per_thread = 8, 6
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        from django.db import connections

        try:
            barrier.wait()
            for n in range(per_thread):
                parent = None
                if n % 2:
                    parent = Comment.objects.filter(article=article, status="approved").order_by("?").first()
                services.comment_create(
                    article=article,
                    parent=parent,
                    author_name=f"Writer {index}",
                    author_email=f"w{index}@example.com",
                    body=f"post {index}-{n}",
                )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    numbers = sorted(Comment.objects.filter(article=article).values_list("number", flat=True))
    assert numbers == list(range(1, threads * per_thread + 1))
    assert _count(article) == threads * per_thread
    for reply in Comment.objects.filter(article=article, parent__isnull=False).select_related("parent"):
        assert reply.thread_number == reply.parent.thread_number


@pytest.mark.real_backends
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submission_stores_one_comment():
    set_policy(comment_moderation=CommentSettings.Moderation.NONE)
    article = ArticleFactory()
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def submit() -> None:
        from django.db import connections

        try:
            barrier.wait()
            services.comment_create(
                article=article, author_name="Ada", author_email="ada@example.com", body="Twice clicked"
            )
            outcomes.append("stored")
        except services.DuplicateComment:
            outcomes.append("duplicate")
        except IntegrityError as exc:  # pragma: no cover - would be the bug
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=submit) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(outcomes) == ["duplicate"] * 5 + ["stored"]
    assert Comment.objects.filter(article=article).count() == 1 and _count(article) == 1


def test_mail_links_use_the_configured_site_url(article, settings, django_capture_on_commit_callbacks):
    """Moderation and reply mails link to BLOG_SITE_URL, wherever the post came from."""
    settings.SITE_URL = "https://notes.example.org:8443"
    settings.ADMINS = [("Mod", "mod@example.com")]
    parent = CommentFactory(article=article, author_email="ada@example.com", notify_on_reply=True)
    set_policy(comment_moderation=CommentSettings.Moderation.ALL)
    with django_capture_on_commit_callbacks(execute=True):
        reply = _create(article, parent=parent, author_email="bob@example.com", body="Hi Ada")
    [moderation] = mail.outbox
    assert f"https://notes.example.org:8443/admin/comments/comment/{reply.pk}/change/" in moderation.body
    assert f"https://notes.example.org:8443{article.get_absolute_url()}" in moderation.body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_moderate(
            comments=Comment.objects.filter(pk=reply.pk), status=Comment.Status.APPROVED
        )
    [notice] = mail.outbox
    assert f"https://notes.example.org:8443{reply.get_absolute_url()}" in notice.body
    assert notice.extra_headers["List-Unsubscribe"].startswith("<https://notes.example.org:8443/comments/")
    assert "127.0.0.1" not in moderation.body + notice.body
