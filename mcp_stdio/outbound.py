"""The outbound side of a pipe: write now, or buffer while the pipe is full (asyncio).

Theory of operation
-------------------
An asyncio pipe transport never refuses a write: it buffers what the pipe cannot take and
calls ``pause_writing()`` on its protocol once the buffer passes its high-water mark, then
``resume_writing()`` when it drained. :class:`Outbound` sits in front of such a pipe:

* While the pipe is not paused, a message is written straight away: no queue, no task, no
  future (the common case costs one ``write()``).
* **One write per burst**: when a second message follows a write before the peer has
  sent anything back (:meth:`Outbound.peer_spoke`), it and every message after it until the
  end of the loop iteration are joined into writes of :data:`BURST_SIZE` bytes, the last
  one made by one ``call_soon`` callback: ``asyncio.gather`` of 1,000 calls costs about 20
  system calls, not 1,000, and the peer starts on the first messages while the rest are
  made. A request followed by its answer (the sequential case) never waits; a burst's
  messages wait at most until the end of the current loop iteration. They count in
  :attr:`Outbound.backlog`, and :meth:`Outbound.discard` drops them like queued ones.
* While it is paused, messages wait in an ``asyncio.Queue`` of ``queue_size`` entries
  (created on the first pause: an idle connection holds no queue), and beyond that bound in
  a line of waiting senders. A waiting sender costs no future of its own: a request's
  sender already waits for its answer, and the line is written, in order, as soon as the
  pipe takes data again. A message of a request that timed out before it was written is
  dropped from the line (:meth:`Outbound.discard`), and nothing needs cancelling.
* Senders that must not run ahead (notifications) wait with :meth:`Outbound.wait_room` on
  one wake-up shared by all of them.
* When the pipe is lost, everything waiting is dropped and every later send returns
  ``False``: nothing is ever written to a closed pipe (asyncio would log a warning per
  write).
"""

from __future__ import annotations

import asyncio
import collections
import logging

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Outbound", "BURST_SIZE", "DEFAULT_QUEUE_SIZE", "WRITE_CHUNK"]

logger = logging.getLogger("mcp_stdio.transport")

# The outbound queue's bound; the design card sets 100. Tunable per connection.
DEFAULT_QUEUE_SIZE = 100
# Messages are joined into writes of about this size when a backlog is flushed: large
# enough to amortize the system call, small enough to stop soon after the pipe pauses.
WRITE_CHUNK = 256 * 1024
# A burst is written as soon as it holds this many bytes, not only at the end of the loop
# iteration: the peer starts on the first messages while the rest are being made (one
# write at the end was measured 1.2x slower in wall time for 1,000 gathered calls).
BURST_SIZE = 4096


class Outbound:
    """Writes to one pipe, with a bounded queue while the pipe is paused.

    Args:
        queue_size: bound of the ``asyncio.Queue`` used while the pipe is paused.
    """

    __slots__ = ("queue_size", "_pipe", "_queue", "_line", "_unsent", "_paused", "_closed", "_room",
                 "_drained", "bytes_written", "_wrote", "_burst", "_burst_ids", "_burst_size")

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.queue_size = queue_size
        self._pipe: asyncio.WriteTransport | None = None
        # Created on the first pause: (data, request id or None) while the pipe is full.
        self._queue: asyncio.Queue[tuple[bytes, Any]] | None = None
        # Senders beyond the queue's bound, in order; created with the queue.
        self._line: collections.deque[tuple[bytes, Any]] | None = None
        # Request ids of the messages in the queue or the line (not yet written).
        self._unsent: set | None = None
        self._paused = False
        self._closed = False
        self._room: asyncio.Future[None] | None = None  # shared by wait_room() callers
        self._drained: asyncio.Future[None] | None = None  # set when nothing is waiting
        self.bytes_written = 0
        # A message was written and the peer has not spoken since: the next one starts a burst.
        self._wrote = False
        # The messages of this loop iteration's burst ("" once discarded), written by _write_burst.
        self._burst: list[bytes] | None = None
        self._burst_ids: dict[Any, int] | None = None  # request id -> its index in _burst
        self._burst_size = 0  # bytes in _burst

    # Public methods

    def attach(self, pipe: asyncio.WriteTransport) -> None:
        """Write to ``pipe`` from now on."""
        self._pipe = pipe

    @property
    def closed(self) -> bool:
        """Return whether nothing more can be written."""
        return self._closed

    @property
    def paused(self) -> bool:
        """Return whether the pipe is full (``pause_writing``)."""
        return self._paused

    @property
    def queue(self) -> asyncio.Queue | None:
        """Return the outbound queue, or ``None`` while the pipe has never been full."""
        return self._queue

    @property
    def backlog(self) -> int:
        """Return how many messages wait to be written (this iteration's burst, queue and line)."""
        waiting = 0 if self._burst is None else len(self._burst)
        if self._queue is None:
            return waiting
        return waiting + self._queue.qsize() + len(self._line)  # type: ignore[arg-type]

    def send(self, data: bytes, request_id: Any = None) -> bool:
        """Write ``data`` now, or keep it in order until the pipe takes data again.

        Args:
            data: one or more serialized messages.
            request_id: the id of the request ``data`` carries, so that :meth:`discard`
                can drop it while it is unsent.

        Returns:
            ``False`` when the pipe is closed (nothing will ever be written), else ``True``.
        """
        if self._closed or self._pipe is None:
            return False
        burst = self._burst
        if burst is not None:  # a burst is open in this loop iteration: join it
            if request_id is not None:
                self._burst_ids[request_id] = len(burst)  # type: ignore[index]
            burst.append(data)
            self._burst_size += len(data)
            if self._burst_size >= BURST_SIZE and not self._paused:
                self._write_burst(final=False)  # the peer can start on these while we go on
            return True
        queue = self._queue
        if not self._paused and (queue is None or (queue.empty() and not self._line)):
            if self._wrote:  # a second message before the peer answered: open a burst
                self._burst = [data]
                self._burst_size = len(data)
                self._burst_ids = {} if request_id is None else {request_id: 0}
                asyncio.get_running_loop().call_soon(self._write_burst)
                return True
            self._wrote = True
            self.bytes_written += len(data)
            self._pipe.write(data)  # may call pause() at once
            return True
        self._enqueue(data, request_id)
        return True

    def peer_spoke(self) -> None:
        """The peer sent data: the next message is written at once (see "one write per burst")."""
        self._wrote = False

    def _enqueue(self, data: bytes, request_id: Any) -> None:
        """Keep ``data`` in order while the pipe is paused (or behind what is kept)."""
        queue = self._queue
        if queue is None:
            queue = self._queue = asyncio.Queue(self.queue_size)
            self._line = collections.deque()
            self._unsent = set()
        if request_id is not None:
            self._unsent.add(request_id)  # type: ignore[union-attr]
        if self._line or queue.full():
            self._line.append((data, request_id))  # type: ignore[union-attr]
        else:
            queue.put_nowait((data, request_id))

    def discard(self, request_id: Any) -> bool:
        """Drop the unsent message of request ``request_id``; return whether it was unsent
        (then the peer never saw the request, and there is nothing to cancel)."""
        if self._burst_ids:
            index = self._burst_ids.pop(request_id, None)
            if index is not None:
                self._burst_size -= len(self._burst[index])  # type: ignore[index]
                self._burst[index] = b""  # type: ignore[index]
                return True
        unsent = self._unsent
        if not unsent or request_id not in unsent:
            return False
        unsent.discard(request_id)  # the writer skips messages whose id is no longer unsent
        return True

    async def wait_room(self) -> None:
        """Wait until the backlog is under ``queue_size`` (or the pipe is closed).

        Every waiter shares one future, shielded per waiter only while it waits.
        """
        while not self._closed and self.backlog >= self.queue_size:
            if self._room is None or self._room.done():
                self._room = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._room)

    async def drain(self) -> None:
        """Wait until nothing waits to be written (or the pipe is closed)."""
        while not self._closed and self.backlog:
            if self._drained is None or self._drained.done():
                self._drained = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._drained)

    # Called by the owner from its asyncio protocol callbacks

    def pause(self) -> None:
        """The pipe is full (``pause_writing``)."""
        self._paused = True

    def resume(self) -> None:
        """The pipe takes data again (``resume_writing``): write what waits."""
        self._paused = False
        self._flush()

    def close(self) -> None:
        """The pipe is gone: drop what waits; later sends return ``False``."""
        self._closed = True
        self._burst = self._burst_ids = None
        queue = self._queue
        if queue is not None:
            while not queue.empty():
                queue.get_nowait()
            self._line.clear()  # type: ignore[union-attr]
            self._unsent.clear()  # type: ignore[union-attr]
        self._wake()

    # Private methods

    def _write_burst(self, final: bool = True) -> None:
        """Write the burst: joined, in chunks while the pipe takes data, the rest kept in
        order with the queue. ``final`` (the end of the loop iteration) closes the burst;
        otherwise (it reached :data:`BURST_SIZE`) it stays open, empty, for what follows."""
        burst, ids = self._burst, self._burst_ids
        if final:
            self._burst = self._burst_ids = None
            self._wrote = False
        elif burst is not None:
            self._burst, self._burst_ids = [], {}
        self._burst_size = 0
        if not burst or self._closed or self._pipe is None:
            return
        if ids:  # the index of each unsent request: what is not written now stays discardable
            keys: list[Any] = [None] * len(burst)
            for request_id, index in ids.items():
                keys[index] = request_id
        start, count = 0, len(burst)
        while start < count and not self._paused:
            end, size = start, 0
            while end < count and size < WRITE_CHUNK:
                size += len(burst[end])
                end += 1
            data = burst[start] if end == start + 1 else b"".join(burst[start:end])
            start = end
            if data and not self._write_later(data):
                return
        if start < count:
            # The pipe is full: the rest waits with the queue, and so does whatever follows in
            # this iteration (a burst only opens while the pipe takes data).
            self._burst = self._burst_ids = None
            for index in range(start, count):
                if burst[index]:
                    self._enqueue(burst[index], keys[index] if ids else None)
        self._wake()

    def _flush(self) -> None:
        queue, line, unsent = self._queue, self._line, self._unsent
        if queue is None or self._pipe is None:
            return
        while not self._paused and not self._closed and (not queue.empty() or line):
            chunk: list[bytes] = []
            size = 0
            while size < WRITE_CHUNK and (not queue.empty() or line):
                if not queue.empty():
                    data, request_id = queue.get_nowait()
                    if line:
                        queue.put_nowait(line.popleft())  # the line moves up into the queue
                else:
                    data, request_id = line.popleft()  # type: ignore[union-attr]
                if request_id is not None:
                    if request_id not in unsent:  # type: ignore[operator]
                        continue  # discarded: its request timed out before it was written
                    unsent.discard(request_id)  # type: ignore[union-attr]
                chunk.append(data)
                size += len(data)
            if chunk and not self._write_later(chunk[0] if len(chunk) == 1 else b"".join(chunk)):
                return
        self._wake()

    def _write_later(self, data: bytes) -> bool:
        """Write from a callback (a burst's end, a resume), where no sender could see an
        error: a pipe that fails (a server's stdout on a full disk) ends like a closed one."""
        self.bytes_written += len(data)
        try:
            self._pipe.write(data)  # type: ignore[union-attr]  # may call pause()
        except OSError as exc:
            logger.error("writing to the pipe failed (%s): nothing more is written", exc)
            self.close()
            return False
        return True

    def _wake(self) -> None:
        if self._room is not None and not self._room.done() and (self._closed or self.backlog < self.queue_size):
            self._room.set_result(None)
        if self._drained is not None and not self._drained.done() and (self._closed or not self.backlog):
            self._drained.set_result(None)
