"""The site's URLs under ``i18n_patterns`` (the default language unprefixed), as the
language-in-the-URL work serves them: the tests of prefixed pages use it. Once the site's
own URLs are in ``i18n_patterns`` they are used as they are."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import LocalePrefixPattern

from blog_project.urls import urlpatterns as site_patterns

if any(isinstance(getattr(entry, "pattern", None), LocalePrefixPattern) for entry in site_patterns):
    urlpatterns = site_patterns
else:
    urlpatterns = i18n_patterns(*site_patterns, prefix_default_language=False)
