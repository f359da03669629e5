"""JSON-RPC 2.0 messages: parse one line, classify by shape, serialize (sans-I/O).

Theory of operation
-------------------
:func:`parse` takes one framed line (bytes) and returns exactly one object:

* :class:`Request`, :class:`Notification`, :class:`Response` or :class:`ErrorResponse` for
  a well-formed message, classified by shape as JSON-RPC 2.0 sections 4 and 5 define it;
* :class:`Batch` for a JSON array of messages (MCP 2025-03-26 allowed batches);
* :class:`InvalidMessage` for anything else: bytes that are not UTF-8 ("JSON-RPC messages
  MUST be UTF-8 encoded", MCP basic/transports), text that is not standard JSON, JSON that
  is not a message. It never raises for bad input: one bad line must not end a session.

The endpoints call its two halves in turn, :func:`decode_line` (bytes to text) and
:func:`parse_text` (text to a message), so that a line's bytes are gone before its JSON is
parsed; :func:`parse_text` leaves a plain successful response (exactly ``jsonrpc``, ``id``
and ``result``, nearly every answer) as its decoded dict, read at once by the session.

Rules applied (JSON-RPC 2.0 and MCP 2025-11-25 basic/index "Requests"):

* ``"jsonrpc"`` MUST be exactly ``"2.0"``.
* A request id "MUST be a string or integer" and "MUST NOT be null" (MCP); booleans and
  floats are rejected even though ``True == 1`` in Python.
* A message with ``method`` and ``id`` is a request; with ``method`` and no ``id`` it is a
  notification; with ``id`` and ``result`` a response; with ``id`` and ``error`` an error
  response, whose id may be null when the peer could not read the request's id.
* ``params``, when present, is an object (MCP never uses positional params); a ``null``
  ``params`` is read as absent.
* Only standard JSON (RFC 8259) is accepted: ``NaN``, ``Infinity`` and numbers too large
  for a double (``1e999``) make the line invalid, and so do integers of more digits than
  Python converts (4,300).
* Lone UTF-16 surrogates (``"\\ud800"``, legal JSON escapes but not Unicode text) are
  replaced by U+FFFD, the replacement character, as a UTF-8 decoder does with bad bytes;
  paired surrogates decode to their character as usual.

A malformed *answer* (no ``method``; an ``id`` of a usable type) is reported as an
:class:`InvalidMessage` whose ``answer_id`` names the request it claims to answer: the
session then fails that request at once instead of letting it wait for its timeout.

Serialization is compact (no spaces) with ``ensure_ascii=False``, so non-ASCII text costs one
UTF-8 sequence rather than a six-byte escape; JSON escapes every control character, so no
serialized message contains a raw newline. NaN and infinities are refused on the way out
too (``allow_nan=False``).
"""

from __future__ import annotations

import json
import re

from .errors import INVALID_REQUEST

TYPE_CHECKING = False  # typing is not imported at run time: the server must start fast
if TYPE_CHECKING:
    from typing import Any, Union

    Message = Union["Request", "Notification", "Response", "ErrorResponse"]
    Parsed = Union["Request", "Notification", "Response", "ErrorResponse", "Batch", "InvalidMessage"]


__all__ = [
    "Request",
    "Notification",
    "Response",
    "ErrorResponse",
    "Batch",
    "InvalidMessage",
    "parse",
    "decode_line",
    "parse_text",
    "classify",
    "encode",
    "encode_request",
    "encode_notification",
    "encode_result",
    "encode_error",
    "is_valid_id",
    "EXCERPT_SIZE",
]


class _NonStandardNumber(ValueError):
    """NaN, an infinity, or a number too large for a double: not RFC 8259 JSON."""


def _refuse_constant(name: str) -> Any:
    raise _NonStandardNumber(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value - value != 0.0:  # inf - inf is nan; nan never comes from float() of a JSON number
        raise _NonStandardNumber(f"number {text[:40]} is out of range")
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)
_decode = _DECODER.decode
# The C scanner behind decode(): a framed line has no surrounding white space, so the two
# regular expressions decode() runs around it are skipped (a line with white space, or with
# anything after its value, goes to decode() for the exact error).
_scan = _DECODER.scan_once  # type: ignore[attr-defined]
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
# The C encoder that JSONEncoder.encode() builds anew for every message (with a closure, a
# dict of markers and two Python frames), built once: half the cost of a small message.
# Without markers it does not look for cycles; a cycle ends in RecursionError, and only
# then the checking encoder runs again, for its exact error.
_C_ENCODE = None if json.encoder.c_make_encoder is None else json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, False)


def _encode(obj: object) -> str:
    if _C_ENCODE is None:  # a Python without the json accelerator
        return _ENCODER.encode(obj)
    try:
        return "".join(_C_ENCODE(obj, 0))
    except RecursionError:  # a cycle, or nested too deeply: the checking encoder tells which
        return _ENCODER.encode(obj)


_encode_ascii = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode

# How much of a bad line an InvalidMessage keeps, for logs and errors.
EXCERPT_SIZE = 200

_BOM = b"\xef\xbb\xbf"
# A \u escape of a UTF-16 surrogate; only lines that contain one are scanned for lone ones.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


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
    """A successful response: ``id`` and ``result``."""

    __slots__ = ("id", "result")

    def __init__(self, id: int | str, result: Any) -> None:
        self.id = id
        self.result = result

    def __repr__(self) -> str:
        return f"Response(id={self.id!r})"


class ErrorResponse:
    """An error response: ``id`` (``None`` if the peer could not tell), ``code``,
    ``message`` and ``data``."""

    __slots__ = ("id", "code", "message", "data")

    def __init__(self, id: int | str | None, code: int, message: str, data: Any = None) -> None:
        self.id = id
        self.code = code
        self.message = message
        self.data = data

    def __repr__(self) -> str:
        return f"ErrorResponse(id={self.id!r}, code={self.code}, message={self.message!r})"


class Batch:
    """A JSON array of messages; ``messages`` holds one parsed object per element."""

    __slots__ = ("messages",)

    def __init__(self, messages: list[Message | InvalidMessage]) -> None:
        self.messages = messages

    def __repr__(self) -> str:
        return f"Batch({self.messages!r})"


class InvalidMessage:
    """A line, or a batch element, that is not a valid JSON-RPC message.

    Attributes:
        reason: what is wrong, in words.
        excerpt: the start of the line, decoded leniently, for logs.
        id: the request id if the line was a request with a usable id (so that an
            ``Invalid Request`` error can be sent back), else ``None``.
        code: the JSON-RPC code that describes the fault (-32700 or -32600).
        answer_id: for a malformed answer (no ``method``), the id it carries when that id
            has a usable type: the request it claims to answer can then fail at once.
    """

    __slots__ = ("reason", "excerpt", "id", "code", "answer_id")

    def __init__(self, reason: str, line: bytes | bytearray | str, id: int | str | None = None,
                 code: int = INVALID_REQUEST, answer_id: int | str | None = None) -> None:
        self.reason = reason
        if isinstance(line, (bytes, bytearray)):
            line = bytes(line[:EXCERPT_SIZE]).decode("utf-8", "replace")
        self.excerpt = line[:EXCERPT_SIZE]
        self.id = id
        self.code = code
        self.answer_id = answer_id

    def __repr__(self) -> str:
        return f"InvalidMessage({self.reason!r}, excerpt={self.excerpt!r})"


def is_valid_id(value: object) -> bool:
    """Return whether ``value`` is a legal request id: an int (not a bool) or a str."""
    kind = type(value)
    return kind is int or kind is str


def parse(line: bytes | bytearray) -> Parsed:
    """Parse one line into a message object; never raise for bad input.

    Args:
        line: one framed line (bytes or bytearray), without its line end.

    Returns:
        A message object, a :class:`Batch`, or an :class:`InvalidMessage`.
    """
    text = decode_line(line)
    del line  # a large line's bytes are freed (when the caller kept no reference) before parsing
    if text.__class__ is not str:
        return text  # type: ignore[return-value]
    message = parse_text(text)  # type: ignore[arg-type]
    if message.__class__ is dict:
        return Response(message["id"], message["result"])  # type: ignore[index]
    return message  # type: ignore[return-value]


def decode_line(line: bytes | bytearray) -> str | InvalidMessage:
    """Decode one framed line as UTF-8 (a leading byte order mark is tolerated).

    The first half of :func:`parse`, for a caller that drops its line before the JSON is
    parsed (Python 3.9 and 3.10 keep a call's arguments alive in the caller until the call
    returns, so a large line's bytes would otherwise outlive its decoding).
    """
    if line.startswith(_BOM):
        line = line[3:]  # a UTF-8 byte order mark is tolerated, not part of the JSON
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InvalidMessage(f"not valid UTF-8 ({exc.reason} at byte {exc.start})", line, code=-32700)


def parse_text(text: str) -> Parsed | dict:
    """The second half of :func:`parse`, except that a plain successful response comes back
    as its decoded dict.

    A plain response is an object of exactly three members, ``"jsonrpc": "2.0"``, an ``id``
    that is an integer or a string, and ``result``: what :func:`parse` would return as a
    :class:`Response`. Nearly every answer is one, and the receiving endpoint reads its
    ``id`` and ``result`` at once instead of through an object made for the purpose (one
    allocation fewer per answer, and fewer garbage collections under load).
    """
    try:
        try:
            obj, end = _scan(text, 0)
        except StopIteration:  # not a value at its start: let decode() say why
            end = -1
        if end != len(text):
            obj = _decode(text)
    except ValueError as exc:
        return InvalidMessage(f"not valid JSON ({_brief_reason(exc)})", text, code=-32700,
                              answer_id=_lenient_answer_id(text, exc))
    except RecursionError:
        return InvalidMessage("not valid JSON (nested too deeply)", text, code=-32700)
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        try:
            obj = _scrub(obj)
        except RecursionError:  # the decoder's depth, where _scrub's frames are deeper
            return InvalidMessage("not valid JSON (nested too deeply)", text, code=-32700)
    kind = type(obj)
    if kind is dict:
        if len(obj) == 3 and "result" in obj and obj.get("jsonrpc") == "2.0":
            kind = type(obj.get("id"))
            if kind is int or kind is str:
                return obj  # a plain response (JSON-RPC 2.0, section 5): no method, no error
        return classify(obj, text)
    if kind is list and obj:
        return Batch([classify(item, text) if type(item) is dict
                      else InvalidMessage("a batch element is not an object", text) for item in obj])
    return InvalidMessage("not a JSON-RPC message (expected an object)", text)


def _lenient_answer_id(text: str, exc: ValueError) -> int | str | None:
    """Return the id of an answer refused only for a non-standard number, else ``None``.

    ``NaN`` or ``1e999`` inside an answer must not leave its request waiting for its
    timeout: the line is decoded again, leniently, only to read the id it carries.
    """
    if not isinstance(exc.__context__, _NonStandardNumber) and not isinstance(exc, _NonStandardNumber):
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if type(obj) is dict and "method" not in obj and is_valid_id(obj.get("id")):
        return obj["id"]
    return None


def _brief_reason(exc: ValueError) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."


def _scrub(value: Any) -> Any:
    """Return ``value`` with lone surrogates in every string (keys included) replaced."""
    kind = type(value)
    if kind is str:
        # The decoder already joined escaped pairs, so any surrogate left is a lone one.
        return _LONE_SURROGATE.sub("\ufffd", value)
    if kind is dict:
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    if kind is list:
        return [_scrub(item) for item in value]
    return value


def classify(obj: dict, text: str = "") -> Message | InvalidMessage:
    """Classify a decoded JSON object as a message by its shape.

    Args:
        obj: the decoded object.
        text: the line it came from, for the excerpt of an :class:`InvalidMessage`.
    """
    where = text or obj
    if "method" in obj:
        usable = obj.get("id") if is_valid_id(obj.get("id")) else None
        if obj.get("jsonrpc") != "2.0":
            return InvalidMessage('"jsonrpc" is not "2.0"', _excerpt(where), usable)
        method = obj["method"]
        if type(method) is not str:
            return InvalidMessage('"method" is not a string', _excerpt(where), usable)
        params = obj.get("params")
        if params is not None and type(params) is not dict:
            return InvalidMessage('"params" is not an object', _excerpt(where), usable)
        if "id" not in obj:
            return Notification(method, params)
        if usable is None:
            return InvalidMessage(f"request id {_brief(obj['id'])} is not an integer or a string", _excerpt(where))
        return Request(usable, method, params)
    return _classify_answer(obj, where)


def _classify_answer(obj: dict, where: Any) -> Response | ErrorResponse | InvalidMessage:
    if "id" not in obj:
        return InvalidMessage('neither "method" nor "id": not a message', _excerpt(where))
    msg_id = obj["id"]
    usable = msg_id if is_valid_id(msg_id) else None
    reason = None
    if obj.get("jsonrpc") != "2.0":
        reason = '"jsonrpc" is not "2.0"'
    elif "error" in obj:
        error = obj["error"]
        if "result" in obj:
            reason = 'both "result" and "error"'
        elif type(error) is not dict:
            reason = '"error" is not an object'
        elif type(error.get("code")) is not int:
            reason = '"error.code" is not an integer'
        elif type(error.get("message")) is not str:
            reason = '"error.message" is not a string'
        elif msg_id is not None and usable is None:
            reason = f"response id {_brief(msg_id)} is not an integer or a string"
        else:
            return ErrorResponse(usable, error["code"], error["message"], error.get("data"))
    elif "result" not in obj:
        reason = '"id" without "method", "result" or "error"'
    elif usable is None:
        reason = f"response id {_brief(msg_id)} is not an integer or a string"
    else:
        return Response(usable, obj["result"])
    return InvalidMessage(reason, _excerpt(where), answer_id=usable)


def _excerpt(where: Any) -> str:
    return where if type(where) is str else repr(where)[:EXCERPT_SIZE]


def _brief(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def encode(message: dict) -> bytes:
    """Serialize a message dict to one line of UTF-8, newline included.

    Raises:
        ValueError: if the message holds something JSON cannot carry (NaN, infinity, a
            non-serializable object); the message says which.
    """
    try:
        text = _encode(message)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"cannot serialize message as JSON: {exc}") from None
    try:
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        # A lone surrogate (legal in a Python str, not in UTF-8): fall back to \\u escapes,
        # which JSON allows and every parser reads.
        return _encode_ascii(message).encode("ascii") + b"\n"


_METHODS: dict[str, str] = {}  # method -> its JSON string, for the requests' fixed parts


def encode_request(msg_id: int | str, method: str, params: dict | None = None) -> bytes:
    """Serialize a request.

    The envelope is assembled from pre-encoded parts (an integer id, the method's JSON
    string); only ``params`` goes through the JSON encoder.
    """
    if params is None or type(msg_id) is not int:
        if params is None:
            return encode({"jsonrpc": "2.0", "id": msg_id, "method": method})
        return encode({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    name = _METHODS.get(method)
    if name is None:
        name = _encode(method)
        if len(_METHODS) < 256:
            _METHODS[method] = name
    try:
        text = f'{{"jsonrpc":"2.0","id":{msg_id},"method":{name},"params":{_encode(params)}}}\n'
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"cannot serialize message as JSON: {exc}") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
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
