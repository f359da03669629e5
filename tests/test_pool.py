"""mcp_stdio.pool against real processes: routing, fairness, per-agent callbacks in both
eras, a member that dies, and no leaks."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest

import mcp_stdio
from mcp_stdio import ClientClosedError, RemoteError, RequestTimeout, ServerExited
from mcp_stdio.pool import _Member

from .helpers import CHILD_ENV, REFERENCE, ROOT, run
from .recording import SENT, RecordingTransport, clear, received_messages

pytestmark = pytest.mark.usefixtures("no_leaks")

ERAS = ["handshake", "2026-07-28"]


def reference_pool(protocol: str, **options) -> mcp_stdio.Pool:
    options.setdefault("size", 2)
    return mcp_stdio.pool(REFERENCE, env=CHILD_ENV, protocol=protocol, **options)


def sampler(name: str):
    async def sampling(params):
        return {"role": "assistant", "content": {"type": "text", "text": f"{name}: "
                                                                          f"{params['messages'][0]['content']['text']}"},
                "model": name}
    return sampling


@pytest.mark.parametrize("protocol", ERAS)
def test_ten_thousand_concurrent_requests_each_get_their_own_answer(protocol):
    async def main():
        async with reference_pool(protocol, size=3, max_in_flight=50) as pool:
            agents = [pool.session(client_info={"name": f"a{i}", "version": "1"}) for i in range(100)]
            calls = [agents[i % 100].call_tool("echo", {"text": f"{i}"}) for i in range(10_000)]
            results = await asyncio.gather(*calls)
            assert [mcp_stdio.tool_text(r) for r in results] == [f"{i}" for i in range(10_000)]
            stats = pool.stats()
            assert stats["in_flight"] == 0 and stats["waiting"] == 0 and len(stats["pids"]) == 3
            for agent in agents:
                await agent.close()

    run(main(), timeout=180)


@pytest.mark.parametrize("protocol", ERAS)
def test_each_agents_callbacks_answer_for_its_own_calls_only(protocol):
    async def main():
        async with reference_pool(protocol, declare={"sampling"}) as pool:
            agents = [pool.session(sampling_callback=sampler(f"agent{i}")) for i in range(4)]
            # One at a time per member in the handshake era (the pool routes by the only
            # agent with a request in flight); all at once in 2026-07-28 (by request).
            if protocol == "handshake":
                texts = [mcp_stdio.tool_text(await agent.call_tool("sample", {"prompt": "hi"})) for agent in agents]
            else:
                results = await asyncio.gather(*(agent.call_tool("sample", {"prompt": "hi"}) for agent in agents))
                texts = [mcp_stdio.tool_text(r) for r in results]
            assert texts == [f"agent{i}: hi" for i in range(4)]
            for agent in agents:
                await agent.close()

    run(main())


def test_a_server_request_that_cannot_be_routed_gets_an_error_or_the_pool_callback():
    async def main():
        async with reference_pool("handshake", size=1, declare={"sampling"}) as pool:
            first, second = pool.session(sampling_callback=sampler("a")), pool.session(sampling_callback=sampler("b"))
            blocker = asyncio.ensure_future(first.call_tool("sleep", {"seconds": 1}))
            await asyncio.sleep(0.2)
            # Two agents with a sampling callback have requests in flight: ambiguous.
            result = await second.call_tool("sample", {"prompt": "hi"})
            assert mcp_stdio.is_error(result)
            assert "cannot tell which agent this request is for (2 agents with requests in flight" in \
                mcp_stdio.tool_text(result)
            await blocker
        async with reference_pool("handshake", size=1, sampling_callback=sampler("pool")) as pool:
            agent = pool.session()  # no callback of its own: the pool-level one answers
            assert mcp_stdio.tool_text(await agent.call_tool("sample", {"prompt": "x"})) == "pool: x"

    run(main())


@pytest.mark.parametrize("protocol", ERAS)
def test_one_agent_flooding_does_not_starve_another(protocol):
    async def main():
        async with reference_pool(protocol, size=1, max_in_flight=10) as pool:
            flooder, other = pool.session(), pool.session()
            flood = [asyncio.ensure_future(flooder.call_tool("echo", {"text": "f"})) for _ in range(20_000)]
            await asyncio.sleep(0.05)
            assert pool.stats()["waiting"] > 1000
            loop = asyncio.get_running_loop()
            started = loop.time()
            assert mcp_stdio.tool_text(await other.call_tool("echo", {"text": "me"})) == "me"
            waited = loop.time() - started
            remaining = sum(1 for call in flood if not call.done())
            # The single call went ahead of most of the flood: served in turn, not behind it.
            assert remaining > 10_000, (waited, remaining)
            await asyncio.gather(*flood)

    run(main(), timeout=180)


def test_a_member_that_dies_fails_only_its_requests_and_is_replaced():
    async def main():
        async with reference_pool("handshake", size=2) as pool:
            agent = pool.session()
            sleepers = [asyncio.ensure_future(agent.call_tool("sleep", {"seconds": 3})) for _ in range(4)]
            await asyncio.sleep(0.3)
            victim = pool.members[0]
            doomed = victim.in_flight
            os.kill(victim.pid, signal.SIGKILL)
            results = await asyncio.gather(*sleepers, return_exceptions=True)
            failed = [r for r in results if isinstance(r, ServerExited)]
            assert len(failed) == doomed and all("killed by SIGKILL" in str(r) for r in failed)
            assert all(mcp_stdio.tool_text(r) == "slept" for r in results if not isinstance(r, BaseException))
            for _ in range(100):
                if len(pool.pids) == 2 and victim.pid not in pool.pids:
                    break
                await asyncio.sleep(0.05)
            assert len(pool.pids) == 2 and pool.stats()["replaced"] == 1
            assert mcp_stdio.tool_text(await agent.call_tool("echo", {"text": "still"})) == "still"

    run(main())


def test_closing_an_agent_cancels_its_requests_at_the_server():
    async def main():
        async with reference_pool("handshake", size=1) as pool:
            agent, other = pool.session(), pool.session()
            call = asyncio.ensure_future(agent.call_tool("sleep", {"seconds": 30}))
            await asyncio.sleep(0.2)
            await agent.close()
            with pytest.raises(ClientClosedError, match="the agent was closed"):
                await call
            with pytest.raises(ClientClosedError, match="the agent is closed"):
                await agent.call_tool("echo", {"text": "x"})
            assert mcp_stdio.tool_text(await other.call_tool("echo", {"text": "ok"})) == "ok"
            assert pool.stats()["in_flight"] == 0

    run(main())


def test_subscriptions_are_counted_across_agents():
    async def main():
        seen: dict = {"a": [], "b": []}
        async with reference_pool("handshake", size=2) as pool:
            a = pool.session(message_handler=seen["a"].append)
            b = pool.session(message_handler=seen["b"].append)
            await a.subscribe_resource("reference://items/1")
            await b.subscribe_resource("reference://items/1")
            await a.call_tool("touch", {"item": "1"})
            await asyncio.sleep(0.2)
            await a.unsubscribe_resource("reference://items/1")
            await a.call_tool("touch", {"item": "1"})
            await asyncio.sleep(0.2)
            await b.close()
            assert not pool._subscribed  # the last one unsubscribed at the server
        updates = {name: [n for n in notes if n["method"] == "notifications/resources/updated"]
                   for name, notes in seen.items()}
        assert len(updates["a"]) == 1 and len(updates["b"]) == 2

    run(main())


def test_a_dead_members_subscriptions_move_to_a_live_member():
    async def main():
        seen: list = []
        async with reference_pool("handshake", size=2) as pool:
            agent = pool.session(message_handler=seen.append)
            await agent.subscribe_resource("reference://items/1")
            holder = pool._subscribed["reference://items/1"][0]
            os.kill(holder.pid, signal.SIGKILL)  # idle: noticed without any request
            for _ in range(200):
                owner = pool._subscribed["reference://items/1"][0]
                if owner is not holder and owner in pool.members and len(pool.pids) == 2:
                    break
                await asyncio.sleep(0.05)
            assert owner is not holder and owner in pool.members and pool.stats()["replaced"] == 1
            await agent.call_tool("touch", {"item": "1"})
            for _ in range(100):
                if any(n["method"] == "notifications/resources/updated" for n in seen):
                    break
                await asyncio.sleep(0.05)
            assert [n["params"]["uri"] for n in seen if n["method"] == "notifications/resources/updated"] == [
                "reference://items/1"]
            await agent.close()
            assert not pool._subscribed

    run(main())


def test_a_thousand_agents_created_and_closed_leave_nothing():
    from mcp_stdio.leakcheck import LeakCheck

    async def main():
        async with reference_pool("2026-07-28", size=1) as pool:
            async def cycle():
                agent = pool.session(client_info={"name": "x", "version": "1"})
                await agent.call_tool("echo", {"text": "x"})
                await agent.close()

            for _ in range(100):  # warm-up: caches, free lists
                await cycle()
            check = LeakCheck()
            check.start()
            for _ in range(1000):
                await cycle()
            check.cycles = 1000
            report = check.stop()
            assert report.heap_growth < 64 * 1024, report.describe()
            assert not pool._agents

    run(main(), timeout=180)


def test_errors_and_options():
    with pytest.raises(ValueError, match="restart: the pool replaces a member"):
        mcp_stdio.pool(REFERENCE, restart=True)
    with pytest.raises(ValueError, match="declare: unknown capabilities nope"):
        mcp_stdio.pool(REFERENCE, declare={"nope"})
    # The members' options are checked when the pool is made, as a client's are.
    with pytest.raises(TypeError, match="bogus"):
        mcp_stdio.pool(REFERENCE, bogus=1)
    with pytest.raises(ValueError, match="queue_size"):
        mcp_stdio.pool(REFERENCE, queue_size=0)
    with pytest.raises(ValueError, match="level must be one of debug, info"):
        mcp_stdio.pool(REFERENCE).session(log_level="loud")

    async def main():
        with pytest.raises(mcp_stdio.SpawnError):
            async with mcp_stdio.pool(["/no/such/server"], size=2):
                pass
        async with reference_pool("handshake", size=1) as pool:
            agent = pool.session()
            with pytest.raises(RemoteError, match="Unknown tool"):
                await agent.call_tool("nope")

    run(main())


def test_log_messages_of_2026_07_28_reach_the_one_agent_that_asked_for_them():
    logs: dict = {"a": [], "b": [], "c": [], "pool": []}

    async def main():
        async with reference_pool("2026-07-28", size=1, logging_callback=logs["pool"].append) as pool:
            a = pool.session(log_level="info", logging_callback=logs["a"].append)
            b = pool.session(logging_callback=logs["b"].append)  # no level: it asks for no log messages
            c = pool.session(logging_callback=logs["c"].append)
            await a.call_tool("log", {"level": "warning", "message": "for a"})
            await a.call_tool("log", {"level": "debug", "message": "below a's level"})
            await b.call_tool("log", {"level": "warning", "message": "nobody asked"})
            await c.set_logging_level("error")
            await c.call_tool("log", {"level": "error", "message": "for c"})
            # Two agents that asked, each with a request in flight on the member: a message
            # names no request, so neither gets it; the pool-level callback does.
            sleeper = asyncio.ensure_future(c.call_tool("sleep", {"seconds": 0.5}))
            await asyncio.sleep(0.1)
            await a.call_tool("log", {"level": "error", "message": "a or c?"})
            await sleeper
            assert await until(lambda: logs["pool"])

    run(main())
    assert [[log["data"] for log in logs[name]] for name in "abc"] == [["for a"], [], ["for c"]]
    assert [log["data"] for log in logs["pool"]] == ["a or c?"]


def test_an_agent_that_listens_again_and_again_does_not_grow():
    from mcp_stdio.leakcheck import check_cycles

    async def main():
        async with reference_pool("2026-07-28", size=1) as pool:
            agent = pool.session()

            async def cycle():
                stream = await agent.listen(resource_uris=["reference://items/1"])
                await stream.close()

            report = await check_cycles(cycle, cycles=500, warmup=50)
            assert report.heap_growth < 64 * 1024, report.describe()

    run(main(), timeout=120)


def test_start_after_close_or_a_second_start_is_refused_without_spawning():
    async def main():
        pool = mcp_stdio.pool(["/no/such/server"], size=1)
        await pool.close()
        # A spawn would raise SpawnError: the refusal comes first.
        with pytest.raises(ClientClosedError, match="start\\(\\) called on a pool that is closed"):
            await pool.start()
        async with reference_pool("handshake", size=1) as pool:
            with pytest.raises(ClientClosedError, match="start\\(\\) called on a pool that is started"):
                await pool.start()
            assert len(pool.pids) == 1 and pool.stats()["starting"] == 0

    run(main())


def test_idempotent_requests_are_retried_on_another_member():
    async def main():
        async with reference_pool("handshake", size=2, max_in_flight=1) as pool:
            agent = pool.session()
            blocker = asyncio.ensure_future(agent.call_tool("sleep", {"seconds": 1}))
            await asyncio.sleep(0.2)
            busy = next(member for member in pool.members if member.in_flight)
            idle = next(member for member in pool.members if member is not busy)
            listing = asyncio.ensure_future(agent.list_tools())  # goes to the idle member
            await asyncio.sleep(0)
            os.kill(idle.pid, signal.SIGKILL)
            tools = await listing
            assert len(tools["tools"]) == 13
            await blocker
            assert pool.stats()["retried"] in (0, 1)

    run(main())


def test_no_python_module_outside_the_pool_is_needed_for_agents():
    assert sys.modules["mcp_stdio.pool"].Agent.__doc__


@pytest.mark.parametrize("first", ["from mcp_stdio.pool import Agent", "import mcp_stdio.sync"])
def test_mcp_stdio_pool_is_callable_whatever_was_imported_first(first):
    # Importing the submodule sets mcp_stdio.pool to the module, over the lazy function.
    code = f"{first}\nimport mcp_stdio\nprint(type(mcp_stdio.pool(['server'], size=3)).__name__, " \
           "mcp_stdio.pool.Pool.__name__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Pool", "Pool"]


async def until(predicate, timeout: float = 15.0) -> bool:
    """Poll ``predicate`` on the loop until it is true or ``timeout`` passes; return its last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate() and loop.time() < deadline:
        await asyncio.sleep(0.02)
    return bool(predicate())


@pytest.mark.parametrize("protocol", ERAS)
def test_progress_reaches_only_the_agent_whose_request_it_is(protocol):
    seen: dict = {"a": [], "b": []}

    async def main():
        async with reference_pool(protocol, size=1) as pool:  # one member: the tokens share its namespace
            a, b, quiet = pool.session(), pool.session(), pool.session()
            results = await asyncio.gather(
                a.call_tool("sleep", {"seconds": 0.3}, progress_callback=lambda p, t, m: seen["a"].append((p, t))),
                b.call_tool("sleep", {"seconds": 0.5}, progress_callback=lambda p, t, m: seen["b"].append((p, t))),
                quiet.call_tool("sleep", {"seconds": 0.4}))
            assert [mcp_stdio.tool_text(r) for r in results] == ["slept"] * 3

    run(main())
    # Each callback saw its own request's progress only (the totals tell them apart), rising.
    assert seen["a"] and {total for _, total in seen["a"]} == {0.3}
    assert seen["b"] and {total for _, total in seen["b"]} == {0.5}
    for notes in seen.values():
        assert [p for p, _ in notes] == sorted({p for p, _ in notes})


def test_the_pool_grows_while_requests_wait_and_shrinks_back_when_idle():
    async def main():
        async with reference_pool("handshake", size=1, max_size=3, max_in_flight=1, idle_timeout=0.5) as pool:
            agent = pool.session()
            sleepers = [asyncio.ensure_future(agent.call_tool("sleep", {"seconds": 1})) for _ in range(8)]
            await asyncio.sleep(0)
            assert pool.stats()["waiting"] == 7 and len(pool.pids) == 1
            peak = peak_ready = 0
            while not all(call.done() for call in sleepers):
                stats = pool.stats()
                peak = max(peak, stats["members"] + stats["starting"])  # never beyond max_size, even starting
                peak_ready = max(peak_ready, len(stats["pids"]))
                await asyncio.sleep(0.01)
            assert peak == 3 and peak_ready == 3
            assert [mcp_stdio.tool_text(r) for r in await asyncio.gather(*sleepers)] == ["slept"] * 8
            grown = set(pool.pids)
            assert await until(lambda: len(pool.pids) == 1), pool.stats()
            assert pool.stats()["members"] == 1 and set(pool.pids) < grown
            assert mcp_stdio.tool_text(await agent.call_tool("echo", {"text": "still"})) == "still"

    run(main())


def test_a_member_grown_for_a_burst_that_ended_before_it_was_ready_is_closed_when_idle():
    async def main():
        async with reference_pool("handshake", size=1, max_size=2, max_in_flight=1, idle_timeout=0.3) as pool:
            agent = pool.session()
            # The second echo waits, so the pool grows; both are answered long before the
            # new member is ready, and no request ever reaches it.
            await asyncio.gather(agent.call_tool("echo", {"text": "1"}), agent.call_tool("echo", {"text": "2"}))
            assert pool.stats()["members"] + pool.stats()["starting"] == 2
            # It joins, then one of the two (both idle) is closed.
            assert await until(lambda: not pool.stats()["starting"] and len(pool.pids) == 1), pool.stats()
            assert pool.stats()["members"] == 1

    run(main())


def test_listen_streams_are_per_agent():
    async def main():
        async with reference_pool("2026-07-28", size=1) as pool:  # one process: its items are its own
            first, second, writer = pool.session(), pool.session(), pool.session()
            mine = await first.listen(resource_uris=["reference://items/1"])
            theirs = await second.listen(resource_uris=["reference://items/1"])
            assert mine.request_id != theirs.request_id
            await writer.call_tool("touch", {"item": "1"})
            for stream in (mine, theirs):
                note = await asyncio.wait_for(stream.__anext__(), 10)
                assert note["method"] == "notifications/resources/updated"
                assert note["params"]["uri"] == "reference://items/1"
            await mine.close()
            await writer.call_tool("touch", {"item": "1"})
            note = await asyncio.wait_for(theirs.__anext__(), 10)
            assert note["params"]["uri"] == "reference://items/1" and not theirs.closed
            with pytest.raises(StopAsyncIteration):
                await mine.__anext__()
            await second.close()  # an agent's close ends its streams
            assert theirs.closed

    run(main())


@pytest.mark.parametrize("protocol", ERAS)
def test_an_agents_timeout_cancels_its_request_at_the_member(protocol, monkeypatch):
    monkeypatch.setattr(_Member, "_transport_class", RecordingTransport)
    clear()

    async def main():
        async with reference_pool(protocol, size=1, max_in_flight=1) as pool:
            agent, other = pool.session(), pool.session()
            loop = asyncio.get_running_loop()
            with pytest.raises(RequestTimeout):
                await agent.call_tool("sleep", {"seconds": 0.8}, timeout=0.2)
            timed_out = loop.time()
            [call] = [m for m in SENT if m.get("method") == "tools/call"]
            cancels = [m["params"]["requestId"] for m in SENT if m.get("method") == "notifications/cancelled"]
            assert cancels == [call["id"]]
            # A request that times out while it waits for room never reaches the member.
            blocker = asyncio.ensure_future(other.call_tool("sleep", {"seconds": 0.3}))
            await asyncio.sleep(0.05)
            with pytest.raises(RequestTimeout):
                await agent.call_tool("echo", {"text": "late"}, timeout=0.1)
            assert mcp_stdio.tool_text(await blocker) == "slept"
            # The server stopped the cancelled work: its answer, due 0.8 s after the call,
            # never comes.
            await asyncio.sleep(max(0.0, timed_out + 0.8 - loop.time()) + 0.2)
            assert mcp_stdio.tool_text(await other.call_tool("echo", {"text": "after"})) == "after"
            assert [m for m in received_messages() if m.get("id") == call["id"]] == []
            assert not [m for m in SENT if m.get("method") == "tools/call" and m["params"]["name"] == "echo"
                        and m["params"]["arguments"]["text"] == "late"]
            assert pool.stats()["in_flight"] == 0

    run(main())


def test_each_pooled_2026_request_carries_its_own_agents_client_info_and_capabilities(monkeypatch):
    monkeypatch.setattr(_Member, "_transport_class", RecordingTransport)
    clear()

    async def main():
        async with reference_pool("2026-07-28", size=1) as pool:
            plain = pool.session(client_info={"name": "plain", "version": "1"})
            asker = pool.session(client_info={"name": "asker", "version": "2"}, sampling_callback=sampler("asker"))
            await asyncio.gather(plain.call_tool("echo", {"text": "p"}), asker.call_tool("echo", {"text": "a"}))
            metas = {m["params"]["arguments"]["text"]: m["params"]["_meta"] for m in SENT
                     if m.get("method") == "tools/call"}
            assert metas["p"]["io.modelcontextprotocol/clientInfo"] == {"name": "plain", "version": "1"}
            assert metas["a"]["io.modelcontextprotocol/clientInfo"] == {"name": "asker", "version": "2"}
            assert "sampling" not in metas["p"]["io.modelcontextprotocol/clientCapabilities"]
            assert "sampling" in metas["a"]["io.modelcontextprotocol/clientCapabilities"]
            assert {meta["io.modelcontextprotocol/protocolVersion"] for meta in metas.values()} == {"2026-07-28"}
            await plain.close()
            await asker.close()

    run(main())


def test_an_idle_agent_costs_under_two_kib_of_heap():
    import tracemalloc

    async def main():
        async with reference_pool("handshake", size=1) as pool:
            await pool.session().close()  # warm-up: first-use caches are not the agents' cost
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                agents = [pool.session(client_info={"name": f"agent-{i}", "version": "1"},
                                       sampling_callback=sampler("s")) for i in range(1000)]
                per_agent = (tracemalloc.get_traced_memory()[0] - before) / len(agents)
            finally:
                tracemalloc.stop()
            assert per_agent <= 2048, per_agent
            await asyncio.gather(*(agent.close() for agent in agents))

    run(main())
