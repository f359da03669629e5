"""Every handshake-era feature, our client against our reference server (real processes),
with every message written in either direction validated against the official schema."""

from __future__ import annotations

import base64

import pytest

import mcp_stdio
from mcp_stdio import CapabilityError, LocalProtocolError, RemoteError, RemoteProtocolError

from . import spec
from .helpers import CHILD_ENV, REFERENCE, run, server
from .recording import RECEIVED, SENT, RecordingClient, clear

pytestmark = pytest.mark.usefixtures("no_leaks")


@pytest.fixture(autouse=True)
def validate_both_directions():
    clear()
    yield
    if not spec.available():
        return
    checker = spec.checker("2025-11-25")
    requests = {m["id"]: m for m in SENT if "method" in m and "id" in m}
    for message in SENT:
        assert checker.errors(message) == [], message
    for message in spec.lines(b"".join(RECEIVED)):
        request = requests.get(message.get("id")) or {}
        task = "task" in (request.get("params") or {})
        assert checker.errors(message, request.get("method"), task) == [], message


def reference(**options):
    options.setdefault("env", CHILD_ENV)
    options.setdefault("protocol", "handshake")
    return RecordingClient(REFERENCE, **options)


def test_lists_are_paginated_and_drained():
    async def main():
        async with reference() as client:
            tools = await client.list_tools()
            assert len(tools["tools"]) == 13 and "nextCursor" not in tools
            first = await client.list_tools(page=True)
            assert len(first["tools"]) == 2 and first["nextCursor"] == "2"
            second = await client.list_tools("2")
            assert [t["name"] for t in second["tools"]] == ["sleep", "blob"]
            with pytest.raises(RemoteError, match="invalid cursor 'bogus'"):
                await client.list_tools("bogus")

    run(main())


def test_structured_output_is_validated_against_the_output_schema():
    async def main():
        async with reference() as client:
            await client.list_tools()
            result = await client.call_tool("weather", {"city": "Oslo"})
            assert result["structuredContent"] == {"city": "Oslo", "celsius": 21.5}
            # Pretend the server published a stricter schema: the same answer is refused.
            client._output_schemas()["weather"] = {
                "type": "object", "properties": {"celsius": {"type": "integer"}}, "required": ["celsius"]}
            with pytest.raises(RemoteProtocolError, match=r"structuredContent does not match the outputSchema: "
                                                          r"\$.celsius: 21.5 is not of type integer"):
                await client.call_tool("weather", {"city": "Oslo"})
            assert (await client.call_tool("weather", {"city": "Oslo"}, validate=False))["structuredContent"]
            failed = await client.call_tool("fail", {"message": "nope"})
            assert mcp_stdio.is_error(failed) and mcp_stdio.tool_text(failed) == "nope"

    run(main())


def test_resources_templates_read_subscribe_and_updates():
    seen = []

    async def main():
        async with reference(message_handler=seen.append) as client:
            resources = await client.list_resources()
            assert [r["uri"] for r in resources["resources"]] == ["reference://readme", "reference://logo"]
            templates = await client.list_resource_templates()
            assert templates["resourceTemplates"][0]["uriTemplate"] == "reference://items/{item}"
            readme = await client.read_resource("reference://readme")
            assert readme["contents"][0]["text"] == "The mcp_stdio reference server."
            logo = await client.read_resource("reference://logo")
            assert base64.b64decode(logo["contents"][0]["blob"]).startswith(b"\x89PNG")
            assert (await client.read_resource("reference://items/7"))["contents"][0]["text"] == "item 7"
            with pytest.raises(RemoteError) as info:
                await client.read_resource("reference://nothing")
            assert info.value.code == -32002
            await client.subscribe_resource("reference://items/1")
            await client.call_tool("touch", {"item": "1"})
            await client.call_tool("touch", {"item": "2"})  # not subscribed: no notification
            await client.unsubscribe_resource("reference://items/1")
            await client.call_tool("touch", {"item": "1"})
            await client.ping()

    run(main())
    updates = [n["params"]["uri"] for n in seen if n["method"] == "notifications/resources/updated"]
    assert updates == ["reference://items/1"]


def test_prompts_and_completion():
    async def main():
        async with reference() as client:
            prompts = await client.list_prompts()
            assert {p["name"]: p["arguments"] for p in prompts["prompts"]} == {
                "greeting": [{"name": "name", "required": True}],
                "code_review": [{"name": "code", "required": True}, {"name": "language", "required": False}]}
            greeting = await client.get_prompt("greeting", {"name": "Ada"})
            assert greeting["messages"][0]["content"]["text"] == "Please greet Ada warmly."
            review = await client.get_prompt("code_review", {"code": "x = 1", "language": "rust"})
            assert [m["content"]["text"] for m in review["messages"]] == ["Review this rust code:", "x = 1"]
            with pytest.raises(RemoteError, match="missing prompt arguments: code"):
                await client.get_prompt("code_review", {})
            completion = await client.complete({"type": "ref/prompt", "name": "code_review"},
                                               {"name": "language", "value": "py"},
                                               context={"arguments": {"code": "x"}})
            assert completion["completion"]["values"] == ["python"]

    run(main())


def test_logging_level_filters_log_notifications():
    logs = []

    async def main():
        async with reference(logging_callback=logs.append) as client:
            await client.call_tool("log", {"level": "debug", "message": "hidden"})
            await client.set_logging_level("debug")
            await client.call_tool("log", {"level": "debug", "message": "shown"})
            await client.set_logging_level("error")
            await client.call_tool("log", {"level": "warning", "message": "hidden too"})
            with pytest.raises(ValueError, match="level must be one of"):
                await client.set_logging_level("loud")
            await client.ping()

    run(main())
    assert logs == [{"level": "debug", "data": "shown", "logger": "reference"}]


def test_progress_reset_timeout_and_cancellation_reaching_a_running_tool():
    progress = []

    async def main():
        async with reference() as client:
            result = await client.call_tool("sleep", {"seconds": 0.6}, timeout=0.3, reset_timeout_on_progress=True,
                                            progress_callback=lambda p, t, m: progress.append((p, t)))
            assert mcp_stdio.tool_text(result) == "slept"
            with pytest.raises(mcp_stdio.RequestTimeout):
                await client.call_tool("sleep", {"seconds": 5}, timeout=0.6, reset_timeout_on_progress=True,
                                       max_total_timeout=0.6, progress_callback=lambda p, t, m: None)
            # The cancellation reached the running tool, which stopped: the next call is quick.
            assert mcp_stdio.tool_text(await client.call_tool("echo", {"text": "next"}, timeout=2)) == "next"

    run(main())
    assert progress and progress[-1][1] == 0.6
    assert [p for p, _ in progress] == sorted(p for p, _ in progress)


def test_requests_from_the_server_to_the_client():
    async def sampling(params):
        text = params["messages"][0]["content"]["text"]
        return {"role": "assistant", "content": {"type": "text", "text": f"model says: {text}"}, "model": "m"}

    async def elicitation(params):
        if params.get("mode") == "url":
            return {"action": "accept"}
        return {"action": "accept", "content": {"answer": "blue"}}

    async def main():
        async with reference(sampling_callback=sampling, elicitation_callback=elicitation,
                             roots=[{"uri": "file:///work", "name": "work"}]) as client:
            assert client.callbacks.capabilities() == {
                "roots": {"listChanged": True}, "sampling": {}, "elicitation": {"form": {}, "url": {}},
                "tasks": {"list": {}, "cancel": {}, "requests": {"sampling": {"createMessage": {}},
                                                                  "elicitation": {"create": {}}}}}
            assert mcp_stdio.tool_text(await client.call_tool("sample", {"prompt": "hi"})) == "model says: hi"
            as_task = await client.call_tool("sample_as_task", {"prompt": "later"})
            # The callback may finish before the server's tasks/get arrives.
            assert as_task["structuredContent"]["first_status"] in ("working", "completed")
            assert as_task["structuredContent"]["listed"] is True
            assert as_task["structuredContent"]["text"] == "model says: later"
            asked = await client.call_tool("ask", {"question": "Favourite colour?"})
            assert asked["structuredContent"] == {"action": "accept", "content": {"answer": "blue"}}
            url = await client.call_tool("ask_url", {"url": "https://example.com/login"})
            assert url["structuredContent"] == {"action": "accept"}
            roots = await client.call_tool("roots", {})
            assert roots["structuredContent"] == {"roots": [{"uri": "file:///work", "name": "work"}]}
            await client.set_roots([{"uri": "file:///other"}])
            roots = await client.call_tool("roots", {})
            assert roots["structuredContent"] == {"roots": [{"uri": "file:///other"}]}

    run(main())


def test_without_handlers_the_capabilities_are_not_declared_and_the_server_sees_it():
    async def main():
        async with reference() as client:
            assert client.callbacks.capabilities() == {}
            result = await client.call_tool("sample", {"prompt": "hi"})
            assert mcp_stdio.is_error(result)
            assert mcp_stdio.tool_text(result) == "the client does not declare the sampling capability"
            with pytest.raises(LocalProtocolError, match="created without roots"):
                await client.set_roots([])

    run(main())


def test_tasks():
    async def main():
        async with reference() as client:
            created = await client.call_tool("echo", {"text": "as a task"}, task={"ttl": 60000})
            task_id = created["task"]["taskId"]
            # The work runs in the background: the task may already be done when asked.
            assert created["task"]["status"] in ("working", "completed")
            assert [t["taskId"] for t in (await client.list_tasks())["tasks"]] == [task_id]
            result = await client.get_task_result(task_id)  # waits for the work
            assert mcp_stdio.tool_text(result) == "as a task"
            assert result["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task_id}
            assert (await client.get_task(task_id))["status"] == "completed"
            slow = await client.call_tool("sleep", {"seconds": 30}, task={"ttl": 60000})
            cancelled = await client.cancel_task(slow["task"]["taskId"])
            assert cancelled["status"] == "cancelled"
            with pytest.raises(RemoteError, match="the task was cancelled"):
                await client.get_task_result(slow["task"]["taskId"])
            with pytest.raises(RemoteError, match="already completed"):
                await client.cancel_task(task_id)

    run(main())


def test_capabilities_and_versions_are_respected_locally():
    async def main():
        async with mcp_stdio.connect(server("wrong_version")):
            pass

    with pytest.raises(mcp_stdio.UnsupportedProtocolVersion):
        run(main())

    async def minimal():
        # A server that declares only tools (mcp_stdio/bench/servers/_common.py): everything else is
        # refused without a round trip.
        async with mcp_stdio.connect(server("banner")) as client:
            for call, capability in ((client.list_resources(), "resources"), (client.list_prompts(), "prompts"),
                                     (client.set_logging_level("info"), "logging"),
                                     (client.subscribe_resource("x://y"), "resources.subscribe"),
                                     (client.complete({"type": "ref/prompt", "name": "p"}, {"name": "a", "value": ""}),
                                      "completions"),
                                     (client.get_task("t"), "tasks")):
                with pytest.raises(CapabilityError) as info:
                    await call
                assert info.value.capability == capability
            with pytest.raises(CapabilityError, match="tools/call with a task: the server did not declare the "
                                                      "'tasks.requests.tools.call' capability"):
                await client.call_tool("echo", {"text": "x"}, task={"ttl": 1})

    run(minimal())


def test_fields_of_newer_versions_are_refused_on_older_sessions():
    async def main():
        session_versions = ("2025-03-26",)
        client = mcp_stdio.connect(REFERENCE, env=CHILD_ENV, protocol="handshake")
        client._session.handshake_versions = session_versions
        async with client:
            assert client.protocol_version == "2025-03-26"
            with pytest.raises(LocalProtocolError, match="completion context needs protocol 2025-06-18"):
                await client.complete({"type": "ref/prompt", "name": "code_review"}, {"name": "language", "value": ""},
                                      context={"arguments": {}})
            with pytest.raises(LocalProtocolError, match="tasks needs protocol 2025-11-25"):
                await client.list_tasks()
            tools = await client.list_tools()
            assert all("outputSchema" not in tool for tool in tools["tools"])  # the server knows too

    run(main())
