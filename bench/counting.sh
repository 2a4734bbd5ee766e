#!/usr/bin/env bash
# The cost of counting a page view: requests/s of a cached article page with and without
# the stats middleware, in the same run, under gunicorn (deploy/gunicorn.conf.py) with the
# Redis backend (MariaDB + Redis, DJANGO_ENV=production). Loopback only, bounded runs.
#
#   bench/counting.sh
#   BENCH_DURATION=10s BENCH_ROUNDS=5 bench/counting.sh
#
# Two gunicorn masters run the same code: one with the counter, one built without it
# (bench/counting_wsgi.py, BENCH_COUNTING=off). wrk loads one at a time, in interleaved
# rounds (best of each kept), with a browser User-Agent (wrk sends none, and a request
# without one is a bot and not counted):
#
#   off         no counting middleware
#   returning   counted: a visitor cookie issued on an earlier day (the common case)
#   new         counted: no cookie (daily hash of address and agent, Set-Cookie each time)
#
# Then it checks that every request served by the counting server was counted exactly:
# the day's PV counter in Redis must equal the number of 200 responses wrk reported.
#
# Environment (defaults in brackets):
#   BENCH_DURATION wrk -d [5s]   BENCH_CONNECTIONS wrk -c [4]   BENCH_ROUNDS [3]
#   BENCH_WORKERS gunicorn workers per master [1]
#   BENCH_DATABASE_URL [mysql://root@127.0.0.1:3306/blog_countbench]
#   BENCH_REDIS_URL    [redis://127.0.0.1:6379/12]  (a Redis DB of its own: it is flushed)
#   BENCH_VAR_DIR      [var/bench-counting]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PYTHON")
BENCH_DURATION=${BENCH_DURATION:-5s}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-4}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_WORKERS=${BENCH_WORKERS:-1}
BENCH_DATABASE_URL=${BENCH_DATABASE_URL:-mysql://root@127.0.0.1:3306/blog_countbench}
BENCH_REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/12}
BENCH_VAR_DIR=${BENCH_VAR_DIR:-$ROOT/var/bench-counting}
RESULTS=$ROOT/bench/results/counting-$(date +%Y%m%d-%H%M%S)
AGENT="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
COOKIE="blog_vid=20260101.benchbenchbenchbe"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
mkdir -p "$RESULTS" "$BENCH_VAR_DIR"
log() { printf '[counting] %s\n' "$*" >&2; }
free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

export DJANGO_ENV=production DJANGO_SECURE_SSL_REDIRECT=false DJANGO_LOG_LEVEL=WARNING
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-bench-only-$RANDOM$RANDOM$RANDOM$RANDOM$RANDOM$RANDOM}
export DATABASE_URL=$BENCH_DATABASE_URL REDIS_URL=$BENCH_REDIS_URL BLOG_VAR_DIR=$BENCH_VAR_DIR
export DJANGO_STATIC_ROOT=$BENCH_VAR_DIR/static
unset CELERY_TASK_ALWAYS_EAGER STATS_REDIS_URL

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "preparing the database and one article"
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
"$PYTHON" -c "import redis, os; redis.Redis.from_url(os.environ['REDIS_URL']).flushdb()"
"$PYTHON" manage.py migrate --noinput -v0
"$PYTHON" manage.py collectstatic --noinput -v0
ARTICLE=$("$PYTHON" manage.py shell -v0 -c "
from django.contrib.auth import get_user_model
from articles.models import Article
author, _ = get_user_model().objects.get_or_create(username='bench')
article = Article.objects.filter(slug='counting-bench').first() or Article.objects.create(
    title='Counting bench', slug='counting-bench', body='## A page\n\n' + 'Some text. ' * 300,
    status=Article.Status.PUBLISHED, author=author)
print(article.get_absolute_url())")

start() {  # start <name> <counting on|off>; sets PORT_<name>
  local name=$1 counting=$2 port
  port=$(free_port)
  BENCH_COUNTING=$counting GUNICORN_BIND=127.0.0.1:$port WEB_CONCURRENCY=$BENCH_WORKERS GUNICORN_ACCESSLOG="" \
    GUNICORN_ERRORLOG="$RESULTS/gunicorn-$name.log" \
    "$BIN/gunicorn" -c deploy/gunicorn.conf.py bench.counting_wsgi:application &
  PIDS+=($!)
  for _ in $(seq 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && break
    sleep 0.1
  done
  curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" || { log "gunicorn ($name) did not start"; exit 1; }
  printf -v "PORT_$name" '%s' "$port"
}

start counting on
start plain off
# Warm both: the page cache is shared (one Redis), the salt and the workers' memos are not.
for port in "$PORT_counting" "$PORT_plain"; do
  for _ in 1 2 3 4 5; do curl -fs -o /dev/null -A "$AGENT" -H "Cookie: $COOKIE" "http://127.0.0.1:$port$ARTICLE"; done
done
state=$(curl -fs -D - -o /dev/null -A "$AGENT" "http://127.0.0.1:$PORT_plain$ARTICLE" | tr -d '\r' \
  | awk -F': ' 'tolower($1)=="x-page-cache" {print $2}')
[[ $state == hit ]] || log "warning: the article is not served from the page cache ($state)"

pv_today() {
  "$PYTHON" manage.py shell -v0 -c "
from django.utils import timezone
from stats.backends import get_backend
snapshot = get_backend().snapshot(timezone.localdate())
print(snapshot.site.pv if snapshot else 0)"
}

# measure <name> <port> [cookie]: prints "req/s requests p50 p99"
measure() {
  local name=$1 port=$2 cookie=${3:-} round=$4 out
  out=$RESULTS/$name-$round.txt
  local args=(-t1 -c"$BENCH_CONNECTIONS" -d"$BENCH_DURATION" --timeout 5s --latency -H "User-Agent: $AGENT"
    -H "Accept-Language: en-US,en;q=0.9")
  [[ -n $cookie ]] && args+=(-H "Cookie: $cookie")
  wrk "${args[@]}" "http://127.0.0.1:$port$ARTICLE" >"$out"
  if grep -qE 'Non-2xx|Socket errors' "$out"; then
    log "errors while measuring $name: $(grep -E 'Non-2xx|Socket errors' "$out" | tr '\n' ' ')"
  fi
  awk '/Requests\/sec/ {rps=$2} /requests in/ {n=$1} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%d %d %s %s\n", rps, n, p50, p99}' "$out"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A best=() line=()
counted_requests=0
pv_before=$(pv_today)
for round in $(seq "$BENCH_ROUNDS"); do
  for spec in "off plain" "returning counting $COOKIE" "new counting"; do
    read -r name server cookie <<<"$spec"
    port_var=PORT_$server
    read -r rps requests p50 p99 < <(measure "$name" "${!port_var}" "$cookie" "$round")
    [[ $server == counting ]] && counted_requests=$((counted_requests + requests))
    log "$(printf '%-10s round %s %6s req/s  p50 %-8s p99 %s' "$name" "$round" "$rps" "$p50" "$p99")"
    if ((rps > ${best[$name]:-0})); then best[$name]=$rps; line[$name]="$rps|$p50|$p99"; fi
  done
done
pv_after=$(pv_today)
# wrk does not report the requests still in flight when it stops (at most -c per run), so
# under load the counter may be ahead by that much. An exact check: N sequential requests.
EXACT=200
pv_exact_before=$(pv_today)
for _ in $(seq "$EXACT"); do
  curl -fs -o /dev/null -A "$AGENT" -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT_counting$ARTICLE"
  curl -fs -o /dev/null -A "$AGENT" -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT_plain$ARTICLE"
done
pv_exact=$(($(pv_today) - pv_exact_before))
slack=$((pv_after - pv_before - counted_requests))

{
  echo "# Cost of counting a page view $(date -Is)"
  echo
  echo "$(nproc) CPUs, load before start: $LOAD_BEFORE; gunicorn $BENCH_WORKERS sync worker(s) per master;"
  echo "wrk -t1 -c$BENCH_CONNECTIONS -d$BENCH_DURATION on loopback, best of $BENCH_ROUNDS interleaved rounds;"
  echo "cached article page (X-Page-Cache: $state), Redis backend. Code: $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo
  echo "| variant | req/s | p50 | p99 | vs off |"
  echo "|---|---:|---:|---:|---:|"
  for name in off returning new; do
    IFS='|' read -r rps p50 p99 <<<"${line[$name]}"
    echo "| $name | $rps | $p50 | $p99 | $(awk -v a="$rps" -v b="${best[off]}" 'BEGIN {printf "%+.1f%%", 100 * (a - b) / b}') |"
  done
  echo
  off_us=$(awk -v r="${best[off]}" 'BEGIN {printf "%.0f", 1e6 / r}')
  on_us=$(awk -v r="${best[returning]}" 'BEGIN {printf "%.0f", 1e6 / r}')
  echo "Per request: ${off_us} µs without counting, ${on_us} µs with (returning visitor): about $((on_us - off_us)) µs per counted view."
  echo
  echo "Exactness: under load wrk reported $counted_requests responses from the counting server and the"
  echo "PV counter rose by $((pv_after - pv_before)) (+$slack in flight when wrk stopped, at most $((BENCH_CONNECTIONS * 2 * BENCH_ROUNDS)));"
  echo "$EXACT sequential requests to each server then raised it by exactly $pv_exact."
} | tee "$RESULTS/summary.md"
"$PYTHON" -c "import redis, os; redis.Redis.from_url(os.environ['REDIS_URL']).flushdb()"
if ((pv_exact != EXACT || slack < 0 || slack > BENCH_CONNECTIONS * 2 * BENCH_ROUNDS)); then
  log "MISMATCH: see the exactness line above"
  exit 1
fi
