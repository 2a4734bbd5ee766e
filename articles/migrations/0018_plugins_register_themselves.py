"""The core stops naming its plugins.

- A sidebar widget's kind has no choices in the model: the admin offers the kinds the
  installed apps register (``articles/registry.py``); stored values are kept as they are.
- The comment policy moved to the comments app (``comments.CommentSettings``, whose
  migration 0007 copies today's values first: it runs before this one). Expand step only:
  the fields leave the model, but their columns stay, with database defaults, so the
  release before this one (which still reads and writes them) keeps working during a
  rolling update. A later release drops the columns (contract)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0017_site_language_is_a_deployment_setting"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sidebarwidget",
            name="kind",
            field=models.CharField(max_length=30, verbose_name="kind"),
        ),
        migrations.AlterField(
            model_name="sitesettings",
            name="comments_enabled",
            field=models.BooleanField(default=True, db_default=True, verbose_name="comments enabled site-wide"),
        ),
        migrations.AlterField(
            model_name="sitesettings",
            name="comment_moderation",
            field=models.CharField(
                default="first_time", db_default="first_time", max_length=20, verbose_name="comment moderation"
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="sitesettings", name="comments_enabled"),
                migrations.RemoveField(model_name="sitesettings", name="comment_moderation"),
            ],
            database_operations=[],
        ),
    ]
