"""Tests with a live server flush the database only once the server has answered every
connection it accepted (tests/browser.py): a request a closed browser left in flight (the
editor's autosave beacon) wrote during the flush ("database table is locked")."""

from __future__ import annotations

import socket
import threading

import pytest

from tests.browser import _OpenRequests
from tests.faults import wait_for

pytestmark = pytest.mark.embedded_only


def test_the_flush_waits_for_a_request_still_in_flight(live_server):
    open_requests = _OpenRequests.of(live_server.thread.httpd)
    sock = socket.create_connection((live_server.thread.host, live_server.thread.port), timeout=30)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")  # the rest of the header later
        wait_for(lambda: open_requests.count == 1, what="the connection accepted")
        drained = threading.Event()

        def drain() -> None:
            open_requests.drain(live_server.url, timeout=30)
            drained.set()

        drainer = threading.Thread(target=drain)
        drainer.start()
        # The first request is still being read: the drain waits. (Polled, not a timed
        # Event.wait: under libfaketime a thread's timed wait would last the shifted days.)
        with pytest.raises(AssertionError):
            wait_for(drained.is_set, timeout=1, what="the drain")
        sock.sendall(b"Connection: close\r\n\r\n")
        assert sock.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        sock.close()
    assert drained.wait(30)
    drainer.join(timeout=30)
    assert open_requests.count == 0
