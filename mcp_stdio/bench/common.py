"""What every benchmark group shares: the run context, measurements, the raw floor client.

Honesty rules, enforced here rather than trusted to each group:

* every connection is a real spawn and a real handshake; with the reference server, the
  servers (the reference server and the bench's light server) count their handshakes in a
  stats file and the run reports whether the count matches what the bench believes it did;
* wherever a number depends on the machine, the same work is also done by the floor (a
  minimal asyncio client with no library, :class:`FloorClient`) in the same run, in
  interleaved trials (:mod:`.stats`), and the ratio is reported with its 95 % interval;
* nothing is reported that was not measured in this run.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from typing import Any, Callable

import mcp_stdio

from .servers import SERVERS

__all__ = [
    "Context",
    "FloorClient",
    "percentiles",
    "rss_bytes",
    "open_fd_count",
    "children_memory",
    "group_memory",
    "reference_command",
    "light_command",
    "package_parent",
]

# Before 3.10, concurrent StreamWriter.drain() calls fail; the floor then shares one.
_ONE_DRAIN_AT_A_TIME = sys.version_info < (3, 10)


def reference_command() -> list[str]:
    """Return a lean command for the reference server.

    ``-S`` skips the ``site`` module (and whatever ``.pth`` files import), which costs tens
    of milliseconds per spawn on some machines; the package's parent folder is put on
    ``sys.path`` by the command itself. The floor and mcp_stdio spawn the same command.
    """
    return mcp_stdio.reference_server_command(lean=True)


def light_command(*args: str) -> list[str]:
    """Return the command of the bench's light server (``servers/minimal.py``, a blocking loop)."""
    return [sys.executable, "-S", str(SERVERS / "minimal.py"), *args]


def package_parent() -> str:
    """Return the folder that holds this copy of ``mcp_stdio`` (for child interpreters)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
    return _status_field(pid, b"VmRSS:")


def peak_rss_bytes(pid: int | str = "self") -> int:
    """Return the peak resident set size (VmHWM) of a process (0 if unavailable)."""
    return _status_field(pid, b"VmHWM:")


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux ``clear_refs``); return whether it did."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _status_field(pid: int | str, field: bytes) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _rollup(pid: int) -> dict[str, int]:
    """Return a process's PSS and USS (private pages: freed when it exits), in bytes."""
    found = {"pss": 0, "uss": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    found["pss"] = int(line.split()[1]) * 1024
                elif line.startswith((b"Private_Clean:", b"Private_Dirty:")):
                    found["uss"] += int(line.split()[1]) * 1024
    except OSError:
        pass
    return found


def children_memory(pids: list[int]) -> dict[str, int]:
    """Return the summed RSS, PSS and USS of the given processes, in bytes.

    PSS divides each shared page among the processes that map it, so it depends on how
    many run; USS (private pages) is what one more process adds, the figure capacity
    estimates use.
    """
    total = {"rss": 0, "pss": 0, "uss": 0}
    for pid in pids:
        total["rss"] += rss_bytes(pid)
        for key, value in _rollup(pid).items():
            total[key] += value
    return total


def group_memory(pids: list[int]) -> dict[str, int]:
    """Return the summed RSS and PSS of the process groups led by ``pids`` (a server and its children).

    The client starts each server in its own process group, so a wrapper such as ``npx``
    and the ``node`` it starts are counted together.
    """
    from mcp_stdio.transport import proc_stats

    wanted = set(pids)
    members = [pid for pid, state, _, pgrp in proc_stats() if pgrp in wanted and state != b"Z"]
    counted = children_memory(members)
    counted["processes"] = len(members)
    return counted


def open_fd_count() -> int:
    """Return how many file descriptors this process has open (pipes included)."""
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # minus the one listdir itself opened
    except OSError:
        return -1


def load_average() -> float | None:
    """Return the 1-minute load average of the machine (``None`` where unknown)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


class FloorClient:
    """The floor: a minimal raw asyncio MCP client, with no library.

    It does what any hand-written client must do and nothing more: spawn, handshake,
    requests matched by id through futures, close stdin and wait. No timeouts, no stderr
    drain (stderr goes to /dev/null), no validation, no cancellation.

    It spawns the server in a new session, as mcp_stdio does (``start_new_session=True``,
    STYLE.md pitfall 6): measured on Linux with Python 3.11, ten spawns at once complete
    about 1.5 times faster that way, and a floor without it would credit the library with a
    kernel effect.
    """

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.command = command
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None
        self.pending: dict[int, asyncio.Future] = {}
        self.next_id = 0
        self.reader: asyncio.Task | None = None
        self._draining: asyncio.Future | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    async def start(self) -> None:
        self.proc = proc = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=self.env, limit=1 << 30, start_new_session=True)
        self.reader = asyncio.ensure_future(self._read())
        await self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                          "clientInfo": {"name": "floor", "version": "0"}})
        assert proc.stdin is not None
        proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')

    def _pipes(self) -> tuple[asyncio.subprocess.Process, asyncio.StreamWriter, asyncio.StreamReader]:
        """The started process and its stdin and stdout (an error before :meth:`start`)."""
        proc = self.proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise RuntimeError("the floor client is not started")
        return proc, proc.stdin, proc.stdout

    async def _read(self) -> None:
        stdout = self._pipes()[2]
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
        stdin = self._pipes()[1]
        stdin.write(json.dumps(message).encode() + b"\n")
        if _ONE_DRAIN_AT_A_TIME:
            await self._shared_drain(stdin)
        else:
            await stdin.drain()
        return await future

    async def _shared_drain(self, stdin: asyncio.StreamWriter) -> None:
        """Python 3.9's StreamWriter.drain() allows one waiter at a time (an AssertionError
        with more): concurrent requests wait on one shared drain instead."""
        if self._draining is None:
            self._draining = asyncio.ensure_future(stdin.drain())
            self._draining.add_done_callback(self._drained)
        await asyncio.shield(self._draining)

    def _drained(self, future: asyncio.Future) -> None:
        if self._draining is future:
            self._draining = None

    async def call_tool(self, name: str, arguments: dict) -> Any:
        return await self.request("tools/call", {"name": name, "arguments": arguments})

    async def ping(self) -> Any:
        return await self.request("ping")

    async def close(self) -> None:
        proc, stdin, _ = self._pipes()
        stdin.close()
        await proc.wait()
        if self.reader is not None:
            await self.reader


class Context:
    """One run of the bench: settings, progress, results, and the handshake ledger.

    Args:
        server: the server command, or ``None`` for the reference server.
        quick: small sizes everywhere.
        max_concurrent: the top of the concurrency ramp (``None``: the estimated safe capacity).
        progress: a callable taking one progress line, or ``None``.
        stats_path: the file where the bench's own servers count their handshakes.
    """

    def __init__(self, server: list[str] | None, quick: bool, max_concurrent: int | None,
                 progress: Callable[[str], None] | None, stats_path: str | None) -> None:
        self.reference = server is None
        self.command = server or reference_command()
        # Churn and start-up ratios compare two clients; with the reference server (asyncio,
        # ten times slower to start) they would measure mostly the server, so the light
        # server serves them. A server named with --server is used everywhere.
        self.light = light_command() if self.reference else self.command
        self.quick = quick
        self.max_concurrent = max_concurrent
        self.leak_cycles = 0
        self._progress = progress
        self.stats_path = stats_path
        self.env = {"MCP_STDIO_SERVER_STATS": stats_path} if (stats_path and self.reference) else None
        self.handshakes = 0  # handshakes this bench performed (ours and the floor's)
        self.results: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, str] = {}  # group -> why it could not run (an error of the run)
        self.skipped: dict[str, str] = {}  # group -> why it did not run (not an error)
        self.group = ""
        self._workload: Any = None

    @property
    def server_name(self) -> str:
        """Return how the report names the benchmark server."""
        return "the reference server" if self.reference else " ".join(self.command)

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

    def skip(self, reason: str) -> None:
        """Say why the current group does not run (not an error: reported on its own line)."""
        self.skipped[self.group] = reason

    def client(self, command: list[str] | None = None, **options: Any) -> mcp_stdio.Client:
        """Return an mcp_stdio client for the benchmark server, or ``command`` (not started)."""
        if self.env:
            options.setdefault("env", self.env)
        options.setdefault("client_info", {"name": "mcp_stdio-bench", "version": mcp_stdio.__version__})
        # The handshake era, as the floor speaks it: the same work on both sides, and the
        # servers count initialize requests to verify the handshakes.
        options.setdefault("protocol", "handshake")
        return mcp_stdio.connect(command or self.command, **options)

    def floor(self, command: list[str] | None = None) -> FloorClient:
        """Return a floor client for the benchmark server, or ``command`` (not started)."""
        env = None
        if self.env:
            from mcp_stdio.transport import build_env

            env = build_env(self.env)
        return FloorClient(command or self.command, env)

    async def open(self, count: int, concurrency: int | None = None, command: list[str] | None = None,
                   **options: Any) -> list[mcp_stdio.Client]:
        """Start ``count`` clients, ``concurrency`` at a time (default: all at once)."""
        clients = [self.client(command, **options) for _ in range(count)]
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

    async def cycle(self, command: list[str] | None = None, **options: Any) -> None:
        """Start a client (spawn and handshake), then close it."""
        client = self.client(command, **options)
        await client.start()
        self.handshakes += 1
        await client.close()

    async def floor_cycle(self, command: list[str] | None = None) -> None:
        """Start a floor client (spawn and handshake), then close it."""
        floor = self.floor(command)
        await floor.start()
        self.handshakes += 1
        await floor.close()

    async def workload(self) -> Workload:
        """Return the call every session makes: ``echo`` where the server has it, else ``ping``."""
        if self._workload is None:
            self._workload = await Workload.discover(self)
        return self._workload

    def run_child(self, module: str, args: dict[str, Any], timeout: float = 900) -> dict[str, Any]:
        """Run ``mcp_stdio.bench.<module>.child(args)`` in a fresh interpreter; return its JSON.

        Memory per session is measured in a fresh process: in this one, memory freed by
        earlier groups is reused and the RSS of new sessions hides in it. The child adds
        its handshakes to the ledger (``"handshakes"`` in its answer).
        """
        env = dict(os.environ)
        env["PYTHONPATH"] = package_parent() + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        code = f"import json, sys; from mcp_stdio.bench.{module} import child; child(json.loads(sys.argv[1]))"
        done = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True,
                              env=env, timeout=timeout, cwd=package_parent())
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            tail = "; ".join(done.stderr.strip().splitlines()[-3:])
            raise RuntimeError(f"the {module} child exited with status {done.returncode}: {tail}")
        answer = json.loads(lines[-1])
        self.handshakes += answer.get("handshakes", 0)
        return answer  # type: ignore[no-any-return]


class Workload:
    """One checkable call: ``echo`` with a unique text (reference, light server or any server
    with an ``echo`` tool taking ``text`` or ``message``), else ``ping``."""

    def __init__(self, tool: str | None, argument: str | None) -> None:
        self.tool = tool
        self.argument = argument

    @property
    def name(self) -> str:
        return f"tools/call {self.tool}" if self.tool else "ping"

    @classmethod
    async def discover(cls, ctx: Context) -> Workload:
        if ctx.reference:
            return cls("echo", "text")
        client = ctx.client(timeout=60)
        await client.start()
        ctx.handshakes += 1
        try:
            tools = await client.list_tools()
        except Exception:  # a server without tools: ping it
            tools = {"tools": []}
        finally:
            await client.close()
        for tool in tools.get("tools", []):
            if tool.get("name") == "echo":
                properties = (tool.get("inputSchema") or {}).get("properties") or {}
                for argument in ("text", "message"):
                    if argument in properties:
                        return cls("echo", argument)
        return cls(None, None)

    async def call(self, client: Any, tag: str) -> bool:
        """Make the call; return whether the answer is right."""
        if self.tool is None:
            await client.ping()  # an error answer raises
            return True
        result = await client.call_tool(self.tool, {self.argument: tag})
        content = (result or {}).get("content") or [{}]
        return tag in str(content[0].get("text", ""))


async def timed(coro) -> float:
    """Return the seconds ``coro`` took."""
    start = time.perf_counter()
    await coro
    return time.perf_counter() - start


def collect() -> None:
    """Run the garbage collector twice, so memory figures do not include garbage."""
    gc.collect()
    gc.collect()
