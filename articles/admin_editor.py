"""The writing room: the article and page forms of the admin, their widgets and actions.

- The body is markdownx's textarea with a formatting toolbar, the reader-styled preview
  beside it, uploads with alt text (button, drag or paste) and the media library
  (``static/editor/editor.js`` on the client, ``articles/editor.py`` on the server).
- Articles are published, scheduled or kept as drafts with one button each; "Preview"
  renders the unsaved form as readers would see it.
- Autosave (``articles/autosave.py``) is offered back when newer than what is stored.
- Revisions (django-reversion) with a readable diff and a one-click restore
  (``articles/revisions.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from reversion.admin import VersionAdmin
from reversion.models import Version

from . import autosave as autosaves
from . import review, revisions, roles
from .admin_widgets import (
    DateTimeLocalInput,
    FeaturedImageWidget,
    TagsField,
    TagsWidget,
)
from .markdown import prose_summary, render_markdown
from .models import SUMMARY_LENGTH, Article, Category, MediaFile, Page, Tag

if TYPE_CHECKING:
    from django.template.response import _TemplateForResponseT

    # The mixin is mixed into ModelForms: type-checked as one, a plain class at run time.
    _LockFormBase = forms.ModelForm
else:
    _LockFormBase = object

EDITOR_ACTIONS = ("_publish", "_schedule", "_draft", "_submit_review", "_send_back")


def next_full_hour(now) -> datetime:
    """The next o'clock in the active (the editor's) time zone."""
    local = timezone.localtime(now).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return local.astimezone(UTC)


def editor_action(data) -> str | None:
    return next((action for action in EDITOR_ACTIONS if action in data), None)


def media_choices(user) -> QuerySet[MediaFile]:
    """The images a user may pick: the whole library, or their own uploads and those their
    articles already show."""
    if roles.may_use_library(user):
        return MediaFile.objects.all()
    own = Q(uploaded_by=user) | Q(pk__in=Article.objects.filter(author=user).values("featured_image"))
    return MediaFile.objects.filter(own)


def lock_token_of(instance) -> str:
    """What the form remembers of the stored row it was loaded from (optimistic locking)."""
    updated_at = getattr(instance, "updated_at", None)
    return updated_at.isoformat() if instance.pk and updated_at else ""


class OptimisticLockFormMixin(_LockFormBase):
    """A form loaded before someone else saved the row is refused, not saved over theirs.

    The form carries the row's ``updated_at`` as it was loaded (a hidden field). If the
    stored one differs at save time, the form is shown again with everything its editor
    typed, a message naming who saved when and a link to the newer version; the hidden
    field then carries the newer stamp, so saving again (after comparing) replaces it on
    purpose. A post without the field (not from the form) is not checked."""

    @cached_property
    def changed_data(self) -> list[str]:
        return [name for name in super().changed_data if name != "lock_token"]  # not an edit

    def _init_lock(self) -> None:
        self.fields["lock_token"].initial = lock_token_of(self.instance)
        self.loaded_status = getattr(self.instance, "status", None)
        self.loaded_public = bool(getattr(self.instance, "is_public", False)) if self.instance.pk else False

    def _check_lock(self) -> None:
        posted = self.data.get("lock_token") if "lock_token" in self.data else None
        if not self.instance.pk or posted is None:
            return
        model = type(self.instance)
        # Locked until this save commits (the admin's view is atomic), so two saves in
        # the same instant cannot both pass.
        rows = model._default_manager.filter(pk=self.instance.pk)
        if transaction.get_connection().in_atomic_block:  # not in the preview, which saves nothing
            rows = rows.select_for_update()
        stored = rows.first()
        if stored is None or lock_token_of(stored) == posted:
            return
        latest = revisions.versions_of(stored).first()
        who = latest.revision.user if latest is not None and latest.revision.user_id else None
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(stored.pk)])
        when = date_format(timezone.localtime(stored.updated_at), "DATETIME_FORMAT")
        message = format_html(
            '{} <a href="{}" target="_blank" rel="noopener">{}</a> {}',
            gettext("%(who)s saved this %(kind)s at %(when)s, after you opened it. Nothing was saved.")
            % {
                "who": who.get_username() if who else gettext("Someone else"),
                "kind": opts.verbose_name,
                "when": when,
            },
            url,
            gettext("Open the newer version (new tab)"),
            gettext("Your text is kept below: compare, then save again to replace the newer version."),
        )
        self.add_error(None, ValidationError(message, code="stale"))
        # A QueryDict (or a test's dict): copy() gives a mutable one; the stubs say Mapping.
        data = self.data.copy()  # type: ignore[attr-defined]
        data["lock_token"] = lock_token_of(stored)
        self.data = data


class ArticleAdminForm(OptimisticLockFormMixin, forms.ModelForm):
    # Set per request by ArticleAdmin.get_form (the form class is made per request).
    editor_user = None
    lock_token = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_lock()

    class Meta:
        model = Article
        fields = ("title",)  # the admin's fieldsets name the rest
        field_classes = {"tags": TagsField}
        widgets = {"featured_image": FeaturedImageWidget, "summary": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        cleaned = super().clean()
        self._check_lock()
        now = timezone.now().replace(microsecond=0)  # what the form's time field can show
        action = editor_action(self.data)
        # "Follows the body until an editor writes one": a summary typed in the box stops it
        # following, unless the editor ticked the box again at the same time.
        if (
            "summary" in self.changed_data
            and (cleaned.get("summary") or "").strip()
            and cleaned.get("summary_is_auto")
            and "summary_is_auto" not in self.changed_data
            and (cleaned.get("summary") or "").strip() != self.instance.summary.strip()
        ):
            cleaned["summary_is_auto"] = False
        if action == "_publish":
            self.instance.status = Article.Status.PUBLISHED
            if not self.instance.is_public or self.instance.pk is None:
                cleaned["published_at"] = now
        elif action == "_schedule":
            when = cleaned.get("published_at")
            if (when is None or when <= now) and "published_at" not in self.changed_data:
                # Schedule pressed without choosing a time: the next full hour, said in the message.
                cleaned["published_at"] = when = next_full_hour(now)
                self.errors.pop("published_at", None)
            if when is not None and when <= now:
                self.add_error(
                    "published_at", gettext("Choose a time in the future to schedule the article.")
                )
            self.instance.status = Article.Status.PUBLISHED
        elif action == "_draft":
            self.instance.status = Article.Status.DRAFT
        elif action == "_submit_review":
            review.mark_submitted(self.instance)
        elif action == "_send_back":
            review.mark_sent_back(self.instance, note=str(self.data.get("review_note", "")))
        if action in ("_publish", "_schedule"):
            review.mark_reviewed(self.instance)
        tags_field = self.fields.get("tags")
        new_names = getattr(tags_field, "new_names", [])
        if new_names and not (self.editor_user and self.editor_user.has_perm("articles.add_tag")):
            self.add_error("tags", gettext("You may not create tags; pick existing ones."))
        return cleaned

    def new_tag_names(self) -> list[str]:
        return list(getattr(self.fields.get("tags"), "new_names", []))


class PageAdminForm(OptimisticLockFormMixin, forms.ModelForm):
    editor_user = None
    lock_token = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_lock()

    def clean(self):
        cleaned = super().clean()
        self._check_lock()
        return cleaned

    class Meta:
        model = Page
        # PageAdmin has no fieldsets: the form's fields are the ones shown.
        fields = ("title", "slug", "body", "is_published", "show_in_nav", "order", "lock_token")


class PublicationStatusFilter(admin.SimpleListFilter):
    """Draft, Scheduled (published, time still to come) or Published (readers see it)."""

    title = _("status")
    # The name Django's plain status filter used, so bookmarked lists keep working.
    parameter_name = "status__exact"

    def lookups(self, request, model_admin):
        return (
            ("draft", _("Draft")),
            ("pending", _("Pending review")),
            ("scheduled", _("Scheduled")),
            ("published", _("Published")),
        )

    def queryset(self, request, queryset: QuerySet[Article]):
        now = timezone.now()
        if self.value() == "draft":
            return queryset.filter(status=Article.Status.DRAFT)
        if self.value() == "pending":
            return queryset.filter(status=Article.Status.DRAFT, review_requested_at__isnull=False)
        if self.value() == "scheduled":
            return queryset.filter(status=Article.Status.PUBLISHED, published_at__gt=now)
        if self.value() == "published":
            return queryset.filter(status=Article.Status.PUBLISHED, published_at__lte=now)
        return queryset


class EditorAdminMixin(VersionAdmin):
    """The writing room for a model with a Markdown body (articles, pages)."""

    autosave_kind = ""
    change_form_template: ClassVar[_TemplateForResponseT | None] = "admin/editor/change_form.html"
    object_history_template: ClassVar[_TemplateForResponseT | None] = "admin/editor/object_history.html"
    history_latest_first = True

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.editor_user = request.user
        if "published_at" in form.base_fields:
            zone = timezone.get_current_timezone_name()
            form.base_fields["published_at"].help_text = gettext(
                "In your time zone (%(zone)s). “Schedule” without a time in the future schedules "
                "the article for the next full hour."
            ) % {"zone": zone}
        return form

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "tags":
            kwargs["widget"] = TagsWidget(db_field, self.admin_site)
            kwargs["form_class"] = TagsField
            kwargs["queryset"] = Tag.objects.all()
            return db_field.formfield(**kwargs)
        if db_field.name == "published_at":
            return db_field.formfield(
                widget=DateTimeLocalInput,
                input_formats=[*DateTimeLocalInput.input_formats, *get_format("DATETIME_INPUT_FORMATS")],
            )
        if db_field.name == "featured_image":
            # The picker replaces the admin's add/change/delete links around a select.
            return db_field.formfield(widget=FeaturedImageWidget, queryset=media_choices(request.user))
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # Reading the list needs no revision (reversion's transaction costs two queries per
        # page); posts (actions) keep it.
        if request.method == "POST":
            return super().changelist_view(request, extra_context)
        context = {"has_change_permission": self.has_change_permission(request), **(extra_context or {})}
        return admin.ModelAdmin.changelist_view(self, request, context)

    # --- Saving --------------------------------------------------------------------------

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        names = form.new_tag_names() if hasattr(form, "new_tag_names") else []
        if names:
            tags = [self._tag_named(name) for name in names]
            form.instance.tags.add(*tags)
            # The m2m signal re-added the object to the open revision with its new tags.

    @staticmethod
    def _tag_named(name: str) -> Tag:
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            tag = Tag(name=name)
            tag.full_clean(exclude=["slug"])
            tag.save()
        return tag

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # What is stored now supersedes the draft the browser kept.
        autosaves.autosave_discard(target=autosaves.AutosaveTarget(self.autosave_kind, obj.pk))

    def _action_message(self, obj, action: str | None = None) -> str:
        if action == "_submit_review":
            return gettext("Submitted for review. The editors have been told; you can still edit the draft.")
        if action == "_send_back":
            return gettext("Sent back to the author with your note. It is a draft again.")
        if getattr(obj, "status", None) == Article.Status.DRAFT:
            return gettext("Saved as a draft. Readers cannot see it.")
        if getattr(obj, "is_scheduled", False):
            when = date_format(timezone.localtime(obj.published_at), "DATETIME_FORMAT")
            zone = timezone.get_current_timezone_name()
            return gettext("Scheduled for %(when)s (%(zone)s).") % {"when": when, "zone": zone}
        return gettext("Published. Readers can see it now.")

    def response_add(self, request: HttpRequest, obj, post_url_continue=None):
        if editor_action(request.POST) is None:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, self._action_message(obj, editor_action(request.POST)), messages.SUCCESS)
        opts = self.opts
        return HttpResponseRedirect(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        )

    def response_change(self, request: HttpRequest, obj):
        if editor_action(request.POST) is None:
            return super().response_change(request, obj)
        self.message_user(request, self._action_message(obj, editor_action(request.POST)), messages.SUCCESS)
        return HttpResponseRedirect(request.path)

    # --- The form page -------------------------------------------------------------------

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        if request.method == "POST":
            # Before VersionAdmin opens the revision of this save: a row from before revisions
            # were kept gets its stored state as a first version, so this edit can be undone.
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and self.has_change_permission(request, obj):
                revisions.ensure_baseline(obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        target = autosaves.AutosaveTarget(self.autosave_kind, obj.pk if obj else 0)
        state = None
        if request.method == "GET":
            state = autosaves.autosave_state(target=target, stored_at=getattr(obj, "updated_at", None))
        opts = self.opts
        extra = {
            "editor_kind": self.autosave_kind,
            "editor_object_id": obj.pk if obj else "",
            "editor_autosave": state,
            "editor_preview_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_preview"),
            "editor_zone": timezone.get_current_timezone_name(),
            # The article's address with a placeholder slug, for the search-result preview.
            "editor_article_url": self._article_url_pattern(request),
            **(extra_context or {}),
        }
        return super().changeform_view(request, object_id, form_url, extra)

    @staticmethod
    def _article_url_pattern(request: HttpRequest) -> str:
        # From the configured site address, never the request's Host.
        placeholder = reverse("articles:detail", args=["slug-placeholder"])
        return (settings.SITE_URL + placeholder).replace("slug-placeholder", "__slug__")

    def get_urls(self):
        opts = self.opts
        info = f"{opts.app_label}_{opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("preview/", wrap(self.preview_view), name=f"{info}_preview"),
            path(
                "<path:object_id>/history/<int:version_id>/compare/",
                wrap(self.compare_view),
                name=f"{info}_compare",
            ),
            path(
                "<path:object_id>/history/<int:version_id>/restore/",
                wrap(self.restore_view),
                name=f"{info}_restore",
            ),
            *super().get_urls(),
        ]

    # --- Preview of the unsaved form ------------------------------------------------------

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """The form as readers would see it, saved or not: rendered from the posted fields."""
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        form = self.get_form(request)(request.POST, request.FILES)
        form.is_valid()  # what is valid is shown; the rest falls back below
        data = form.cleaned_data
        body = data.get("body") or request.POST.get("body", "")[:500_000]
        rendered = render_markdown(body)
        summary = data.get("summary", "")
        if data.get("summary_is_auto", True) or not summary.strip():
            summary = prose_summary(rendered.html, limit=SUMMARY_LENGTH)
        context = {
            **self.admin_site.each_context(request),
            "title": data.get("title") or request.POST.get("title", "")[:200] or gettext("Untitled"),
            "body_html": rendered.html,
            "toc_html": rendered.toc_html,
            "summary": summary,
            "published_at": data.get("published_at"),
            "category": data.get("category") if isinstance(data.get("category"), Category) else None,
            "tags": list(data.get("tags") or []),
            "new_tags": form.new_tag_names() if hasattr(form, "new_tag_names") else [],
            "featured_image": data.get("featured_image"),
            "kind": self.autosave_kind,
        }
        return render(request, "admin/editor/preview.html", context)

    # --- Revisions ---------------------------------------------------------------------

    def history_view(self, request: HttpRequest, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        opts = self.opts
        versions = list(revisions.versions_of(obj))
        rows = []
        for index, version in enumerate(versions):
            older = versions[index + 1] if index + 1 < len(versions) else None
            rows.append(
                {
                    "version": version,
                    "is_current": index == 0,
                    "compare_current": reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_compare", args=[quote(obj.pk), version.pk]
                    ),
                    "compare_previous": reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_compare", args=[quote(obj.pk), older.pk]
                    )
                    + f"?with={version.pk}"
                    if older
                    else "",
                    "restore": reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_restore", args=[quote(obj.pk), version.pk]
                    ),
                }
            )
        context = {
            **self._object_page_context(request, obj, gettext("History: %s") % obj),
            "rows": rows,
            "can_restore": self.has_change_permission(request, obj),
            **(extra_context or {}),
        }
        # The template name set above (the stubs allow a Template object too).
        return render(request, self.object_history_template, context)  # type: ignore[arg-type]

    def _object_page_context(self, request: HttpRequest, obj, title: str) -> dict:
        """What an admin page about one object (its history, a comparison) starts from."""
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "object": obj,
            "original": obj,
        }

    def _version(self, obj, version_id: int) -> Version:
        version = revisions.versions_of(obj).filter(pk=version_id).first()
        if version is None:
            raise Http404
        return version

    def compare_view(self, request: HttpRequest, object_id, version_id: int) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        version = self._version(obj, version_id)
        other_id = request.GET.get("with", "")
        if other_id.isdigit():
            other = self._version(obj, int(other_id))
            new_values, new_label = other.field_dict, other.revision.date_created
        else:
            other, new_values, new_label = None, revisions.current_values(obj), None
        opts = self.opts
        context = {
            **self._object_page_context(request, obj, gettext("Changes: %s") % obj),
            "version": version,
            "other": other,
            "new_label": new_label,
            "changes": revisions.changes_between(type(obj), version.field_dict, new_values),
            "history_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[quote(obj.pk)]),
            "restore_url": reverse(
                f"admin:{opts.app_label}_{opts.model_name}_restore", args=[quote(obj.pk), version.pk]
            ),
            "can_restore": self.has_change_permission(request, obj),
        }
        return render(request, "admin/editor/revision_compare.html", context)

    def revision_view(self, request: HttpRequest, object_id, version_id, extra_context=None):
        """django-reversion's own "revert" form puts a whole version back, status and time
        included, past the roles' checks (it reverts before the form is checked): the
        comparison and the content-only restore above replace it."""
        if request.method != "GET":
            return HttpResponse(status=405, headers={"Allow": "GET"})
        opts = self.opts
        return HttpResponseRedirect(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_compare", args=[object_id, version_id])
        )

    def restore_view(self, request: HttpRequest, object_id, version_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        version = self._version(obj, version_id)
        opts = self.opts
        try:
            restored = revisions.revision_restore(obj=obj, version=version, user=request.user)
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[quote(obj.pk)])
            )
        when = date_format(timezone.localtime(version.revision.date_created), "DATETIME_FORMAT")
        if restored:
            message = gettext(
                "Restored from the version of %(when)s: %(fields)s. "
                "Whether and when readers see it was not changed."
            ) % {"when": when, "fields": ", ".join(restored)}
        else:
            message = gettext("The version of %(when)s has the same content as now: nothing to restore.") % {
                "when": when
            }
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
        )
