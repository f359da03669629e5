"""Helpers of the hostile-input cases (:mod:`mcp_stdio.bench.hostile`) and their tests.

A hostile client on raw pipes (:class:`RawPeer`), a server built with
:class:`mcp_stdio.server.Server` for the server-side cases (:func:`target_server_command`),
scripts of the synchronous client's cases run in fresh interpreters (:data:`SCRIPTS`), the
command line as a child (:func:`cli_command`), the event loop's stalls (:class:`LoopLag`,
:func:`least_stall`) and resident memory (:func:`rss`).
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from pathlib import Path
from typing import Any

import mcp_stdio


async def sample_answer(params: dict) -> dict:
    """A sampling callback that always answers "fine"."""
    return {"role": "assistant", "content": {"type": "text", "text": "fine"}, "model": "bench"}


def ignore(*args: Any) -> None:
    """A callback that does nothing."""


class Blocker:
    """A request handler that blocks until :attr:`release` is set, counting how many run.

    Create it inside a running loop (it makes an ``asyncio.Event``).
    """

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.release = asyncio.Event()

    async def __call__(self, params: dict) -> dict:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        return {}


async def run_command(command: list[str], timeout: float = 120) -> tuple[int, str, str]:
    """Run a command to its end; return (status, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")  # type: ignore


async def run_script(name: str, *args: str) -> tuple[Any, str]:
    """Run one of :data:`SCRIPTS`; return its JSON report and its stderr."""
    status, out, err = await run_command(script_command(name, *args))
    if status != 0:
        raise RuntimeError(f"script {name} exited with status {status}: {err.strip()[-300:]}")
    return json.loads(out), err


def raw_controls(text: str) -> list[str]:
    """Return the escapes, C1 controls and bidi characters of ``text`` (what must not reach a terminal)."""
    return [c for c in text if c in "\x1b\x07" or 0x80 <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x202e
            or 0x2066 <= ord(c) <= 0x2069 or c in "\u200e\u200f"]


def alive(pid: int) -> bool:
    """Return whether process ``pid`` runs (exists and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


# Hostile input (issue 11): helpers shared with tests/test_hostile_client.py and
# tests/test_hostile_server.py

# The folder that holds this copy of the package: children get no PYTHONPATH (the
# environment is an allow-list), so scripts put it on sys.path themselves.
_PARENT = str(Path(mcp_stdio.__file__).resolve().parent.parent)

# A server built with mcp_stdio.server.Server, with the two tools the server-side cases
# need: "scale" (1e308 * 10 makes an Infinity in the result) and "roots" (a request to the
# client that a hostile client never answers).
_TARGET = """\
import sys
sys.path.insert(0, {parent!r})
from mcp_stdio.server import Context, Server

server = Server("hostile-target", request_timeout={request_timeout!r}, max_message_size={max_message_size!r})


@server.tool()
async def scale(a: float, b: float) -> dict:
    \"\"\"Return a times b as structured content.\"\"\"
    return {{"value": a * b}}


@server.tool()
async def roots(ctx: Context) -> dict:
    \"\"\"Return the client's roots.\"\"\"
    return {{"roots": await ctx.list_roots()}}


server.run()
"""


def target_server_command(request_timeout: float | None = 60.0,
                          max_message_size: int | None = 64 * 1024 * 1024) -> list[str]:
    """Return the argv of a server built with :class:`mcp_stdio.server.Server` (tools
    ``scale(a, b)`` and ``roots()``), with these options."""
    code = _TARGET.format(parent=_PARENT, request_timeout=request_timeout, max_message_size=max_message_size)
    return [sys.executable, "-c", code]


def script_command(name: str, *args: str) -> list[str]:
    """Return the argv that runs the script :data:`SCRIPTS` ``[name]`` in a fresh interpreter."""
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {_PARENT!r})\n" + SCRIPTS[name], *args]


def cli_command(*args: str) -> list[str]:
    """Return the argv of ``python -m mcp_stdio ARGS`` for this copy of the package."""
    code = f"import sys; sys.path.insert(0, {_PARENT!r}); from mcp_stdio.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, *args]


def rss(pid: int | str = "self", field: str = "VmRSS") -> int:
    """Return a process's resident memory (``VmRSS``, or ``VmHWM``: its peak) in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


class LoopLag:
    """Measure how long the event loop goes without running a 5 ms timer (its stalls).

    Use as ``async with LoopLag() as lag: ...``; ``lag.worst`` is the longest gap in
    seconds beyond the timer's own 5 ms.
    """

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.ensure_future(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, loop.time() - before - 0.005)


# The longest the event loop may stall while an outputSchema is checked (issue 11: about 50 ms).
STALL_BOUND = 0.05


async def least_stall(call: Any, control: Any = None, bound: float = 0.05, attempts: int = 3) -> tuple[float, Any]:
    """Return the smallest loop stall of ``call()`` over up to ``attempts`` runs, and its last result.

    A busy machine's scheduler adds stalls of its own now and then; a stall of the library
    is there every time, so the smallest of a few runs tells them apart. The runs stop at
    the first under ``bound``. With ``control`` (the same answer without the work measured),
    each run's stall is counted beyond the control's.

    The objects alive before the run are frozen out of the garbage collector's sight
    (``gc.freeze()``) while it lasts: a full collection walks every tracked object of the
    process, so in a test run that has accumulated a large heap, a collection that the
    measured work happens to trigger would otherwise be charged to the library. asyncio's
    debug mode (the tests run with it) is off while it lasts too: it records a traceback for
    every future and handle it creates, which costs more than the work measured, and twice
    that while a worker thread shares the GIL.
    """
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    best, result = float("inf"), None
    for _ in range(attempts):
        gc.collect()
        gc.freeze()
        loop.set_debug(False)
        try:
            base, result, stall = await _one_stall(call, control)
        finally:
            loop.set_debug(debug)
            gc.unfreeze()
        best = min(best, stall - base)
        if best < bound:
            break
    return best, result


async def _one_stall(call: Any, control: Any) -> tuple[float, Any, float]:
    """Return the control's stall (0 without one), ``call()``'s result and its stall."""
    base = 0.0
    if control is not None:
        async with LoopLag() as lag:
            await control()
        base = lag.worst
    async with LoopLag() as lag:
        result = await call()
    return base, result, lag.worst


class RawPeer:
    """A hostile client: raw bytes to a server's stdin, JSON lines from its stdout.

    It shares no code with mcp_stdio's client (asyncio's own subprocess streams), so it can
    send what no well-behaved client sends. Start it with :meth:`start`, end it with
    :meth:`close` (closes stdin, waits for the exit, kills after ``exit_timeout``).
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stderr: list[str] = []
        self._drain: asyncio.Task | None = None

    @classmethod
    async def start(cls, command: list[str]) -> RawPeer:
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, limit=1 << 26)
        peer = cls(process)
        peer._drain = asyncio.ensure_future(peer._drain_stderr())
        return peer

    @property
    def pid(self) -> int:
        return self.process.pid

    async def send(self, *messages: dict | bytes) -> None:
        """Write messages (dicts as JSON lines, bytes as they are) and wait for the pipe."""
        data = b"".join(m if isinstance(m, bytes) else (json.dumps(m) + "\n").encode() for m in messages)
        self.process.stdin.write(data)  # type: ignore[union-attr]
        await self.process.stdin.drain()  # type: ignore[union-attr]

    async def receive(self, timeout: float = 5.0) -> dict:
        """Return the next message of the server; raise ``asyncio.TimeoutError`` after ``timeout``."""
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)  # type: ignore[union-attr]
        if not line:
            raise EOFError(f"the server closed its stdout (status {await self.process.wait()})")
        return json.loads(line)  # type: ignore[no-any-return]

    async def answer(self, msg_id: Any, timeout: float = 5.0) -> dict:
        """Return the answer to our request ``msg_id``, skipping what comes before it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.receive(max(0.0, deadline - loop.time()))
            if message.get("id") == msg_id and "method" not in message:
                return message

    async def request(self, msg_id: Any, method: str, params: dict | None = None, timeout: float = 5.0) -> dict:
        """Send a request and return its answer."""
        message: dict = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        return await self.answer(msg_id, timeout)

    async def initialize(self, capabilities: dict | None = None) -> dict:
        """Run the handshake (2025-11-25); return the initialize answer."""
        answer = await self.request("init", "initialize", {
            "protocolVersion": "2025-11-25", "capabilities": capabilities or {},
            "clientInfo": {"name": "hostile", "version": "0"}})
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return answer

    def alive(self) -> bool:
        return self.process.returncode is None and alive(self.process.pid)

    async def close(self, exit_timeout: float = 5.0) -> int:
        """Close stdin, wait for the exit (SIGKILL after ``exit_timeout``); return the status."""
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        try:
            status = await asyncio.wait_for(self.process.wait(), exit_timeout)
        except asyncio.TimeoutError:
            self.process.kill()
            status = await self.process.wait()
        await self.process.stdout.read()  # type: ignore[union-attr]
        if self._drain is not None:
            await self._drain
        return status

    async def _drain_stderr(self) -> None:
        async for line in self.process.stderr:  # type: ignore[union-attr]
            self.stderr.append(line.decode("utf-8", "replace").rstrip("\n"))


# Scripts of the synchronous client's cases (item 13), each run in a fresh interpreter
# (script_command): they end a loop thread, fork, or race threads, which a test process
# must not do. Each prints one JSON object.
SCRIPTS = {
    # A logging callback calls sys.exit(): the call waiting for the answer and every later
    # call must fail with ClientClosedError, the server must be killed, a new client work.
    "system_exit": """\
import json, os, sys, time
import mcp_stdio, mcp_stdio.sync
from mcp_stdio.errors import MCPStdioError

def leave(params):
    sys.exit(3)

client = mcp_stdio.sync.connect(mcp_stdio.reference_server_command(), protocol="handshake",
                                logging_callback=leave)
client.start()
report = {}
for key, call in (("waiting", lambda: client.call_tool("log", {"level": "error", "message": "bye"}, timeout=30)),
                  ("later", lambda: client.ping(timeout=30))):
    began = time.monotonic()
    try:
        call()
        report[key] = "returned"
    except MCPStdioError as exc:
        report[key] = f"{type(exc).__name__}: {exc}"
    except BaseException as exc:
        report[key] = f"NOT IN THE TREE: {exc!r}"
    report[key + "_seconds"] = time.monotonic() - began
deadline = time.monotonic() + 2
while time.monotonic() < deadline:
    try:
        with open(f"/proc/{client.pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
    except OSError:
        break
    time.sleep(0.01)
report["server_killed_within_s"] = round(time.monotonic() - deadline + 2, 3)
with mcp_stdio.sync.connect(mcp_stdio.reference_server_command(), protocol="handshake") as other:
    report["new_client"] = mcp_stdio.tool_text(other.call_tool("echo", {"text": "ok"}))
client.close()
print(json.dumps(report))
""",
    # os.fork() with a sync client open: the child (with its own client, or none) exits
    # promptly without touching the parent's server; the parent's client still works.
    "fork": """\
import json, os, sys, time, warnings
import mcp_stdio, mcp_stdio.sync

# Python 3.12+ warns about fork() in any process with threads (the sync loop's is one);
# that is Python's note to whoever forks, not the library's output.
warnings.filterwarnings("ignore", message=".*use of fork.* may lead to deadlocks", category=DeprecationWarning)
client = mcp_stdio.sync.connect(mcp_stdio.reference_server_command(), protocol="handshake")
client.start()
report = {"before": mcp_stdio.tool_text(client.call_tool("echo", {"text": "before"}))}
child = os.fork()
if child == 0:
    if sys.argv[1:] == ["own"]:
        with mcp_stdio.sync.connect(mcp_stdio.reference_server_command(), protocol="handshake") as own:
            if mcp_stdio.tool_text(own.call_tool("echo", {"text": "child"})) != "child":
                os._exit(1)
    sys.exit(0)  # a normal exit: atexit hooks run
began = time.monotonic()
while True:
    pid, status = os.waitpid(child, os.WNOHANG)
    if pid:
        report["child_status"] = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
        break
    if time.monotonic() - began > 10:
        os.kill(child, 9)
        os.waitpid(child, 0)
        report["child_status"] = "hung for 10 s (killed)"
        break
    time.sleep(0.01)
report["child_seconds"] = round(time.monotonic() - began, 3)
report["after"] = mcp_stdio.tool_text(client.call_tool("echo", {"text": "after"}))
client.close()
print(json.dumps(report))
""",
    # start() in one thread, close() in another a moment later (0 to 5.5 ms): start must end
    # within its bound (a result or an mcp_stdio error), and no server may outlive close().
    "race": """\
import json, os, sys, threading, time
import mcp_stdio, mcp_stdio.sync
from mcp_stdio.errors import MCPStdioError

def children():
    me, found = str(os.getpid()), []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == me and fields[0] != "Z":
            found.append(int(pid))
    return found

rows = []
for attempt in range(int(sys.argv[1])):
    client = mcp_stdio.sync.connect(mcp_stdio.reference_server_command(), protocol="handshake")
    outcome = []

    def start():
        began = time.monotonic()
        try:
            client.start()
            outcome.append("started")
        except MCPStdioError as exc:
            outcome.append(type(exc).__name__)
        except BaseException as exc:
            outcome.append(f"NOT IN THE TREE: {exc!r}")
        outcome.append(round(time.monotonic() - began, 3))

    thread = threading.Thread(target=start)
    thread.start()
    time.sleep(attempt % 12 * 0.0005)
    client.close()
    thread.join(30)
    if outcome[:1] == ["started"]:
        client.close()  # start won the race: close it again
    deadline = time.monotonic() + 0.5  # close() reaps its server before it returns: a short grace
    while children() and time.monotonic() < deadline:
        time.sleep(0.02)
    left = children()
    rows.append({"outcome": outcome[0] if outcome else "hung", "seconds": outcome[1] if outcome else None,
                 "servers_left": len(left)})
    for pid in left:  # clean up for the next attempt
        os.kill(pid, 9)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:  # reaped by asyncio's child watcher meanwhile
            pass
print(json.dumps(rows))
""",
}
