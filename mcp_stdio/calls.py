"""Requests in flight on one connection, both ways, and ordered delivery (asyncio).

* :class:`Calls`: our requests. Each waits on a future registered in the session's pending
  table; the session's events resolve it (no task per request). Timeouts are kept by
  :class:`~mcp_stdio.timeouts.Deadlines`, resettable ones (progress) by a timer each. A
  request that times out, or whose caller is cancelled, is forgotten and, if it was
  written, cancelled at the peer (``notifications/cancelled``); one that was never written
  is simply dropped.
* :class:`Incoming`: the peer's requests. At most ``max_running`` handlers run at once; the
  others wait in order (the session bounds how many may wait). A cancellation from the
  peer cancels the handler; an exception becomes a JSON-RPC error answer
  (:func:`mcp_stdio.errors.jsonrpc_error`); a result the session refuses (wrong shape)
  becomes -32603 and a WARNING.
* :class:`Dispatcher`: notifications reach their callbacks one at a time, in the order
  they arrived, from one task, so a slow or failing callback never stalls the reader. While
  callbacks are behind, answers to our requests queue behind them too: the caller of a
  request resumes only after the notifications that came before its answer were delivered.
  At most ``max_queued`` notifications wait; beyond that they are dropped and counted (an
  answer is never dropped).
"""

from __future__ import annotations

import asyncio
import collections
import logging

from .errors import INTERNAL_ERROR, LocalProtocolError, RequestError, RequestTimeout, jsonrpc_error
from .timeouts import Deadlines

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable
    from collections.abc import Awaitable

    from .events import CancelRequested, ProgressReceived, RequestReceived
    from .session import Endpoint

    Send = Callable[[bytes, Any], bool]

__all__ = ["Calls", "Incoming", "Dispatcher", "CANCELLED_BY_CALLER", "DEFAULT_MAX_RUNNING",
           "DEFAULT_MAX_QUEUED_NOTIFICATIONS"]

logger = logging.getLogger("mcp_stdio.client")

# The reason given in notifications/cancelled when the caller's wait is cancelled.
CANCELLED_BY_CALLER = "cancelled by the caller"
# Requests of the peer whose handlers run at once; the session refuses beyond its
# max_incoming, so the rest wait in a bounded line.
DEFAULT_MAX_RUNNING = 16
# Notifications waiting for their callbacks; beyond, new ones are dropped (and counted).
DEFAULT_MAX_QUEUED_NOTIFICATIONS = 10_000

_CANCEL_PREFIX = b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":'


class _Progress:
    """A request that asked for progress: its callback and, when progress resets the
    timeout, its own timer."""

    __slots__ = ("callback", "timeout", "limit", "total", "timer")

    def __init__(self, callback: Any, timeout: float | None, limit: float, total: float) -> None:
        self.callback = callback
        self.timeout = timeout  # set only when progress resets the timeout
        self.limit = limit  # the deadline progress cannot extend (loop time)
        self.total = total  # that deadline in seconds from the start, for the message
        self.timer: asyncio.TimerHandle | None = None


class Calls:
    """Our requests in flight on one connection.

    Args:
        loop: the event loop.
        session: the connection's session (it owns the pending table).
        send: writes bytes, ``send(data, request_id)``; returns ``False`` once the
            connection is gone.
        discard: drops the unsent message of a request; returns whether it was unsent.
        dispatcher: delivers progress callbacks in order with the notifications.
    """

    __slots__ = ("_loop", "_session", "_send", "_discard", "_dispatcher", "_deadlines", "_progress", "_drained",
                 "_suffixes", "_queued", "sent", "failed", "timed_out", "last_error", "trace")

    def __init__(self, loop: asyncio.AbstractEventLoop, session: Endpoint, send: Send,
                 discard: Callable[[Any], bool], dispatcher: Dispatcher) -> None:
        self._loop = loop
        self._session = session
        self._send = send
        self._discard = discard
        self._dispatcher = dispatcher
        self._deadlines: Deadlines | None = None
        self._progress: dict[Any, _Progress] | None = None
        self._drained: asyncio.Future | None = None
        self._suffixes: dict[str, bytes] | None = None  # reason -> pre-encoded end of a cancellation
        # Answers waiting behind notification callbacks: id -> (future, outcome, is an error).
        self._queued: dict[Any, tuple[asyncio.Future, Any, bool]] | None = None
        self.sent = 0
        self.failed = 0
        self.timed_out = 0
        self.last_error: str | None = None
        self.trace = False

    def rebind(self, session: Endpoint, send: Send, discard: Callable[[Any], bool]) -> None:
        """Use a new connection (after a restart)."""
        self._session = session
        self._send = send
        self._discard = discard
        if self._deadlines is not None:
            self._deadlines.clear()
            self._deadlines = None

    @property
    def pending(self) -> int:
        """Return how many of our requests await an answer."""
        return self._session.pending_count

    async def call(self, method: str, params: dict | None, timeout: float | None, *,
                   progress_callback: Any = None, reset: bool = False, max_total: float | None = None,
                   task: bool = False, meta: dict | None = None, ticket: list | None = None) -> Any:
        """Send one request and return its result (the session checked it).

        ``ticket``, when given, is filled with ``[calls, request id, future]`` once the
        request is registered, so that its owner can end it (:meth:`end`).

        Raises:
            whatever the answer or its absence means: see :meth:`mcp_stdio.Client.request`;
            ``closed()`` when the connection is gone before the request could be written.
        """
        loop = self._loop
        future = loop.create_future()
        session = self._session
        if meta is None:
            msg_id, data = session.send_request(method, params, future, task=task,  # type: ignore[call-arg]
                                                progress=progress_callback is not None)
        else:
            msg_id, data = session.send_request(method, params, future, task=task,  # type: ignore[call-arg]
                                                progress=progress_callback is not None, meta=meta)
        self.sent += 1
        if ticket is not None:
            ticket[:] = [self, msg_id, future]
        progress = None
        if progress_callback is not None:
            total = (max_total if max_total is not None else 10 * timeout) if timeout else 0.0
            progress = _Progress(progress_callback, timeout if reset else None, loop.time() + total, total)
            if timeout:
                progress.timer = loop.call_later(timeout, self._expire_one, msg_id, timeout)
            if self._progress is None:
                self._progress = {}
            self._progress[msg_id] = progress
        elif timeout:
            (self._deadlines if self._deadlines is not None else self._new_deadlines()).add(msg_id, timeout)
        if self.trace:
            logger.debug("> %s", data[:1000])
        try:
            if not self._send(data, msg_id):
                session.forget(msg_id)
                raise LocalProtocolError(f"cannot send {method}: the connection is closed")
            return await future
        except asyncio.CancelledError:
            self.abandon(msg_id, CANCELLED_BY_CALLER)
            raise
        finally:
            if progress is not None:
                del self._progress[msg_id]  # type: ignore[union-attr]
                if progress.timer is not None:
                    progress.timer.cancel()

    async def call_plain(self, method: str, params: dict | None, timeout: float | None) -> Any:
        """:meth:`call` without progress, task, ``_meta`` or ticket: the common request, in
        one frame."""
        msg_id, future = self.start_plain(method, params, timeout)
        try:
            return await future
        except asyncio.CancelledError:
            self.abandon(msg_id, CANCELLED_BY_CALLER)
            raise

    def start_plain(self, method: str, params: dict | None, timeout: float | None) -> tuple[Any, asyncio.Future]:
        """Send the common request and return ``(id, future)``: :meth:`call_plain` without its
        wait, for a caller that awaits the future in its own frame (``call_tool``). That caller
        must call ``abandon(id, CANCELLED_BY_CALLER)`` when its wait is cancelled.

        Raises:
            LocalProtocolError: the connection is closed.
        """
        future = self._loop.create_future()
        msg_id, data = self._session.send_request(method, params, future)
        self.sent += 1
        if timeout:
            (self._deadlines if self._deadlines is not None else self._new_deadlines()).add(msg_id, timeout)
        if self.trace:
            logger.debug("> %s", data[:1000])
        if not self._send(data, msg_id):
            self._session.forget(msg_id)
            raise LocalProtocolError(f"cannot send {method}: the connection is closed")
        return msg_id, future

    def open(self, method: str, params: dict | None, meta: dict | None = None) -> tuple[Any, asyncio.Future]:
        """Send a request without a timeout and return ``(id, future)`` at once (for a
        long-lived request such as ``subscriptions/listen``, whose id names it)."""
        future = self._loop.create_future()
        if meta is None:
            msg_id, data = self._session.send_request(method, params, future)
        else:
            msg_id, data = self._session.send_request(method, params, future, meta=meta)  # type: ignore[call-arg]
        self.sent += 1
        if self.trace:
            logger.debug("> %s", data[:1000])
        if not self._send(data, msg_id):
            self._session.forget(msg_id)
            future.set_exception(LocalProtocolError(f"cannot send {method}: the connection is closed"))
        return msg_id, future

    def answered(self, msg_id: Any, future: asyncio.Future, outcome: Any, failed: bool) -> None:
        """Deliver an answer after the notification callbacks queued before it, but never
        after its request's deadline.

        The order of delivery (an answer after the notifications that came before it) holds
        while the callbacks keep up; when they are so far behind that the request's timeout
        passes, the answer is delivered then, ahead of them: a timeout bounds the wait for
        the answer, and the answer is never lost.
        """
        if not self._dispatcher.busy and self._drained is None:
            if failed:
                self.reject(future, outcome)
            else:
                self.resolve(future, outcome)
            return
        if self._queued is None:
            self._queued = {}
        self._queued[msg_id] = (future, outcome, failed)
        self._dispatcher.then(self._deliver_queued, msg_id)

    def resolve(self, future: asyncio.Future, result: Any) -> None:
        """Deliver a result to its caller."""
        if not future.done():
            future.set_result(result)
        self._check_drained()

    def reject(self, future: asyncio.Future, error: BaseException) -> None:
        """Deliver an error (a RemoteError, RemoteProtocolError...) to its caller."""
        if not future.done():
            self.failed += 1
            self.last_error = str(error)
            future.set_exception(error)
        self._check_drained()

    def progress(self, event: ProgressReceived) -> None:
        """Handle a checked ``notifications/progress`` for one of our requests."""
        entry = self._progress.get(event.request_id) if self._progress else None
        if entry is None:
            return
        if entry.timeout is not None and entry.timer is not None:
            # basic/lifecycle "Timeouts": the timeout restarts, never beyond the maximum.
            remaining = entry.limit - self._loop.time()
            if remaining > 0:
                entry.timer.cancel()
                entry.timer = self._loop.call_later(min(entry.timeout, remaining), self._expire_one,
                                                    event.request_id, entry.timeout)
        self._dispatcher.deliver(entry.callback, (event.progress, event.total, event.message))

    def end(self, msg_id: Any, future: asyncio.Future, error: BaseException) -> None:
        """End one pending request with ``error``, and cancel it at the peer."""
        if self._session.pending_token(msg_id) is future:
            self.abandon(msg_id, str(error))
        self.reject(future, error)

    def abandon(self, msg_id: Any, reason: str) -> None:
        """Forget a request and, if the peer saw it, tell it (basic/utilities/cancellation)."""
        if self._discard(msg_id):
            self._session.forget(msg_id)  # never written: nothing to cancel
        else:
            data = self._session.cancel(msg_id, reason)
            if data is not None:
                self._send(data, None)
        self._check_drained()

    def fail_all(self, make_error: Callable[[], BaseException]) -> None:
        """Fail every pending request (the connection is gone or closing); the answers that
        wait behind notification callbacks are delivered now."""
        for _msg_id, _method, token in self._session.take_pending():
            if token is not None and not token.done():
                self.reject(token, make_error())
        for msg_id in list(self._queued or ()):
            self._deliver_queued(msg_id)
        if self._deadlines is not None:
            self._deadlines.clear()
        self._check_drained()

    async def drained(self, timeout: float | None) -> None:
        """Wait until no request is pending, at most ``timeout`` seconds."""
        if not self._session.pending_count:
            return
        self._drained = self._loop.create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._drained), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            self._drained = None

    # Private methods

    def _new_deadlines(self) -> Deadlines:
        session = self._session
        self._deadlines = Deadlines(self._loop, self._expire, self._waiting,
                                    lambda: session.pending_count + len(self._queued or ()))
        return self._deadlines

    def _waiting(self, msg_id: Any) -> bool:
        """Whether a request still waits: for its answer, or for its queued answer's delivery."""
        return self._session.is_pending(msg_id) or (self._queued is not None and msg_id in self._queued)

    def _deliver_queued(self, msg_id: Any) -> None:
        entry = self._queued.pop(msg_id, None) if self._queued else None
        if entry is None:
            return  # delivered already, at its deadline
        future, outcome, failed = entry
        if failed:
            self.reject(future, outcome)
        else:
            self.resolve(future, outcome)

    def _check_drained(self) -> None:
        drained = self._drained
        if drained is not None and not drained.done() and not self._session.pending_count:
            drained.set_result(None)

    def _expire_one(self, msg_id: Any, timeout: float) -> None:
        entry = self._progress.get(msg_id) if self._progress else None
        if entry is not None and entry.timeout is not None and self._loop.time() >= entry.limit - 0.001:
            self._expire([(msg_id, entry.total)], total=True)
        else:
            self._expire([(msg_id, timeout)])

    def _expire(self, expired: list[tuple[Any, float]], total: bool = False) -> None:
        """Fail the requests whose time is up; cancel the written ones in one write."""
        session = self._session
        cancels: list[bytes] = []
        for msg_id, timeout in expired:
            if self._queued and msg_id in self._queued:
                self._deliver_queued(msg_id)  # answered, but behind slow callbacks: now
                continue
            method = session.pending_method(msg_id)
            if method is None:
                continue
            future = session.forget(msg_id)
            self.timed_out += 1
            self.reject(future, RequestTimeout(method, timeout, total))
            if not self._discard(msg_id):
                cancels.append(self._cancellation(msg_id, f"timed out after {timeout:g} s"))
        if cancels:
            self._send(b"".join(cancels), None)
        self._check_drained()

    def _cancellation(self, msg_id: Any, reason: str) -> bytes:
        """Return ``notifications/cancelled`` for ``msg_id``, from a pre-encoded template."""
        suffixes = self._suffixes
        if suffixes is None:
            suffixes = self._suffixes = {}
        suffix = suffixes.get(reason)
        if suffix is None:
            import json

            suffix = b',"reason":' + json.dumps(reason).encode() + b"}}\n"
            if len(suffixes) < 64:
                suffixes[reason] = suffix
        key = str(msg_id).encode() if type(msg_id) is int else _json_string(msg_id)
        return _CANCEL_PREFIX + key + suffix


def _json_string(value: str) -> bytes:
    import json

    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


class Incoming:
    """The peer's requests on one connection: bounded concurrent handlers.

    Args:
        loop: the event loop.
        session: the connection's session.
        send: writes bytes (``send(data, None)``).
        handle: ``await handle(event)`` returns the result of a request.
        max_running: handlers running at once.
        describe: names the handler of a method, for log messages.
    """

    __slots__ = ("_loop", "_session", "_send", "_handle", "max_running", "_running", "_waiting", "_describe")

    def __init__(self, loop: asyncio.AbstractEventLoop, session: Endpoint, send: Send,
                 handle: Callable[[RequestReceived], Awaitable[Any]], max_running: int = DEFAULT_MAX_RUNNING,
                 describe: Callable[[str], str] | None = None) -> None:
        self._loop = loop
        self._session = session
        self._send = send
        self._handle = handle
        self.max_running = max_running
        self._running: dict[Any, asyncio.Task] = {}
        # Created on first use, as the dispatcher's queue: an empty deque is 624 bytes, a
        # third of the heap a held session adds, and most sessions never need either.
        self._waiting: collections.deque[RequestReceived] | None = None
        self._describe = describe or (lambda method: f"the handler of {method}")

    def rebind(self, session: Endpoint, send: Send) -> None:
        """Use a new connection (after a restart)."""
        self._session = session
        self._send = send

    @property
    def running(self) -> int:
        """Return how many handlers are running."""
        return len(self._running)

    def received(self, event: RequestReceived) -> None:
        """Start the handler of a request, or line it up behind the running ones."""
        if len(self._running) < self.max_running:
            self._start(event)
        else:
            if self._waiting is None:
                self._waiting = collections.deque()
            self._waiting.append(event)

    def cancelled(self, event: CancelRequested) -> None:
        """The peer cancelled a request: stop its handler (a waiting one never starts)."""
        task = self._running.get(event.request_id)
        if task is not None:
            task.cancel()

    async def idle(self, timeout: float | None) -> None:
        """Wait until no handler runs or waits, at most ``timeout`` seconds."""
        loop = self._loop
        deadline = None if timeout is None else loop.time() + timeout
        while self._running:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return
            await asyncio.wait(list(self._running.values()), timeout=remaining)

    async def finish(self) -> None:
        """Cancel every handler and wait for them to end."""
        self._waiting = None
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, event: RequestReceived) -> None:
        self._running[event.id] = self._loop.create_task(self._run(event))

    async def _run(self, event: RequestReceived) -> None:
        session = self._session
        send = self._send
        try:
            result = await self._handle(event)
        except asyncio.CancelledError:
            data = session.send_error(event.id, INTERNAL_ERROR, "cancelled")  # b"" if the peer cancelled it
            if data:
                send(data, None)
            raise
        except Exception as exc:
            if not isinstance(exc, RequestError):
                logger.error("%s raised while answering %s: %r", self._describe(event.method), event.method, exc)
            send(session.send_error(event.id, *jsonrpc_error(exc)), None)
        else:
            try:
                data = session.send_result(event.id, result)
            except LocalProtocolError as exc:
                logger.warning("%s returned an invalid result, not sent (the peer gets an error): %s",
                               self._describe(event.method), exc)
                data = session.send_error(event.id, INTERNAL_ERROR, f"the handler of {event.method} returned an "
                                          "invalid result")
            if data:
                send(data, None)
        finally:
            del self._running[event.id]
            while self._waiting and len(self._running) < self.max_running:  # type: ignore[union-attr]
                waiting = self._waiting.popleft()  # type: ignore[union-attr]
                if session.is_handling(waiting.id):  # not cancelled meanwhile
                    self._start(waiting)


class Dispatcher:
    """Delivers notification callbacks in order, from one task, with a bound.

    Args:
        loop: the event loop.
        max_queued: callbacks waiting at most; beyond, notifications are dropped.
    """

    __slots__ = ("_loop", "_queue", "_task", "_wakeup", "_idle", "max_queued", "dropped", "_warned")

    def __init__(self, loop: asyncio.AbstractEventLoop, max_queued: int = DEFAULT_MAX_QUEUED_NOTIFICATIONS) -> None:
        self._loop = loop
        self._queue: collections.deque[tuple[Any, tuple, bool]] | None = None  # made on first use
        self._task: asyncio.Task | None = None
        self._wakeup: asyncio.Future | None = None
        self._idle: asyncio.Future | None = None
        self.max_queued = max_queued
        self.dropped = 0
        self._warned = False

    @property
    def busy(self) -> bool:
        """Return whether callbacks are waiting or running (answers then queue behind them)."""
        return bool(self._queue) or (self._task is not None and self._wakeup is None)

    def deliver(self, callback: Any, args: tuple) -> None:
        """Run ``callback(*args)`` after everything queued before it (dropped when full)."""
        if not self.busy:
            # Nothing is behind: a plain callback runs now, a coroutine one starts the task.
            try:
                outcome = callback(*args)
            except Exception:
                logger.exception("notification callback %r raised", callback)
                return
            if outcome is not None and hasattr(outcome, "__await__"):
                self._enqueue(_await, (outcome,), True)
            return
        if len(self._queue) >= self.max_queued:  # type: ignore[arg-type]  # busy: the queue exists
            self.dropped += 1
            if not self._warned:
                self._warned = True
                logger.warning("notification callbacks are %d behind: dropping notifications "
                               "(max_queued_notifications)", len(self._queue))  # type: ignore[arg-type]
            return
        self._enqueue(callback, args, False)

    def then(self, function: Callable[..., None], *args: Any) -> None:
        """Run ``function(*args)`` after the callbacks queued now (never dropped)."""
        if not self.busy:
            function(*args)
            return
        self._enqueue(function, args, True)

    async def idle(self, timeout: float | None) -> bool:
        """Wait until every queued callback ran, at most ``timeout`` seconds; return whether
        it did."""
        if not self.busy:
            return True
        self._idle = self._loop.create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._idle), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._idle = None

    async def stop(self) -> None:
        """Drop what waits and stop the task."""
        if self._queue:
            self._queue.clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _enqueue(self, function: Callable[..., Any], args: tuple, internal: bool) -> None:
        if self._queue is None:
            self._queue = collections.deque()
        self._queue.append((function, args, internal))
        if self._task is None:
            self._task = self._loop.create_task(self._run())
        elif self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def _run(self) -> None:
        queue = self._queue
        assert queue is not None  # the task starts on the first _enqueue()
        while True:
            while queue:
                callback, args, internal = queue[0]
                try:
                    outcome = callback(*args)
                    if outcome is not None and hasattr(outcome, "__await__"):
                        await outcome
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("notification callback %r raised", callback)
                if queue:
                    queue.popleft()
            self._warned = False
            if self._idle is not None and not self._idle.done():
                self._idle.set_result(None)
            self._wakeup = self._loop.create_future()
            await self._wakeup
            self._wakeup = None


async def _await(awaitable: Awaitable[Any]) -> None:
    await awaitable
