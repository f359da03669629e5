"""The official `mcp` Python client (2.x, a development-only peer) against a server command.

Usage: python official_client.py MODE COMMAND [ARGS...]   (MODE: auto or legacy)

Exercises every handshake-era feature of the mcp_stdio reference server and prints one JSON
object: the negotiated version and, per feature, "pass" or the error.
"""

import asyncio
import json
import sys
import traceback

from mcp import types
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

mode, command, *args = sys.argv[1:]
report = {"features": {}}
logs = []
progress = []


async def sampling(context, params):
    text = params.messages[0].content.text
    return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text=f"model: {text}"),
                                     model="peer")


async def elicitation(context, params):
    if getattr(params, "mode", None) == "url":
        return types.ElicitResult(action="accept")
    return types.ElicitResult(action="accept", content={"answer": "green"})


async def roots(context):
    return types.ListRootsResult(roots=[types.Root(uri="file:///peer", name="peer")])


async def logging_callback(params):
    logs.append(params.data)


async def progress_callback(value, total, message):
    progress.append(value)


def text(result):
    return "".join(block.text for block in result.content if getattr(block, "type", "") == "text")


async def check(name, coro):
    try:
        outcome = await coro
        report["features"][name] = "pass" if outcome is None or outcome is True else f"unexpected: {outcome!r}"
    except Exception as exc:  # the report says what failed
        report["features"][name] = f"{type(exc).__name__}: {exc} {traceback.format_exc(limit=2)}"


async def main():
    params = StdioServerParameters(command=command, args=args)
    async with Client(params, mode=mode, sampling_callback=sampling, elicitation_callback=elicitation,
                      list_roots_callback=roots, logging_callback=logging_callback, log_level="debug") as client:
        report["protocol_version"] = client.protocol_version
        report["server"] = client.server_info.name if client.server_info else None
        modern = client.protocol_version >= "2026-07-28"

        async def tools():
            names, cursor = [], None
            while True:  # the reference server pages its lists, two items a page
                listed = await client.list_tools(cursor=cursor)
                names += [tool.name for tool in listed.tools]
                cursor = listed.next_cursor
                if cursor is None:
                    break
            assert names[:4] == ["echo", "add", "sleep", "blob"] and len(names) == 13, names
            assert text(await client.call_tool("echo", {"text": "hé"})) == "hé"
            assert text(await client.call_tool("add", {"a": 2, "b": 3})) == "5"
            weather = await client.call_tool("weather", {"city": "Rome"})
            assert weather.structured_content == {"city": "Rome", "celsius": 21.5}
            failed = await client.call_tool("fail", {"message": "broken"})
            assert failed.is_error and text(failed) == "broken"

        async def progress_check():
            result = await client.call_tool("sleep", {"seconds": 0.3}, progress_callback=progress_callback)
            assert text(result) == "slept" and progress, progress

        async def resources():
            listed = await client.list_resources()
            assert [str(r.uri) for r in listed.resources] == ["reference://readme", "reference://logo"]
            assert listed.next_cursor is None
            templates = await client.list_resource_templates()
            assert templates.resource_templates[0].uri_template == "reference://items/{item}"
            read = await client.read_resource("reference://items/9")
            assert read.contents[0].text == "item 9"
            logo = await client.read_resource("reference://logo")
            assert logo.contents[0].blob

        async def subscriptions():
            if not modern:
                await client.subscribe_resource("reference://items/1")
                await client.call_tool("touch", {"item": "1"})
                await client.unsubscribe_resource("reference://items/1")
                return
            async with client.listen(resource_subscriptions=["reference://items/1"]) as subscription:
                await client.call_tool("touch", {"item": "1"})
                async for event in subscription:
                    assert "reference://items/1" in repr(event), event
                    break

        async def prompts():
            listed = await client.list_prompts()
            assert [p.name for p in listed.prompts] == ["greeting", "code_review"]
            got = await client.get_prompt("code_review", {"code": "x = 1", "language": "go"})
            assert got.messages[0].content.text == "Review this go code:"
            completion = await client.complete(types.PromptReference(type="ref/prompt", name="code_review"),
                                               {"name": "language", "value": "ru"})
            assert completion.completion.values == ["rust"]

        async def logging_check():
            if not modern:  # modern requests carry the level in _meta (log_level above)
                await client.set_logging_level("debug")
            await client.call_tool("log", {"level": "info", "message": "peer log"})
            await asyncio.sleep(0.1)
            assert logs == ["peer log"], logs

        async def client_requests():
            assert text(await client.call_tool("sample", {"prompt": "hi"})) == "model: hi"
            asked = await client.call_tool("ask", {"question": "colour?"})
            assert asked.structured_content["content"] == {"answer": "green"}, asked
            url = await client.call_tool("ask_url", {"url": "https://example.com/x"})
            assert url.structured_content == {"action": "accept"}, url
            listed = await client.call_tool("roots", {})
            assert listed.structured_content["roots"][0]["uri"] == "file:///peer", listed

        async def ping():
            if not modern:  # 2026-07-28 has no ping
                await client.send_ping()

        for name, coro in (("tools, structured output, tool errors", tools()),
                           ("progress notifications", progress_check()),
                           ("resources, templates, blobs", resources()),
                           ("resource subscriptions (subscribe or listen)", subscriptions()),
                           ("prompts and completion", prompts()),
                           ("logging/setLevel and log notifications", logging_check()),
                           ("sampling, elicitation (form, URL), roots", client_requests()),
                           ("ping", ping())):
            await check(name, coro)


asyncio.run(main())
print(json.dumps(report))
