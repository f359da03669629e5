"""The events a session returns from ``receive_data()`` (sans-I/O).

A session (:mod:`mcp_stdio.session`) turns bytes from the peer into these events, in the
order the messages arrived. Everything in an event has been checked at the boundary: the
JSON-RPC envelope by :mod:`mcp_stdio.jsonrpc`, the MCP shape of params and results by
:mod:`mcp_stdio.shapes` against the negotiated protocol version, the lifecycle by
:mod:`mcp_stdio.lifecycle`. The code that handles an event can trust its fields; an event
never needs a ``try``.

Answers to our own requests (:class:`ResultReceived`, :class:`ErrorReceived`,
:class:`AnswerRejected`) carry the ``token`` given to ``send_request`` (for example a
future) and the request's ``method``: the request has left the pending table, and the
event is the only place its outcome lives, so the caller must deliver every one of them.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Union

    from .errors import RemoteError, RemoteProtocolError, StartError

__all__ = [
    "Event",
    "RequestReceived",
    "NotificationReceived",
    "ResultReceived",
    "ErrorReceived",
    "AnswerRejected",
    "ProgressReceived",
    "CancelRequested",
    "UnexpectedAnswer",
    "MessageRejected",
    "MessageTooLong",
    "HandshakeComplete",
    "HandshakeFailed",
    "SendInitialize",
    "RestartForHandshake",
    "SessionStarted",
    "ClientInitialized",
    "AnyEvent",
]


class Event:
    """Base class of the session's events."""

    __slots__ = ()

    def __repr__(self) -> str:
        names: tuple[str, ...] = self.__slots__  # type: ignore[assignment]
        fields = ", ".join(f"{name}={getattr(self, name)!r:.80}" for name in names)
        return f"{type(self).__name__}({fields})"


class RequestReceived(Event):
    """The peer sent a request that this side must answer (``send_result``/``send_error``).

    Its params have the shape that ``version`` (the negotiated version, or the 2026-07-28
    request's own) gives ``method``; ``params`` is a dict (empty when the peer sent none).
    ``version`` is ``None`` only for a request that came before any version was known.
    """

    __slots__ = ("id", "method", "params", "version")

    def __init__(self, id: int | str, method: str, params: dict, version: str | None = None) -> None:
        self.id = id
        self.method = method
        self.params = params
        self.version = version


class NotificationReceived(Event):
    """The peer sent a notification; ``params`` has the shape of its method (a dict)."""

    __slots__ = ("method", "params")

    def __init__(self, method: str, params: dict) -> None:
        self.method = method
        self.params = params


class ResultReceived(Event):
    """One of our requests was answered with a result of the right shape."""

    __slots__ = ("id", "method", "result", "token")

    def __init__(self, id: int | str, method: str, result: Any, token: Any) -> None:
        self.id = id
        self.method = method
        self.result = result
        self.token = token


class ErrorReceived(Event):
    """One of our requests was answered with a JSON-RPC error (``error`` is ready to raise)."""

    __slots__ = ("id", "method", "error", "token")

    def __init__(self, id: int | str, method: str, error: RemoteError, token: Any) -> None:
        self.id = id
        self.method = method
        self.error = error
        self.token = token


class AnswerRejected(Event):
    """One of our requests got an answer that breaks the protocol (malformed envelope, or a
    result of the wrong shape); ``error`` says what is wrong and is ready to raise."""

    __slots__ = ("id", "method", "error", "token")

    def __init__(self, id: int | str, method: str, error: RemoteProtocolError, token: Any) -> None:
        self.id = id
        self.method = method
        self.error = error
        self.token = token


class ProgressReceived(Event):
    """``notifications/progress`` for one of our pending requests, checked: the token is
    ours, ``progress`` is a number that increased since the last one."""

    __slots__ = ("request_id", "progress", "total", "message", "token")

    def __init__(self, request_id: int | str, progress: float, total: float | None, message: str | None,
                 token: Any) -> None:
        self.request_id = request_id
        self.progress = progress
        self.total = total
        self.message = message
        self.token = token


class CancelRequested(Event):
    """The peer cancelled a request of its own that this side is still handling."""

    __slots__ = ("request_id", "reason")

    def __init__(self, request_id: int | str, reason: str | None) -> None:
        self.request_id = request_id
        self.reason = reason


class UnexpectedAnswer(Event):
    """An answer whose id is not pending (unknown, duplicate, of the wrong type, or late
    after a timeout or a cancellation). Log it and drop it."""

    __slots__ = ("id", "reason")

    def __init__(self, id: int | str | None, reason: str) -> None:
        self.id = id
        self.reason = reason


class MessageRejected(Event):
    """A message was refused and skipped: not JSON-RPC, or of the wrong shape for its
    method, or not allowed in this state. Any answer the peer is owed (an error for a
    request) is already in ``data_to_send()``. Log it and count it."""

    __slots__ = ("reason", "excerpt")

    def __init__(self, reason: str, excerpt: str) -> None:
        self.reason = reason
        self.excerpt = excerpt


class MessageTooLong(Event):
    """The peer wrote a line over ``max_message_size``; it was dropped. The connection
    cannot go on (that line may have been any answer): close it."""

    __slots__ = ("size", "limit")

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit


class HandshakeComplete(Event):
    """The client session is ready: ``era`` is ``"handshake"`` (``initialize`` answered;
    ``notifications/initialized`` is in ``data_to_send()``) or ``"modern"`` (a
    ``server/discover`` result chose 2026-07-28). ``result`` is what the server said about
    itself, shaped like an InitializeResult in both eras."""

    __slots__ = ("era", "version", "result")

    def __init__(self, era: str, version: str, result: dict) -> None:
        self.era = era
        self.version = version
        self.result = result


class HandshakeFailed(Event):
    """The client session cannot start; ``error`` is ready to raise."""

    __slots__ = ("error",)

    def __init__(self, error: StartError) -> None:
        self.error = error


class SendInitialize(Event):
    """The era probe fell back to the handshake: ``initialize`` is in ``data_to_send()``."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class RestartForHandshake(Event):
    """The server ended its output during the era probe: a legacy server that exits on an
    unknown first request. Start it again and use the handshake only."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class SessionStarted(Event):
    """The server session answered ``initialize``: the negotiated ``version`` and what the
    client said about itself (``notifications/initialized`` follows)."""

    __slots__ = ("version", "client_info", "client_capabilities")

    def __init__(self, version: str, client_info: dict, client_capabilities: dict) -> None:
        self.version = version
        self.client_info = client_info
        self.client_capabilities = client_capabilities


class ClientInitialized(Event):
    """The server session got ``notifications/initialized``: the client is ready."""

    __slots__ = ()


if TYPE_CHECKING:
    AnyEvent = Union[RequestReceived, NotificationReceived, ResultReceived, ErrorReceived, AnswerRejected,
                     ProgressReceived, CancelRequested, UnexpectedAnswer, MessageRejected, MessageTooLong,
                     HandshakeComplete, HandshakeFailed, SendInitialize, RestartForHandshake, SessionStarted,
                     ClientInitialized]
else:
    AnyEvent = Event  # the union, for type checkers; the base class at run time
