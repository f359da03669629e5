"""Hostile input against the server (issue 11, items 16 to 19): a hostile client
(mcp_stdio.bench.hostile_tools.RawPeer, raw lines on asyncio's own pipes) drives the reference
server and a server built with mcp_stdio.server.Server, and each bound is asserted: time
with timeouts, memory with the server's RSS from /proc, the exact JSON-RPC answers.

The same cases are rows H16 to H19 of ``python -m mcp_stdio.bench faults``.
"""

from __future__ import annotations

import time

import pytest

import mcp_stdio
from mcp_stdio.bench.hostile_tools import RawPeer, rss, target_server_command

from .helpers import run

pytestmark = pytest.mark.usefixtures("no_leaks")

REFERENCE = mcp_stdio.reference_server_command()
# The answer to a request the server can serve at once.
ANSWER_BOUND = 5.0


def servers() -> list:
    return [pytest.param(REFERENCE, id="reference"), pytest.param(target_server_command(), id="built")]


async def still_serving(peer: RawPeer, msg_id: object = "alive") -> None:
    assert await peer.request(msg_id, "ping") == {"jsonrpc": "2.0", "id": msg_id, "result": {}}
    assert peer.alive()


# 16. One message must not kill the process

@pytest.mark.parametrize("command", servers())
def test_16_cancelled_with_a_bad_request_id_is_rejected_and_the_server_lives_on(command):
    async def main():
        peer = await RawPeer.start(command)
        try:
            await peer.initialize()
            await peer.send(*({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": bad}}
                              for bad in ([], {}, None, 1.5, True, [1, 2], {"id": 1})))
            await still_serving(peer)
        finally:
            status = await peer.close()
        assert status == 0
        for bad in ("[]", "{}", "None", "1.5", "True", "[1, 2]", "{'id': 1}"):
            assert any(f"notifications/cancelled: $.requestId: {bad} is not of type string or" in line
                       for line in peer.stderr), bad

    run(main())


def test_16_infinity_in_a_tool_result_becomes_an_error_answer_and_the_server_lives_on():
    async def main():
        peer = await RawPeer.start(target_server_command())
        try:
            await peer.initialize()
            answer = await peer.request(1, "tools/call", {"name": "scale", "arguments": {"a": 1e308, "b": 10}})
            assert answer == {"jsonrpc": "2.0", "id": 1, "error": {
                "code": -32603, "message": "the handler of tools/call returned an invalid result"}}
            answer = await peer.request(2, "tools/call", {"name": "scale", "arguments": {"a": 2, "b": 10}})
            assert answer["result"]["structuredContent"] == {"value": 20}
            await still_serving(peer)
        finally:
            assert await peer.close() == 0
        assert any("Out of range float values are not JSON compliant" in line for line in peer.stderr)

    run(main())


@pytest.mark.parametrize("command", servers())
def test_16_non_standard_numbers_in_a_request_are_a_parse_error_and_the_server_lives_on(command):
    async def main():
        peer = await RawPeer.start(command)
        try:
            await peer.initialize()
            for number, reason in ((b"NaN", "NaN is not a JSON number"),
                                   (b"-Infinity", "-Infinity is not a JSON number"),
                                   (b"1e999", "number 1e999 is out of range")):
                await peer.send(b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"scale",'
                                b'"arguments":{"a":%s,"b":1}}}\n' % number)
                # JSON-RPC 2.0, section 5: an error in detecting the id (a parse error) gets id null.
                assert await peer.receive(ANSWER_BOUND) == {"jsonrpc": "2.0", "id": None, "error": {
                    "code": -32700, "message": f"not valid JSON ({reason})"}}
            await still_serving(peer)
        finally:
            assert await peer.close() == 0

    run(main())


# 17. Bounded memory

async def flood_line(peer: RawPeer, size: int) -> None:
    """Write ``size`` bytes of one line without its end, 1 MiB at a time."""
    block = b"x" * (1 << 20)
    for _ in range(size >> 20):
        await peer.send(block)


@pytest.mark.parametrize("command, cap", [
    pytest.param(target_server_command(max_message_size=1_000_000), 1_000_000, id="built-1MB"),
    pytest.param(REFERENCE, 64 * 1024 * 1024, id="reference-default"),
])
def test_17_an_endless_line_is_cut_at_the_size_cap_and_the_server_lives_on(command, cap):
    async def main():
        peer = await RawPeer.start(command)
        try:
            await peer.initialize()
            before = rss(peer.pid)
            began = time.monotonic()
            await flood_line(peer, cap + 16 * 1024 * 1024)  # before: 2.7 GB in 10 s, and growing
            await peer.send(b"\n")
            await still_serving(peer)
            took = time.monotonic() - began
            peak = rss(peer.pid, "VmHWM") - before
        finally:
            assert await peer.close() == 0
        assert peak < cap + 8 * 1024 * 1024, peak  # the cap, a read buffer and change
        assert took < 30.0
        assert any(line.startswith("skipped a message: MessageTooLong(size=") and line.endswith(f", limit={cap})")
                   for line in peer.stderr), peer.stderr[-3:]

    run(main(), timeout=120)


@pytest.mark.parametrize("command", servers())
def test_17_cancellations_of_unknown_ids_are_not_kept(command):
    count = 100_000

    async def main():
        peer = await RawPeer.start(command)
        try:
            await peer.initialize()
            await still_serving(peer, "warm")
            before = rss(peer.pid)
            for start in range(0, count, 10_000):
                await peer.send(b"".join(b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":'
                                         b'{"requestId":"unknown-%d","reason":"r"}}\n' % i
                                         for i in range(start, start + 10_000)))
            await still_serving(peer)  # every cancellation was read by then
            grown = rss(peer.pid) - before
        finally:
            assert await peer.close() == 0
        # Kept, 100,000 of them took about 17 MiB (171 bytes each, issue 11).
        assert grown < 4 * 1024 * 1024, grown

    run(main(), timeout=60)


# 18. A request to the client never wedges the server

def test_18_an_unanswered_roots_request_times_out_and_blocks_nothing_else():
    request_timeout = 3.0

    async def main():
        peer = await RawPeer.start(target_server_command(request_timeout=request_timeout))
        try:
            await peer.initialize({"roots": {"listChanged": True}})
            began = time.monotonic()
            await peer.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                             "params": {"name": "roots", "arguments": {}}})
            asked = await peer.receive(ANSWER_BOUND)
            assert asked["method"] == "roots/list"  # never answered
            # Served meanwhile, well before the roots request times out (before, only ping was).
            listed = await peer.request(2, "tools/list", timeout=2.0)
            assert [tool["name"] for tool in listed["result"]["tools"]] == ["scale", "roots"]
            assert (await peer.request(3, "tools/call", {"name": "scale", "arguments": {"a": 2, "b": 3}},
                                       timeout=2.0))["result"]["structuredContent"] == {"value": 6}
            assert time.monotonic() - began < request_timeout
            # request_timeout: the server gives up on its request, tells the client, and
            # the tool reports the error in its result.
            assert await peer.receive(request_timeout + ANSWER_BOUND) == {
                "jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": asked["id"], "reason": "timed out after 3 s"}}
            answer = await peer.receive(ANSWER_BOUND)
            took = time.monotonic() - began
            assert answer == {"jsonrpc": "2.0", "id": 1, "result": {"content": [
                {"type": "text", "text": "RequestTimeout: roots/list: no answer within 3 s"}], "isError": True}}
            assert request_timeout - 0.05 < took < request_timeout + 2.0
        finally:
            assert await peer.close() == 0

    run(main())


@pytest.mark.parametrize("command", servers())
def test_18_cancelling_the_call_ends_its_request_to_the_client(command):
    async def main():
        peer = await RawPeer.start(command)
        try:
            await peer.initialize({"roots": {"listChanged": True}})
            await peer.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                             "params": {"name": "roots", "arguments": {}}})
            asked = await peer.receive(ANSWER_BOUND)
            assert asked["method"] == "roots/list"
            assert (await peer.request(2, "tools/list", timeout=1.0))["result"]["tools"]
            await peer.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
                             "params": {"requestId": 1, "reason": "enough"}})
            # The request to the client ends with the call that made it (the default
            # request_timeout, 60 s, is far away); no answer to the cancelled call.
            assert await peer.receive(1.0) == {"jsonrpc": "2.0", "method": "notifications/cancelled",
                                               "params": {"requestId": asked["id"],
                                                          "reason": "cancelled by the caller"}}
            await still_serving(peer)
        finally:
            assert await peer.close() == 0

    run(main())


# 19. The lifecycle

@pytest.mark.parametrize("command", servers())
def test_19_requests_before_initialize_and_a_second_initialize_are_refused(command):
    async def main():
        peer = await RawPeer.start(command)
        try:
            for msg_id, method in enumerate(("tools/list", "tools/call", "resources/read", "prompts/get",
                                             "logging/setLevel", "completion/complete")):
                assert await peer.request(msg_id, method, {}) == {"jsonrpc": "2.0", "id": msg_id, "error": {
                    "code": -32600, "message": f"{method} before initialize: the session is not initialized"}}
            assert await peer.request("early", "ping") == {"jsonrpc": "2.0", "id": "early", "result": {}}
            answer = await peer.initialize()
            assert answer["result"]["protocolVersion"] == "2025-11-25"
            again = await peer.request("again", "initialize", {
                "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "again", "version": "0"}})
            assert again == {"jsonrpc": "2.0", "id": "again", "error": {
                "code": -32600, "message": "initialize was already received: the session is initialized"}}
            assert "tools" in (await peer.request("after", "tools/list"))["result"]
        finally:
            assert await peer.close() == 0

    run(main())
