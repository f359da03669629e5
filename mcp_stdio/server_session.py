"""The server side of an MCP session: lifecycle, version negotiation, both eras (sans-I/O).

Theory of operation
-------------------
A :class:`ServerSession` is an :class:`~mcp_stdio.session.Endpoint` (framing, checks, ids,
pending and incoming requests) that also owns the server's lifecycle. It answers by itself
what the protocol alone decides, so that a server built on it cannot get these wrong:

* ``initialize``: the version is negotiated (:func:`mcp_stdio.lifecycle.negotiate_version`),
  the client's info and capabilities are kept, the server's capabilities for that version
  come from the ``capabilities`` function it was given; a second ``initialize`` is refused.
* ``ping`` (handshake era) and ``server/discover`` (2026-07-28).
* ``logging/setLevel``: the level is kept in :attr:`ServerSession.log_level`; the server asks
  :meth:`ServerSession.should_log` before it sends ``notifications/message``.
* requests the lifecycle does not allow (anything but ``initialize``, ``ping`` or the era
  probe before ``initialize``, :data:`~mcp_stdio.lifecycle.SERVER_ACCEPTS`) get an error.

A request is in the 2026-07-28 era when its ``_meta`` carries
``io.modelcontextprotocol/protocolVersion``; such a request is checked on its own (MCP
2026-07-28, basic/versioning: a version the server does not speak gets -32022 with the
versions it does; basic/index: "A request missing any required field is malformed; the
server MUST reject it with JSON-RPC error code -32602 (Invalid params)"), needs no
handshake, and its result gets ``resultType``.

Everything else reaches the caller as a :class:`~mcp_stdio.events.RequestReceived` whose
``version`` says which version's shapes its result must have.
"""

from __future__ import annotations

from . import jsonrpc, lifecycle, modern, shapes
from .errors import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    UNSUPPORTED_PROTOCOL_VERSION,
    CapabilityError,
    LocalProtocolError,
)
from .events import ClientInitialized, MessageRejected, SessionStarted
from .framing import DEFAULT_MAX_MESSAGE_SIZE
from .lifecycle import HANDSHAKE_VERSIONS, MODERN_VERSIONS, State
from .session import DEFAULT_MAX_INCOMING, Endpoint

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["ServerSession", "LOGGING_LEVELS"]

# MCP server/utilities/logging: the syslog severities, lowest first.
LOGGING_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")

Request = jsonrpc.Request
Notification = jsonrpc.Notification


class ServerSession(Endpoint):
    """The server side of an MCP connection, in both eras at once.

    Args:
        server_info: ``serverInfo`` (``name``, ``version``, optional ``title``...).
        capabilities: a function of the protocol version returning the server's
            capabilities in that version (they differ: ``completions`` came in 2025-03-26,
            ``tasks`` in 2025-11-25...).
        instructions: optional ``instructions`` for the client.
        discover_hints: the caching fields of the ``server/discover`` result (``ttlMs``,
            ``cacheScope``; required by the schema; by default ``0`` and ``"public"``).
        max_message_size: see :class:`~mcp_stdio.session.Endpoint`.
        max_incoming: see :class:`~mcp_stdio.session.Endpoint`.

    Attributes:
        client_info: ``clientInfo`` from ``initialize`` (handshake era).
        client_capabilities: the client's capabilities from ``initialize``.
        log_level: the level set by ``logging/setLevel`` (handshake era), ``None`` before.
    """

    role = "server"

    __slots__ = ("server_info", "instructions", "_capabilities", "discover_hints", "client_info",
                 "client_capabilities", "log_level")

    def __init__(self, server_info: dict, capabilities: Callable[[str], dict], *, instructions: str | None = None,
                 discover_hints: dict | None = None, max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
                 max_incoming: int = DEFAULT_MAX_INCOMING) -> None:
        super().__init__(max_message_size, max_incoming)
        self.server_info = server_info
        self.instructions = instructions
        self._capabilities = capabilities
        self.discover_hints = dict({"ttlMs": 0, "cacheScope": "public"}, **(discover_hints or {}))
        self.client_info: dict = {}
        self.client_capabilities: dict = {}
        self.log_level: str | None = None

    # Public methods

    def client_capabilities_of(self, params: dict) -> dict:
        """Return the client's capabilities for a request: its own ``_meta`` ones in
        2026-07-28, the ``initialize`` ones in the handshake era."""
        if modern.is_modern_request(params):
            capabilities = params["_meta"].get(modern.CLIENT_CAPABILITIES)
            return capabilities if type(capabilities) is dict else {}
        return self.client_capabilities

    def should_log(self, level: str, params: dict | None = None) -> bool:
        """Return whether a ``notifications/message`` at ``level`` may be sent now.

        In the handshake era, the level of ``logging/setLevel`` (``info`` until it is set:
        MCP server/utilities/logging leaves the default to the server). In 2026-07-28
        the request's own ``io.modelcontextprotocol/logLevel``; without one, nothing (the
        client did not ask).
        """
        if level not in LOGGING_LEVELS:
            return False
        if params is not None and modern.is_modern_request(params):
            wanted = params["_meta"].get(modern.LOG_LEVEL)
        else:
            wanted = self.log_level or "info"
        return wanted in LOGGING_LEVELS and LOGGING_LEVELS.index(level) >= LOGGING_LEVELS.index(wanted)

    def send_request(self, method: str, params: dict | None = None, token: Any = None, *,
                     task: bool = False, progress: bool = False) -> tuple[int, bytes]:
        """Register and serialize a request to the client; see
        :meth:`~mcp_stdio.session.Endpoint.send_request`.

        Raises:
            CapabilityError: the client did not declare the capability ``method`` needs
                (MCP basic/lifecycle: "Only use capabilities that were successfully
                negotiated").
            LocalProtocolError: the lifecycle does not allow it now.
        """
        capability = lifecycle.CLIENT_CAPABILITY.get(method)
        if capability is not None and not lifecycle.declares(self.client_capabilities, capability):
            raise CapabilityError(method, capability, who="client")
        return super().send_request(method, params, token, task=task, progress=progress)

    # Private methods

    def _check_may_send(self, method: str) -> None:
        if method not in lifecycle.SERVER_MAY_SEND[self.state]:
            raise LocalProtocolError(f"cannot send {method} to the client now (session is {self.state.value})")

    def _request_allowed(self, message: Request) -> tuple[int, str] | None:
        if modern.is_modern_request(message.params):
            return None  # 2026-07-28: every request stands alone
        state = self.state
        if message.method == "initialize" and state is not State.NEW:
            return INVALID_REQUEST, "initialize was already received: the session is initialized"
        if message.method not in lifecycle.SERVER_ACCEPTS[state]:
            # basic/lifecycle: "The initialization phase MUST be the first interaction
            # between client and server".
            return lifecycle.NOT_INITIALIZED, f"{message.method} before initialize: the session is not initialized"
        return None

    def _request_version(self, message: Request) -> tuple[str | None, tuple[int, str, Any] | None]:
        params = message.params
        if modern.is_modern_request(params):
            requested = params["_meta"][modern.PROTOCOL_VERSION]  # type: ignore[index]
            if requested not in MODERN_VERSIONS:
                # basic/versioning: the server "MUST respond with an
                # UnsupportedProtocolVersionError listing the versions it does support".
                return None, (UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version",
                              {"supported": list(MODERN_VERSIONS + HANDSHAKE_VERSIONS), "requested": requested})
            if type(params["_meta"].get(modern.CLIENT_CAPABILITIES)) is not dict:  # type: ignore[index]
                return None, (INVALID_PARAMS, f"Invalid params: _meta lacks {modern.CLIENT_CAPABILITIES}", None)
            return requested, None
        if message.method == "initialize":
            requested = (params or {}).get("protocolVersion")
            return lifecycle.negotiate_version(requested), None
        if message.method == "server/discover":
            return MODERN_VERSIONS[0], None
        return self.version, None

    def _special_request(self, message: Request, version: str | None, events: list) -> bool:
        method = message.method
        if method == "initialize":
            return self._initialize(message, version, events)  # type: ignore[arg-type]
        if method == "server/discover":
            problems = shapes.check_params(version, method, message.params, sender="client")  # type: ignore
            if problems:
                return False  # answered -32602 by the common checks
            self._out.append(jsonrpc.encode_result(message.id, self._discover_result()))
            return True
        if method == "logging/setLevel" and version not in MODERN_VERSIONS and version is not None:
            level = (message.params or {}).get("level")
            if level not in LOGGING_LEVELS:
                self._out.append(jsonrpc.encode_error(message.id, INVALID_PARAMS, f"Invalid params: unknown logging "
                                                      f"level {level!r:.40}"))
                events.append(MessageRejected(f"logging/setLevel refused: unknown level {level!r:.40}", method))
                return True
            self.log_level = level
            self._out.append(jsonrpc.encode_result(message.id, {}))
            return True
        return super()._special_request(message, version, events)

    def _initialize(self, message: Request, version: str, events: list) -> bool:
        problems = shapes.check_params(version, "initialize", message.params, sender="client")
        if problems:
            return False  # answered -32602 by the common checks
        params = message.params or {}
        self.version = version
        self.client_info = params.get("clientInfo") or {}
        self.client_capabilities = params.get("capabilities") or {}
        result: dict = {"protocolVersion": version, "capabilities": self._capabilities(version),
                        "serverInfo": self.server_info}
        if self.instructions:
            result["instructions"] = self.instructions
        self.state = State.INITIALIZED
        self._out.append(jsonrpc.encode_result(message.id, result))
        events.append(SessionStarted(version, self.client_info, self.client_capabilities))
        return True

    def _discover_result(self) -> dict:
        version = MODERN_VERSIONS[0]
        result: dict = {"resultType": "complete", "supportedVersions": list(MODERN_VERSIONS),
                        "capabilities": self._capabilities(version),
                        "_meta": {modern.SERVER_INFO: self.server_info}}
        if self.instructions:
            result["instructions"] = self.instructions
        result.update(self.discover_hints)
        return result

    def _special_notification(self, message: Notification, params: dict, events: list) -> bool:
        if message.method == "notifications/initialized":
            if self.state is State.INITIALIZED:
                self.state = State.READY
                events.append(ClientInitialized())
            return True
        return False

    def _outgoing_result(self, method: str, version: str | None, result: Any) -> Any:
        if version in MODERN_VERSIONS and type(result) is dict:
            result = dict(result)
            # basic/index: servers implementing this version "MUST include" resultType, and
            # "SHOULD include [io.modelcontextprotocol/serverInfo] in every result's _meta".
            result.setdefault("resultType", "complete")
            meta = result.get("_meta")
            if type(meta) is not dict or modern.SERVER_INFO not in meta:
                result["_meta"] = dict(meta if type(meta) is dict else {}, **{modern.SERVER_INFO: self.server_info})
        return result
