"""Tier 2: the client against scripted and stalling in-memory peers (no processes).

These pin timeouts, cancellation and flow control without real waits on a process.
"""

from __future__ import annotations

import asyncio

import pytest

import mcp_stdio
from mcp_stdio import ClientClosedError, RemoteError, RequestTimeout, ServerExited, StartError
from mcp_stdio.session import State

from .helpers import run
from .memory import memory_client

SERVER_INFO = {"name": "memory", "version": "0"}


async def stall(peer):
    await peer.handshake()
    await asyncio.sleep(3600)


def test_handshake_sends_initialize_then_initialized():
    async def script(peer):
        request = await peer.handshake(version="2024-11-05")
        assert request["params"]["protocolVersion"] == "2025-11-25"
        assert request["params"]["clientInfo"] == {"name": "mcp_stdio", "version": mcp_stdio.__version__}
        assert request["params"]["capabilities"] == {}
        await asyncio.sleep(3600)

    async def main():
        async with memory_client(script) as client:
            assert client.protocol_version == "2024-11-05"
            for _ in range(100):  # let the peer read what was written
                if len(client._transport.peer.received) == 2:
                    break
                await asyncio.sleep(0.01)
            assert [m.get("method") for m in client._transport.peer.received] == [
                "initialize", "notifications/initialized"]

    run(main())


def test_stalling_peer_times_out_and_gets_cancelled_notification():
    async def main():
        async with memory_client(stall, timeout=0.05) as client:
            with pytest.raises(RequestTimeout):
                await client.request("tools/list")
            peer = client._transport.peer
            cancel = await asyncio.wait_for(peer.receive_method("notifications/cancelled"), 1)
            request_id = [m for m in peer.received if m.get("method") == "tools/list"][0]["id"]
            assert cancel["params"] == {"requestId": request_id, "reason": "timed out after 0.05 s"}
            assert client.pending_count == 0

    run(main())


def test_timeout_none_waits_until_answered():
    async def script(peer):
        await peer.handshake()
        request = await peer.receive_method("slow")
        await asyncio.sleep(0.1)
        peer.answer(request, {"ok": True})
        await asyncio.sleep(3600)

    async def main():
        async with memory_client(script, timeout=0.01) as client:
            assert await client.request("slow", timeout=None) == {"ok": True}

    run(main())


def test_late_answer_after_timeout_is_dropped_and_counted():
    async def script(peer):
        await peer.handshake()
        request = await peer.receive_method("tools/list")
        await peer.receive_method("notifications/cancelled")
        peer.answer(request, {"tools": ["late"]})
        ping = await peer.receive_method("ping")
        peer.answer(ping, {})
        await asyncio.sleep(3600)

    async def main():
        async with memory_client(script, timeout=0.05) as client:
            with pytest.raises(RequestTimeout):
                await client.request("tools/list")
            await client.ping(timeout=1)
            assert client.unexpected_responses == 1

    run(main())


def test_timeout_fires_while_the_pipe_is_full_and_unsent_requests_are_never_cancelled():
    seen = []

    async def script(peer):
        request = await peer.receive_method("initialize")
        peer.answer(request, {"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": SERVER_INFO})
        await asyncio.sleep(0.3)  # reads nothing for a while: the pipe (4 lines) fills up
        while True:
            message = await peer.receive()
            seen.append((message.get("method"), message.get("id") or message.get("params", {}).get("requestId")))

    async def main():
        async with memory_client(script, capacity=4, timeout=0.1, queue_size=2, close_timeout=0.1) as client:
            # One request per loop iteration: each is its own write (a burst of one), so the
            # pipe pauses after four lines and the rest wait in the client.
            calls = []
            for _ in range(10):
                calls.append(asyncio.ensure_future(client.request("x")))
                await asyncio.sleep(0)
            results = await asyncio.gather(*calls, return_exceptions=True)
            assert all(isinstance(r, RequestTimeout) for r in results)
            assert client.pending_count == 0
            assert client._transport.outbound.paused
            await asyncio.sleep(0.4)
            # The three requests the pipe took are cancelled; the seven that never left the
            # client are dropped: nothing tells the server about requests it never received.
            assert seen == [("notifications/initialized", None), ("x", 2), ("x", 3), ("x", 4),
                            ("notifications/cancelled", 2), ("notifications/cancelled", 3),
                            ("notifications/cancelled", 4)]

    run(main())


def test_connection_loss_releases_senders_blocked_on_a_full_queue():
    async def script(peer):
        request = await peer.receive_method("initialize")
        peer.answer(request, {"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": SERVER_INFO})
        await asyncio.sleep(0.1)
        peer.exit(-9)
        await asyncio.sleep(3600)

    async def main():
        async with memory_client(script, timeout=None, queue_size=1) as client:
            results = await asyncio.gather(*(client.request("x") for _ in range(20)), return_exceptions=True)
            assert all(isinstance(r, ServerExited) for r in results), results
            assert str(results[-1]) == "server killed by SIGKILL"

    run(main())


def test_caller_cancellation_sends_cancelled_and_forgets():
    async def main():
        async with memory_client(stall) as client:
            call = asyncio.ensure_future(client.request("tools/call", {"name": "x"}))
            await asyncio.sleep(0.01)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            cancel = await asyncio.wait_for(client._transport.peer.receive_method("notifications/cancelled"), 1)
            assert cancel["params"]["reason"] == "cancelled by the caller"
            assert client.pending_count == 0

    run(main())


def test_error_answers_become_remote_errors_with_code_message_data():
    async def script(peer):
        await peer.handshake()
        request = await peer.receive_method("tools/call")
        peer.send({"jsonrpc": "2.0", "id": request["id"],
                   "error": {"code": -32602, "message": "Unknown tool", "data": {"name": "x"}}})
        await asyncio.sleep(3600)

    async def main():
        async with memory_client(script) as client:
            with pytest.raises(RemoteError) as info:
                await client.call_tool("x")
            assert (info.value.code, info.value.message, info.value.data) == (-32602, "Unknown tool", {"name": "x"})
            assert str(info.value) == "tools/call: Unknown tool (code -32602) data={'name': 'x'}"

    run(main())


def test_server_request_handlers_run_concurrently_and_errors_become_error_answers():
    answers = {}

    async def script(peer):
        await peer.handshake()
        peer.send({"jsonrpc": "2.0", "id": "slow", "method": "custom/slow", "params": {}})
        peer.send({"jsonrpc": "2.0", "id": "fast", "method": "custom/fast", "params": {"n": 1}})
        peer.send({"jsonrpc": "2.0", "id": "bad", "method": "custom/bad", "params": {}})
        peer.send({"jsonrpc": "2.0", "id": "coded", "method": "custom/coded", "params": {}})
        while len(answers) < 4:
            message = await peer.receive()
            if "id" in message and "method" not in message:
                answers[message["id"]] = message.get("result", message.get("error"))
        await asyncio.sleep(3600)

    async def slow(params):
        await asyncio.sleep(0.1)
        return {"who": "slow"}

    async def fast(params):
        return {"who": "fast", "n": params["n"]}

    async def bad(params):
        raise ValueError("broken handler")

    async def coded(params):
        raise RemoteError(-32042, "need a URL", {"url": "https://example.com"})

    async def main():
        client = memory_client(script)
        for name, handler in [("slow", slow), ("fast", fast), ("bad", bad), ("coded", coded)]:
            client.set_request_handler(f"custom/{name}", handler)
        async with client:
            while len(answers) < 4:
                await asyncio.sleep(0.01)

    run(main())
    assert list(answers)[0] == "fast"  # it did not wait behind "slow"
    assert answers["slow"] == {"who": "slow"}
    assert answers["bad"] == {"code": -32603, "message": "ValueError: broken handler"}
    assert answers["coded"] == {"code": -32042, "message": "need a URL", "data": {"url": "https://example.com"}}


def test_server_cancellation_stops_a_running_handler():
    state = {}

    async def script(peer):
        await peer.handshake()
        peer.send({"jsonrpc": "2.0", "id": 1, "method": "custom/long", "params": {}})
        await asyncio.sleep(0.05)
        peer.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}})
        await asyncio.sleep(3600)

    async def long(params):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise

    async def main():
        client = memory_client(script)
        client.set_request_handler("custom/long", long)
        async with client:
            for _ in range(100):
                if state:
                    break
                await asyncio.sleep(0.01)
            # No answer is sent for a cancelled request.
            assert all("id" not in m or m.get("method") for m in client._transport.peer.received[2:])

    run(main())
    assert state == {"cancelled": True}


def test_close_during_handshake_leaves_no_task():
    async def script(peer):
        await asyncio.sleep(3600)  # never answers initialize

    async def main():
        before = asyncio.all_tasks()
        client = memory_client(script)
        starter = asyncio.ensure_future(client.start())
        await asyncio.sleep(0.01)
        starter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starter
        await client.close()
        assert client.state is State.CLOSED
        assert client._transport.stopped
        assert asyncio.all_tasks() - before == set()

    run(main())


def test_startup_timeout_on_a_silent_peer():
    async def script(peer):
        await asyncio.sleep(3600)

    async def main():
        client = memory_client(script, startup_timeout=0.05)
        with pytest.raises(StartError, match="did not answer initialize within 0.05 s"):
            await client.start()
        assert client.state is State.CLOSED

    run(main())


def test_requests_before_start_and_after_close_are_refused():
    async def main():
        client = memory_client(stall)
        with pytest.raises(ClientClosedError, match="cannot send ping: the client is new"):
            await client.ping()
        async with client:
            pass
        with pytest.raises(ClientClosedError, match="the client is closed"):
            await client.call_tool("x")
        with pytest.raises(ClientClosedError):
            await client.notify("notifications/x")

    run(main())


def tool(name: str) -> dict:
    return {"name": name, "inputSchema": {"type": "object"}}


def test_list_tools_follows_cursors_and_detects_cycles_and_caps_pages():
    async def script(peer):
        await peer.handshake()
        while True:
            request = await peer.receive_method("tools/list")
            cursor = (request.get("params") or {}).get("cursor")
            if cursor is None:
                peer.answer(request, {"tools": [tool("a")], "nextCursor": "p2"})
            elif cursor == "p2":
                peer.answer(request, {"tools": [tool("b")], "nextCursor": "p3"})
            elif cursor == "p3":
                peer.answer(request, {"tools": [tool("c")]})
            elif cursor == "loop":
                peer.answer(request, {"tools": [], "nextCursor": "loop"})

    async def main():
        async with memory_client(script, max_pages=10) as client:
            assert await client.list_tools() == {"tools": [tool("a"), tool("b"), tool("c")]}
            assert await client.list_tools("p2") == {"tools": [tool("b")], "nextCursor": "p3"}
            assert await client.list_tools(page=True) == {"tools": [tool("a")], "nextCursor": "p2"}

    run(main())


def test_cursor_cycle_and_page_cap_are_errors():
    async def cycle(peer):
        await peer.handshake()
        while True:
            request = await peer.receive_method("tools/list")
            cursor = (request.get("params") or {}).get("cursor")
            peer.answer(request, {"tools": [], "nextCursor": "same" if cursor is None or cursor == "same" else "x"})

    async def endless(peer):
        await peer.handshake()
        n = 0
        while True:
            request = await peer.receive_method("tools/list")
            n += 1
            peer.answer(request, {"tools": [], "nextCursor": f"c{n}"})

    async def main():
        async with memory_client(cycle) as client:
            with pytest.raises(mcp_stdio.RemoteProtocolError, match="returned cursor 'same' twice"):
                await client.list_tools()
        async with memory_client(endless, max_pages=5) as client:
            with pytest.raises(mcp_stdio.RemoteProtocolError, match="more than 5 pages"):
                await client.list_tools()

    run(main())


def test_invalid_request_from_peer_gets_invalid_request_error():
    async def script(peer):
        await peer.handshake()
        peer.send(b'{"jsonrpc":"2.0","id":5,"method":"x","params":[1,2]}\n')
        peer.send(b"this is a banner\n")
        while True:
            message = await peer.receive()
            if message.get("id") == 5:
                peer.received.append({"got": message})
                break
        await asyncio.sleep(3600)

    async def main():
        async with memory_client(script) as client:
            for _ in range(100):
                if any("got" in m for m in client._transport.peer.received):
                    break
                await asyncio.sleep(0.01)
            got = [m["got"] for m in client._transport.peer.received if "got" in m][0]
            assert got["error"] == {"code": -32600, "message": '"params" is not an object'}
            assert client.invalid_messages == 2

    run(main())


def test_a_server_gone_before_the_first_request_fails_the_start_at_once():
    # The connection ends while the transport starts, before initialize (or the era
    # probe) is registered: nothing would fail the request, so start() must check.
    class GoneAtStart(memory_client(lambda peer: asyncio.sleep(0))._transport_class):
        async def start(self):
            await super().start()
            self.exit(3)

    async def main():
        for protocol in ("handshake", "auto", "2026-07-28"):
            client = memory_client(lambda peer: asyncio.sleep(3600), startup_timeout=None, protocol=protocol)
            type(client)._transport_class = GoneAtStart
            with pytest.raises(StartError, match="exited with status 3 before answering"):
                await client.start()
            assert client.state is State.CLOSED

    run(main(), timeout=20)


def test_a_notification_flood_is_bounded_dropped_and_counted_and_answers_keep_their_place():
    # An async handler that blocks until released: the dispatcher fills. Notifications beyond
    # max_queued_notifications are dropped and counted; the answer that arrives among them
    # is never dropped, and is delivered after the notifications queued before it.
    seen = []
    box = {}

    async def handler(notification):
        await box["release"].wait()
        seen.append(notification["params"]["data"])

    async def script(peer):
        await peer.handshake()
        request = await peer.receive_method("tools/list")
        for n in range(5):
            peer.send({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": n}})
        peer.answer(request, {"tools": []})
        for n in range(5, 50):
            peer.send({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": n}})
        await asyncio.sleep(3600)

    async def main():
        box["release"] = release = asyncio.Event()  # in the loop: Python 3.9 binds it at creation
        async with memory_client(script, message_handler=handler, max_queued_notifications=10) as client:
            call = asyncio.ensure_future(client.list_tools())
            for _ in range(200):
                if client.stats()["notifications_dropped"]:
                    break
                await asyncio.sleep(0.005)
            # The queue holds 10 entries: the running handler of 0, notifications 1 to 4, the
            # answer (it counts, but is never dropped), notifications 5 to 8; 9 to 49 were
            # dropped and counted.
            assert not call.done()
            assert client.stats()["notifications_dropped"] == 41
            release.set()
            assert await call == {"tools": []}
            # The caller resumed after the five notifications that came before its answer.
            assert seen[:5] == [0, 1, 2, 3, 4]
            await asyncio.sleep(0.05)
            assert seen == list(range(9))

    run(main())
