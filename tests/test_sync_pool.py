"""mcp_stdio.sync.pool against real processes: blocking agents in both eras, from several
threads, with per-agent callbacks; the synchronous client's rules (bounded waits, Ctrl-C
cancels at the server, no blocking call from the loop's thread); no child left; and what a
type checker sees."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import mcp_stdio
import mcp_stdio.sync
from mcp_stdio import ClientClosedError, LocalProtocolError
from mcp_stdio.pool import _Member

from .helpers import CHILD_ENV, REFERENCE, ROOT, process_alive, wait_until
from .recording import RecordingTransport, SENT, clear

pytestmark = pytest.mark.usefixtures("no_leaks")

ERAS = ["handshake", "2026-07-28"]


def sync_pool(protocol: str, **options) -> mcp_stdio.sync.SyncPool:
    options.setdefault("size", 2)
    return mcp_stdio.sync.pool(REFERENCE, env=CHILD_ENV, protocol=protocol, **options)


def in_threads(function, count: int) -> list:
    """Run ``function(i)`` in ``count`` threads at once; return the results (or raise the first error)."""
    results: list = [None] * count

    def work(i: int) -> None:
        try:
            results[i] = function(i)
        except BaseException as exc:  # reported below, in the test's thread
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@pytest.mark.parametrize("protocol", ERAS)
def test_agents_calls_are_right_in_both_eras_and_close_leaves_no_child(protocol):
    with sync_pool(protocol) as pool:
        pids = pool.pids
        assert len(pids) == 2 and all(process_alive(pid) for pid in pids)
        agents = [pool.session(client_info={"name": f"agent-{i}", "version": "1"}) for i in range(6)]

        def work(i: int) -> list:
            agent = agents[i]
            sums = [float(mcp_stdio.tool_text(agent.call_tool("add", {"a": i, "b": n}))) for n in range(20)]
            assert sums == [float(i + n) for n in range(20)]
            assert len(agent.list_tools()["tools"]) == 13  # all pages
            assert agent.read_resource("reference://readme")["contents"][0]["text"] == \
                "The mcp_stdio reference server."
            prompt = agent.get_prompt("greeting", {"name": f"n{i}"})
            assert prompt["messages"][0]["content"]["text"] == f"Please greet n{i} warmly."
            completion = agent.complete({"type": "ref/prompt", "name": "code_review"},
                                        {"name": "language", "value": "py"})
            agent.ping()
            return completion["completion"]["values"]

        assert in_threads(work, len(agents)) == [["python"]] * len(agents)
        assert agents[0].era == protocol and agents[0].pool is pool
        stats = pool.stats()
        assert stats["agents"] == 6 and stats["in_flight"] == 0 and stats["waiting"] == 0
        for agent in agents:
            agent.close()
        assert pool.stats()["agents"] == 0
        with pytest.raises(ClientClosedError, match="the agent is closed"):
            agents[0].call_tool("echo", {"text": "x"})
        kept = pool.session()
    assert wait_until(lambda: not any(process_alive(pid) for pid in pids))
    assert pool.pids == []
    with pytest.raises(ClientClosedError):
        kept.call_tool("echo", {"text": "after close"})
    kept.close()  # nothing to do: the pool closed it
    with pytest.raises(ClientClosedError, match="start\\(\\) called on a closed pool"):
        pool.start()


def plain_sampler(name: str, threads: set):
    def sampling(params: dict) -> dict:  # a plain function: it runs in a worker thread
        threads.add(threading.current_thread().name)
        text = params["messages"][0]["content"]["text"]
        return {"role": "assistant", "content": {"type": "text", "text": f"{name}: {text}"}, "model": name}
    return sampling


@pytest.mark.parametrize("protocol", ERAS)
def test_a_plain_sampling_callback_per_agent_answers_for_its_own_calls(protocol):
    threads: set = set()
    with sync_pool(protocol, declare={"sampling"}) as pool:
        agents = [pool.session(sampling_callback=plain_sampler(f"agent{i}", threads)) for i in range(4)]
        if protocol == "handshake":
            # One call at a time: the pool routes a server's request to the only agent with
            # a request in flight on that member.
            texts = [mcp_stdio.tool_text(agent.call_tool("sample", {"prompt": f"hi {i}"}))
                     for i, agent in enumerate(agents)]
        else:
            # 2026-07-28: input rounds belong to a request, so all at once, from 4 threads.
            texts = in_threads(lambda i: mcp_stdio.tool_text(agents[i].call_tool("sample", {"prompt": f"hi {i}"})),
                               4)
        assert texts == [f"agent{i}: hi {i}" for i in range(4)]
        loop_thread = mcp_stdio.sync._shared.thread.name
        assert threads and loop_thread not in threads and threading.current_thread().name not in threads


def test_a_blocking_call_from_the_loops_thread_raises_at_once():
    caught: list = []
    with sync_pool("handshake", size=1) as pool:
        agent = pool.session()

        def on_progress(progress, total, message):  # a notification callback: on the loop's thread
            began = time.monotonic()
            try:
                agent.ping()
            except Exception as exc:
                caught.append((exc, time.monotonic() - began))
            # Reads are no calls: they are served at once, here too.
            caught.append(pool.stats()["in_flight"])

        result = agent.call_tool("sleep", {"seconds": 0.2}, progress_callback=on_progress)
        assert mcp_stdio.tool_text(result) == "slept"
        agent.ping()  # the loop is fine afterwards
    error, took = caught[0]
    assert type(error) is LocalProtocolError and "would wait for itself" in str(error)
    assert took < 0.5
    assert caught[1] == 1


def test_a_call_never_waits_beyond_its_timeout_plus_extra_wait(monkeypatch):
    monkeypatch.setattr(mcp_stdio.sync, "EXTRA_WAIT", 0.3)
    stalls: list = []

    def stall(progress, total, message):
        if not stalls:
            stalls.append(progress)
            time.sleep(1.5)  # a notification callback that blocks the loop's thread

    with sync_pool("handshake", size=1) as pool:
        agent = pool.session()
        began = time.monotonic()
        with pytest.raises(ClientClosedError, match="no outcome within 0.5 s"):
            agent.call_tool("sleep", {"seconds": 0.5}, timeout=0.2, progress_callback=stall)
        assert time.monotonic() - began < 1.2
        # The callback returns; the loop serves again.
        assert mcp_stdio.tool_text(agent.call_tool("echo", {"text": "again"})) == "again"


def test_ctrl_c_during_a_call_cancels_it_at_the_member(monkeypatch):
    monkeypatch.setattr(_Member, "_transport_class", RecordingTransport)
    clear()
    main = threading.main_thread().ident
    assert threading.get_ident() == main and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with sync_pool("handshake", size=1) as pool:
        agent = pool.session()
        timer = threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGINT))
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                agent.call_tool("sleep", {"seconds": 30}, timeout=60)
        finally:
            timer.cancel()
        assert wait_until(lambda: pool.stats()["in_flight"] == 0)
        [call] = [m for m in SENT if m.get("method") == "tools/call"]
        assert wait_until(lambda: any(m.get("method") == "notifications/cancelled"
                                      and m["params"]["requestId"] == call["id"] for m in SENT))
        assert mcp_stdio.tool_text(agent.call_tool("echo", {"text": "on"})) == "on"


@pytest.mark.parametrize("protocol", ERAS)
def test_ctrl_c_during_a_call_of_the_sync_client_cancels_it_at_the_server(protocol, monkeypatch):
    # The plain synchronous client (mcp_stdio.sync.connect), as a script uses it: Ctrl-C
    # raises KeyboardInterrupt in the caller at once, the server is sent
    # notifications/cancelled for the call, and the connection stays usable.
    monkeypatch.setattr(mcp_stdio.Client, "_transport_class", RecordingTransport)
    clear()
    main = threading.main_thread().ident
    assert threading.get_ident() == main and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with mcp_stdio.sync.connect(REFERENCE, env=CHILD_ENV, protocol=protocol) as client:
        timer = threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGINT))
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                client.call_tool("sleep", {"seconds": 30}, timeout=60)
        finally:
            timer.cancel()
        [call] = [m for m in SENT if m.get("method") == "tools/call"]
        assert wait_until(lambda: any(m.get("method") == "notifications/cancelled"
                                      and m["params"]["requestId"] == call["id"] for m in SENT))
        assert client.stats()["in_flight"] == 0
        assert mcp_stdio.tool_text(client.call_tool("echo", {"text": "on"})) == "on"


def test_a_listen_stream_per_agent_through_the_sync_pool():
    with sync_pool("2026-07-28", size=1) as pool:
        first, second = pool.session(), pool.session()
        with first.listen(resource_uris=["reference://items/1"]) as updates:
            with second.listen(resource_uris=["reference://items/1"]) as other:
                second.call_tool("touch", {"item": "1"})
                # Waited for here, so that next() cannot block if nothing came.
                assert wait_until(lambda: updates._queue and other._queue)
                assert next(updates)["params"]["uri"] == "reference://items/1"
                assert next(other)["params"]["uri"] == "reference://items/1"
            first.call_tool("touch", {"item": "1"})
            assert wait_until(lambda: updates._queue)
            assert next(updates)["method"] == "notifications/resources/updated"
            assert list(other) == []  # closed: the iteration ends


def test_the_pool_level_log_level_through_the_sync_pool():
    logs: list = []
    with sync_pool("handshake", size=2) as pool:
        agent = pool.session(logging_callback=logs.append)
        pool.set_logging_level("error")
        agent.call_tool("log", {"level": "info", "message": "dropped"})
        agent.call_tool("log", {"level": "error", "message": "kept"})
        assert wait_until(lambda: logs)
    assert [log["data"] for log in logs] == ["kept"]


CONSUMER = '''
from __future__ import annotations

import mcp_stdio
import mcp_stdio.sync


def main() -> None:
    with mcp_stdio.sync.pool(mcp_stdio.reference_server_command(), size=2) as pool:
        with pool.session(client_info={"name": "a", "version": "1"}) as agent:
            result = agent.call_tool("echo", {"text": "hi"})
            for block in result["contnet"]:
                print(block)
            print(agent.list_tools()["tools"][0]["name"], agent.read_resource("x")["contents"])
            print(pool.pids[0] + 1, pool.stats()["agents"], agent.era, agent.pool.pids)
            pool.set_logging_level("info")
            agent.no_such_method()
'''


def test_a_type_checker_sees_the_sync_pools_methods_and_results(tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed (.ci/run installs it)")
    (tmp_path / "consumer.py").write_text(textwrap.dedent(CONSUMER), encoding="utf-8")
    argv = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", "cache", "consumer.py"]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "MYPYPATH": str(ROOT)})
    complaints = [line for line in done.stdout.splitlines() if line.startswith("consumer.py") and "error:" in line]
    # The misspelt key and the missing method are the only complaints: the rest type-checks.
    assert complaints == [
        'consumer.py:12: error: TypedDict "CallToolResult" has no key "contnet"  [typeddict-item]',
        'consumer.py:17: error: "SyncAgent" has no attribute "no_such_method"  [attr-defined]'], done.stdout
