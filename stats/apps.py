from celery.signals import beat_init
from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

SITE_STATS = "site_stats"  # the sidebar widget kind


class StatsConfig(AppConfig):
    name = "stats"
    verbose_name = _("Statistics")

    def ready(self) -> None:
        # Django app loading: these modules use models, importable once the registry is ready.
        from articles import registry, roles
        from blog_project import caching

        from .counting import PageViewCounter
        from .schedule import catch_up_at_beat_start, on_post_migrate
        from .selectors import live_article_views
        from .widgets import render_site_stats_widget

        registry.register_widget(
            SITE_STATS,
            render_site_stats_widget,
            label=_("Site statistics"),
            scopes=("stats", "articles", "comments"),
            live=True,
            shared=True,
        )
        caching.register_view_counter(PageViewCounter())
        # As migration 0003 granted it (for a database flushed since: roles.ensure_role_groups).
        roles.register_role_permissions(roles.EDITOR, [("stats", "view_dailystat")])
        registry.register_article_count("view_count")  # rolled up daily (tasks.rollup_stats)
        # Pages and the admin show view counts as of now: rolled up, plus today's.
        registry.register_live_views(live_article_views)
        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="stats-schedule")
        beat_init.connect(catch_up_at_beat_start, dispatch_uid="stats-catch-up-at-beat-start")
