"""gunicorn settings shared by `make run`, the compose web service, deploy/cluster.sh and bench/.

Sync workers: nginx buffers slow clients in front of them, and a page is a few
milliseconds of CPU, so threads would only add contention. Every value can be overridden
from the environment (listed in .env.example).
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "sync" if threads == 1 else "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then (a leak cannot grow forever), rarely: a busy worker serves a
# few thousand pages a second, and every restart is a visible latency spike. The jitter
# keeps them from restarting all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "200000"))
max_requests_jitter = max_requests // 10
# Load the app once in the master: a new or recycled worker is a fork, ready at once, and
# shares the loaded code's memory with its siblings.
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
# Request time in ms and the worker pid, so a log line says which process served it and how fast.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s'
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# In a container /tmp may sit on overlayfs, where the worker heartbeat file can stall workers.
_SHM = "/dev/shm"  # noqa: S108 - gunicorn's own recommendation for its heartbeat files
if os.path.isdir(_SHM):
    worker_tmp_dir = _SHM
# gunicorn >= 25 opens a control socket at one fixed per-user path ($HOME/.gunicorn/gunicorn.ctl):
# several masters on one machine (cluster.sh, bench) would fight over it, and in the image
# $HOME is not writable. Nothing here uses gunicornc.
control_socket_disable = True


def pre_fork(server, worker):
    # What the master loaded lives as long as the workers: keep it out of their garbage
    # collections (shorter pauses, and pages of memory stay shared with the master).
    gc.freeze()
