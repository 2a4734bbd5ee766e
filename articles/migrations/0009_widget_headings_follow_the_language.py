"""A widget without a title shows its kind's name in each reader's language. Titles that
are just the English name of their kind (as the demo stored them) are cleared, so those
headings follow the reader's language too."""

from django.db import migrations, models

ENGLISH_NAMES = {
    "categories": "Categories",
    "tags": "Tags",
    "archives": "Archives",
    "recent_posts": "Recent posts",
    "popular_posts": "Popular posts",
    "links": "Links",
    "search": "Search",
    "recent_comments": "Recent comments",
    "site_stats": "Site statistics",
}


def clear_default_titles(apps, schema_editor):
    SidebarWidget = apps.get_model("articles", "SidebarWidget")
    for kind, name in ENGLISH_NAMES.items():
        SidebarWidget.objects.filter(kind=kind, title=name).update(title="")


class Migration(migrations.Migration):
    dependencies = [("articles", "0008_label_task_lists")]

    operations = [
        migrations.AlterField(
            model_name="sidebarwidget",
            name="title",
            field=models.CharField(
                blank=True,
                help_text="Leave blank to show the kind's own heading (“Categories”, …) in each reader's language.",
                max_length=100,
                verbose_name="title",
            ),
        ),
        migrations.RunPython(clear_default_titles, migrations.RunPython.noop),
    ]
