"""The production topology declared in compose.yaml, Dockerfile and deploy/nginx.conf:
nginx (least_conn) in front of several web replicas, one worker service, exactly one beat,
healthchecked MariaDB and Redis, migrations before start, a shared media volume, and no
secret committed. (deploy/cluster.sh runs the same topology; tests/test_cluster.py proves it.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return YAML(typ="safe").load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def _replicas(service: dict) -> int:
    return int(service.get("deploy", {}).get("replicas", 1))


def _volume_target(service: dict, volume: str) -> str:
    for spec in service.get("volumes", []):
        source, target, *_mode = spec.split(":")
        if source == volume:
            return target
    raise AssertionError(f"volume {volume!r} is not mounted")


def test_services_of_the_stack(services):
    assert set(services) == {"nginx", "web", "worker", "beat", "migrate", "db", "redis"}


def test_web_runs_several_gunicorn_replicas_with_the_shared_config(services):
    web = services["web"]
    assert _replicas(web) > 1
    assert _command(web).startswith("gunicorn -c deploy/gunicorn.conf.py blog_project.wsgi")
    assert "container_name" not in web  # a fixed name would forbid replicas
    assert web["environment"]["DJANGO_ENV"] == "production"


def test_exactly_one_beat_that_cannot_be_scaled(services):
    beats = [name for name, service in services.items() if re.search(r"\bbeat\b", _command(service))]
    assert beats == ["beat"]
    beat = services["beat"]
    assert _replicas(beat) == 1
    assert beat["container_name"]  # compose refuses to scale a service with a fixed name
    assert _command(beat).startswith("celery -A blog_project beat")
    assert "--scheduler=django_celery_beat.schedulers:DatabaseScheduler" in _command(beat)
    # No worker embeds a scheduler of its own (-B / --beat).
    for name, service in services.items():
        if " worker" in _command(service):
            assert not re.search(r"(^|\s)(-B|--beat)(\s|$)", _command(service)), name


def test_worker_and_beat_reuse_the_web_definition(services):
    web = services["web"]
    assert _command(services["worker"]).startswith("celery -A blog_project worker")
    for name in ("worker", "beat", "migrate"):
        service = services[name]
        assert service["image"] == web["image"], name
        assert service["build"] == web["build"], name
        assert service["environment"] == web["environment"], name
        assert service["env_file"] == web["env_file"], name


def test_migrations_run_once_before_the_app_starts(services):
    assert _command(services["migrate"]) == "python manage.py migrate --noinput"
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["db"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
    assert services["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"


def test_healthchecks(services):
    for name in ("nginx", "web", "worker", "db", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert "deploy/healthcheck.py" in services["web"]["healthcheck"]["test"]
    assert "/readyz" in (ROOT / "deploy/healthcheck.py").read_text()  # really asks the database
    assert "healthcheck.sh" in services["db"]["healthcheck"]["test"]


def test_backends_mariadb_utf8mb4_and_redis(services):
    db_args = " ".join(services["db"]["command"])
    assert services["db"]["image"].startswith("mariadb:")
    assert "--character-set-server=utf8mb4" in db_args
    assert "STRICT_TRANS_TABLES" in db_args
    assert services["redis"]["image"].startswith("redis:")
    web_env = services["web"]["environment"]
    assert web_env["DATABASE_URL"].startswith("mysql://blog:") and "@db:3306/blog" in web_env["DATABASE_URL"]
    assert web_env["REDIS_URL"].startswith("redis://redis:6379/")
    # A cache flush must not drop queued tasks or uncounted page views.
    assert len({web_env["REDIS_URL"], web_env["CELERY_BROKER_URL"], web_env["STATS_REDIS_URL"]}) == 3
    assert "volatile-ttl" in services["redis"]["command"]
    assert _volume_target(services["db"], "db-data") == "/var/lib/mysql"


def test_media_volume_is_written_by_web_and_served_by_nginx(compose, services):
    assert "media" in compose["volumes"]
    media_root = services["web"]["environment"]["DJANGO_MEDIA_ROOT"]
    assert _volume_target(services["web"], "media") == media_root
    nginx_media = _volume_target(services["nginx"], "media")
    assert any(spec == f"media:{nginx_media}:ro" for spec in services["nginx"]["volumes"])
    conf = (ROOT / "deploy/nginx.conf").read_text()
    assert re.search(rf"location /media/ \{{\s*alias {re.escape(nginx_media)}/;", conf)


def test_nginx_balances_least_conn_over_the_web_service(services):
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["nginx"]["volumes"]
    conf = (ROOT / "deploy/nginx.conf").read_text()
    upstream = re.search(r"upstream (\w+) \{(.*?)\}", conf, re.S)
    assert upstream, "no upstream block"
    name, body = upstream.groups()
    assert re.search(r"^\s*least_conn;", body, re.M)
    assert re.search(r"^\s*server web:8000\b", body, re.M)
    assert f"proxy_pass http://{name};" in conf
    assert "X-Forwarded-Proto" in conf and "X-Forwarded-For" in conf
    # The scheme is nginx's own unless a listed TLS terminator says otherwise (never the
    # client's header as it came): tests/test_cluster.py sends one and sees http.
    scheme = re.search(
        r'map "\$blog_trusted_proxy:\$http_x_forwarded_proto" \$blog_forwarded_proto \{(.*?)\}', conf, re.S
    )
    assert scheme and re.search(r"^\s*default\s+\$scheme;", scheme.group(1), re.M)
    assert re.search(r"^\s*default 0;", re.search(r"geo .*?\{(.*?)\}", conf, re.S).group(1), re.M)
    assert "proxy_set_header X-Forwarded-Proto $blog_forwarded_proto;" in conf


def test_nginx_passes_the_apps_answers_on_and_holds_a_slow_crowd(services):
    """Only a refused or timed-out connection sends a request to another replica (an app's
    503 never takes replicas out); the workers and their limits come from nginx-main.conf,
    in compose as in make cluster (tests/test_front_door.py runs both against the cluster)."""
    conf = (ROOT / "deploy/nginx.conf").read_text()
    assert re.findall(r"^\s*proxy_next_upstream\s+([^;]*);", conf, re.M) == ["error timeout"]
    assert re.search(r"^\s*limit_conn_zone \$blog_client_key zone=(\w+):", conf, re.M)
    assert re.search(r"^\s*limit_conn blog_per_client \d+;", conf, re.M)
    for directive in ("client_header_timeout", "client_body_timeout", "send_timeout", "keepalive_timeout"):
        seconds = re.search(rf"^\s*{directive} (\d+)s;", conf, re.M)
        assert seconds and int(seconds.group(1)) <= 15, directive
    assert "./deploy/nginx-main.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    main = (ROOT / "deploy/nginx-main.conf").read_text()
    assert re.search(r"^worker_processes auto;", main, re.M)
    files = int(re.search(r"^worker_rlimit_nofile (\d+);", main, re.M).group(1))
    connections = int(re.search(r"^\s*worker_connections (\d+);", main, re.M).group(1))
    assert connections >= 4096 and files >= 2 * connections
    assert services["nginx"]["ulimits"]["nofile"] >= files
    assert "include /etc/nginx/conf.d/*.conf;" in main


def test_the_app_reads_the_client_address_nginx_sets(services):
    """Behind nginx REMOTE_ADDR is nginx: rate limits and visitor hashes need X-Real-IP, which
    nginx overwrites whatever the client sent."""
    assert services["web"]["environment"]["BLOG_CLIENT_IP_HEADER"] == "X-Real-IP"
    conf = (ROOT / "deploy/nginx.conf").read_text()
    assert re.search(r"^\s*proxy_set_header X-Real-IP \$remote_addr;", conf, re.M)


def test_secret_key_is_required_and_never_committed(services):
    text = (ROOT / "compose.yaml").read_text()
    assert "${DJANGO_SECRET_KEY:?" in text
    assert services["web"]["environment"]["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")
    assert services["db"]["environment"]["MARIADB_PASSWORD"].startswith("${MARIADB_PASSWORD:?")
    # Every secret-looking value in the stack comes from the environment, never a literal.
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"SECRET|PASSWORD", key) and key != "MARIADB_RANDOM_ROOT_PASSWORD":
                assert str(value).startswith("${"), (name, key)
            credentials = re.search(r"://[^:/@]+:([^@]+)@", str(value))
            assert not credentials or credentials.group(1).startswith("${"), (name, key)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.findall(r"DJANGO_SECRET_KEY=(\S+)", dockerfile) == ["collectstatic-build-step-only"]
    assert not re.search(r"SECRET|PASSWORD", (ROOT / "deploy/nginx.conf").read_text())


def test_dockerfile_builds_a_non_root_image_with_static_collected():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    assert "default-libmysqlclient-dev" in dockerfile and "pkg-config" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}
    collect = re.search(r"^RUN (.*?collectstatic.*?)$", dockerfile, re.M | re.S)
    assert collect and "DJANGO_SECRET_KEY=" in collect.group(1)  # only for that command
    assert not re.search(r"^ENV[^\n]*(\\\n[^\n]*)*DJANGO_SECRET_KEY", dockerfile, re.M)
    assert not re.search(r"^ARG\s+DJANGO_SECRET_KEY", dockerfile, re.M)


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", "var"} <= ignored
