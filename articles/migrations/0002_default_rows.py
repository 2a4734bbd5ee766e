"""The protected default category and the one site-settings row exist from the start."""

from django.db import migrations


def create_default_rows(apps, schema_editor):
    Category = apps.get_model("articles", "Category")
    SiteSettings = apps.get_model("articles", "SiteSettings")
    Category.objects.get_or_create(slug="uncategorized", defaults={"name": "Uncategorized", "order": 1000})
    SiteSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("articles", "0001_initial")]

    operations = [migrations.RunPython(create_default_rows, migrations.RunPython.noop)]
