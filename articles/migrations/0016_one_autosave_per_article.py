"""One autosave per article or page (not one per editor and article); unsaved new ones
now become rows on their first autosave, so the old per-editor slot 0 is dropped."""

from django.conf import settings
from django.db import migrations, models


def keep_the_newest_per_object(apps, schema_editor):
    EditorAutosave = apps.get_model("articles", "EditorAutosave")
    EditorAutosave.objects.filter(object_id=0).delete()
    seen = set()
    stale = []
    for row in EditorAutosave.objects.order_by("kind", "object_id", "-updated_at", "-pk").iterator():
        key = (row.kind, row.object_id)
        if key in seen:
            stale.append(row.pk)
        seen.add(key)
    EditorAutosave.objects.filter(pk__in=stale).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0015_site_setting_show_reading_time"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(keep_the_newest_per_object, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="editorautosave",
            name="editor_autosave_uniq",
        ),
        migrations.AddConstraint(
            model_name="editorautosave",
            constraint=models.UniqueConstraint(fields=("kind", "object_id"), name="editor_autosave_one_per_object"),
        ),
    ]
