from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

RECENT_COMMENTS = "recent_comments"  # the sidebar widget kind


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = _("Comments")

    def ready(self) -> None:
        # Django app loading: these modules use models, importable once the registry is ready.
        from articles import registry, roles
        from blog_project import caching

        from . import conf, signals
        from .admin import render_pending_panel
        from .schedule import on_post_migrate
        from .sections import (
            fill_author_hole,
            fill_pending_hole,
            fill_pending_notice_hole,
            fill_stamp_hole,
            render_article_section,
            render_recent_comments_widget,
        )

        registry.register_article_section("comments", render_article_section, order=100)
        registry.register_widget(
            RECENT_COMMENTS,
            render_recent_comments_widget,
            label=_("Recent comments"),
            scopes=("comments", "articles"),
        )
        registry.register_article_count("comment_count")  # kept by services.comment_counts_recount
        registry.register_admin_panel("comments-pending", render_pending_panel)
        registry.register_settings_section(
            "comments",
            label=_("Comments"),
            admin_url_name="admin:comments_commentsettings_changelist",
            permission="comments.view_commentsettings",
        )
        signals.connect()
        # As migration 0005 granted them (for a database flushed since: roles.ensure_role_groups).
        roles.register_role_permissions(
            roles.EDITOR, [("comments", f"{action}_comment") for action in ("change", "delete", "view")]
        )
        # The article page is cached whole for anonymous readers: the form's time stamp and
        # the remembered commenter's details are holes filled per request. The stamp counts
        # the minimum fill time from this reader's visit and is bound to their network.
        caching.register_hole("comment-stamp", fill_stamp_hole)
        caching.register_hole("comment-author", fill_author_hole, cookie=conf.AUTHOR_COOKIE)
        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="comments-schedule")
        # A reader's own held comments, in place, with a notice beside the form.
        caching.register_hole("comment-pending", fill_pending_hole, cookie=conf.PENDING_COOKIE)
        caching.register_hole("comment-pending-notice", fill_pending_notice_hole, cookie=conf.PENDING_COOKIE)
