"""The "site statistics" sidebar widget.

Registered live (``apps.py``): today's numbers change with every page view, so the widget
is rendered per request into its hole in the cached sidebar and page. Warm, it costs one
counter read (one Redis round trip) and no query: the stored totals are kept per site
generation, which every rollup, publication and comment bumps.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from .selectors import site_numbers


def render_site_stats_widget(widget, request: HttpRequest | None) -> str:
    return render_to_string("stats/widget_site_stats.html", {"widget": widget, "numbers": site_numbers()})
