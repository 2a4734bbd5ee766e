"""The traffic dashboard, in the admin.

"Statistics › Traffic" on the admin index opens it (it takes the place of the daily
rows' change list; the rows are written only by the rollup, so nobody adds, edits or
deletes them here). Staff need the "view traffic" permission; superusers have it.
"""

from __future__ import annotations

import csv

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from .charts import build_chart
from .models import DailyStat
from .selectors import traffic

PERIODS = (7, 30, 90)


def requested_period(request: HttpRequest) -> tuple[int, bool]:
    """The period asked for in ``?days=``, and whether the request asked for a bad one."""
    raw = request.GET.get("days", "")
    if not raw:
        return PERIODS[0], False
    if raw.isdigit() and int(raw) in PERIODS:
        return int(raw), False
    return PERIODS[0], True


@admin.register(DailyStat)
class TrafficAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name="stats_dailystat_export",
        )
        return [export, *super().get_urls()]

    def _period(self, request: HttpRequest) -> int:
        if not self.has_view_permission(request):
            raise PermissionDenied
        days, bad = requested_period(request)
        if bad:
            messages.warning(
                request,
                _("Choose a period of %(choices)s days; showing the last %(days)s days.")
                % {"choices": ", ".join(str(p) for p in PERIODS), "days": days},
            )
        return days

    def changelist_view(self, request: HttpRequest, extra_context=None) -> TemplateResponse:
        days = self._period(request)
        figures = traffic(days=days)
        if figures.counters_unavailable:
            messages.warning(
                request,
                _(
                    "The live counters (Redis) cannot be read right now: days not rolled up yet "
                    "(normally today) show no views, and the totals leave them out. The views of "
                    "this outage are not counted."
                ),
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Traffic"),
            "opts": self.model._meta,
            "traffic": figures,
            "chart": build_chart(figures.days),
            "periods": PERIODS,
            "days": days,
            "rows_newest_first": list(reversed(figures.days)),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/stats/dashboard.html", context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        days = self._period(request)
        figures = traffic(days=days, top=0)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="traffic-{figures.start}-{figures.end}.csv"'
        writer = csv.writer(response)
        writer.writerow(["date", "page_views", "unique_visitors", "final"])
        for row in figures.days:
            writer.writerow([row.date.isoformat(), row.pv, row.uv, "no" if row.live else "yes"])
        return response
