"""Every exception mcp_stdio raises, and every JSON-RPC error code it uses, in one place.

The tree::

    MCPStdioError                     base of everything below
    ├── StartError                    the server could not be started or handshaken
    │   ├── SpawnError                the command is missing, not executable, a directory...
    │   └── UnsupportedProtocolVersion  no protocol version both sides speak
    ├── ConnectionClosed              the connection is gone; pending requests fail with this
    │   ├── ServerExited              the child exited (exit status and stderr tail attached)
    │   └── MessageTooLarge           the peer wrote a line over ``max_message_size``
    ├── ProtocolError
    │   ├── LocalProtocolError        we were asked to do something the protocol forbids
    │   │   ├── CapabilityError       the peer did not declare the capability a method needs
    │   │   └── UnknownTool           a group has no tool of that name (also a KeyError)
    │   └── RemoteProtocolError       the peer broke the protocol (a malformed answer...)
    ├── SchemaError                   a JSON Schema is malformed, unsupported, or too costly
    ├── RequestError                  a JSON-RPC error object (raise it to answer with it)
    │   └── RemoteError               the peer answered our request with a JSON-RPC error
    ├── ToolError                     a server tool failed: the result carries ``isError``
    ├── InputRequired                 a 2026-07-28 server tool needs the client's input
    ├── RequestTimeout                no answer in time (also a builtin ``TimeoutError``)
    ├── ClientClosedError             the client is closed or closing; nothing more is sent
    └── ConfigError                   a configuration file is malformed or names a bad server

Each exception builds its message from its attributes, so ``str(exc)`` is always complete
and the attributes are there for programs. No ``ExceptionGroup`` is ever raised.

:func:`jsonrpc_error` is the one place where an exception becomes a JSON-RPC error object,
for both roles (a client answering the server's requests, a server answering the client's).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: the server must start fast
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Sequence  # noqa: F401

__all__ = [
    "MCPStdioError",
    "StartError",
    "SpawnError",
    "UnsupportedProtocolVersion",
    "ConnectionClosed",
    "ServerExited",
    "MessageTooLarge",
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "CapabilityError",
    "UnknownTool",
    "SchemaError",
    "RequestError",
    "RemoteError",
    "ToolError",
    "InputRequired",
    "RequestTimeout",
    "ClientClosedError",
    "ConfigError",
    "describe_returncode",
    "jsonrpc_error",
    # JSON-RPC and MCP error codes
    "PARSE_ERROR",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "INVALID_PARAMS",
    "INTERNAL_ERROR",
    "RESOURCE_NOT_FOUND",
    "URL_ELICITATION_REQUIRED",
    "HEADER_MISMATCH",
    "MISSING_REQUIRED_CLIENT_CAPABILITY",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "CODE_NAMES",
]

# JSON-RPC 2.0 specification, section 5.1 "Error object": the pre-defined codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# MCP 2025-11-25, server/resources "Error Handling": "Resource not found: -32002"
# (2026-07-28 uses -32602 instead).
RESOURCE_NOT_FOUND = -32002
# MCP 2025-11-25 schema, URLElicitationRequiredError: code -32042.
URL_ELICITATION_REQUIRED = -32042
# MCP 2026-07-28, basic/index "Error Codes".
HEADER_MISMATCH = -32020
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022

# Code -> name, for messages and for the test that pins the table against the spec.
CODE_NAMES = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
    RESOURCE_NOT_FOUND: "Resource not found",
    URL_ELICITATION_REQUIRED: "URL elicitation required",
    HEADER_MISMATCH: "Header mismatch",
    MISSING_REQUIRED_CLIENT_CAPABILITY: "Missing required client capability",
    UNSUPPORTED_PROTOCOL_VERSION: "Unsupported protocol version",
}

# Signal numbers that are the same on every POSIX system (the others vary, and this module
# stays free of the signal module so that the protocol core imports no I/O).
_SIGNAL_NAMES = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
    8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
}

# The longest error message sent to a peer for an unexpected exception: enough to say what
# went wrong, too short to leak a whole traceback or a huge value.
MAX_ERROR_MESSAGE = 300


def describe_returncode(returncode: int | None) -> str:
    """Return a human description of a child's exit status.

    Args:
        returncode: as asyncio reports it: ``None`` while running, ``>= 0`` for an exit
            status, ``-N`` for death by signal N.
    """
    if returncode is None:
        return "still running"
    if returncode < 0:
        name = _SIGNAL_NAMES.get(-returncode, f"signal {-returncode}")
        return f"killed by {name}"
    return f"exited with status {returncode}"


def _tail_text(stderr_tail: Sequence[str]) -> str:
    if not stderr_tail:
        return ""
    return "; stderr tail:\n  " + "\n  ".join(stderr_tail)


class MCPStdioError(Exception):
    """Base class of every exception raised by mcp_stdio."""


class StartError(MCPStdioError):
    """The server could not be started, or the handshake did not complete.

    Attributes:
        returncode: the child's exit status if it had exited, else ``None``.
        stderr_tail: the last lines the server wrote on stderr.
        era: the protocol era that was tried (``"handshake"``, ``"2026-07-28"``, ``"auto"``),
            or ``None`` when the failure came before any protocol was spoken.
    """

    def __init__(self, message: str, returncode: int | None = None,
                 stderr_tail: Sequence[str] = (), era: str | None = None) -> None:
        self.returncode = returncode
        self.stderr_tail = tuple(stderr_tail)
        self.era = era
        super().__init__(message + _tail_text(self.stderr_tail))


class SpawnError(StartError):
    """The operating system refused to start the command.

    Attributes:
        command: the argv list that was to be run.
        reason: what the operating system said.
    """

    def __init__(self, command: Sequence[str], reason: str) -> None:
        self.command = list(command)
        self.reason = reason
        super().__init__(f"cannot start {self.command[0]!r}: {reason}")


class UnsupportedProtocolVersion(StartError):
    """The peer offered no protocol version that this side speaks.

    Attributes:
        version: what the peer answered or listed.
        supported: the versions this side accepts.
    """

    def __init__(self, version: object, supported: Sequence[str], era: str | None = None) -> None:
        self.version = version
        self.supported = tuple(supported)
        super().__init__(
            f"server answered protocol version {_brief(version)}; "
            f"this client supports {', '.join(self.supported)}",
            era=era,
        )


class ConnectionClosed(MCPStdioError):
    """The connection to the peer is gone.

    Every request pending at that moment fails with this exception (or a subclass), and so
    does every later request.

    Attributes:
        reason: a short explanation.
        returncode: the child's exit status if it had exited (see :func:`describe_returncode`).
        stderr_tail: the last lines the server wrote on stderr.
    """

    def __init__(self, reason: str, returncode: int | None = None, stderr_tail: Sequence[str] = ()) -> None:
        self.reason = reason
        self.returncode = returncode
        self.stderr_tail = tuple(stderr_tail)
        super().__init__(reason + _tail_text(self.stderr_tail))

    def copy(self) -> ConnectionClosed:
        """Return a new exception with the same class and attributes (one per waiter)."""
        return ConnectionClosed(self.reason, self.returncode, self.stderr_tail)


class ServerExited(ConnectionClosed):
    """The server process exited (or was killed) while the connection was in use."""

    def __init__(self, returncode: int | None, stderr_tail: Sequence[str] = ()) -> None:
        super().__init__(f"server {describe_returncode(returncode)}", returncode, stderr_tail)

    def copy(self) -> ServerExited:
        """Return a new exception with the same attributes."""
        return ServerExited(self.returncode, self.stderr_tail)


class MessageTooLarge(ConnectionClosed):
    """The peer wrote a message longer than ``max_message_size`` bytes.

    The connection is closed: the oversized message may have been the answer to any pending
    request, so continuing would leave that request waiting for nothing.

    Attributes:
        size: how many bytes of the line had been seen when the limit was passed.
        limit: the configured ``max_message_size``.
    """

    def __init__(self, size: int, limit: int, returncode: int | None = None,
                 stderr_tail: Sequence[str] = (), who: str = "server") -> None:
        self.size = size
        self.limit = limit
        self.who = who
        super().__init__(
            f"{who} sent a message of more than {limit} bytes (max_message_size); "
            f"{size} bytes seen without a newline",
            returncode,
            stderr_tail,
        )

    def copy(self) -> MessageTooLarge:
        """Return a new exception with the same attributes."""
        return MessageTooLarge(self.size, self.limit, self.returncode, self.stderr_tail, self.who)


class ProtocolError(MCPStdioError):
    """A rule of JSON-RPC or MCP was broken."""


class LocalProtocolError(ProtocolError):
    """This side was asked to do something the protocol forbids (a programming error)."""


class CapabilityError(LocalProtocolError):
    """The peer did not declare the capability that a method needs.

    MCP 2025-11-25, basic/lifecycle, "Operation": both parties "MUST: Only use capabilities
    that were successfully negotiated".

    Attributes:
        method: the method refused.
        capability: the missing capability, as a dotted path (``resources.subscribe``).
    """

    def __init__(self, method: str, capability: str, who: str = "server") -> None:
        self.method = method
        self.capability = capability
        super().__init__(f"{method}: the {who} did not declare the {capability!r} capability")


class RemoteProtocolError(ProtocolError):
    """The peer broke the protocol: a malformed message, a result of the wrong shape..."""


class UnknownTool(LocalProtocolError, KeyError):
    """A group was asked for a tool that none of its servers offers (also a ``KeyError``)."""

    __str__ = Exception.__str__  # the message, not KeyError's quoted repr


class SchemaError(MCPStdioError, ValueError):
    """A JSON Schema cannot be used: it is malformed, refers to a remote document, uses a
    pattern that could take exponential time, or its validation ran past its budget."""


class RequestError(MCPStdioError):
    """A JSON-RPC error object.

    Raise it from a request handler (a client callback, a server tool or handler) to answer
    the request with exactly this error; see :func:`jsonrpc_error` for other exceptions.

    Attributes:
        code: the JSON-RPC error code (see the constants of this module).
        message: a short description.
        data: the optional ``data`` member, or ``None``.
    """

    def __init__(self, code: int, message: str, data: object = None) -> None:
        self.code = code
        self.message = message
        self.data = data
        super().__init__(self._text())

    def _text(self) -> str:
        text = f"{self.message} (code {self.code})"
        if self.data is not None:
            text += f" data={_brief(self.data)}"
        return text


class RemoteError(RequestError):
    """The peer answered a request with a JSON-RPC error.

    Attributes:
        method: the method of the request that failed, when known.
    """

    def __init__(self, code: int, message: str, data: object = None, method: str | None = None) -> None:
        self.method = method
        super().__init__(code, message, data)

    def _text(self) -> str:
        where = f"{self.method}: " if self.method else ""
        return where + super()._text()


class ToolError(MCPStdioError):
    """Raise from a server tool to report a failure to the model.

    MCP 2025-11-25, server/tools "Error Handling": tool execution errors are reported in the
    result with ``isError: true``, not as protocol errors, so that the model can see them.
    """


class InputRequired(MCPStdioError):
    """A server tool of a 2026-07-28 request needs the client's input.

    Raised by the server's ``Context`` when a tool asks the client for something (sampling,
    elicitation, roots) during a 2026-07-28 request: the request is answered with an
    ``input_required`` result and the tool runs again when the client retries with its
    answer (basic/patterns/mrtr). Tools must let it propagate.

    Attributes:
        key: the key of the input request.
        method: what the server asks for (``sampling/createMessage``...).
        params: its params.
    """

    def __init__(self, key: str, method: str, params: dict) -> None:
        self.key = key
        self.method = method
        self.params = params
        super().__init__(f"input required: {method}")


class RequestTimeout(MCPStdioError, TimeoutError):
    """No answer arrived within the timeout; a cancellation was sent to the peer.

    Attributes:
        method: the method of the request.
        timeout: the timeout that expired, in seconds.
        total: whether it is the limit that progress notifications could not extend
            (``max_total_timeout``).
    """

    def __init__(self, method: str, timeout: float, total: bool = False) -> None:
        self.method = method
        self.timeout = timeout
        self.total = total
        limit = " in all (max_total_timeout: progress cannot extend it)" if total else ""
        super().__init__(f"{method}: no answer within {timeout:g} s{limit}")


class ClientClosedError(MCPStdioError):
    """The client is closing or closed, or was never started; nothing can be sent."""


class ConfigError(MCPStdioError):
    """A configuration file is malformed, or names a server that cannot be used.

    Attributes:
        path: the file.
        server: the server entry at fault, or ``None`` for the file as a whole.
        problem: what is wrong.
    """

    def __init__(self, path: str, server: str | None, problem: str) -> None:
        self.path = path
        self.server = server
        self.problem = problem
        where = f"{path}: server {server!r}" if server is not None else path
        super().__init__(f"{where}: {problem}")


def _brief(value: object, size: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= size else text[: size - 3] + "..."


def jsonrpc_error(exc: BaseException) -> tuple[int, str, Any]:
    """Return ``(code, message, data)``: the JSON-RPC error that answers a failed request.

    The one conversion for both roles:

    * :class:`RequestError` (and so :class:`RemoteError`) keeps its code, message and data;
      the core raises ``RequestError(INVALID_PARAMS, ...)`` for params it refuses;
    * anything else is ``-32603 Internal error`` with a short message naming the
      exception's type: the details stay in this side's log, never a traceback on the wire.
    """
    if isinstance(exc, RequestError):
        return exc.code, exc.message, exc.data
    return INTERNAL_ERROR, _cut(f"{type(exc).__name__}: {exc}"), None


def _cut(text: str) -> str:
    return text if len(text) <= MAX_ERROR_MESSAGE else text[: MAX_ERROR_MESSAGE - 3] + "..."
