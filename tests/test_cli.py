"""The command line (python -m mcp_stdio), the mcpServers configuration format, and stats()."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import mcp_stdio
from mcp_stdio.cli import strip_control
from mcp_stdio.config import load_config, parse_config
from mcp_stdio.errors import ConfigError

from .helpers import CHILD_ENV, REFERENCE, ROOT, SERVERS, run, server

pytestmark = pytest.mark.usefixtures("no_leaks")


def cli(*args: str, check_rc: int | None = 0) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="80")
    done = subprocess.run([sys.executable, "-m", "mcp_stdio", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    if check_rc is not None:
        assert done.returncode == check_rc, (done.stdout, done.stderr)
    return done


SERVER = ["--", sys.executable, "-m", "mcp_stdio.server"]


def test_info_is_the_default_and_readable():
    out = cli(*SERVER).stdout.splitlines()
    # The reference server serves both eras: automatic selection finds the modern one.
    assert out[0] == f"mcp_stdio-reference {mcp_stdio.__version__} (protocol 2026-07-28)"
    assert out[1] == "capabilities: completions, logging, prompts, resources, tools"
    assert out[2].startswith("instructions: The mcp_stdio reference server")
    legacy = cli("--protocol", "handshake", *SERVER).stdout.splitlines()
    assert legacy[0] == f"mcp_stdio-reference {mcp_stdio.__version__} (protocol 2025-11-25)"
    assert legacy[1] == "capabilities: completions, logging, prompts, resources, tasks, tools"


def test_lists_are_tables_wrapped_to_the_terminal():
    lines = cli("tools", *SERVER).stdout.splitlines()
    assert lines[0] == f"{'echo':<14}  Return the text unchanged."  # aligned on the longest name
    assert all(len(line) <= 80 for line in lines)
    assert cli("resources", *SERVER).stdout.splitlines()[0].startswith("reference://readme")
    assert cli("templates", *SERVER).stdout.startswith("reference://items/{item}")
    assert cli("prompts", *SERVER).stdout.splitlines()[0].startswith("greeting")


def test_call_with_pairs_or_json_and_exit_codes():
    assert cli("call", "add", "a=2", "b=40", *SERVER).stdout == "42\n"
    assert cli("call", "echo", "--args", '{"text": "hé"}', *SERVER).stdout == "hé\n"
    failed = cli("call", "fail", "message=broken", *SERVER, check_rc=1)
    assert failed.stdout == "broken\n"
    unknown = cli("call", "nope", *SERVER, check_rc=1)
    assert "Unknown tool: 'nope'" in unknown.stderr and "Traceback" not in unknown.stderr
    structured = json.loads(cli("--json", "call", "weather", "city=Oslo", *SERVER).stdout)
    assert structured["structuredContent"] == {"city": "Oslo", "celsius": 21.5}


def test_read_prompt_and_ping():
    assert cli("read", "reference://readme", *SERVER).stdout == "The mcp_stdio reference server.\n"
    assert cli("read", "reference://logo", *SERVER).stdout == "[42 bytes of image/png]\n"
    assert cli("prompt", "greeting", "name=Ada", *SERVER).stdout == "[user] Please greet Ada warmly.\n"
    assert cli("ping", *SERVER).stdout == "ok\n"
    assert json.loads(cli("--json", "ping", *SERVER).stdout) == {"ok": True}


def test_failures_have_clear_messages_and_exit_codes_without_tracebacks():
    missing = cli("--", "mcp-stdio-no-such-program", check_rc=3)
    assert missing.stderr == "error: cannot start 'mcp-stdio-no-such-program': command not found on PATH\n"
    early = cli("--", sys.executable, str(SERVERS / "exit_early.py"), check_rc=3)
    assert "exited with status 3 before answering initialize" in early.stderr
    assert "fatal: configuration file missing" in early.stderr  # the stderr tail
    slow = cli("--timeout", "0.3", "call", "sleep", "seconds=5", *SERVER, check_rc=4)
    assert "tools/call: no answer within 0.3 s" in slow.stderr
    usage = cli("call", check_rc=2)
    assert "Traceback" not in usage.stderr
    assert cli(check_rc=2).stderr.endswith("no server: put its command after --, or use --config and --server\n")
    assert "expected key=value" in cli("call", "add", "oops", *SERVER, check_rc=2).stderr


def test_verbose_traces_the_messages():
    done = cli("--verbose", "--protocol", "handshake", "ping", *SERVER)
    assert '> b\'{"jsonrpc":"2.0","id":1,"method":"initialize"' in done.stderr
    assert "< b'" in done.stderr


def test_server_text_is_stripped_of_terminal_control_sequences():
    assert strip_control("\x1b[31mred\x1b[0m \x1b]0;title\x07ok\x07\x08 tab\tnl\n\x9b") == "red ok tab\tnl\n"
    done = cli("call", "echo", "text=\x1b[2J\x1b]52;c;ZXZpbA==\x07cleared?", *SERVER)
    assert done.stdout == "cleared?\n"


CONFIG = {
    "mcpServers": {
        "reference": {"command": sys.executable, "args": ["-m", "mcp_stdio.server"], "env": CHILD_ENV,
                      "type": "stdio", "timeout": 30000, "autoApprove": []},
        "off": {"command": "nothing", "disabled": True},
    }
}


def test_config_file_selects_a_server(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(CONFIG))
    assert cli("--config", str(path), "--server", "reference", "ping").stdout == "ok\n"
    missing = cli("--config", str(path), "--server", "other", "ping", check_rc=2)
    assert missing.stderr == f"error: {path}: server 'other': no such server in the file (it has: reference, off)\n"


def test_config_parsing_tolerates_extras_and_converts_milliseconds(tmp_path):
    servers = parse_config(CONFIG, "x.json")
    reference = servers["reference"]
    assert reference.command == [sys.executable, "-m", "mcp_stdio.server"]
    assert reference.timeout == 30.0 and not reference.disabled
    assert servers["off"].disabled and servers["off"].command == ["nothing"]
    assert reference.connect_options() == {"env": CHILD_ENV, "timeout": 30.0}


@pytest.mark.parametrize("document, message", [
    ([], "x.json: the top level must be a JSON object"),
    ({}, 'x.json: no "mcpServers" object'),
    ({"mcpServers": []}, 'x.json: "mcpServers" must be an object of servers by name'),
    ({"mcpServers": {"a": 1}}, "x.json: server 'a': must be an object"),
    ({"mcpServers": {"a": {}}}, "x.json: server 'a': \"command\" must be a non-empty string"),
    ({"mcpServers": {"a": {"command": "x", "args": "y"}}},
     "x.json: server 'a': \"args\" must be a list of strings"),
    ({"mcpServers": {"a": {"command": "x", "env": {"K": 1}}}},
     "x.json: server 'a': \"env\" must map strings to strings"),
    ({"mcpServers": {"a": {"command": "x", "type": "sse"}}},
     "x.json: server 'a': has \"type\": 'sse'; only stdio servers are supported"),
    ({"mcpServers": {"a": {"command": "x", "timeout": -1}}},
     "x.json: server 'a': \"timeout\" must be a positive number"),
    ({"mcpServers": {"a": {"command": "x", "disabled": "no"}}},
     "x.json: server 'a': \"disabled\" must be true or false"),
])
def test_malformed_configs_name_the_file_server_and_problem(document, message):
    with pytest.raises(ConfigError) as info:
        parse_config(document, "x.json")
    assert str(info.value) == message


def test_unreadable_and_invalid_json_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read it"):
        load_config(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=f"{bad}: not valid JSON"):
        load_config(bad)


def test_stats_count_requests_failures_bytes_and_fds():
    async def main():
        async with mcp_stdio.connect(REFERENCE, env=CHILD_ENV) as client:
            await client.call_tool("echo", {"text": "x"})
            with pytest.raises(mcp_stdio.RemoteError):
                await client.call_tool("nope")
            with pytest.raises(mcp_stdio.RequestTimeout):
                await client.call_tool("sleep", {"seconds": 2}, timeout=0.05)
            stats = client.stats()
        assert stats["pid"] == client.pid and stats["state"] == "ready"
        assert stats["requests_sent"] == 3 and stats["failed"] == 2 and stats["timed_out"] == 1
        assert stats["in_flight"] == 0
        assert stats["bytes_sent"] > 100 and stats["bytes_received"] > 100
        assert stats["last_error"] == "tools/call: no answer within 0.05 s"
        assert stats["uptime_s"] >= 0
        fds = stats["fds"]
        assert 0 < fds["open"] < fds["warning"] < fds["critical"] < fds["limit"]

    run(main())


def test_stats_after_the_server_died():
    async def main():
        async with mcp_stdio.connect(server("die_midway")) as client:
            await asyncio_gather_failures(client)
            stats = client.stats()
        assert stats["failed"] == 5
        assert stats["last_error"] == "server exited with status 7; stderr tail:\n  crashing on purpose"

    run(main())


async def asyncio_gather_failures(client):
    import asyncio

    await asyncio.gather(*(client.call_tool("echo", {"text": "x"}) for _ in range(5)), return_exceptions=True)


def test_restart_policy_restarts_with_backoff_and_never_resends():
    lines = []

    async def main():
        import asyncio

        async with mcp_stdio.connect(server("die_midway"), restart={"backoff": 0.01, "max_restarts": 2},
                                     stderr_callback=lines.append, timeout=5) as client:
            first = client.pid
            results = await asyncio.gather(*(client.call_tool("echo", {"text": "x"}) for _ in range(5)),
                                           return_exceptions=True)
            # In flight when the server died: failed with the exit status, not resent.
            assert all(isinstance(r, mcp_stdio.ServerExited) and r.returncode == 7 for r in results)
            await client.ping()  # waits for the restart, then goes through
            assert client.pid != first and client.stats()["restarts"] == 1
            results = await asyncio.gather(*(client.call_tool("echo", {"text": "x"}) for _ in range(5)),
                                           return_exceptions=True)
            assert all(isinstance(r, mcp_stdio.ServerExited) for r in results)
            await client.ping()
            assert client.stats()["restarts"] == 2
            await asyncio.gather(*(client.call_tool("echo", {"text": "x"}) for _ in range(5)),
                                 return_exceptions=True)
            with pytest.raises(mcp_stdio.ConnectionClosed, match="server gave up after 2 restarts"):
                await client.ping()

    run(main())
    assert lines.count("crashing on purpose") == 3


def test_no_restart_by_default_and_close_during_a_restart_leaves_nothing():
    async def main():
        import asyncio

        async with mcp_stdio.connect(server("die_midway")) as client:
            await asyncio.gather(*(client.call_tool("echo", {"text": "x"}) for _ in range(5)),
                                 return_exceptions=True)
            with pytest.raises(mcp_stdio.ServerExited):
                await client.ping()
        async with mcp_stdio.connect(server("die_midway"), restart={"backoff": 0.3}) as client:
            await asyncio.gather(*(client.call_tool("echo", {"text": "x"}) for _ in range(5)),
                                 return_exceptions=True)
            await asyncio.sleep(0.05)  # the restart waits 0.3 s: close() interrupts it
        with pytest.raises(TypeError, match="unknown restart policy keys: retries"):
            mcp_stdio.connect(["x"], restart={"retries": 1})

    run(main())


def test_group_starts_many_isolates_failures_routes_calls_and_totals(tmp_path):
    config = {"mcpServers": {
        "one": {"command": sys.executable, "args": ["-m", "mcp_stdio.server"], "env": CHILD_ENV},
        "two": {"command": sys.executable, "args": ["-m", "mcp_stdio.server"], "env": CHILD_ENV},
        "broken": {"command": sys.executable, "args": [str(SERVERS / "exit_early.py")]},
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
    from .helpers import process_alive

    assert not any(process_alive(pid) for pid in pids)


def test_group_from_argv_lists():
    async def main():
        async with mcp_stdio.connect_all({"ref": REFERENCE}, env=CHILD_ENV, separator=".") as group:
            assert "ref.echo" in [t["name"] for t in await group.list_tools()]

    run(main())


def test_sync_client_blocks_and_closes(tmp_path):
    import mcp_stdio.sync

    with mcp_stdio.sync.connect(REFERENCE, env=CHILD_ENV) as client:
        assert client.server_info["name"] == "mcp_stdio-reference"
        assert [t["name"] for t in client.list_tools()["tools"]][:2] == ["echo", "add"]
        assert mcp_stdio.tool_text(client.call_tool("echo", {"text": "sync"})) == "sync"
        with pytest.raises(mcp_stdio.RemoteError):
            client.call_tool("nope")
        pid = client.pid
    from .helpers import process_alive

    assert not process_alive(pid)
    assert client.state.value == "closed"


def test_sync_client_left_open_is_closed_at_interpreter_exit(tmp_path):
    script = tmp_path / "leave_open.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "import mcp_stdio.sync\n"
        f"client = mcp_stdio.sync.connect({REFERENCE!r}, env={CHILD_ENV!r})\n"
        "client.start()\n"
        "print(client.pid, flush=True)\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    from .helpers import process_alive, wait_until

    pid = int(done.stdout.split()[0])
    assert wait_until(lambda: not process_alive(pid), timeout=5)
