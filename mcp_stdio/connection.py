"""One server process of a client: its transport, its session, the way from bytes to callers.

A :class:`Connection` lives as long as one child process. :class:`mcp_stdio.Client` makes
one to start, and a new one for each restart (and for the respawn of a legacy server that
exits on the era probe). A message goes one way: the transport feeds stdout's bytes to the
:class:`~mcp_stdio.client_session.ClientSession`, the session returns checked events, and
:meth:`Connection._on_events` hands each to the object whose job it is:

* answers to our requests: :class:`~mcp_stdio.calls.Calls` resolves the caller's future
  (behind the notification callbacks that came first, when they are busy);
* notifications: the client (callbacks, subscriptions, cached results);
* requests of the server: :class:`~mcp_stdio.calls.Incoming` runs the user's callbacks, a
  bounded number at once; task-augmented ones go to
  :class:`~mcp_stdio.client_tasks.ClientTasks`;
* the outcome of the start (:class:`~mcp_stdio.events.HandshakeComplete` and friends),
  which resolves :meth:`Connection.open`.

When the process exits, closes a pipe, or writes a line over ``max_message_size``, the
connection ends: :meth:`Connection._end` tells the client once, with the error that names
the exit status and the stderr tail.
"""

from __future__ import annotations

import asyncio
import logging

from . import lifecycle
from .callbacks import CALLBACK_NAMES
from .client_session import ClientSession
from .errors import ConnectionClosed, MessageTooLarge, ServerExited, StartError, describe_returncode
from .events import (
    AnswerRejected,
    CancelRequested,
    ErrorReceived,
    HandshakeComplete,
    HandshakeFailed,
    MessageRejected,
    MessageTooLong,
    NotificationReceived,
    ProgressReceived,
    RequestReceived,
    RestartForHandshake,
    ResultReceived,
    SendInitialize,
    UnexpectedAnswer,
)
from .lifecycle import State

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from .client import Client
    from .events import AnyEvent

__all__ = ["Connection"]

logger = logging.getLogger("mcp_stdio.client")


class Connection:
    """One child process of a client, and the session on it.

    Args:
        client: the client it belongs to (options, callbacks, request machinery).
        session: the session to run on the process (a new one, not started).
    """

    __slots__ = ("client", "session", "transport", "error", "_startup", "_probe_timer", "_tasks")

    def __init__(self, client: Client, session: ClientSession) -> None:
        self.client = client
        self.session = session
        self.transport: Any = client._transport_class(
            client.command, self._on_data, self._on_lost, env=client._env, inherit_env=client._inherit_env,
            cwd=client._cwd, on_stderr=client._stderr_callback, stderr_tail_lines=client._stderr_tail_lines,
            queue_size=client.queue_size)
        self.error: ConnectionClosed | None = None  # why it ended, once it did
        self._startup: asyncio.Future | None = None
        self._probe_timer: asyncio.TimerHandle | None = None
        self._tasks: Any = None  # tasks the server started on this client (2025-11-25)

    @property
    def stderr_tail(self) -> tuple[str, ...]:
        """Return the last lines the server wrote on stderr."""
        return self.transport.stderr_tail  # type: ignore[no-any-return]

    def waiting_for(self) -> str:
        """Return what the start waits for (for messages)."""
        return "initialize" if self.session.state is State.INITIALIZING else "server/discover"

    async def open(self) -> str:
        """Spawn the process and start the session; return "ready" or "respawn".

        Raises:
            SpawnError: the command cannot be run.
            StartError: the start failed (refused, malformed, the process ended...).
        """
        client, session, transport = self.client, self.session, self.transport
        loop = asyncio.get_running_loop()
        self._startup = startup = loop.create_future()
        await transport.start()
        if transport.connected:
            first = session.start()
            if client._trace:
                logger.debug("> %s", first[:1000])
            transport.send(first)
        if not transport.connected:
            self._start_failed_on_end()  # gone already: nothing would answer or fail the start
        elif session.probe is lifecycle.Probe.DISCOVERING:
            self._probe_timer = loop.call_later(client.probe_timeout, self._on_probe_timeout)
        try:
            return await asyncio.shield(startup)  # type: ignore[no-any-return]
        finally:
            if not startup.done():
                startup.cancel()  # our caller was cancelled: a later outcome has nobody to read it
            if self._probe_timer is not None:
                self._probe_timer.cancel()
                self._probe_timer = None

    async def stop(self, flush_timeout: float | None) -> None:
        """Stop the process within the client's close bounds."""
        client = self.client
        await self.transport.stop(flush_timeout, client.exit_timeout, client.terminate_timeout)

    # Private methods: the start

    def _on_probe_timeout(self) -> None:
        self._probe_timer = None
        self._on_events(self.session.probe_timed_out())

    def _start_failed_on_end(self) -> None:
        startup = self._startup
        if startup is None or startup.done():
            return
        error = self.error or ConnectionClosed("server closed the connection", self.transport.returncode,
                                               self.stderr_tail)
        end = describe_returncode(error.returncode) if isinstance(error, ServerExited) else error.reason
        client = self.client
        failure = StartError(f"server {client.command[0]!r} {end} before answering {self.waiting_for()}",
                             error.returncode, error.stderr_tail, client._era_tried())
        failure.__cause__ = error
        startup.set_exception(failure)

    def _on_started(self, event: HandshakeComplete | RestartForHandshake | SendInitialize) -> None:
        startup = self._startup
        if isinstance(event, SendInitialize):
            logger.debug("%s: %s", self.client.command[0], event.reason)
        elif startup is not None and not startup.done():
            startup.set_result("ready" if isinstance(event, HandshakeComplete) else "respawn")

    def _on_start_failed(self, event: HandshakeFailed) -> None:
        startup, error = self._startup, event.error
        if startup is None or startup.done():
            return
        if self.error is not None:
            self._start_failed_on_end()  # the end of the connection says more (its exit status)
            return
        if type(error) is StartError:
            client = self.client
            wrapped = StartError(f"server {client.command[0]!r} {error}", self.transport.returncode,
                                 self.stderr_tail, client._era_tried())
            wrapped.__cause__ = error.__cause__
            error = wrapped
        startup.set_exception(error)

    # Private methods: the way from bytes to callers

    def _on_data(self, data: bytes) -> None:
        if self.client._trace:
            logger.debug("< %s", data[:1000])
        self._on_events(self.session.receive_data(data))

    def _on_events(self, events: list[AnyEvent]) -> None:
        client = self.client
        calls, dispatcher = client._calls, client._dispatcher
        for event in events:
            kind = event.__class__
            try:
                if kind is ResultReceived:
                    answer: ResultReceived = event  # type: ignore[assignment]
                    if dispatcher.busy or calls._drained is not None:  # type: ignore[union-attr]
                        calls.answered(answer.id, answer.token, answer.result, False)  # type: ignore[union-attr]
                    else:
                        future = answer.token
                        if not future.done():
                            future.set_result(answer.result)
                else:
                    _EVENTS[kind](self, event)
            except Exception:  # a bug of ours must not lose the events after it
                logger.exception("handling %r failed", event)
        session = self.session
        out = session.data_to_send() if session._out else None
        if out:
            if client._trace:
                logger.debug("> %s", out[:1000])
            self.transport.send(out)

    def _on_failed_answer(self, event: ErrorReceived | AnswerRejected) -> None:
        client = self.client
        client._calls.answered(event.id, event.token, event.error, True)  # type: ignore[union-attr]

    def _on_progress(self, event: ProgressReceived) -> None:
        self.client._calls.progress(event)  # type: ignore[union-attr]

    def _on_notification(self, event: NotificationReceived) -> None:
        self.client._notification(event.method, event.params)

    def _on_request(self, event: RequestReceived) -> None:
        from .client_tasks import TASK_REQUESTS, ClientTasks

        if event.method in TASK_REQUESTS or (event.method in ClientTasks.METHODS and "task" in event.params):
            if self._tasks is None:
                self._tasks = ClientTasks(self, self.client._spawn)
            self._tasks.received(event)
            return
        self.client._server_requests().received(event)

    def _on_cancel(self, event: CancelRequested) -> None:
        incoming = self.client._incoming
        if incoming is not None:  # else no request of the server was ever handled here
            incoming.cancelled(event)

    def _on_unexpected(self, event: UnexpectedAnswer) -> None:
        self.client.unexpected_responses += 1
        logger.warning("! %s: ignored an answer (%s)", self.client.command[0], event.reason)

    def _on_rejected(self, event: MessageRejected) -> None:
        self.client.invalid_messages += 1
        logger.warning("! %s: skipped a message that is not valid: %s: %r", self.client.command[0], event.reason,
                       event.excerpt)

    def _on_too_long(self, event: MessageTooLong) -> None:
        self._end(MessageTooLarge(event.size, event.limit, None, self.stderr_tail))

    def _on_lost(self, returncode: int | None, reason: str | None) -> None:
        tail = self.stderr_tail
        error = ServerExited(returncode, tail) if returncode is not None else ConnectionClosed(
            reason or "server closed its stdout", None, tail)
        if self.error is None:
            self.error = error
        self._on_events(self.session.receive_eof())  # a last line without a newline
        self._end(error)

    def _end(self, error: ConnectionClosed) -> None:
        """The connection is over: fail the start if it was starting, and tell the client."""
        if self.error is None:
            self.error = error
        was_ready = self.session.state is State.READY
        if self.session.state is not State.CLOSED:
            self.session.close()
        self._start_failed_on_end()
        self.client._connection_ended(self, self.error, was_ready)


def _handler_name(method: str) -> str:
    return CALLBACK_NAMES.get(method, f"the handler of {method}")


_EVENTS: dict[type, Callable[[Connection, Any], None]] = {
    ErrorReceived: Connection._on_failed_answer,
    AnswerRejected: Connection._on_failed_answer,
    ProgressReceived: Connection._on_progress,
    NotificationReceived: Connection._on_notification,
    RequestReceived: Connection._on_request,
    CancelRequested: Connection._on_cancel,
    UnexpectedAnswer: Connection._on_unexpected,
    MessageRejected: Connection._on_rejected,
    MessageTooLong: Connection._on_too_long,
    HandshakeComplete: Connection._on_started,
    RestartForHandshake: Connection._on_started,
    SendInitialize: Connection._on_started,
    HandshakeFailed: Connection._on_start_failed,
}
