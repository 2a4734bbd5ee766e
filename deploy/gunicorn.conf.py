"""gunicorn settings shared by `make run`, the compose web service, deploy/cluster.sh and bench/.

Sync workers: nginx buffers slow clients in front of them, and a page is a few
milliseconds of CPU, so threads would only add contention. Every value can be overridden
from the environment (listed in .env.example).
"""

import gc
import math
import multiprocessing
import os
from pathlib import Path

# A web request never waits longer than this for one database query (a hung MariaDB): the
# reader gets the 503 page before the worker timeout. Read by the settings.
os.environ.setdefault("DATABASE_READ_TIMEOUT", "20")

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")


def cpus(cpu_max: str = "/sys/fs/cgroup/cpu.max") -> int:
    """CPUs this process may use: the container's CPU limit (cgroup v2 cpu.max) or affinity,
    not the node's count, which a pod limited to one core on a 64-core node would report."""
    try:
        quota, period = Path(cpu_max).read_text().split()
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return multiprocessing.cpu_count()


# Set WEB_CONCURRENCY explicitly where the CPU is shared or limited (deploy/k8s sets it).
workers = int(os.environ.get("WEB_CONCURRENCY") or min(4, cpus() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "sync" if threads == 1 else "gthread"
# A sync worker is busy for the whole request, reading included: a client that sends its
# headers slowly holds it until this timeout kills it. Behind nginx that never happens
# (nginx reads each request whole first); never expose the web port to anything else.
# Longer than DATABASE_READ_TIMEOUT, so a hung database gets the 503 page, not a kill.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then (a leak cannot grow forever), rarely: a busy worker serves a
# few thousand pages a second, and every restart is a visible latency spike. The jitter
# keeps them from restarting all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "200000"))
max_requests_jitter = max_requests // 10

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


def on_starting(server) -> None:
    """Before listening or starting workers: the blog's start-up checks (blog_project/checks.py).

    A configuration mistake (a malformed DATABASE_URL, a database that does not answer or
    refuses the credentials, MariaDB without its time zone tables) stops the start with one
    line each, instead of workers failing page by page; a Redis that does not answer is one
    warning line (pages are served without it)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")
    if os.environ["DJANGO_SETTINGS_MODULE"] != "blog_project.settings":
        return  # another project served with this config (bench/pages.sh's plain hello)
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
        from blog_project.checks import startup_report

        errors, warnings = startup_report()
    except ImproperlyConfigured as exc:
        errors, warnings = [f"Configuration error: {exc}"], []
    finally:
        # The app is preloaded in this master and forked: no worker may inherit the
        # connections the checks opened.
        from django.db import connections

        connections.close_all()
    for line in warnings:
        server.log.warning(line)
    if errors:
        raise RuntimeError("\n".join(errors))


def post_worker_init(worker):
    # What a worker loaded at start (Django, the apps, the URLs) lives as long as it does:
    # keep it out of the garbage collector's passes, which then pause a page for less.
    gc.freeze()


def worker_exit(server, worker) -> None:
    """The page views this worker counted and has not written yet (stats/counting.py)."""
    if os.environ["DJANGO_SETTINGS_MODULE"] != "blog_project.settings":  # set by on_starting
        return
    from django.apps import apps

    if not apps.is_installed("stats"):  # a build without the stats plugin
        return
    from stats.counting import tally

    tally.flush()
