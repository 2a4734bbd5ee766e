#!/usr/bin/env bash
# Requests/s of the blog's reader pages beside a *plain* Django hello world, same run, same
# gunicorn settings, same pinning: the server on one core, wrk on the other.
#
#   bench/pages.sh                      # the data already in BENCH_DATABASE_URL
#   BENCH_DURATION=15s BENCH_ROUNDS=2 bench/pages.sh
#
# "Plain hello" is a fresh `django-admin startproject` (Django's default middleware) with
# one view returning a short string, created under $BENCH_VAR_DIR/hello and served by the
# same deploy/gunicorn.conf.py as the blog. Every blog row is a counted page view (a
# browser's User-Agent: a request without one is a bot and would not be counted):
#
#   *-new        a first visit: no cookies (reading sets none)
#   *-reader     a returning reader: the CSRF cookie their first comment gave them (so the
#                article's form is given a token), and an old `blog_vid` visitor cookie,
#                which is ignored
#   *-commenter  a returning reader who commented: also the remembered-author cookie
#
# Rows: home, article, category and search, each as all three, then a tag and a month as a
# returning reader.
#
# Before and after (once the servers have stopped: each worker writes the views it still
# holds as it exits), today's page-view counter is read from Redis: the difference must be
# the number of requests wrk completed on counted rows (warm-ups included), give or take
# the requests still in flight when each wrk run stopped (at most one per connection per
# run: the server answered and counted them, wrk no longer read them), or the run fails.
# Results: bench/results/<timestamp>-pages/ (raw wrk output, summary.md).
#
# Environment (defaults in brackets):
#   BENCH_DATABASE_URL  [mysql://root@127.0.0.1:3306/blog_bench_1000]  (seeded: bench/run.sh)
#   BENCH_REDIS_URL     [redis://127.0.0.1:6379/12]  (flushed before the run)
#   BENCH_WORKERS [2]  BENCH_CONNECTIONS [32]  BENCH_DURATION [15s]  BENCH_WARMUP [5s]
#   BENCH_ROUNDS [2]   BENCH_SERVER_CPU [1]   BENCH_WRK_CPU [0]   BENCH_LABEL [pages]
#   BENCH_ROWS         which rows to run (names below) [all]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PYTHON")
BENCH_DATABASE_URL=${BENCH_DATABASE_URL:-mysql://root@127.0.0.1:3306/blog_bench_1000}
BENCH_REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/12}
BENCH_WORKERS=${BENCH_WORKERS:-2}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_DURATION=${BENCH_DURATION:-15s}
BENCH_WARMUP=${BENCH_WARMUP:-5s}
BENCH_ROUNDS=${BENCH_ROUNDS:-2}
BENCH_SERVER_CPU=${BENCH_SERVER_CPU:-1}
BENCH_WRK_CPU=${BENCH_WRK_CPU:-0}
BENCH_LABEL=${BENCH_LABEL:-pages}
BENCH_VAR_DIR=${BENCH_VAR_DIR:-$ROOT/var/bench}
RESULTS=$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)-$BENCH_LABEL
mkdir -p "$RESULTS" "$BENCH_VAR_DIR"
SUMMARY=$RESULTS/summary.md
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
log() { printf '[bench] %s\n' "$*" >&2; }
free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

UA="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
LANGUAGE="en-US,en;q=0.9"
ENCODING="gzip, deflate, br"

PIDS=()
stop_servers() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the plain hello world ---------------------------------------------------------------
HELLO_DIR=$BENCH_VAR_DIR/hello
if [[ ! -f $HELLO_DIR/hello/urls.py ]]; then
  rm -rf "$HELLO_DIR" && mkdir -p "$HELLO_DIR"
  "$BIN/django-admin" startproject hello "$HELLO_DIR"
  cat >>"$HELLO_DIR/hello/urls.py" <<'EOF'

from django.http import HttpResponse


def hello(request):
    return HttpResponse("Hello, world")


urlpatterns += [path("hello/", hello)]
EOF
  sed -i 's/^DEBUG = True/DEBUG = False/; s/^ALLOWED_HOSTS = \[\]/ALLOWED_HOSTS = ["127.0.0.1"]/' \
    "$HELLO_DIR/hello/settings.py"
fi

start_gunicorn() {  # port, wsgi module, extra env...
  local port=$1 module=$2
  shift 2
  env "$@" GUNICORN_BIND=127.0.0.1:$port WEB_CONCURRENCY=$BENCH_WORKERS GUNICORN_ACCESSLOG="" \
    GUNICORN_ERRORLOG="$RESULTS/gunicorn-$port.log" \
    taskset -c "$BENCH_SERVER_CPU" "$BIN/gunicorn" -c "$ROOT/deploy/gunicorn.conf.py" "$module" &
  PIDS+=($!)
}

wait_for() {
  for _ in $(seq 100); do
    curl -fs -o /dev/null -H "User-Agent: bench-probe" "$1" && return 0
    sleep 0.1
  done
  echo "no answer from $1; see $RESULTS/gunicorn-*.log" >&2
  exit 1
}

HELLO_PORT=$(free_port)
start_gunicorn "$HELLO_PORT" hello.wsgi PYTHONPATH="$HELLO_DIR" DJANGO_SETTINGS_MODULE=hello.settings
wait_for "http://127.0.0.1:$HELLO_PORT/hello/"

# --- the blog, production settings ----------------------------------------------------------
export DJANGO_ENV=production DJANGO_SECURE_SSL_REDIRECT=false DJANGO_LOG_LEVEL=WARNING
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-bench-only-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}
export DJANGO_ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=$BENCH_DATABASE_URL REDIS_URL=$BENCH_REDIS_URL
export BLOG_VAR_DIR=$BENCH_VAR_DIR/blog DJANGO_STATIC_ROOT=$BENCH_VAR_DIR/blog/static CELERY_BROKER_URL=memory://
mkdir -p "$BLOG_VAR_DIR"
"$PYTHON" manage.py collectstatic --noinput -v0
"$PYTHON" -c "import redis, os; redis.Redis.from_url(os.environ['REDIS_URL']).flushdb()"
BLOG_PORT=$(free_port)
start_gunicorn "$BLOG_PORT" blog_project.wsgi
wait_for "http://127.0.0.1:$BLOG_PORT/"

# URLs from the data, the cookies a returning reader and a commenter hold, and a way to read
# today's page-view counter.
eval "$("$PYTHON" - <<'EOF'
import os
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")
django.setup()
from datetime import timedelta
from django.utils import timezone
from django.utils.crypto import get_random_string
from articles.models import Article, Tag
from comments.sections import remembered_author_cookie

public = Article.objects.published()
article = public.filter(comment_count__gt=3).order_by("-published_at")[50:51].first() or public.first()
tag = Tag.objects.filter(published_count__gt=0).order_by("-published_count").first()
month = timezone.localtime(public.order_by("-published_at").values_list("published_at", flat=True)[200])
yesterday = timezone.localdate() - timedelta(days=1)
cookies = f"csrftoken={get_random_string(32)}; blog_vid={yesterday:%Y%m%d}.{get_random_string(22)}"
commenter = remembered_author_cookie(
    {"author_name": "Ada 洛芙莱斯", "author_email": "ada@example.com", "author_url": "", "notify_on_reply": True}
)
print(f"ARTICLE='{article.get_absolute_url()}'")
print(f"CATEGORY='{article.category.get_absolute_url()}'")
print(f"TAG='{tag.get_absolute_url() if tag else '/'}'")
print(f"MONTH='/archives/{month.year}/{month.month}/'")
print(f"READER_COOKIES='{cookies}'")
print(f"COMMENTER_COOKIES='{cookies}; comment_author={commenter}'")
print(f"ARTICLES={public.count()}")
EOF
)"
counted_views() {
  "$PYTHON" - <<'EOF'
import os
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")
django.setup()
from django.utils import timezone
from stats.backends import get_backend

snapshot = get_backend().snapshot(timezone.localdate())
print(snapshot.site.pv if snapshot else 0)
EOF
}

# name, path, headers kind (hello / new / reader / commenter)
ROWS=("hello /hello/ hello")
for page in "home /" "article $ARTICLE" "category $CATEGORY" "search /search/?q=redis"; do
  read -r page_name page_path <<<"$page"
  for kind in new reader commenter; do ROWS+=("$page_name-$kind $page_path $kind"); done
done
ROWS+=("tag-reader $TAG reader" "month-reader $MONTH reader")
if [[ -n ${BENCH_ROWS:-} ]]; then
  selected=()
  for spec in "${ROWS[@]}"; do
    read -r name _ <<<"$spec"
    [[ " hello $BENCH_ROWS " == *" $name "* ]] && selected+=("$spec")
  done
  ROWS=("${selected[@]}")
fi

run_wrk() {  # name path kind duration outfile -> "requests req/s p50 p99"
  local name=$1 path=$2 kind=$3 duration=$4 out=$5 url
  local args=(-t1 -c"$BENCH_CONNECTIONS" -d"$duration" --latency -H "User-Agent: $UA"
    -H "Accept-Language: $LANGUAGE" -H "Accept-Encoding: $ENCODING")
  case $kind in
    hello) url="http://127.0.0.1:$HELLO_PORT$path"; args+=(-H "Cookie: $READER_COOKIES") ;;
    new) url="http://127.0.0.1:$BLOG_PORT$path" ;;
    reader) url="http://127.0.0.1:$BLOG_PORT$path"; args+=(-H "Cookie: $READER_COOKIES") ;;
    commenter) url="http://127.0.0.1:$BLOG_PORT$path"; args+=(-H "Cookie: $COMMENTER_COOKIES") ;;
  esac
  taskset -c "$BENCH_WRK_CPU" wrk "${args[@]}" "$url" >"$out"
  if grep -qE 'Non-2xx|Socket errors' "$out"; then
    log "errors on $name: $(grep -E 'Non-2xx|Socket errors' "$out" | tr '\n' ' ')"
    echo "$name" >>"$RESULTS/errors"
  fi
  awk '/requests in/ {n=$1} /Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%d %d %s %s\n", n, rps, p50, p99}' "$out"
}

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v/1000; else if (v ~ /ms$/) printf "%.2f", v+0; else printf "%.2f", v*1000 }'; }

before=$(counted_views)
COUNTED=0 COUNTED_RUNS=0
for spec in "${ROWS[@]}"; do  # every page is rendered and stored once before anything is timed
  read -r name path kind <<<"$spec"
  [[ $kind == hello ]] && continue
  curl -fs -o /dev/null -A "$UA" "http://127.0.0.1:$BLOG_PORT$path"
  COUNTED=$((COUNTED + 1))  # a counted view too (written by the time the servers stop)
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A SUM_RPS=() WORST_P99=() WORST_P50=() WORST_RATIO=() RUNS=()
for round in $(seq "$BENCH_ROUNDS"); do
  for spec in "${ROWS[@]}"; do
    read -r name path kind <<<"$spec"
    read -r warm_n _ _ _ < <(run_wrk "$name" "$path" "$kind" "$BENCH_WARMUP" "$RESULTS/$name-$round-warmup.txt")
    read -r n rps p50 p99 < <(run_wrk "$name" "$path" "$kind" "$BENCH_DURATION" "$RESULTS/$name-$round.txt")
    [[ $kind == hello ]] || { COUNTED=$((COUNTED + warm_n + n)); COUNTED_RUNS=$((COUNTED_RUNS + 2)); }
    log "$(printf '%-20s round %s %6s req/s  p50 %-8s p99 %s' "$name" "$round" "$rps" "$p50" "$p99")"
    SUM_RPS[$name]=$((${SUM_RPS[$name]:-0} + rps))
    RUNS[$name]="${RUNS[$name]:-} $rps"
    p99ms=$(to_ms "$p99") p50ms=$(to_ms "$p50")
    ratio=$(awk -v a="$p99ms" -v b="$p50ms" 'BEGIN {printf "%.1f", (b > 0) ? a / b : 0}')
    bigger() { awk -v a="$1" -v b="${2:-0}" 'BEGIN {exit !(a > b)}'; }
    if bigger "$p99ms" "${WORST_P99[$name]:-}"; then WORST_P99[$name]=$p99ms; fi
    if bigger "$p50ms" "${WORST_P50[$name]:-}"; then WORST_P50[$name]=$p50ms; fi
    if bigger "$ratio" "${WORST_RATIO[$name]:-}"; then WORST_RATIO[$name]=$ratio; fi
  done
done
stop_servers  # first: each worker writes the views it holds as it exits (STATS_FLUSH_SECONDS)
after=$(counted_views)

hello_rps=$((SUM_RPS[hello] / BENCH_ROUNDS))
{
  echo "# Reader pages beside a plain Django hello world ($BENCH_LABEL, $ARTICLES public articles)"
  echo
  echo "$(date -Is); $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs));"
  echo "gunicorn (deploy/gunicorn.conf.py) with $BENCH_WORKERS sync workers on CPU $BENCH_SERVER_CPU, wrk -t1"
  echo "-c$BENCH_CONNECTIONS -d$BENCH_DURATION (after $BENCH_WARMUP of warm-up) on CPU $BENCH_WRK_CPU; mean of $BENCH_ROUNDS rounds."
  echo "Code: $(git rev-parse --short HEAD 2>/dev/null || echo '?') ($(git status --porcelain 2>/dev/null | wc -l) files changed in the work tree)."
  echo "Load average before / after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)."
  echo
  echo "| row | req/s (each round) | % of plain hello | p50 ms (worst) | p99 ms (worst) | p99/p50 (worst run) |"
  echo "|---|---:|---:|---:|---:|---:|"
  for spec in "${ROWS[@]}"; do
    read -r name path _ <<<"$spec"
    rps=$((SUM_RPS[$name] / BENCH_ROUNDS))
    pct=$(awk -v a="$rps" -v b="$hello_rps" 'BEGIN {printf "%.0f%%", 100 * a / b}')
    echo "| $name \`$path\` | $rps (${RUNS[$name]# }) | $pct | ${WORST_P50[$name]} | ${WORST_P99[$name]} | ${WORST_RATIO[$name]} |"
    printf '{"row": "%s", "path": "%s", "rps": %s, "hello_rps": %s, "p50_ms": %s, "p99_ms": %s, "p99_over_p50": %s}\n' \
      "$name" "$path" "$rps" "$hello_rps" "${WORST_P50[$name]}" "${WORST_P99[$name]}" "${WORST_RATIO[$name]}" \
      >>"$RESULTS/rows.jsonl"
  done
  echo
  echo "Counted views: $((after - before)) recorded for $COUNTED requests completed on counted rows (wrk's, and one fetch per row before)"
  echo "(in flight when a run stopped: at most $BENCH_CONNECTIONS per run, $COUNTED_RUNS runs)."
} >"$SUMMARY"
cat "$SUMMARY"
echo "Raw results: $RESULTS"
echo "$RESULTS" >"${BENCH_RESULTS_POINTER:-/dev/null}"
recorded=$((after - before))
if ((recorded < COUNTED || recorded > COUNTED + BENCH_CONNECTIONS * COUNTED_RUNS)); then
  echo "COUNTING MISMATCH: $recorded views recorded, $COUNTED requests completed on counted rows" >&2
  exit 1
fi
[[ ! -f $RESULTS/errors ]]
