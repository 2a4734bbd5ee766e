"""Full-text search: the tokens of every article's title, summary and body
(articles/tokens.py) and the indexes over them: FULLTEXT indexes on MariaDB/MySQL (all
three columns for matching, title and summary alone for ranking), an FTS5 table with
the three columns, kept in step by triggers, on SQLite."""

from django.db import migrations, models

COLUMNS = "title_tokens, summary_tokens, body_tokens"
SQLITE_FTS = [
    f"CREATE VIRTUAL TABLE articles_search_fts USING fts5({COLUMNS}, "
    "content='articles_articlesearchindex', content_rowid='article_id', tokenize='unicode61')",
    "CREATE TRIGGER articles_search_fts_insert AFTER INSERT ON articles_articlesearchindex BEGIN "
    f"INSERT INTO articles_search_fts(rowid, {COLUMNS}) "
    "VALUES (new.article_id, new.title_tokens, new.summary_tokens, new.body_tokens); END",
    "CREATE TRIGGER articles_search_fts_delete AFTER DELETE ON articles_articlesearchindex BEGIN "
    f"INSERT INTO articles_search_fts(articles_search_fts, rowid, {COLUMNS}) "
    "VALUES ('delete', old.article_id, old.title_tokens, old.summary_tokens, old.body_tokens); END",
    "CREATE TRIGGER articles_search_fts_update AFTER UPDATE ON articles_articlesearchindex BEGIN "
    f"INSERT INTO articles_search_fts(articles_search_fts, rowid, {COLUMNS}) "
    "VALUES ('delete', old.article_id, old.title_tokens, old.summary_tokens, old.body_tokens); "
    f"INSERT INTO articles_search_fts(rowid, {COLUMNS}) "
    "VALUES (new.article_id, new.title_tokens, new.summary_tokens, new.body_tokens); END",
    "INSERT INTO articles_search_fts(articles_search_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS articles_search_fts_insert",
    "DROP TRIGGER IF EXISTS articles_search_fts_delete",
    "DROP TRIGGER IF EXISTS articles_search_fts_update",
    "DROP TABLE IF EXISTS articles_search_fts",
]
MYSQL_FTS = [
    "ALTER TABLE articles_articlesearchindex "
    f"ADD FULLTEXT INDEX articles_search_ft ({COLUMNS}), "
    "ADD FULLTEXT INDEX articles_search_title_ft (title_tokens), "
    "ADD FULLTEXT INDEX articles_search_summary_ft (summary_tokens)"
]
MYSQL_DROP = [
    "ALTER TABLE articles_articlesearchindex DROP INDEX articles_search_ft, "
    "DROP INDEX articles_search_title_ft, DROP INDEX articles_search_summary_ft"
]


def fill_tokens(apps, schema_editor):
    from articles.markdown import plain_text
    from articles.fulltext import build_tokens

    Article = apps.get_model("articles", "Article")
    ArticleSearchIndex = apps.get_model("articles", "ArticleSearchIndex")
    fields = ["title_tokens", "summary_tokens", "body_tokens", "status", "published_at"]
    batch = []
    articles = Article.objects.only("title", "summary", "body_html", "status", "published_at")
    for article in articles.iterator(chunk_size=500):
        batch.append(
            ArticleSearchIndex(
                article_id=article.pk,
                title_tokens=build_tokens(article.title),
                summary_tokens=build_tokens(article.summary),
                body_tokens=build_tokens(plain_text(article.body_html)),
                status=article.status,
                published_at=article.published_at,
            )
        )
        if len(batch) >= 500:
            ArticleSearchIndex.objects.bulk_update(batch, fields)
            batch = []
    ArticleSearchIndex.objects.bulk_update(batch, fields)


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0005_lists_and_tallies"),
    ]

    operations = [
        migrations.AddField(
            model_name="articlesearchindex", name="title_tokens", field=models.TextField(default="")
        ),
        migrations.AddField(
            model_name="articlesearchindex", name="summary_tokens", field=models.TextField(default="")
        ),
        migrations.AddField(
            model_name="articlesearchindex", name="body_tokens", field=models.TextField(default="")
        ),
        migrations.AddField(
            model_name="articlesearchindex",
            name="status",
            field=models.CharField(default="", max_length=20),
        ),
        migrations.AddField(
            model_name="articlesearchindex",
            name="published_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"sqlite": SQLITE_FTS, "mysql": MYSQL_FTS}),
            _run({"sqlite": SQLITE_DROP, "mysql": MYSQL_DROP}),
            atomic=False,  # MySQL cannot roll DDL back, and Django refuses DDL in a transaction
        ),
    ]
