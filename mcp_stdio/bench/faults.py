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
    ConnectionClosed,
    LocalProtocolError,
    MessageTooLarge,
    RemoteProtocolError,
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


    # Hostile input (issue 11): H1 to H15 against the client, H16 to H19 against servers

    async def h_poison_chunk(self):
        lost = []
        for mode in ("progress", "cancelled", "task", "meta"):
            protocol = "2026-07-28" if mode == "meta" else "handshake"
            async with mcp_stdio.connect(self.cmd("poison_chunk", mode), protocol=protocol,
                                         sampling_callback=_sample) as client:
                subscription = await client.listen(tools=True) if mode == "meta" else None
                try:
                    result = await asyncio.wait_for(client.call_tool("x", {}, timeout=None,
                                                                     progress_callback=_ignore), 5)
                    if mcp_stdio.tool_text(result) != "answer" or client.invalid_messages != 1:
                        lost.append(mode)
                except asyncio.TimeoutError:
                    lost.append(mode)
                if subscription is not None:
                    await subscription.close()
        return f"4 kinds of poison; answers lost: {', '.join(lost) or 'none'}", not lost

    async def h_odd_ids(self):
        async with mcp_stdio.connect(self.cmd("odd_ids"), protocol="handshake") as client:
            results = await asyncio.wait_for(asyncio.gather(
                *(client.call_tool("echo", {"text": str(i)}, timeout=None) for i in range(3))), 5)
            ignored = client.unexpected_responses
        ok = [mcp_stdio.tool_text(r) for r in results] == ["0", "1", "2"] and ignored == 6
        return f"3 answers kept; {ignored} answers with ids '²' and 5,000 digits ignored", ok

    async def _outcome(self, client: mcp_stdio.Client, name: str) -> tuple[str, float]:
        """Call a tool; return what happened (the error's message, or "valid") and how long it took."""
        started = time.perf_counter()
        try:
            await asyncio.wait_for(client.call_tool(name, {}), 10)
            outcome = "valid"
        except RemoteProtocolError as exc:
            outcome = str(exc)
        return outcome, time.perf_counter() - started

    async def h_backtracking_pattern(self):
        async with mcp_stdio.connect(self.cmd("costly_schemas"), protocol="handshake") as client:
            await client.list_tools()
            stall, (outcome, took) = await least_stall(lambda: self._outcome(client, "backtrack"))
        ok = "is refused: the repeated group '(a+)'" in outcome and took < 2 and stall < 0.1
        return f"pattern refused in {took * 1e3:.0f} ms; loop stalled {stall * 1e3:.0f} ms (bound 100)", ok

    async def h_unique_items(self):
        async with mcp_stdio.connect(self.cmd("costly_schemas"), protocol="handshake") as client:
            await client.list_tools()
            stall, (outcome, took) = await least_stall(lambda: self._outcome(client, "unique"),
                                                       lambda: self._outcome(client, "unchecked"))
        ok = outcome == "valid" and took < 10 and stall < 0.1
        return f"checked in {took:.2f} s; validation stalled the loop {stall * 1e3:.0f} ms (bound 100)", ok

    async def h_validation_budget(self):
        async with mcp_stdio.connect(self.cmd("costly_schemas"), protocol="handshake",
                                     validation_timeout=0.5) as client:
            await client.list_tools()
            stall, (outcome, took) = await least_stall(lambda: self._outcome(client, "anyof"))
        ok = outcome.endswith("within its budget of 0.5 s") and took < 2.5 and stall < 0.1
        return f"2**60 paths: RemoteProtocolError after {took:.2f} s; loop stalled {stall * 1e3:.0f} ms", ok

    async def h_request_storm(self):
        running = [0, 0]
        release = asyncio.Event()

        async def block(params: dict) -> dict:
            running[0] += 1
            running[1] = max(running[1], running[0])
            try:
                await release.wait()
            finally:
                running[0] -= 1
            return {}

        client = mcp_stdio.connect(self.cmd("request_storm", "100000", "2000"), protocol="handshake")
        client.set_request_handler("test/block", block)
        await client.start()
        before = rss()
        started = time.perf_counter()
        try:
            report = json.loads(mcp_stdio.tool_text(await asyncio.wait_for(client.call_tool("storm", {}), 90)))
            took = time.perf_counter() - started
        finally:
            grown = rss() - before
            started = time.perf_counter()
            await client.close()
            closing = time.perf_counter() - started
        ok = (report["pings_answered"] == 100_000 and running[1] == 16 and grown < 64 << 20 and closing < 12
              and took < 60 and report["errors"] == {"-32603 too many requests in flight (limit 1024)": 976})
        return (f"100,000 pings answered in {took:.1f} s; {running[1]} handlers at once; 976 refused -32603; "
                f"+{grown / 2**20:.0f} MiB; close {closing:.2f} s"), ok

    async def h_closes_stdin(self):
        client = mcp_stdio.connect(self.cmd("closes_stdin"), protocol="handshake", exit_timeout=0.5,
                                   terminate_timeout=0.5)
        await client.start()
        started = time.perf_counter()
        try:
            await asyncio.wait_for(client.call_tool("x", {}, timeout=None), 5)
            return "answered?", False
        except ConnectionClosed as exc:
            named = str(exc).startswith("the server closed its stdin (it reads no more requests)")
        failed = time.perf_counter() - started
        while _alive(client.pid) and time.perf_counter() - started < 3:  # type: ignore[arg-type]
            await asyncio.sleep(0.02)
        stopped = time.perf_counter() - started
        await client.close()
        ok = named and failed < 2 and not _alive(client.pid)  # type: ignore[arg-type]
        return f"pending call failed in {failed * 1e3:.0f} ms (ConnectionClosed); server stopped in {stopped:.2f} s", ok

    async def h_list_changed_flood(self):
        async with mcp_stdio.connect(self.cmd("list_changed_flood", "10000"), protocol="handshake",
                                     refresh_on_list_changed=True) as client:
            await client.call_tool("flood", {})
            report = json.loads(mcp_stdio.tool_text(await asyncio.wait_for(client.call_tool("report", {}), 10)))
        ok = report == {"tools_list_requests": 2, "max_in_flight": 1}
        return (f"{report['tools_list_requests']} tools/list for 10,000 list_changed, "
                f"{report['max_in_flight']} in flight at most"), ok

    async def h_result_cache(self):
        import tracemalloc

        async with mcp_stdio.connect(self.cmd("cache_hog"), protocol="2026-07-28") as client:
            texts = [(await client.read_resource("short://a"))["contents"][0]["text"]]
            await asyncio.sleep(0.15)
            texts.append((await client.read_resource("short://a"))["contents"][0]["text"])
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                for i in range(1000):
                    await client.read_resource(f"hog://{i}")
                grown = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
        ok = texts == ["read 1", "read 2"] and grown < 16 << 20
        return f"expired after its ttlMs; 1,000 reads of 50 KB kept {grown / 2**20:.1f} MiB (bound 16)", ok

    async def h_task_bound(self):
        async with mcp_stdio.connect(self.cmd("task_flood"), protocol="handshake", sampling_callback=_sample) as client:
            report = json.loads(mcp_stdio.tool_text(await asyncio.wait_for(
                client.call_tool("flood", {"count": 3000, "ttl": 3_600_000}), 30)))
        refused = sum(report["refused"].values())
        ok = report["listed"] <= 1000 and report["created"] + refused == 3000
        return f"3,000 tasks asked: {report['listed']} kept, {refused} refused", ok

    async def h_task_expiry(self):
        async with mcp_stdio.connect(self.cmd("task_flood"), protocol="handshake", sampling_callback=_sample) as client:
            report = json.loads(mcp_stdio.tool_text(await asyncio.wait_for(client.call_tool("expire", {}), 10)))
        gone = not report["listed"] and report["get"].get("code") == -32602
        return f"0.3 s after its 50 ms ttl the task is {'gone' if gone else 'still served'}", gone

    async def h_bad_handshake(self):
        outside = []
        modes = ("capabilities_string", "tools_capability_a_list", "server_info_string", "instructions_number",
                 "version_number", "discover_versions_string", "discover_capabilities_string")
        for mode in modes:
            try:
                await asyncio.wait_for(mcp_stdio.connect(self.cmd("bad_handshake", mode)).start(), 5)
                outside.append(f"{mode}: started")
            except StartError as exc:
                if "answered with a malformed message" not in str(exc):
                    outside.append(f"{mode}: {exc}")
        return f"{len(modes)} malformed start results: StartError naming the field", not outside

    async def h_bad_lists(self):
        wrong = []
        modes = ("tools_a_string", "tools_items_strings", "cursor_a_number", "cursor_an_object",
                 "tool_name_a_number", "schema_1e999")
        for mode in modes:
            async with mcp_stdio.connect(self.cmd("bad_lists", mode), protocol="handshake") as client:
                try:
                    await asyncio.wait_for(client.list_tools(), 5)
                    wrong.append(mode)
                except RemoteProtocolError:
                    pass
        return f"{len(modes)} malformed tools/list pages: RemoteProtocolError", not wrong

    async def h_hostile_schemas(self):
        outcomes = {}
        async with mcp_stdio.connect(self.cmd("hostile_schemas"), protocol="handshake") as client:
            for tool in (await client.list_tools())["tools"]:
                try:
                    await asyncio.wait_for(client.call_tool(tool["name"], {}), 5)
                    outcomes[tool["name"]] = "valid"
                except RemoteProtocolError:
                    outcomes[tool["name"]] = "refused"
        valid = sorted(name for name, outcome in outcomes.items() if outcome == "valid")
        ok = len(outcomes) == 11 and valid == ["huge_integer", "tenths"]
        return "9 hostile schemas refused (RemoteProtocolError); 0.3 is a multiple of 0.1", ok

    async def h_bad_call_results(self):
        names = ("null", "array", "string", "is_error_a_string", "is_error_one", "content_a_string")
        passed = []
        async with mcp_stdio.connect(self.cmd("bad_call_results"), protocol="handshake") as client:
            await client.list_tools()
            for name in names:
                try:
                    await asyncio.wait_for(client.call_tool(name, {}), 5)
                    passed.append(name)
                except RemoteProtocolError:
                    pass
        return f"{len(names)} non-CallToolResult answers: RemoteProtocolError", not passed

    async def h_malformed_answers(self):
        names = ("result_and_error", "code_a_string", "code_a_float", "no_message", "jsonrpc_1_0", "no_jsonrpc",
                 "neither")
        slow = []
        async with mcp_stdio.connect(self.cmd("malformed_answers"), protocol="handshake") as client:
            for name in names:
                started = time.perf_counter()
                try:
                    await asyncio.wait_for(client.call_tool(name, {}, timeout=None), 5)
                    slow.append(name)
                except RemoteProtocolError:
                    if time.perf_counter() - started > 2:
                        slow.append(name)
                except asyncio.TimeoutError:
                    slow.append(name)
        return f"{len(names)} malformed answers (timeout=None): each call failed at once", not slow

    async def h_nonstandard_json(self):
        async with mcp_stdio.connect(self.cmd("nonstandard_json"), protocol="handshake") as client:
            failed = 0
            for name in ("nan", "infinity", "overflow"):
                try:
                    await asyncio.wait_for(client.call_tool(name, {}, timeout=None), 5)
                except RemoteProtocolError:
                    failed += 1
            surrogate = mcp_stdio.tool_text(await client.call_tool("surrogate", {}))
        ok = failed == 3 and surrogate == "a\ufffdb\ufffdc"
        return f"NaN, -Infinity, 1e999: {failed} calls failed at once; lone surrogates read as U+FFFD", ok

    async def h_bad_progress(self):
        received: list = []
        async with mcp_stdio.connect(self.cmd("nonstandard_json"), protocol="handshake") as client:
            await asyncio.wait_for(client.call_tool("progress", {}, progress_callback=lambda *a: received.append(a)), 5)
            dropped = client.invalid_messages
        ok = [p for p, _, _ in received] == [1, 3] and dropped == 4
        return f"progress 1, 0.5, 1, '2', 3, true: callback saw {[p for p, _, _ in received]}; {dropped} logged", ok

    async def h_group(self):
        servers = {"good": self.cmd("named_tools", "good", "a"), "strings": self.cmd("bad_lists", "tools_a_string"),
                   "files": self.cmd("named_tools", "files", "extra__x"),
                   "files__extra": self.cmd("named_tools", "files__extra", "x")}
        async with mcp_stdio.connect_all(servers, protocol="handshake") as group:
            names = [tool["name"] for tool in await asyncio.wait_for(group.list_tools(), 10)]
            routed = mcp_stdio.tool_text(await group.call_tool("files__extra__x", {}))
            errors = sorted(group.errors)
        ok = names == ["good__a", "files__extra__x"] and errors == ["files__extra", "strings"] and \
            routed == "files extra__x"
        return "hostile server alone in group.errors; 'files__extra' refused; routing unambiguous", ok

    async def h_sync_from_callback(self):
        def check() -> tuple[str, bool]:
            import mcp_stdio.sync

            caught: list = []
            clients: list = []

            def on_log(params: dict) -> None:
                try:
                    clients[0].ping()
                except Exception as exc:
                    caught.append(exc)

            client = mcp_stdio.sync.connect(mcp_stdio.reference_server_command(lean=True), protocol="handshake",
                                            logging_callback=on_log)
            clients.append(client)
            with client:
                client.call_tool("log", {"level": "error", "message": "hi"})
                client.ping()
            ok = len(caught) == 1 and type(caught[0]) is LocalProtocolError
            return "a sync call from a notification callback: LocalProtocolError at once", ok

        return await asyncio.get_running_loop().run_in_executor(None, check)

    async def h_sync_system_exit(self):
        report, stderr = await _run_script("system_exit")
        expected = ("ClientClosedError: the event loop of mcp_stdio.sync stopped: SystemExit was raised in a "
                    "callback on it")
        ok = report["waiting"] == report["later"] == expected and report["new_client"] == "ok"
        noise = f"; {stderr.count(chr(10))} lines of asyncio noise at exit" if stderr else ""
        return f"waiting and later calls: ClientClosedError; server killed{noise}", ok

    async def h_sync_fork(self):
        report, stderr = await _run_script("fork", "own")
        ok = report["child_status"] == 0 and report["child_seconds"] < 5 and report["after"] == "after" and not stderr
        return f"child exited in {report['child_seconds']:.2f} s; the parent's client still works", ok

    async def h_sync_race(self):
        rows, stderr = await _run_script("race", "12")
        left = sum(row["servers_left"] for row in rows)
        expected = ("started", "ClientClosedError", "StartError")
        odd = [row["outcome"] for row in rows if row["outcome"] not in expected]
        ok = not left and not odd and "Task was destroyed" not in stderr
        return f"12 races: {left} servers orphaned; {len(odd)} starts ended otherwise than {'/'.join(expected)}", ok

    async def h_cli(self):
        checks = []
        for mode in ((), ("--json",)):
            status, out, err = await _run(cli_command("--protocol", "handshake", *mode, "call", "x", "--",
                                                      *self.cmd("bidi_text")))
            checks.append(status == 0 and not err and not _raw_controls(out))
        status, out, err = await _run(cli_command("--protocol", "handshake", "call", "null", "--",
                                                  *self.cmd("bad_call_results")))
        checks.append(status == 1 and out == "" and err.count("\n") == 1 and err.startswith("error: tools/call: "))
        return "controls and bidi escaped (text, --json); a hostile shape is a one-line error", all(checks)

    async def h_arguments_and_env(self):
        async with mcp_stdio.connect(self.cmd("call_log"), protocol="handshake") as client:
            try:
                await client.call_tool("t", ["x"])  # type: ignore[arg-type]
                refused = False
            except LocalProtocolError:
                refused = True
            sent = json.loads(mcp_stdio.tool_text(await client.call_tool("t", {})))
        saved = {key: os.environ.get(key) for key in ("LC_SECRET_TOKEN", "LC_MEASUREMENT")}
        os.environ.update(LC_SECRET_TOKEN="hunter2", LC_MEASUREMENT="C")
        try:
            async with mcp_stdio.connect(self.cmd("env_dump"), protocol="handshake") as client:
                env = json.loads(client.instructions or "{}")["env"]
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        ok = refused and len(sent) == 1 and "LC_SECRET_TOKEN" not in env and env.get("LC_MEASUREMENT") == "C"
        return "list arguments refused locally (never sent); LC_SECRET_TOKEN not passed", ok

    async def h_server_one_message(self):
        ok = True
        for command, built in ((mcp_stdio.reference_server_command(lean=True), False), (target_server_command(), True)):
            peer = await RawPeer.start(command)
            try:
                await peer.initialize()
                await peer.send(*({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": bad}}
                                  for bad in ([], {}, None, 1.5)))
                await peer.send(b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"scale",'
                                b'"arguments":{"a":NaN,"b":1}}}\n')
                ok = ok and (await peer.receive())["error"]["code"] == -32700
                if built:
                    answer = await peer.request(2, "tools/call", {"name": "scale", "arguments": {"a": 1e308, "b": 10}})
                    ok = ok and answer.get("error", {}).get("code") == -32603
                ok = ok and "result" in await peer.request(3, "ping") and peer.alive()
            finally:
                ok = await peer.close() == 0 and ok
        return "bad cancel ids, NaN in a request, Infinity in a result: errors; both servers live on", ok

    async def h_server_memory(self):
        peer = await RawPeer.start(mcp_stdio.reference_server_command(lean=True))
        try:
            await peer.initialize()
            before = rss(peer.pid)
            block = b"x" * (1 << 20)
            for _ in range(80):
                await peer.send(block)
            await peer.send(b"\n")
            served = "result" in await peer.request(1, "ping", timeout=30)
            peak = rss(peer.pid, "VmHWM") - before
            before = rss(peer.pid)
            for start in range(0, 100_000, 10_000):
                await peer.send(b"".join(b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":'
                                         b'{"requestId":"u%d"}}\n' % i for i in range(start, start + 10_000)))
            served = served and "result" in await peer.request(2, "ping", timeout=30)
            kept = rss(peer.pid) - before
        finally:
            status = await peer.close()
        ok = served and status == 0 and peak < (64 + 8) << 20 and kept < 4 << 20
        return (f"80 MiB line: peak +{peak / 2**20:.0f} MiB (cap 64); 100,000 unknown cancels: "
                f"+{kept / 2**20:.1f} MiB"), ok

    async def h_server_roots(self):
        peer = await RawPeer.start(target_server_command(request_timeout=2.0))
        try:
            await peer.initialize({"roots": {}})
            started = time.perf_counter()
            await peer.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                             "params": {"name": "roots", "arguments": {}}})
            asked = await peer.receive()
            listed = "result" in await peer.request(2, "tools/list", timeout=1.5)
            cancelled = await peer.receive(5)
            answer = await peer.receive(5)
            took = time.perf_counter() - started
        finally:
            status = await peer.close()
        ok = (asked.get("method") == "roots/list" and listed and status == 0
              and cancelled.get("method") == "notifications/cancelled" and answer.get("result", {}).get("isError"))
        return f"tools/list served meanwhile; roots/list timed out, call answered in {took:.2f} s", ok

    async def h_server_lifecycle(self):
        peer = await RawPeer.start(mcp_stdio.reference_server_command(lean=True))
        try:
            early = await peer.request(1, "tools/list")
            ping = await peer.request(2, "ping")
            await peer.initialize()
            again = await peer.request(3, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                                         "clientInfo": {"name": "again", "version": "0"}})
        finally:
            status = await peer.close()
        refused = "initialize was already received: the session is initialized"
        ok = (early.get("error", {}).get("code") == -32600 and "result" in ping and status == 0
              and again.get("error", {}).get("message") == refused)
        return "tools/list before initialize: -32600; ping answered; second initialize: -32600", ok

async def _sample(params: dict) -> dict:
    return {"role": "assistant", "content": {"type": "text", "text": "fine"}, "model": "bench"}


def _ignore(*args: Any) -> None:
    pass


async def _run(command: list[str], timeout: float = 120) -> tuple[int, str, str]:
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


async def _run_script(name: str, *args: str) -> tuple[Any, str]:
    """Run one of :data:`SCRIPTS`; return its JSON report and its stderr."""
    status, out, err = await _run(script_command(name, *args))
    if status != 0:
        raise RuntimeError(f"script {name} exited with status {status}: {err.strip()[-300:]}")
    return json.loads(out), err


def _raw_controls(text: str) -> list[str]:
    """Return the escapes, C1 controls and bidi characters of ``text`` (what must not reach a terminal)."""
    return [c for c in text if c in "\x1b\x07" or 0x80 <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x202e
            or 0x2066 <= ord(c) <= 0x2069 or c in "\u200e\u200f"]


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


async def least_stall(call: Any, control: Any = None, bound: float = 0.1, attempts: int = 3) -> tuple[float, Any]:
    """Return the smallest loop stall of ``call()`` over up to ``attempts`` runs, and its last result.

    A busy machine's scheduler adds stalls of its own now and then; a stall of the library
    is there every time, so the smallest of a few runs tells them apart. The runs stop at
    the first under ``bound``. With ``control`` (the same answer without the work measured),
    each run's stall is counted beyond the control's.
    """
    best, result = float("inf"), None
    for _ in range(attempts):
        base = 0.0
        if control is not None:
            async with LoopLag() as lag:
                await control()
            base = lag.worst
        async with LoopLag() as lag:
            result = await call()
        best = min(best, lag.worst - base)
        if best < bound:
            break
    return best, result


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
    ("H1. malformed message beside an answer", "h_poison_chunk"),
    ("H2. answer ids that int() rejects", "h_odd_ids"),
    ("H3. outputSchema: backtracking pattern", "h_backtracking_pattern"),
    ("H3. outputSchema: uniqueItems of 20,000", "h_unique_items"),
    ("H3. outputSchema: past validation_timeout", "h_validation_budget"),
    ("H4. 100,000 pings + 2,000 blocking requests", "h_request_storm"),
    ("H5. closes its stdin, stays alive", "h_closes_stdin"),
    ("H6. 10,000 list_changed, refresh on", "h_list_changed_flood"),
    ("H7. 2026-07-28 cache: ttlMs and 256 entries", "h_result_cache"),
    ("H7. 3,000 client-side tasks", "h_task_bound"),
    ("H7. client-side task past its ttl", "h_task_expiry"),
    ("H8. malformed initialize/discover results", "h_bad_handshake"),
    ("H8. malformed tools/list pages", "h_bad_lists"),
    ("H8. hostile outputSchemas", "h_hostile_schemas"),
    ("H9. results that are not CallToolResult", "h_bad_call_results"),
    ("H10. malformed answers with a pending id", "h_malformed_answers"),
    ("H11. NaN, Infinity, 1e999, lone surrogates", "h_nonstandard_json"),
    ("H11. progress backwards or not a number", "h_bad_progress"),
    ("H12. group: hostile server, colliding names", "h_group"),
    ("H13. sync: sync call from a callback", "h_sync_from_callback"),
    ("H13. sync: SystemExit in a callback", "h_sync_system_exit"),
    ("H13. sync: os.fork() with a client open", "h_sync_fork"),
    ("H13. sync: close() racing start()", "h_sync_race"),
    ("H14. command line: controls, bidi, shapes", "h_cli"),
    ("H15. list arguments, LC_* variables", "h_arguments_and_env"),
    ("H16. server: bad cancel ids, NaN, Infinity", "h_server_one_message"),
    ("H17. server: 80 MiB line, 100,000 cancels", "h_server_memory"),
    ("H18. server: unanswered roots/list", "h_server_roots"),
    ("H19. server: before and after initialize", "h_server_lifecycle"),
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
