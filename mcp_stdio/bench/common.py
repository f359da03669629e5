"""What every benchmark group shares: the run context, measurements, the raw floor client.

Honesty rules, enforced here rather than trusted to each group:

* every connection is a real spawn and a real handshake; with the reference server, the
  server counts its handshakes in a stats file and the run reports whether the count
  matches what the bench believes it did;
* wherever a number depends on the machine, the same work is also done by the floor (a
  minimal asyncio client with no library, :class:`FloorClient`) in the same run, and the
  ratio is reported next to the absolute value;
* nothing is reported that was not measured in this run.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from typing import Any, Callable

import mcp_stdio

__all__ = [
    "Context",
    "FloorClient",
    "percentiles",
    "rss_bytes",
    "open_fd_count",
    "children_memory",
    "reference_command",
]


def reference_command() -> list[str]:
    """Return a lean command for the reference server.

    ``-S`` skips the ``site`` module (and whatever ``.pth`` files import), which costs tens
    of milliseconds per spawn on some machines; the package's parent folder is put on
    ``sys.path`` by the command itself. The floor and mcp_stdio spawn the same command.
    """
    return mcp_stdio.reference_server_command(lean=True)


def percentiles(samples: list[float], points=(50, 90, 99)) -> dict[str, float]:
    """Return the nearest-rank percentiles of ``samples`` as ``{"p50": ..., ...}``."""
    if not samples:
        return {f"p{p}": float("nan") for p in points}
    ordered = sorted(samples)
    result = {}
    for p in points:
        rank = max(1, -(-p * len(ordered) // 100))  # ceil
        result[f"p{p}"] = ordered[min(rank, len(ordered)) - 1]
    return result


def rss_bytes(pid: int | str = "self") -> int:
    """Return the resident set size of a process, from /proc (0 if unavailable)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def children_memory(pids: list[int]) -> dict[str, int]:
    """Return the summed RSS and PSS of the given processes (the servers), in bytes."""
    return {"rss": sum(rss_bytes(pid) for pid in pids), "pss": sum(_pss_bytes(pid) for pid in pids)}


def open_fd_count() -> int:
    """Return how many file descriptors this process has open (pipes included)."""
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # minus the one listdir itself opened
    except OSError:
        return -1


class FloorClient:
    """The floor: a minimal raw asyncio MCP client, with no library.

    It does what any hand-written client must do and nothing more: spawn, handshake,
    requests matched by id through futures, close stdin and wait. No timeouts, no stderr
    drain (stderr goes to /dev/null), no validation, no cancellation.
    """

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.command = command
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None
        self.pending: dict[int, asyncio.Future] = {}
        self.next_id = 0
        self.reader: asyncio.Task | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=self.env, limit=1 << 30)
        self.reader = asyncio.ensure_future(self._read())
        await self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                          "clientInfo": {"name": "floor", "version": "0"}})
        self.proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')

    async def _read(self) -> None:
        stdout = self.proc.stdout
        while True:
            line = await stdout.readline()
            if not line:
                break
            message = json.loads(line)
            future = self.pending.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result(message.get("result"))
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionError("server exited"))

    async def request(self, method: str, params: dict | None = None) -> Any:
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        await self.proc.stdin.drain()
        return await future

    async def call_tool(self, name: str, arguments: dict) -> Any:
        return await self.request("tools/call", {"name": name, "arguments": arguments})

    async def close(self) -> None:
        self.proc.stdin.close()
        await self.proc.wait()
        await self.reader


class Context:
    """One run of the bench: settings, progress, results, and the handshake ledger.

    Args:
        server: the server command, or ``None`` for the reference server.
        quick: small sizes everywhere.
        max_concurrent: the top of the concurrency ramp.
        progress: a callable taking one progress line, or ``None``.
    """

    def __init__(self, server: list[str] | None, quick: bool, max_concurrent: int,
                 progress: Callable[[str], None] | None, stats_path: str | None) -> None:
        self.reference = server is None
        self.command = server or reference_command()
        self.quick = quick
        self.max_concurrent = max_concurrent
        self._progress = progress
        self.stats_path = stats_path
        self.env = {"MCP_STDIO_SERVER_STATS": stats_path} if (stats_path and self.reference) else None
        self.handshakes = 0  # handshakes this bench performed (ours and the floor's)
        self.results: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, str] = {}  # group -> why it could not run (an error of the run)
        self.group = ""

    def size(self, default: int, quick: int) -> int:
        """Return the size of a test: ``default``, or ``quick`` with ``--quick``."""
        return quick if self.quick else default

    def progress(self, test: str, done: int | None = None, total: int | None = None) -> None:
        if self._progress is not None:
            count = f" ({done} of {total})" if total else ""
            self._progress(f"[{self.group}] {test}{count}")

    def record(self, test: str, metrics: dict[str, Any], note: str = "") -> None:
        """Store the metrics of one test of the current group."""
        entry: dict[str, Any] = {"metrics": metrics}
        if note:
            entry["note"] = note
        self.results.setdefault(self.group, {})[test] = entry

    def client(self, **options: Any) -> mcp_stdio.Client:
        """Return an mcp_stdio client for the benchmark server (not started)."""
        if self.env:
            options.setdefault("env", self.env)
        options.setdefault("client_info", {"name": "mcp_stdio-bench", "version": mcp_stdio.__version__})
        # The handshake era, as the floor speaks it: the same work on both sides, and the
        # servers count initialize requests to verify the handshakes.
        options.setdefault("protocol", "handshake")
        return mcp_stdio.connect(self.command, **options)

    def floor(self) -> FloorClient:
        """Return a floor client for the benchmark server (not started)."""
        env = None
        if self.env:
            from mcp_stdio.transport import build_env

            env = build_env(self.env)
        return FloorClient(self.command, env)

    async def open(self, count: int, concurrency: int | None = None, **options: Any) -> list[mcp_stdio.Client]:
        """Start ``count`` clients, ``concurrency`` at a time (default: all at once)."""
        clients = [self.client(**options) for _ in range(count)]
        limit = asyncio.Semaphore(concurrency or count or 1)

        async def start(client: mcp_stdio.Client) -> None:
            async with limit:
                await client.start()
                self.handshakes += 1

        results = await asyncio.gather(*(start(c) for c in clients), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await asyncio.gather(*(c.close() for c in clients))
            raise errors[0]
        return clients

    async def cycle(self, **options: Any) -> None:
        """Start a client (spawn and handshake), then close it."""
        client = self.client(**options)
        await client.start()
        self.handshakes += 1
        await client.close()

    async def floor_cycle(self) -> None:
        """Start a floor client (spawn and handshake), then close it."""
        floor = self.floor()
        await floor.start()
        self.handshakes += 1
        await floor.close()


async def timed(coro) -> float:
    """Return the seconds ``coro`` took."""
    start = time.perf_counter()
    await coro
    return time.perf_counter() - start


def collect() -> None:
    """Run the garbage collector twice, so memory figures do not include garbage."""
    gc.collect()
    gc.collect()
