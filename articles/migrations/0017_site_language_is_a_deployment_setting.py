"""The site's default language moved to the deployment (DJANGO_LANGUAGE_CODE): each
language has its own URLs, so it cannot change per request or per edit.

Expand step only: the field leaves the models, but its column stays, with a database
default, so the release before this one (which still reads and writes it) keeps working
during a rolling update. A later release drops the column (contract)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0016_one_autosave_per_article"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sitesettings",
            name="language",
            field=models.CharField(default="en", db_default="en", max_length=10, verbose_name="default language"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField(model_name="sitesettings", name="language")],
            database_operations=[],
        ),
    ]
