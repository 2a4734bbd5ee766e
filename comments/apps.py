from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = _("Comments")

    def ready(self) -> None:
        from articles import registry

        from .sections import render_article_section, render_recent_comments_widget

        registry.register_article_section("comments", render_article_section, order=100)
        registry.register_widget("recent_comments", render_recent_comments_widget)
