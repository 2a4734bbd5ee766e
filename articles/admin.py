import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import reversion
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from markdownx.models import MarkdownxField

from . import live, registry, roles, tasks
from .admin_editor import (
    ArticleAdminForm,
    EditorAdminMixin,
    PageAdminForm,
    PublicationStatusFilter,
    editor_action,
)
from .admin_media import MediaFileAdmin
from .admin_site import restrict_advanced_apps
from .admin_widgets import MarkdownEditorWidget
from .adminlists import IndexedChangeList, LargeListAdminMixin
from .models import (
    DEFAULT_CATEGORY_SLUG,
    Article,
    Category,
    MediaFile,
    Page,
    SidebarWidget,
    SiteSettings,
    Tag,
)
from .services import article_publish, article_unpublish
from .timezones import zone_choices

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

admin.site.site_header = _("Blog administration")
admin.site.site_title = _("Blog admin")


class MarkdownAdminMixin:
    formfield_overrides: ClassVar[Mapping[type[models.Field], Mapping[str, Any]]] = {
        MarkdownxField: {"widget": MarkdownEditorWidget},
        models.URLField: {"assume_scheme": "https"},  # a bare "example.com" means https
    }


class ArticleChangeList(IndexedChangeList):
    """The list never shows the Markdown or its HTML: leave the long columns unread."""

    def get_queryset(self, request: HttpRequest, exclude_parameters=None) -> QuerySet[Article]:
        return super().get_queryset(request, exclude_parameters).defer("body", "body_html", "toc_html")

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # The page's view counts as of now (rolled up + today's), in one counter read.
        counts = live.live_view_counts(self.result_list)
        for article in self.result_list:
            article.live_view_count = counts.get(article.pk, article.view_count)


class TagListFilter(admin.SimpleListFilter):
    """Articles with a tag, as a semi-join on the links: the default filter on a
    many-to-many field makes the whole list ``SELECT DISTINCT`` over joined rows."""

    title = _("tags")
    parameter_name = "tags__id__exact"  # the default filter's parameter: old links keep working

    def lookups(self, request, model_admin):
        return list(Tag.objects.order_by("name").values_list("pk", "name"))

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        links = Article.tags.through.objects.filter(tag_id=int(value)).values("article_id")
        return queryset.filter(pk__in=links)


@admin.register(Article)
class ArticleAdmin(EditorAdminMixin, MarkdownAdminMixin, LargeListAdminMixin, admin.ModelAdmin):
    list_display = (
        "title",
        "status_label",
        "category",
        "published_at",
        "views",
        "comment_count",
        "is_pinned",
        "open_link",
    )
    list_filter = (
        PublicationStatusFilter,
        "category",
        "source",
        "is_pinned",
        "allow_comments",
        TagListFilter,
    )
    list_select_related = ("category",)
    # Searched through Article.objects.search() (see get_search_results), plus the exact slug.
    search_fields = ("title", "summary", "slug")
    search_help_text = _("Words from the title, summary or text; or an article's exact slug.")
    date_hierarchy = "published_at"
    ordering = ("-published_at", "-pk")
    # Each sortable column has an index (Article.Meta.indexes); status, category and
    # pinned are filters instead (sorting by them would sort every row).
    sortable_by = ("title", "published_at", "view_count", "comment_count")
    autocomplete_fields = ("category", "tags")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("views", "comment_count", "created_at", "updated_at")
    actions = ("publish_selected", "unpublish_selected")
    list_per_page = 50
    form = ArticleAdminForm
    autosave_kind = "article"
    # Status is set by the buttons (Publish now, Schedule, Save draft), not picked from a list.
    fieldsets = (
        (None, {"fields": ("title", "slug", "body", "summary_is_auto", "summary", "lock_token")}),
        (
            _("Publishing"),
            {
                "fields": (
                    "published_at",
                    "category",
                    "tags",
                    "featured_image",
                    "is_pinned",
                    "allow_comments",
                    "author",
                )
            },
        ),
        (
            _("Search engines and link previews"),
            {"fields": ("seo_title", "seo_description"), "classes": ("collapse",)},
        ),
        (_("Source"), {"fields": ("source", "source_url"), "classes": ("collapse",)}),
        (
            _("Figures"),
            {"fields": ("views", "comment_count", "created_at", "updated_at"), "classes": ("collapse",)},
        ),
    )

    # Columns of counts an optional app keeps (``registry.register_article_count``).
    COUNT_COLUMNS = {"views": "view_count", "comment_count": "comment_count"}

    def get_list_display(self, request: HttpRequest):
        counts = self.COUNT_COLUMNS
        columns = super().get_list_display(request)
        return [
            c for c in columns if not isinstance(c, str) or c not in counts or registry.is_counted(counts[c])
        ]

    def get_changelist(self, request: HttpRequest, **kwargs):
        return ArticleChangeList

    search_is_full_text = True  # see IndexedChangeList.get_queryset

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Article], search_term: str):
        term = search_term.strip()
        if not term:
            return queryset, False
        if Article.objects.filter(slug=term).exists():
            return queryset.filter(slug=term), False  # an exact slug opens just that article
        # The one search of the site, on an index table of its own.
        return queryset.filter(pk__in=Article.objects.search(term).values("pk")), False

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {**super().get_changeform_initial_data(request), "author": request.user.pk}

    # --- Roles (articles/roles.py): what each user may see, change and publish ------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        return roles.articles_visible_to(request.user, super().get_queryset(request))

    def has_view_permission(self, request: HttpRequest, obj: Article | None = None) -> bool:
        if obj is not None and not roles.may_view_article(request.user, obj):
            return False
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Article | None = None) -> bool:
        if obj is not None and not roles.may_change_article(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Article | None = None) -> bool:
        if obj is not None and not roles.may_change_article(request.user, obj):
            return False
        return super().has_delete_permission(request, obj)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return roles.may_publish(request.user)

    # Recovering a deleted article (django-reversion) brings back anyone's, as it was.
    def recoverlist_view(self, request: HttpRequest, extra_context=None):
        if not roles.sees_all_articles(request.user):
            raise PermissionDenied
        return super().recoverlist_view(request, extra_context)

    def recover_view(self, request: HttpRequest, version_id, extra_context=None):
        if not roles.sees_all_articles(request.user):
            raise PermissionDenied
        return super().recover_view(request, version_id, extra_context)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "author":
            kwargs["queryset"] = roles.author_choices(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: Article | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "author" in form.base_fields:  # the author it has stays a choice
            field = form.base_fields["author"]
            field.queryset = roles.author_choices(request.user, current_author_id=obj.author_id)
        return form

    def _refuse_what_the_role_may_not(self, request: HttpRequest, object_id) -> None:
        """A forged button (Publish now, Schedule, Back to draft, Send back) is refused with
        403 before anything is read from the form; the admin's own checks cover the rest."""
        action = editor_action(request.POST)
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        user = request.user
        if action in ("_publish", "_schedule"):
            allowed = roles.may_publish(user) if obj is None else roles.may_publish_article(user, obj)
        elif action == "_draft" and obj is not None and obj.status == Article.Status.PUBLISHED:
            allowed = roles.may_publish_article(user, obj)  # unpublishing
        elif action == "_send_back":
            allowed = obj is not None and roles.may_review(user) and obj.review_requested_at is not None
        elif action == "_submit_review":
            allowed = obj is None or obj.status == Article.Status.DRAFT
        else:
            return
        if not allowed:
            raise PermissionDenied

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            self._refuse_what_the_role_may_not(request, object_id)
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if request.method == "GET" and obj is not None and obj.review_note and not obj.review_requested_at:
            note = gettext("Sent back by the editor: %(note)s") % {"note": obj.review_note}
            self.message_user(request, note, messages.WARNING)
        extra = {
            "editor_can_publish": roles.may_publish(request.user)
            if obj is None
            else roles.may_publish_article(request.user, obj),
            "editor_can_review": roles.may_review(request.user),
            "editor_pending_review": obj is not None and obj.review_requested_at is not None,
            **(extra_context or {}),
        }
        return super().changeform_view(request, object_id, form_url, extra)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        publishing = request.POST.get("action") in ("publish_selected", "unpublish_selected")
        if request.method == "POST" and publishing and not roles.may_publish(request.user):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def save_model(self, request: HttpRequest, obj: Article, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if editor_action(request.POST) == "_submit_review":
            transaction.on_commit(tasks.review_mail_queue)

    # --- History in words -----------------------------------------------------------------

    def construct_change_message(self, request: HttpRequest, form, formsets, add: bool = False):
        message = super().construct_change_message(request, form, formsets, add)
        words = self._what_happened(request, form)
        if not words:
            return message
        fields = LogEntry(change_message=json.dumps(message)).get_change_message() if message else ""
        if fields in (gettext("No fields changed."), gettext("Added.")):
            fields = ""
        return " ".join(part for part in (words, fields) if part)

    @staticmethod
    def _what_happened(request: HttpRequest, form) -> str:
        article, action = form.instance, editor_action(request.POST)
        if action == "_publish" and not getattr(form, "loaded_public", False):
            return gettext("Published.")
        if action == "_schedule":
            when = date_format(timezone.localtime(article.published_at), "DATETIME_FORMAT")
            zone = timezone.get_current_timezone_name()
            return gettext("Scheduled for %(when)s (%(zone)s).") % {"when": when, "zone": zone}
        if action == "_draft" and getattr(form, "loaded_status", None) == Article.Status.PUBLISHED:
            return gettext("Unpublished.")
        if action == "_submit_review":
            return gettext("Submitted for review.")
        if action == "_send_back":
            if article.review_note:
                return gettext("Sent back: %(note)s") % {"note": article.review_note}
            return gettext("Sent back.")
        return ""

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, article: Article) -> "str | StrPromise":
        if article.is_scheduled:
            return _("Scheduled")
        if article.review_requested_at is not None and article.status == Article.Status.DRAFT:
            return _("Pending review")
        return article.get_status_display()

    @admin.display(description=_("views"), ordering="view_count")
    def views(self, article: Article) -> int:
        """Rolled up plus today's, as readers see it (the list reads its page's at once)."""
        if not article.pk:
            return 0
        live_count = getattr(article, "live_view_count", None)
        return live_count if live_count is not None else live.live_view_counts([article])[article.pk]

    @admin.display(description=_("link"))
    def open_link(self, article: Article) -> str:
        label = _("View") if article.is_public else _("Preview")
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', article.get_absolute_url(), label
        )

    @admin.action(description=_("Publish selected articles now"), permissions=["publish"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        with reversion.create_revision():
            reversion.set_user(request.user)
            reversion.set_comment(str(_("Published from the list.")))
            count = article_publish(articles=queryset)
        self.message_user(
            request,
            ngettext("%d article published.", "%d articles published.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Unpublish selected articles (back to draft)"), permissions=["publish"])
    def unpublish_selected(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        with reversion.create_revision():
            reversion.set_user(request.user)
            reversion.set_comment(str(_("Unpublished from the list.")))
            count = article_unpublish(articles=queryset)
        self.message_user(
            request,
            ngettext("%d article unpublished.", "%d articles unpublished.", count) % count,
            messages.SUCCESS,
        )


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent", "order", "is_hidden", "article_link")
    list_editable = ("order", "is_hidden")
    list_select_related = ("parent",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)
    ordering = ("order", "name")
    actions = ("delete_selected",)

    @admin.display(description=_("articles"))
    def article_link(self, category: Category) -> str:
        url = reverse("admin:articles_article_changelist") + f"?category__id__exact={category.pk}"
        return format_html('<a href="{}">{}</a>', url, _("list"))

    def has_delete_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)

    # short_description is set on Django's action function (not in the stubs).
    @admin.action(permissions=["delete"], description=django_delete_selected.short_description)  # type: ignore[attr-defined]
    def delete_selected(self, request: HttpRequest, queryset: QuerySet[Category]):
        # Django's action refuses the whole selection (403) when one row may not be deleted;
        # leave the protected default out with a warning and delete the rest.
        default = queryset.filter(slug=DEFAULT_CATEGORY_SLUG).first()
        if default is not None:
            message = _("The default category “%(name)s” cannot be deleted; it was left out.")
            self.message_user(request, message % {"name": default.name}, messages.WARNING)
            queryset = queryset.exclude(pk=default.pk)
            if not queryset.exists():
                return None
        return django_delete_selected(self, request, queryset)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        for category in queryset:
            try:
                category.delete()
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.WARNING)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("name",)


@admin.register(Page)
class PageAdmin(EditorAdminMixin, MarkdownAdminMixin, admin.ModelAdmin):
    form = PageAdminForm
    autosave_kind = "page"
    list_display = ("title", "slug", "is_published", "show_in_nav", "order", "updated_at")
    list_editable = ("is_published", "show_in_nav", "order")
    search_fields = ("title", "body")
    prepopulated_fields = {"slug": ("title",)}
    ordering = ("order", "title")


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    fieldsets = (
        (None, {"fields": ("title", "tagline", "description", "posts_per_page", "show_reading_time")}),
        (_("Time"), {"fields": ("time_zone",)}),
        (_("Announcement and footer"), {"fields": ("announcement", "footer")}),
    )

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        # The optional apps' settings screens (the comment policy), linked under the form.
        extra_context = {"settings_sections": registry.settings_sections(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "time_zone":
            # A list to pick from (validated by the model too); not choices on the model,
            # which would copy every zone into the migrations.
            kwargs["widget"] = forms.Select(choices=zone_choices())
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SiteSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # One row: the list is pointless, go straight to the form.
        settings_row = SiteSettings.load()
        return redirect(reverse("admin:articles_sitesettings_change", args=[settings_row.pk]))


class SidebarWidgetForm(forms.ModelForm):
    kind = forms.ChoiceField(label=_("kind"))

    class Meta:
        model = SidebarWidget
        fields = ("title", "kind", "body", "item_count", "order", "enabled")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The kinds of the installed apps; a widget of a removed app keeps its own.
        choices = registry.widget_kind_choices()
        if self.instance.pk and not self.instance.is_available:
            choices.append((self.instance.kind, self.instance.kind_label))
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = choices


class WidgetKindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return registry.widget_kind_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(SidebarWidget)
class SidebarWidgetAdmin(admin.ModelAdmin):
    form = SidebarWidgetForm
    list_display = ("__str__", "kind_column", "order", "enabled")
    list_editable = ("order", "enabled")
    list_filter = (WidgetKindFilter, "enabled")
    ordering = ("order", "pk")

    @admin.display(description=_("kind"), ordering="kind")
    def kind_column(self, widget: SidebarWidget) -> str:
        return widget.kind_label


admin.site.register(MediaFile, MediaFileAdmin)
restrict_advanced_apps(admin.site)
