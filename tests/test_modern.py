"""The 2026-07-28 protocol and automatic era selection: our client against our dual-era
reference server, legacy servers that answer, ignore or die on the probe, and scripted
modern peers; every message written in a modern session validated against the
2026-07-28 schema."""

from __future__ import annotations

import asyncio
import json

import pytest

import mcp_stdio
from mcp_stdio import LocalProtocolError, RemoteError, RemoteProtocolError
from mcp_stdio.client import _ERAS

from . import spec
from .helpers import CHILD_ENV, REFERENCE, run, server
from .memory import memory_client
from .recording import RECEIVED, SENT, RecordingClient, clear

pytestmark = pytest.mark.usefixtures("no_leaks")


@pytest.fixture(autouse=True)
def fresh_eras_and_validation():
    _ERAS.clear()
    clear()
    yield
    if not spec.available() or not SENT or SENT[0].get("method") != "server/discover":
        return
    checker = spec.checker("2026-07-28")
    requests = {m["id"]: m for m in SENT if "method" in m and "id" in m}
    for message in SENT:
        assert checker.errors(message) == [], message
    for message in spec.lines(b"".join(RECEIVED)):
        request = requests.get(message.get("id")) or {}
        method = request.get("method")
        if method in ("server/discover", "subscriptions/listen") or message.get("result", {}).get(
                "resultType") == "input_required":
            method = None  # checked as envelopes: their result types are not named after the request
        assert checker.errors(message, method) == [], message


async def sampling(params):
    text = params["messages"][0]["content"]["text"]
    return {"role": "assistant", "content": {"type": "text", "text": "model: " + text}, "model": "m"}


async def elicitation(params):
    return {"action": "accept", "content": {"answer": "blue"}}


def reference(**options):
    options.setdefault("env", CHILD_ENV)
    return RecordingClient(REFERENCE, **options)


def test_auto_mode_picks_modern_for_a_dual_era_server_and_caches_the_era():
    async def main():
        async with reference() as client:
            assert client.protocol_version == "2026-07-28"
            assert client.server_info == {"name": "mcp_stdio-reference", "version": mcp_stdio.__version__}
            assert "tools" in client.server_capabilities and "tasks" not in client.server_capabilities
            assert SENT[0]["method"] == "server/discover" and not any(m.get("method") == "initialize" for m in SENT)
            result = await client.call_tool("echo", {"text": "hé"})
            assert mcp_stdio.tool_text(result) == "hé" and result["resultType"] == "complete"
            call = [m for m in SENT if m.get("method") == "tools/call"][0]
            meta = call["params"]["_meta"]
            assert meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
            assert meta["io.modelcontextprotocol/clientCapabilities"] == {}
            assert meta["io.modelcontextprotocol/clientInfo"]["name"] == "mcp_stdio"
            await client.ping()  # server/discover, the modern equivalent
        assert list(_ERAS.values()) == ["2026-07-28"]
        SENT.clear()  # what follows is a handshake-era session, not validated as 2026-07-28
        RECEIVED.clear()
        async with reference(protocol="handshake") as client:
            assert client.protocol_version == "2025-11-25"

    run(main())


def test_multi_round_trip_sampling_elicitation_and_roots():
    async def main():
        async with reference(sampling_callback=sampling, elicitation_callback=elicitation,
                             roots=[{"uri": "file:///w"}]) as client:
            assert mcp_stdio.tool_text(await client.call_tool("sample", {"prompt": "hi"})) == "model: hi"
            assert (await client.call_tool("ask", {"question": "?"}))["structuredContent"] == {
                "action": "accept", "content": {"answer": "blue"}}
            assert (await client.call_tool("roots", {}))["structuredContent"] == {"roots": [{"uri": "file:///w"}]}
        rounds = [m for m in SENT if m.get("method") == "tools/call"]
        assert len(rounds) == 6  # each call twice: the first answered input_required
        retry = rounds[1]["params"]
        assert retry["inputResponses"]["input-1"]["content"]["text"] == "model: hi"
        first_answer = [m for m in spec.lines(b"".join(RECEIVED)) if m.get("id") == rounds[0]["id"]][0]
        assert retry["requestState"] == first_answer["result"]["requestState"]  # echoed as it came
        assert rounds[1]["id"] != rounds[0]["id"]

    run(main())


def test_missing_handler_is_a_clear_local_error_and_the_server_names_missing_capabilities():
    async def main():
        async with reference() as client:
            with pytest.raises(RemoteError) as info:
                await client.call_tool("sample", {"prompt": "hi"})
            assert info.value.code == -32021
            assert info.value.data == {"requiredCapabilities": {"sampling": {}}}

    run(main())


def test_logging_uses_the_per_request_level_and_subscribe_is_replaced_by_listen():
    logs = []

    async def main():
        async with reference(logging_callback=logs.append) as client:
            await client.call_tool("log", {"level": "info", "message": "not opted in"})
            await client.set_logging_level("info")  # sent in every later request's _meta
            await client.call_tool("log", {"level": "info", "message": "shown"})
            await client.call_tool("log", {"level": "debug", "message": "below the level"})
            with pytest.raises(LocalProtocolError, match="resources/subscribe does not exist in protocol 2026-07-28"):
                await client.subscribe_resource("reference://items/1")
            with pytest.raises(LocalProtocolError, match="tasks are not part of protocol 2026-07-28"):
                await client.list_tasks()

    run(main())
    assert [entry["data"] for entry in logs] == ["shown"]


def test_listen_acknowledges_delivers_by_subscription_and_closes():
    seen = []

    async def main():
        async with reference(message_handler=seen.append) as client:
            subscription = await client.listen(tools=True, resource_uris=["reference://items/1"])
            assert subscription.accepted == {"toolsListChanged": True, "resourceSubscriptions": ["reference://items/1"]}
            other = await client.listen(resource_uris=["reference://items/2"])
            await client.call_tool("touch", {"item": "1"})
            await client.call_tool("touch", {"item": "2"})
            first = await asyncio.wait_for(subscription.__anext__(), 5)
            assert first["method"] == "notifications/resources/updated"
            assert first["params"]["uri"] == "reference://items/1"
            second = await asyncio.wait_for(other.__anext__(), 5)
            assert second["params"]["uri"] == "reference://items/2"
            await subscription.close()
            await other.close()
            await client.call_tool("touch", {"item": "1"})  # nobody listens any more
            await client.ping()
            cancels = [m for m in SENT if m.get("method") == "notifications/cancelled"]
            assert [c["params"]["requestId"] for c in cancels] == [subscription.request_id, other.request_id]
            async for _ in subscription:
                pytest.fail("a closed subscription yields nothing")

    run(main())
    updated = [n for n in seen if n["method"] == "notifications/resources/updated"]
    assert len(updated) == 2


def test_results_are_cached_for_their_ttl_and_dropped_on_list_changed():
    async def main():
        async with reference() as client:
            await client.list_tools()
            sent = client.stats()["requests_sent"]
            await client.list_tools()
            assert client.stats()["requests_sent"] == sent  # served from the cache
            client._notification("notifications/tools/list_changed", {})
            await client.list_tools()
            assert client.stats()["requests_sent"] == sent + 7
        async with reference(cache_results=False) as client:
            await client.list_tools()
            sent = client.stats()["requests_sent"]
            await client.list_tools()
            assert client.stats()["requests_sent"] == sent + 7

    run(main())


def test_era_specific_errors():
    async def main():
        async with reference() as client:
            with pytest.raises(RemoteError) as info:
                await client.read_resource("reference://nothing")
            assert info.value.code == -32602  # 2026-07-28 replaced -32002
        SENT.clear()
        RECEIVED.clear()
        async with reference(protocol="handshake") as client:
            with pytest.raises(RemoteError) as info:
                await client.read_resource("reference://nothing")
            assert info.value.code == -32002

    run(main())


@pytest.mark.parametrize("name, note", [
    ("banner", "answers -32601 to the probe"),
    ("ignores_unknown", "ignores the probe"),
    ("exits_on_unknown", "dies on the probe"),
])
def test_legacy_servers_still_connect_whatever_they_do_with_the_probe(name, note):
    async def main():
        async with mcp_stdio.connect(server(name), probe_timeout=0.3) as client:
            assert client.protocol_version == "2025-11-25", note
            assert mcp_stdio.tool_text(await client.call_tool("echo", {"text": "ok"})) == "ok"
        assert list(_ERAS.values()) == ["handshake"]
        # The era is remembered: the next connection does not probe.
        lines = []
        async with mcp_stdio.connect(server(name), probe_timeout=0.3, stderr_callback=lines.append) as client:
            assert client.protocol_version == "2025-11-25"
        assert lines == [] or "expected initialize" not in lines[0]

    run(main())


def test_a_slow_legacy_server_that_dies_on_the_probe_after_it_timed_out_still_connects():
    # The probe gives up before the server even read it; the server then reads the probe,
    # exits, and initialize fails: the client starts it again without a probe.
    async def main():
        async with mcp_stdio.connect(server("exits_on_unknown"), probe_timeout=0.000001) as client:
            assert client.protocol_version == "2025-11-25"
            assert mcp_stdio.tool_text(await client.call_tool("echo", {"text": "ok"})) == "ok"

    run(main())


def test_modern_only_mode_refuses_a_legacy_server():
    async def main():
        with pytest.raises(mcp_stdio.StartError, match="refused server/discover"):
            await mcp_stdio.connect(server("banner"), protocol="2026-07-28").start()

    run(main())


def modern_peer(answer):
    """A scripted 2026-07-28 server: discover, then ``answer(request)`` for each request."""

    async def script(peer):
        while True:
            request = await peer.receive()
            if "id" not in request:
                continue
            if request["method"] == "server/discover":
                peer.answer(request, {"resultType": "complete", "supportedVersions": ["2026-07-28"],
                                      "capabilities": {"tools": {}}, "ttlMs": 0, "cacheScope": "public"})
                continue
            reply = answer(request)
            if reply is not None:
                peer.send(dict(reply, jsonrpc="2.0", id=request["id"]))

    return script


def test_unknown_result_type_is_invalid_and_absent_means_complete():
    def answer(request):
        text = request["params"]["arguments"]["text"]
        if text == "weird":
            return {"result": {"resultType": "partial", "content": []}}
        return {"result": {"content": [{"type": "text", "text": text}]}}  # no resultType

    async def main():
        async with memory_client(modern_peer(answer), protocol="2026-07-28") as client:
            assert mcp_stdio.tool_text(await client.call_tool("t", {"text": "plain"})) == "plain"
            with pytest.raises(RemoteProtocolError, match="tools/call: the result does not match the 2026-07-28 "
                                                          "schema: \\$.resultType: 'partial' is not 'complete' or "
                                                          "'input_required'"):
                await client.call_tool("t", {"text": "weird"})

    run(main())


def test_unsupported_version_is_retried_once_with_a_mutual_version():
    calls = []

    def answer(request):
        calls.append(request["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"])
        if len(calls) == 1:
            return {"error": {"code": -32022, "message": "Unsupported protocol version",
                              "data": {"supported": ["2026-07-28"], "requested": "x"}}}
        return {"result": {"resultType": "complete", "content": []}}

    def never(request):
        return {"error": {"code": -32022, "message": "Unsupported protocol version",
                          "data": {"supported": ["2099-01-01"], "requested": "2026-07-28"}}}

    async def main():
        async with memory_client(modern_peer(answer), protocol="2026-07-28") as client:
            await client.call_tool("t", {})
            assert calls == ["2026-07-28", "2026-07-28"]
        async with memory_client(modern_peer(never), protocol="2026-07-28") as client:
            with pytest.raises(mcp_stdio.UnsupportedProtocolVersion, match="2099-01-01"):
                await client.call_tool("t", {})

    run(main())


def test_input_rounds_are_bounded():
    def answer(request):
        return {"result": {"resultType": "input_required", "requestState": "s",
                           "inputRequests": {"a": {"method": "sampling/createMessage",
                                                   "params": {"messages": [{"role": "user", "content": {
                                                       "type": "text", "text": "again"}}], "maxTokens": 1}}}}}

    async def main():
        async with memory_client(modern_peer(answer), protocol="2026-07-28", sampling_callback=sampling,
                                 max_input_rounds=3) as client:
            with pytest.raises(RemoteProtocolError, match="input_required more than 3 times"):
                await client.call_tool("t", {})
            with pytest.raises(RemoteProtocolError, match="a tools/list result cannot be 'input_required'"):
                await client.request("tools/list")

    run(main())


def test_the_server_may_end_a_subscription_by_answering_or_failing_it():
    def answer(request):
        if request["method"] == "subscriptions/listen":
            return None  # answered later, by the script below
        return {"result": {"resultType": "complete"}}

    async def script(peer):
        while True:
            request = await peer.receive()
            if request.get("method") == "server/discover":
                peer.answer(request, {"resultType": "complete", "supportedVersions": ["2026-07-28"],
                                      "capabilities": {"tools": {"listChanged": True},
                                                       "prompts": {"listChanged": True}},
                                      "ttlMs": 0, "cacheScope": "public"})
            elif request.get("method") == "subscriptions/listen":
                meta = {"io.modelcontextprotocol/subscriptionId": request["id"]}
                peer.send({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                           "params": {"_meta": meta, "notifications": request["params"]["notifications"]}})
                peer.send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": {"_meta": meta}})
                if request["params"]["notifications"].get("toolsListChanged"):
                    peer.answer(request, {"resultType": "complete", "_meta": meta})
                else:
                    peer.send({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32603, "message": "bye"}})

    async def main():
        async with memory_client(script, protocol="2026-07-28") as client:
            ended = await client.listen(tools=True)
            items = [item async for item in ended]
            assert [i["method"] for i in items] == ["notifications/tools/list_changed"]
            failed = await client.listen(prompts=True)
            with pytest.raises(RemoteError, match="bye"):
                async for _ in failed:
                    pass
            assert failed.closed

    run(main())


def test_listen_needs_the_modern_era():
    async def main():
        async with reference(protocol="handshake") as client:
            with pytest.raises(LocalProtocolError, match="listen\\(\\) needs protocol 2026-07-28"):
                await client.listen(tools=True)

    run(main())


@spec.required
def test_examples_of_2026_07_28_round_trip_through_the_parser_and_encoder():
    from mcp_stdio.jsonrpc import ErrorResponse, Notification, Request, Response, encode, parse

    count = 0
    for path in spec.examples():
        data = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(data, dict) and data.get("jsonrpc") == "2.0"):
            continue
        message = parse(json.dumps(data).encode())
        assert isinstance(message, (Request, Notification, Response, ErrorResponse)), path
        again = json.loads(encode(data))
        assert again == data, path
        count += 1
    assert count > 20


def test_listen_again_after_a_restart():
    import os
    import signal

    async def main():
        async with reference(restart={"backoff": 0.01}) as client:
            subscription = await client.listen(resource_uris=["reference://items/1"])
            first_id, first_pid = subscription.request_id, client.pid
            os.kill(client.pid, signal.SIGKILL)
            for _ in range(200):
                if client.pid != first_pid and client.state.value == "ready" and subscription.request_id != first_id:
                    break
                await asyncio.sleep(0.02)
            assert client.stats()["restarts"] == 1
            for _ in range(100):  # the new listen request is acknowledged
                if subscription.request_id in client._listeners._by_id:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.1)
            await client.call_tool("touch", {"item": "1"})
            update = await asyncio.wait_for(subscription.__anext__(), 5)
            assert update["params"]["uri"] == "reference://items/1"
            assert update["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == subscription.request_id
            await subscription.close()

    SENT.clear()
    run(main())
    SENT.clear()  # two server processes: the recording spans both, so it is not re-validated here


def test_the_result_cache_shares_public_results_only_and_keeps_the_rest_per_caller():
    # basic/patterns/caching: "private" results "MAY be cached and reused only within the
    # same authorization context"; a pool's agents are different contexts. A result that
    # names no scope is kept as if private (only the server can promise it is public).
    from mcp_stdio.modern import ResultCache

    cache = ResultCache(max_entries=10)
    public = {"tools": [], "ttlMs": 1000, "cacheScope": "public"}
    private = {"prompts": [], "ttlMs": 1000, "cacheScope": "private"}
    unscoped = {"resources": [], "ttlMs": 1000}
    assert cache.put("tools/list", public, "agent-a", 0.0)
    assert cache.put("prompts/list", private, "agent-a", 0.0)
    assert cache.put("resources/list", unscoped, "agent-a", 0.0)
    assert cache.get("tools/list", "agent-b", 0.5) is public
    assert cache.get("prompts/list", "agent-a", 0.5) is private
    assert cache.get("prompts/list", "agent-b", 0.5) is None
    assert cache.get("resources/list", "agent-a", 0.5) is unscoped
    assert cache.get("resources/list", "agent-b", 0.5) is None
    # Past its ttlMs a result is gone for everyone; a ttlMs of 0 is never kept.
    assert cache.get("tools/list", "agent-a", 1.5) is None
    assert not cache.put("tools/list", dict(public, ttlMs=0), "agent-a", 2.0)


def test_an_input_round_in_memory_asks_in_the_servers_order_and_retries_with_the_state_as_received():
    # basic/patterns/mrtr, with no process: what the client asks, and the retry it builds.
    from mcp_stdio.modern import input_asks, meta_fields, retry_params, stamp

    result = {"resultType": "input_required", "requestState": "opaque-1",
              "inputRequests": {"b": {"method": "roots/list"},
                                "a": {"method": "sampling/createMessage", "params": {"maxTokens": 5}}}}
    assert input_asks(result) == [("b", "roots/list", {}), ("a", "sampling/createMessage", {"maxTokens": 5})]
    first = {"name": "t", "arguments": {}, "_meta": {"mine": 1}}
    retry = retry_params(first, result, {"b": {"roots": []}, "a": {"role": "assistant"}})
    assert retry == {"name": "t", "arguments": {}, "_meta": {"mine": 1}, "requestState": "opaque-1",
                     "inputResponses": {"b": {"roots": []}, "a": {"role": "assistant"}}}
    # A second round replaces the first round's fields; a result without requestState drops it.
    again = retry_params(retry, {"resultType": "input_required", "inputRequests": {}}, {"c": {}})
    assert again == {"name": "t", "arguments": {}, "_meta": {"mine": 1}, "inputResponses": {"c": {}}}
    # The per-request _meta: the caller's keys are kept, ours win, the caller's dict is not changed.
    fields = meta_fields("2026-07-28", {"sampling": {}}, {"name": "c", "version": "1"}, "info")
    stamped = stamp(first, dict(fields, mine=2))
    assert stamped["_meta"]["mine"] == 2 and first["_meta"] == {"mine": 1}
    assert stamped["_meta"]["io.modelcontextprotocol/logLevel"] == "info"


def test_a_32022_refusal_in_memory_picks_the_mutual_version_or_gives_up():
    from mcp_stdio.client_session import ClientSession
    from mcp_stdio.errors import RemoteError

    session = ClientSession({"name": "c", "version": "1"}, {}, protocol="2026-07-28")
    refused = RemoteError(-32022, "unsupported", {"supported": ["2026-07-28", "2099-01-01"]}, "tools/list")
    assert session.version_refused(refused) == "2026-07-28"
    assert session.version_refused(RemoteError(-32022, "unsupported", {"supported": ["2099-01-01"]},
                                               "tools/list")) is None
    assert session.version_refused(RemoteError(-32022, "unsupported", "not an object", "tools/list")) is None
    assert session.version_refused(RemoteError(-32601, "not found", None, "tools/list")) is None
