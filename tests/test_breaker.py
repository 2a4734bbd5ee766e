"""Circuit breakers: one failure opens, calls then fail fast, one probe per interval
closes or re-opens; each opening and closing is logged once."""

from __future__ import annotations

import logging

import pytest

from blog_project.breaker import BreakerOpen, CircuitBreaker, breaker
from tests.faults import ManualClock as Clock


class Flaky:
    def __init__(self) -> None:
        self.calls = 0
        self.broken = True

    def __call__(self) -> str:
        self.calls += 1
        if self.broken:
            raise ConnectionError("down")
        return "ok"


def test_a_failure_opens_the_breaker_and_calls_fail_fast_until_the_interval_ends(caplog):
    clock = Clock()
    service, guard = Flaky(), CircuitBreaker("test service", reset_after=5, clock=clock)
    with pytest.raises(ConnectionError):
        guard.call(service, errors=(ConnectionError,))
    for _ in range(100):
        with pytest.raises(BreakerOpen):
            guard.call(service, errors=(ConnectionError,))
    assert service.calls == 1, "no call reaches the service while the breaker is open"
    clock.shift(5.1)
    with pytest.raises(ConnectionError):
        guard.call(service, errors=(ConnectionError,))  # the probe
    assert service.calls == 2 and guard.is_open
    clock.shift(5.1)
    service.broken = False
    assert guard.call(service, errors=(ConnectionError,)) == "ok"
    assert not guard.is_open
    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(messages) == 2, messages
    assert "fail fast" in messages[0] and "answering again" in messages[1]


def test_only_one_probe_goes_out_per_interval():
    clock = Clock()
    guard = CircuitBreaker("test service", reset_after=1, clock=clock)
    guard.failure(ConnectionError())
    clock.shift(1.5)
    assert guard.allow() is True
    assert guard.allow() is False, "the probe is still out"
    guard.success()
    assert guard.allow() is True


def test_breakers_are_shared_by_name_within_a_process():
    assert breaker("redis") is breaker("redis")
    assert breaker("redis") is not breaker("broker")
