"""Request timeouts: one timer per connection, expiries in bounded sweeps (asyncio).

Requests sent with the same timeout expire in the order they were sent, so the deadlines
of each timeout value form a FIFO queue, and one timer, for the earliest head of all the
queues, is enough: far cheaper than a ``call_later`` per request, whose cancelled timers
clog the loop's heap under load. A queue holds request ids only (never futures, which
would keep answers alive); answered requests are dropped when they reach the head, or by a
compaction once they outnumber the live ones, so a queue stays within about twice the
requests in flight. An entry is two items of its queue, the deadline then the id, rather
than a tuple: nothing per request for the garbage collector to count or visit.

Expiries are handed to the owner in batches of at most :data:`MAX_EXPIRIES_PER_SWEEP` per
loop iteration: ten thousand requests expiring at once never block the loop for long, and
the owner can fail them and write their cancellations in one write.
"""

from __future__ import annotations

import asyncio
import collections
import heapq

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["Deadlines", "MAX_EXPIRIES_PER_SWEEP", "MAX_TIMEOUT_QUEUES"]

# Requests failed per loop iteration when many expire at once (about 5 ms of work).
MAX_EXPIRIES_PER_SWEEP = 1000
# Distinct timeout values with a queue of their own; others share one heap (rare: most
# programs use one or two timeouts).
MAX_TIMEOUT_QUEUES = 16
# A queue is compacted when it holds this many more entries than twice the live requests.
_COMPACT_SLACK = 256


class Deadlines:
    """The deadlines of one connection's requests.

    Args:
        loop: the event loop.
        expire: called with a list of ``(request id, timeout)`` whose time is up and which
            are still pending; at most :data:`MAX_EXPIRIES_PER_SWEEP` per call.
        is_pending: tells whether a request still awaits its answer.
        count: returns how many requests are pending (for compaction).
    """

    __slots__ = ("_loop", "_expire", "_is_pending", "_count", "_queues", "_heap", "_handle", "_armed", "_seq",
                 "_added")

    def __init__(self, loop: asyncio.AbstractEventLoop, expire: Callable[[list[tuple[Any, float]]], None],
                 is_pending: Callable[[Any], bool], count: Callable[[], int]) -> None:
        self._loop = loop
        self._expire = expire
        self._is_pending = is_pending
        self._count = count
        self._queues: dict[float, collections.deque[Any]] = {}  # deadline, id, deadline, id...
        self._heap: list[tuple[float, int, Any, float]] = []  # (deadline, seq, id, timeout)
        self._handle: asyncio.Handle | None = None
        self._armed = float("inf")  # the time the timer fires at
        self._seq = 0
        self._added = 0

    def __len__(self) -> int:
        return sum(len(queue) for queue in self._queues.values()) // 2 + len(self._heap)

    def add(self, msg_id: Any, timeout: float) -> None:
        """Expire request ``msg_id`` in ``timeout`` seconds unless it was answered."""
        deadline = self._loop.time() + timeout
        queue = self._queues.get(timeout)
        if queue is None:
            if len(self._queues) < MAX_TIMEOUT_QUEUES:
                queue = self._queues[timeout] = collections.deque()
            else:
                self._seq += 1
                heapq.heappush(self._heap, (deadline, self._seq, msg_id, timeout))
                self._arm(deadline)
                self._added += 1
                if self._added >= _COMPACT_SLACK:
                    self._added = 0
                    self._compact()
                return
        if queue and not self._is_pending(queue[1]):
            queue.popleft()  # answers mostly come in order: drop an answered head as we go
            queue.popleft()
        queue.append(deadline)
        queue.append(msg_id)
        if len(queue) == 2 or deadline < self._armed:
            self._arm(queue[0])
        self._added += 1
        if self._added >= _COMPACT_SLACK:
            self._added = 0
            self._compact()

    def clear(self) -> None:
        """Forget every deadline and stop the timer."""
        self._queues.clear()
        self._heap.clear()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._armed = float("inf")

    # Private methods

    def _arm(self, when: float) -> None:
        if when >= self._armed:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._armed = when
        self._handle = self._loop.call_at(when, self._sweep)

    def _compact(self) -> None:
        # Answers out of order leave entries behind the heads: once they are the majority,
        # drop them all, so memory follows the requests in flight.
        limit = 2 * self._count() + _COMPACT_SLACK
        is_pending = self._is_pending
        if len(self._heap) > limit:
            self._heap = [entry for entry in self._heap if is_pending(entry[2])]
            heapq.heapify(self._heap)
        for timeout, queue in list(self._queues.items()):
            if len(queue) > 2 * limit:
                kept: collections.deque[Any] = collections.deque()
                items = iter(queue)
                for deadline, msg_id in zip(items, items):
                    if is_pending(msg_id):
                        kept.append(deadline)
                        kept.append(msg_id)
                if kept:
                    self._queues[timeout] = kept
                else:
                    del self._queues[timeout]
            elif not queue:
                del self._queues[timeout]

    def _sweep(self) -> None:
        self._handle = None
        self._armed = float("inf")
        now = self._loop.time()
        is_pending = self._is_pending
        expired: list[tuple[Any, float]] = []
        room = MAX_EXPIRIES_PER_SWEEP
        for timeout, queue in self._queues.items():
            while queue and room:
                msg_id = queue[1]
                if not is_pending(msg_id):
                    queue.popleft()
                    queue.popleft()
                elif queue[0] <= now:
                    queue.popleft()
                    queue.popleft()
                    expired.append((msg_id, timeout))
                    room -= 1
                else:
                    break
        heap = self._heap
        while heap and room:
            deadline, _, msg_id, timeout = heap[0]
            if deadline > now and is_pending(msg_id):
                break
            heapq.heappop(heap)
            if is_pending(msg_id):
                expired.append((msg_id, timeout))
                room -= 1
        if expired:
            self._expire(expired)
        if not room:
            # More may be due: go on in the next loop iteration, after other callbacks.
            self._handle = self._loop.call_soon(self._sweep)
            self._armed = now
            return
        heads = [queue[0] for queue in self._queues.values() if queue]
        if heap:
            heads.append(heap[0][0])
        if heads:
            self._arm(min(heads))
