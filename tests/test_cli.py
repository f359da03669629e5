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

from .helpers import CHILD_ENV, REFERENCE, ROOT, run, server

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
    assert out[0] == f"mcp_stdio-reference {mcp_stdio.__version__} (protocol 2025-11-25)"
    assert out[1] == "capabilities: completions, logging, prompts, resources, tasks, tools"
    assert out[2].startswith("instructions: The mcp_stdio reference server")


def test_lists_are_tables_wrapped_to_the_terminal():
    lines = cli("tools", *SERVER).stdout.splitlines()
    assert lines[0] == "echo     Return the text unchanged."
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
    early = cli("--", sys.executable, str(ROOT / "tests" / "servers" / "exit_early.py"), check_rc=3)
    assert "exited with status 3 before answering initialize" in early.stderr
    assert "fatal: configuration file missing" in early.stderr  # the stderr tail
    slow = cli("--timeout", "0.3", "call", "sleep", "seconds=5", *SERVER, check_rc=4)
    assert "tools/call: no answer within 0.3 s" in slow.stderr
    usage = cli("call", check_rc=2)
    assert "Traceback" not in usage.stderr
    assert cli(check_rc=2).stderr.endswith("no server: put its command after --, or use --config and --server\n")
    assert "expected key=value" in cli("call", "add", "oops", *SERVER, check_rc=2).stderr


def test_verbose_traces_the_messages():
    done = cli("--verbose", "ping", *SERVER)
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
