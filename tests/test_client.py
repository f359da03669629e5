"""Tier 3: the client against real child processes (the reference server and
mcp_stdio/bench/servers/). Every test checks that no child and no file descriptor is left."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time

import pytest

import mcp_stdio
from mcp_stdio import (
    ClientClosedError,
    ConnectionClosed,
    RemoteError,
    RequestTimeout,
    ServerExited,
    SpawnError,
    StartError,
    UnsupportedProtocolVersion,
)
from mcp_stdio.session import State

from .helpers import CHILD_ENV, REFERENCE, ROOT, group_members, process_alive, run, server, wait_until

pytestmark = pytest.mark.usefixtures("no_leaks")


def reference(**options):
    options.setdefault("env", CHILD_ENV)
    options.setdefault("protocol", "handshake")  # these tests pin the handshake era
    return mcp_stdio.connect(REFERENCE, **options)


def test_handshake_exposes_server_facts():
    async def main():
        async with reference() as client:
            assert client.state is State.READY
            assert client.protocol_version == "2025-11-25"
            assert client.server_info == {"name": "mcp_stdio-reference", "version": mcp_stdio.__version__}
            assert client.server_capabilities == {
                "tools": {"listChanged": True}, "logging": {}, "resources": {"subscribe": True, "listChanged": True},
                "prompts": {"listChanged": True}, "completions": {},
                "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}}
            assert client.instructions.startswith("The mcp_stdio reference server")
            assert isinstance(client.pid, int) and process_alive(client.pid)
            return client

    client = run(main())
    assert client.state is State.CLOSED
    assert client.returncode == 0


def test_creating_a_client_does_no_io_and_needs_no_loop():
    client = mcp_stdio.connect(["/nonexistent/program"])
    assert client.state is State.NEW and client.pid is None


def test_thousand_concurrent_calls_each_get_their_own_answer():
    async def main():
        async with reference() as client:
            texts = [f"message {i} é" for i in range(1000)]
            results = await asyncio.gather(*(client.call_tool("echo", {"text": t}) for t in texts))
            assert [mcp_stdio.tool_text(r) for r in results] == texts
            assert client.pending_count == 0

    run(main())


def test_ten_thousand_requests_in_flight():
    async def main():
        async with reference(queue_size=50) as client:
            results = await asyncio.gather(*(client.request("ping") for _ in range(10000)))
            assert results == [{}] * 10000

    run(main())


def test_list_tools_and_add_and_tool_errors():
    async def main():
        async with reference() as client:
            tools = await client.list_tools()
            assert [t["name"] for t in tools["tools"]] == [
                "echo", "add", "sleep", "blob", "weather", "fail", "log", "sample", "sample_as_task", "ask", "ask_url",
                "roots", "touch"]
            assert tools["tools"][1]["inputSchema"] == {
                "type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                "required": ["a", "b"]}
            assert mcp_stdio.tool_text(await client.call_tool("add", {"a": 2, "b": 40})) == "42"
            failed = await client.call_tool("add", {"a": 2})
            assert mcp_stdio.is_error(failed)
            assert mcp_stdio.tool_text(failed) == "invalid arguments: $: required property 'b' is missing"
            with pytest.raises(RemoteError) as info:
                await client.call_tool("no-such-tool")
            assert info.value.code == -32602 and info.value.method == "tools/call"
            with pytest.raises(RemoteError, match=r"Method not found: bogus/method \(code -32601\)"):
                await client.request("bogus/method")
            await client.ping()
            await client.notify("notifications/whatever", {"x": 1})
            await client.ping()

    run(main())


def test_clean_close_is_fast_and_reaps_the_child():
    async def main():
        client = reference()
        await client.start()
        pid = client.pid
        await client.close()
        assert not process_alive(pid)
        # It exited by itself on stdin EOF: never signalled (the bench measures how fast).
        assert client.returncode == 0
        await client.close()  # idempotent

    run(main())


def test_close_is_idempotent_concurrent_and_callable_from_other_tasks():
    async def main():
        client = reference()
        await client.start()
        await asyncio.gather(client.close(), client.close(), asyncio.ensure_future(client.close()))
        assert client.state is State.CLOSED
        with pytest.raises(ClientClosedError, match="cannot send ping: the client is closed"):
            await client.ping()

    run(main())


def test_close_waits_for_in_flight_answers():
    async def main():
        client = reference()
        await client.start()
        call = asyncio.ensure_future(client.call_tool("sleep", {"seconds": 0.2}))
        await asyncio.sleep(0.05)
        await client.close()
        assert mcp_stdio.tool_text(call.result()) == "slept"

    run(main())


def test_close_fails_requests_still_pending_after_close_timeout():
    async def main():
        client = reference(close_timeout=0.1)
        await client.start()
        call = asyncio.ensure_future(client.call_tool("sleep", {"seconds": 30}))
        await asyncio.sleep(0.05)
        await client.close()
        with pytest.raises(ClientClosedError, match="closed before the server answered"):
            call.result()

    run(main())


def test_close_from_a_cancelled_caller_still_completes():
    async def main():
        client = reference()
        await client.start()
        pid = client.pid
        closer = asyncio.ensure_future(client.close())
        await asyncio.sleep(0)
        closer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closer
        await client.close()  # joins the close already running
        assert not process_alive(pid)

    run(main())


def test_sigkill_while_frozen_fails_all_pending_at_once_naming_the_signal():
    async def main():
        async with reference() as client:
            os.kill(client.pid, signal.SIGSTOP)
            calls = [asyncio.ensure_future(client.call_tool("echo", {"text": "x"})) for _ in range(100)]
            await asyncio.sleep(0.1)
            assert client.pending_count == 100
            killed_at = time.monotonic()
            os.kill(client.pid, signal.SIGKILL)
            done, _ = await asyncio.wait(calls, timeout=5)
            elapsed = time.monotonic() - killed_at
            assert len(done) == 100
            for call in calls:
                error = call.exception()
                assert isinstance(error, ServerExited)
                assert error.returncode == -signal.SIGKILL
                assert str(error) == "server killed by SIGKILL"
            # "At once": far below the request timeout (60 s); the bench measures the latency.
            assert elapsed < 5
            with pytest.raises(ServerExited, match="killed by SIGKILL"):
                await client.ping()

    run(main())


def test_server_dying_midway_fails_every_pending_request_with_status_and_stderr():
    async def main():
        async with mcp_stdio.connect(server("die_midway")) as client:
            calls = [asyncio.ensure_future(client.call_tool("echo", {"text": str(i)})) for i in range(20)]
            results = await asyncio.gather(*calls, return_exceptions=True)
            assert all(isinstance(r, ServerExited) for r in results)
            assert results[0].returncode == 7
            assert str(results[0]) == "server exited with status 7; stderr tail:\n  crashing on purpose"

    run(main())


@pytest.mark.parametrize("quiet", [False, True])
def test_exit_before_initialize_reports_status_and_stderr(quiet):
    async def main():
        command = server("exit_early", "--quiet") if quiet else server("exit_early")
        client = mcp_stdio.connect(command)
        started = time.monotonic()
        with pytest.raises(StartError) as info:
            await client.start()
        assert time.monotonic() - started < 5  # not the 60 s startup timeout
        error = info.value
        assert error.returncode == 3
        name = repr(command[0])
        if quiet:
            assert str(error) == f"server {name} exited with status 3 before answering initialize"
            assert error.stderr_tail == ()
        else:
            assert error.stderr_tail == ("starting up", "fatal: configuration file missing")
            assert str(error) == (f"server {name} exited with status 3 before answering initialize; "
                                  "stderr tail:\n  starting up\n  fatal: configuration file missing")
        assert isinstance(error.__cause__, ServerExited)
        assert client.state is State.CLOSED

    run(main())


def test_unsupported_version_stops_the_child():
    async def main():
        client = mcp_stdio.connect(server("wrong_version"))
        with pytest.raises(UnsupportedProtocolVersion, match="server answered protocol version '1999-01-01'"):
            await client.start()
        assert client.state is State.CLOSED
        assert not process_alive(client.pid)

    run(main())


@pytest.mark.parametrize(
    "command, message",
    [
        (["mcp-stdio-no-such-command-xyz"], "cannot start 'mcp-stdio-no-such-command-xyz': command not found on PATH"),
        (["/nonexistent/dir/server"], "cannot start '/nonexistent/dir/server': no such file"),
        ([str(ROOT / "setup.cfg")], f"cannot start '{ROOT / 'setup.cfg'}': permission denied (not executable?)"),
        ([str(ROOT / "tests")], f"cannot start '{ROOT / 'tests'}': is a directory"),
    ],
)
def test_spawn_errors_name_the_command(command, message):
    async def main():
        client = mcp_stdio.connect(command)
        with pytest.raises(SpawnError) as info:
            await client.start()
        assert str(info.value) == message
        assert client.state is State.CLOSED

    run(main())


def test_missing_cwd_is_named():
    async def main():
        with pytest.raises(SpawnError, match="working directory '/no/such/dir' does not exist"):
            await mcp_stdio.connect(REFERENCE, cwd="/no/such/dir").start()

    run(main())


def test_string_command_is_refused():
    with pytest.raises(TypeError, match="never runs a shell; use shlex.split"):
        mcp_stdio.connect("python -m mcp_stdio.server")


def test_timeout_sends_cancellation_and_drops_the_late_answer():
    lines = []

    async def main():
        async with mcp_stdio.connect(server("silent"), timeout=0.2, stderr_callback=lines.append,
                                     protocol="handshake") as client:
            with pytest.raises(RequestTimeout, match=r"tools/call: no answer within 0.2 s"):
                await client.call_tool("echo", {"text": "x"})
            await client.ping()  # the session goes on; the notification was written before
            with pytest.raises(RequestTimeout, match="no answer within 0.05 s"):
                await client.call_tool("echo", {"text": "y"}, timeout=0.05)
            await client.ping()
        return client

    run(main())
    assert [line.split()[0:2] for line in lines] == [["cancelled", "2"], ["cancelled", "4"]]
    assert lines[0] == "cancelled 2 timed out after 0.2 s"


def test_caller_cancellation_sends_cancelled_notification():
    lines = []

    async def main():
        async with mcp_stdio.connect(server("silent"), stderr_callback=lines.append, protocol="handshake") as client:
            call = asyncio.ensure_future(client.call_tool("echo", {"text": "x"}))
            await asyncio.sleep(0.05)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            await client.ping()
            assert client.pending_count == 0

    run(main())
    assert lines == ["cancelled 2 cancelled by the caller"]


def test_server_requests_are_answered_and_notifications_delivered_in_order():
    received = []

    async def main():
        async with mcp_stdio.connect(server("server_requests", "2000"), message_handler=received.append) as client:
            result = await client.call_tool("echo", {"text": "go"})
            text = mcp_stdio.tool_text(result)
            assert text == repr(sorted({
                "s-ping": {},
                "s-unknown": {"code": -32601, "message": "Method not found: sampling/unheardOf"},
            }.items()))

    run(main())
    assert [n["params"]["data"] for n in received] == list(range(2000))
    assert received[0]["method"] == "notifications/message"


def test_slow_and_failing_notification_handlers_keep_the_order_and_do_not_stall_the_reader():
    seen = []

    async def handler(notification):
        if notification["params"]["data"] == 0:
            raise RuntimeError("handler bug")
        if notification["params"]["data"] == 1:
            await asyncio.sleep(0.3)
        seen.append(notification["params"]["data"])

    async def main():
        async with mcp_stdio.connect(server("server_requests", "50"), message_handler=handler) as client:
            call = asyncio.ensure_future(client.call_tool("echo", {"text": "go"}))
            await asyncio.sleep(0.1)
            # The reader went on: the reply is in, but it waits behind the notifications that
            # came before it, whose handler is still sleeping.
            assert client.pending_count == 0 and not call.done() and seen == []
            await call
            # The caller resumes after every notification that came before its reply.
            assert seen == list(range(1, 50))

    run(main())


def test_stderr_is_drained_tail_kept_and_callback_fed():
    lines = []

    async def main():
        async with mcp_stdio.connect(server("chatty_stderr"), stderr_callback=lines.append,
                                     stderr_tail_lines=5) as client:
            await client.ping()
            await asyncio.sleep(0.05)
            assert client.stderr_tail == tuple(f"log line {i}" for i in range(45, 50))

    run(main())
    assert lines == [f"log line {i}" for i in range(50)]


def test_environment_is_an_allow_list_with_user_env_merged(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("LC_MESSAGES", "C")

    async def facts(**options):
        async with mcp_stdio.connect(server("env_dump"), **options) as client:
            return json.loads(client.instructions)

    default = run(facts(env={"MY_SETTING": "1"}, cwd=str(tmp_path)))
    assert "SECRET_TOKEN" not in default["env"]
    assert default["env"]["MY_SETTING"] == "1"
    assert default["env"]["PATH"] == os.environ["PATH"]
    assert default["env"]["LC_MESSAGES"] == "C"
    assert default["cwd"] == str(tmp_path)
    inherited = run(facts(inherit_env=True))
    assert inherited["env"]["SECRET_TOKEN"] == "hunter2"


def test_stubborn_server_and_grandchild_are_killed_within_the_bound():
    lines = []

    async def main():
        client = mcp_stdio.connect(server("stubborn"), stderr_callback=lines.append,
                                   exit_timeout=0.3, terminate_timeout=0.3)
        await client.start()
        await client.ping()
        assert wait_until(lambda: lines, timeout=5)
        grandchild = int(lines[0].split()[1])
        pgid = client.pid
        assert process_alive(grandchild)
        started = time.monotonic()
        await client.close()
        elapsed = time.monotonic() - started
        bound = client.close_timeout + client.exit_timeout + 2 * client.terminate_timeout + 4
        assert elapsed < bound
        assert client.returncode == -signal.SIGKILL
        assert wait_until(lambda: not process_alive(grandchild), timeout=2)
        assert group_members(pgid) == []

    run(main())


def test_background_child_left_by_an_exiting_server_is_stopped():
    lines = []

    async def main():
        client = mcp_stdio.connect(server("daemonize"), stderr_callback=lines.append, terminate_timeout=0.5)
        await client.start()
        await client.ping()
        assert wait_until(lambda: lines, timeout=5)
        background = int(lines[0].split()[1])
        await client.close()
        assert client.returncode == 0
        assert wait_until(lambda: not process_alive(background), timeout=2)

    run(main())


def test_startup_timeout_is_a_start_error():
    async def main():
        client = mcp_stdio.connect(server("silent_start"), startup_timeout=0.2)
        with pytest.raises(StartError, match=r"did not answer server/discover within 0.2 s \(protocol tried: auto\)"):
            await client.start()
        assert client.state is State.CLOSED

    run(main())


def test_start_twice_is_refused():
    async def main():
        async with reference() as client:
            with pytest.raises(ClientClosedError, match="start\\(\\) called on a client that is ready"):
                await client.start()

    run(main())


def test_requests_after_the_server_closed_stdout_fail_clearly():
    async def main():
        async with reference() as client:
            os.kill(client.pid, signal.SIGTERM)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(client.call_tool("sleep", {"seconds": 10}), 5)
            with pytest.raises(ServerExited, match="killed by SIGTERM"):
                await client.ping()

    run(main())


def test_protocol_trace_at_debug(caplog):
    import logging

    async def main():
        async with reference() as client:
            await client.ping()

    with caplog.at_level(logging.DEBUG, logger="mcp_stdio.client"):
        run(main())
    messages = [r.getMessage() for r in caplog.records if r.name == "mcp_stdio.client"]
    assert any(m.startswith("> b'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"") for m in messages)
    assert any(m.startswith("< ") for m in messages)


def test_client_works_in_a_fresh_interpreter_without_stderr_fd(tmp_path):
    # sys.stderr replaced by an object without a file descriptor, as in notebooks.
    script = tmp_path / "nofd.py"
    script.write_text(
        "import asyncio, io, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "sys.stderr = io.StringIO()\n"
        "import mcp_stdio\n"
        "async def main():\n"
        f"    async with mcp_stdio.connect({REFERENCE!r}, env={CHILD_ENV!r}) as c:\n"
        "        print(mcp_stdio.tool_text(await c.call_tool('echo', {'text': 'ok'})))\n"
        "asyncio.run(main())\n"
    )
    import subprocess

    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr
