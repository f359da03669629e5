"""The server's connection: stdin and stdout through asyncio, on a ServerSession.

Theory of operation
-------------------
:func:`serve` runs one :class:`Connection` until the client closes stdin. The connection
is the server's twin of :class:`mcp_stdio.Client`: bytes from stdin go to the
:class:`~mcp_stdio.server_session.ServerSession`, whose checked events go one way each:

* requests: :class:`~mcp_stdio.calls.Incoming` runs ``Server.handle`` for each, at most
  ``max_concurrent_requests`` at once (``subscriptions/listen`` only registers a stream);
* ``notifications/cancelled``: the request's task is cancelled (no answer is sent);
* answers to the server's own requests (sampling, elicitation, roots in the handshake
  era): :class:`~mcp_stdio.calls.Calls` resolves them; each has a timeout and ends with
  the request that made it, so one unanswered request never blocks the others.

Everything written goes through one :class:`~mcp_stdio.outbound.Outbound` on stdout: a
client that stops reading makes the answers wait in a bounded queue. At the end of input,
the requests still running get ``SHUTDOWN_GRACE`` seconds to finish and be answered, then
the server exits. Nothing else ever writes to stdout: MCP basic/transports, stdio: "The
server MUST NOT write anything to its stdout that is not a valid MCP message."
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

from ..calls import Calls, Dispatcher, Incoming
from ..errors import ConnectionClosed
from ..events import (
    AnswerRejected,
    CancelRequested,
    ErrorReceived,
    MessageRejected,
    MessageTooLong,
    NotificationReceived,
    ProgressReceived,
    RequestReceived,
    ResultReceived,
    SessionStarted,
    UnexpectedAnswer,
)
from ..outbound import DEFAULT_QUEUE_SIZE, Outbound
from ..server_session import ServerSession

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Coroutine

    from . import Server

__all__ = ["Connection", "serve", "SHUTDOWN_GRACE"]

logger = logging.getLogger("mcp_stdio.server")

# Seconds the requests still running at the end of input get to finish and be answered.
SHUTDOWN_GRACE = 2.0
# Read size: the same as asyncio's pipe transports use.
READ_SIZE = 256 * 1024
# Notifications (progress, logging) waiting on a full stdout at most: a tool that reports
# progress in a loop while the client reads nothing must not grow memory without bound.
MAX_NOTIFICATION_BACKLOG = 10 * DEFAULT_QUEUE_SIZE


def serve(server: Server, stdin_fd: int = 0, stdout_fd: int = 1) -> None:
    """Serve ``server`` on the given file descriptors until end of input."""
    try:
        asyncio.run(Connection(server).run(stdin_fd, stdout_fd))
    except BrokenPipeError:  # pragma: no cover - the client went away while we flushed
        pass
    finally:
        _write_stats(server)


class _Reader(asyncio.Protocol):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def data_received(self, data: bytes) -> None:
        self._connection.outbound.peer_spoke()
        self._connection.received(data)

    def eof_received(self) -> bool:
        self._connection.ended()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._connection.ended()


class _Writer(asyncio.BaseProtocol):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def pause_writing(self) -> None:
        self._connection.outbound.pause()

    def resume_writing(self) -> None:
        self._connection.outbound.resume()

    def connection_lost(self, exc: Exception | None) -> None:
        self._connection.outbound.close()
        self._connection.ended()


class _FileWriter:
    """Stands in for a pipe transport when stdout is a regular file (never full)."""

    def __init__(self, file: Any) -> None:
        self._file = file

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._file.fileno(), view):]

    def close(self) -> None:
        self._file.close()


class Connection:
    """One client on stdin and stdout.

    Args:
        server: the server that answers.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.session = ServerSession(server.server_info, server.capabilities, instructions=server.instructions,
                                     discover_hints={"ttlMs": server.cache_ttl_ms, "cacheScope": "public"},
                                     max_message_size=server.max_message_size)
        self.outbound = Outbound(DEFAULT_QUEUE_SIZE)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.get_ident()
        self._calls: Calls | None = None
        self._incoming: Incoming | None = None
        self._ended: asyncio.Future | None = None
        self._tasks: dict[str, asyncio.Task] = {}
        self._task_waiters: dict[str, asyncio.Future] = {}
        self.notifications_dropped = 0

    # Public methods

    async def run(self, stdin_fd: int = 0, stdout_fd: int = 1) -> None:
        """Serve until the client closes stdin, then finish what runs and return."""
        loop = self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._ended = loop.create_future()
        dispatcher = Dispatcher(loop)
        self._calls = Calls(loop, self.session, self.outbound.send, self.outbound.discard, dispatcher)
        self._incoming = Incoming(loop, self.session, self.outbound.send, self._handle,
                                  self.server.max_concurrent_requests, lambda method: f"the {method} handler")
        self.server._connection = self
        writer = await self._open_writer(stdout_fd)
        reader = await self._open_reader(stdin_fd)
        try:
            await self._ended
            self._calls.fail_all(lambda: ConnectionClosed("the client closed the connection"))
            await self._incoming.idle(SHUTDOWN_GRACE)
            await self._incoming.finish()
            for task in list(self._tasks.values()):
                task.cancel()
            try:
                await asyncio.wait_for(self.outbound.drain(), SHUTDOWN_GRACE)
            except asyncio.TimeoutError:
                logger.warning("answers not written within %s s: the client reads no more", SHUTDOWN_GRACE)
        finally:
            self.server._connection = None
            if reader is not None:
                reader.close()
            writer.close()
            await dispatcher.stop()

    def received(self, data: bytes) -> None:
        """Handle bytes from stdin."""
        self._on_events(self.session.receive_data(data))

    def ended(self) -> None:
        """The input ended (or stdout broke): finish and exit."""
        if self._ended is not None and not self._ended.done():
            self._on_events(self.session.receive_eof())
            self._ended.set_result(None)

    def notify_threadsafe(self, method: str, params: dict | None = None) -> None:
        """Send a notification, from the loop or from a worker thread."""
        if threading.get_ident() == self._thread:
            self._notify(method, params)
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._notify, method, params)

    async def request(self, method: str, params: dict | None = None) -> Any:
        """Send a request to the client and return its result (handshake era).

        It has the server's ``request_timeout`` and is cancelled with the request that
        made it (the awaiting task).

        Raises:
            RemoteError: the client answered with an error.
            RequestTimeout: no answer in time.
            ConnectionClosed: the client is gone.
        """
        assert self._calls is not None
        return await self._calls.call(method, params, self.server.request_timeout)

    def start_task(self, task_id: str, work: Coroutine[Any, Any, None]) -> None:
        """Run the work of a task (2025-11-25) in the background."""
        self._tasks[task_id] = self._loop.create_task(work)  # type: ignore[union-attr]

    def task_settled(self, task_id: str) -> None:
        """A task reached a terminal state: wake its ``tasks/result`` waiters."""
        self._tasks.pop(task_id, None)
        waiter = self._task_waiters.pop(task_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def task_done(self, task_id: str) -> None:
        """Wait until a task is terminal."""
        if task_id not in self._tasks:
            return
        waiter = self._task_waiters.get(task_id)
        if waiter is None:
            waiter = self._task_waiters[task_id] = self._loop.create_future()  # type: ignore[union-attr]
        await asyncio.shield(waiter)

    def cancel_task(self, task_id: str) -> None:
        """Stop the work of a cancelled task."""
        task = self._tasks.get(task_id)
        if task is not None:
            task.cancel()

    # Private methods

    async def _open_writer(self, fd: int) -> Any:
        loop = self._loop
        assert loop is not None
        pipe = os.fdopen(os.dup(fd), "wb", buffering=0)
        transport: Any
        try:
            transport, _ = await loop.connect_write_pipe(lambda: _Writer(self), pipe)
        except ValueError:  # a regular file: writes never wait
            transport = _FileWriter(pipe)
        self.outbound.attach(transport)
        return transport

    async def _open_reader(self, fd: int) -> Any:
        loop = self._loop
        assert loop is not None
        pipe = os.fdopen(os.dup(fd), "rb", buffering=0)
        try:
            transport, _ = await loop.connect_read_pipe(lambda: _Reader(self), pipe)
            return transport
        except ValueError:  # a regular file: read it in a thread
            loop.create_task(self._read_file(pipe))
            return None

    async def _read_file(self, pipe: Any) -> None:
        loop = asyncio.get_running_loop()
        with pipe:
            while True:
                data = await loop.run_in_executor(None, os.read, pipe.fileno(), READ_SIZE)
                if not data:
                    break
                self.received(data)
        self.ended()

    def _notify(self, method: str, params: dict | None) -> None:
        if self.outbound.backlog >= MAX_NOTIFICATION_BACKLOG:
            self.notifications_dropped += 1  # the client reads nothing: progress and logs can wait
            return
        self.outbound.send(self.session.send_notification(method, params))

    def _on_events(self, events: list) -> None:
        stats = self.server.stats
        for event in events:
            kind = event.__class__
            try:
                if kind is RequestReceived:
                    stats["requests"] += 1
                    if event.method == "subscriptions/listen":
                        self.server.open_listener(self, event)
                    else:
                        self._incoming.received(event)  # type: ignore[union-attr]
                elif kind is ResultReceived:
                    self._calls.resolve(event.token, event.result)  # type: ignore[union-attr]
                elif kind is ErrorReceived or kind is AnswerRejected:
                    self._calls.reject(event.token, event.error)  # type: ignore[union-attr]
                elif kind is CancelRequested:
                    self._incoming.cancelled(event)  # type: ignore[union-attr]
                    if event.request_id in self.server._listeners:
                        self.server.cancelled(event)
                        self.session.forget_incoming(event.request_id)  # a stream: no answer is sent
                elif kind is SessionStarted:
                    stats["initialize"] += 1
                elif kind is NotificationReceived:
                    stats["notifications"] += 1
                elif kind is MessageRejected:
                    stats["invalid"] += 1
                    logger.warning("skipped a message: %s: %r", event.reason, event.excerpt)  # type: ignore[attr-defined]
                elif kind is MessageTooLong:
                    stats["invalid"] += 1
                    logger.warning("skipped a message: %r", event)
                elif kind is UnexpectedAnswer:
                    logger.warning("ignored an answer: %s", event.reason)
                elif kind is ProgressReceived:
                    pass  # the server asks for no progress
            except Exception:  # a bug of ours must not lose the events after it
                logger.exception("handling %r failed", event)
        out = self.session.data_to_send()
        if out:
            self.outbound.send(out)

    async def _handle(self, event: RequestReceived) -> Any:
        return await self.server.handle(self, event)


def _write_stats(server: Server) -> None:
    path = os.environ.get("MCP_STDIO_SERVER_STATS")
    if not path:
        return
    import json

    line = json.dumps(dict(server.stats, pid=os.getpid())) + "\n"
    # O_APPEND writes of one short line are atomic, so concurrent servers can share a file.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)

