"""Real services a test can break: a private redis-server it freezes (SIGSTOP), kills and
restarts; a TCP proxy in front of MariaDB whose connections it can hang or cut; a small
SMTP server that records what it receives and can be stopped."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ManualClock:
    """A monotonic clock that moves only when told: ``CircuitBreaker(clock=...)`` (and the
    process's breakers, swapped in by ``breaker_on``) run on it instead of real time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def shift(self, seconds: float) -> None:
        self.now += seconds


def breaker_on(monkeypatch, name: str, clock: ManualClock):
    """The process's breaker ``name`` replaced (for this test) by one running on ``clock``."""
    from blog_project import breaker as breakers

    guard = breakers.CircuitBreaker(name, clock=clock)
    monkeypatch.setitem(breakers._breakers, name, guard)
    return guard


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def service_env() -> dict[str, str]:
    """The environment a throwaway service starts with: the machine's own clock, as the
    services the blog talks to in production have (a clock moved for the suite with
    libfaketime is the blog's, and redis-server does not even start under it)."""
    return {
        name: value
        for name, value in os.environ.items()
        if name != "LD_PRELOAD" and not name.startswith(("FAKETIME", "DONT_FAKE"))
    }


class RedisServer:
    """A throwaway redis-server on its own port and directory: without persistence (a
    restart starts it empty), or with ``options`` (a config file, flags) before its own."""

    NO_PERSISTENCE = ("--save", "", "--appendonly", "no")

    def __init__(self, directory: Path, port: int | None = None, options: list[str] | None = None) -> None:
        self.port = port or free_port()
        self.directory = directory
        self.options = list(self.NO_PERSISTENCE if options is None else options)
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            # A config file must come first; flags given later win over the same earlier ones.
            ["redis-server", *self.options, "--port", str(self.port), "--bind", "127.0.0.1",
             "--daemonize", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=service_env(),
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2, socket_timeout=0.5)
        wait_for(lambda: self._ping(client), timeout=10, what=f"redis-server on port {self.port}")
        client.close()
        return self

    @staticmethod
    def _ping(client: redis.Redis) -> bool:
        try:
            return client.ping()
        except redis.RedisError:
            return False

    def freeze(self) -> None:
        """Hung: the kernel still accepts connections, the server never answers."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        """Dead: connections are refused."""
        if self.process and self.process.poll() is None:
            self.process.kill()  # SIGKILL works on a stopped process too
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT)
            self.kill()


class TcpProxy:
    """Forwards 127.0.0.1:port to a target. ``freeze()`` keeps every connection open but
    stops forwarding (a hung server); ``cut()`` closes them all and refuses new ones (a
    dead server); ``restore()`` forwards again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._stopped = False
        self._cuts = 0  # a connection accepted before a cut must not outlive it

    def start(self) -> TcpProxy:
        self._listen()
        return self

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            with self._lock:
                if listener is not self._listener:  # accepted as the proxy was cut
                    client.close()
                    return
                cuts = self._cuts
            threading.Thread(target=self._serve, args=(client, cuts), daemon=True).start()

    def _serve(self, client: socket.socket, cuts: int) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            if cuts != self._cuts:  # cut while this one was being connected
                client.close()
                upstream.close()
                return
            self._sockets.update((client, upstream))
        try:
            pair = {client: upstream, upstream: client}
            while True:
                readable, _w, _x = select.select(list(pair), [], [], 0.2)
                for source in readable:
                    self._flowing.wait()
                    data = source.recv(65536)
                    if not data:
                        return
                    pair[source].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._sockets.difference_update((client, upstream))

    def freeze(self) -> None:
        self._flowing.clear()

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            self._cuts += 1
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
            self._sockets.clear()
        self._flowing.set()  # let blocked pumps notice their sockets are gone

    def restore(self) -> None:
        self._flowing.set()
        if self._listener is None:
            self._listen()

    def stop(self) -> None:
        self.cut()


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend: records each message's data."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        data_mode, lines = False, []
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if data_mode:
                if line == ".":
                    self.server.messages.append("\n".join(lines))
                    data_mode, lines = False, []
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                continue
            verb = line[:4].upper()
            if verb == "DATA":
                data_mode = True
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class SmtpServer:
    """A recording SMTP server on a fixed port, started and stopped at will."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[str] = []
        self._server: socketserver.ThreadingTCPServer | None = None

    def start(self) -> SmtpServer:
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), _SMTPHandler)
        self._server.daemon_threads = True
        self._server.messages = self.messages
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def use_in(self, settings) -> None:
        """Point Django's mail at this server (pytest-django's ``settings`` fixture)."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", self.port, 2
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


class MariaDBServer:
    """A private mariadbd on a temporary data directory (``mariadb-install-db``: no time zone
    tables unless ``load_time_zones``), on its own port; killed, frozen and restarted at will."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.user = (
            os.environ.get("USER")
            or subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
        )

    def url(self, name: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{name}"

    def install(self) -> MariaDBServer:
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={self.directory / 'data'}",
             "--auth-root-authentication-method=normal", "--skip-test-db", f"--user={self.user}"],
            check=True, capture_output=True, timeout=120, env=service_env(),
        )  # fmt: skip
        return self

    def start(self) -> MariaDBServer:
        self.process = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.directory / 'data'}",
             f"--socket={self.directory / 'mysqld.sock'}", f"--port={self.port}", "--bind-address=127.0.0.1",
             f"--user={self.user}", "--skip-log-bin", "--innodb-buffer-pool-size=32M",
             "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
             f"--pid-file={self.directory / 'mysqld.pid'}"],
            stdout=subprocess.DEVNULL, stderr=(self.directory / "mysqld.log").open("ab"), env=service_env(),
        )  # fmt: skip
        wait_for(self._answers, timeout=60, what=f"mariadbd on port {self.port}")
        return self

    def _answers(self) -> bool:
        return self.sql("SELECT 1", check=False).returncode == 0

    def sql(
        self, statement: str, *, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess:
        command = ["mariadb", "-uroot", "-h127.0.0.1", f"-P{self.port}", "--connect-timeout=2", "-N"]
        if statement:
            command += ["-e", statement]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, check=check, timeout=60)

    def load_time_zones(self, *zones: str) -> None:
        for zone in zones:
            tables = subprocess.run(
                ["mysql_tzinfo_to_sql", f"/usr/share/zoneinfo/{zone}", zone],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            self.sql("", stdin=f"USE mysql;\n{tables}")

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
