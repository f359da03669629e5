"""Group ``faults``: the fault matrix against the library, as a table.

Each case starts one misbehaving server of ``mcp_stdio/bench/servers/`` (one misbehaviour
per file; part of the package, so an installed wheel or a vendored folder has them), checks
what the client did, how long it took, and whether any child process, file descriptor or
asyncio task was left behind.

The rows ``H1`` to ``H19``, the hostile-input cases, are in :mod:`mcp_stdio.bench.hostile`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

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
from .hostile import HOSTILE_CASES, HostileCases
from .hostile import alive as _alive
from .servers import SERVERS


class _Cases(HostileCases):
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
        async with mcp_stdio.connect(self.cmd("bad_ids"), timeout=30) as client:
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
    *HOSTILE_CASES,
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
