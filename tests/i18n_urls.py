"""The site's URLs under ``i18n_patterns`` (the default language unprefixed), as the
language-in-the-URL work serves them: the page cache's tests of prefixed pages use it."""

from django.conf.urls.i18n import i18n_patterns

from blog_project.urls import urlpatterns as site_patterns

urlpatterns = i18n_patterns(*site_patterns, prefix_default_language=False)
