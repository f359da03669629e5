"""The hostile-input rows of the fault matrix (``H1`` to ``H19``), and their helpers.

H1 to H15 drive the client with one misbehaving server each (``mcp_stdio/bench/servers/``);
H16 to H19 drive a server (the reference server, or one built with
:class:`mcp_stdio.server.Server`, :func:`target_server_command`) with a hostile client
(:class:`RawPeer`). :mod:`mcp_stdio.bench.faults` runs them with the other faults;
``tests/test_hostile_client.py`` and ``tests/test_hostile_server.py`` assert each case in
detail, with the helpers of this module.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import mcp_stdio
from mcp_stdio import (
    ConnectionClosed,
    LocalProtocolError,
    RemoteProtocolError,
    StartError,
)

from .hostile_tools import (
    STALL_BOUND,
    Blocker,
    RawPeer,
    alive,
    cli_command,
    ignore,
    least_stall,
    raw_controls,
    rss,
    run_command,
    run_script,
    sample_answer,
    target_server_command,
)


class HostileCases:
    """The hostile-input cases; each returns (what happened, handled as specified).

    Mixed into the fault matrix's cases, whose ``cmd(name)`` names a server of
    ``mcp_stdio/bench/servers/``.
    """


    async def h_poison_chunk(self):
        lost = []
        for mode in ("progress", "cancelled", "task", "meta"):
            protocol = "2026-07-28" if mode == "meta" else "handshake"
            async with mcp_stdio.connect(self.cmd("poison_chunk", mode), protocol=protocol,
                                         sampling_callback=sample_answer) as client:
                subscription = await client.listen(tools=True) if mode == "meta" else None
                try:
                    result = await asyncio.wait_for(client.call_tool("x", {}, timeout=None,
                                                                     progress_callback=ignore), 5)
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
        ok = "is refused: the repeated group '(a+)'" in outcome and took < 2 and stall < STALL_BOUND
        return f"pattern refused in {took * 1e3:.0f} ms; loop stalled {stall * 1e3:.0f} ms (bound 50)", ok

    async def h_unique_items(self):
        async with mcp_stdio.connect(self.cmd("costly_schemas"), protocol="handshake") as client:
            await client.list_tools()
            stall, (outcome, took) = await least_stall(lambda: self._outcome(client, "unique"),
                                                       lambda: self._outcome(client, "unchecked"))
        ok = outcome == "valid" and took < 10 and stall < STALL_BOUND
        return f"checked in {took:.2f} s; validation stalled the loop {stall * 1e3:.0f} ms (bound 50)", ok

    async def h_validation_budget(self):
        async with mcp_stdio.connect(self.cmd("costly_schemas"), protocol="handshake",
                                     validation_timeout=0.5) as client:
            await client.list_tools()
            stall, (outcome, took) = await least_stall(lambda: self._outcome(client, "anyof"))
        ok = outcome.endswith("within its budget of 0.5 s") and took < 2.5 and stall < STALL_BOUND
        return f"2**60 paths: RemoteProtocolError after {took:.2f} s; loop stalled {stall * 1e3:.0f} ms", ok

    async def h_request_storm(self):
        block = Blocker()
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
        ok = (report["pings_answered"] == 100_000 and block.most == 16 and grown < 64 << 20 and closing < 12
              and took < 60 and report["errors"] == {"-32603 too many requests in flight (limit 1024)": 976})
        return (f"100,000 pings answered in {took:.1f} s; {block.most} handlers at once; 976 refused -32603; "
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
        while alive(client.pid) and time.perf_counter() - started < 3:  # type: ignore[arg-type]
            await asyncio.sleep(0.02)
        stopped = time.perf_counter() - started
        await client.close()
        ok = named and failed < 2 and not alive(client.pid)  # type: ignore[arg-type]
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
        async with mcp_stdio.connect(self.cmd("task_flood"), protocol="handshake",
                                     sampling_callback=sample_answer) as client:
            report = json.loads(mcp_stdio.tool_text(await asyncio.wait_for(
                client.call_tool("flood", {"count": 3000, "ttl": 3_600_000}), 30)))
        refused = sum(report["refused"].values())
        ok = report["listed"] <= 1000 and report["created"] + refused == 3000
        return f"3,000 tasks asked: {report['listed']} kept, {refused} refused", ok

    async def h_task_expiry(self):
        async with mcp_stdio.connect(self.cmd("task_flood"), protocol="handshake",
                                     sampling_callback=sample_answer) as client:
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
        report, stderr = await run_script("system_exit")
        expected = ("ClientClosedError: the event loop of mcp_stdio.sync stopped: SystemExit was raised in a "
                    "callback on it")
        ok = report["waiting"] == report["later"] == expected and report["new_client"] == "ok"
        noise = f"; {stderr.count(chr(10))} lines of asyncio noise at exit" if stderr else ""
        return f"waiting and later calls: ClientClosedError; server killed{noise}", ok

    async def h_sync_fork(self):
        report, stderr = await run_script("fork", "own")
        ok = report["child_status"] == 0 and report["child_seconds"] < 5 and report["after"] == "after" and not stderr
        return f"child exited in {report['child_seconds']:.2f} s; the parent's client still works", ok

    async def h_sync_race(self):
        rows, stderr = await run_script("race", "12")
        left = sum(row["servers_left"] for row in rows)
        expected = ("started", "ClientClosedError", "StartError")
        odd = [row["outcome"] for row in rows if row["outcome"] not in expected]
        ok = not left and not odd and "Task was destroyed" not in stderr
        return f"12 races: {left} servers orphaned; {len(odd)} starts ended otherwise than {'/'.join(expected)}", ok

    async def h_cli(self):
        checks = []
        for mode in ((), ("--json",)):
            status, out, err = await run_command(cli_command("--protocol", "handshake", *mode, "call", "x", "--",
                                                      *self.cmd("bidi_text")))
            checks.append(status == 0 and not err and not raw_controls(out))
        status, out, err = await run_command(cli_command("--protocol", "handshake", "call", "null", "--",
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

# The rows of the fault matrix: (title, method of HostileCases).
HOSTILE_CASES = [
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
