from django.db import migrations

from articles.roles import ADMINISTRATOR, EDITOR, grant_in_migration


def editors_see_traffic(apps, schema_editor):
    grant_in_migration(apps, {EDITOR: [("stats", "view_dailystat")]}, everything_to=ADMINISTRATOR)


class Migration(migrations.Migration):
    """Editors see the traffic dashboard; administrators get the stats' permissions too."""

    dependencies = [
        ("stats", "0002_article_traffic_sums"),
        ("articles", "0014_role_groups"),
    ]

    operations = [migrations.RunPython(editors_see_traffic, migrations.RunPython.noop)]
