"""Every exception mcp_stdio raises, in one place.

The tree::

    MCPStdioError                     base of everything below
    ├── StartError                    the server could not be started or handshaken
    │   ├── SpawnError                the command is missing, not executable, a directory...
    │   └── UnsupportedProtocolVersion  the server answered initialize with a version we lack
    ├── ConnectionClosed              the connection is gone; pending requests fail with this
    │   ├── ServerExited              the child exited (exit status and stderr tail attached)
    │   └── MessageTooLarge           the server wrote a line over ``max_message_size``
    ├── ProtocolError
    │   ├── LocalProtocolError        we were asked to do something the protocol forbids
    │   │   └── CapabilityError       the server did not declare the capability a method needs
    │   └── RemoteProtocolError       the server broke the protocol
    ├── RemoteError                   the server answered a request with a JSON-RPC error
    ├── RequestTimeout                no answer in time (also a builtin ``TimeoutError``)
    ├── ClientClosedError             the client is closed or closing; nothing more is sent
    └── ConfigError                   an mcpServers configuration file is malformed

Each exception builds its message from its attributes, so ``str(exc)`` is always complete
and the attributes are there for programs. No ``ExceptionGroup`` is ever raised.
"""

from __future__ import annotations

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
    "RemoteError",
    "RequestTimeout",
    "ClientClosedError",
    "ConfigError",
    "describe_returncode",
    # JSON-RPC and MCP error codes
    "PARSE_ERROR",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "INVALID_PARAMS",
    "INTERNAL_ERROR",
    "RESOURCE_NOT_FOUND",
    "URL_ELICITATION_REQUIRED",
]

# JSON-RPC 2.0 specification, section 5.1 "Error object": the pre-defined codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# MCP 2025-11-25, server/resources "Error Handling": "Resource not found: -32002".
RESOURCE_NOT_FOUND = -32002
# MCP 2025-11-25 schema, URLElicitationRequiredError: code -32042.
URL_ELICITATION_REQUIRED = -32042


# Signal numbers that are the same on every POSIX system (the others vary, and this module
# stays free of the signal module so that the protocol core imports no I/O).
_SIGNAL_NAMES = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
    8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
}


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


def _tail_text(stderr_tail: tuple[str, ...] | list[str]) -> str:
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
    """

    def __init__(self, message: str, returncode: int | None = None,
                 stderr_tail: tuple[str, ...] | list[str] = ()) -> None:
        self.returncode = returncode
        self.stderr_tail = tuple(stderr_tail)
        super().__init__(message + _tail_text(self.stderr_tail))


class SpawnError(StartError):
    """The operating system refused to start the command.

    Attributes:
        command: the argv list that was to be run.
        reason: what the operating system said.
    """

    def __init__(self, command: list[str], reason: str) -> None:
        self.command = list(command)
        self.reason = reason
        super().__init__(f"cannot start {self.command[0]!r}: {reason}")


class UnsupportedProtocolVersion(StartError):
    """The server chose a protocol version this client does not speak.

    Attributes:
        version: what the server answered.
        supported: the versions this client accepts.
    """

    def __init__(self, version: object, supported: tuple[str, ...]) -> None:
        self.version = version
        self.supported = tuple(supported)
        super().__init__(
            f"server answered protocol version {version!r}; "
            f"this client supports {', '.join(self.supported)}"
        )


class ConnectionClosed(MCPStdioError):
    """The connection to the server is gone.

    Every request pending at that moment fails with this exception (or a subclass), and so
    does every later request.

    Attributes:
        reason: a short explanation.
        returncode: the child's exit status if it had exited (see :func:`describe_returncode`).
        stderr_tail: the last lines the server wrote on stderr.
    """

    def __init__(
        self,
        reason: str,
        returncode: int | None = None,
        stderr_tail: tuple[str, ...] | list[str] = (),
    ) -> None:
        self.reason = reason
        self.returncode = returncode
        self.stderr_tail = tuple(stderr_tail)
        super().__init__(reason + _tail_text(self.stderr_tail))


class ServerExited(ConnectionClosed):
    """The server process exited (or was killed) while the connection was in use."""

    def __init__(self, returncode: int | None, stderr_tail: tuple[str, ...] | list[str] = ()) -> None:
        super().__init__(f"server {describe_returncode(returncode)}", returncode, stderr_tail)


class MessageTooLarge(ConnectionClosed):
    """The server wrote a message longer than ``max_message_size`` bytes.

    The connection is closed: the oversized message may have been the answer to any pending
    request, so continuing would leave that request waiting for nothing.

    Attributes:
        size: how many bytes of the line had been seen when the limit was passed.
        limit: the configured ``max_message_size``.
    """

    def __init__(self, size: int, limit: int, returncode: int | None = None,
                 stderr_tail: tuple[str, ...] | list[str] = ()) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"server sent a message of more than {limit} bytes (max_message_size); "
            f"{size} bytes seen without a newline",
            returncode,
            stderr_tail,
        )


class ProtocolError(MCPStdioError):
    """A rule of JSON-RPC or MCP was broken."""


class LocalProtocolError(ProtocolError):
    """This side was asked to do something the protocol forbids (a programming error)."""


class CapabilityError(LocalProtocolError):
    """The server did not declare the capability that a method needs.

    MCP 2025-11-25, basic/lifecycle, "Operation": both parties "MUST: Only use capabilities
    that were successfully negotiated".

    Attributes:
        method: the method refused.
        capability: the missing capability, as a dotted path (``resources.subscribe``).
    """

    def __init__(self, method: str, capability: str) -> None:
        self.method = method
        self.capability = capability
        super().__init__(f"{method}: the server did not declare the {capability!r} capability")


class RemoteProtocolError(ProtocolError):
    """The server broke the protocol."""


class RemoteError(MCPStdioError):
    """The server answered a request with a JSON-RPC error.

    Attributes:
        code: the JSON-RPC error code (see the ``*_ERROR`` constants in this module).
        message: the server's message.
        data: the optional ``data`` member, or ``None``.
        method: the method of the request that failed, when known.
    """

    def __init__(self, code: int, message: str, data: object = None, method: str | None = None) -> None:
        self.code = code
        self.message = message
        self.data = data
        self.method = method
        where = f"{method}: " if method else ""
        text = f"{where}{message} (code {code})"
        if data is not None:
            text += f" data={data!r}"
        super().__init__(text)


class RequestTimeout(MCPStdioError, TimeoutError):
    """No answer arrived within the timeout; a cancellation was sent to the server.

    Attributes:
        method: the method of the request.
        timeout: the timeout that expired, in seconds.
    """

    def __init__(self, method: str, timeout: float) -> None:
        self.method = method
        self.timeout = timeout
        super().__init__(f"{method}: no answer within {timeout:g} s")


class ClientClosedError(MCPStdioError):
    """The client is closing or closed, or was never started; nothing can be sent."""


class ConfigError(MCPStdioError):
    """A configuration file (the ``mcpServers`` format) is malformed.

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
