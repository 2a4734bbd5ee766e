"""Redis keeps what exists nowhere else (today's PV/UV counters, the broker's queue) across
a restart, wherever the docs run it: a redis-server started with the options
scripts/services uses (deploy/redis.conf) is killed and started again, and the counters and
the queued message are still there. compose.yaml passes the same settings as flags."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import redis
from django.utils import timezone
from ruamel.yaml import YAML

from stats.backends import Figures, RedisBackend
from tests.faults import RedisServer

ROOT = Path(__file__).resolve().parent.parent
PER_MACHINE = {"--daemonize", "--port", "--bind", "--dir"}  # the test's own server differs there


def services_redis_options() -> list[str]:
    """The options scripts/services starts Redis with, but where it listens and keeps files."""
    line = re.search(r"^\s*redis-server (.*)$", (ROOT / "scripts/services").read_text(), re.M).group(1)
    words = shlex.split(line.replace("$ROOT", str(ROOT)))
    options, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in PER_MACHINE:
            skip = True
        else:
            options.append(word)
    return options


def test_scripts_services_runs_redis_with_the_append_only_file():
    options = services_redis_options()
    assert options[0] == str(ROOT / "deploy/redis.conf")
    lines = (ROOT / "deploy/redis.conf").read_text().splitlines()
    config = dict(line.split(None, 1) for line in lines if line[:1].isalpha())
    assert config["appendonly"] == "yes"
    # compose.yaml's Redis: the same persistence and eviction policy, as flags.
    compose = YAML(typ="safe").load((ROOT / "compose.yaml").read_text())
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == config["maxmemory-policy"]


def test_counters_and_queued_tasks_survive_a_restart(tmp_path):
    server = RedisServer(tmp_path, options=services_redis_options()).start()
    today = timezone.localdate()
    try:
        client = redis.Redis(port=server.port)
        counters = RedisBackend(client)
        for visitor in ("reader-a", "reader-b", "reader-a"):
            counters.record(day=today, visitor=visitor)
        redis.Redis(port=server.port, db=1).lpush("celery", '{"task": "comments.tasks.notify_reply"}')
        client.close()
        server.kill()  # SIGKILL: no shutdown save
        server.start()
        client = redis.Redis(port=server.port)
        assert RedisBackend(client).site_day(today) == Figures(pv=3, uv=2)
        assert redis.Redis(port=server.port, db=1).llen("celery") == 1
        client.close()
        assert (tmp_path / "appendonlydir").is_dir() or (tmp_path / "appendonly.aof").is_file()
    finally:
        server.stop()
