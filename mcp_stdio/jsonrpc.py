"""JSON-RPC 2.0 messages: parse one line, classify by shape, serialize (sans-I/O).

Theory of operation
-------------------
:func:`parse` takes one framed line (bytes) and returns exactly one object:

* :class:`Request`, :class:`Notification`, :class:`Response` or :class:`ErrorResponse` for
  a well-formed message, classified by shape as JSON-RPC 2.0 section 4 and 5 define it;
* :class:`Batch` for a JSON array of messages (MCP 2025-03-26 allowed batches);
* :class:`InvalidMessage` for anything else: bytes that are not UTF-8 ("JSON-RPC messages
  MUST be UTF-8 encoded", MCP basic/transports), text that is not JSON, JSON that is not a
  message. It never raises for bad input: one bad line must not end a session.

Rules applied (JSON-RPC 2.0 and MCP 2025-11-25 basic/index "Requests"):

* ``"jsonrpc"`` MUST be exactly ``"2.0"``.
* A request id "MUST be a string or integer" and "MUST NOT be null" (MCP); booleans and
  floats are rejected even though ``True == 1`` in Python.
* A message with ``method`` and ``id`` is a request; with ``method`` and no ``id`` it is a
  notification; with ``id`` and ``result`` a response; with ``id`` and ``error`` an error
  response, whose id may be null when the peer could not read the request's id.
* ``params``, when present, is an object (MCP never uses positional params).

Serialization is compact (no spaces) with ``ensure_ascii=False``, so non-ASCII text costs one
UTF-8 sequence rather than a six-byte escape; JSON escapes every control character, so no
serialized message contains a raw newline.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing is not imported at run time: the server must start fast
if TYPE_CHECKING:
    from typing import Any, Union


__all__ = [
    "Request",
    "Notification",
    "Response",
    "ErrorResponse",
    "Batch",
    "InvalidMessage",
    "Message",
    "parse",
    "encode",
    "encode_request",
    "encode_notification",
    "encode_result",
    "encode_error",
    "is_valid_id",
]

_decode = json.JSONDecoder().decode
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_encode_ascii = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode

# How much of a bad line an InvalidMessage keeps, for logs and errors.
EXCERPT_SIZE = 200

_BOM = b"\xef\xbb\xbf"


class Request:
    """A request: ``method``, ``params`` (a dict or ``None``) and ``id`` (int or str)."""

    __slots__ = ("id", "method", "params")

    def __init__(self, id: int | str, method: str, params: dict | None) -> None:
        self.id = id
        self.method = method
        self.params = params

    def __repr__(self) -> str:
        return f"Request(id={self.id!r}, method={self.method!r})"


class Notification:
    """A notification: ``method`` and ``params`` (a dict or ``None``); no answer is sent."""

    __slots__ = ("method", "params")

    def __init__(self, method: str, params: dict | None) -> None:
        self.method = method
        self.params = params

    def __repr__(self) -> str:
        return f"Notification(method={self.method!r})"


class Response:
    """A successful response: ``id`` and ``result``.

    The session fills ``method`` and ``token`` from its table of pending requests.
    """

    __slots__ = ("id", "result", "method", "token")

    def __init__(self, id: int | str, result: Any) -> None:
        self.id = id
        self.result = result
        self.method: str | None = None
        self.token: Any = None

    def __repr__(self) -> str:
        return f"Response(id={self.id!r})"


class ErrorResponse:
    """An error response: ``id`` (``None`` if the peer could not tell), ``code``,
    ``message`` and ``data``.

    The session fills ``method`` and ``token`` from its table of pending requests.
    """

    __slots__ = ("id", "code", "message", "data", "method", "token")

    def __init__(self, id: int | str | None, code: int, message: str, data: Any = None) -> None:
        self.id = id
        self.code = code
        self.message = message
        self.data = data
        self.method: str | None = None
        self.token: Any = None

    def __repr__(self) -> str:
        return f"ErrorResponse(id={self.id!r}, code={self.code}, message={self.message!r})"


class Batch:
    """A JSON array of messages; ``messages`` holds one parsed object per element."""

    __slots__ = ("messages",)

    def __init__(self, messages: list) -> None:
        self.messages = messages

    def __repr__(self) -> str:
        return f"Batch({self.messages!r})"


class InvalidMessage:
    """A line that is not a valid JSON-RPC message.

    Attributes:
        reason: what is wrong, in words.
        excerpt: the start of the line, decoded leniently, for logs.
        id: the request id if the line was a request with a usable id (so that an
            ``Invalid Request`` error can be sent back), else ``None``.
        code: the JSON-RPC code that describes the fault (-32700 or -32600).
    """

    __slots__ = ("reason", "excerpt", "id", "code")

    def __init__(self, reason: str, line: bytes | str, id: int | str | None = None,
                 code: int = -32600) -> None:
        self.reason = reason
        if isinstance(line, (bytes, bytearray)):
            line = bytes(line[:EXCERPT_SIZE]).decode("utf-8", "replace")
        self.excerpt = line[:EXCERPT_SIZE]
        self.id = id
        self.code = code

    def __repr__(self) -> str:
        return f"InvalidMessage({self.reason!r}, excerpt={self.excerpt!r})"


if TYPE_CHECKING:
    Message = Union[Request, Notification, Response, ErrorResponse]


def is_valid_id(value: object) -> bool:
    """Return whether ``value`` is a legal request id: an int (not a bool) or a str."""
    kind = type(value)
    return kind is int or kind is str


def parse(line: bytes) -> Message | Batch | InvalidMessage:
    """Parse one line into a message object; never raise for bad input.

    Args:
        line: one framed line (bytes or bytearray), without its line end.

    Returns:
        A message object, a :class:`Batch`, or an :class:`InvalidMessage`.
    """
    if line.startswith(_BOM):
        line = line[3:]  # a UTF-8 byte order mark is tolerated, not part of the JSON
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InvalidMessage(f"not valid UTF-8 ({exc.reason} at byte {exc.start})", line, code=-32700)
    del line  # a large line's bytes are freed (when the caller kept no reference) before parsing
    try:
        obj = _decode(text)
    except ValueError as exc:
        return InvalidMessage(f"not valid JSON ({exc})", text, code=-32700)
    except RecursionError:
        return InvalidMessage("not valid JSON (nested too deeply)", text, code=-32700)
    if type(obj) is dict:
        return classify(obj, text)
    if type(obj) is list and obj:
        return Batch([classify(item, text) if type(item) is dict
                      else InvalidMessage("a batch element is not an object", text) for item in obj])
    return InvalidMessage("not a JSON-RPC message (expected an object)", text)


def classify(obj: dict, text: str = "") -> Message | InvalidMessage:
    """Classify a decoded JSON object as a message by its shape.

    Args:
        obj: the decoded object.
        text: the line it came from, for the excerpt of an :class:`InvalidMessage`.
    """
    if obj.get("jsonrpc") != "2.0":
        return InvalidMessage('"jsonrpc" is not "2.0"', text or repr(obj), _usable_id(obj))
    method = obj.get("method")
    if method is not None:
        if type(method) is not str:
            return InvalidMessage('"method" is not a string', text or repr(obj), _usable_id(obj))
        params = obj.get("params")
        if params is not None and type(params) is not dict:
            return InvalidMessage('"params" is not an object', text or repr(obj), _usable_id(obj))
        if "id" not in obj:
            return Notification(method, params)
        msg_id = obj["id"]
        if not is_valid_id(msg_id):
            return InvalidMessage(f"request id {msg_id!r} is not an integer or a string", text or repr(obj))
        return Request(msg_id, method, params)
    if "id" not in obj:
        return InvalidMessage('neither "method" nor "id": not a message', text or repr(obj))
    msg_id = obj["id"]
    if "result" in obj:
        if "error" in obj:
            return InvalidMessage('both "result" and "error"', text or repr(obj))
        if not is_valid_id(msg_id):
            return InvalidMessage(f"response id {msg_id!r} is not an integer or a string", text or repr(obj))
        return Response(msg_id, obj["result"])
    if "error" in obj:
        error = obj["error"]
        if type(error) is not dict or type(error.get("code")) is not int or type(error.get("message")) is not str:
            return InvalidMessage('"error" is not an object with an integer "code" and a string "message"',
                                  text or repr(obj))
        if msg_id is not None and not is_valid_id(msg_id):
            return InvalidMessage(f"response id {msg_id!r} is not an integer or a string", text or repr(obj))
        return ErrorResponse(msg_id, error["code"], error["message"], error.get("data"))
    return InvalidMessage('"id" without "method", "result" or "error"', text or repr(obj))


def _usable_id(obj: dict) -> int | str | None:
    value = obj.get("id")
    return value if ("method" in obj and is_valid_id(value)) else None


def encode(message: dict) -> bytes:
    """Serialize a message dict to one line of UTF-8, newline included.

    Raises:
        ValueError: if the message holds something JSON cannot carry (NaN, infinity, a
            non-serializable object); the message says which.
    """
    try:
        text = _encode(message)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot serialize message as JSON: {exc}") from None
    try:
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        # A lone surrogate (legal in a Python str, not in UTF-8): fall back to \\u escapes,
        # which JSON allows and every parser reads.
        return _encode_ascii(message).encode("ascii") + b"\n"


def encode_request(msg_id: int | str, method: str, params: dict | None = None) -> bytes:
    """Serialize a request."""
    if params is None:
        return encode({"jsonrpc": "2.0", "id": msg_id, "method": method})
    return encode({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})


def encode_notification(method: str, params: dict | None = None) -> bytes:
    """Serialize a notification."""
    if params is None:
        return encode({"jsonrpc": "2.0", "method": method})
    return encode({"jsonrpc": "2.0", "method": method, "params": params})


def encode_result(msg_id: int | str, result: Any) -> bytes:
    """Serialize a successful response."""
    return encode({"jsonrpc": "2.0", "id": msg_id, "result": result})


def encode_error(msg_id: int | str | None, code: int, message: str, data: Any = None) -> bytes:
    """Serialize an error response; ``msg_id`` is ``None`` when the request's id is unknown."""
    error: dict = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return encode({"jsonrpc": "2.0", "id": msg_id, "error": error})
