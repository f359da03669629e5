"""Hostile input against the client (issue 11, items 1 to 15): one misbehaving server per
file in mcp_stdio/bench/servers/, a real process each time, and the bound of each required
behaviour asserted (time with ``asyncio.wait_for`` or a measured duration, memory with
tracemalloc or /proc, the exact exception of mcp_stdio.errors and its message).

The same cases are rows H1 to H15 of ``python -m mcp_stdio.bench faults``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
import tracemalloc

import pytest

import mcp_stdio
import mcp_stdio.sync
from mcp_stdio import (
    ClientClosedError,
    ConfigError,
    ConnectionClosed,
    LocalProtocolError,
    RemoteProtocolError,
    StartError,
)
from mcp_stdio.bench.hostile_tools import Blocker, cli_command, least_stall, rss, script_command
from mcp_stdio.errors import UnknownTool

from .helpers import process_alive, run, server

pytestmark = pytest.mark.usefixtures("no_leaks")

# The bound of an answer that is already on its way: before the fixes these calls waited
# for ever (timeout=None), so any finite bound proves the point; 5 s absorbs a busy machine.
ANSWER_BOUND = 5.0
# The event loop's longest stall allowed while an outputSchema is checked: a behaviour
# bound, loose for a loaded machine (issue 11's fuzzer bound). The target, about 50 ms, is
# the bench's to check (hostile_tools.STALL_BOUND, row H3): the validator runs at most 20 ms on
# the loop (INLINE_VALIDATION_BUDGET), then in a worker thread. The smallest of up to three
# runs counts (hostile_tools.least_stall): a loaded machine's scheduler stalls the loop now and then.
STALL_BOUND = 0.1


def text(result: dict) -> str:
    return mcp_stdio.tool_text(result)


def warnings_of(caplog, logger: str = "mcp_stdio.client") -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno == logging.WARNING]


def no_asyncio_complaints(caplog) -> None:
    """Fail on asyncio's own complaints (writes to a closed pipe, destroyed tasks, errors);
    its slow-callback notes of debug mode are allowed."""
    bad = [r.getMessage() for r in caplog.records if r.name == "asyncio"
           and (r.levelno >= logging.ERROR or "pipe closed" in r.getMessage())]
    assert not bad, bad[:3]


async def sample(params: dict) -> dict:
    return {"role": "assistant", "content": {"type": "text", "text": "fine"}, "model": "test"}


# 1. Lost answers

POISON_WARNINGS = {
    "progress": "notifications/progress: $.progressToken: [2] is not of type string or integer",
    "cancelled": "notifications/cancelled: $.requestId: {'id': 2} is not of type string or integer",
    "task": "sampling/createMessage request refused: Invalid params for sampling/createMessage: "
            "$.task: 1 is not of type object",
    "meta": "notifications/tools/list_changed: $._meta: 'poison' is not of type object",
}


@pytest.mark.parametrize("mode", list(POISON_WARNINGS))
def test_1_a_malformed_message_in_the_chunk_of_an_answer_never_loses_the_answer(mode, caplog):
    progress: list = []

    async def main():
        options: dict = {"sampling_callback": sample} if mode == "task" else {}
        protocol = "2026-07-28" if mode == "meta" else "handshake"
        async with mcp_stdio.connect(server("poison_chunk", mode), protocol=protocol, **options) as client:
            subscription = await client.listen(tools=True) if mode == "meta" else None
            # The progress-tracked call: the poison, a good progress and the answer come in
            # one chunk. timeout=None: only wait_for bounds it.
            call = client.call_tool("x", {}, timeout=None, progress_callback=lambda *args: progress.append(args))
            result = await asyncio.wait_for(call, ANSWER_BOUND)
            assert text(result) == "answer"
            assert progress == [(1, 2, None)]  # the good progress after the poison arrived too
            assert client.invalid_messages == 1
            if mode == "task":  # the request with a usable id got a JSON-RPC error answer
                reply = json.loads(text(await asyncio.wait_for(client.call_tool("report", {}), ANSWER_BOUND)))
                assert reply == {"jsonrpc": "2.0", "id": "poison", "error": {
                    "code": -32602, "message": "Invalid params for sampling/createMessage: $.task: 1 is not of type "
                                               "object"}}
            if subscription is not None:
                await subscription.close()
            assert await asyncio.wait_for(client.ping(), ANSWER_BOUND) is None  # the session goes on

    with caplog.at_level(logging.WARNING):
        run(main())
    assert [w for w in warnings_of(caplog) if "skipped a message" in w] == [
        f"! {sys.executable}: skipped a message that is not valid: {POISON_WARNINGS[mode]}: "
        f"{POISON_WARNINGS[mode].split(':')[0].split(' ')[0]!r}"]


# 2. Unexpected ids that int() rejects

def test_2_answer_ids_that_int_rejects_are_counted_and_the_real_answers_in_the_chunk_kept(caplog):
    async def main():
        async with mcp_stdio.connect(server("odd_ids"), protocol="handshake") as client:
            calls = [client.call_tool("echo", {"text": str(i)}, timeout=None) for i in range(3)]
            results = await asyncio.wait_for(asyncio.gather(*calls), ANSWER_BOUND)
            assert [text(r) for r in results] == ["0", "1", "2"]
            assert client.unexpected_responses == 6
            assert client.invalid_messages == 0

    with caplog.at_level(logging.WARNING):
        run(main())
    warnings = warnings_of(caplog)
    assert warnings.count(f"! {sys.executable}: ignored an answer (id '\u00b2' was never used by this side)") == 3
    assert warnings.count(f"! {sys.executable}: ignored an answer (id '{'7' * 56}... was never used by this "
                          "side)") == 3


# 3. Event-loop stalls in outputSchema validation

async def outcome(client: mcp_stdio.Client, name: str) -> tuple[object, float]:
    """Call a tool; return its result or the RemoteProtocolError it raised, and how long it took."""
    began = time.monotonic()
    try:
        result: object = await asyncio.wait_for(client.call_tool(name, {}), ANSWER_BOUND)
    except RemoteProtocolError as exc:
        result = exc
    return result, time.monotonic() - began


def test_3_a_backtracking_pattern_is_refused_at_once_without_stalling_the_loop():
    async def main():
        async with mcp_stdio.connect(server("costly_schemas"), protocol="handshake") as client:
            await client.list_tools()
            stall, (error, took) = await least_stall(lambda: outcome(client, "backtrack"), bound=STALL_BOUND)
            assert type(error) is RemoteProtocolError
            assert str(error) == (
                "tools/call backtrack: the tool's outputSchema cannot be checked: #/properties/value/pattern: "
                "pattern '^(a+)+$' is refused: the repeated group '(a+)' contains a quantifier or '|' (like "
                "(a+)+), which can take exponential time")
            assert took < 2.0  # was 14.8 s of backtracking on the loop
            assert stall < STALL_BOUND, stall

    run(main())


def test_3_unique_items_over_20000_objects_is_checked_in_linear_time_without_stalling_the_loop():
    async def main():
        async with mcp_stdio.connect(server("costly_schemas"), protocol="handshake") as client:
            await client.list_tools()
            # The control: the same 270 KB answer from a tool without an outputSchema, to
            # take apart what reading the answer costs the loop from what checking it does.
            stall, (result, took) = await least_stall(lambda: outcome(client, "unique"),
                                                      lambda: outcome(client, "unchecked"), bound=STALL_BOUND)
            assert len(result["structuredContent"]["value"]) == 20_000  # type: ignore[index]
            assert took < 10.0  # quadratic, it took 72 s
            assert stall < STALL_BOUND, stall

    run(main())


def test_3_a_validation_past_its_budget_ends_with_a_clear_error_and_the_loop_keeps_running():
    async def main():
        async with mcp_stdio.connect(server("costly_schemas"), protocol="handshake",
                                     validation_timeout=0.5) as client:
            await client.list_tools()
            stall, (error, took) = await least_stall(lambda: outcome(client, "anyof"), bound=STALL_BOUND)
            assert type(error) is RemoteProtocolError
            assert str(error) == ("tools/call anyof: the tool's outputSchema cannot be checked: validation did not "
                                  "finish within its budget of 0.5 s")
            assert 0.4 < took < 0.5 + 2.0
            assert stall < STALL_BOUND, stall  # the rest ran in a worker thread
            # The same schema on a valid value: fine, and quick.
            fine = await asyncio.wait_for(client.call_tool("fine", {}), ANSWER_BOUND)
            assert fine["structuredContent"] == {"value": [[[[1]]]]}

    run(main())


# 4. Server-to-client request storms

def test_4_a_storm_of_100000_pings_and_2000_blocking_requests_is_bounded(caplog):
    samples = {"tasks": 0, "rss": 0}

    async def main():
        block = Blocker()  # an object with an async __call__: a handler as users write one too

        async def watch(base: int) -> None:
            while True:
                samples["tasks"] = max(samples["tasks"], len(asyncio.all_tasks()))
                samples["rss"] = max(samples["rss"], rss() - base)
                await asyncio.sleep(0.01)

        client = mcp_stdio.connect(server("request_storm", "100000", "2000"), protocol="handshake")
        client.set_request_handler("test/block", block)
        await client.start()
        watcher = asyncio.ensure_future(watch(rss()))
        began = time.monotonic()
        report = json.loads(text(await asyncio.wait_for(client.call_tool("storm", {}, timeout=None), 90)))
        took = time.monotonic() - began
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        assert report == {"pings_answered": 100_000, "blocking_answered": 976,
                          "errors": {"-32603 too many requests in flight (limit 1024)": 976}}
        assert (block.running, block.most) == (16, 16)  # max_concurrent_handlers; the other 1,008 wait
        assert took < 60.0  # before: 5,177 of them answered in 22.7 s (about 2 s now)
        assert samples["tasks"] < 100, samples  # before: 193,666 tasks
        assert samples["rss"] < 64 * 1024 * 1024, samples  # before: 395 MiB
        began = time.monotonic()
        await client.close()  # with 1,024 requests still held by their handlers
        bound = client.close_timeout + client.exit_timeout + 2 * client.terminate_timeout + 4
        assert time.monotonic() - began < bound  # before: 14 to 24 s against 12

    with caplog.at_level(logging.WARNING):
        run(main(), timeout=150)
    no_asyncio_complaints(caplog)


# 5. A server that closes its stdin and stays alive

def test_5_a_server_that_closes_its_stdin_fails_requests_at_once_and_is_stopped(caplog):
    async def main():
        client = mcp_stdio.connect(server("closes_stdin"), protocol="handshake", exit_timeout=0.5,
                                   terminate_timeout=0.5)
        await client.start()
        pid = client.pid
        began = time.monotonic()
        with pytest.raises(ConnectionClosed) as pending:
            await asyncio.wait_for(client.call_tool("x", {}, timeout=None), ANSWER_BOUND)
        failed = time.monotonic() - began
        with pytest.raises(ConnectionClosed) as new:
            await asyncio.wait_for(client.ping(timeout=None), ANSWER_BOUND)
        assert type(pending.value) is ConnectionClosed and type(new.value) is ConnectionClosed
        for error in (pending.value, new.value):
            assert str(error) == "the server closed its stdin (it reads no more requests); stderr tail:\n  stdin closed"
        assert failed < 2.0, failed  # at once: it used to be never
        # Stopped by the client within the close bounds, without close() being called.
        bound = client.exit_timeout + client.terminate_timeout + 3.0
        while client.returncode is None and time.monotonic() - began < bound:
            await asyncio.sleep(0.02)
        assert client.returncode == -15  # it sleeps through EOF: SIGTERM ended it
        assert not process_alive(pid)
        await client.close()

    with caplog.at_level(logging.WARNING):
        run(main())
    assert warnings_of(caplog) == [f"{sys.executable}: the connection ended: the server closed its stdin (it reads "
                                   "no more requests); stderr tail:\n  stdin closed"]
    no_asyncio_complaints(caplog)


# 6. refresh_on_list_changed coalesces

def test_6_ten_thousand_list_changed_make_at_most_one_refresh_in_flight_and_one_queued():
    async def main():
        async with mcp_stdio.connect(server("list_changed_flood", "10000"), protocol="handshake",
                                     refresh_on_list_changed=True) as client:
            assert text(await asyncio.wait_for(client.call_tool("flood", {}), ANSWER_BOUND)) == "sent"
            # Answered once the server saw no tools/list for 0.3 s.
            report = json.loads(text(await asyncio.wait_for(client.call_tool("report", {}), 10)))
            assert report == {"tools_list_requests": 2, "max_in_flight": 1}  # before: 10,000 and 8,679

    run(main())


# 7. State never pruned

def test_7_cached_2026_results_expire_by_ttl_and_the_cache_is_bounded():
    async def main():
        async with mcp_stdio.connect(server("cache_hog"), protocol="2026-07-28") as client:
            first = await client.read_resource("short://a")
            cached = await client.read_resource("short://a")
            await asyncio.sleep(0.15)  # its ttlMs is 100
            fresh = await client.read_resource("short://a")
            assert [r["contents"][0]["text"] for r in (first, cached, fresh)] == ["read 1", "read 1", "read 2"]
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                for i in range(1000):  # each 50 KB, to be kept for an hour
                    await client.read_resource(f"hog://{i}")
                grown = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
            # 256 entries (DEFAULT_CACHE_ENTRIES) of 50 KB is 12.8 MB; all 1,000 would be 50 MB.
            assert grown < 16 * 1024 * 1024, grown

    run(main(), timeout=120)


def test_7_client_side_tasks_are_bounded_at_1000():
    async def main():
        async with mcp_stdio.connect(server("task_flood"), protocol="handshake", sampling_callback=sample) as client:
            report = json.loads(text(await asyncio.wait_for(
                client.call_tool("flood", {"count": 3000, "ttl": 3_600_000}), 60)))
            assert report["created"] + sum(report["refused"].values()) == 3000
            assert set(report["refused"]) <= {"too many tasks at once (limit 1000)"}
            assert report["listed"] <= 1000  # before: 20,000 kept (+111 MiB)

    run(main(), timeout=60)


def test_7_a_client_side_task_past_its_ttl_is_gone():
    async def main():
        async with mcp_stdio.connect(server("task_flood"), protocol="handshake", sampling_callback=sample) as client:
            report = json.loads(text(await asyncio.wait_for(client.call_tool("expire", {}), 10)))
            assert report["listed"] is False
            assert report["get"]["code"] == -32602 and report["get"]["message"].startswith("Unknown task: ")

    run(main())


# 8. Hostile shapes: every failure is an mcp_stdio error

HANDSHAKE_SHAPES = {
    "capabilities_string": "initialize result: $.capabilities: 'abc' is not of type object",
    "tools_capability_a_list": "initialize result: $.capabilities.tools: ['listChanged'] is not of type object",
    "server_info_string": "initialize result: $.serverInfo: 'oops' is not of type object",
    "instructions_number": "initialize result: $.instructions: 12 is not of type string",
    "version_number": "initialize result: $.protocolVersion is missing or not a string",
    "discover_versions_string": "server/discover result: $.supportedVersions: '2026-07-28' is not of type array",
    "discover_capabilities_string": "server/discover result: $.capabilities: 'abc' is not of type object",
}


@pytest.mark.parametrize("mode", list(HANDSHAKE_SHAPES))
def test_8_a_malformed_initialize_or_discover_result_fails_the_start_with_a_clear_error(mode):
    async def main():
        client = mcp_stdio.connect(server("bad_handshake", mode), startup_timeout=30)
        began = time.monotonic()
        with pytest.raises(StartError) as caught:
            await asyncio.wait_for(client.start(), ANSWER_BOUND)
        assert time.monotonic() - began < ANSWER_BOUND
        assert type(caught.value) is StartError
        assert str(caught.value) == (f"server {sys.executable!r} answered with a malformed message: "
                                     f"{HANDSHAKE_SHAPES[mode]}")
        assert not process_alive(client.pid)

    run(main())


LIST_SHAPES = {
    "tools_a_string": "$.tools: 'abc' is not of type array",
    "tools_items_strings": "$.tools[0]: 'a' is not of type object; $.tools[1]: 'b' is not of type object",
    "cursor_a_number": "$.nextCursor: 5 is not of type string",
    "cursor_an_object": "$.nextCursor: {'page': 2} is not of type string",
    "tool_name_a_number": "$.tools[0].name: 42 is not of type string",
}


@pytest.mark.parametrize("mode", list(LIST_SHAPES) + ["schema_1e999"])
def test_8_a_malformed_list_is_a_remote_protocol_error(mode):
    async def main():
        async with mcp_stdio.connect(server("bad_lists", mode), protocol="handshake") as client:
            with pytest.raises(RemoteProtocolError) as caught:
                await asyncio.wait_for(client.list_tools(), ANSWER_BOUND)
            if mode == "schema_1e999":
                assert str(caught.value) == ("tools/list: malformed answer: not valid JSON (number 1e999 is out of "
                                             "range)")
            else:
                assert str(caught.value) == ("tools/list: the result does not match the 2025-11-25 schema: "
                                             + LIST_SHAPES[mode])
            await client.ping()

    run(main())


UNCHECKABLE = "the tool's outputSchema cannot be checked: "
SCHEMA_OUTCOMES = {
    "ref_self": UNCHECKABLE + "the schema applies itself to the same value without end: #/properties/value -> "
                              "#/properties/value",
    "ref_loop": UNCHECKABLE + "the schema applies itself to the same value without end: #/$defs/a -> #/$defs/b -> "
                              "#/$defs/a",
    "deep": UNCHECKABLE + "the schema nests more than 64 levels of objects and arrays",
    "bad_regex": UNCHECKABLE + "#/properties/value/pattern: invalid pattern '(unclosed': missing ), unterminated "
                               "subpattern at position 0",
    "multiple_of_zero": UNCHECKABLE + "#/properties/value: 'multipleOf' must be a finite number above 0, not 0",
    "huge_integer": None,  # 10 ** 400 is a multiple of 0.1: no OverflowError
    "huge_step": "structuredContent does not match the outputSchema: $.value: 0.5 is not a multiple of <a "
                 "1329-bit integer>",
    "min_length_a_string": UNCHECKABLE + "#/properties/value: 'minLength' must be a non-negative integer, not '3'",
    "required_a_string": UNCHECKABLE + "#/properties/value: 'required' must be an array of strings, not 'a'",
    "properties_a_list": UNCHECKABLE + "#/properties/value: 'properties' must be an object of schemas, not ['a']",
    "tenths": None,  # 0.3 is a multiple of 0.1
}


def test_8_hostile_output_schemas_are_mcp_stdio_errors_and_multiple_of_works_for_floats():
    async def main():
        async with mcp_stdio.connect(server("hostile_schemas"), protocol="handshake") as client:
            names = [tool["name"] for tool in (await client.list_tools())["tools"]]
            assert names == list(SCHEMA_OUTCOMES)
            for name, expected in SCHEMA_OUTCOMES.items():
                call = asyncio.wait_for(client.call_tool(name, {}), ANSWER_BOUND)
                if expected is None:
                    assert "value" in (await call)["structuredContent"]
                    continue
                with pytest.raises(RemoteProtocolError) as caught:
                    await call
                assert str(caught.value) == f"tools/call {name}: {expected}"

    run(main())


# 9. Results that are not a CallToolResult

CALL_RESULTS = {
    "null": "$: None is not of type object",
    "array": "$: [{'type': 'text', 'text': 'x'}] is not of type object",
    "string": "$: 'abc' is not of type object",
    "is_error_a_string": "$.isError: 'yes' is not of type boolean",
    "is_error_one": "$.isError: 1 is not of type boolean",
    "content_a_string": "$.content: 'abc' is not of type array",
}


def test_9_a_result_that_is_not_a_call_tool_result_never_bypasses_the_checks():
    async def main():
        async with mcp_stdio.connect(server("bad_call_results"), protocol="handshake") as client:
            await client.list_tools()  # every tool declares an outputSchema
            for name, problem in CALL_RESULTS.items():
                with pytest.raises(RemoteProtocolError) as caught:
                    await asyncio.wait_for(client.call_tool(name, {}), ANSWER_BOUND)
                assert str(caught.value) == f"tools/call: the result does not match the 2025-11-25 schema: {problem}"
            assert (await client.call_tool("valid", {}))["structuredContent"] == {"n": 1}

    run(main())


# 10. Malformed answers carrying a pending id

MALFORMED_ANSWERS = {
    "result_and_error": 'both "result" and "error"',
    "code_a_string": '"error.code" is not an integer',
    "code_a_float": '"error.code" is not an integer',
    "no_message": '"error.message" is not a string',
    "jsonrpc_1_0": '"jsonrpc" is not "2.0"',
    "no_jsonrpc": '"jsonrpc" is not "2.0"',
    "neither": '"id" without "method", "result" or "error"',
}


def test_10_a_malformed_answer_with_a_pending_id_fails_that_request_at_once():
    async def main():
        async with mcp_stdio.connect(server("malformed_answers"), protocol="handshake") as client:
            for name, reason in MALFORMED_ANSWERS.items():
                began = time.monotonic()
                with pytest.raises(RemoteProtocolError) as caught:
                    # timeout=None: before the fix, this waited for ever.
                    await asyncio.wait_for(client.call_tool(name, {}, timeout=None), ANSWER_BOUND)
                assert time.monotonic() - began < 2.0
                assert str(caught.value) == f"tools/call: malformed answer: {reason}"
            await client.ping()

    run(main())


# 11. Non-standard JSON and bad progress

def test_11_non_standard_numbers_fail_the_answer_and_lone_surrogates_become_u_fffd():
    async def main():
        async with mcp_stdio.connect(server("nonstandard_json"), protocol="handshake") as client:
            for name, reason in (("nan", "NaN is not a JSON number"), ("infinity", "-Infinity is not a JSON number"),
                                 ("overflow", "number 1e999 is out of range")):
                with pytest.raises(RemoteProtocolError) as caught:
                    await asyncio.wait_for(client.call_tool(name, {}, timeout=None), ANSWER_BOUND)
                assert str(caught.value) == f"tools/call: malformed answer: not valid JSON ({reason})"
            assert text(await client.call_tool("surrogate", {})) == "a\ufffdb\ufffdc"
            assert text(await client.call_tool("pair", {})) == "\U0001f600"  # a valid pair stays one character

    run(main())


def test_11_progress_that_does_not_increase_or_is_not_a_number_is_dropped_with_a_log_line(caplog):
    received: list = []

    async def main():
        async with mcp_stdio.connect(server("nonstandard_json"), protocol="handshake") as client:
            result = await asyncio.wait_for(
                client.call_tool("progress", {}, progress_callback=lambda *args: received.append(args)),
                ANSWER_BOUND)
            assert result == {"content": []}
            assert client.invalid_messages == 4

    with caplog.at_level(logging.WARNING):
        run(main())
    assert received == [(1, 3, None), (3, 3, None)]
    prefix = f"! {sys.executable}: skipped a message that is not valid: notifications/progress: "
    assert warnings_of(caplog) == [prefix + reason + ": 'notifications/progress'" for reason in (
        "progress went from 1 to 0.5; it must increase", "progress went from 1 to 1; it must increase",
        "$.progress: '2' is not of type number", "$.progress: True is not of type number")]


# 12. Groups

def test_12_one_hostile_server_fails_alone_and_routing_is_unambiguous():
    servers = {
        "good": server("named_tools", "good", "a"),
        "strings": server("bad_lists", "tools_a_string"),
        "dead": server("exit_early"),
        "files": server("named_tools", "files", "extra__x", "y"),
        "files__extra": server("named_tools", "files__extra", "x"),
    }

    async def main():
        async with mcp_stdio.connect_all(servers, protocol="handshake") as group:
            tools = await asyncio.wait_for(group.list_tools(), 10)
            assert [tool["name"] for tool in tools] == ["good__a", "files__extra__x", "files__y"]
            assert sorted(group.errors) == ["dead", "files__extra", "strings"]
            assert type(group.errors["dead"]) is StartError
            assert str(group.errors["strings"]) == ("tools/list: the result does not match the 2025-11-25 schema: "
                                                    "$.tools: 'abc' is not of type array")
            assert type(group.errors["files__extra"]) is ConfigError
            assert str(group.errors["files__extra"]) == (
                "<config>: server 'files__extra': its name contains the separator '__', so its tools' names "
                "(server__tool) would be ambiguous: rename it or choose another separator")
            # "files__extra__x" can only be server files's tool "extra__x".
            assert text(await group.call_tool("files__extra__x", {})) == "files extra__x"
            assert text(await group.call_tool("good__a", {})) == "good a"
            with pytest.raises(UnknownTool):
                await group.call_tool("strings__t", {})

    run(main(), timeout=60)


# 13. The synchronous client

def test_13_a_sync_call_from_a_notification_callback_raises_at_once():
    caught: list = []
    clients: list = []

    def on_log(params: dict) -> None:
        began = time.monotonic()
        try:
            clients[0].ping()
        except Exception as exc:
            caught.append((exc, time.monotonic() - began))

    client = mcp_stdio.sync.connect(mcp_stdio.reference_server_command(), protocol="handshake", timeout=10,
                                    logging_callback=on_log)
    clients.append(client)
    with client:
        result = client.call_tool("log", {"level": "error", "message": "hi"})
        assert text(result) == "logged at error"
        client.ping()  # the loop is fine afterwards
    [(error, took)] = caught
    assert type(error) is LocalProtocolError
    assert str(error) == ("a mcp_stdio.sync call from a callback running on the event loop would wait for itself: "
                          "use the async client (await) in notification callbacks")
    assert took < 0.1


def test_13_a_sync_call_never_waits_beyond_its_timeout_plus_extra_wait(monkeypatch):
    monkeypatch.setattr(mcp_stdio.sync, "EXTRA_WAIT", 0.3)

    def stall(params: dict) -> None:
        time.sleep(1.5)  # a notification callback that blocks the loop's thread

    with mcp_stdio.sync.connect(mcp_stdio.reference_server_command(), protocol="handshake",
                                logging_callback=stall) as client:
        began = time.monotonic()
        with pytest.raises(ClientClosedError) as caught:
            client.call_tool("log", {"level": "error", "message": "stall"}, timeout=0.2)
        took = time.monotonic() - began
        assert str(caught.value) == ("no outcome within 0.5 s (the event loop of mcp_stdio.sync is stuck, or a "
                                     "callback blocks it)")
        assert took < 0.5 + 0.5
        time.sleep(1.2)  # the callback returns; the loop serves again
        assert text(client.call_tool("echo", {"text": "again"})) == "again"


def run_script(name: str, *args: str, timeout: float = 60) -> tuple[object, str]:
    done = subprocess.run(script_command(name, *args), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_13_sys_exit_in_a_callback_fails_waiting_and_later_calls_and_kills_the_server():
    report, _ = run_script("system_exit")
    expected = "ClientClosedError: the event loop of mcp_stdio.sync stopped: SystemExit was raised in a callback on it"
    assert report["waiting"] == expected and report["later"] == expected
    assert report["waiting_seconds"] < 2.0 and report["later_seconds"] < 0.5  # before: every later call hung
    assert report["server_killed_within_s"] < 2.0  # the script looks for 2 s
    assert report["new_client"] == "ok"  # a new client starts a new loop


def test_13_sys_exit_in_a_callback_leaves_no_asyncio_complaint_at_exit():
    _, stderr = run_script("system_exit")
    assert stderr == ""


@pytest.mark.parametrize("child", ["no client", "own"])
def test_13_after_fork_the_child_exits_promptly_and_the_parent_s_client_still_works(child):
    report, stderr = run_script("fork", child)
    assert report["before"] == "before" and report["after"] == "after"
    assert report["child_status"] == 0
    assert report["child_seconds"] < 5.0  # before: the child hung at exit
    assert stderr == ""


def test_13_close_racing_start_leaves_no_server_and_start_ends_with_an_mcp_stdio_error():
    rows, stderr = run_script("race", "12", timeout=120)
    assert all(row["outcome"] in ("started", "ClientClosedError", "StartError") for row in rows), rows
    assert all(row["seconds"] < 10 for row in rows), rows  # 10: startup_timeout is not the point here
    assert sum(row["servers_left"] for row in rows) == 0, rows
    assert "Task was destroyed" not in stderr and "Traceback" not in stderr


def test_13_start_after_close_is_refused_without_spawning(caplog):
    async def main():
        client = mcp_stdio.connect(mcp_stdio.reference_server_command(), protocol="handshake")
        await client.close()
        with pytest.raises(ClientClosedError):
            await asyncio.wait_for(client.start(), ANSWER_BOUND)
        assert client.pid is None

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        run(main())
    assert not caplog.records  # "Future exception was never retrieved"


# 14. The command line

EVIL = "a\x1b[31mred\x1b[0m\x07b\x9bc\x85d\u202eevil\u202ce\u2066f\u2069g\u200fh"
EVIL_SHOWN = r"ared\u0007b\u009bc\u0085d\u202eevil\u202ce\u2066f\u2069g\u200fh"
EVIL_JSON = r"a\u001b[31mred\u001b[0m\u0007b\u009bc\u0085d\u202eevil\u202ce\u2066f\u2069g\u200fh"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command("--protocol", "handshake", *args), capture_output=True, text=True,
                          env=dict(os.environ, COLUMNS="200"), timeout=60)


def strings(value: object) -> list[str]:
    """Return every string in a JSON value (keys included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in strings(key) + strings(item)]
    if isinstance(value, list):
        return [found for item in value for found in strings(item)]
    return []


def shown_raw(output: str) -> list[str]:
    """Return the C1 controls, escapes and bidi characters that reached the terminal raw."""
    return [c for c in output if 0x80 <= ord(c) <= 0x9f or ord(c) in (0x1b, 0x07) or 0x202a <= ord(c) <= 0x202e
            or 0x2066 <= ord(c) <= 0x2069 or ord(c) in (0x200e, 0x200f)]


@pytest.mark.parametrize("action", [["info"], ["tools"], ["call", "x"]])
def test_14_control_and_bidi_characters_are_escaped_in_text_and_json(action):
    command = ["--", *server("bidi_text")]
    done = cli(*action, *command)
    assert done.returncode == 0 and done.stderr == "", done
    assert EVIL_SHOWN in done.stdout and not shown_raw(done.stdout)
    done = cli("--json", *action, *command)
    assert done.returncode == 0 and done.stderr == "", done
    assert EVIL_JSON in done.stdout and not shown_raw(done.stdout)
    assert EVIL in strings(json.loads(done.stdout))  # the JSON means what the server sent


@pytest.mark.parametrize("action, target, message", [
    (["call", "null"], ["bad_call_results"], "tools/call: the result does not match the 2025-11-25 schema: $: None "
                                             "is not of type object"),
    (["--json", "call", "array"], ["bad_call_results"], "tools/call: the result does not match the 2025-11-25 "
                                                        "schema: $: [{'type': 'text', 'text': 'x'}] is not of type "
                                                        "object"),
    (["tools"], ["bad_lists", "tools_a_string"], "tools/list: the result does not match the 2025-11-25 schema: "
                                                 "$.tools: 'abc' is not of type array"),
    (["call", "nan"], ["nonstandard_json"], "tools/call: malformed answer: not valid JSON (NaN is not a JSON number)"),
    (["info"], ["bad_handshake", "server_info_string"], "server {python} answered with a malformed message: "
                                                         "initialize result: $.serverInfo: 'oops' is not of type "
                                                         "object"),
])
def test_14_hostile_result_shapes_are_one_line_errors(action, target, message):
    done = cli(*action, "--", *server(*target))
    assert done.returncode in (1, 3) and done.stdout == "", done
    first, *rest = done.stderr.splitlines()
    assert first == "error: " + message.replace("{python}", repr(sys.executable))
    assert all(line.startswith("hint: ") for line in rest), done.stderr  # at most a hint, never a traceback


# 15. Smaller: arguments and the environment allow-list

def test_15_non_object_arguments_are_refused_locally_and_never_sent():
    async def main():
        async with mcp_stdio.connect(server("call_log"), protocol="handshake") as client:
            for arguments in (["x"], "x", 5, ("a",)):
                with pytest.raises(LocalProtocolError) as caught:
                    await client.call_tool("t", arguments)  # type: ignore[arg-type]
                assert str(caught.value) == f"tools/call t: arguments must be a dict, not {type(arguments).__name__}"
            with pytest.raises(LocalProtocolError) as caught:
                await client.request("tools/call", ["t"])  # type: ignore[arg-type]
            assert str(caught.value) == "tools/call: params must be a dict, not list"
            # The server received only the valid call.
            assert json.loads(text(await client.call_tool("t", {"n": 1}))) == [{"name": "t", "arguments": {"n": 1}}]

    run(main())


def test_15_only_the_standard_locale_variables_reach_the_server(monkeypatch):
    monkeypatch.setenv("LC_SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("LC_ALL", "C")
    monkeypatch.setenv("LC_MEASUREMENT", "C")
    monkeypatch.setenv("LCX", "1")

    async def main():
        async with mcp_stdio.connect(server("env_dump"), protocol="handshake") as client:
            env = json.loads(client.instructions)["env"]
        assert "LC_SECRET_TOKEN" not in env and "LCX" not in env
        assert env["LC_ALL"] == "C" and env["LC_MEASUREMENT"] == "C"

    run(main())

