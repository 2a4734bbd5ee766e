"""The comment policy moves here from the core's site settings, with today's values.

Runs before articles 0018 (``run_before``), which takes the fields off the core's model
(their columns stay until a later release), so the copy reads them from the model here;
the core's migrations never name this app."""

from django.db import migrations, models

from articles.roles import ADMINISTRATOR, grant_in_migration


def copy_policy(apps, schema_editor):
    SiteSettings = apps.get_model("articles", "SiteSettings")
    CommentSettings = apps.get_model("comments", "CommentSettings")
    site = SiteSettings.objects.filter(pk=1).first()
    if site is not None:
        CommentSettings.objects.update_or_create(
            pk=1,
            defaults={"comments_enabled": site.comments_enabled, "comment_moderation": site.comment_moderation},
        )
    # Administrators have every permission: the new model's too.
    grant_in_migration(apps, {}, everything_to=ADMINISTRATOR)


def copy_policy_back(apps, schema_editor):
    SiteSettings = apps.get_model("articles", "SiteSettings")
    CommentSettings = apps.get_model("comments", "CommentSettings")
    policy = CommentSettings.objects.filter(pk=1).first()
    if policy is not None:
        SiteSettings.objects.filter(pk=1).update(
            comments_enabled=policy.comments_enabled, comment_moderation=policy.comment_moderation
        )


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0006_abuse_limits_in_the_database"),
        ("articles", "0017_site_language_is_a_deployment_setting"),
    ]
    run_before = [
        ("articles", "0018_plugins_register_themselves"),
    ]

    operations = [
        migrations.CreateModel(
            name="CommentSettings",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "comments_enabled",
                    models.BooleanField(default=True, verbose_name="comments enabled site-wide"),
                ),
                (
                    "comment_moderation",
                    models.CharField(
                        choices=[
                            ("none", "Publish comments at once"),
                            ("first_time", "Hold comments from first-time commenters"),
                            ("all", "Hold every comment for moderation"),
                        ],
                        default="first_time",
                        max_length=20,
                        verbose_name="comment moderation",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"verbose_name": "comment settings", "verbose_name_plural": "comment settings"},
        ),
        migrations.RunPython(copy_policy, copy_policy_back),
    ]
