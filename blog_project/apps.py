from django.apps import AppConfig


class BlogProjectConfig(AppConfig):
    """The project itself as an app: its start-up checks (``checks.py``)."""

    name = "blog_project"
    verbose_name = "Blog"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
