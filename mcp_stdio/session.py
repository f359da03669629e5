"""The MCP session of each role: ids, pending requests, lifecycle, both eras (sans-I/O).

Theory of operation
-------------------
A session is one side of an MCP connection without any I/O, in the manner of h11 and
websockets. Its caller:

1. feeds bytes read from the peer to :meth:`Endpoint.receive_data` (and, at the end of the
   stream, calls :meth:`Endpoint.receive_eof`), and handles every event returned, in order
   (:mod:`mcp_stdio.events`);
2. writes the bytes returned by the ``send_*`` methods, and after each ``receive_*`` call
   whatever :meth:`Endpoint.data_to_send` returns (answers the session gives by itself:
   ``ping``, errors for invalid or refused requests, the handshake's next step), in the
   order it gets them.

Every message is checked here, once, before any other code sees it: the JSON-RPC envelope
(:mod:`mcp_stdio.jsonrpc`), the lifecycle (:mod:`mcp_stdio.lifecycle`), and the shape of
params and results against the negotiated version's schema (:mod:`mcp_stdio.shapes`). A
request that fails is answered with the error the specification gives and never reaches
the caller; a notification that fails is reported as
:class:`~mcp_stdio.events.MessageRejected`; an answer that fails fails its request
(:class:`~mcp_stdio.events.AnswerRejected`), at once. Nothing a peer sends can raise here.

Ids: "The request ID MUST NOT have been previously used by the requestor within the same
session" (MCP 2025-11-25, basic/index "Requests"), so ids are integers counting up from 1
and never reused; a request of the peer whose id is still being handled is refused.

Bookkeeping is bounded: the peer's requests being handled are at most ``max_incoming``
(more are refused with an error), cancellations of unknown ids are not kept, and the
pending table holds only what this side sent.

:class:`ClientSession` runs the handshake era's lifecycle and the era probe of
:data:`mcp_stdio.lifecycle.PROBE`; :class:`ServerSession` enforces the lifecycle from the
server's side and answers ``initialize`` and ``server/discover`` itself.
"""

from __future__ import annotations

from . import jsonrpc, shapes
from .errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    LocalProtocolError,
    RemoteError,
    RemoteProtocolError,
)
from .events import (
    AnswerRejected,
    CancelRequested,
    ErrorReceived,
    MessageRejected,
    MessageTooLong,
    NotificationReceived,
    ProgressReceived,
    RequestReceived,
    ResultReceived,
    UnexpectedAnswer,
)
from .framing import DEFAULT_MAX_MESSAGE_SIZE, LineFramer, Oversized
from .lifecycle import HANDSHAKE_VERSIONS, MODERN_VERSIONS, State

TYPE_CHECKING = False  # typing is not imported at run time: the server must start fast
if TYPE_CHECKING:
    from typing import Any, Callable

    from .events import AnyEvent

__all__ = ["DEFAULT_MAX_INCOMING", "Endpoint"]

# The empty set of ids an idle session shares (a set of its own costs 216 bytes).
NO_IDS: frozenset = frozenset()

# Requests of the peer handled at once, beyond which new ones are refused with an error: a
# peer that floods must not make this side's memory grow without bound.
DEFAULT_MAX_INCOMING = 1024

Request = jsonrpc.Request
Notification = jsonrpc.Notification
Response = jsonrpc.Response
ErrorResponse = jsonrpc.ErrorResponse
Batch = jsonrpc.Batch
InvalidMessage = jsonrpc.InvalidMessage

_PEER = {"client": "server", "server": "client"}
_KNOWN_METHODS: set[str] = set()  # every method of every version, filled on first use


def _known_anywhere(method: str) -> bool:
    if not _KNOWN_METHODS:
        for version in shapes.VERSIONS:
            _KNOWN_METHODS.update(shapes.methods(version))
    return method in _KNOWN_METHODS


class Endpoint:
    """One side of an MCP connection: framing, parsing, checks, ids, pending and incoming.

    Args:
        max_message_size: the longest line accepted from the peer, in bytes; ``None``
            disables the limit.
        max_incoming: the peer's requests handled at once; more are refused.
    """

    role = "endpoint"  # "client" or "server" in the subclasses

    __slots__ = ("_framer", "_next_id", "_pending", "_progress", "_incoming", "_out", "state", "version",
                 "max_incoming", "_special")

    def __init__(self, max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
                 max_incoming: int = DEFAULT_MAX_INCOMING) -> None:
        self._framer = LineFramer(max_message_size)
        self._next_id = 1
        # id -> (method, token, task) for every request sent and not yet answered or forgotten.
        self._pending: dict[int | str, tuple[str, Any, bool]] = {}
        # request id -> last progress value, for the requests sent with a progress token.
        self._progress: dict[int | str, float] = {}
        # peer's request id -> [method, version, cancelled, task] while this side handles it.
        self._incoming: dict[int | str, list] = {}
        self._out: list[bytes] = []
        # Ids of our requests whose answers a subclass handles itself (the era probe's); the
        # shared empty frozenset while there are none (an idle session holds no set).
        self._special: set | frozenset = NO_IDS
        self.state = State.NEW
        # The negotiated protocol version (None before it is known).
        self.version: str | None = None
        self.max_incoming = max_incoming

    # Public methods

    @property
    def pending_count(self) -> int:
        """Return how many of our requests await an answer."""
        return len(self._pending)

    @property
    def incoming_count(self) -> int:
        """Return how many of the peer's requests this side is handling."""
        return len(self._incoming)

    def receive_data(self, data: bytes) -> list[AnyEvent]:
        """Feed bytes read from the peer; return the events they complete, in order.

        Then write what :meth:`data_to_send` returns.
        """
        return self._events(self._framer.feed(data))

    def receive_eof(self) -> list[AnyEvent]:
        """Signal the end of the peer's stream; return the events of a last unterminated
        line (and, for a client during the era probe, what the end means)."""
        return self._events(self._framer.feed_eof())

    def data_to_send(self) -> bytes:
        """Return the bytes this side owes the peer by itself (and forget them)."""
        if not self._out:
            return b""
        out, self._out = self._out, []
        return out[0] if len(out) == 1 else b"".join(out)

    def send_request(self, method: str, params: dict | None = None, token: Any = None, *,
                     task: bool = False, progress: bool = False) -> tuple[int, bytes]:
        """Register a request and serialize it.

        Args:
            method: the method name.
            params: the params object, or ``None``.
            token: anything; it comes back on the answer's event (for example a future).
            task: the request is task-augmented: its result is checked as a CreateTaskResult
                (found by itself when ``params`` has a ``task`` and the method may have one).
            progress: ask for progress: ``params._meta.progressToken`` is set to the request's
                id, and ``notifications/progress`` for it become
                :class:`~mcp_stdio.events.ProgressReceived` events.

        Returns:
            ``(id, data)``: the new request id and the bytes to write.

        Raises:
            LocalProtocolError: the lifecycle does not allow ``method`` now.
            ValueError: ``params`` cannot be serialized as JSON.
        """
        if self.state is not State.READY:  # READY allows everything: the common case costs no call
            self._check_may_send(method)
        if not task and params and "task" in params and self.version is not None:
            info = shapes.method_info(self.version, method)
            task = info is not None and info.task
            if info is not None and not task:
                # Tasks (basic/utilities/tasks) exist in 2025-11-25 only, for some methods.
                raise LocalProtocolError(f"{method} cannot be task-augmented in protocol {self.version}")
        msg_id = self._next_id
        if progress:
            params = dict(params) if params else {}
            meta = params.get("_meta")
            params["_meta"] = dict(meta, progressToken=msg_id) if type(meta) is dict else {"progressToken": msg_id}
        data = jsonrpc.encode_request(msg_id, method, params)  # raises before we register
        self._next_id = msg_id + 1
        self._pending[msg_id] = (method, token, task)
        if progress:
            self._progress[msg_id] = float("-inf")
        return msg_id, data

    def send_notification(self, method: str, params: dict | None = None) -> bytes:
        """Serialize a notification."""
        return jsonrpc.encode_notification(method, params)

    def send_result(self, msg_id: int | str, result: Any) -> bytes:
        """Answer the peer's request ``msg_id`` with ``result``; return the bytes to write.

        The result is checked against the schema of the request's method in its version:
        nothing invalid is ever sent. Nothing is sent (``b""``) for a request the peer
        cancelled (MCP basic/utilities/cancellation: the receiver SHOULD "Not send a
        response for the cancelled request").

        Raises:
            LocalProtocolError: no such request is being handled, or ``result`` does not
                have the shape the protocol requires (the request stays open: answer it
                with :meth:`send_error`).
        """
        entry = self._incoming.get(msg_id)
        if entry is None:
            raise LocalProtocolError(f"no request {msg_id!r} of the {_PEER[self.role]} is waiting for an answer")
        method, version, cancelled, task = entry
        if cancelled:
            del self._incoming[msg_id]
            return b""
        result = self._outgoing_result(method, version, result)
        if version is not None and method != "initialize":
            problems = shapes.check_result(version, method, result, task=task) \
                if shapes.method_info(version, method) else []
            if problems:
                raise LocalProtocolError(f"{method} result is not valid for protocol {version}: "
                                         + "; ".join(problems))
        try:
            data = jsonrpc.encode_result(msg_id, result)
        except ValueError as exc:
            raise LocalProtocolError(f"{method} result: {exc}") from None
        del self._incoming[msg_id]
        return data

    def send_error(self, msg_id: int | str | None, code: int, message: str, data: Any = None) -> bytes:
        """Answer the peer's request ``msg_id`` with an error; return the bytes to write.

        ``msg_id`` is ``None`` for a request whose id could not be read.
        """
        entry = self._incoming.pop(msg_id, None) if msg_id is not None else None
        if entry is not None and entry[2]:
            return b""  # cancelled by the peer: no answer
        try:
            return jsonrpc.encode_error(msg_id, code, message, data)
        except ValueError:
            return jsonrpc.encode_error(msg_id, code, message)  # data that JSON cannot carry is dropped

    def cancel(self, msg_id: int | str, reason: str | None = None) -> bytes | None:
        """Give up on our request ``msg_id``; return the ``notifications/cancelled`` to write.

        MCP basic/utilities/cancellation: the sender "SHOULD ignore any response to the
        request that arrives afterward": the request is forgotten, so a late answer becomes
        an :class:`~mcp_stdio.events.UnexpectedAnswer`.

        Returns:
            The notification bytes, or ``None`` if the request was not pending.
        """
        if msg_id not in self._pending:
            return None
        self.forget(msg_id)
        return self.send_notification("notifications/cancelled", _cancel_params(msg_id, reason))

    def forget(self, msg_id: int | str) -> Any:
        """Stop waiting for the answer to ``msg_id``; return its token (``None`` if it was
        not pending). A late answer becomes an :class:`~mcp_stdio.events.UnexpectedAnswer`."""
        entry = self._pending.pop(msg_id, None)
        if entry is None:
            return None
        self._progress.pop(msg_id, None)
        return entry[1]

    def forget_incoming(self, msg_id: int | str) -> None:
        """Stop handling the peer's request ``msg_id`` without answering it (it was
        cancelled, or it was a stream that the peer ended)."""
        self._incoming.pop(msg_id, None)

    def is_handling(self, msg_id: int | str) -> bool:
        """Return whether the peer's request ``msg_id`` awaits our answer (not cancelled)."""
        entry = self._incoming.get(msg_id)
        return entry is not None and not entry[2]

    def is_pending(self, msg_id: int | str) -> bool:
        """Return whether our request ``msg_id`` still awaits its answer."""
        return msg_id in self._pending

    def pending_method(self, msg_id: int | str) -> str | None:
        """Return the method of our pending request ``msg_id``, or ``None``."""
        entry = self._pending.get(msg_id)
        return entry[0] if entry is not None else None

    def pending_token(self, msg_id: int | str) -> Any:
        """Return the token of our pending request ``msg_id``, or ``None``."""
        entry = self._pending.get(msg_id)
        return entry[1] if entry is not None else None

    def take_pending(self) -> list[tuple[int | str, str, Any]]:
        """Remove every pending request and return ``(id, method, token)`` for each.

        Call this when the connection is lost, to fail every waiter at once.
        """
        items = [(msg_id, entry[0], entry[1]) for msg_id, entry in self._pending.items()]
        self._pending.clear()
        self._progress.clear()
        return items

    def close(self) -> None:
        """Enter CLOSING: nothing new may be sent."""
        if self.state is not State.CLOSED:
            self.state = State.CLOSING

    def closed(self) -> None:
        """Enter CLOSED: the connection is gone."""
        self.state = State.CLOSED

    # Private methods: what each role refines

    def _check_may_send(self, method: str) -> None:
        if self.state is State.CLOSING or self.state is State.CLOSED:
            raise LocalProtocolError(f"cannot send {method}: the session is {self.state.value}")

    def _outgoing_result(self, method: str, version: str | None, result: Any) -> Any:
        return result

    def _request_allowed(self, message: Request) -> tuple[int, str] | None:
        """Return ``(code, message)`` refusing the peer's request in this state, or None."""
        return None

    def _request_version(self, message: Request) -> tuple[str | None, tuple[int, str, Any] | None]:
        """Return the version that ``message`` is served in, or an error refusing it."""
        return self.version, None

    def _special_request(self, message: Request, version: str | None, events: list) -> bool:
        """Answer a request the session handles itself; return whether it did."""
        if message.method == "ping" and version not in MODERN_VERSIONS:
            # MCP basic/utilities/ping: "The receiver MUST respond promptly with an empty
            # response".
            self._out.append(jsonrpc.encode_result(message.id, {}))
            return True
        return False

    def _special_notification(self, message: Notification, params: dict, events: list) -> bool:
        return False

    def _answer(self, msg_id: int | str, entry: tuple[str, Any, bool], message: Response | ErrorResponse,
                events: list) -> None:
        """Turn the answer to our pending request into its event, and only then forget it."""
        method, token, task = entry
        if message.__class__ is ErrorResponse:
            event: Any = ErrorReceived(msg_id, method, RemoteError(message.code, message.message, message.data,
                                                                 method), token)
        else:
            problems = self._result_problems(method, message.result, task)  # type: ignore[union-attr]
            if problems:
                event = AnswerRejected(msg_id, method, RemoteProtocolError(
                    f"{method}: the result does not match the {self.version} schema: " + "; ".join(problems)), token)
            else:
                event = ResultReceived(msg_id, method, message.result, token)  # type: ignore[union-attr]
        del self._pending[msg_id]
        if self._progress:
            self._progress.pop(msg_id, None)
        events.append(event)

    def _result_problems(self, method: str, result: Any, task: bool) -> list[str]:
        version = self.version
        if version is None:
            return []
        # An extension's method is checked against the generic Result: an object (MCP's
        # JSONRPCResultResponse has "result": Result), with a valid resultType in 2026-07-28.
        return shapes.check_result(version, method, result, task=task)

    # Private methods: the checks at the boundary

    def _events(self, lines: list) -> list[AnyEvent]:
        events: list = []
        pending = self._pending
        decode, parse = jsonrpc.decode_line, jsonrpc.parse_text
        special = self._special
        version = self.version
        lines.reverse()
        while lines:
            # Popped, not iterated: no reference to a (possibly huge) line outlives its
            # decoding, so its memory is freed before the JSON is parsed.
            if lines[-1].__class__ is Oversized:
                item = lines.pop()
                events.append(MessageTooLong(item.size, item.limit))
                continue
            text = decode(lines.pop())
            # The line is gone once decoded: its bytes never live beside its JSON objects.
            message = parse(text) if text.__class__ is str else text
            if message.__class__ is dict:  # the hot path: a plain response (see jsonrpc.parse_text)
                msg_id = message["id"]
                result = message["result"]
                entry = pending.get(msg_id)
                if entry is not None:
                    method, token, task = entry
                    if msg_id not in special and not task and method == "tools/call" and version is not None \
                            and shapes.plain_tool_result(version, result):
                        del pending[msg_id]  # the result is valid: its delivery is certain
                        if self._progress:
                            self._progress.pop(msg_id, None)
                        events.append(ResultReceived(msg_id, method, result, token))
                        continue
                message = Response(msg_id, result)  # any other answer: the full checks below
            if message.__class__ is Batch:
                for item in message.messages:  # type: ignore[union-attr]
                    self._guarded(self._message, item, events)
            else:
                self._guarded(self._message, message, events)
        return events

    def _guarded(self, handle: Callable[..., None], *args: Any) -> None:
        """Run one message's checks; a bug here must not lose the other messages' events."""
        events = args[-1]
        try:
            handle(*args)
        except Exception as exc:  # defence in depth: every check above is meant never to raise
            events.append(MessageRejected(f"internal error while checking a message: {exc!r}", repr(args[-2])))

    def _message(self, message: Any, events: list) -> None:
        kind = message.__class__
        if kind is Request:
            self._request(message, events)
        elif kind is Notification:
            self._notification(message, events)
        elif kind is Response or kind is ErrorResponse:
            entry = self._pending.get(message.id) if message.id is not None else None
            if entry is None:
                events.append(UnexpectedAnswer(message.id, self._why_unexpected(message.id)))
            else:
                self._answer(message.id, entry, message, events)
        else:  # InvalidMessage
            self._invalid(message, events)

    def _invalid(self, message: InvalidMessage, events: list) -> None:
        answer_id = message.answer_id
        entry = self._pending.get(answer_id) if answer_id is not None else None
        if entry is not None:
            # A malformed answer to a pending request fails it now, not at its timeout.
            del self._pending[answer_id]  # type: ignore[arg-type]
            self._progress.pop(answer_id, None)  # type: ignore[arg-type]
            events.append(AnswerRejected(answer_id, entry[0], RemoteProtocolError(  # type: ignore[arg-type]
                f"{entry[0]}: malformed answer: {message.reason}"), entry[1]))
            return
        if message.id is not None and message.id not in self._incoming:
            # JSON-RPC 2.0 section 5: a request that cannot be read gets an error.
            self._out.append(jsonrpc.encode_error(message.id, message.code, message.reason))
        elif answer_id is None and self.role == "server":
            # "If there was an error in detecting the id in the Request object (e.g. Parse
            # error/Invalid Request), it MUST be Null." A server answers every line it cannot
            # read; a client does not answer a server's stray output (banners, logs).
            self._out.append(jsonrpc.encode_error(None, message.code, message.reason))
        events.append(MessageRejected(message.reason, message.excerpt))

    def _request(self, message: Request, events: list) -> None:
        msg_id, method = message.id, message.method
        if msg_id in self._incoming:
            self._refuse(message, INVALID_REQUEST, f"request id {msg_id!r} is already in use by another request",
                         events)
            return
        refusal = self._request_allowed(message)
        if refusal is not None:
            self._refuse(message, refusal[0], refusal[1], events)
            return
        version, error = self._request_version(message)
        if error is not None:
            self._refuse(message, error[0], error[1], events, error[2])
            return
        if self._special_request(message, version, events):
            return
        params = message.params
        if version is not None:
            problems = shapes.check_params(version, method, params, sender=_PEER[self.role])
            if problems is None:
                if _known_anywhere(method):
                    self._refuse(message, METHOD_NOT_FOUND, f"Method not found: {method} (not in protocol {version})",
                                 events)
                    return
            elif problems:
                self._refuse(message, INVALID_PARAMS, f"Invalid params for {method}: " + "; ".join(problems), events)
                return
        if len(self._incoming) >= self.max_incoming:
            self._refuse(message, INTERNAL_ERROR, f"too many requests in flight (limit {self.max_incoming})", events)
            return
        info = shapes.method_info(version, method) if version is not None else None
        task = info is not None and info.task and type(params) is dict and "task" in params
        self._incoming[msg_id] = [method, version, False, task]
        events.append(RequestReceived(msg_id, method, params if params is not None else {}, version))

    def _refuse(self, message: Request, code: int, reason: str, events: list, data: Any = None) -> None:
        self._out.append(jsonrpc.encode_error(message.id, code, reason, data))
        events.append(MessageRejected(f"{message.method} request refused: {reason}", message.method))

    def _notification(self, message: Notification, events: list) -> None:
        method = message.method
        params = message.params if message.params is not None else {}
        # Before a version is agreed (a notification in the chunk of the handshake's answer),
        # the newest handshake-era version's shapes apply: nothing unchecked reaches a caller.
        version = self.version or HANDSHAKE_VERSIONS[0]
        problems = shapes.check_params(version, method, message.params, sender=_PEER[self.role])
        if problems:
            events.append(MessageRejected(f"{method}: " + "; ".join(problems), method))
            return
        if method == "notifications/cancelled":
            self._cancelled(params, events)
        elif method == "notifications/progress":
            self._progress_notification(params, events)
        elif not self._special_notification(message, params, events):
            events.append(NotificationReceived(method, params))

    def _cancelled(self, params: dict, events: list) -> None:
        # MCP basic/utilities/cancellation: the receiver "MAY ignore the cancellation
        # notification if: The referenced request is unknown [or] Processing has already
        # completed"; nothing is kept for an unknown id.
        request_id = params.get("requestId")
        entry = self._incoming.get(request_id) if jsonrpc.is_valid_id(request_id) else None  # type: ignore[arg-type]
        if entry is None or entry[2] or entry[0] == "initialize":
            return  # "The initialize request MUST NOT be cancelled by clients"
        entry[2] = True
        reason = params.get("reason")
        events.append(CancelRequested(request_id, reason if type(reason) is str else None))  # type: ignore[arg-type]

    def _progress_notification(self, params: dict, events: list) -> None:
        token = params.get("progressToken")
        last = self._progress.get(token) if jsonrpc.is_valid_id(token) else None  # type: ignore[arg-type]
        if last is None:
            return  # not one of ours, or already answered: dropped, as the spec allows
        progress: Any = params.get("progress")
        if type(progress) not in (int, float):
            events.append(MessageRejected(f"notifications/progress: progress {progress!r:.40} is not a number",
                                          "notifications/progress"))
            return
        # basic/utilities/progress: "The progress value MUST increase with each
        # notification, even if the total is unknown."
        if progress <= last:  # type: ignore[operator]
            events.append(MessageRejected(f"notifications/progress: progress went from {last} to {progress}; "
                                          "it must increase", "notifications/progress"))
            return
        self._progress[token] = progress  # type: ignore[index]
        total = params.get("total")
        message = params.get("message")
        events.append(ProgressReceived(token, progress,  # type: ignore[arg-type]
                                       total if type(total) in (int, float) else None,
                                       message if type(message) is str else None,
                                       self._pending[token][1]))  # type: ignore[index]

    def _why_unexpected(self, msg_id: Any) -> str:
        if msg_id is None:
            return "error response without an id"
        if type(msg_id) is str and len(msg_id) <= 20 and msg_id.isascii() and msg_id.isdecimal():
            if int(msg_id) < self._next_id:
                return f"id {msg_id!r} is a string but our request ids are integers"
        if type(msg_id) is int and 0 < msg_id < self._next_id:
            return f"id {msg_id} is not pending (already answered, timed out or cancelled)"
        return f"id {_brief(msg_id)} was never used by this side"


def _cancel_params(msg_id: int | str, reason: str | None) -> dict:
    params: dict = {"requestId": msg_id}
    if reason:
        params["reason"] = reason
    return params


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
