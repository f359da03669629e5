"""Callbacks as users write them, against the reference server in both eras: plain or async
functions, the shapes the official SDKs and fastmcp use, signatures checked when given, and
nothing invalid ever sent."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
import threading
from pathlib import Path

import pytest

import mcp_stdio
from mcp_stdio import CapabilityError, LocalProtocolError

from .helpers import CHILD_ENV, REFERENCE, run

pytestmark = pytest.mark.usefixtures("no_leaks")

ERAS = ["handshake", "2026-07-28"]
PEERS = Path(__file__).parent / "peers"


def reference(protocol: str, **options) -> mcp_stdio.Client:
    return mcp_stdio.connect(REFERENCE, env=CHILD_ENV, protocol=protocol, **options)


@pytest.mark.parametrize("protocol", ERAS)
@pytest.mark.parametrize("roots, expected", [
    ({"roots": [{"uri": "file:///tmp", "name": "tmp"}]}, [{"uri": "file:///tmp", "name": "tmp"}]),
    ([{"uri": "file:///a"}, {"uri": "file:///b"}], [{"uri": "file:///a"}, {"uri": "file:///b"}]),
    (["file:///tmp", "/srv/data"], [{"uri": "file:///tmp"}, {"uri": "file:///srv/data"}]),
])
def test_roots_in_every_shape_users_write(protocol, roots, expected):
    async def main():
        async with reference(protocol, list_roots_callback=lambda: roots) as client:
            result = await client.call_tool("roots", {})
            assert result["structuredContent"] == {"roots": expected}
        async with reference(protocol, roots=roots) as client:
            result = await client.call_tool("roots", {})
            assert result["structuredContent"] == {"roots": expected}

    run(main())


@dataclasses.dataclass
class Root:
    uri: str
    name: str | None = None


class Model:
    """Quacks like a pydantic model (the official SDK's result types)."""

    def __init__(self, **fields):
        self.fields = fields

    def model_dump(self, **options):
        assert options == {"mode": "json", "by_alias": True, "exclude_none": True}
        return dict(self.fields)


@pytest.mark.parametrize("protocol", ERAS)
def test_plain_functions_dataclasses_and_models_are_accepted(protocol):
    threads = set()

    def sampling(params):  # a plain function: it runs in a worker thread
        threads.add(threading.current_thread().name)
        return Model(role="assistant", content={"type": "text", "text": "plain"}, model="m")

    def elicitation(params):
        return {"action": "accept", "content": {"answer": "blue"}}

    async def main():
        async with reference(protocol, sampling_callback=sampling, elicitation_callback=elicitation,
                             list_roots_callback=lambda: [Root("file:///r", "r")]) as client:
            assert mcp_stdio.tool_text(await client.call_tool("sample", {"prompt": "hi"})) == "plain"
            asked = await client.call_tool("ask", {"question": "colour?"})
            assert asked["structuredContent"]["content"] == {"answer": "blue"}
            roots = await client.call_tool("roots", {})
            assert roots["structuredContent"] == {"roots": [{"uri": "file:///r", "name": "r"}]}
        assert threads and threading.current_thread().name not in threads

    run(main())


def test_an_invalid_callback_result_is_never_sent_and_is_logged(caplog):
    async def sampling(params):
        return {"role": "assistant", "content": {"type": "text", "text": "no model"}}  # "model" is missing

    async def main():
        async with reference("handshake", sampling_callback=sampling) as client:
            result = await client.call_tool("sample", {"prompt": "hi"})
            assert mcp_stdio.is_error(result)
            assert mcp_stdio.tool_text(result) == ("RemoteError: sampling/createMessage: the client's "
                                                   "sampling/createMessage handler returned an invalid result "
                                                   "(code -32603)")

    with caplog.at_level(logging.WARNING, logger="mcp_stdio.client"):
        run(main())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["sampling_callback returned an invalid sampling/createMessage result, not sent (the server "
                        "gets an error): $: required property 'model' is missing"]


@pytest.mark.parametrize("protocol", ["handshake", "2026-07-28"])
def test_invalid_elicitation_and_roots_results_are_never_sent_in_either_era(protocol, caplog):
    def elicitation(params):
        return {"action": "maybe"}  # not one of accept, decline, cancel

    def roots():
        return [{"name": "no uri"}]

    async def main():
        async with reference(protocol, elicitation_callback=elicitation, list_roots_callback=roots) as client:
            for tool, arguments, method in (("ask", {"question": "?"}, "elicitation/create"),
                                            ("roots", {}, "roots/list")):
                if protocol == "handshake":
                    result = await client.call_tool(tool, arguments)
                    assert mcp_stdio.is_error(result) and "(code -32603)" in mcp_stdio.tool_text(result)
                else:  # the answer of an input round: nothing invalid is retried to the server
                    with pytest.raises(LocalProtocolError, match=f"the server asked for {method}"):
                        await client.call_tool(tool, arguments)

    with caplog.at_level(logging.WARNING, logger="mcp_stdio.client"):
        run(main())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith("elicitation_callback returned an invalid elicitation/create result, not sent")
    assert "roots" in warnings[1] and "not sent" in warnings[1]


def test_a_callback_error_during_a_2026_input_round_is_an_mcp_stdio_error():
    def sampling(params):
        raise ValueError("no model available")

    async def main():
        async with reference("2026-07-28", sampling_callback=sampling) as client:
            with pytest.raises(LocalProtocolError, match="tools/call: the server asked for sampling/createMessage, "
                                                         "and the handler failed: ValueError: no model available"):
                await client.call_tool("sample", {"prompt": "hi"})

    run(main())


def test_the_official_sdk_signature_is_refused_when_the_callback_is_given():
    async def sdk_style(context, params):
        return None

    with pytest.raises(TypeError, match=r"sampling_callback must accept sampling_callback\(params\); sdk_style takes "
                                        r"\(context, params\) \(the official SDK's \(context, params\) form is not "
                                        r"supported"):
        mcp_stdio.connect(REFERENCE, sampling_callback=sdk_style)
    with pytest.raises(TypeError, match=r"list_roots_callback must accept list_roots_callback\(\)"):
        mcp_stdio.connect(REFERENCE, list_roots_callback=lambda context: [])
    with pytest.raises(TypeError, match="sampling_callback must be callable, not str"):
        mcp_stdio.connect(REFERENCE, sampling_callback="nope")


@pytest.mark.parametrize("protocol", ERAS)
def test_set_roots_replaces_the_callback(protocol):
    async def main():
        async with reference(protocol, list_roots_callback=lambda: ["file:///old"]) as client:
            first = await client.call_tool("roots", {})
            assert first["structuredContent"] == {"roots": [{"uri": "file:///old"}]}
            await client.set_roots(["file:///new"])
            second = await client.call_tool("roots", {})
            assert second["structuredContent"] == {"roots": [{"uri": "file:///new"}]}

    run(main())


def test_listen_is_refused_locally_when_the_server_does_not_declare_it():
    async def main():
        async with reference("2026-07-28") as client:
            # The reference server declares tools.listChanged and resources.subscribe.
            subscription = await client.listen(tools=True)
            await subscription.close()
        # This one declares "tools": {} and no listChanged.
        async with mcp_stdio.connect([sys.executable, str(PEERS / "modern_only.py")], env=CHILD_ENV) as client:
            assert client.server_capabilities == {"tools": {}}
            with pytest.raises(CapabilityError, match="subscriptions/listen: the server did not declare the "
                                                      "'tools.listChanged' capability"):
                await client.listen(tools=True)

    run(main())


def test_a_sync_call_from_a_notification_callback_fails_fast_and_one_from_a_plain_request_callback_works():
    import mcp_stdio.sync

    seen = {}
    box = {}

    def on_log(params):
        try:
            box["client"].ping()
        except LocalProtocolError as exc:
            seen["log"] = str(exc)

    def sampling(params):  # a worker thread: sync calls work
        seen["tools"] = len(box["client"].list_tools()["tools"])
        return {"role": "assistant", "content": {"type": "text", "text": "ok"}, "model": "m"}

    with mcp_stdio.sync.connect(REFERENCE, env=CHILD_ENV, protocol="handshake", logging_callback=on_log,
                                sampling_callback=sampling) as client:
        box["client"] = client
        client.call_tool("log", {"level": "error", "message": "x"})
        assert mcp_stdio.tool_text(client.call_tool("sample", {"prompt": "hi"})) == "ok"
        client.ping()
    assert seen["tools"] == 13
    assert seen["log"].startswith("a mcp_stdio.sync call from a callback running on the event loop would wait "
                                  "for itself")


def test_every_exception_from_a_request_method_is_in_the_tree():
    async def main():
        async with reference("handshake") as client:
            for call in (client.call_tool("echo", "not a dict"), client.request("x", "params"),  # type: ignore
                         client.list_tools(cursor=5), client.get_prompt("greeting", ["Ada"])):  # type: ignore
                with pytest.raises(mcp_stdio.MCPStdioError):
                    await call

    run(main())


def test_the_sync_client_has_every_coroutine_method_of_the_async_one():
    import inspect

    import mcp_stdio.sync

    names = {name for name in dir(mcp_stdio.Client)
             if not name.startswith("_") and inspect.iscoroutinefunction(getattr(mcp_stdio.Client, name))}
    assert names <= set(dir(mcp_stdio.sync.Client))
    assert "listen" in names and "call_tool" in names


def test_plain_request_handlers_do_not_stall_the_event_loop():
    import time

    lag = []

    def slow_elicitation(params):
        time.sleep(1.0)  # blocks its worker thread, not the loop
        return {"action": "decline"}

    async def ticker():
        while True:
            before = asyncio.get_running_loop().time()
            await asyncio.sleep(0.01)
            lag.append(asyncio.get_running_loop().time() - before - 0.01)

    async def main():
        async with reference("handshake", elicitation_callback=slow_elicitation) as client:
            tick = asyncio.ensure_future(ticker())
            asked = await client.call_tool("ask", {"question": "?"})
            tick.cancel()
            assert asked["structuredContent"] == {"action": "decline"}

    run(main())
    assert max(lag) < 0.5  # a stalled loop would have waited the whole second
