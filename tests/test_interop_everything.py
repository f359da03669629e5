"""Our client against @modelcontextprotocol/server-everything (npm, a development-only peer
installed by .ci/run into .peers/): every tool, prompt and resource it offers, with
sampling, elicitation, roots, progress, logging, subscriptions, completion and tasks."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil

import pytest

import mcp_stdio

from . import spec
from .helpers import ROOT, run
from .recording import SENT, RecordingClient, RecordingTransport, clear

EVERYTHING = os.environ.get(
    "MCP_STDIO_EVERYTHING", str(ROOT / ".peers" / "node_modules" / "@modelcontextprotocol" / "server-everything"
                                / "dist" / "index.js"))

pytestmark = [
    pytest.mark.skipif(not os.path.isfile(EVERYTHING) or shutil.which("node") is None,
                       reason="server-everything is not installed (.ci/run installs it into .peers/)"),
    pytest.mark.usefixtures("no_leaks"),
]

# A row per feature, printed as the interop matrix at the end of the module.
MATRIX: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def print_matrix():
    yield
    if MATRIX:
        width = max(map(len, MATRIX))
        print("\nserver-everything interop matrix:")
        for feature, outcome in MATRIX.items():
            print(f"  {feature:<{width}}  {outcome}")


class Recorder:
    """The client's callbacks, remembering what they saw."""

    def __init__(self) -> None:
        self.logs: list = []
        self.notifications: list = []
        self.sampling: list = []
        self.elicitations: list = []

    async def sampling_callback(self, params):
        self.sampling.append(params)
        return {"role": "assistant", "content": {"type": "text", "text": "sampled by the test"},
                "model": "test-model", "stopReason": "endTurn"}

    async def elicitation_callback(self, params):
        self.elicitations.append(params)
        if params.get("mode") == "url":
            return {"action": "accept"}
        return {"action": "accept", "content": {"name": "Ada", "color": "blue"}}


@pytest.fixture(autouse=True)
def every_written_message_validates():
    clear()
    yield
    if not spec.available():
        return
    checker = spec.checker("2025-11-25")
    assert SENT
    for message in SENT:
        # The era probe (server/discover) is a 2026-07-28 message; the rest is 2025-11-25.
        version = checker if message.get("method") != "server/discover" else spec.checker("2026-07-28")
        assert version.errors(message) == [], message


def connect(recorder: Recorder, **options):
    return RecordingClient(
        ["node", EVERYTHING, "stdio"], sampling_callback=recorder.sampling_callback,
        elicitation_callback=recorder.elicitation_callback, roots=[{"uri": "file:///tmp/project", "name": "project"}],
        logging_callback=recorder.logs.append, message_handler=recorder.notifications.append,
        stderr_callback=lambda line: None, startup_timeout=60, **options)


def test_handshake_tools_and_structured_content():
    recorder = Recorder()

    async def main():
        async with connect(recorder) as client:
            assert client.protocol_version == "2025-11-25"
            assert client.server_info["name"] == "mcp-servers/everything"
            tools = {tool["name"]: tool for tool in (await client.list_tools())["tools"]}
            assert {"echo", "get-sum", "get-roots-list", "trigger-sampling-request",
                    "trigger-elicitation-request"} <= set(tools)
            echo = await client.call_tool("echo", {"message": "héllo"})
            assert mcp_stdio.tool_text(echo) == "Echo: héllo"
            assert "15" in mcp_stdio.tool_text(await client.call_tool("get-sum", {"a": 7, "b": 8}))
            structured = await client.call_tool("get-structured-content", {"location": "Chicago"})
            assert set(structured["structuredContent"]) >= {"temperature", "conditions", "humidity"}
            image = await client.call_tool("get-tiny-image", {})
            assert any(block["type"] == "image" and base64.b64decode(block["data"]) for block in image["content"])
            annotated = await client.call_tool("get-annotated-message", {"messageType": "error",
                                                                         "includeImage": True})
            assert annotated["content"][0].get("annotations")
            env = await client.call_tool("get-env", {})
            assert "PATH" in mcp_stdio.tool_text(env)
            links = await client.call_tool("get-resource-links", {"count": 2})
            assert sum(block["type"] == "resource_link" for block in links["content"]) == 2
            for kind in ("Text", "Blob"):
                reference = await client.call_tool("get-resource-reference", {"resourceType": kind, "resourceId": 2})
                assert any(block["type"] == "resource" for block in reference["content"])
            data = "data:text/plain;base64," + base64.b64encode(b"hello " * 100).decode()
            gz = await client.call_tool("gzip-file-as-resource", {"name": "t.gz", "data": data,
                                                                  "outputType": "resource"})
            assert not mcp_stdio.is_error(gz), gz
            MATRIX["tools: echo, sum, structured, image, annotated, env, links, references, gzip"] = "pass"

    run(main())


def test_sampling_elicitation_and_roots_requests_from_the_server():
    recorder = Recorder()

    async def main():
        async with connect(recorder) as client:
            sampled = await client.call_tool("trigger-sampling-request", {"prompt": "Say hi", "maxTokens": 20})
            assert "sampled by the test" in mcp_stdio.tool_text(sampled)
            assert recorder.sampling[0]["messages"][0]["content"]["text"].endswith("Say hi")
            MATRIX["sampling/createMessage (client handler)"] = "pass"
            elicited = await client.call_tool("trigger-elicitation-request", {})
            assert "Ada" in mcp_stdio.tool_text(elicited)
            assert recorder.elicitations[0]["requestedSchema"]["type"] == "object"
            MATRIX["elicitation/create, form mode"] = "pass"
            url = await client.call_tool("trigger-url-elicitation", {"url": "https://example.com/consent"})
            assert not mcp_stdio.is_error(url), url
            assert recorder.elicitations[-1]["mode"] == "url"
            assert recorder.elicitations[-1]["url"] == "https://example.com/consent"
            # The error path: -32042 carries the URL elicitations to complete.
            with pytest.raises(mcp_stdio.RemoteError) as info:
                await client.call_tool("trigger-url-elicitation", {"url": "https://example.com/e", "errorPath": True})
            assert info.value.code == mcp_stdio.errors.URL_ELICITATION_REQUIRED
            assert info.value.data["elicitations"][0]["mode"] == "url"
            MATRIX["elicitation/create, URL mode (request and -32042 error paths)"] = "pass"
            roots = await client.call_tool("get-roots-list", {})
            assert "file:///tmp/project" in mcp_stdio.tool_text(roots)
            await client.set_roots([{"uri": "file:///tmp/other", "name": "other"}])
            await asyncio.sleep(0.2)
            roots = await client.call_tool("get-roots-list", {})
            assert "file:///tmp/other" in mcp_stdio.tool_text(roots)
            MATRIX["roots/list and notifications/roots/list_changed"] = "pass"

    run(main())


def test_progress_and_timeout_reset_on_progress():
    recorder = Recorder()
    seen = []

    async def main():
        async with connect(recorder) as client:
            result = await client.call_tool("trigger-long-running-operation", {"duration": 1.5, "steps": 5},
                                            timeout=0.6, reset_timeout_on_progress=True,
                                            progress_callback=lambda p, t, m: seen.append((p, t)))
            assert "completed" in mcp_stdio.tool_text(result).lower()
            with pytest.raises(mcp_stdio.RequestTimeout):
                await client.call_tool("trigger-long-running-operation", {"duration": 1.5, "steps": 5},
                                       timeout=0.6)

    run(main())
    assert [p for p, _ in seen] == [1, 2, 3, 4, 5] and seen[0][1] == 5
    MATRIX["notifications/progress, timeout reset on progress"] = "pass"


def test_logging_level_and_log_notifications():
    recorder = Recorder()

    async def main():
        async with connect(recorder) as client:
            await client.set_logging_level("debug")
            await client.call_tool("toggle-simulated-logging", {})
            for _ in range(100):
                if recorder.logs:
                    break
                await asyncio.sleep(0.05)
            await client.call_tool("toggle-simulated-logging", {})

    run(main())
    assert recorder.logs and {"level", "data"} <= set(recorder.logs[0])
    MATRIX["logging/setLevel and notifications/message"] = "pass"


def test_resources_templates_reads_and_subscriptions():
    recorder = Recorder()

    async def main():
        async with connect(recorder) as client:
            resources = (await client.list_resources())["resources"]
            assert resources
            for resource in resources:
                contents = (await client.read_resource(resource["uri"]))["contents"]
                assert contents and contents[0]["uri"] == resource["uri"]
            templates = (await client.list_resource_templates())["resourceTemplates"]
            assert {t["uriTemplate"] for t in templates} >= {"demo://resource/dynamic/text/{resourceId}"}
            text = await client.read_resource("demo://resource/dynamic/text/3")
            assert text["contents"][0]["text"]
            blob = await client.read_resource("demo://resource/dynamic/blob/3")
            assert base64.b64decode(blob["contents"][0]["blob"])
            uri = "demo://resource/dynamic/text/1"
            await client.subscribe_resource(uri)
            await client.call_tool("toggle-subscriber-updates", {})
            for _ in range(200):
                if any(n["method"] == "notifications/resources/updated" for n in recorder.notifications):
                    break
                await asyncio.sleep(0.05)
            await client.call_tool("toggle-subscriber-updates", {})
            await client.unsubscribe_resource(uri)
            updated = [n for n in recorder.notifications if n["method"] == "notifications/resources/updated"]
            assert updated and updated[0]["params"]["uri"] == uri
            with pytest.raises(mcp_stdio.RemoteError):
                await client.read_resource("demo://no/such/resource")

    run(main())
    MATRIX["resources: list, read, templates, subscribe, updated"] = "pass"


def test_prompts_and_completion():
    recorder = Recorder()

    async def main():
        async with connect(recorder) as client:
            prompts = {p["name"] for p in (await client.list_prompts())["prompts"]}
            assert prompts >= {"simple-prompt", "args-prompt", "completable-prompt", "resource-prompt"}
            simple = await client.get_prompt("simple-prompt")
            assert simple["messages"][0]["role"] == "user"
            args = await client.get_prompt("args-prompt", {"city": "Paris", "state": "TX"})
            assert "Paris" in json.dumps(args)
            resource = await client.get_prompt("resource-prompt", {"resourceType": "Text", "resourceId": "1"})
            assert any(m["content"]["type"] == "resource" for m in resource["messages"])
            completion = await client.complete({"type": "ref/prompt", "name": "completable-prompt"},
                                               {"name": "department", "value": "E"})
            assert completion["completion"]["values"] == ["Engineering"]
            contextual = await client.complete({"type": "ref/prompt", "name": "completable-prompt"},
                                               {"name": "name", "value": ""},
                                               context={"arguments": {"department": "Engineering"}})
            assert contextual["completion"]["values"]
            completable = await client.get_prompt("completable-prompt", {"department": "Engineering",
                                                                          "name": "Alice"})
            assert completable["messages"]

    run(main())
    MATRIX["prompts: list, get (all four); completion/complete with context"] = "pass"


def test_task_augmented_tool_call():
    recorder = Recorder()

    async def main():
        async with connect(recorder) as client:
            created = await client.call_tool("simulate-research-query", {"topic": "MCP"}, task={"ttl": 60000})
            task_id = created["task"]["taskId"]
            state = await client.get_task(task_id)
            assert state["taskId"] == task_id and state["status"] in {"working", "completed", "input_required"}
            listed = await client.list_tasks()
            assert any(task["taskId"] == task_id for task in listed["tasks"])
            result = await client.get_task_result(task_id, timeout=60)
            assert result["content"], result
            second = await client.call_tool("simulate-research-query", {"topic": "x"}, task={"ttl": 60000})
            cancelled = await client.cancel_task(second["task"]["taskId"])
            assert cancelled["status"] == "cancelled"

    run(main())
    MATRIX["tasks: tools/call as a task, tasks/get, list, result, cancel"] = "pass"


def test_pooled_in_the_handshake_era_agents_get_their_own_answers(monkeypatch):
    from mcp_stdio.pool import _Member

    monkeypatch.setattr(_Member, "_transport_class", RecordingTransport)  # the members' messages are checked too
    progress: dict = {0: [], 1: []}

    def sampler(name: str):
        async def sampling(params):
            return {"role": "assistant", "content": {"type": "text", "text": f"sampled by {name}"},
                    "model": name, "stopReason": "endTurn"}
        return sampling

    async def main():
        async with mcp_stdio.pool(["node", EVERYTHING, "stdio"], size=2, protocol="handshake", startup_timeout=60,
                                  stderr_callback=lambda line: None, declare={"sampling"}) as pool:
            agents = [pool.session(client_info={"name": f"agent-{i}", "version": "1"},
                                   sampling_callback=sampler(f"agent-{i}")) for i in range(8)]

            async def work(i: int, round_: int) -> None:
                agent = agents[i]
                echo = await agent.call_tool("echo", {"message": f"agent {i} round {round_}"})
                assert mcp_stdio.tool_text(echo) == f"Echo: agent {i} round {round_}"
                total = await agent.call_tool("get-sum", {"a": i, "b": 1000 * round_})
                assert f"{i + 1000 * round_}" in mcp_stdio.tool_text(total)
                assert "echo" in {tool["name"] for tool in (await agent.list_tools())["tools"]}

            await asyncio.gather(*(work(i, round_) for i in range(8) for round_ in range(5)))
            # Progress of two concurrent calls reaches each caller's callback only.
            await asyncio.gather(*(agents[i].call_tool(
                "trigger-long-running-operation", {"duration": 1, "steps": 4},
                progress_callback=lambda p, t, m, i=i: progress[i].append(p)) for i in (0, 1)))
            # A sampling request of the server goes to the agent whose call caused it (one at a time).
            for i in (2, 5):
                sampled = await agents[i].call_tool("trigger-sampling-request", {"prompt": "hi", "maxTokens": 20})
                assert f"sampled by agent-{i}" in mcp_stdio.tool_text(sampled)
            stats = pool.stats()
            assert len(stats["pids"]) == 2 and stats["in_flight"] == 0 and stats["agents"] == 8

    run(main(), timeout=120)
    assert progress == {0: [1, 2, 3, 4], 1: [1, 2, 3, 4]}
    MATRIX["pool: 8 agents on 2 members, concurrent calls, progress and sampling per agent"] = "pass"
