"""The request deadlines (mcp_stdio/timeouts.py) with a fake loop, and simultaneous expiries
through a client with an in-memory peer (issue 16, item 4)."""

from __future__ import annotations

import asyncio

import mcp_stdio
from mcp_stdio.timeouts import MAX_EXPIRIES_PER_SWEEP, Deadlines

from .helpers import run
from .memory import FakePipe, memory_client


class FakeLoop:
    """The three loop methods Deadlines uses; time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[list] = []  # [when, callback, cancelled]
        self.soon: list = []
        self.call_at_count = 0

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback):
        self.call_at_count += 1
        timer = [when, callback, False]
        self.timers.append(timer)
        return _Handle(timer)

    def call_soon(self, callback):
        timer = [self.now, callback, False]
        self.soon.append(timer)
        return _Handle(timer)

    def advance(self, to: float) -> int:
        """Move the clock to ``to`` and run what is due; return the loop iterations run."""
        self.now = to
        iterations = 0
        while True:
            due = [t for t in self.timers if not t[2] and t[0] <= self.now] + [t for t in self.soon if not t[2]]
            if not due:
                return iterations
            self.timers = [t for t in self.timers if t not in due]
            self.soon = [t for t in self.soon if t not in due]
            iterations += 1
            for timer in due:
                timer[2] = True
                timer[1]()


class _Handle:
    def __init__(self, timer: list) -> None:
        self._timer = timer

    def cancel(self) -> None:
        self._timer[2] = True


def deadlines(loop: FakeLoop, pending: set):
    batches: list[list] = []
    line = Deadlines(loop, lambda expired: (batches.append(expired), pending.difference_update(i for i, _ in expired)),
                     pending.__contains__, lambda: len(pending))
    return line, batches


def test_a_longer_timeout_first_does_not_cost_later_shorter_requests_a_timer_each():
    # The tail bug of issue 16: one 60 s request, then 1,000 requests of 1 s, used to arm
    # one timer per request. Each timeout value has its own queue: two timers in all.
    loop, pending = FakeLoop(), set(range(1001))
    line, batches = deadlines(loop, pending)
    line.add(0, 60.0)
    for i in range(1, 1001):
        loop.now = i / 10_000
        line.add(i, 1.0)
    assert loop.call_at_count == 2
    loop.advance(1.5)
    assert [i for batch in batches for i, _ in batch] == list(range(1, 1001))
    assert all(timeout == 1.0 for batch in batches for _, timeout in batch)
    loop.advance(61.0)
    assert batches[-1] == [(0, 60.0)] and not pending


def test_simultaneous_expiries_come_in_bounded_batches_one_loop_iteration_each():
    loop, pending = FakeLoop(), set(range(2500))
    line, batches = deadlines(loop, pending)
    for i in range(2500):
        line.add(i, 5.0)
    iterations = loop.advance(10.0)
    assert [len(batch) for batch in batches] == [MAX_EXPIRIES_PER_SWEEP, MAX_EXPIRIES_PER_SWEEP, 500]
    assert iterations == 3  # the rest waits for the next iteration (call_soon), after other callbacks
    assert [i for batch in batches for i, _ in batch] == list(range(2500))


def test_answered_requests_never_expire_and_the_queues_stay_near_the_requests_in_flight():
    loop, pending = FakeLoop(), set()
    line, batches = deadlines(loop, pending)
    for i in range(20_000):
        pending.add(i)
        line.add(i, 5.0)
        if i >= 10:
            pending.discard(i - 10)  # answered out of the head's reach
    assert len(line) <= 2 * len(pending) + 2 * 256 + 1
    loop.advance(10.0)
    assert sorted(i for batch in batches for i, _ in batch) == list(range(19_990, 20_000))


def test_ten_thousand_expiries_fail_every_call_and_write_their_cancellations_a_batch_at_a_time(monkeypatch):
    writes: list[int] = []
    original = FakePipe.write

    def recording(self, data: bytes) -> None:
        if b"notifications/cancelled" in data:
            writes.append(data.count(b"notifications/cancelled"))
        original(self, data)

    monkeypatch.setattr(FakePipe, "write", recording)

    async def script(peer):
        await peer.handshake()
        while True:
            await peer.receive()  # reads everything, answers nothing

    async def main():
        async with memory_client(script, capacity=100_000) as client:
            outcomes = await asyncio.gather(*(client.call_tool("t", {}, timeout=0.5) for _ in range(10_000)),
                                            return_exceptions=True)
            assert all(type(outcome) is mcp_stdio.RequestTimeout for outcome in outcomes)
            assert client.stats()["timed_out"] == 10_000 and client.stats()["in_flight"] == 0

    run(main(), timeout=60)
    assert sum(writes) == 10_000
    # One write per sweep, each of at most MAX_EXPIRIES_PER_SWEEP pre-encoded cancellations.
    assert max(writes) <= MAX_EXPIRIES_PER_SWEEP and len(writes) <= 10_000 // MAX_EXPIRIES_PER_SWEEP + 10
