"""Interop with the official `mcp` Python package (2.x), a development-only peer installed by
.ci/run: its client against our reference server, and our client against a server written
with it (tests/peers/). The peers run in their own processes, with the interpreter that has
`mcp` (this one, or MCP_STDIO_PEER_PYTHON)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

import mcp_stdio

from .helpers import ROOT, run

PEERS = ROOT / "tests" / "peers"


def peer_python() -> str | None:
    configured = os.environ.get("MCP_STDIO_PEER_PYTHON")
    if configured:
        return configured
    return sys.executable if importlib.util.find_spec("mcp") is not None else None


PYTHON = peer_python()
pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="the official mcp package is not installed (.ci/run installs it)"),
    pytest.mark.usefixtures("no_leaks"),
]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_official_client_against_our_reference_server(mode):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    done = subprocess.run([PYTHON, str(PEERS / "official_client.py"), mode, sys.executable, "-m", "mcp_stdio.server"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["server"] == "mcp_stdio-reference"
    # In auto mode the official client probes server/discover first; our dual-era server
    # answers it, so the session is modern. In legacy mode it sends initialize.
    assert report["protocol_version"] == {"auto": "2026-07-28", "legacy": "2025-11-25"}[mode]
    print(f"\nofficial mcp client ({mode} mode) -> mcp_stdio reference server:")
    for feature, outcome in report["features"].items():
        print(f"  {feature:<44} {outcome if outcome == 'pass' else 'FAIL'}")
    assert report["features"] and all(v == "pass" for v in report["features"].values()), report["features"]


@pytest.mark.parametrize("protocol, version", [("auto", "2026-07-28"), ("handshake", "2025-11-25")])
def test_our_client_against_an_official_server(protocol, version):
    progress = []

    async def elicitation(params):
        return {"action": "accept", "content": {"colour": "teal"}}

    async def main():
        command = [PYTHON, str(PEERS / "official_server.py")]
        async with mcp_stdio.connect(command, env={"PYTHONWARNINGS": "ignore"}, stderr_callback=lambda line: None,
                                     startup_timeout=60, protocol=protocol,
                                     elicitation_callback=elicitation) as client:
            assert client.server_info["name"] == "official-peer"
            assert client.protocol_version == version  # auto: the official 2.x server is dual-era
            assert client.instructions == "A server built with the official SDK."
            tools = {tool["name"]: tool for tool in (await client.list_tools())["tools"]}
            assert set(tools) == {"add", "weather", "slow", "favourite", "fail"}
            # Elicitation: a request to the client (handshake era) or an input_required
            # round whose requestState comes back byte for byte (2026-07-28).
            favourite = mcp_stdio.tool_text(await client.call_tool("favourite", {}))
            assert favourite == ("accept: teal (asked-colour)" if version == "2026-07-28" else "accept: teal")
            assert (await client.call_tool("add", {"a": 2, "b": 40}))["structuredContent"] == {"result": 42}
            weather = await client.call_tool("weather", {"city": "Oslo"})
            assert weather["structuredContent"] == {"city": "Oslo", "celsius": 21.5}  # validated against its schema
            slow = await client.call_tool("slow", {"steps": 3}, progress_callback=lambda p, t, m: progress.append(m))
            assert mcp_stdio.tool_text(slow) == "done after 3 steps"
            failed = await client.call_tool("fail", {})
            assert mcp_stdio.is_error(failed) and mcp_stdio.tool_text(failed) == "Error executing tool fail"
            resources = await client.list_resources()
            assert [r["uri"] for r in resources["resources"]] == ["peer://greeting"]
            greeting = await client.read_resource("peer://greeting")
            assert greeting["contents"][0]["text"] == "hello from the official SDK"
            templates = await client.list_resource_templates()
            assert templates["resourceTemplates"][0]["uriTemplate"] == "peer://items/{item_id}"
            assert (await client.read_resource("peer://items/7"))["contents"][0]["text"] == "item 7"
            prompt = await client.get_prompt("review", {"code": "x = 1"})
            assert prompt["messages"][0]["content"]["text"] == "Review this python code:\nx = 1"
            completion = await client.complete({"type": "ref/prompt", "name": "review"},
                                               {"name": "language", "value": "r"})
            assert completion["completion"]["values"] == ["rust"]
            if version == "2026-07-28":
                subscription = await client.listen(tools=True, resource_uris=["peer://greeting"])
                assert subscription.accepted is not None  # acknowledged by the official server
                await subscription.close()
            await client.ping()

    run(main())
    assert progress == ["step 1", "step 2", "step 3"]
