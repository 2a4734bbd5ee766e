"""The admin site: the editors' home, with the screens they rarely need out of the way."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.safestring import mark_safe

from . import registry

# Apps whose screens only superusers reach, listed under "Advanced" rather than among the
# articles and comments on the home page and in the side navigation.
ADVANCED_APPS = ("django_celery_beat",)


class BlogAdminSite(admin.AdminSite):
    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        return [app for app in apps if app["app_label"] not in ADVANCED_APPS]

    def advanced_apps(self, request: HttpRequest) -> list[dict]:
        if not request.user.is_superuser:
            return []
        return [app for app in super().get_app_list(request) if app["app_label"] in ADVANCED_APPS]

    def index(self, request: HttpRequest, extra_context: dict | None = None):
        context = {
            "advanced_apps": self.advanced_apps(request),
            # The optional apps' panels (comments awaiting moderation), registered by them.
            "plugin_panels": mark_safe(registry.render_admin_panels(request)),
            **(extra_context or {}),
        }
        return super().index(request, context)


class SuperuserOnlyMixin:
    """For the screens under "Advanced": hidden from and closed to other staff."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)


def restrict_advanced_apps(site: admin.AdminSite) -> None:
    """Re-register the advanced apps' model admins as superuser-only (run after their
    admin modules are loaded: django_celery_beat comes before articles in INSTALLED_APPS)."""
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label in ADVANCED_APPS and not isinstance(model_admin, SuperuserOnlyMixin):
            admin_class = type(model_admin)
            site.unregister(model)
            site.register(model, type(admin_class.__name__, (SuperuserOnlyMixin, admin_class), {}))
