"""Helpers shared by the tests: commands, an event-loop runner, leak accounting."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from mcp_stdio.bench.servers import SERVERS
from mcp_stdio.transport import proc_stats

ROOT = Path(__file__).resolve().parent.parent

# Children get the allow-listed environment; PYTHONPATH makes the checkout importable in
# them whether or not mcp_stdio is installed.
CHILD_ENV = {"PYTHONPATH": str(ROOT)}

REFERENCE = [sys.executable, "-m", "mcp_stdio.server"]


def server(name: str, *args: str) -> list[str]:
    """Return the command of the misbehaving server mcp_stdio/bench/servers/<name>.py."""
    return [sys.executable, str(SERVERS / f"{name}.py"), *args]


def run(coro, timeout: float = 60.0):
    """Run ``coro`` in a fresh event loop in debug mode, bounded by ``timeout``."""

    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded(), debug=True)


def open_fds() -> set[str]:
    """Return the names of this process's open file descriptors."""
    return set(os.listdir("/proc/self/fd"))


def fd_targets(fds) -> dict[str, str]:
    result = {}
    for fd in fds:
        try:
            result[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    return result


def live_children(pid: int | None = None) -> list[int]:
    """Return the pids of live (non-zombie) children of ``pid`` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    return [child for child, state, ppid, _ in proc_stats() if ppid == pid and state != b"Z"]


def process_alive(pid: int) -> bool:
    """Return whether ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != b"Z"


def group_members(pgid: int) -> list[int]:
    """Return the live pids of process group ``pgid``."""
    return [pid for pid, state, _, pgrp in proc_stats() if pgrp == pgid and state != b"Z"]


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
