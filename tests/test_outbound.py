"""Outbound: a write at once, one write per burst, the queue while the pipe is paused.

Unit tests against a pipe that records each ``write()`` and pauses past a byte budget, as
an asyncio pipe transport calls ``pause_writing()`` past its high-water mark.
"""

from __future__ import annotations

import asyncio

import pytest

from mcp_stdio.outbound import BURST_SIZE, WRITE_CHUNK, Outbound


class RecordingPipe:
    """Records writes; past ``budget`` bytes (if set) it pauses the Outbound."""

    def __init__(self, budget: int | None = None) -> None:
        self.writes: list[bytes] = []
        self.budget = budget
        self.outbound: Outbound | None = None

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        if self.budget is not None and sum(map(len, self.writes)) >= self.budget:
            self.outbound.pause()  # type: ignore[union-attr]

    @property
    def lines(self) -> list[bytes]:
        return b"".join(self.writes).splitlines()


def make(budget: int | None = None, queue_size: int = 100) -> tuple[Outbound, RecordingPipe]:
    outbound = Outbound(queue_size)
    pipe = RecordingPipe(budget)
    pipe.outbound = outbound
    outbound.attach(pipe)  # type: ignore[arg-type]
    return outbound, pipe


def line(n: int) -> bytes:
    return b'{"id":%d}\n' % n


def run(coro):
    return asyncio.run(coro)


def test_a_lone_message_is_written_at_once():
    async def main():
        outbound, pipe = make()
        assert outbound.send(line(1), 1)
        assert pipe.writes == [line(1)]
        assert outbound.backlog == 0

    run(main())


def test_messages_answered_in_between_are_each_written_at_once():
    # The sequential case: a request, its answer, the next request: nothing waits.
    async def main():
        outbound, pipe = make()
        for n in range(5):
            outbound.send(line(n), n)
            assert pipe.writes[-1] == line(n)
            outbound.peer_spoke()
        assert len(pipe.writes) == 5

    run(main())


def test_a_burst_is_written_in_few_writes_by_the_end_of_the_loop_iteration():
    async def main():
        outbound, pipe = make()
        for n in range(1000):
            outbound.send(line(n), n)
        total = sum(len(line(n)) for n in range(1000))
        # The first at once; then a write each time the burst reaches BURST_SIZE bytes.
        assert pipe.writes[0] == line(0)
        assert all(BURST_SIZE <= len(data) < BURST_SIZE + 16 for data in pipe.writes[1:])
        assert len(pipe.writes) == 1 + (total - len(line(0))) // BURST_SIZE
        unwritten = total - sum(map(len, pipe.writes))
        assert 0 < unwritten < BURST_SIZE
        assert outbound.backlog > 0
        await asyncio.sleep(0)  # the end of the iteration writes the rest
        assert len(pipe.writes) <= 2 + total // BURST_SIZE
        assert pipe.lines == [line(n).rstrip(b"\n") for n in range(1000)]
        assert outbound.backlog == 0
        assert outbound.bytes_written == total
        # After the burst, the next message goes at once again.
        outbound.send(line(1000), 1000)
        assert pipe.writes[-1] == line(1000)

    run(main())


def test_a_request_discarded_during_its_burst_is_never_written():
    async def main():
        outbound, pipe = make()
        outbound.send(line(1), 1)
        outbound.send(line(2), 2)
        outbound.send(b'{"note":1}\n')  # a notification: no id
        outbound.send(line(3), 3)
        assert outbound.discard(2) is True
        assert outbound.discard(2) is False
        assert outbound.discard(1) is False  # already written: the peer must be told instead
        await asyncio.sleep(0)
        assert pipe.lines == [b'{"id":1}', b'{"note":1}', b'{"id":3}']
        assert outbound.discard(3) is False

    run(main())


def test_a_burst_past_the_pipe_budget_waits_in_order_with_the_queue():
    async def main():
        size = len(line(10_000))
        count = 3 * WRITE_CHUNK // size
        outbound, pipe = make(budget=WRITE_CHUNK // 2, queue_size=10)
        for n in range(count):
            outbound.send(line(n), n)
        await asyncio.sleep(0)
        assert outbound.paused
        written = len(pipe.lines)
        assert written < count
        assert outbound.backlog == count - written
        assert outbound.queue is not None and outbound.queue.qsize() == 10  # the rest in the line behind it
        assert outbound.discard(count - 1) is True  # still unsent: droppable
        outbound.send(line(count), count)  # a later message goes behind them
        pipe.budget = None
        outbound.resume()
        assert pipe.lines == [line(n).rstrip(b"\n") for n in range(count + 1) if n != count - 1]
        assert outbound.backlog == 0

    run(main())


def test_drain_waits_for_the_burst_and_close_drops_it():
    async def main():
        outbound, pipe = make()
        outbound.send(line(1), 1)
        outbound.send(line(2), 2)
        await asyncio.wait_for(outbound.drain(), 1)
        assert len(pipe.lines) == 2
        outbound.send(line(3), 3)  # at once: the burst was written
        outbound.send(line(4), 4)  # a new burst
        assert outbound.backlog == 1
        outbound.close()
        await asyncio.sleep(0)
        assert len(pipe.lines) == 3  # nothing is written to a closed pipe
        assert outbound.send(line(5), 5) is False
        assert outbound.backlog == 0

    run(main())


def test_queue_size_must_be_positive():
    with pytest.raises(ValueError):
        Outbound(0)


def test_discard_knows_which_burst_messages_a_size_triggered_write_already_took():
    async def main():
        outbound, pipe = make()
        count = 2 * BURST_SIZE // len(line(1000)) + 10
        for n in range(1000, 1000 + count):
            outbound.send(line(n), n)
        assert len(pipe.writes) >= 2  # the first message, then at least one full burst
        assert outbound.discard(1001) is False  # written by the size-triggered write: cancel it instead
        last = 1000 + count - 1
        assert outbound.discard(last) is True  # still in the open burst
        await asyncio.sleep(0)
        assert pipe.lines == [line(n).rstrip(b"\n") for n in range(1000, last)]

    run(main())


def test_a_pipe_that_fails_during_a_burst_ends_like_a_closed_one():
    class FailingPipe(RecordingPipe):
        def write(self, data: bytes) -> None:
            if self.writes:
                raise OSError(28, "No space left on device")
            super().write(data)

    async def main():
        outbound = Outbound(100)
        pipe = FailingPipe()
        pipe.outbound = outbound
        outbound.attach(pipe)  # type: ignore[arg-type]
        outbound.send(line(1), 1)
        outbound.send(line(2), 2)
        waiter = asyncio.ensure_future(outbound.drain())
        await asyncio.sleep(0)
        await asyncio.wait_for(waiter, 1)  # woken, not left waiting
        assert outbound.closed and outbound.backlog == 0
        assert outbound.send(line(3), 3) is False
        assert pipe.lines == [b'{"id":1}']

    run(main())
