"""Faults through the front door: deploy/cluster.sh (nginx from deploy/nginx.conf and
deploy/nginx-main.conf in front of three gunicorn masters) on MariaDB reached through a TCP
proxy that the test cuts, so the machine's MariaDB is never touched.

- A slow crowd: 1,500 sockets from one address that never finish their headers do not stop
  readers from another address (>= 95% of their requests answered 200), and nginx closes
  them after client_header_timeout; requests in progress are limited per address (429).
- A dead database: nginx passes the app's 503 on and keeps every replica in, so cached pages,
  static files and /favicon.ico answer 200 every time.
"""

from __future__ import annotations

import http.client
import re
import resource
import secrets
import select
import socket
import threading
import time
import urllib.parse

import pytest

from tests.faults import TcpProxy, wait_for
from tests.test_cluster import (  # noqa: F401 - fixtures
    Cluster,
    _fresh_cache_and_language,
    run_cluster,
    seeded,
)

pytestmark = [pytest.mark.real_backends, pytest.mark.django_db(transaction=True)]

SLOW_CROWD = 1500
CROWD_ADDRESS = "127.0.0.1"
READER_ADDRESS = "127.0.0.2"  # the whole of 127/8 is loopback on Linux
GREEDY_ADDRESS = "127.0.0.3"
PER_ADDRESS_LIMIT = 32  # limit_conn in deploy/nginx.conf
HEADER_TIMEOUT = 10  # client_header_timeout in deploy/nginx.conf


@pytest.fixture(scope="module")
def database_proxy(django_db_setup):
    from django.conf import settings

    db = settings.DATABASES["default"]
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 3306)).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def cluster(database_proxy, django_db_blocker, tmp_path_factory):
    from django.conf import settings
    from django.core.cache import cache

    db = settings.DATABASES["default"]
    password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    url = f"mysql://{db['USER']}{password}@127.0.0.1:{database_proxy.port}/{db['NAME']}"
    cache.clear()
    try:
        with run_cluster(tmp_path_factory.mktemp("front-door"), database_url=url) as started:
            yield started
    finally:
        cache.clear()


def get(cluster: Cluster, path: str, *, source: str = READER_ADDRESS, timeout: float = 15):
    conn = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def _cached_paths(cluster: Cluster) -> list[str]:
    """The pages (each served from the page cache by now) and the files a reader's browser
    asks for with them."""
    pages = ["/", "/article/cluster-article/", "/category/cluster-news/"]
    for path in pages:
        wait_for(
            lambda path=path: get(cluster, path)[1]["X-Page-Cache"] == "hit",
            timeout=30,
            what=f"{path} served from the page cache",
        )
    home = get(cluster, "/")[2].decode()
    css = re.search(r'href="(/static/css/blog\.[0-9a-f]{12}\.css)"', home).group(1)
    return [*pages, css, "/favicon.ico"]


def _readers(cluster: Cluster, paths: list[str], *, threads: int, each: int) -> list:
    """``threads`` readers from READER_ADDRESS, ``each`` requests apiece (bounded)."""
    results: list = []

    def read() -> None:
        for n in range(each):
            try:
                results.append(get(cluster, paths[n % len(paths)])[0])
            except OSError as exc:
                results.append(repr(exc))

    workers = [threading.Thread(target=read) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    return results


class SlowCrowd:
    """Sockets from one address that send half a request header and nothing more; ``hold()``
    opens again each one nginx closed, until ``stop()`` (a crowd that keeps coming)."""

    PARTIAL = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow"

    def __init__(self, port: int, size: int) -> None:
        self.port, self.size = port, size
        self.sockets: dict[int, socket.socket] = {}
        self.poller = select.poll()  # select() cannot watch file descriptors above 1024
        self.opened = 0
        self.refused = 0
        self._stop = threading.Event()

    def _open(self) -> None:
        sock = socket.socket()
        try:
            sock.settimeout(5)
            sock.bind((CROWD_ADDRESS, 0))
            sock.connect(("127.0.0.1", self.port))
            sock.sendall(self.PARTIAL)
        except OSError:
            sock.close()
            self.refused += 1
            return
        self.sockets[sock.fileno()] = sock
        self.poller.register(sock, select.POLLIN)
        self.opened += 1

    def _drop(self, fd: int) -> None:
        self.poller.unregister(fd)
        self.sockets.pop(fd).close()

    def fill(self) -> None:
        while len(self.sockets) < self.size and self.opened + self.refused < 20 * self.size:
            self._open()

    def closed_by_nginx(self) -> list[int]:
        """The sockets nginx answered or closed (readable: data or EOF)."""
        return [fd for fd, _event in self.poller.poll(0)]

    def hold(self, deadline: float) -> None:
        while not self._stop.is_set() and time.monotonic() < deadline:
            for fd in self.closed_by_nginx():
                self._drop(fd)
            self.fill()
            self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        for fd in list(self.sockets):
            self._drop(fd)


@pytest.fixture
def open_files():
    """As many file descriptors as the crowd needs (within the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = SLOW_CROWD + 512
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield max(soft, wanted)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("seeded")
def test_a_slow_crowd_from_one_address_does_not_stop_other_readers(cluster, open_files):
    paths = _cached_paths(cluster)
    crowd = SlowCrowd(cluster.port, min(SLOW_CROWD, open_files - 256))
    holder = None
    try:
        crowd.fill()
        assert len(crowd.sockets) == crowd.size, f"{crowd.refused} connections refused"
        holder = threading.Thread(target=crowd.hold, args=(time.monotonic() + 600,))
        holder.start()
        results = _readers(cluster, paths, threads=4, each=60)
        held = len(crowd.sockets)
    finally:
        crowd.stop()
        if holder is not None:
            holder.join(timeout=30)
    try:
        ok = sum(status == 200 for status in results)
        assert ok >= 0.95 * len(results), f"{ok}/{len(results)} answered: {sorted(set(map(str, results)))}"
        assert held >= 0.9 * crowd.size  # the crowd was there all along
        # The readers really came from another address than the crowd.
        assert f"{READER_ADDRESS} [" in cluster.log("nginx-access.log")
        # nginx closes a socket that has not sent its whole header within client_header_timeout.
        wait_for(
            lambda: len(crowd.closed_by_nginx()) == len(crowd.sockets),
            timeout=HEADER_TIMEOUT * 6,
            what="nginx closing the slow sockets",
        )
    finally:
        crowd.close()
    assert "worker_connections are not enough" not in cluster.log("nginx-error.log")


@pytest.mark.usefixtures("seeded")
def test_requests_in_progress_are_limited_per_address(cluster):
    """Sockets that send a whole header and then a body that never comes hold a request in
    progress each: the address gets 429 beyond the limit, other addresses are served."""
    greedy = []
    try:
        for _ in range(PER_ADDRESS_LIMIT + 8):
            sock = socket.create_connection(
                ("127.0.0.1", cluster.port), timeout=5, source_address=(GREEDY_ADDRESS, 0)
            )
            greedy.append(sock)
            sock.sendall(
                b"POST /comments/post/1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nbody="
            )
        poller = select.poll()
        for sock in greedy:
            poller.register(sock, select.POLLIN)
        answered = wait_for(lambda: len(poller.poll(0)) >= 8 and poller.poll(0), what="8 answers")
        by_fd = {sock.fileno(): sock for sock in greedy}
        statuses = [by_fd[fd].recv(200).split(b"\r\n", 1)[0] for fd, _event in answered]
        # Exactly the requests beyond the limit were refused; the others still wait for a body.
        assert statuses == [b"HTTP/1.1 429 Too Many Requests"] * 8
        assert get(cluster, "/robots.txt", source=GREEDY_ADDRESS)[0] == 429
        assert get(cluster, "/robots.txt")[0] == 200
    finally:
        for sock in greedy:
            sock.close()
    wait_for(lambda: get(cluster, "/robots.txt", source=GREEDY_ADDRESS)[0] == 200, what="the slots freed")


@pytest.mark.usefixtures("seeded")
def test_a_dead_database_leaves_cached_pages_and_static_files_up(cluster, database_proxy):
    paths = _cached_paths(cluster)
    database_proxy.cut()
    try:
        # Really dead for the replicas: a page the cache does not hold is the app's 503 page,
        # passed on by nginx as it is (not a 502 because every replica was taken out).
        wait_for(lambda: get(cluster, "/readyz")[0] == 503, timeout=30, what="readiness: database down")
        assert get(cluster, f"/search/?q=dead{secrets.token_hex(4)}")[0] == 503
        mark = len(cluster.log("nginx-access.log"))
        results = _readers(cluster, paths, threads=4, each=60)
        failed = [status for status in results if status != 200]
        assert failed == [], f"{len(failed)} of {len(results)} failed: {failed[:10]}"
        for port in cluster.web_ports:  # every replica stayed in and served its share
            wait_for(
                lambda port=port: f"upstream=127.0.0.1:{port} " in cluster.log("nginx-access.log")[mark:],
                what=f"requests served by the replica on {port}",
            )
        status, headers, _body = get(cluster, f"/search/?q=still-dead{secrets.token_hex(4)}")
        assert status == 503 and headers["Retry-After"] == "30"
        assert get(cluster, "/readyz")[0] == 503
    finally:
        database_proxy.restore()
    assert "no live upstreams" not in cluster.log("nginx-error.log")
    wait_for(lambda: get(cluster, "/readyz")[0] == 200, timeout=60, what="readiness once it is back")
