"""``manage.py seed_demo_comments``: a few comment threads on the demo blog, idempotently.

Run after ``seed_demo``: the pinned article and the newest ones that take comments get
threads (English and Chinese, replies, code, a commenter's website), posted
through ``comment_create`` like a reader's and approved through ``comment_moderate`` like a
moderator's. A comment already there (same article, e-mail and text) is left alone, so a
second run changes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from articles.models import Article
from comments.models import Comment
from comments.services import comment_create, comment_moderate

# (key, parent key or None, name, e-mail, website, text)
THREAD = [
    (
        "a",
        None,
        "Ada",
        "ada@example.com",
        "https://ada.example.com",
        "Thanks for writing this up! The part about **caching** finally made it click for me.",
    ),
    (
        "b",
        "a",
        "Grace",
        "grace@example.com",
        "",
        "Same here. One question: does this also hold when the cache is *cold*?",
    ),
    (
        "c",
        "b",
        "Ada",
        "ada@example.com",
        "https://ada.example.com",
        "I think so: the first request pays, every later one is served from memory.",
    ),
    ("d", None, "李雷", "lilei@example.com", "", "写得很清楚，谢谢分享！请问有配套的示例代码吗？"),
    ("e", "d", "韩梅梅", "hanmeimei@example.com", "https://hanmeimei.example.cn", "我也想要示例代码 :)"),
    (
        "f",
        None,
        "Linus",
        "linus@example.com",
        "",
        "A small nit: `list(queryset)` evaluates it at once, so\n\n"
        "```python\nrows = list(Article.objects.all())\n```\n\n"
        "loads every row. Use `.iterator()` for big tables.",
    ),
]
ARTICLES = 3  # the pinned article and the newest that take comments


class Command(BaseCommand):
    help = "Add demo comment threads to the demo articles (idempotent)."

    def handle(self, *args, **options) -> None:
        public = Article.objects.published().filter(allow_comments=True)
        targets = list(public.filter(is_pinned=True)[:1]) + list(
            public.filter(is_pinned=False).newest_first()[: ARTICLES - 1]
        )
        written = 0
        for article in targets:
            written += self._thread(article)
        self.stdout.write(f"Demo comments ready: {written} written on {len(targets)} articles.")

    @transaction.atomic
    def _thread(self, article: Article) -> int:
        posted: dict[str, Comment] = {}
        written = 0
        for key, parent_key, name, email, website, text in THREAD:
            comment = Comment.objects.filter(article=article, author_email=email, body=text).first()
            if comment is None:
                comment = comment_create(
                    article=article,
                    parent=posted.get(parent_key) if parent_key else None,
                    author_name=name,
                    author_email=email,
                    author_url=website,
                    body=text,
                )
                written += 1
            if not comment.is_approved:
                comment_moderate(
                    comments=Comment.objects.filter(pk=comment.pk), status=Comment.Status.APPROVED
                )
                comment.refresh_from_db()
            posted[key] = comment
        return written
