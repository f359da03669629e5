"""The MCP session state machine: ids, pending requests, lifecycle (sans-I/O).

Theory of operation
-------------------
An :class:`Endpoint` is one side of a JSON-RPC connection without any I/O. The caller:

1. feeds bytes read from the peer to :meth:`Endpoint.receive_data` (and, at the end of the
   stream, calls :meth:`Endpoint.receive_eof`) and handles the events returned, in order;
2. writes the bytes returned by the ``send_*`` methods to the peer, in the order returned.

Events are the message objects of :mod:`mcp_stdio.jsonrpc` plus three of this module:

* :class:`~mcp_stdio.jsonrpc.Response` / :class:`~mcp_stdio.jsonrpc.ErrorResponse`: the answer
  to one of our pending requests, with ``method`` and ``token`` (whatever the caller passed to
  :meth:`Endpoint.send_request`, for example a future) filled in. The request is no longer
  pending.
* :class:`UnexpectedResponse`: an answer whose id is not pending: unknown, duplicate, of the
  wrong type (``"7"`` for ``7``) or arriving after we gave up on the request. The caller
  should log and drop it; it is never delivered to a waiter.
* :class:`~mcp_stdio.jsonrpc.InvalidMessage`: a line that was skipped. When it carries an id,
  the peer is owed an error response (:meth:`Endpoint.send_error`).
* :class:`~mcp_stdio.framing.Oversized`: a line over ``max_message_size`` was dropped.
* :class:`~mcp_stdio.jsonrpc.Request` / :class:`~mcp_stdio.jsonrpc.Notification` from the peer.

Ids: "The request ID MUST NOT have been previously used by the requestor within the same
session" (MCP 2025-11-25, basic/index "Requests"), so ids are integers counting up from 1 and
never reused.

:class:`ClientSession` adds the handshake-era lifecycle (MCP 2025-11-25, basic/lifecycle)::

    NEW --initialize()--> INITIALIZING --(InitializeResult)--> INITIALIZED
        --send_initialized()--> READY --close()--> CLOSING --closed()--> CLOSED

Rules enforced (raising :class:`~mcp_stdio.errors.LocalProtocolError` on violation):

* "The initialization phase MUST be the first interaction between client and server":
  nothing but ``initialize`` may be sent in NEW.
* "The client SHOULD NOT send requests other than pings before the server has responded to
  the initialize request": only ``ping`` may be sent in INITIALIZING.
* "If the client does not support the version in the server's response, it SHOULD
  disconnect": the answer is then reported as :class:`HandshakeFailed`.
* "The initialize request MUST NOT be cancelled by clients" (basic/utilities/cancellation):
  :meth:`ClientSession.cancel` refuses it.
"""

from __future__ import annotations

import enum


from . import jsonrpc
from .errors import LocalProtocolError, RemoteError, RemoteProtocolError, UnsupportedProtocolVersion
from .framing import DEFAULT_MAX_MESSAGE_SIZE, LineFramer, Oversized

TYPE_CHECKING = False  # typing is not imported at run time: the server must start fast
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "HANDSHAKE_VERSIONS",
    "LATEST_HANDSHAKE_VERSION",
    "State",
    "Endpoint",
    "ClientSession",
    "UnexpectedResponse",
    "HandshakeComplete",
    "HandshakeFailed",
    "negotiate_version",
]

# The handshake-era protocol versions this library speaks, newest first. MCP 2025-11-25,
# basic/lifecycle: the client "MUST send a protocol version it supports. This SHOULD be the
# latest version supported by the client."
HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
LATEST_HANDSHAKE_VERSION = HANDSHAKE_VERSIONS[0]

Request = jsonrpc.Request
Notification = jsonrpc.Notification
Response = jsonrpc.Response
ErrorResponse = jsonrpc.ErrorResponse
InvalidMessage = jsonrpc.InvalidMessage
Batch = jsonrpc.Batch


class State(enum.Enum):
    """Lifecycle states of a session; compare with ``is``."""

    NEW = "new"
    INITIALIZING = "initializing"
    INITIALIZED = "initialized"
    READY = "ready"
    CLOSING = "closing"
    CLOSED = "closed"


class UnexpectedResponse:
    """A response or error whose id matches no pending request.

    Attributes:
        message: the :class:`~mcp_stdio.jsonrpc.Response` or ``ErrorResponse``.
        reason: why it was not delivered.
    """

    __slots__ = ("message", "reason")

    def __init__(self, message: Response | ErrorResponse, reason: str) -> None:
        self.message = message
        self.reason = reason

    def __repr__(self) -> str:
        return f"UnexpectedResponse({self.message!r}, {self.reason!r})"


class HandshakeComplete:
    """The server accepted ``initialize``; the session is INITIALIZED.

    The caller must now call :meth:`ClientSession.send_initialized` and write its bytes.

    Attributes:
        result: the InitializeResult dict.
        token: the token given to :meth:`ClientSession.initialize`.
    """

    __slots__ = ("result", "token")

    def __init__(self, result: dict, token: Any) -> None:
        self.result = result
        self.token = token


class HandshakeFailed:
    """The handshake failed; the caller should stop the server.

    Attributes:
        error: the exception to raise (an ``UnsupportedProtocolVersion``, a
            ``RemoteError`` or a ``RemoteProtocolError``).
        token: the token given to :meth:`ClientSession.initialize`.
    """

    __slots__ = ("error", "token")

    def __init__(self, error: Exception, token: Any) -> None:
        self.error = error
        self.token = token


def negotiate_version(requested: object, supported: tuple[str, ...] = HANDSHAKE_VERSIONS) -> str:
    """Choose the version a server answers to ``initialize`` with.

    MCP 2025-11-25, basic/lifecycle "Version Negotiation": "If the server supports the
    requested protocol version, it MUST respond with the same version. Otherwise, the server
    MUST respond with another protocol version it supports. This SHOULD be the latest version
    supported by the server."
    """
    if requested in supported:
        return requested  # type: ignore[return-value]
    return supported[0]


class Endpoint:
    """One side of a JSON-RPC connection: framing, parsing, ids and pending requests.

    Args:
        max_message_size: the longest line accepted from the peer, in bytes; ``None``
            disables the limit.
    """

    __slots__ = ("_framer", "_next_id", "_pending")

    def __init__(self, max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self._framer = LineFramer(max_message_size)
        self._next_id = 1
        # id -> (method, token) for every request sent and not yet answered or forgotten.
        self._pending: dict[int | str, tuple[str, Any]] = {}

    # Public methods

    @property
    def pending_count(self) -> int:
        """Return how many requests await an answer."""
        return len(self._pending)

    def receive_data(self, data: bytes) -> list:
        """Feed bytes read from the peer; return the events they complete, in order."""
        return self._events(self._framer.feed(data))

    def receive_eof(self) -> list:
        """Signal the end of the peer's stream; return the events of a last unterminated line."""
        return self._events(self._framer.feed_eof())

    def send_request(self, method: str, params: dict | None = None, token: Any = None) -> tuple[int, bytes]:
        """Register a request and serialize it.

        Args:
            method: the method name.
            params: the params object, or ``None``.
            token: anything; it comes back on the answer's event (for example a future).

        Returns:
            ``(id, data)``: the new request id and the bytes to write.
        """
        msg_id = self._next_id
        data = jsonrpc.encode_request(msg_id, method, params)  # raises before we register
        self._next_id = msg_id + 1
        self._pending[msg_id] = (method, token)
        return msg_id, data

    def send_notification(self, method: str, params: dict | None = None) -> bytes:
        """Serialize a notification."""
        return jsonrpc.encode_notification(method, params)

    def send_result(self, msg_id: int | str, result: Any) -> bytes:
        """Serialize the successful answer to the peer's request ``msg_id``."""
        return jsonrpc.encode_result(msg_id, result)

    def send_error(self, msg_id: int | str | None, code: int, message: str, data: Any = None) -> bytes:
        """Serialize an error answer to the peer's request ``msg_id``."""
        return jsonrpc.encode_error(msg_id, code, message, data)

    def is_pending(self, msg_id: int | str) -> bool:
        """Return whether request ``msg_id`` still awaits its answer."""
        return msg_id in self._pending

    def pending_entry(self, msg_id: int | str) -> tuple[str, Any] | None:
        """Return ``(method, token)`` of a pending request, or ``None``."""
        return self._pending.get(msg_id)

    def forget(self, msg_id: int | str) -> tuple[str, Any] | None:
        """Stop waiting for the answer to ``msg_id``; a late answer becomes UnexpectedResponse.

        Returns:
            ``(method, token)`` if the request was pending, else ``None``.
        """
        return self._pending.pop(msg_id, None)

    def take_pending(self) -> list[tuple[int | str, str, Any]]:
        """Remove every pending request and return ``(id, method, token)`` for each.

        Call this when the connection is lost, to fail every waiter at once.
        """
        items = [(msg_id, method, token) for msg_id, (method, token) in self._pending.items()]
        self._pending.clear()
        return items

    # Private methods

    def _events(self, lines: list) -> list:
        events: list = []
        parse = jsonrpc.parse
        pending = self._pending
        lines.reverse()
        while lines:
            # Popped, not iterated: no reference to a (possibly huge) line outlives its
            # decoding, so its memory is freed before the JSON is parsed.
            if lines[-1].__class__ is Oversized:
                events.append(lines.pop())
                continue
            message = parse(lines.pop())
            kind = message.__class__
            if kind is Response:  # the hot path, inlined: an answer to a pending request
                entry = pending.pop(message.id, None)
                if entry is not None:
                    message.method, message.token = entry
                    events.append(self._answered(message))
                    continue
            if kind is Batch:
                for item in message.messages:
                    self._event(item, events)
            else:
                self._event(message, events)
        return events

    def _event(self, message: Any, events: list) -> None:
        kind = message.__class__
        if kind is Response or kind is ErrorResponse:
            entry = self._pending.pop(message.id, None) if message.id is not None else None
            if entry is None:
                events.append(UnexpectedResponse(message, self._why_unexpected(message.id)))
                return
            message.method, message.token = entry
            events.append(self._answered(message))
        else:
            events.append(message)

    def _answered(self, message: Response | ErrorResponse) -> Any:
        """Return the event for an answer to a pending request (subclasses refine it)."""
        return message

    def _why_unexpected(self, msg_id: Any) -> str:
        if msg_id is None:
            return "error response without an id"
        if type(msg_id) is str and msg_id.lstrip("-").isdigit() and int(msg_id) < self._next_id:
            return f"id {msg_id!r} is a string but our request ids are integers"
        if type(msg_id) is int and 0 < msg_id < self._next_id:
            return f"id {msg_id} is not pending (already answered, timed out or cancelled)"
        return f"id {msg_id!r} was never used by this side"


class ClientSession(Endpoint):
    """The client side of a handshake-era MCP session.

    Args:
        max_message_size: see :class:`Endpoint`.
        supported_versions: protocol versions accepted from the server, newest first; the
            first is proposed.
    """

    __slots__ = ("state", "supported_versions", "protocol_version", "initialize_result", "_initialize_id")

    def __init__(
        self,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        supported_versions: tuple[str, ...] = HANDSHAKE_VERSIONS,
    ) -> None:
        super().__init__(max_message_size)
        self.state = State.NEW
        self.supported_versions = tuple(supported_versions)
        self.protocol_version: str | None = None
        self.initialize_result: dict | None = None
        self._initialize_id: int | None = None

    def initialize(self, client_info: dict, capabilities: dict, token: Any = None) -> tuple[int, bytes]:
        """Start the handshake; return ``(id, data)`` of the ``initialize`` request.

        MCP 2025-11-25, basic/lifecycle: "the client MUST send a protocol version it
        supports. This SHOULD be the latest version supported by the client."
        """
        if self.state is not State.NEW:
            raise LocalProtocolError(f"initialize sent twice (session is {self.state.value})")
        params = {
            "protocolVersion": self.supported_versions[0],
            "capabilities": capabilities,
            "clientInfo": client_info,
        }
        msg_id, data = self.send_request("initialize", params, token)
        self._initialize_id = msg_id
        self.state = State.INITIALIZING
        return msg_id, data

    def send_initialized(self) -> bytes:
        """Finish the handshake; return the bytes of ``notifications/initialized``.

        MCP 2025-11-25, basic/lifecycle: "After successful initialization, the client MUST
        send an initialized notification to indicate it is ready to begin normal operations."
        """
        if self.state is not State.INITIALIZED:
            raise LocalProtocolError(f"cannot send notifications/initialized in state {self.state.value}")
        self.state = State.READY
        return self.send_notification("notifications/initialized")

    def send_request(self, method: str, params: dict | None = None, token: Any = None) -> tuple[int, bytes]:
        """Register and serialize a request, enforcing the lifecycle (see the module doc)."""
        state = self.state
        if state is not State.READY:
            if state is State.NEW and method not in ("initialize", "server/discover"):
                raise LocalProtocolError(f"cannot send {method} before initialize")
            if state is State.INITIALIZING and method != "ping" and self._initialize_id is not None:
                raise LocalProtocolError(f"cannot send {method} before the server answered initialize")
            if state is State.CLOSING or state is State.CLOSED:
                raise LocalProtocolError(f"cannot send {method}: the session is {state.value}")
        return super().send_request(method, params, token)

    def cancel(self, msg_id: int, reason: str | None = None) -> bytes | None:
        """Give up on request ``msg_id``; return the ``notifications/cancelled`` to write.

        MCP 2025-11-25, basic/utilities/cancellation: "The initialize request MUST NOT be
        cancelled by clients", and the sender "SHOULD ignore any response to the request
        that arrives afterward": the request is forgotten, so a late answer becomes an
        :class:`UnexpectedResponse`.

        Returns:
            The notification bytes, or ``None`` if the request was not pending (already
            answered) or is the initialize request (forgotten, but never cancelled).
        """
        entry = self.forget(msg_id)
        if entry is None or msg_id == self._initialize_id:
            return None
        params: dict = {"requestId": msg_id}
        if reason:
            params["reason"] = reason
        return self.send_notification("notifications/cancelled", params)

    def adopt_modern(self, version: str, facts: dict) -> None:
        """Enter READY for a 2026-07-28 session, which has no handshake.

        Args:
            version: the modern protocol version in use.
            facts: what ``server/discover`` said, shaped like an InitializeResult.
        """
        if self.state is not State.NEW:
            raise LocalProtocolError(f"cannot adopt the modern protocol in state {self.state.value}")
        self.protocol_version = version
        self.initialize_result = facts
        self.state = State.READY

    def close(self) -> None:
        """Enter CLOSING: no new requests may be sent."""
        if self.state is not State.CLOSED:
            self.state = State.CLOSING

    def closed(self) -> None:
        """Enter CLOSED: the connection is gone."""
        self.state = State.CLOSED

    def _answered(self, message: Response | ErrorResponse) -> Any:
        if message.id != self._initialize_id or self.state is not State.INITIALIZING:
            return message
        token = message.token
        if message.__class__ is ErrorResponse:
            return HandshakeFailed(RemoteError(message.code, message.message, message.data, "initialize"), token)
        result = message.result
        if type(result) is not dict:
            return HandshakeFailed(
                RemoteProtocolError(f"initialize result is not an object: {result!r:.200}"), token)
        version = result.get("protocolVersion")
        if version not in self.supported_versions:
            return HandshakeFailed(UnsupportedProtocolVersion(version, self.supported_versions), token)
        self.protocol_version = version
        self.initialize_result = result
        self.state = State.INITIALIZED
        return HandshakeComplete(result, token)
