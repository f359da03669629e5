"""The command line (python -m mcp_stdio) against real processes, and stats()."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import mcp_stdio
from mcp_stdio.cli import coerce_arguments, escape_json, escape_text
from mcp_stdio.errors import StartError

from .helpers import CHILD_ENV, REFERENCE, ROOT, live_children, process_alive, run, server, wait_until

pytestmark = pytest.mark.usefixtures("no_leaks")

SCRIPTED = Path(__file__).resolve().parent / "servers_cli"
CLI_ENV = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="80")


def cli(*args: str, check_rc: int | None = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "mcp_stdio", *args], capture_output=True, text=True,
                          env=CLI_ENV, cwd=ROOT, timeout=120)
    if check_rc is not None:
        assert done.returncode == check_rc, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def scripted(name: str, *args: str) -> list[str]:
    """Return ``-- COMMAND`` for the scripted server tests/servers_cli/<name>.py."""
    return ["--", sys.executable, str(SCRIPTED / f"{name}.py"), *args]


SERVER = ["--", sys.executable, "-m", "mcp_stdio.server"]
VERSION = mcp_stdio.__version__


def test_info_is_the_default_and_readable():
    out = cli(*SERVER).stdout.splitlines()
    # The reference server serves both eras: automatic selection finds the modern one.
    assert out[0] == f"mcp_stdio-reference {VERSION} (protocol 2026-07-28)"
    assert out[1] == "capabilities: completions, logging, prompts, resources, tools"
    assert out[2].startswith("instructions: The mcp_stdio reference server")
    legacy = cli("--protocol", "handshake", "--reference").stdout.splitlines()
    assert legacy[0] == f"mcp_stdio-reference {VERSION} (protocol 2025-11-25)"
    assert legacy[1] == "capabilities: completions, logging, prompts, resources, tasks, tools"


def test_reference_runs_this_packages_server_from_anywhere(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}  # only the CLI needs the path
    done = subprocess.run([sys.executable, "-m", "mcp_stdio", "--reference", "ping"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")
    both = cli("--reference", *SERVER, check_rc=2)
    assert both.stderr.endswith("error: give one server: a command after --, --reference, or --config\n")


def test_options_are_accepted_after_the_action_too():
    tools = json.loads(cli("tools", "--json", "--reference").stdout)
    assert [tool["name"] for tool in tools][:2] == ["echo", "add"]
    assert json.loads(cli("--reference", "call", "add", "a=1", "b=2", "--json").stdout)["content"][0]["text"] == "3"
    assert cli("ping", "--protocol", "handshake", "--timeout", "5", "--reference").stdout == "ok\n"
    assert cli("call", "echo", "--args", '{"text": "x"}', "--reference").stdout == "x\n"


def test_tools_show_their_parameters_and_lists_are_wrapped_tables():
    lines = cli("tools", "--reference").stdout.splitlines()
    assert lines[:4] == [f"{'echo':<14}  Return the text unchanged.",  # aligned on the longest name
                         f"{'':<14}  text*: string",
                         f"{'add':<14}  Add two numbers.",
                         f"{'':<14}  a*: number, b*: number"]
    assert f"{'fail':<14}  Fail with the given message (a tool error, not a protocol" in lines
    assert f"{'':<14}  message: string" in lines  # optional: no star
    assert lines[-4:] == [f"{'roots':<14}  Return the client's roots.",
                          f"{'touch':<14}  Change an item, notifying subscribers of",
                          f"{'':<14}  reference://items/<item>.",
                          f"{'':<14}  item*: string"]
    assert all(len(line) <= 80 for line in lines)
    assert cli("resources", "--reference").stdout.splitlines()[0].startswith("reference://readme")
    assert cli("templates", "--reference").stdout.startswith("reference://items/{item}")
    prompts = cli("prompts", "--reference").stdout.splitlines()
    assert prompts[:2] == ["greeting     Greet someone.", "             name*"]


def test_parameter_types_are_labelled():
    from mcp_stdio.cli_format import parameters as _parameters

    schema = {"type": "object", "required": ["a", 5], "properties": {
        "a": {"type": "array", "items": {"type": "integer"}}, "b": {"type": ["string", "null"]},
        "c": {"enum": ["x", "y"]}, "d": {"anyOf": [{"type": "number"}, {"type": "boolean"}]},
        "e": {}, "f": 5, "g": {"const": 1}, "h": {"enum": list(range(7))}}}
    assert _parameters({"inputSchema": schema}) == (
        'a*: integer[], b: string|null, c: "x"|"y", d: number|boolean, e: any, f: any, g: 1, h: 0|1|2|3|4|...')
    assert _parameters({"inputSchema": "garbage"}) == _parameters({}) == ""


def test_key_value_arguments_follow_the_input_schema():
    schema = {"type": "object", "properties": {
        "s": {"type": "string"}, "i": {"type": "integer"}, "n": {"type": "number"}, "b": {"type": "boolean"},
        "z": {"type": "null"}, "a": {"type": "array"}, "o": {"type": "object"}, "sn": {"type": ["string", "null"]},
        "e": {"enum": ["1", "2"]}, "u": {"anyOf": [{"type": "integer"}, {"type": "boolean"}]}, "x": {}}}
    pairs = ["s=123", "i=7", "n=2.5", "b=true", "z=null", "a=[1]", "o={\"k\": 1}", "sn=null", "e=1", "u=false",
             "x=[2]", "unknown=3", "words=two words", "eq=a=b"]
    assert coerce_arguments(pairs, schema) == {
        "s": "123", "i": 7, "n": 2.5, "b": True, "z": None, "a": [1], "o": {"k": 1}, "sn": "null", "e": "1",
        "u": False, "x": [2], "unknown": 3, "words": "two words", "eq": "a=b"}
    assert coerce_arguments(["nan=NaN", "inf=Infinity"]) == {"nan": "NaN", "inf": "Infinity"}  # never non-JSON
    for pair, message in [("i=seven", "i: expected integer (as JSON), got 'seven'"),
                          ("u=maybe", "u: expected boolean or integer (as JSON), got 'maybe'"),
                          ("n=NaN", "n: expected number (as JSON), got 'NaN'"),
                          ("oops", "expected key=value, got 'oops'"), ("=1", "expected key=value, got '=1'")]:
        with pytest.raises(ValueError) as info:
            coerce_arguments([pair], schema)
        assert str(info.value) == message
    assert coerce_arguments(["a=1"], {"properties": "garbage"}) == {"a": 1}


def test_call_coerces_by_schema_and_takes_raw_json():
    # "echo" takes a string: the digits stay a string (a number would be refused by the server).
    assert cli("call", "echo", "text=123", "--reference").stdout == "123\n"
    assert cli("call", "echo", "text=true", "--reference").stdout == "true\n"
    assert cli("call", "add", "a=2", "b=40", "--reference").stdout == "42\n"
    bad = cli("call", "add", "a=two", "b=1", "--reference", check_rc=2)
    assert bad.stderr == "error: a: expected number (as JSON), got 'two'\n"
    assert cli("call", "echo", "--args", '{"text": "hé"}', "--reference").stdout == "hé\n"
    assert cli("call", "echo", "--args", '{"text": "x"}', "text=y", "--reference").stdout == "y\n"
    not_object = cli("call", "echo", "--args", "[1]", "--reference", check_rc=2)
    assert not_object.stderr == "error: --args must be a JSON object\n"
    assert cli("call", "echo", "--args", "{", "--reference", check_rc=2).stderr.startswith(
        "error: --args is not valid JSON: Expecting property name")
    failed = cli("call", "fail", "message=broken", "--reference", check_rc=1)
    assert failed.stdout == "broken\n"
    unknown = cli("call", "nope", "--reference", check_rc=1)
    assert "Unknown tool: 'nope'" in unknown.stderr
    structured = json.loads(cli("--json", "call", "weather", "city=Oslo", "--reference").stdout)
    assert structured["structuredContent"] == {"city": "Oslo", "celsius": 21.5}


def test_read_prompt_and_ping():
    assert cli("read", "reference://readme", "--reference").stdout == "The mcp_stdio reference server.\n"
    assert cli("read", "reference://logo", "--reference").stdout == "[42 bytes of image/png]\n"
    assert cli("prompt", "greeting", "name=Ada", "--reference").stdout == "[user] Please greet Ada warmly.\n"
    assert cli("ping", "--reference").stdout == "ok\n"
    assert json.loads(cli("--json", "ping", "--reference").stdout) == {"ok": True}


def test_usage_errors_are_one_line_with_status_2():
    def usage(*args):
        return cli(*args, check_rc=2).stderr.splitlines()[-1]

    assert usage() == ("python -m mcp_stdio: error: no server: put its command after --, or use --reference, "
                       "or --config FILE")
    assert usage("call", "--reference") == "python -m mcp_stdio: error: call: the tool name is missing"
    assert usage("read", "--reference") == "python -m mcp_stdio: error: read takes one URI"
    assert usage("ping", "extra", "--reference") == "python -m mcp_stdio: error: ping takes no arguments (got extra)"
    assert usage("frobnicate", "--reference") == ("python -m mcp_stdio: error: unknown action 'frobnicate' (choose "
                                                  "from info, tools, resources, templates, prompts, call, read, "
                                                  "prompt, ping, servers)")
    assert usage("ping", "--args", "{}", "--reference") == "python -m mcp_stdio: error: --args goes with call"
    assert usage("--server", "x", "--reference") == "python -m mcp_stdio: error: --server goes with --config"
    assert usage("--all", "--reference") == "python -m mcp_stdio: error: --all goes with --config"
    assert usage("--probe-timeout", "soon", "--reference") == (
        "python -m mcp_stdio: error: argument --probe-timeout: invalid float value: 'soon'")
    assert usage("call", "add", "oops", "--reference") == "error: expected key=value, got 'oops'"
    assert usage("--env", "NOEQUALS", "--reference") == "error: expected --env key=value, got 'NOEQUALS'"


def test_start_failures_name_the_era_tried_and_suggest_protocol():
    missing = cli("--", "mcp-stdio-no-such-program", check_rc=3)
    assert missing.stderr == "error: cannot start 'mcp-stdio-no-such-program': command not found on PATH\n"
    early = cli("--protocol", "handshake", "--", *server("exit_early"), check_rc=3).stderr.splitlines()
    assert early[0].startswith("error: server ") and early[0].endswith(
        " exited with status 3 before answering initialize; stderr tail:")
    assert "  fatal: configuration file missing" in early  # the stderr tail
    assert early[-1] == ("hint: this was the handshake era (initialize, protocol 2025-11-25 and older); "
                         "for a 2026-07-28 server try --protocol 2026-07-28")
    auto = cli("--probe-timeout", "5", "--", *server("exit_early"), check_rc=3).stderr.splitlines()
    assert auto[-1] == ("hint: the era was chosen automatically (server/discover, then initialize); name it with "
                        "--protocol handshake or --protocol 2026-07-28, or give a slow server a longer "
                        "--probe-timeout")


def test_start_error_hints_follow_the_errors_era():
    from mcp_stdio.cli import _message

    modern = StartError("server 'x' did not answer server/discover within 1 s", era="2026-07-28")
    assert _message(modern, protocol="auto").splitlines() == [
        "error: server 'x' did not answer server/discover within 1 s",
        "hint: this was the 2026-07-28 era (server/discover); for an older server try --protocol handshake"]
    legacy = StartError("refused", era="handshake")
    assert _message(legacy, protocol="auto").splitlines()[1].startswith("hint: this was the handshake era")
    assert _message(StartError("refused"), protocol=None) == "error: refused"


def test_unexpected_exceptions_are_one_line_unless_verbose():
    from mcp_stdio.cli import _message

    try:
        {}["x"] + 1
    except (KeyError, TypeError) as exc:
        error = exc
    assert _message(error) == "error: unexpected KeyError: 'x'"
    verbose = _message(error, verbose=True).splitlines()
    assert verbose[0] == "Traceback (most recent call last):" and verbose[-1] == "error: unexpected KeyError: 'x'"


def test_progress_lines_survive_hostile_values():
    import io

    from mcp_stdio.cli import _Progress

    stream = io.StringIO()
    progress = _Progress(stream)
    progress(10 ** 400, 10 ** 401, "\u202emsg\nnext")
    progress.last = -10  # the next line is due
    progress("half", {"x": 1}, 5)
    progress.last = -10
    progress(True, 0, None)
    progress.done()
    assert stream.getvalue().splitlines() == [
        "progress: " + str(10 ** 400)[:20] + "/" + str(10 ** 401)[:20] + r" \u202emsg\u000anext",
        "progress: half/{'x': 1} 5",
        "progress: True/0",
    ]


def test_progress_is_shown_and_restarts_the_timeout():
    # Progress every 0.05 s keeps a 0.5 s timeout alive for a 1.5 s call.
    done = cli("--timeout", "0.5", "call", "sleep", "seconds=1.5", "--reference")
    assert done.stdout == "slept\n"
    lines = done.stderr.splitlines()
    assert 1 <= len(lines) <= 3  # not a terminal: at most one line a second
    assert lines[0].startswith("progress: ") and "/1.5 (" in lines[0] and lines[0].endswith("%)")
    # ... up to --max-total-timeout, which progress cannot extend.
    started = time.monotonic()
    slow = cli("--timeout", "0.3", "--max-total-timeout", "1", "call", "sleep", "seconds=30", "--reference",
               check_rc=4)
    assert time.monotonic() - started < 20
    assert slow.stderr.splitlines()[-1] == ("error: tools/call: no answer within 1 s in all (max_total_timeout: "
                                            "progress cannot extend it)")


def test_a_call_without_progress_times_out_and_is_cancelled(tmp_path):
    log = tmp_path / "log.jsonl"
    slow = cli("--timeout", "0.3", "call", "wait", *scripted("records", str(log)), check_rc=4)
    assert slow.stderr == "error: tools/call: no answer within 0.3 s\n"
    received = [json.loads(line) for line in log.read_text().splitlines()[1:]]
    [call] = [m for m in received if m.get("method") == "tools/call"]
    [cancel] = [m for m in received if m.get("method") == "notifications/cancelled"]
    assert cancel["params"]["requestId"] == call["id"]


def test_verbose_traces_messages_and_the_servers_stderr_but_not_asyncio():
    done = cli("--verbose", "--protocol", "handshake", "ping", "--", *server("chatty_stderr"))
    assert '> b\'{"jsonrpc":"2.0","id":1,"method":"initialize"' in done.stderr
    assert "< b'" in done.stderr
    lines = done.stderr.splitlines()
    assert "stderr: log line 0" in lines and "stderr: log line 49" in lines
    assert "asyncio" not in done.stderr and "selector" not in done.stderr
    quiet = cli("--protocol", "handshake", "ping", "--", *server("chatty_stderr"))
    assert quiet.stderr == ""


class Reader(threading.Thread):
    """Collects a pipe's lines in a thread, so that a test can wait for one with a bound."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines = stream, []
        self.start()

    def run(self):
        for line in self.stream:
            self.lines.append(line)

    def text(self):
        return "".join(self.lines)


def interrupt(args, ready, signum=signal.SIGINT):
    """Run the CLI, wait for ``ready()``, send ``signum``; return (status, stderr, server pids, seconds)."""
    process = subprocess.Popen([sys.executable, "-m", "mcp_stdio", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=CLI_ENV, cwd=ROOT)
    try:
        reader = Reader(process.stderr)
        assert wait_until(lambda: ready(reader), timeout=60), reader.text()
        children = live_children(process.pid)
        started = time.monotonic()
        process.send_signal(signum)
        status = process.wait(timeout=60)
        elapsed = time.monotonic() - started
        reader.join(10)
        process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    return status, reader.text(), children, elapsed


# close() returns within close_timeout + exit_timeout + 2 * terminate_timeout + 4 s.
CLOSE_BOUND = 12.0


def test_ctrl_c_during_a_call_cancels_it_stops_the_server_and_exits_130():
    status, stderr, children, elapsed = interrupt(
        ["call", "sleep", "seconds=30", "--reference"], lambda reader: "progress: " in reader.text())
    assert status == 130, stderr
    assert "Traceback" not in stderr and stderr.endswith("interrupted\n")
    assert children and not any(process_alive(pid) for pid in children)
    assert elapsed < CLOSE_BOUND


def test_ctrl_c_reaches_the_server_as_notifications_cancelled(tmp_path):
    log = tmp_path / "log.jsonl"

    def calling(reader):
        return log.exists() and '"tools/call"' in log.read_text()

    for signum, expected in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        log.write_text("")
        status, stderr, children, elapsed = interrupt(["call", "wait", *scripted("records", str(log))], calling,
                                                      signum)
        assert status == expected and "Traceback" not in stderr, stderr
        assert elapsed < CLOSE_BOUND
        lines = log.read_text().splitlines()
        pid = json.loads(lines[0])["pid"]
        received = [json.loads(line) for line in lines[1:]]
        [call] = [m for m in received if m.get("method") == "tools/call"]
        [cancel] = [m for m in received if m.get("method") == "notifications/cancelled"]
        assert cancel["params"]["requestId"] == call["id"]
        assert pid in children and not process_alive(pid)


def test_config_file_lists_selects_and_refuses_servers(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({
        "mcpServers": {
            "reference": {"command": sys.executable, "args": ["-m", "mcp_stdio.server"], "env": CHILD_ENV,
                          "timeout": 30000},
            "off": {"command": "nothing", "disabled": True},
            "web": {"url": "https://example.com/mcp"},
        },
        "servers": {"vs": {"type": "stdio", "command": sys.executable, "args": ["-m", "mcp_stdio.server"],
                           "env": {"PYTHONPATH": "${input:path}"}}},
    }))
    listing = cli("--config", str(path))
    assert listing.stderr == ""  # the listing shows the remote entry: no warning
    lines = listing.stdout.splitlines()
    assert lines[:3] == [f"reference  {sys.executable} -m mcp_stdio.server",
                         "off        (disabled) nothing",
                         "web        (skipped: remote, url) https://example.com/mcp"]
    assert lines[3].startswith("vs         (cannot start: uses ${input:path}, a VS Code input")
    as_json = json.loads(cli("--config", str(path), "servers", "--json").stdout)
    assert [entry["name"] for entry in as_json] == ["reference", "off", "web", "vs"]
    assert as_json[0]["env"] == ["PYTHONPATH"]  # names only: values may be secrets
    assert cli("--config", str(path), "--server", "reference", "ping").stdout == "ok\n"
    assert cli("--config", str(path), "--server", "vs", "--input", f"path={ROOT}", "ping").stdout == "ok\n"

    def refused(*args):
        done = cli("--config", str(path), *args, check_rc=2)
        assert done.stdout == ""
        return done.stderr

    assert refused("--server", "other", "ping") == (
        f"error: {path}: server 'other': no such server in the file (it has: reference, off, web, vs)\n")
    assert refused("--server", "off", "ping") == (
        f"error: {path}: server 'off': is disabled in the file (\"disabled\": true)\n")
    assert refused("--server", "web", "ping") == (
        f"error: {path}: server 'web': is a remote server (a \"url\" and no \"command\"); "
        "only stdio servers are supported\n")
    assert refused("--server", "vs", "ping").startswith(f"error: {path}: server 'vs': uses ${{input:path}}")
    assert cli("--config", str(path), "ping").stdout == "ok\n"  # the one server that can start
    two = tmp_path / "two.json"
    two.write_text(json.dumps({"servers": {"a": {"command": "x"}, "b": {"command": "y"}}}))
    assert cli("--config", str(two), "ping", check_rc=2).stderr == (
        f"error: {two} has 2 servers (a, b): choose one with --server NAME, or use --all\n")
    none = tmp_path / "none.json"
    none.write_text(json.dumps({"servers": {"web": {"type": "http", "url": "x"}}}))
    assert cli("--config", str(none), "ping", check_rc=2).stderr == (
        f"error: {none}: no server in the file can be started (it has: web; --config FILE alone says why)\n")
    group = cli("--config", str(path), "--all", "ping", check_rc=2)
    assert group.stdout == "== reference ==\nok\n"
    assert group.stderr.startswith("warning: ") and f"error: {path}: server 'vs': uses ${{input:path}}" in group.stderr


def test_all_runs_the_action_on_every_server_of_the_file(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {
        "one": {"command": sys.executable, "args": [str(SCRIPTED / "named_tools.py"), "one", "a", "b"]},
        "two": {"command": sys.executable, "args": [str(SCRIPTED / "named_tools.py"), "two", "a"]},
        "web": {"type": "http", "url": "https://example.com/mcp"},
        "off": {"command": "nothing", "disabled": True},
    }}))
    common = ["--config", str(path), "--all", "--protocol", "handshake"]
    tools = cli(*common, "tools")
    assert tools.stdout.splitlines() == ["one__a", "one__b", "two__a"]
    assert tools.stderr == (f"warning: {path}: server 'web': skipped: a remote server (\"type\": 'http'); "
                            "only stdio servers are supported\n")
    as_json = json.loads(cli(*common, "tools", "--json").stdout)
    assert [(t["name"], t["server"], t["toolName"]) for t in as_json] == [
        ("one__a", "one", "a"), ("one__b", "one", "b"), ("two__a", "two", "a")]
    assert cli(*common, "call", "two__a").stdout == "two a\n"
    missing = cli(*common, "call", "three__a", check_rc=1)
    assert missing.stderr.endswith("error: no tool 'three__a' in this group (tools are named server__tool)\n")
    assert cli(*common, "ping").stdout == "== one ==\nok\n== two ==\nok\n"
    assert json.loads(cli(*common, "ping", "--json").stdout) == {"one": {"ok": True}, "two": {"ok": True}}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"mcpServers": {
        "one": {"command": sys.executable, "args": [str(SCRIPTED / "named_tools.py"), "one", "a"]},
        "bad": {"command": sys.executable, "args": [str(server("exit_early")[1])]},
        "shapes": {"command": sys.executable, "args": [str(SCRIPTED / "hostile_shapes.py"), "tools_a_string"]},
    }}))
    routed = cli("--config", str(broken), "--all", "--protocol", "handshake", "call", "one__a")
    assert routed.stdout == "one a\n" and routed.stderr.startswith("error: server 'bad': ")
    partial = cli("--config", str(broken), "--all", "--protocol", "handshake", "tools", check_rc=3)
    assert partial.stdout == "one__a\n"
    errors = partial.stderr.splitlines()
    assert errors[0].startswith("error: server 'bad': server ") and "exited with status 3" in errors[0]
    assert errors[-1] == ("error: server 'shapes': tools/list: the result does not match the 2025-11-25 schema: "
                          "$.tools: 'abc' is not of type array")


@pytest.mark.parametrize("case, action, message", [
    ("tools_not_objects", ["tools"], "tools[0] must be an object, got string"),
    ("tools_a_string", ["tools"], "tools[0] must be an object, got string"),
    ("tools_missing", ["tools"], '"tools" must be a list, got null'),
    ("tool_name_number", ["tools"], "tools[0].name must be a string, got integer"),
    ("tool_description_number", ["tools"], "tools[0].description must be a string, got integer"),
    ("content_a_string", ["call", "t"], "content must be a list, got string"),
    ("content_items_strings", ["call", "t"], "content[0] must be an object, got string"),
    ("text_a_number", ["call", "t"], "content[0].text must be a string, got integer"),
    ("content_type_missing", ["call", "t"], "content[0].type must be a string, got null"),
    ("call_result_a_list", ["call", "t"], "the tools/call result must be an object, got array"),
    ("call_result_a_list", ["call", "t", "--json"], "the tools/call result must be an object, got array"),
    ("is_error_a_string", ["call", "t"], "isError must be true or false, got string"),
    ("resources_not_objects", ["resources"], "resources[0] must be an object, got integer"),
    ("contents_a_string", ["read", "x:y"], '"contents" must be a list, got string'),
    ("messages_missing", ["prompt", "p"], '"messages" must be a list, got null'),
    ("server_info_a_string", [], "serverInfo must be an object, got string"),
    ("instructions_a_number", [], "instructions must be a string, got integer"),
])
def test_hostile_result_shapes_are_one_line_errors(case, action, message):
    done = cli("--protocol", "handshake", *action, *scripted("hostile_shapes", case), check_rc=None)
    if done.returncode == 1 and done.stderr.startswith("error: malformed result from the server: "):
        assert done.stderr == f"error: malformed result from the server: {message}\n"
    else:  # the client checked (or normalized) the shape itself: one line, or a result
        assert (done.returncode in (1, 3) and done.stderr.count("\n") <= 3 and done.stderr.startswith("error: ")
                or done.returncode == 0 and done.stderr == ""), done


def test_a_tool_list_that_breaks_the_schema_is_one_line_error():
    done = cli("--protocol", "handshake", "tools", *scripted("hostile_shapes", "tool_schema_garbage"), check_rc=1)
    assert done.stdout == ""
    assert done.stderr == ("error: tools/list: the result does not match the 2025-11-25 schema: "
                           "$.tools[0].inputSchema.properties.a: 5 is not of type object; "
                           "$.tools[0].inputSchema.required: 'a' is not of type array\n")


EVIL = "a\x1b[31mred\x1b[0m\x07b\x9bc\u202eevil\u202cd\u2066e\u2069f\u200fg\r\nh"


def test_control_and_bidi_characters_are_escaped_in_both_modes():
    shown = r"ared\u0007b\u009bc\u202eevil\u202cd\u2066e\u2069f\u200fg"
    text = cli("--protocol", "handshake", "call", "x", *scripted("control_text")).stdout
    assert text == shown + "\nh\n"
    info = cli("--protocol", "handshake", *scripted("control_text")).stdout.splitlines()
    assert info[0] == shown + r"\u000ah 1 (protocol 2025-11-25)"  # one-line fields escape newlines too
    tools = cli("--protocol", "handshake", "tools", *scripted("control_text")).stdout.splitlines()
    assert tools == ["t" + shown + r"\u000ah  " + shown, " " * 28 + "h", " " * 28 + shown + r"\u000ah:",
                     " " * 28 + "string"]
    raw = cli("--protocol", "handshake", "--json", "call", "x", *scripted("control_text")).stdout
    assert r'"text": "a\u001b[31mred\u001b[0m\u0007b\u009bc\u202eevil\u202cd\u2066e\u2069f\u200fg\r\nh"' in raw
    assert json.loads(raw)["content"][0]["text"] == EVIL  # the JSON means what the server sent
    assert not any(0x80 <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069 for c in raw)


def test_escaping_rules():
    assert escape_text("\x1b[31mred\x1b[0m \x1b]0;title\x07ok\x07\x08 tab\tnl\n\x9b") == \
        r"red ok\u0007\u0008 tab" + "\tnl\n" + r"\u009b"
    assert escape_text("crlf\r\nlone\rcr") == "crlf\nlone" + r"\u000d" + "cr"
    assert escape_text("\u202ex\u2066\u200e\u200f\u061c\u2028\u2029\ud800") == \
        r"\u202ex\u2066\u200e\u200f\u061c\u2028\u2029\ud800"
    assert escape_text("héllo ✓ 日本 👍🏽 e\u0301") == "héllo ✓ 日本 👍🏽 e\u0301"  # text is left alone
    assert escape_json({"k\u202e": "\x85\ud800\n"}) == '{\n  "k\\u202e": "\\u0085\\ud800\\n"\n}'
    done = cli("call", "echo", "text=\x1b[2J\x1b]52;c;ZXZpbA==\x07cleared?", "--reference")
    assert done.stdout == "cleared?\n"


def test_environment_allow_list_passes_only_the_standard_locale_names():
    from mcp_stdio.transport import build_env

    locale = {"LANG": "C.UTF-8", "LC_ALL": "C", "LC_TIME": "C", "LC_PAPER": "C", "LANGUAGE": "en"}
    env = dict(os.environ, **locale, LC_SECRET_TOKEN="hunter2", LCX="1", PYTHONPATH=str(ROOT), COLUMNS="80")
    done = subprocess.run([sys.executable, "-m", "mcp_stdio", "--json", "info", "--", *server("env_dump")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    child = json.loads(json.loads(done.stdout)["instructions"])["env"]
    assert "LC_SECRET_TOKEN" not in child and "LCX" not in child
    assert {key: child.get(key) for key in locale} == locale
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LC_SECRET_TOKEN", "hunter2")
        patch.setenv("LC_MEASUREMENT", "C")
        built = build_env()
    assert "LC_SECRET_TOKEN" not in built and built["LC_MEASUREMENT"] == "C"


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


EVERYTHING = os.environ.get("MCP_STDIO_EVERYTHING",
                            str(ROOT / ".peers" / "node_modules" / ".bin" / "mcp-server-everything"))
needs_everything = pytest.mark.skipif(
    not os.path.isfile(EVERYTHING) or shutil.which("node") is None,
    reason="server-everything is not installed (npm install --prefix .peers @modelcontextprotocol/server-everything)")


def everything() -> list[str]:
    return ["--", "node", EVERYTHING] if EVERYTHING.endswith(".js") else ["--", EVERYTHING]


@needs_everything
def test_server_everything_string_parameters_and_long_calls():
    # "message" is a string parameter: 123 stays the string "123" (a number would get -32602).
    assert cli("call", "echo", "message=123", *everything()).stdout == "Echo: 123\n"
    assert cli("call", "get-sum", "a=2", "b=3", *everything()).stdout == "The sum of 2 and 3 is 5.\n"
    # Progress every second keeps a 2 s timeout alive through a 3 s operation.
    done = cli("--timeout", "2", "call", "trigger-long-running-operation", "duration=3", "steps=3", *everything())
    assert "Long running operation completed" in done.stdout
    assert done.stderr.splitlines()[0] == "progress: 1/3 (33%)"
    lines = cli("tools", *everything()).stdout.splitlines()
    echo = next(index for index, line in enumerate(lines) if line.startswith("echo "))
    assert lines[echo + 1].strip() == "message*: string"
