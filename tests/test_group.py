"""Many servers at once: connect_all and ClientGroup (isolation, routing, skipped entries)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

import mcp_stdio
from mcp_stdio.errors import ConfigError, RemoteProtocolError

from .helpers import CHILD_ENV, REFERENCE, process_alive, run, server

pytestmark = pytest.mark.usefixtures("no_leaks")

SCRIPTED = Path(__file__).resolve().parent / "servers_cli"


def scripted(name: str, *args: str) -> list[str]:
    """Return the command of the scripted server tests/servers_cli/<name>.py."""
    return [sys.executable, str(SCRIPTED / f"{name}.py"), *args]


def test_group_starts_many_isolates_failures_routes_calls_and_totals(tmp_path):
    config = {"mcpServers": {
        "one": {"command": sys.executable, "args": ["-m", "mcp_stdio.server"], "env": CHILD_ENV},
        "two": {"command": sys.executable, "args": ["-m", "mcp_stdio.server"], "env": CHILD_ENV},
        "broken": {"command": sys.executable, "args": server("exit_early")[1:]},
        "off": {"command": "nothing", "disabled": True},
    }}
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(config))

    async def main():
        async with mcp_stdio.connect_all(str(path), max_concurrent_starts=2) as group:
            assert sorted(group.clients) == ["one", "two"]
            assert list(group.errors) == ["broken"]
            assert "exited with status 3" in str(group.errors["broken"])
            tools = await group.list_tools()
            names = [t["name"] for t in tools]
            assert "one__echo" in names and "two__echo" in names and len(names) == len(set(names)) == 26
            assert {t["server"] for t in tools} == {"one", "two"}
            result = await group.call_tool("two__echo", {"text": "routed"})
            assert mcp_stdio.tool_text(result) == "routed"
            with pytest.raises(KeyError, match="no tool 'three__echo' in this group"):
                await group.call_tool("three__echo", {})
            totals = group.stats()["total"]
            assert totals["servers"] == 2 and totals["failed_to_start"] == 1
            # The call and seven pages of tools per server; listing again for the unknown
            # name was served from the cache (the modern results carry ttlMs).
            assert totals["requests_sent"] == 1 + 2 * 7
            pids = [c.pid for c in group.clients.values()]
        return pids

    pids = run(main())

    assert not any(process_alive(pid) for pid in pids)


def test_group_from_argv_lists():
    async def main():
        async with mcp_stdio.connect_all({"ref": REFERENCE}, env=CHILD_ENV, separator=".") as group:
            assert "ref.echo" in [t["name"] for t in await group.list_tools()]

    run(main())


class Raising:
    """A client whose list_tools raises an exception outside mcp_stdio.errors."""

    def __init__(self, client):
        self.client = client

    async def list_tools(self):
        raise ZeroDivisionError("hostile")

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_one_hostile_server_never_makes_list_tools_raise_for_all():
    servers = {"good": scripted("named_tools", "good", "a"),
               "strings": scripted("hostile_shapes", "tools_a_string"),
               "numbers": scripted("hostile_shapes", "tool_name_number"),
               "odd": scripted("named_tools", "odd", "b")}

    async def main():
        async with mcp_stdio.connect_all(servers, protocol="handshake") as group:
            tools = await group.list_tools()
            assert [t["name"] for t in tools] == ["good__a", "odd__b"]
            assert sorted(group.errors) == ["numbers", "strings"]
            assert isinstance(group.errors["strings"], RemoteProtocolError)
            assert str(group.errors["numbers"]) == ("tools/list: the result does not match the 2025-11-25 schema: "
                                                    "$.tools[0].name: 42 is not of type string")
            # Any exception from one server, even one outside mcp_stdio.errors, is that server's.
            real = group.clients["odd"]
            group.clients["odd"] = Raising(real)
            tools = await group.list_tools()
            assert [t["name"] for t in tools] == ["good__a"]
            assert isinstance(group.errors["odd"], ZeroDivisionError)
            with pytest.raises(KeyError, match="no tool 'odd__b' in this group .*: server 'odd' failed: hostile"):
                await group.call_tool("odd__b", {})
            group.clients["odd"] = real
            assert [t["name"] for t in await group.list_tools()] == ["good__a", "odd__b"]
            assert "odd" not in group.errors  # a successful list clears the server's error
            assert group.stats()["total"]["failed_to_start"] == 0

    run(main())


def test_server_names_that_would_make_routing_ambiguous_are_refused():
    # "files" offers "extra__x"; "files__extra" offers "x": both would be "files__extra__x".
    servers = {"files": scripted("named_tools", "files", "extra__x", "y"),
               "files__extra": scripted("named_tools", "files__extra", "x"),
               "a_": scripted("named_tools", "a_", "_b")}

    async def main():
        async with mcp_stdio.connect_all(servers, protocol="handshake") as group:
            assert list(group.clients) == ["files"]
            assert list(group.errors) == ["files__extra", "a_"]
            assert isinstance(group.errors["files__extra"], ConfigError)
            assert str(group.errors["files__extra"]) == (
                "<config>: server 'files__extra': its name contains the separator '__', so its tools' names "
                "(server__tool) would be ambiguous: rename it or choose another separator")
            assert "its name ends with part of the separator '__'" in str(group.errors["a_"])
            assert [t["name"] for t in await group.list_tools()] == ["files__extra__x", "files__y"]
            result = await group.call_tool("files__extra__x", {})
            assert mcp_stdio.tool_text(result) == "files extra__x"
        # Another separator makes every name fit.
        async with mcp_stdio.connect_all(servers, protocol="handshake", separator="/") as group:
            assert list(group.clients) == ["files", "files__extra", "a_"] and not group.errors
            names = [t["name"] for t in await group.list_tools()]
            assert names == ["files/extra__x", "files/y", "files__extra/x", "a_/_b"]
            assert mcp_stdio.tool_text(await group.call_tool("files__extra/x", {})) == "files__extra x"

    run(main())
    with pytest.raises(ValueError, match="separator must be a non-empty string"):
        mcp_stdio.connect_all({}, separator="")


def test_a_tool_listed_twice_is_served_once(caplog):
    async def main():
        async with mcp_stdio.connect_all({"s": scripted("named_tools", "s", "t", "t")}, protocol="handshake") as group:
            with caplog.at_level(logging.WARNING, logger="mcp_stdio.group"):
                assert [t["name"] for t in await group.list_tools()] == ["s__t"]
    run(main())
    assert [r.getMessage() for r in caplog.records if r.name == "mcp_stdio.group"] == [
        "server 's' lists the tool 't' twice; the first is used"]


def test_disabled_remote_and_input_entries_of_a_vscode_file(tmp_path, caplog):
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({
        "inputs": [{"type": "promptString", "id": "token"}],
        "servers": {
            "ref": {"type": "stdio", "command": sys.executable, "args": ["-m", "mcp_stdio.server"], "env": CHILD_ENV},
            "web": {"type": "http", "url": "https://example.com/mcp"},
            "off": {"command": "/no/such/server", "disabled": True},
            "secret": {"command": sys.executable, "args": ["-m", "mcp_stdio.server"],
                       "env": {"TOKEN": "${input:token}"}},
        }}))

    async def main(**options):
        async with mcp_stdio.connect_all(str(path), **options) as group:
            return list(group.clients), dict(group.skipped), dict(group.errors)

    with caplog.at_level(logging.WARNING, logger="mcp_stdio.config"):
        clients, skipped, errors = run(main())
    assert clients == ["ref"]
    assert skipped == {"web": "is a remote server (\"type\": 'http'); only stdio servers are supported",
                       "off": "disabled"}
    assert list(errors) == ["secret"] and isinstance(errors["secret"], ConfigError)
    assert "uses ${input:token}" in str(errors["secret"])
    assert len([r for r in caplog.records if r.name == "mcp_stdio.config"]) == 1  # the remote entry
    clients, _, errors = run(main(inputs={"token": "x"}))
    assert clients == ["ref", "secret"] and not errors
