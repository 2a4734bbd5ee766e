"""The Kubernetes manifests (deploy/k8s), validated offline: the base, the production overlay
and the overlay with the ReadWriteMany media volume render with `kubectl kustomize`, every
document passes kubernetes-validate's strict schemas for the versions docs/kubernetes.md
names, and they hold together with each other, with our URLs and settings and with
compose.yaml: one beat, no web pod that migrates, probes that keep cached pages served during
a database outage, only the proxy reaching the web pods, and no secret in git."""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

import kubernetes_validate
import pytest
from django.urls import resolve
from ruamel.yaml import YAML

from blog_project import health
from tests.faults import wait_for
from tests.test_settings import _documented_variables

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy/k8s"
# The versions docs/kubernetes.md names: the oldest upstream still supports, and the newest.
KUBERNETES_VERSIONS = ("1.35", "1.37")
SECRET_KEYS = {"DJANGO_SECRET_KEY", "DATABASE_URL", "AWS_SECRET_ACCESS_KEY", "EMAIL_URL"}
# Files and subprocesses only, the same on either backend: the embedded pass runs them once.
pytestmark = pytest.mark.embedded_only


def _load_all(text: str) -> list[dict]:
    return [doc for doc in YAML(typ="safe").load_all(text) if doc]


@pytest.fixture(scope="module")
def renderings(tmp_path_factory) -> dict[str, list[dict]]:
    """base, production, and production with the media-volume component, rendered from a
    copy of deploy/k8s whose secret.env is the committed example (an operator's own file
    never enters git)."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "install kubectl to render the manifests (docs/kubernetes.md, Validation)"
    tree = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, tree, ignore=shutil.ignore_patterns("secret.env"))
    overlay = tree / "overlays/production"
    shutil.copy(overlay / "secret.env.example", overlay / "secret.env")
    # docs/kubernetes.md's way to the volume instead of the bucket: the component added to
    # the overlay.
    rwx = tree / "overlays/rwx-media"
    shutil.copytree(overlay, rwx)
    with (rwx / "kustomization.yaml").open("a") as kustomization:
        kustomization.write("components:\n  - ../../components/media-volume\n")
    out = {}
    for name, path in {"base": tree / "base", "production": overlay, "rwx-media": rwx}.items():
        result = subprocess.run(
            [kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
        out[name] = _load_all(result.stdout)
    return out


@pytest.fixture(scope="module")
def compose() -> dict:
    return YAML(typ="safe").load((ROOT / "compose.yaml").read_text())["services"]


def _of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] == kind]


def _named(docs: list[dict], kind: str, name: str) -> dict:
    (found,) = [doc for doc in _of_kind(docs, kind) if doc["metadata"]["name"] == name]
    return found


def _pod_specs(docs: list[dict]) -> list[tuple[str, dict, dict]]:
    """(workload name, pod labels, pod spec) of every Deployment and Job."""
    return [
        (
            doc["metadata"]["name"],
            doc["spec"]["template"]["metadata"]["labels"],
            doc["spec"]["template"]["spec"],
        )
        for doc in docs
        if doc["kind"] in ("Deployment", "Job")
    ]


def _containers(spec: dict) -> list[dict]:
    return spec.get("initContainers", []) + spec["containers"]


def _selects(selector: dict, labels: dict) -> bool:
    if "matchLabels" in selector or "matchExpressions" in selector:
        if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
            return False
        for expression in selector.get("matchExpressions", []):
            assert expression["operator"] == "In", expression
            if labels.get(expression["key"]) not in expression["values"]:
                return False
        return True
    return all(labels.get(k) == v for k, v in selector.items())  # a Service's plain selector


def _command(container: dict) -> str:
    return " ".join(container.get("command", []) + container.get("args", []))


def _compose_command(service: dict) -> str:
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else command


def _configmap_data(docs: list[dict], prefix: str) -> dict:
    (config,) = [d for d in _of_kind(docs, "ConfigMap") if d["metadata"]["name"].startswith(prefix)]
    return config["data"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_document_passes_the_strict_schemas(renderings, version):
    for name, docs in renderings.items():
        assert docs, name
        for doc in docs:
            label = f"{name}: {doc['kind']}/{doc['metadata']['name']}"
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{label}: {exc.message}")
    assert f"Kubernetes {version}" in (ROOT / "docs/kubernetes.md").read_text()


def test_the_topology_of_compose(renderings):
    for name, docs in renderings.items():
        deployments = {d["metadata"]["name"] for d in _of_kind(docs, "Deployment")}
        assert deployments == {"web", "proxy", "worker", "beat"}, name
        assert [d["metadata"]["name"].split("-")[0] for d in _of_kind(docs, "Job")] == ["migrate"], name
        assert {d["metadata"]["namespace"] for d in docs} == {"blog"}, name


def test_selectors_match_the_pod_labels(renderings):
    for name, docs in renderings.items():
        pods = _pod_specs(docs)
        for deployment in _of_kind(docs, "Deployment"):
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            assert _selects(deployment["spec"]["selector"], labels), deployment["metadata"]["name"]
        selectors = [(d, d["spec"]["selector"]) for d in _of_kind(docs, "Service")]
        selectors += [(d, d["spec"]["selector"]) for d in _of_kind(docs, "PodDisruptionBudget")]
        selectors += [(d, d["spec"]["podSelector"]) for d in _of_kind(docs, "NetworkPolicy")]
        for doc, selector in selectors:
            label = f"{name}: {doc['kind']}/{doc['metadata']['name']}"
            assert any(_selects(selector, labels) for _w, labels, _s in pods), label
        # No two workloads share a selector: a Service or budget never mixes them.
        for deployment in _of_kind(docs, "Deployment"):
            matching = [w for w, labels, _s in pods if _selects(deployment["spec"]["selector"], labels)]
            assert matching == [deployment["metadata"]["name"]], matching
        for hpa in _of_kind(docs, "HorizontalPodAutoscaler"):
            target = hpa["spec"]["scaleTargetRef"]
            assert _named(docs, target["kind"], target["name"])


def test_service_ports_reach_container_ports(renderings):
    for name, docs in renderings.items():
        pods = _pod_specs(docs)
        for service in _of_kind(docs, "Service"):
            ports = [
                port
                for _w, labels, spec in pods
                if _selects(service["spec"]["selector"], labels)
                for container in spec["containers"]
                for port in container.get("ports", [])
            ]
            for service_port in service["spec"]["ports"]:
                target = service_port["targetPort"]
                assert any(target in (port.get("name"), port["containerPort"]) for port in ports), (
                    f"{name}: Service/{service['metadata']['name']} targets {target!r}"
                )


def test_web_probes_keep_cached_pages_served_during_a_database_outage(renderings):
    for docs in renderings.values():
        (web,) = _named(docs, "Deployment", "web")["spec"]["template"]["spec"]["containers"]
        port_names = {port["name"] for port in web["ports"]}
        probes = {kind: web[f"{kind}Probe"]["httpGet"] for kind in ("startup", "readiness", "liveness")}
        for probe in probes.values():
            assert probe["port"] in port_names
        # Probe paths are ours, answered by the health views.
        assert resolve(probes["liveness"]["path"]).func is health.healthz
        assert resolve(probes["startup"]["path"]).func is health.readyz
        # Readiness asks nothing of the database: an outage must not empty the Service.
        assert resolve(probes["readiness"]["path"]).func is health.healthz


def test_readiness_path_answers_while_the_database_is_down(client, monkeypatch):
    def database_down() -> None:
        raise OSError("database down")

    monkeypatch.setattr(health, "check_database", database_down)
    assert client.get("/readyz").status_code == 503  # the startup probe waits for it
    assert client.get("/healthz").status_code == 200  # readiness and liveness do not


def test_env_keys_exist_in_env_example_and_secrets_stay_in_the_secret(renderings):
    documented = _documented_variables().keys()
    for name, docs in renderings.items():
        config = _configmap_data(docs, "blog-config")
        assert set(config) <= documented, set(config) - documented
        assert not set(config) & SECRET_KEYS, name
        for _workload, _labels, spec in _pod_specs(docs):
            for container in _containers(spec):
                env = {item["name"] for item in container.get("env", [])}
                assert env <= documented, env - documented
                assert not env & SECRET_KEYS
    (secret,) = _of_kind(renderings["production"], "Secret")
    assert set(secret["data"]) <= documented
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL"} <= set(secret["data"])
    config = _configmap_data(renderings["production"], "blog-config")
    assert config["DJANGO_ENV"] == "production"
    assert config["BLOG_MEDIA_STORAGE"] == "s3"  # object storage is the default on Kubernetes
    assert config["BLOG_MEDIA_URL"].startswith("https://")


def test_the_same_image_and_commands_as_compose(renderings, compose):
    compose_image = compose["web"]["image"].rsplit(":", 1)[0]
    commands = {
        "web": _compose_command(compose["web"]),
        "worker": _compose_command(compose["worker"]),
        "beat": _compose_command(compose["beat"]),
        "migrate": _compose_command(compose["migrate"]),
    }
    for name, docs in renderings.items():
        for workload, labels, spec in _pod_specs(docs):
            component = labels["app.kubernetes.io/component"]
            (main,) = spec["containers"]
            if component == "proxy":
                assert main["image"].startswith("nginxinc/nginx-unprivileged:")
                assert (
                    main["image"].split(":")[1].split("-")[0]
                    == compose["nginx"]["image"].split(":")[1].split("-")[0]
                )
                continue
            assert _command(main) == commands[component], f"{name}: {workload}"
            for container in _containers(spec):
                repository, tag = container["image"].rsplit(":", 1)
                assert repository.rsplit("/", 1)[-1] == compose_image, container["image"]
                assert tag and tag != "latest"
        for _workload, _labels, spec in _pod_specs(docs):
            for container in _containers(spec):
                assert ":" in container["image"] and not container["image"].endswith(":latest")


def test_exactly_one_beat_replaced_not_rolled(renderings):
    for name, docs in renderings.items():
        beats = [
            (workload, container)
            for workload, _labels, spec in _pod_specs(docs)
            for container in _containers(spec)
            if re.search(r"\bbeat\b", _command(container))
        ]
        assert [workload for workload, _c in beats] == ["beat"], name
        beat = _named(docs, "Deployment", "beat")
        assert beat["spec"]["replicas"] == 1
        assert beat["spec"]["strategy"] == {"type": "Recreate"}
        labels = beat["spec"]["template"]["metadata"]["labels"]
        for doc in _of_kind(docs, "PodDisruptionBudget"):
            assert not _selects(doc["spec"]["selector"], labels), doc["metadata"]["name"]
        for hpa in _of_kind(docs, "HorizontalPodAutoscaler"):
            assert hpa["spec"]["scaleTargetRef"]["name"] != "beat"
        for workload, _labels, spec in _pod_specs(docs):
            for container in _containers(spec):
                assert not re.search(r"(^|\s)(-B|--beat)(\s|$)", _command(container)), workload


def test_only_the_release_job_migrates_and_everyone_else_waits_for_it(renderings):
    for name, docs in renderings.items():
        (job,) = _of_kind(docs, "Job")
        (migrate,) = job["spec"]["template"]["spec"]["containers"]
        tag = migrate["image"].rsplit(":", 1)[1]
        assert job["metadata"]["name"] == f"migrate-{tag}", name  # a new Job per release
        for deployment in _of_kind(docs, "Deployment"):
            spec = deployment["spec"]["template"]["spec"]
            for container in spec["containers"]:
                assert "migrate" not in _command(container), deployment["metadata"]["name"]
            if deployment["metadata"]["name"] == "proxy":
                continue
            (wait,) = spec["initContainers"]
            assert "manage.py migrate --check" in _command(wait)
            assert "--noinput" not in _command(wait)
            assert wait["image"] == migrate["image"]
    tags = {_of_kind(docs, "Job")[0]["metadata"]["name"] for docs in renderings.values()}
    assert tags == {"migrate-0.1.0", "migrate-1.0.0"}  # the overlay's tag names its Job


def test_pods_run_unprivileged_on_a_read_only_root_with_resources(renderings):
    for name, docs in renderings.items():
        for workload, _labels, spec in _pod_specs(docs):
            assert spec["securityContext"]["runAsNonRoot"] is True, workload
            assert spec["automountServiceAccountToken"] is False, workload
            mounts_tmp = False
            for container in _containers(spec):
                security = container["securityContext"]
                assert security["readOnlyRootFilesystem"] is True, (name, workload)
                assert security["allowPrivilegeEscalation"] is False
                assert security["capabilities"]["drop"] == ["ALL"]
                assert container["resources"]["requests"]["memory"], workload
                assert container["resources"]["limits"]["memory"], workload
                mounts_tmp |= any(m["mountPath"] == "/tmp" for m in container.get("volumeMounts", []))
            assert mounts_tmp, workload
            volumes = {v["name"]: v for v in spec["volumes"]}
            assert "emptyDir" in volumes["tmp"]
        (web,) = _named(docs, "Deployment", "web")["spec"]["template"]["spec"]["containers"]
        env = {item["name"]: item["value"] for item in web["env"]}
        assert int(env["WEB_CONCURRENCY"]) == 2 * int(web["resources"]["limits"]["cpu"])


def test_web_scales_and_survives_disruptions(renderings):
    docs = renderings["production"]
    web = _named(docs, "Deployment", "web")
    hpa = _named(docs, "HorizontalPodAutoscaler", "web")
    budget = _named(docs, "PodDisruptionBudget", "web")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert 1 <= budget["spec"]["minAvailable"] < hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert "replicas" not in web["spec"]  # the autoscaler's count survives every apply


def test_only_the_proxy_reaches_the_web_pods(renderings):
    docs = renderings["production"]
    web_labels = _named(docs, "Deployment", "web")["spec"]["template"]["metadata"]["labels"]
    proxy_labels = _named(docs, "Deployment", "proxy")["spec"]["template"]["metadata"]["labels"]
    policies = [p for p in _of_kind(docs, "NetworkPolicy") if _selects(p["spec"]["podSelector"], web_labels)]
    assert len(policies) == 1
    (policy,) = policies
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert [p["port"] for p in rule["ports"]] == [8000]
    (source,) = rule["from"]
    assert set(source) == {"podSelector"}  # no namespace or address range besides
    assert _selects(source["podSelector"], proxy_labels)
    for workload, labels, _spec in _pod_specs(docs):
        if workload not in ("web", "proxy"):
            closed = [
                p for p in _of_kind(docs, "NetworkPolicy") if _selects(p["spec"]["podSelector"], labels)
            ]
            assert closed and all(not p["spec"].get("ingress") for p in closed), workload


def test_only_the_ingress_controller_reaches_the_proxy_and_the_ingress_reaches_it(renderings):
    docs = renderings["production"]
    proxy = _named(docs, "Deployment", "proxy")
    labels = proxy["spec"]["template"]["metadata"]["labels"]
    (container,) = proxy["spec"]["template"]["spec"]["containers"]
    (policy,) = [p for p in _of_kind(docs, "NetworkPolicy") if _selects(p["spec"]["podSelector"], labels)]
    (rule,) = policy["spec"]["ingress"]
    assert [p["port"] for p in rule["ports"]] == [port["containerPort"] for port in container["ports"]]
    (source,) = rule["from"]
    assert source == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    (ingress,) = _of_kind(docs, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"] for rule in ingress["spec"]["rules"]]
    config = _configmap_data(docs, "blog-config")
    assert set(ingress["spec"]["tls"][0]["hosts"]) <= set(config["DJANGO_ALLOWED_HOSTS"].split(","))
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = _named(docs, "Service", backend["name"])
    assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
    assert _selects(service["spec"]["selector"], labels)


def _nginx_conf(docs: list[dict]) -> str:
    return _configmap_data(docs, "blog-nginx")["default.conf"]


def _directives(conf: str, location: str, name: str) -> list[str]:
    block = conf[conf.index(f"location {location} {{") :]
    block = block[: block.index("\n    }")]
    return sorted(line.strip() for line in block.splitlines() if line.strip().startswith(name))


def test_the_proxy_runs_our_nginx_config_for_kubernetes(renderings):
    compose_conf = (ROOT / "deploy/nginx.conf").read_text()
    for docs in renderings.values():
        conf = _nginx_conf(docs)
        assert not re.search(r"^resolver 127\.0\.0\.11", conf, re.M)  # Docker's DNS: not in a cluster
        assert re.search(r"^resolver kube-dns\.kube-system\.svc\.cluster\.local ", conf, re.M)
        (retry,) = re.findall(r"^\s*proxy_next_upstream (.+);", conf, re.M)
        assert retry == "error timeout"  # never http_502/http_503: the blog's own 503 is final
        # Trusted by the connection's own address (not the one real_ip derived), and the
        # same ranges for the scheme and for the reader's address.
        geo = conf[conf.index("geo $realip_remote_addr $blog_trusted_proxy {") :]
        trusted = re.findall(r"^\s*([\d./]+) 1;", geo[: geo.index("}")], re.M)
        assert trusted and trusted == re.findall(r"^set_real_ip_from ([\d./]+);", conf, re.M)
        assert "real_ip_recursive on;" in conf
        # The upstream is the headless Service of the web pods, in the pods' namespace.
        (server,) = re.findall(r"^\s*server ([\w.-]+):(\d+) resolve;", conf, re.M)
        service = _named(docs, "Service", "web-pods")
        assert service["spec"]["clusterIP"] == "None"
        assert server[0] == f"web-pods.{service['metadata']['namespace']}.svc.cluster.local"
        assert int(server[1]) == service["spec"]["ports"][0]["port"]
        # The same headers as compose's nginx, to the app and on uploads.
        for location, directive in (
            ("/", "proxy_set_header"),
            ("/media/", "add_header"),
            ("/media/", "expires"),
        ):
            assert _directives(conf, location, directive) == _directives(compose_conf, location, directive)
        (proxy,) = _named(docs, "Deployment", "proxy")["spec"]["template"]["spec"]["containers"]
        (listen,) = re.findall(r"^\s*listen (\d+) ", conf, re.M)
        assert [p["containerPort"] for p in proxy["ports"]] == [int(listen)]
        mounts = {m["mountPath"]: m["name"] for m in proxy["volumeMounts"]}
        assert mounts["/etc/nginx/conf.d"] == "config"


def test_media_volume_alternative_is_shared_read_write_many(renderings):
    docs = renderings["rwx-media"]
    (claim,) = _of_kind(docs, "PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    config = _configmap_data(docs, "blog-config")
    assert config["BLOG_MEDIA_STORAGE"] == "filesystem"

    def mount(workload: str) -> dict:
        spec = _named(docs, "Deployment", workload)["spec"]["template"]["spec"]
        volume = next(v for v in spec["volumes"] if v.get("persistentVolumeClaim"))
        assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        (container,) = spec["containers"]
        return next(m for m in container["volumeMounts"] if m["name"] == volume["name"])

    assert mount("web")["mountPath"] == config["DJANGO_MEDIA_ROOT"]
    assert mount("proxy")["readOnly"] is True
    assert f"alias {mount('proxy')['mountPath']}/;" in _nginx_conf(docs)


def test_no_secret_in_git():
    tracked = subprocess.run(
        ["git", "ls-files", "deploy/k8s"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked, "deploy/k8s is committed"
    assert not [path for path in tracked if path.endswith("secret.env")]
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/k8s/overlays/production/secret.env"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, "secret.env must be git-ignored"
    # ... and kept out of the image (the Dockerfile copies the whole context).
    assert "deploy/k8s/**/secret.env" in (ROOT / ".dockerignore").read_text().splitlines()
    for path in tracked:
        text = (ROOT / path).read_text()
        if path.endswith((".yaml", ".yml")):
            assert not [d for d in _load_all(text) if d.get("kind") == "Secret"], path
    example = (K8S / "overlays/production/secret.env.example").read_text()
    values = dict(line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#"))
    assert values["DJANGO_SECRET_KEY"] == "" and values["AWS_SECRET_ACCESS_KEY"] == ""
    assert all(
        not value or "CHANGE-ME" in value for key, value in values.items() if key != "AWS_ACCESS_KEY_ID"
    )


def _gunicorn_config(monkeypatch, **env: str):
    for key in ("WEB_CONCURRENCY",):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location(
        "gunicorn_conf_under_test", ROOT / "deploy/gunicorn.conf.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_workers_follow_web_concurrency_or_the_cpu_limit(monkeypatch, tmp_path):
    assert _gunicorn_config(monkeypatch, WEB_CONCURRENCY="3").workers == 3
    conf = _gunicorn_config(monkeypatch)
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")  # a limit of 1.5 CPUs
    assert conf.cpus(str(cpu_max)) == 2
    cpu_max.write_text("max 100000\n")  # no limit: the CPUs this process may run on
    assert conf.cpus(str(cpu_max)) == len(os.sched_getaffinity(0))
    assert conf.workers == min(4, 2 * conf.cpus())


def _local_nginx_conf(conf: str, tmp_path: Path, *, listen: int, upstream: int, trust_loopback: bool) -> Path:
    """The rendered config for Debian's nginx (1.22) on loopback: it predates the upstream
    `resolve` parameter of the image's 1.28, so that word goes, and the cluster's names,
    which do not resolve here, become loopback. ``trust_loopback`` puts 127.0.0.1 where the
    ingress controller's addresses are (nothing else changes)."""
    conf = re.sub(r" resolve;", ";", conf)
    conf = re.sub(r"\b[\w.-]+\.svc\.cluster\.local\b", "127.0.0.1", conf)
    conf = re.sub(r"server 127\.0\.0\.1:\d+;", f"server 127.0.0.1:{upstream};", conf)
    conf = re.sub(r"listen \d+ default_server;", f"listen 127.0.0.1:{listen} default_server;", conf)
    conf = conf.replace("access_log /dev/stdout blog;", f"access_log {tmp_path}/access.log blog;")
    if trust_loopback:
        conf = conf.replace("    default 0;\n", "    default 0;\n    127.0.0.1/32 1;\n")
        conf = conf.replace("real_ip_header", "set_real_ip_from 127.0.0.1/32;\nreal_ip_header")
    (tmp_path / "site.conf").write_text(conf)
    temp_paths = "\n".join(
        f"  {kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n{temp_paths}\n  include {tmp_path}/site.conf;\n}}\n"
    )
    return main


def _nginx(*args: str) -> list[str]:
    return [shutil.which("nginx") or "/usr/sbin/nginx", *args]


def test_the_proxy_config_parses(renderings, tmp_path):
    """`nginx -t` on the rendered config (see _local_nginx_conf for what is swapped)."""
    main = _local_nginx_conf(
        _nginx_conf(renderings["production"]), tmp_path, listen=8080, upstream=8000, trust_loopback=False
    )
    result = subprocess.run(
        _nginx("-t", "-q", "-c", str(main), "-p", str(tmp_path), "-e", "stderr"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(dict(self.headers)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("from_ingress", [True, False])
def test_the_proxy_believes_only_the_ingress_controller(renderings, tmp_path, from_ingress):
    """Through the ingress controller, the reader's address and scheme are those it forwards
    (a spoofed X-Forwarded-For entry before them is ignored); from anywhere else, neither."""
    echo = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    listen = _free_port()
    main = _local_nginx_conf(
        _nginx_conf(renderings["production"]),
        tmp_path,
        listen=listen,
        upstream=echo.server_address[1],
        trust_loopback=from_ingress,
    )
    nginx = subprocess.Popen(
        _nginx("-c", str(main), "-p", str(tmp_path), "-e", "stderr", "-g", "daemon off; master_process off;"),
        stderr=subprocess.PIPE,
    )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{listen}/",
            headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9", "X-Forwarded-Proto": "https"},
        )

        def answered() -> dict | None:  # until nginx listens (a few milliseconds)
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
                    return json.loads(response.read())
            except urllib.error.URLError:
                assert nginx.poll() is None, nginx.stderr.read().decode()
                return None

        seen = wait_for(answered, timeout=10, what="nginx to answer")
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        echo.shutdown()
    if from_ingress:
        assert seen["X-Real-IP"] == "203.0.113.9"
        assert seen["X-Forwarded-Proto"] == "https"
    else:
        assert seen["X-Real-IP"] == "127.0.0.1"
        assert seen["X-Forwarded-Proto"] == "http"
