"""System checks of the blog's own settings (``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_is_configured(app_configs, **kwargs) -> list[Warning]:
    """Feeds and e-mails link to ``BLOG_SITE_URL``; its development default is wrong
    anywhere else."""
    if getattr(settings, "SITE_URL_CONFIGURED", True):
        return []
    return [
        Warning(
            f"BLOG_SITE_URL is not set: feeds and e-mails will link to {settings.SITE_URL}.",
            hint="Set BLOG_SITE_URL to the site's public address, e.g. https://blog.example.com.",
            id="blog.W001",
        )
    ]
