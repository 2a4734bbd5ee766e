# The descending (status, -published_at) index made every "newest first" read sort: the
# primary key InnoDB appends runs the other way. An ascending (status, published_at) index
# read backwards serves it; migration 0011 adds it (article_admin_status_idx).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0009_widget_headings_follow_the_language"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="article", name="article_pub_idx"),
    ]
