from django.db import migrations


class Migration(migrations.Migration):
    """(status, created_at) read backwards serves the newest comments of a status; the
    descending copy made MariaDB sort when it chose that one for ``created_at DESC, id
    DESC`` (its implicit primary key runs ascending)."""

    dependencies = [
        ("comments", "0003_admin_list_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="comment", name="comment_recent_idx"),
    ]
