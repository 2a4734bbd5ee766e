"""Moderation in the admin: the queue, bulk actions, thread and history, staff replies.

Every write goes through ``services`` so that counts, caches and mail stay right.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from articles.adminlists import SEARCH_COUNT_LIMIT, LargeListAdminMixin
from articles.models import Article

from .models import Comment, CommentSettings, OutboxMessage
from .selectors import pending_count
from .services import (
    CommentsClosed,
    DuplicateComment,
    comment_delete,
    comment_edit,
    comment_moderate,
    comment_staff_reply,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

HISTORY_LIMIT = 10
# The comment text is searched in this many of the newest comments (a scan); names,
# e-mail addresses and client fingerprints in all of them (an index each).
TEXT_SEARCH_WINDOW = 50_000
FINGERPRINT = re.compile(r"[0-9a-f]{64}")


class CommentAdminForm(forms.ModelForm):
    author_url = forms.URLField(
        label=_("website"),
        required=False,
        max_length=200,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
    )
    staff_reply = forms.CharField(
        label=_("Reply as staff"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Published at once under this comment, with a staff badge (a pending comment is approved)."
        ),
    )

    class Meta:
        model = Comment
        fields = ("author_name", "author_email", "author_url", "body", "status", "notify_on_reply")


class ArticleFilter(admin.SimpleListFilter):
    """Articles that have comments, by title (RelatedOnlyFieldListFilter would load every
    article with its whole body just to print the titles)."""

    title = _("article")
    parameter_name = "article"

    def lookups(self, request, model_admin):
        # Newest articles first, each probed for one comment: no DISTINCT over comments,
        # and a LIMIT in the probe keeps the database from collecting every comment's
        # article first (what it does with EXISTS or IN).
        first = Comment.objects.filter(article=OuterRef("pk")).order_by().values("pk")[:1]
        return list(
            Article.objects.annotate(first_comment=Subquery(first))
            .filter(first_comment__isnull=False)
            .order_by("-published_at", "-pk")
            .values_list("pk", "title")[:200]
        )

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(article_id=value) if value and value.isdigit() else queryset


def _change_link(comment: Comment, label: str | None = None) -> str:
    url = reverse("admin:comments_comment_change", args=[comment.pk])
    return format_html('<a href="{}">{}</a>', url, label or f"#{comment.number} {comment.author_name}")


@admin.register(Comment)
class CommentAdmin(LargeListAdminMixin, admin.ModelAdmin):
    form = CommentAdminForm
    list_display = (
        "number_label",
        "author_name",
        "excerpt",
        "article_link",
        "status",
        "is_staff_reply",
        "created_at",
    )
    list_display_links = ("number_label", "author_name")
    list_filter = ("status", "is_staff_reply", "created_at", ArticleFilter)
    list_select_related = ("article",)
    # Searched as get_search_results says (each part served by an index or bounded).
    search_fields = ("author_name", "author_email", "body", "=client_hash")
    search_help_text = _(
        "The beginning of a name or e-mail address, a client fingerprint or a comment number; "
        "or words of the text (in the newest 50,000 comments)."
    )
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    # Sorting by any other column would sort every comment (the article filter and the
    # status filter narrow the list instead).
    sortable_by = ("author_name", "created_at")
    list_per_page = 50
    actions = ("approve_selected", "mark_spam_selected", "remove_selected")
    readonly_fields = (
        "article_link",
        "number_label",
        "thread_position",
        "body_preview",
        "is_staff_reply",
        "created_at",
        "client_hash",
        "history",
    )
    fieldsets = (
        (None, {"fields": ("article_link", "number_label", "thread_position", "status")}),
        (_("Comment"), {"fields": ("author_name", "author_email", "author_url", "body", "body_preview")}),
        (_("Reply"), {"fields": ("staff_reply",)}),
        (
            _("Commenter"),
            {"fields": ("notify_on_reply", "is_staff_reply", "created_at", "client_hash", "history")},
        ),
    )

    def view_on_site(self, comment: Comment) -> str:
        # The article at the comment's anchor (the public permalink is 404 until approved).
        return f"{comment.article.get_absolute_url()}#c-{comment.number}"

    # --- columns and read-only fields ----------------------------------------------------

    @admin.display(description=_("number"), ordering="number")
    def number_label(self, comment: Comment) -> str:
        return f"#{comment.number}"

    @admin.display(description=_("comment"))
    def excerpt(self, comment: Comment) -> str:
        return Truncator(" ".join(comment.body.split())).chars(80)

    @admin.display(description=_("article"), ordering="article__title")
    def article_link(self, comment: Comment) -> str:
        changelist = f"{reverse('admin:comments_comment_changelist')}?article={comment.article_id}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}" target="_blank" rel="noopener">{}</a>',
            changelist,
            comment.article.title,
            comment.article.get_absolute_url() + f"#c-{comment.number}",
            _("view"),
        )

    @admin.display(description=_("comment (as shown)"))
    def body_preview(self, comment: Comment) -> str:
        return format_html('<div class="md">{}</div>', mark_safe(comment.body_html))  # sanitised on save

    @admin.display(description=_("place in the thread"))
    def thread_position(self, comment: Comment) -> str:
        parts = []
        if comment.parent_id:
            parent = comment.parent
            assert parent is not None  # parent_id is set
            parts.append(
                format_html("{} {} ({})", _("In reply to"), _change_link(parent), parent.get_status_display())
            )
        else:
            parts.append(format_html("{}", _("Starts a thread")))
        replies = list(comment.replies.order_by("number"))
        if replies:
            parts.append(
                format_html(
                    "{}: {}",
                    _("Replies"),
                    format_html_join(
                        ", ", "{} ({})", ((_change_link(r), r.get_status_display()) for r in replies)
                    ),
                )
            )
        thread = Comment.objects.filter(article_id=comment.article_id, thread_number=comment.thread_number)
        parts.append(
            format_html(
                '<a href="{}?article={}&amp;thread_number={}">{}</a>',
                reverse("admin:comments_comment_changelist"),
                comment.article_id,
                comment.thread_number,
                ngettext("%d comment in this thread", "%d comments in this thread", thread.count())
                % thread.count(),
            )
        )
        return format_html_join(mark_safe("<br>"), "{}", ((part,) for part in parts))

    @admin.display(description=_("history of this commenter"))
    def history(self, comment: Comment) -> str | StrPromise:
        others = Comment.objects.exclude(pk=comment.pk).filter(author_email=comment.author_email)
        if comment.client_hash:
            others = others | Comment.objects.exclude(pk=comment.pk).filter(client_hash=comment.client_hash)
        by_status = dict(
            others.order_by().values_list("status").annotate(total=Count("pk")).values_list("status", "total")
        )
        if not by_status:
            return _("First comment from this e-mail address and client.")
        labels = dict(Comment.Status.choices)
        summary = ", ".join(f"{labels[status]}: {total}" for status, total in sorted(by_status.items()))
        recent = others.select_related("article").order_by("-created_at")[:HISTORY_LIMIT]
        items = format_html_join(
            "",
            "<li>{} · {} · {} · {}</li>",
            (
                (_change_link(c), c.article.title, c.get_status_display(), c.created_at.strftime("%Y-%m-%d"))
                for c in recent
            ),
        )
        search = reverse("admin:comments_comment_changelist") + f"?author_email={comment.author_email}"
        return format_html(
            '{}<ul style="margin:.25rem 0">{}</ul><a href="{}">{}</a>',
            summary,
            items,
            search,
            _("all by this e-mail"),
        )

    # --- the list --------------------------------------------------------------------------

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Comment], search_term: str):
        """Names and e-mail addresses by their beginning, a fingerprint or comment number
        exactly, words of the text in the newest ``TEXT_SEARCH_WINDOW`` comments.

        Each part is read on its own (an index range, or the window's key range) as at
        most ``SEARCH_COUNT_LIMIT`` keys, and the list shows their union: OR-ing them in
        one WHERE makes the database read and sort every row any part matches.
        """
        term = " ".join(search_term.split())
        if not term:
            return queryset, False
        lowered = term.lower()
        if FINGERPRINT.fullmatch(lowered):
            return queryset.filter(client_hash=lowered), False
        comments = Comment.objects.order_by()
        parts = [
            comments.filter(author_name__istartswith=term).order_by("author_name", "pk"),
            comments.filter(author_email__istartswith=lowered).order_by("author_email", "pk"),
        ]
        number = term.removeprefix("#")
        if number.isdigit() and len(number) < 19:
            parts.append(comments.filter(pk=int(number)))
        if "@" not in term:
            newest = comments.order_by("-pk").values_list("pk", flat=True).first() or 0
            text = comments.filter(pk__gt=newest - TEXT_SEARCH_WINDOW).order_by("-pk")
            for word in term.split()[:8]:
                text = text.filter(body__icontains=word)
            parts.append(text)
        keys: set[int] = set()
        for part in parts:
            found = list(part.values_list("pk", flat=True)[: SEARCH_COUNT_LIMIT + 1])
            if len(found) > SEARCH_COUNT_LIMIT:
                # The list says "N+" (LargeListAdminMixin reads it back with getattr()).
                request.admin_search_capped = True  # type: ignore[attr-defined]
                found = found[:SEARCH_COUNT_LIMIT]
            keys.update(found)
        return queryset.filter(pk__in=sorted(keys)), False

    # --- permissions and writes ----------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Comment]:
        heavy = ("body", "body_html", "toc_html", "summary")
        return (
            super()
            .get_queryset(request)
            .select_related("article", "parent")
            .defer(*(f"article__{name}" for name in heavy))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # readers write comments; staff reply from a comment's page

    def save_model(self, request: HttpRequest, obj: Comment, form, change: bool) -> None:
        stored = Comment.objects.get(pk=obj.pk)
        edited = {name for name in form.changed_data if name not in ("status", "staff_reply")}
        if edited:
            comment_edit(
                comment=stored,
                author_name=obj.author_name,
                author_email=obj.author_email,
                author_url=obj.author_url,
                body=obj.body,
                notify_on_reply=obj.notify_on_reply,
            )
        if obj.status != stored.status:
            comment_moderate(comments=Comment.objects.filter(pk=obj.pk), status=obj.status)
        reply = form.cleaned_data.get("staff_reply", "").strip()
        if reply:
            try:
                comment_staff_reply(parent=Comment.objects.get(pk=obj.pk), user=request.user, body=reply)
            except ValidationError as exc:
                text: str | StrPromise = "; ".join(exc.messages)
                self.message_user(request, _("The reply was not posted: %s") % text, messages.ERROR)
            except CommentsClosed:
                text = _("The reply was not posted: comments are closed for this article.")
                self.message_user(request, text, messages.ERROR)
            except DuplicateComment:
                text = _("The reply was not posted: it is already there.")
                self.message_user(request, text, messages.WARNING)
            else:
                self.message_user(request, _("Your reply is published."), messages.SUCCESS)
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change) -> None:
        pass  # no relations are edited here

    def delete_model(self, request: HttpRequest, obj: Comment) -> None:
        self.delete_queryset(request, Comment.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        comment_delete(comments=queryset)

    # --- bulk actions --------------------------------------------------------------------

    @admin.action(description=_("Approve selected comments"), permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = comment_moderate(comments=queryset, status=Comment.Status.APPROVED)
        done = ngettext("%(count)d comment approved.", "%(count)d comments approved.", count)
        self.message_user(request, done % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Mark selected comments as spam"), permissions=["change"])
    def mark_spam_selected(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = comment_moderate(comments=queryset, status=Comment.Status.SPAM)
        done = ngettext("%(count)d comment marked as spam.", "%(count)d comments marked as spam.", count)
        self.message_user(request, done % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Remove selected comments"), permissions=["change"])
    def remove_selected(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = comment_moderate(comments=queryset, status=Comment.Status.REMOVED)
        done = ngettext("%(count)d comment removed.", "%(count)d comments removed.", count)
        self.message_user(request, done % {"count": count}, messages.SUCCESS)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Mail kept while the broker or the mail server was down; the periodic task sends it
    (read-only here: deleting a row gives up on that mail)."""

    list_display = ("kind", "arguments", "created_at", "attempts", "last_error")
    list_filter = ("kind",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(CommentSettings)
class CommentSettingsAdmin(admin.ModelAdmin):
    """The comment policy: one row, linked from the site settings page (``registry``)."""

    fields = ("comments_enabled", "comment_moderation")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # One row: the list is pointless, go straight to the form.
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)  # the usual refusal
        return redirect(reverse("admin:comments_commentsettings_change", args=[CommentSettings.load().pk]))


def render_pending_panel(request: HttpRequest) -> str:
    """The admin home's panel: how many comments await moderation (for moderators)."""
    if not request.user.has_perm("comments.view_comment"):
        return ""
    context = {"pending": pending_count()}
    return render_to_string("admin/comments/pending_panel.html", context, request=request)
