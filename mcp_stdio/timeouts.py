"""Request timeouts: one timer per client for the common case, and resettable timers for
requests that report progress (MCP basic/lifecycle, "Timeouts")."""

from __future__ import annotations

import asyncio
import collections
from typing import Any, Callable

__all__ = ["Deadlines", "ProgressEntry"]


class ProgressEntry:
    """A request that asked for progress: its callback and its resettable timer."""

    __slots__ = ("callback", "msg_id", "timeout", "limit", "timer")

    def __init__(self, callback: Any, msg_id: int, timeout: float | None) -> None:
        self.callback = callback
        self.msg_id = msg_id
        self.timeout = timeout  # set only when progress resets the timeout
        self.limit = 0.0  # the maximum total deadline (loop time)
        self.timer: asyncio.TimerHandle | None = None


class Deadlines:
    """Request timeouts with one timer per client instead of one per request.

    Requests sent with the same timeout expire in the order they were sent, so their
    deadlines form a queue and one timer, for the head, is enough: far cheaper than a
    ``call_later`` per request, whose cancelled timers clog the loop's heap under load.
    Entries hold only the request id (never the future, which would keep answers alive);
    answered requests are dropped when they reach the head, or by a compaction every 256
    additions when they outnumber the live ones.
    """

    __slots__ = ("_loop", "_expire", "_is_pending", "_count", "_entries", "_handle", "_added")

    def __init__(self, loop: asyncio.AbstractEventLoop, expire: Callable[[int, float], None],
                 is_pending: Callable[[int], bool], count: Callable[[], int]) -> None:
        self._loop = loop
        self._expire = expire
        self._is_pending = is_pending
        self._count = count
        self._entries: collections.deque = collections.deque()
        self._handle: asyncio.TimerHandle | None = None
        self._added = 0

    def add(self, deadline: float, msg_id: int, timeout: float) -> bool:
        """Queue a deadline; return False if it is earlier than the last one queued."""
        entries = self._entries
        if entries and deadline < entries[-1][0]:
            return False  # a shorter timeout than the ones queued: the caller uses its own timer
        entries.append((deadline, msg_id, timeout))
        if self._handle is None:
            self._handle = self._loop.call_at(deadline, self._sweep)
        # Answers mostly come in order: drop an answered entry from the head as we go.
        is_pending = self._is_pending
        if len(entries) > 1 and not is_pending(entries[0][1]):
            entries.popleft()
        self._added += 1
        if self._added >= 256:
            # Answers out of order leave entries behind the head: once they are the
            # majority, drop them all, so the queue stays within twice the live requests.
            self._added = 0
            if len(entries) > 2 * self._count() + 256:
                self._entries = collections.deque(item for item in entries if is_pending(item[1]))
        return True

    def clear(self) -> None:
        """Forget every entry and stop the timer."""
        self._entries.clear()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _sweep(self) -> None:
        self._handle = None
        entries = self._entries
        is_pending = self._is_pending
        now = self._loop.time()
        while entries:
            deadline, msg_id, timeout = entries[0]
            if not is_pending(msg_id):
                entries.popleft()
            elif deadline <= now:
                entries.popleft()
                self._expire(msg_id, timeout)
            else:
                self._handle = self._loop.call_at(deadline, self._sweep)
                return
