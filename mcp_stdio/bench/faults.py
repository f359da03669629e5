"""Group ``faults``: the fault matrix against the library, as a table.

Each case starts one misbehaving server of ``mcp_stdio/bench/servers/`` (one misbehaviour
per file; part of the package, so an installed wheel or a vendored folder has them), checks
what the client did, how long it took, and whether any child process, file descriptor or
asyncio task was left behind.

The rows ``H1`` to ``H19`` are the hostile-input cases of issue 11: H1 to H15 drive the
client with a misbehaving server, H16 to H19 drive a server (the reference server, or one
built with :class:`mcp_stdio.server.Server`, :func:`target_server_command`) with a hostile
client (:class:`RawPeer`). ``tests/test_hostile_client.py`` and
``tests/test_hostile_server.py`` assert each case in detail, with these helpers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import mcp_stdio
from mcp_stdio import (
    ClientClosedError,
    MessageTooLarge,
    RequestTimeout,
    ServerExited,
    SpawnError,
    StartError,
)

from ..leakcheck import live_children
from .common import Context, open_fd_count
from .servers import SERVERS


class _Cases:
    """The fault cases; each returns (what happened, handled as specified)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def cmd(self, name: str, *args: str) -> list[str]:
        # -S: the servers need no site-packages, and the times then show the client's
        # reaction rather than the interpreter's start-up.
        return [sys.executable, "-S", str(self.folder / f"{name}.py"), *args]

    async def command_not_found(self):
        try:
            await mcp_stdio.connect(["mcp-stdio-no-such-command"]).start()
        except SpawnError as exc:
            return str(exc), "command not found" in str(exc)
        return "started?", False

    async def not_executable(self):
        try:
            await mcp_stdio.connect([str(self.folder / "_common.py")]).start()
        except SpawnError as exc:
            return str(exc), "permission denied" in str(exc)
        return "started?", False

    async def a_directory(self):
        try:
            await mcp_stdio.connect([str(self.folder)]).start()
        except SpawnError as exc:
            return str(exc), "is a directory" in str(exc)
        return "started?", False

    async def exits_before_initialize(self):
        try:
            await mcp_stdio.connect(self.cmd("exit_early")).start()
        except StartError as exc:
            return f"StartError, status {exc.returncode}, {len(exc.stderr_tail)} stderr lines", (
                exc.returncode == 3 and exc.stderr_tail[-1] == "fatal: configuration file missing")
        return "started?", False

    async def exits_silently_before_initialize(self):
        try:
            await mcp_stdio.connect(self.cmd("exit_early", "--quiet")).start()
        except StartError as exc:
            return f"StartError, status {exc.returncode}", exc.returncode == 3 and not exc.stderr_tail
        return "started?", False

    async def dies_mid_requests(self):
        async with mcp_stdio.connect(self.cmd("die_midway")) as client:
            results = await asyncio.gather(*(client.call_tool("echo", {"text": "x"}) for _ in range(50)),
                                           return_exceptions=True)
        failed = sum(isinstance(r, ServerExited) and r.returncode == 7 for r in results)
        return f"{failed}/50 failed with 'server exited with status 7'", failed == 50

    async def killed_while_frozen(self):
        client = mcp_stdio.connect(mcp_stdio.reference_server_command())
        await client.start()
        os.kill(client.pid, signal.SIGSTOP)
        calls = [asyncio.ensure_future(client.call_tool("echo", {"text": "x"})) for _ in range(100)]
        await asyncio.sleep(0.05)
        killed = time.perf_counter()
        os.kill(client.pid, signal.SIGKILL)
        await asyncio.wait(calls)
        latency = time.perf_counter() - killed
        await client.close()
        ok = all(isinstance(c.exception(), ServerExited) for c in calls)
        return f"100 pending failed {latency * 1e3:.1f} ms after SIGKILL", ok

    async def banners_on_stdout(self):
        async with mcp_stdio.connect(self.cmd("banner")) as client:
            results = [mcp_stdio.tool_text(await client.call_tool("echo", {"text": str(i)})) for i in range(3)]
            skipped = client.invalid_messages
        return f"answers intact, {skipped} junk lines skipped and logged", results == ["0", "1", "2"]

    async def odd_encodings(self):
        texts = []
        async with mcp_stdio.connect(self.cmd("encodings")) as client:
            for mode in ("whole", "split"):
                texts.append(mcp_stdio.tool_text(await client.call_tool("echo", {"text": mode})))
        ok = texts == [m + "\u2028\u0085\u2029 done" for m in ("whole", "split")]
        return "BOM, CRLF, blank lines, bad UTF-8, U+2028, 1-byte writes: all read", ok

    async def line_over_the_limit(self):
        async with mcp_stdio.connect(self.cmd("oversized", "200000"), max_message_size=100_000) as client:
            try:
                await client.call_tool("echo", {"text": "x"})
            except MessageTooLarge as exc:
                return "MessageTooLarge; connection closed", exc.limit == 100_000
        return "answered?", False

    async def endless_line(self):
        async with mcp_stdio.connect(self.cmd("endless_line"), max_message_size=1_000_000) as client:
            try:
                await client.call_tool("echo", {"text": "x"})
            except MessageTooLarge:
                return "MessageTooLarge after 1 MB; server stopped", True
        return "answered?", False

    async def stderr_flood_100mb(self):
        async with mcp_stdio.connect(self.cmd("stderr_flood", "100"), stderr_tail_lines=3) as client:
            await client.ping()
            await asyncio.sleep(0.02)
            tail = client.stderr_tail
        return "100 MiB drained, then the server answered", tail[-1:] == ("flood done",)

    async def stops_reading_stdin(self):
        client = mcp_stdio.connect(self.cmd("no_read"), timeout=0.5, queue_size=4, close_timeout=0.2,
                                   exit_timeout=0.2, terminate_timeout=0.2)
        await client.start()
        start = time.perf_counter()
        results = await asyncio.gather(*(client.call_tool("echo", {"text": "z" * 200_000}) for _ in range(20)),
                                       return_exceptions=True)
        waited = time.perf_counter() - start
        await client.close()
        timed_out = sum(isinstance(r, RequestTimeout) for r in results)
        return f"{timed_out}/20 timed out after {waited:.2f} s (timeout 0.5 s)", timed_out == 20

    async def ignores_eof_and_sigterm_with_grandchild(self):
        lines: list = []
        client = mcp_stdio.connect(self.cmd("stubborn"), stderr_callback=lines.append, exit_timeout=0.5,
                                   terminate_timeout=0.5)
        await client.start()
        await client.ping()
        start = time.perf_counter()
        await client.close()
        took = time.perf_counter() - start
        grandchild = int(lines[0].split()[1]) if lines else None
        alive = grandchild is not None and _alive(grandchild)
        return f"killed (status {client.returncode}) in {took:.2f} s; grandchild alive: {alive}", not alive

    async def leaves_a_background_child(self):
        lines: list = []
        client = mcp_stdio.connect(self.cmd("daemonize"), stderr_callback=lines.append, terminate_timeout=0.5)
        await client.start()
        await client.ping()
        await client.close()
        background = int(lines[0].split()[1]) if lines else None
        await asyncio.sleep(0.05)
        alive = background is not None and _alive(background)
        return f"server exited {client.returncode}; background child alive: {alive}", not alive

    async def never_answers(self):
        lines: list = []
        async with mcp_stdio.connect(self.cmd("silent"), timeout=0.2, stderr_callback=lines.append) as client:
            try:
                await client.call_tool("echo", {"text": "x"})
            except RequestTimeout:
                await client.ping()
        ok = bool(lines) and lines[0].startswith("cancelled ") and "timed out" in lines[0]
        return "RequestTimeout; notifications/cancelled received by the server", ok

    async def bad_ids(self):
        async with mcp_stdio.connect(self.cmd("bad_ids"), timeout=0.3) as client:
            results = await asyncio.gather(*(client.call_tool("echo", {"text": f"t{i}"}) for i in range(5)))
            ignored = client.unexpected_responses + client.invalid_messages
        ok = [mcp_stdio.tool_text(r) for r in results] == [f"t{i}" for i in range(5)]
        return f"every call got its own answer; {ignored} wrong answers ignored and logged", ok

    async def notification_storm(self):
        received: list = []
        async with mcp_stdio.connect(self.cmd("server_requests"), message_handler=received.append) as client:
            result = await client.call_tool("echo", {"text": "go"})
        in_order = all(n["params"]["data"] == i for i, n in enumerate(received))
        ok = len(received) == 100_000 and in_order and "-32601" in mcp_stdio.tool_text(result)
        return f"{len(received)} notifications in order; unknown request answered -32601; reply arrived", ok

    async def messages_before_initialize(self):
        received: list = []
        async with mcp_stdio.connect(self.cmd("early_messages"), message_handler=received.append) as client:
            text = mcp_stdio.tool_text(await client.call_tool("echo", {"text": "?"}))
        ok = text == "[('early-ping', True, None), ('early-roots', False, -32601)]" and len(received) == 1
        return "ping answered, roots/list -32601, log delivered", ok

    async def close_twice_from_other_tasks(self):
        client = mcp_stdio.connect(self.cmd("silent"), close_timeout=0.1)
        await client.start()
        calls = [asyncio.ensure_future(client.call_tool("echo", {"text": "x"})) for _ in range(10)]
        await asyncio.sleep(0.02)
        await asyncio.gather(client.close(), asyncio.ensure_future(client.close()))
        results = await asyncio.gather(*calls, return_exceptions=True)
        ok = all(isinstance(r, ClientClosedError) for r in results)
        return "pending calls failed with ClientClosedError; no error leaked", ok

    async def cancel_during_handshake(self):
        client = mcp_stdio.connect(self.cmd("silent_start"))
        starter = asyncio.ensure_future(client.start())
        await asyncio.sleep(0.1)
        starter.cancel()
        try:
            await starter
        except asyncio.CancelledError:
            pass
        await client.close()
        return "cancelled; child stopped", not _alive(client.pid) if client.pid else False


def _alive(pid: int) -> bool:
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
        return self.process.returncode is None and _alive(self.process.pid)

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
import json, os, sys, time
import mcp_stdio, mcp_stdio.sync

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


CASES = [
    ("1. command not found", "command_not_found"),
    ("1. not executable", "not_executable"),
    ("1. a directory", "a_directory"),
    ("2. exits before initialize (stderr)", "exits_before_initialize"),
    ("2. exits before initialize (silent)", "exits_silently_before_initialize"),
    ("3. dies in the middle of 50 requests", "dies_mid_requests"),
    ("3. SIGKILL while frozen, 100 pending", "killed_while_frozen"),
    ("4. banners and half-JSON on stdout", "banners_on_stdout"),
    ("5. odd but legal encodings", "odd_encodings"),
    ("6. one line over max_message_size", "line_over_the_limit"),
    ("6. endless line", "endless_line"),
    ("7. 100 MB on stderr", "stderr_flood_100mb"),
    ("8. stops reading stdin", "stops_reading_stdin"),
    ("9. ignores EOF and SIGTERM, grandchild", "ignores_eof_and_sigterm_with_grandchild"),
    ("9. leaves a background child", "leaves_a_background_child"),
    ("10. never answers", "never_answers"),
    ("11. unknown, duplicate, wrong-type ids", "bad_ids"),
    ("12. 100,000 notifications + unknown request", "notification_storm"),
    ("13. messages before initialize answer", "messages_before_initialize"),
    ("14. close twice from other tasks", "close_twice_from_other_tasks"),
    ("14. cancel during the handshake", "cancel_during_handshake"),
]


async def run(ctx: Context) -> None:
    """Run every fault case and record a row per case."""
    if not (SERVERS / "_common.py").is_file():
        raise FileNotFoundError(f"the fault servers are missing from {SERVERS} (copy the whole mcp_stdio/ folder)")
    cases = _Cases(SERVERS)
    rows = []
    for index, (name, method) in enumerate(CASES):
        ctx.progress(name, index + 1, len(CASES))
        tasks_before = asyncio.all_tasks()
        children_before = set(live_children())
        fds_before = open_fd_count()
        start = time.perf_counter()
        try:
            outcome, ok = await asyncio.wait_for(getattr(cases, method)(), 60)
        except Exception as exc:  # a row that says what went wrong
            outcome, ok = f"unexpected {type(exc).__name__}: {exc}", False
        elapsed = time.perf_counter() - start
        await asyncio.sleep(0.01)
        left = []
        children = set(live_children()) - children_before
        if children:
            left.append(f"{len(children)} children")
        fds = open_fd_count() - fds_before
        if fds > 0:
            left.append(f"{fds} fds")
        tasks = len(asyncio.all_tasks() - tasks_before)
        if tasks:
            left.append(f"{tasks} tasks")
        rows.append({"fault": name, "outcome": outcome, "seconds": round(elapsed, 3), "handled": ok,
                     "left_behind": ", ".join(left) or "nothing"})
    handled = sum(r["handled"] for r in rows)
    clean = sum(r["left_behind"] == "nothing" for r in rows)
    ctx.record("matrix", {"available": True, "cases": len(rows), "handled": handled, "clean": clean,
                          "all_handled": handled == len(rows), "all_clean": clean == len(rows), "rows": rows})


def table(rows: list[dict]) -> str:
    """Return the fault rows as a plain-text table."""
    header = ("fault", "handled", "time", "left behind", "what happened")
    lines = [f"{header[0]:<44} {header[1]:<7} {header[2]:>8}  {header[3]:<11} {header[4]}"]
    for row in rows:
        lines.append(f"{row['fault']:<44} {'yes' if row['handled'] else 'NO':<7} {row['seconds']:>7.3f}s  "
                     f"{row['left_behind']:<11} {row['outcome']}")
    return "\n".join(lines)
