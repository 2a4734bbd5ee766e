#!/usr/bin/env bash
# The compose topology on this machine, without Docker, in the foreground:
#
#   nginx (least_conn, serves /media/) -> CLUSTER_REPLICAS gunicorn masters on loopback ports
#   one Celery worker, exactly one Celery beat (DatabaseScheduler, pidfile-locked)
#   on the MariaDB and Redis named by DATABASE_URL and REDIS_URL.
#
#   DATABASE_URL=mysql://root@127.0.0.1:3306/blog REDIS_URL=redis://127.0.0.1:6379/0 make cluster
#
# It migrates, collects static files (hashed + compressed, as in the image), renders
# deploy/nginx.conf for loopback, starts everything, waits until all of it answers, then
# writes $CLUSTER_DIR/ready and stays in the foreground. Each process runs under a small
# supervisor loop (like compose's `restart: unless-stopped`): if a gunicorn master, the
# worker, beat or nginx dies, it is started again after a short pause (doubling up to 30 s
# while it keeps dying), and meanwhile nginx sends requests to the other replicas. Ctrl-C
# (or SIGTERM) stops every process it started, supervisors first.
#
# Environment (defaults in brackets):
#   DATABASE_URL, REDIS_URL   required
#   CLUSTER_DIR               state, logs, static, media, nginx files  [var/cluster]
#   CLUSTER_HOST, CLUSTER_PORT  where nginx listens                     [127.0.0.1, 8080]
#   CLUSTER_REPLICAS          gunicorn masters                          [3]
#   CLUSTER_WEB_PORTS         their ports, space-separated              [CLUSTER_PORT+1 ...]
#   WEB_CONCURRENCY           gunicorn workers per replica              [2]
#   CELERY_CONCURRENCY        worker processes                          [1]
#   DJANGO_SECRET_KEY         generated once into CLUSTER_DIR/secret_key when unset
#   DJANGO_SECURE_SSL_REDIRECT  false here: nginx listens on plain http [false]
#   NGINX                     the nginx binary                          [/usr/sbin/nginx]
#
# $CLUSTER_DIR/run/NAME.pid holds the current pid of each supervised process (web-1 ...
# web-N, worker, beat, nginx).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

: "${DATABASE_URL:?set DATABASE_URL, e.g. mysql://root@127.0.0.1:3306/blog}"
: "${REDIS_URL:?set REDIS_URL, e.g. redis://127.0.0.1:6379/0}"
CLUSTER_DIR=$(mkdir -p "${CLUSTER_DIR:-$ROOT/var/cluster}" && cd "${CLUSTER_DIR:-$ROOT/var/cluster}" && pwd)
CLUSTER_HOST=${CLUSTER_HOST:-127.0.0.1}
CLUSTER_PORT=${CLUSTER_PORT:-8080}
CLUSTER_REPLICAS=${CLUSTER_REPLICAS:-3}
if [[ -z "${CLUSTER_WEB_PORTS:-}" ]]; then
  CLUSTER_WEB_PORTS=$(seq -s ' ' $((CLUSTER_PORT + 1)) $((CLUSTER_PORT + CLUSTER_REPLICAS)))
fi
read -r -a WEB_PORTS <<<"$CLUSTER_WEB_PORTS"
if ((${#WEB_PORTS[@]} != CLUSTER_REPLICAS)); then
  echo "CLUSTER_WEB_PORTS must list $CLUSTER_REPLICAS ports" >&2
  exit 2
fi
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PYTHON")
NGINX=${NGINX:-/usr/sbin/nginx}
LOGS=$CLUSTER_DIR/logs
mkdir -p "$LOGS" "$CLUSTER_DIR/nginx/temp" "$CLUSTER_DIR/var"
rm -f "$CLUSTER_DIR/ready"

# The production settings, as in compose.yaml, but plain http on loopback and no eager tasks.
export DATABASE_URL REDIS_URL
export DJANGO_ENV=production
export DJANGO_SECURE_SSL_REDIRECT=${DJANGO_SECURE_SSL_REDIRECT:-false}
export CELERY_TASK_ALWAYS_EAGER=false
export BLOG_CLIENT_IP_HEADER=X-Real-IP  # set by nginx, as in compose.yaml
# Links in mails and feeds point at nginx unless the site has a public address of its own.
export BLOG_SITE_URL=${BLOG_SITE_URL:-http://$CLUSTER_HOST:$CLUSTER_PORT}
export BLOG_VAR_DIR=${BLOG_VAR_DIR:-$CLUSTER_DIR/var}
export DJANGO_STATIC_ROOT=${DJANGO_STATIC_ROOT:-$CLUSTER_DIR/static}
export DJANGO_MEDIA_ROOT=${DJANGO_MEDIA_ROOT:-$CLUSTER_DIR/media}
export WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
export DJANGO_SETTINGS_MODULE=blog_project.settings
if [[ -z "${DJANGO_SECRET_KEY:-}" ]]; then
  if [[ ! -s "$CLUSTER_DIR/secret_key" ]]; then
    (umask 077 && "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$CLUSTER_DIR/secret_key")
  fi
  DJANGO_SECRET_KEY=$(<"$CLUSTER_DIR/secret_key")
fi
export DJANGO_SECRET_KEY
mkdir -p "$DJANGO_MEDIA_ROOT" "$DJANGO_STATIC_ROOT"

log() { printf '[cluster] %s\n' "$*"; }

# --- the one-shot steps of compose's `migrate` service and the image build ----------------
log "migrating $(sed -E 's#//([^:@/]+):[^@]*@#//\1:***@#' <<<"$DATABASE_URL")"
# migrate runs the blog's start-up checks first (blog_project/checks.py): a database that
# does not answer, or MariaDB without its time zone tables, stops here with one line.
"$PYTHON" manage.py migrate --noinput -v0
# Today's counters and the queued tasks live only in Redis: one that does not persist loses
# them when it restarts (docs/production.md, Operations). Said once here; CONFIG may be disabled (then quiet).
if [[ $("$PYTHON" -c 'import os, redis
try:
    print(redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2).config_get("appendonly").get("appendonly", ""))
except redis.RedisError:
    pass' 2>/dev/null) == no ]]; then
  log "WARNING: the Redis in REDIS_URL does not persist (appendonly no): a restart loses today's" \
    "counters and queued tasks; start it with deploy/redis.conf (scripts/services does)"
fi
log "collecting static files into $DJANGO_STATIC_ROOT"
"$PYTHON" manage.py collectstatic --noinput -v0

# --- nginx: deploy/nginx.conf rendered for loopback ----------------------------------------
UPSTREAM=""
for port in "${WEB_PORTS[@]}"; do UPSTREAM+="    server 127.0.0.1:$port max_fails=1 fail_timeout=5s;\n"; done
sed -e '/# cluster: drop$/d' \
    -e "s|^ *server web:8000 resolve;  # cluster: upstream servers\$|${UPSTREAM%\\n}|" \
    -e "s|^\( *\)listen 80 default_server;  # cluster: listen\$|\1listen $CLUSTER_HOST:$CLUSTER_PORT default_server;|" \
    -e "s|^\( *\)access_log .*  # cluster: access_log\$|\1access_log $LOGS/nginx-access.log blog;|" \
    -e "s|^\( *\)alias /srv/media/;  # cluster: media\$|\1alias $DJANGO_MEDIA_ROOT/;|" \
    deploy/nginx.conf >"$CLUSTER_DIR/nginx/blog.conf"
if grep -qE 'web:8000|/srv/media|listen 80 |cluster: drop' "$CLUSTER_DIR/nginx/blog.conf"; then
  echo "deploy/nginx.conf changed shape: cluster.sh could not render it" >&2
  exit 2
fi
NGINX_USER=""
if ((EUID == 0)); then NGINX_USER="user $(id -un) $(id -gn);"; fi
# Workers, connections and open files as compose's nginx (deploy/nginx-main.conf).
NGINX_WORKERS=$(grep -E '^worker_(processes|rlimit_nofile) ' deploy/nginx-main.conf)
NGINX_EVENTS=$(sed -n '/^events {$/,/^}$/p' deploy/nginx-main.conf)
if [[ -z "$NGINX_WORKERS" || -z "$NGINX_EVENTS" ]]; then
  echo "deploy/nginx-main.conf changed shape: cluster.sh could not read it" >&2
  exit 2
fi
cat >"$CLUSTER_DIR/nginx/nginx.conf" <<EOF
# Generated by deploy/cluster.sh from deploy/nginx-main.conf and deploy/nginx.conf;
# overwritten on every start.
$NGINX_USER
$NGINX_WORKERS
daemon off;
pid $CLUSTER_DIR/nginx/nginx.pid;
error_log $LOGS/nginx-error.log warn;
$NGINX_EVENTS
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path $CLUSTER_DIR/nginx/temp/client_body;
    proxy_temp_path $CLUSTER_DIR/nginx/temp/proxy;
    fastcgi_temp_path $CLUSTER_DIR/nginx/temp/fastcgi;
    uwsgi_temp_path $CLUSTER_DIR/nginx/temp/uwsgi;
    scgi_temp_path $CLUSTER_DIR/nginx/temp/scgi;
    include $CLUSTER_DIR/nginx/blog.conf;
}
EOF
NGINX_ARGS=(-p "$CLUSTER_DIR/nginx/" -c "$CLUSTER_DIR/nginx/nginx.conf" -e "$LOGS/nginx-error.log")
"$NGINX" "${NGINX_ARGS[@]}" -t -q

# --- start everything under supervisors; stop everything on the way out --------------------
RUN=$CLUSTER_DIR/run
mkdir -p "$RUN"
PIDS=()  # the supervisors

# supervise NAME COMMAND...: run COMMAND, and start it again whenever it exits, until this
# supervisor gets SIGTERM (then it stops COMMAND and exits). COMMAND's pid is in $RUN/NAME.pid.
supervise() {
  local name=$1
  shift
  (
    set +e  # a child's failure is what this loop handles
    child=0 stopping=0 pause=1
    trap 'stopping=1; ((child)) && kill -TERM "$child" 2>/dev/null' TERM INT
    while ((!stopping)); do
      started=$SECONDS
      "$@" &
      child=$!
      echo "$child" >"$RUN/$name.pid"
      # wait returns early when a trapped signal arrives: wait again until the child is gone.
      wait "$child"
      status=$?
      while kill -0 "$child" 2>/dev/null; do
        wait "$child"
        status=$?
      done
      child=0
      ((stopping)) && break
      ((SECONDS - started > 60)) && pause=1  # it ran for a while: a fresh failure
      log "$name exited (status $status); starting it again in ${pause}s"
      sleep "$pause" &
      wait $!
      pause=$((pause * 2 > 30 ? 30 : pause * 2))
    done
  ) &
  PIDS+=($!)
}

descendants() {
  local pid child
  for pid in "$@"; do
    for child in $(pgrep -P "$pid" || true); do
      echo "$child"
      descendants "$child"
    done
  done
}

stop_all() {
  trap - EXIT INT TERM
  log "stopping ${#PIDS[@]} supervised processes"
  # Every descendant by pid (gunicorn and celery workers too), in case a parent is stuck.
  local all=("${PIDS[@]}" $(descendants "${PIDS[@]}")) pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    alive=0
    for pid in "${all[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${all[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for i in "${!WEB_PORTS[@]}"; do
  n=$((i + 1))
  GUNICORN_BIND=127.0.0.1:${WEB_PORTS[$i]} GUNICORN_ACCESSLOG=$LOGS/web-$n-access.log \
    GUNICORN_ERRORLOG=$LOGS/web-$n.log \
    supervise "web-$n" "$BIN/gunicorn" -c deploy/gunicorn.conf.py --name "blog-web-$n" blog_project.wsgi \
    >>"$LOGS/web-$n.log" 2>&1
done
supervise worker "$BIN/celery" -A blog_project worker --loglevel=info \
  --concurrency="${CELERY_CONCURRENCY:-1}" --hostname="cluster-worker@%h" >>"$LOGS/worker.log" 2>&1
# The pidfile makes a second beat on this machine refuse to start (a stale one, left by a
# beat that was killed, is removed by celery once its process is gone).
supervise beat "$BIN/celery" -A blog_project beat --loglevel=info \
  --scheduler=django_celery_beat.schedulers:DatabaseScheduler \
  --pidfile="$CLUSTER_DIR/beat.pid" >>"$LOGS/beat.log" 2>&1
supervise nginx "$NGINX" "${NGINX_ARGS[@]}"

ready() {
  for port in "${WEB_PORTS[@]}"; do
    curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" || return 1
  done
  curl -fs -o /dev/null --max-time 2 "http://$CLUSTER_HOST:$CLUSTER_PORT/readyz" || return 1
  grep -q ' ready\.' "$LOGS/worker.log" || return 1
  grep -q 'beat: Starting' "$LOGS/beat.log" || return 1
}
for _ in $(seq 240); do
  ready && break
  for pid in "${PIDS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "a process exited during start-up; see $LOGS" >&2
      tail -n 20 "$LOGS"/*.log >&2 || true
      exit 1
    fi
  done
  sleep 0.25
done
ready || { echo "the cluster did not come up within 60 s; see $LOGS" >&2; exit 1; }

{
  echo "url=http://$CLUSTER_HOST:$CLUSTER_PORT/"
  echo "web_ports=${WEB_PORTS[*]}"
  echo "pids=${PIDS[*]}"
  echo "run=$RUN"
} >"$CLUSTER_DIR/ready"
log "up: http://$CLUSTER_HOST:$CLUSTER_PORT/ -> gunicorn on ${WEB_PORTS[*]} (x$WEB_CONCURRENCY workers)," \
  "1 celery worker, 1 beat, each started again if it dies. Logs: $LOGS. Ctrl-C stops everything."

# Foreground until Ctrl-C or SIGTERM. The supervisors end only when told to; if one ends
# anyway (killed itself), stop the rest and fail rather than run without it.
set +e
wait -n "${PIDS[@]}"
status=$?
log "a supervisor exited (status $status); stopping the cluster"
exit 1
