"""Task-list checkboxes are now wrapped in a <label> (named by their text, for screen
readers): re-render the stored HTML of the articles and pages that have task lists."""

from django.db import migrations
from django.db.models import Q

TASK_MARKERS = Q(body__contains="[ ]") | Q(body__contains="[x]") | Q(body__contains="[X]")


def rerender(apps, schema_editor):
    from articles.markdown import render_markdown

    for model_name in ("Article", "Page"):
        model = apps.get_model("articles", model_name)
        for pk, body in model.objects.filter(TASK_MARKERS).values_list("pk", "body").iterator(chunk_size=500):
            model.objects.filter(pk=pk).update(body_html=render_markdown(body).html)


class Migration(migrations.Migration):
    dependencies = [("articles", "0007_editor_media_autosave_seo")]

    operations = [migrations.RunPython(rerender, migrations.RunPython.noop)]
