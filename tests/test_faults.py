"""The fault suite: one misbehaving server per file in mcp_stdio/bench/servers/, each case
asserting the exact behaviour and that no child, fd or asyncio task is left afterwards.

(Cases 1, 2, 3, 9 and 10 of the fault list are in test_client.py, with the spawn errors,
early exits, deaths mid-request, stubborn servers and silent servers.)
"""

from __future__ import annotations

import asyncio
import logging
import time
import tracemalloc

import pytest

import mcp_stdio
from mcp_stdio import ClientClosedError, MessageTooLarge, RequestTimeout, StartError

from .helpers import process_alive, run, server

pytestmark = pytest.mark.usefixtures("no_leaks")


async def no_tasks_left(before: set) -> None:
    await asyncio.sleep(0)
    left = asyncio.all_tasks() - before
    assert not left, left


def test_banners_and_half_json_on_stdout_are_skipped_and_reported(caplog):
    async def main():
        before = asyncio.all_tasks()
        async with mcp_stdio.connect(server("banner")) as client:
            results = [await client.call_tool("echo", {"text": str(i)}) for i in range(3)]
            assert [mcp_stdio.tool_text(r) for r in results] == ["0", "1", "2"]
            # 2 banner lines, then 2 junk lines before each of 5 answers (initialize,
            # 3 calls, and the notification also triggers junk), all skipped and counted.
            assert client.invalid_messages >= 2 + 2 * 4
        await no_tasks_left(before)

    with caplog.at_level(logging.WARNING, logger="mcp_stdio.client"):
        run(main())
    messages = [r.getMessage() for r in caplog.records]
    assert any("skipped a message that is not valid: not valid JSON" in m
               and "Welcome to the Banner Server" in m for m in messages)


@pytest.mark.parametrize("mode", ["whole", "split"])
def test_bom_crlf_blank_lines_invalid_utf8_and_line_separators(mode):
    async def main():
        before = asyncio.all_tasks()
        async with mcp_stdio.connect(server("encodings")) as client:
            result = await client.call_tool("echo", {"text": mode})
            assert mcp_stdio.tool_text(result) == mode + "\u2028\u0085\u2029 done"
            assert client.invalid_messages == 1  # the invalid UTF-8 line
            await client.ping()
        await no_tasks_left(before)

    run(main())


def test_line_over_max_message_size_closes_with_a_clear_error():
    async def main():
        before = asyncio.all_tasks()
        async with mcp_stdio.connect(server("oversized", str(200_000)), max_message_size=100_000) as client:
            with pytest.raises(MessageTooLarge) as info:
                await client.call_tool("echo", {"text": "x"})
            assert info.value.limit == 100_000 and info.value.size > 100_000
            assert str(info.value).startswith("server sent a message of more than 100000 bytes (max_message_size)")
            with pytest.raises(MessageTooLarge):
                await client.ping()
        await no_tasks_left(before)

    run(main())


def test_endless_line_is_cut_at_the_limit_with_bounded_memory():
    async def main():
        before = asyncio.all_tasks()
        tracemalloc.start()
        try:
            async with mcp_stdio.connect(server("endless_line"), max_message_size=1_000_000) as client:
                with pytest.raises(MessageTooLarge):
                    await client.call_tool("echo", {"text": "x"})
                peak = tracemalloc.get_traced_memory()[1]
            assert client.returncode is not None  # the writer was stopped
        finally:
            tracemalloc.stop()
        # The framer held at most the limit (plus one pipe read) before giving up.
        assert peak < 1_000_000 + 2 * 256 * 1024 + 2_000_000
        await no_tasks_left(before)

    run(main())


def test_stderr_flood_is_drained_with_bounded_memory():
    async def main():
        before = asyncio.all_tasks()
        tracemalloc.start()
        try:
            async with mcp_stdio.connect(server("stderr_flood", "100"), stderr_tail_lines=5) as client:
                await client.ping()  # only possible once the server wrote all 100 MiB
                await asyncio.sleep(0.05)
                assert client.stderr_tail[-1] == "flood done"
                assert len(client.stderr_tail) == 5
                assert all(len(line) <= 4096 for line in client.stderr_tail)
                peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 10 * 1024 * 1024  # 100 MiB went through; a few pipe reads were held
        await no_tasks_left(before)

    run(main())


def test_server_that_stops_reading_still_times_out_on_time_and_closes_bounded():
    async def main():
        before = asyncio.all_tasks()
        client = mcp_stdio.connect(server("no_read"), timeout=0.5, queue_size=4, close_timeout=0.2,
                                   exit_timeout=0.2, terminate_timeout=0.2)
        await client.start()
        payload = {"text": "z" * 200_000}  # a few of these fill the 64 KiB pipe
        started = time.monotonic()
        results = await asyncio.gather(*(client.call_tool("echo", payload) for _ in range(20)),
                                       return_exceptions=True)
        assert all(isinstance(r, RequestTimeout) for r in results), results
        assert time.monotonic() - started < 5  # each within its 0.5 s, not hanging on the pipe
        started = time.monotonic()
        await client.close()
        bound = client.close_timeout + client.exit_timeout + 2 * client.terminate_timeout + 4
        assert time.monotonic() - started < bound
        assert not process_alive(client.pid)
        await no_tasks_left(before)

    run(main())


def test_wrong_unknown_duplicate_and_late_ids_are_ignored_never_misdelivered(caplog):
    async def main():
        before = asyncio.all_tasks()
        async with mcp_stdio.connect(server("bad_ids"), timeout=30) as client:
            results = await asyncio.gather(*(client.call_tool("echo", {"text": f"t{i}"}) for i in range(5)))
            assert [mcp_stdio.tool_text(r) for r in results] == [f"t{i}" for i in range(5)]
            with pytest.raises(RequestTimeout):
                await client.call_tool("echo", {"text": "hold"}, timeout=0.3)
            assert mcp_stdio.tool_text(await client.call_tool("echo", {"text": "after"})) == "after"
            # The duplicate of the last answer may come in a later read than the answer: the
            # server writes in order, so once a ping is answered, everything before it is in.
            await client.ping()
            # per call: unknown id, string id, duplicate; plus the late answer after cancellation
            assert client.unexpected_responses == 3 * 6 + 1
            assert client.invalid_messages == 6  # the boolean ids
        await no_tasks_left(before)

    with caplog.at_level(logging.WARNING, logger="mcp_stdio.client"):
        run(main())
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "id 99999 was never used by this side" in text
    assert "is a string but our request ids are integers" in text
    assert "is not pending (already answered, timed out or cancelled)" in text


def test_storm_of_100000_notifications_and_unhandled_requests_while_a_request_is_pending():
    received = []

    async def main():
        before = asyncio.all_tasks()
        async with mcp_stdio.connect(server("server_requests"), message_handler=received.append) as client:
            result = await client.call_tool("echo", {"text": "go"})
            assert "Method not found: sampling/unheardOf" in mcp_stdio.tool_text(result)
            assert "-32601" in mcp_stdio.tool_text(result)
        await no_tasks_left(before)

    run(main())
    assert len(received) == 100_000
    assert [n["params"]["data"] for n in received[:5]] == [0, 1, 2, 3, 4]
    assert all(received[i]["params"]["data"] == i for i in range(0, 100_000, 997))


def test_requests_and_notifications_before_the_initialize_answer():
    received = []

    async def main():
        before = asyncio.all_tasks()
        async with mcp_stdio.connect(server("early_messages"), message_handler=received.append) as client:
            text = mcp_stdio.tool_text(await client.call_tool("echo", {"text": "?"}))
            # ping answered (MCP allows pings before initialization); roots/list got -32601
            # because this client declares no roots capability and has no handler.
            assert text == "[('early-ping', True, None), ('early-roots', False, -32601)]"
        await no_tasks_left(before)

    run(main())
    assert received == [{"method": "notifications/message", "params": {"level": "info", "data": "starting"}}]


def test_close_from_another_task_while_requests_are_pending_and_twice():
    async def main():
        before = asyncio.all_tasks()
        client = mcp_stdio.connect(server("silent"), close_timeout=0.1)
        await client.start()
        calls = [asyncio.ensure_future(client.call_tool("echo", {"text": "x"})) for _ in range(10)]
        await asyncio.sleep(0.05)
        closers = [asyncio.ensure_future(client.close()) for _ in range(2)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, ClientClosedError) for r in results)
        await asyncio.gather(*closers)
        await client.close()
        await no_tasks_left(before)

    run(main())


def test_cancel_during_the_handshake_of_a_real_process_leaves_nothing():
    async def main():
        before = asyncio.all_tasks()
        client = mcp_stdio.connect(server("silent_start"))
        starter = asyncio.ensure_future(client.start())
        await asyncio.sleep(0.2)
        pid = client.pid
        starter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starter
        await client.close()
        assert pid is not None and not process_alive(pid)
        await no_tasks_left(before)

    run(main())


def test_timeout_during_the_handshake_of_a_real_process_leaves_nothing():
    async def main():
        before = asyncio.all_tasks()
        client = mcp_stdio.connect(server("silent_start"), startup_timeout=0.2, protocol="handshake")
        with pytest.raises(StartError, match=r"did not answer initialize within 0.2 s \(protocol tried: handshake\)"):
            await client.start()
        assert not process_alive(client.pid)
        await no_tasks_left(before)

    run(main())
