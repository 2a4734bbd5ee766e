"""The media library in the admin: the upload form, the "used" filter and the list of
files with where each one is used (the editor's media picker reads the same library:
``articles/editor.py``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .media import ImageUploadForm, media_delete, media_prepare
from .models import MediaFile


class MediaUploadForm(forms.ModelForm):
    """Adding to the library from the admin: the same checks as the editor's upload."""

    upload = forms.FileField(label=_("image"), help_text=_("JPEG, PNG or WebP."))

    class Meta:
        model = MediaFile
        fields = ("alt_text",)

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        checker = ImageUploadForm(files={"image": upload})
        if not checker.is_valid():
            raise ValidationError(checker.errors["image"])
        self.upload_name = upload.name
        return checker.cleaned_data["image"]


class MediaUsedFilter(admin.SimpleListFilter):
    title = _("use")
    parameter_name = "used"

    def lookups(self, request, model_admin):
        return (("yes", _("Used")), ("no", _("Not used")))

    def queryset(self, request, queryset):
        used = Q(usages__isnull=False) | Q(featured_in__isnull=False)
        if self.value() == "yes":
            return queryset.filter(used).distinct()
        if self.value() == "no":
            return queryset.exclude(used)
        return queryset


class MediaFileAdmin(admin.ModelAdmin):
    list_display = (
        "thumbnail",
        "name",
        "alt_text",
        "dimensions",
        "file_size",
        "uploaded_by",
        "uploaded_at",
        "used",
    )
    list_display_links = ("thumbnail", "name")
    list_filter = (MediaUsedFilter, "uploaded_at")
    search_fields = ("alt_text", "original_name", "file")
    date_hierarchy = "uploaded_at"
    list_select_related = ("uploaded_by",)
    list_per_page = 50
    actions = ("delete_selected",)

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .annotate(
                use_count=Count("usages", distinct=True) + Count("featured_in", distinct=True),
            )
        )

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MediaUploadForm
        return super().get_form(request, obj, change=change, **kwargs)

    # An upload's page: everything shown, only the alt text editable.
    _UPLOAD_FIELDS = (
        "large_preview",
        "alt_text",
        "markdown",
        "name",
        "dimensions",
        "file_size",
        "uploaded_by",
        "uploaded_at",
        "where_used",
    )

    def get_fields(self, request: HttpRequest, obj=None):
        return ("upload", "alt_text") if obj is None else self._UPLOAD_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ()
        return tuple(name for name in self._UPLOAD_FIELDS if name != "alt_text")

    def save_model(self, request: HttpRequest, obj: MediaFile, form, change: bool) -> None:
        if not change:
            prepared = media_prepare(
                image=form.cleaned_data["upload"],
                original_name=form.upload_name,
                alt_text=form.cleaned_data.get("alt_text", ""),
                user=request.user,
            )
            for field in ("file", "original_name", "alt_text", "width", "height", "size", "uploaded_by"):
                setattr(obj, field, getattr(prepared, field))
        obj.full_clean(exclude=["file"])
        super().save_model(request, obj, form, change)

    @admin.display(description=_("image"))
    def thumbnail(self, media: MediaFile) -> str:
        return format_html('<img class="media-thumb" src="{}" alt="" loading="lazy">', media.url)

    @admin.display(description=_("image"))
    def large_preview(self, media: MediaFile) -> str:
        return format_html('<img class="media-preview" src="{}" alt="{}">', media.url, media.alt_text)

    @admin.display(description=_("name"), ordering="original_name")
    def name(self, media: MediaFile) -> str:
        return media.original_name or media.file.name.rsplit("/", 1)[-1]

    @admin.display(description=_("Markdown"))
    def markdown(self, media: MediaFile) -> str:
        return format_html("<code>{}</code>", media.markdown())

    @admin.display(description=_("dimensions"))
    def dimensions(self, media: MediaFile) -> str:
        return f"{media.width} × {media.height}"

    @admin.display(description=_("size"), ordering="size")
    def file_size(self, media: MediaFile) -> str:
        return filesizeformat(media.size)

    @admin.display(description=_("used"))
    def used(self, media: MediaFile) -> str:
        count = getattr(media, "use_count", None)
        if count is None:
            count = media.usages.count() + media.featured_in.count()
        return str(count) if count else "—"

    @admin.display(description=_("in use by"))
    def where_used(self, media: MediaFile) -> str:
        links = []
        for usage in media.usages.select_related("article", "page"):
            owner = usage.article or usage.page
            assert owner is not None  # a usage has one owner (a constraint)
            links.append(
                (reverse(f"admin:articles_{owner._meta.model_name}_change", args=[owner.pk]), owner, "")
            )
        for article in media.featured_in.all():
            links.append(
                (
                    reverse("admin:articles_article_change", args=[article.pk]),
                    article,
                    gettext(" (featured image)"),
                )
            )
        if not links:
            return gettext("Not used: it can be deleted.")
        return format_html(
            '<ul class="media-used-by">{}</ul><p class="help">{}</p>',
            format_html_join("", '<li><a href="{}">{}</a>{}</li>', links),
            gettext(
                "There is no Delete button while it is in use: readers would see a broken image. "
                "Take it out of these first, then it can be deleted."
            ),
        )

    def has_delete_permission(self, request: HttpRequest, obj: MediaFile | None = None) -> bool:
        if obj is not None and obj.is_used():
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: MediaFile) -> None:
        media_delete(media=obj)

    # short_description is set on Django's action function (not in the stubs).
    @admin.action(permissions=["delete"], description=django_delete_selected.short_description)  # type: ignore[attr-defined]
    def delete_selected(self, request: HttpRequest, queryset: QuerySet[MediaFile]):
        used = queryset.filter(Q(usages__isnull=False) | Q(featured_in__isnull=False)).distinct()
        if used.exists():
            names = ", ".join(str(media) for media in used[:10])
            self.message_user(
                request,
                gettext("Files in use cannot be deleted and were left out: %(names)s") % {"names": names},
                messages.WARNING,
            )
            queryset = queryset.exclude(pk__in=used.values("pk"))
            if not queryset.exists():
                return None
        return django_delete_selected(self, request, queryset)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[MediaFile]) -> None:
        for media in queryset:
            try:
                media_delete(media=media)
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.WARNING)

    class Media:
        css = {"all": ("editor/admin.css",)}
