"""`check --deploy` warns when the site URL that feeds and mails link to is not set."""

from django.core import checks

from articles.checks import site_url_is_configured


def test_no_warning_with_a_site_url(settings):
    settings.SITE_URL_CONFIGURED = True
    assert site_url_is_configured(None) == []


def test_warning_without_one(settings):
    settings.SITE_URL_CONFIGURED = False
    settings.SITE_URL = "http://127.0.0.1:8000"
    [warning] = site_url_is_configured(None)
    assert warning.id == "blog.W001" and warning.level == checks.WARNING
    assert "BLOG_SITE_URL" in warning.msg and "127.0.0.1:8000" in warning.msg


def test_the_check_runs_with_deploy_checks(settings):
    settings.SITE_URL_CONFIGURED = False
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "blog.W001" in {message.id for message in found}
    assert "blog.W001" not in {message.id for message in checks.run_checks(tags=[checks.Tags.security])}
