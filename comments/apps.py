from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = _("Comments")

    def ready(self) -> None:
        from articles import registry

        from .schedule import on_post_migrate
        from .sections import render_article_section, render_recent_comments_widget
        from .spam import STAMP_HOLE, make_stamp

        registry.register_article_section("comments", render_article_section, order=100)
        registry.register_widget("recent_comments", render_recent_comments_widget)
        # The article page is cached whole for anonymous readers: the form's time stamp is a
        # hole filled per request, so the minimum fill time counts from this reader's visit.
        # It is bound to the reader's network, so a stamp fetched elsewhere does not work.
        registry.register_hole(STAMP_HOLE, make_stamp)
        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="comments-schedule")
