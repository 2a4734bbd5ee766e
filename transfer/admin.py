"""Imports and the site export, in the admin (superusers only: an import creates users).

"Import and export › Imports › Add" takes the files and shows what they hold (nothing is
written yet); "Import" then queues it (Celery; without a broker it runs in the request)
and the job's page follows its progress. The changelist offers the whole site as a zip
(``export_site``'s folder).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from articles.admin_site import SuperuserOnlyMixin

from . import jobs, tasks
from .common import TransferError
from .models import ImportedItem, ImportJob, LegacyRedirect
from .site_export import site_export

MAX_UPLOAD = 500 * 1024 * 1024


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Export from"), choices=ImportJob.Kind.choices)
    export = forms.FileField(label=gettext_lazy("Export file"))
    # The form class keeps no field as an attribute (the metaclass takes them out), so
    # Form.media, which the stubs see overridden, stays what it is.
    media = forms.FileField(  # type: ignore[assignment]
        label=gettext_lazy("Media archive (.tar.gz)"),
        required=False,
        help_text=gettext_lazy("WordPress: wp-content/uploads; Ghost: content/images. Optional."),
    )

    def clean(self):
        data = super().clean()
        for name in ("export", "media"):
            upload = data.get(name)
            if upload is not None and upload.size > MAX_UPLOAD:
                self.add_error(
                    name, _("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD // 1024 // 1024}
                )
        return data


@admin.register(ImportJob)
class ImportJobAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "state", "progress", "original_names", "created_by", "created_at")
    list_filter = ("state", "kind")
    change_list_template = "admin/transfer/importjob_change_list.html"

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, job: ImportJob) -> str:
        return f"{job.done}/{job.total}" if job.total else "—"

    def delete_model(self, request: HttpRequest, obj: ImportJob) -> None:
        jobs.job_delete(job=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for job in queryset:
            jobs.job_delete(job=job)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:job_id>/run/", wrap(self.run_view), name="transfer_importjob_run"),
            path("export-site/", wrap(self.export_view), name="transfer_export_site"),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = jobs.job_create(
                    kind=form.cleaned_data["kind"],
                    export=form.cleaned_data["export"],
                    media=form.cleaned_data.get("media"),
                    user=request.user,
                )
            except TransferError as exc:
                form.add_error("export", str(exc).replace(str(jobs.import_dir()), "…"))
            except OSError as exc:  # the upload folder cannot be written: say so, no 500
                form.add_error(
                    None, _("The upload could not be stored: %(error)s") % {"error": exc.strerror or exc}
                )
            else:
                return HttpResponseRedirect(reverse("admin:transfer_importjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import from WordPress or Ghost"),
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/transfer/upload.html", context)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(ImportJob, pk=object_id) if object_id.isdigit() else None
        if job is None:
            return HttpResponseRedirect(reverse("admin:transfer_importjob_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": str(job),
            "opts": self.model._meta,
            "job": job,
            "percent": int(100 * job.done / job.total) if job.total else 0,
        }
        return TemplateResponse(request, "admin/transfer/job.html", context)

    def run_view(self, request: HttpRequest, job_id: int):
        if not self.has_change_permission(request) or request.method != "POST":
            raise PermissionDenied
        job = get_object_or_404(ImportJob, pk=job_id)
        if not tasks.job_start(job=job):
            messages.warning(request, _("This import has already been started."))
        return HttpResponseRedirect(reverse("admin:transfer_importjob_change", args=[job.pk]))

    def export_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        work = Path(tempfile.mkdtemp(prefix="site-export-"))
        try:
            site_export(work / "site")
            archive = shutil.make_archive(str(work / "site"), "zip", root_dir=work / "site")
            handle = open(archive, "rb")  # noqa: SIM115 - FileResponse closes it
        finally:
            # The open handle keeps the zip readable on POSIX after its folder is removed.
            shutil.rmtree(work, ignore_errors=True)
        name = f"site-export-{timezone.now():%Y%m%d-%H%M}.zip"
        return FileResponse(handle, as_attachment=True, filename=name, content_type="application/zip")


class _ReadOnlyAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ImportedItem)
class ImportedItemAdmin(_ReadOnlyAdmin):
    list_display = ("source", "kind", "source_id", "object_id", "imported_at")
    list_filter = ("kind", "source")
    search_fields = ("=source_id",)


@admin.register(LegacyRedirect)
class LegacyRedirectAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ("old_path", "target_url")
    search_fields = ("old_path",)
    raw_id_fields = ("article", "page", "media")
