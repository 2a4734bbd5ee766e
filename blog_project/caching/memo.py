"""What this process remembers of the shared cache, so it is not asked again: small
values (``values.value``), kept under the versions they were built for and all dropped
when this process bumps a scope (old versions' values are never read again)."""

from __future__ import annotations

import threading
from typing import Any

_local_values: dict[str, Any] = {}
_local_lock = threading.Lock()
_LOCAL_VALUES_MAX = 512


def local_value(key: str) -> tuple[bool, Any]:
    """(True, the value) if this process holds ``key``, else (False, None)."""
    if key in _local_values:
        return True, _local_values[key]
    return False, None


def keep_local_value(key: str, result: Any) -> None:
    with _local_lock:
        if len(_local_values) > _LOCAL_VALUES_MAX:  # old versions' values: dropped wholesale
            _local_values.clear()
        _local_values[key] = result


def forget_values() -> None:
    _local_values.clear()
