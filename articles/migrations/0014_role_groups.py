from django.db import migrations

from articles.roles import ADMINISTRATOR, ARTICLES_ROLE_PERMISSIONS, grant_in_migration


def make_roles(apps, schema_editor):
    grant_in_migration(apps, ARTICLES_ROLE_PERMISSIONS, everything_to=ADMINISTRATOR)


class Migration(migrations.Migration):
    """The roles (Contributor, Author, Editor, Administrator) as groups: see articles/roles.py.
    Existing groups keep what they have; a re-run only adds."""

    dependencies = [
        ("articles", "0013_roles_and_review"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(make_roles, migrations.RunPython.noop)]
