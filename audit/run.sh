#!/usr/bin/env bash
# `make audit`: the reader pages of a real server, checked as a browser and a validator
# see them. A fresh demo blog (embedded backends under var/audit: SQLite and the file
# cache, as `make run`) is seeded with articles and comment threads and served by gunicorn
# on loopback; then audit/audit.mjs runs Lighthouse, the Nu HTML checker and axe-core on
# it, prints the scores as a table and fails if a bar is missed.
#
#   AUDIT_PORT       port of the audited server                        [8713]
#   CHROME_PATH      the Chromium to drive (Debian's; never downloaded) [/usr/bin/chromium]
#   AUDIT_PERF_BAR   Lighthouse performance bar                        [95]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PORT=${AUDIT_PORT:-8713}
BASE=http://127.0.0.1:$PORT
VAR=$ROOT/var/audit
PY=$ROOT/.venv/bin/python
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}

# The embedded mode, whatever the calling shell points at, with links to this server.
unset DATABASE_URL REDIS_URL STATS_REDIS_URL CELERY_BROKER_URL DJANGO_ENV DJANGO_DEBUG
export BLOG_VAR_DIR=$VAR DJANGO_STATIC_ROOT=$VAR/static BLOG_SITE_URL=$BASE
# Gravatar is on the internet, which an audit run may not reach: its failed image requests
# would show as console errors. The pages are audited without avatars.
export COMMENTS_AVATARS=false
rm -rf "$VAR"
mkdir -p "$VAR"

echo "Seeding a demo blog in $VAR ..."
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py seed_demo >/dev/null 2>&1
"$PY" manage.py seed_demo_comments >/dev/null 2>&1
"$PY" manage.py collectstatic --noinput -v0

GUNICORN_ACCESSLOG="" WEB_CONCURRENCY=2 "$ROOT/.venv/bin/gunicorn" -c deploy/gunicorn.conf.py \
  --bind "127.0.0.1:$PORT" blog_project.wsgi >"$VAR/gunicorn.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || { cat "$VAR/gunicorn.log"; exit 1; }
  sleep 0.2
done

# The pages: the four Lighthouse audits, and every kind of reader page for the validators.
read -r ARTICLE CATEGORY TAG PAGE COMMENT < <("$PY" manage.py shell -v 0 -c "
from articles.models import Article, Category, Page, Tag
from comments.models import Comment
article = Article.objects.published().filter(comment_count__gt=0).order_by('-comment_count', 'pk').first()
category = Category.objects.filter(parent=None).exclude(slug='uncategorized').order_by('order', 'name').first()
tag = Tag.objects.order_by('-published_count', 'name').first()
page = Page.objects.published().order_by('order', 'pk').first()
comment = Comment.objects.filter(article=article).order_by('number').first()
print(article.get_absolute_url(), category.get_absolute_url(), tag.get_absolute_url(), page.get_absolute_url(), comment.pk)
")
cat >"$VAR/pages.json" <<EOF
[
  {"name": "home", "path": "/", "lighthouse": true},
  {"name": "article", "path": "$ARTICLE", "lighthouse": true},
  {"name": "category", "path": "$CATEGORY", "lighthouse": true},
  {"name": "search", "path": "/search/?q=redis", "lighthouse": true, "noindex": true},
  {"name": "tag", "path": "$TAG"},
  {"name": "archives", "path": "/archives/"},
  {"name": "page", "path": "$PAGE"},
  {"name": "home-zh", "path": "/zh-hans/", "lighthouse": true},
  {"name": "article-zh", "path": "/zh-hans$ARTICLE", "lighthouse": true},
  {"name": "reply", "path": "/comments/$COMMENT/reply/"},
  {"name": "not-found", "path": "/no-such-page/", "status": 404}
]
EOF
echo "Auditing $BASE (Lighthouse on home, article, category and search; home and article in Chinese) ..."
node audit/audit.mjs "$BASE" "$VAR/pages.json"
