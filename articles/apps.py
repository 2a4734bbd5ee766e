from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = _("Articles")

    def ready(self) -> None:
        # Django app loading: these modules use models, importable once the registry is ready.
        from blog_project import caching

        from . import checks, live, selectors, signals, widgets  # noqa: F401 - checks registers itself

        caching.register_site_hooks(next_publication_at=selectors.next_publication_at)
        signals.connect()
        widgets.register_core_widgets()
        live.register()
        from .schedule import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="articles-schedule")


class BlogAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the blog's own site class as ``admin.site``."""

    default = False  # named explicitly in INSTALLED_APPS
    default_site = "articles.admin_site.BlogAdminSite"
