from django.db import migrations

from articles.roles import ADMINISTRATOR, EDITOR, grant_in_migration


def editors_moderate(apps, schema_editor):
    moderation = [("comments", f"{action}_comment") for action in ("change", "delete", "view")]
    grant_in_migration(apps, {EDITOR: moderation}, everything_to=ADMINISTRATOR)


class Migration(migrations.Migration):
    """Editors moderate comments; administrators get the comments' permissions too."""

    dependencies = [
        ("comments", "0004_drop_descending_recent_index"),
        ("articles", "0014_role_groups"),
    ]

    operations = [migrations.RunPython(editors_moderate, migrations.RunPython.noop)]
