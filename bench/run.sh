#!/usr/bin/env bash
# Page benchmarks on loopback: Django's hello-world floor and the blog's pages, side by side,
# on the same gunicorn process and config (deploy/gunicorn.conf.py, sync workers).
#
#   make bench                                   # both backends, 1 and 2 workers
#   BENCH_BACKENDS=real BENCH_WORKERS=1 BENCH_DURATION=5s bench/run.sh
#
# For each backend (real = MariaDB + Redis, embedded = SQLite + file cache; both with
# DJANGO_ENV=production, SSL redirect off) it migrates and seeds a demo blog (seed_demo, 50
# articles), collects static files, records SQL queries per page (bench/queries.py), then
# for each worker count starts `gunicorn bench.hello_wsgi:application` (the blog plus one
# /bench/hello/ route through the same middleware), warms the pages and runs wrk against:
#
#   hello       /bench/hello/  a minimal Django view: the floor
#   healthz     /healthz       the app's cheapest real view (one DB ping)
#   home, article, category    warm: the anonymous page cache hits
#   home-render, article-render  the page cache is bypassed (a `messages` cookie, one of
#                              BLOG_PAGE_CACHE_BYPASS_COOKIES) while fragments stay warm: the
#                              cost of a page whose cached copy is missing
#   home-reader, article-reader  warm, as a returning reader's browser asks: a browser
#                              User-Agent and the visitor and CSRF cookies of an earlier
#                              visit, so the view is counted (wrk alone sends no User-Agent,
#                              and a request without one is a bot: not counted)
#
# Results: bench/results/<timestamp>/ (raw wrk output, queries-*.json, summary.md), and the
# summary table on stdout. DESIGN.md's bar: warm home and article >= 50% of hello's req/s.
#
# Environment (defaults in brackets):
#   BENCH_BACKENDS     [real embedded]      BENCH_WORKERS   [1 2]
#   BENCH_DURATION     wrk -d per run [5s]  BENCH_CONNECTIONS wrk -c [4]
#   BENCH_ROUNDS       interleaved rounds over all URLs; the best run of each is kept [3]
#   BENCH_DATABASE_URL [mysql://root@127.0.0.1:3306/blog_pagebench]
#   BENCH_REDIS_URL    [redis://127.0.0.1:6379/12]  (a Redis DB of its own: it is flushed)
#   BENCH_VAR_DIR      [var/bench]          BENCH_PORT [free port]
#   BENCH_ACCEPT_LANGUAGE  sent with every request, as browsers do [en-US,en;q=0.9];
#                      empty = none (then every request, hello included, asks the cache for
#                      the site's default language)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PYTHON")
BENCH_BACKENDS=${BENCH_BACKENDS:-real embedded}
BENCH_WORKERS=${BENCH_WORKERS:-1 2}
BENCH_DURATION=${BENCH_DURATION:-5s}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-4}
BENCH_DATABASE_URL=${BENCH_DATABASE_URL:-mysql://root@127.0.0.1:3306/blog_pagebench}
BENCH_REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/12}
BENCH_VAR_DIR=${BENCH_VAR_DIR:-$ROOT/var/bench}
BENCH_ACCEPT_LANGUAGE=${BENCH_ACCEPT_LANGUAGE-en-US,en;q=0.9}
BENCH_PORT=${BENCH_PORT:-$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
RESULTS=$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
SUMMARY=$RESULTS/summary.md
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

log() { printf '[bench] %s\n' "$*" >&2; }
BROWSER_UA="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
READER_COOKIE=""

SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

use_backend() {
  local backend=$1
  unset DATABASE_URL REDIS_URL CELERY_TASK_ALWAYS_EAGER
  export DJANGO_ENV=production DJANGO_SECURE_SSL_REDIRECT=false DJANGO_LOG_LEVEL=WARNING
  export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-bench-only-$RANDOM$RANDOM$RANDOM$RANDOM$RANDOM$RANDOM}
  export BLOG_VAR_DIR=$BENCH_VAR_DIR/$backend
  export DJANGO_STATIC_ROOT=$BLOG_VAR_DIR/static
  mkdir -p "$BLOG_VAR_DIR"
  if [[ $backend == real ]]; then
    export DATABASE_URL=$BENCH_DATABASE_URL REDIS_URL=$BENCH_REDIS_URL
    "$PYTHON" - <<'EOF'
import os

import environ
import MySQLdb

db = environ.Env.db_url_config(os.environ["DATABASE_URL"])
conn = MySQLdb.connect(host=db["HOST"] or "127.0.0.1", port=int(db["PORT"] or 3306), user=db["USER"],
                       password=db["PASSWORD"] or "")
conn.cursor().execute(
    f"CREATE DATABASE IF NOT EXISTS `{db['NAME']}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
)
EOF
  fi
}

prepare() {
  log "migrating and seeding ($1)"
  "$PYTHON" manage.py migrate --noinput -v0
  "$PYTHON" manage.py seed_demo --articles 50 -v0 </dev/null
  "$PYTHON" manage.py collectstatic --noinput -v0
  # A published article and a category with articles, newest first.
  read -r ARTICLE CATEGORY < <("$PYTHON" manage.py shell -v0 -c "
from articles.models import Article
a = Article.objects.published().filter(category__isnull=False).order_by('-published_at').first()
print(a.get_absolute_url(), a.category.get_absolute_url())")
}

start_server() {
  local workers=$1
  GUNICORN_BIND=127.0.0.1:$BENCH_PORT WEB_CONCURRENCY=$workers GUNICORN_ACCESSLOG="" \
    GUNICORN_ERRORLOG="$RESULTS/gunicorn.log" \
    "$BIN/gunicorn" -c deploy/gunicorn.conf.py bench.hello_wsgi:application &
  SERVER_PID=$!
  for _ in $(seq 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$BENCH_PORT/bench/hello/" && return 0
    sleep 0.1
  done
  echo "gunicorn did not start; see $RESULTS/gunicorn.log" >&2
  exit 1
}

# wrk one URL; prints "req/s p50 p99" and keeps the raw output.
measure() {
  local name=$1 path=$2 cookie=${3:-} round=${4:-1} out
  out=$RESULTS/$BACKEND-w$WORKERS-$name-$round.txt
  local args=(-t1 -c"$BENCH_CONNECTIONS" -d"$BENCH_DURATION" --latency)
  if [[ $cookie == @reader ]]; then
    args+=(-H "Cookie: $READER_COOKIE" -H "User-Agent: $BROWSER_UA")
  elif [[ -n $cookie ]]; then
    args+=(-H "Cookie: $cookie")
  fi
  [[ -n $BENCH_ACCEPT_LANGUAGE ]] && args+=(-H "Accept-Language: $BENCH_ACCEPT_LANGUAGE")
  {
    echo "# $(date -Is) load: $(cut -d' ' -f1-3 /proc/loadavg)"
    wrk "${args[@]}" "http://127.0.0.1:$BENCH_PORT$path"
  } >"$out"
  if grep -qE 'Non-2xx|Socket errors' "$out"; then
    log "errors while measuring $path: $(grep -E 'Non-2xx|Socket errors' "$out")"
  fi
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%d %s %s\n", rps, p50, p99}' "$out"
}

{
  echo "# Page benchmarks $(date -Is)"
  echo
  echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)); wrk -t1 -c$BENCH_CONNECTIONS -d$BENCH_DURATION on loopback"
  echo "(wrk shares the machine with gunicorn); Accept-Language: ${BENCH_ACCEPT_LANGUAGE:-none}; load before start: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "Code: $(git rev-parse --short HEAD 2>/dev/null || echo '?') ($(git status --porcelain 2>/dev/null | wc -l) files changed in the work tree)."
  echo "Best of $BENCH_ROUNDS interleaved runs per URL."
  echo
  echo "| backend | workers | page | req/s | p50 | p99 | % of hello |"
  echo "|---|---|---|---:|---:|---:|---:|"
} >"$SUMMARY"

read -r load1 _ < /proc/loadavg
if awk -v l="$load1" 'BEGIN {exit !(l > 0.5)}'; then
  log "warning: load average $load1 before starting: other processes will skew the figures"
fi

for BACKEND in $BENCH_BACKENDS; do
  unset ARTICLE CATEGORY
  use_backend "$BACKEND"
  prepare "$BACKEND"
  PAGES=(/ "$ARTICLE" "$CATEGORY")
  SPECS=("hello /bench/hello/" "healthz /healthz" "home /" "article $ARTICLE" "category $CATEGORY"
    "home-render / messages=bench" "article-render $ARTICLE messages=bench"
    "home-reader / @reader" "article-reader $ARTICLE @reader")
  "$PYTHON" bench/queries.py --json "$RESULTS/queries-$BACKEND.json" "${PAGES[@]}" \
    | tee "$RESULTS/queries-$BACKEND.txt" || true  # a missed query bar is reported, not fatal
  for WORKERS in $BENCH_WORKERS; do
    log "$BACKEND backend, $WORKERS gunicorn worker(s)"
    start_server "$WORKERS"
    for page in "${PAGES[@]}" /healthz /bench/hello/; do
      for _ in 1 2 3; do curl -fs -o /dev/null "http://127.0.0.1:$BENCH_PORT$page"; done
    done
    # The cookies a reader's browser holds after a first visit (visitor id, CSRF token).
    READER_COOKIE=$(curl -fs -A "$BROWSER_UA" -D - -o /dev/null "http://127.0.0.1:$BENCH_PORT/" | tr -d '\r' \
      | awk -F'[:;] *' 'tolower($1)=="set-cookie" {printf "%s%s", sep, $2; sep="; "}')
    [[ $READER_COOKIE == *csrftoken=* && $READER_COOKIE == *blog_vid=* ]] \
      || log "warning: unexpected reader cookies: $READER_COOKIE"
    cache_state=$(curl -fs -D - -o /dev/null "http://127.0.0.1:$BENCH_PORT/" | tr -d '\r' \
      | awk -F': ' 'tolower($1)=="x-page-cache" {print $2}')
    [[ $cache_state == hit ]] || log "warning: home page is not served from the page cache ($cache_state)"
    # Interleaved rounds, best of each: on a shared machine a burst of someone else's work
    # lands on one short run, not on every run of one URL.
    declare -A best=() best_line=()
    for round in $(seq "$BENCH_ROUNDS"); do
      for spec in "${SPECS[@]}"; do
        read -r name path cookie <<<"$spec"
        read -r rps p50 p99 < <(measure "$name" "$path" "$cookie" "$round")
        log "$(printf '%-9s %-2s %-15s round %s %6s req/s  p50 %-8s p99 %s' "$BACKEND" "$WORKERS" "$name" "$round" "$rps" "$p50" "$p99")"
        if ((rps > ${best[$name]:-0})); then best[$name]=$rps; best_line[$name]="$path|$rps|$p50|$p99"; fi
      done
    done
    for spec in "${SPECS[@]}"; do
      read -r name _ <<<"$spec"
      IFS='|' read -r path rps p50 p99 <<<"${best_line[$name]}"
      pct=$(awk -v a="$rps" -v b="${best[hello]}" 'BEGIN {printf "%.0f%%", 100 * a / b}')
      bar=""
      if [[ $name == home* || $name == article* ]] && [[ $name != *-render ]]; then
        bar=$(awk -v a="$rps" -v b="${best[hello]}" 'BEGIN {print (a >= b / 2) ? " (bar met)" : " (bar MISSED)"}')
      fi
      echo "| $BACKEND | $WORKERS | $name \`$path\` | $rps | $p50 | $p99 | $pct$bar |" >>"$SUMMARY"
    done
    stop_server
  done
  if [[ $BACKEND == real ]]; then
    "$PYTHON" -c "import redis, os; redis.Redis.from_url(os.environ['REDIS_URL']).flushdb()"
  fi
done

{
  echo
  echo "Warm = anonymous page-cache hit (wrk: no User-Agent, so not counted); *-reader = warm, as a"
  echo "returning reader's browser (User-Agent, visitor and CSRF cookies: the view is counted);"
  echo "*-render = page cache bypassed, fragments warm;"
  echo "bar: warm home and article >= 50% of hello's req/s on the same config."
  for f in "$RESULTS"/queries-*.txt; do echo; echo '```'; cat "$f"; echo '```'; done
} >>"$SUMMARY"
echo
cat "$SUMMARY"
echo
echo "Raw results: $RESULTS"
