#!/usr/bin/env bash
# The read path's benchmark, in one run and one table (`make bench`):
#
#   for each data size (about 1,000 and about 100,000 articles, seeded in SQL):
#     bench/after_write.py  first render of every page after a write: queries, ms, RSS;
#                           searches (new and repeated) - on MariaDB + Redis, and on SQLite
#                           + the file cache when BENCH_SQLITE=1
#     bench/pages.sh        req/s beside a plain Django hello world, counted readers, pinned
#   then bench/summarize.py compares the sizes against the bars.
#
#   make bench
#   BENCH_SIZES="1000:14000" BENCH_DURATION=5s bench/run.sh      # a quick look
#
# Environment (defaults in brackets): BENCH_SIZES [1000:14000 100000:1000000]
# (articles:comments), BENCH_SQLITE [1], BENCH_PAGES [1], and pages.sh's own variables.
# Seeded databases are kept (blog_bench_<articles> on MariaDB, var/bench/sqlite-<articles>.db)
# and reused while they hold that many articles; BENCH_RESEED=1 seeds them again.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
BENCH_SIZES=${BENCH_SIZES:-1000:14000 100000:1000000}
BENCH_SQLITE=${BENCH_SQLITE:-1}
BENCH_PAGES=${BENCH_PAGES:-1}
BENCH_REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/12}
BENCH_VAR_DIR=${BENCH_VAR_DIR:-$ROOT/var/bench}
RUN=$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)-run
mkdir -p "$RUN" "$BENCH_VAR_DIR"
log() { printf '[bench] %s\n' "$*" >&2; }

read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN {exit !(l > 0.7)}'; then
  log "warning: load average $load1 before starting: other work will skew the figures"
fi

articles_in() {  # database url -> number of articles (0 if none or no schema)
  DATABASE_URL=$1 BLOG_VAR_DIR=$BENCH_VAR_DIR/blog "$PYTHON" - <<'EOF' 2>/dev/null || echo 0
import os
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")
django.setup()
from articles.models import Article

print(Article.objects.count())
EOF
}

ensure_seeded() {  # url articles comments
  local url=$1 articles=$2 comments=$3
  if [[ ${BENCH_RESEED:-0} == 1 || $(articles_in "$url") != "$articles" ]]; then
    log "seeding $articles articles and $comments comments into $url"
    "$PYTHON" bench/seed_large.py --articles "$articles" --comments "$comments" --stats-days 31 \
      --database-url "$url" --reset
  else  # kept from an earlier run: brought up to this code's schema
    DATABASE_URL=$url BLOG_VAR_DIR=$BENCH_VAR_DIR/blog "$PYTHON" manage.py migrate --noinput -v0
  fi
}

env_for() {  # url [redis] -> exports the production-like settings of this backend
  export DJANGO_ENV=production DJANGO_SECURE_SSL_REDIRECT=false DJANGO_LOG_LEVEL=WARNING
  export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-bench-only-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}
  export DJANGO_ALLOWED_HOSTS=127.0.0.1,testserver CELERY_BROKER_URL=memory://
  export DATABASE_URL=$1 BLOG_VAR_DIR=$BENCH_VAR_DIR/blog DJANGO_STATIC_ROOT=$BENCH_VAR_DIR/blog/static
  if [[ -n ${2:-} ]]; then export REDIS_URL=$2; else unset REDIS_URL; fi
  mkdir -p "$BLOG_VAR_DIR"
  "$PYTHON" manage.py collectstatic --noinput -v0
}

for size in $BENCH_SIZES; do
  IFS=: read -r articles comments <<<"$size"
  mysql_url=mysql://root@127.0.0.1:3306/blog_bench_$articles
  "$PYTHON" - "$mysql_url" <<'EOF'
import sys

import environ
import MySQLdb

db = environ.Env.db_url_config(sys.argv[1])
MySQLdb.connect(host=db["HOST"] or "127.0.0.1", port=int(db["PORT"] or 3306), user=db["USER"],
                password=db["PASSWORD"] or "").cursor().execute(
    f"CREATE DATABASE IF NOT EXISTS `{db['NAME']}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
EOF
  ensure_seeded "$mysql_url" "$articles" "$comments"
  (
    env_for "$mysql_url" "$BENCH_REDIS_URL"
    "$PYTHON" -c "import redis, os; redis.Redis.from_url(os.environ['REDIS_URL']).flushdb()"
    log "first render after a write: MariaDB + Redis, $articles articles"
    "$PYTHON" bench/after_write.py --json "$RUN/after-write-mysql-$articles.json" || true
  )
  if [[ $BENCH_SQLITE == 1 ]]; then
    sqlite_url=sqlite:///$BENCH_VAR_DIR/sqlite-$articles.db
    ensure_seeded "$sqlite_url" "$articles" "$comments"
    (
      env_for "$sqlite_url"
      rm -rf "$BLOG_VAR_DIR/cache"
      log "first render after a write: SQLite + file cache, $articles articles"
      "$PYTHON" bench/after_write.py --json "$RUN/after-write-sqlite-$articles.json" || true
    )
  fi
  if [[ $BENCH_PAGES == 1 ]]; then
    log "pages beside a plain hello world: $articles articles"
    BENCH_DATABASE_URL=$mysql_url BENCH_REDIS_URL=$BENCH_REDIS_URL BENCH_LABEL=pages-$articles \
      BENCH_RESULTS_POINTER=$RUN/pages-$articles.path bench/pages.sh || true
  fi
done

"$PYTHON" bench/summarize.py "$RUN" | tee "$RUN/summary.md"
echo "Results: $RUN"
