"""The client side of an MCP session: the handshake era's lifecycle and the era probe (sans-I/O).

Theory of operation
-------------------
A :class:`ClientSession` is an :class:`~mcp_stdio.session.Endpoint` (framing, checks, ids,
pending and incoming requests) that also owns the client's lifecycle: its state, its era
and its negotiated version. Nothing else in the library keeps a copy.

Starting: :meth:`ClientSession.start` returns the first request. In automatic mode it is
``server/discover``, and from then on the session walks the era probe of
:data:`mcp_stdio.lifecycle.PROBE` on what arrives: answers to ``server/discover`` and to
``initialize``, :meth:`ClientSession.probe_timed_out` (the caller's timer), the end of the
stream. The outcome is one event: :class:`~mcp_stdio.events.HandshakeComplete` (READY, in
one era or the other), :class:`~mcp_stdio.events.HandshakeFailed`, or
:class:`~mcp_stdio.events.RestartForHandshake` (start a new process, handshake only).
Answers to questions the probe no longer asks are dropped quietly.

Rules applied (MCP 2025-11-25, basic/lifecycle, and 2026-07-28, basic/versioning):

* "The initialization phase MUST be the first interaction between client and server":
  nothing but ``initialize`` (or the era probe) may be sent before it
  (:data:`~mcp_stdio.lifecycle.CLIENT_MAY_SEND`); "The client SHOULD NOT send requests
  other than pings before the server has responded to the initialize request".
* "If the client does not support the version in the server's response, it SHOULD
  disconnect": the answer is a :class:`~mcp_stdio.errors.UnsupportedProtocolVersion`.
* "After successful initialization, the client MUST send an initialized notification".
* In 2026-07-28, every request carries the per-request ``_meta`` fields, and a -32022
  answer is retried once with a mutually supported version (:meth:`ClientSession.version_refused`).

What the server said about itself (:attr:`ClientSession.server_result`) is *shared*: sessions
that got the same answer (the same command, spawned many times) hold one decoded copy
(:func:`shared_answer`), which is half the heap a held session would otherwise add for a
typical answer. It is therefore read-only by contract.
"""

from __future__ import annotations

import json

from . import jsonrpc, lifecycle, modern, shapes
from .errors import (
    HEADER_MISMATCH,
    METHOD_NOT_FOUND,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    UNSUPPORTED_PROTOCOL_VERSION,
    LocalProtocolError,
    RemoteError,
    RemoteProtocolError,
    StartError,
    UnsupportedProtocolVersion,
)
from .events import HandshakeComplete, HandshakeFailed, RestartForHandshake, SendInitialize
from .framing import DEFAULT_MAX_MESSAGE_SIZE
from .lifecycle import HANDSHAKE_VERSIONS, MODERN_VERSIONS, PROBE, Probe, State
from .session import DEFAULT_MAX_INCOMING, NO_IDS, Endpoint

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .events import AnyEvent

__all__ = ["ClientSession"]

Response = jsonrpc.Response
ErrorResponse = jsonrpc.ErrorResponse
Request = jsonrpc.Request
Notification = jsonrpc.Notification
InvalidMessage = jsonrpc.InvalidMessage


# How many distinct server answers are shared at most (least recently used dropped first).
SHARED_ANSWERS = 64
_shared: dict[str, dict] = {}


def shared_answer(result: dict) -> dict:
    """Return the one copy of ``result`` that every session with an equal answer holds.

    Keyed by the answer's compact JSON; :data:`SHARED_ANSWERS` distinct answers at most, the
    least recently used dropped first (a server that puts a timestamp in its answer costs one
    entry per session, never more).
    """
    key = json.dumps(result, ensure_ascii=False, separators=(",", ":"))  # decoded JSON: always encodes
    known = _shared.pop(key, None)
    if known is None:
        known = result
        if len(_shared) >= SHARED_ANSWERS:
            del _shared[next(iter(_shared))]
    _shared[key] = known  # (re)inserted last: the most recently used
    return known


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ClientSession(Endpoint):
    """The client side of an MCP connection, in either era.

    Args:
        client_info: ``clientInfo`` (handshake era) and ``io.modelcontextprotocol/clientInfo``
            (2026-07-28).
        capabilities: the client's capabilities (only those it has a handler for).
        protocol: ``"auto"`` (probe with ``server/discover``, fall back to the handshake),
            ``"handshake"``, ``"2026-07-28"``, or ``"auto-handshake"``: automatic, starting
            with ``initialize`` because this server spoke the handshake last time (a
            -32022 answer still switches to 2026-07-28).
        max_message_size: see :class:`Endpoint`.
        max_incoming: see :class:`Endpoint`.
        handshake_versions: the handshake versions accepted, newest first (proposed first).

    Attributes:
        era: ``"handshake"`` or ``"2026-07-28"`` once the session is READY, else ``None``.
        server_result: what the server said about itself, shaped like an InitializeResult
            (protocolVersion, capabilities, serverInfo, instructions), once READY.
        probe: the phase of the era probe (:class:`~mcp_stdio.lifecycle.Probe`).
    """

    role = "client"

    __slots__ = ("client_info", "capabilities", "protocol", "handshake_versions", "era", "server_result",
                 "probe", "_initialize_id", "_discover_ids", "_ignored", "_meta", "log_level")

    def __init__(self, client_info: dict, capabilities: dict, *, protocol: str = "auto",
                 max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE, max_incoming: int = DEFAULT_MAX_INCOMING,
                 handshake_versions: tuple[str, ...] = HANDSHAKE_VERSIONS) -> None:
        super().__init__(max_message_size, max_incoming)
        if protocol not in ("auto", "auto-handshake", lifecycle.HANDSHAKE) + MODERN_VERSIONS:
            raise ValueError(f"protocol must be 'auto', 'handshake' or one of {', '.join(MODERN_VERSIONS)}, "
                             f"not {protocol!r}")
        self.client_info = client_info
        self.capabilities = capabilities
        self.protocol = protocol
        self.handshake_versions = tuple(handshake_versions)
        self.era: str | None = None
        self.server_result: dict | None = None
        self.probe = Probe.DONE
        self._initialize_id: int | None = None
        self._discover_ids: dict[int, str] = {}  # open server/discover requests -> version asked
        self._ignored: set[int] | frozenset = NO_IDS  # late answers of the era probe, dropped quietly
        self._meta: dict | None = None  # the per-request _meta fields of 2026-07-28
        # The lowest level of notifications/message wanted (2026-07-28 sends it per request).
        self.log_level: str | None = None

    # Public methods

    def start(self) -> bytes:
        """Start the session; return the first request to write.

        ``server/discover`` for ``"auto"`` and ``"2026-07-28"``, ``initialize`` for the
        handshake. The answer arrives as events: :class:`~mcp_stdio.events.HandshakeComplete`,
        :class:`~mcp_stdio.events.HandshakeFailed`, :class:`RestartForHandshake`, or
        :class:`~mcp_stdio.events.SendInitialize` on the way.
        """
        if self._next_id != 1:
            raise LocalProtocolError(f"start() called twice (session is {self.state.value})")
        if self.protocol == "auto":
            self.probe = Probe.DISCOVERING
            self._send_discover(MODERN_VERSIONS[0])
        elif self.protocol in MODERN_VERSIONS:
            self.probe = Probe.MODERN_ONLY
            self._send_discover(self.protocol)
        else:
            # "auto-handshake" may still switch to 2026-07-28; "handshake" may not.
            self.probe = Probe.HANDSHAKING if self.protocol == "auto-handshake" else Probe.HANDSHAKE_ONLY
            self._send_initialize()
        return self.data_to_send()

    def probe_timed_out(self) -> list[AnyEvent]:
        """The era probe got no answer within its time: fall back to ``initialize`` too.

        Returns the events of the transition (write :meth:`data_to_send` after).
        """
        events: list = []
        self._step("probe_timeout", events)
        return events

    def receive_eof(self) -> list[AnyEvent]:
        """Signal the end of the server's stream; see :meth:`Endpoint.receive_eof`.

        During the era probe, the end of the stream decides too: a server that exits on the
        probe is restarted for the handshake (:class:`RestartForHandshake`).
        """
        events = super().receive_eof()
        if self.state is State.NEW or self.state is State.INITIALIZING:
            self._step("eof", events)
        return events

    def send_request(self, method: str, params: dict | None = None, token: Any = None, *,
                     task: bool = False, progress: bool = False, meta: dict | None = None) -> tuple[int, bytes]:
        """Register and serialize a request; see :meth:`Endpoint.send_request`.

        In 2026-07-28, ``params._meta`` gets the per-request protocol fields (MCP 2026-07-28,
        basic/index: "Client requests carry the following io.modelcontextprotocol/* fields
        in _meta; fields marked as required MUST be included on every request"): those of
        this session, or ``meta`` (a dict of those fields, for a caller that speaks as
        another client, such as a pool's agent).
        """
        if self.era is not None and self.era != lifecycle.HANDSHAKE:
            params = modern.stamp(params, meta if meta is not None else self.meta_fields())
        return super().send_request(method, params, token, task=task, progress=progress)

    def meta_fields(self, client_info: dict | None = None, capabilities: dict | None = None,
                    log_level: str | None = None) -> dict:
        """Return the per-request ``_meta`` fields of 2026-07-28 for a caller (this session's
        own when every argument is ``None``)."""
        own = client_info is None and capabilities is None and log_level is None
        if own and self._meta is not None and self.log_level is None:
            return self._meta
        fields = modern.meta_fields(self.version or MODERN_VERSIONS[0],
                                    self.capabilities if capabilities is None else capabilities,
                                    self.client_info if client_info is None else client_info,
                                    self.log_level if own else log_level)
        if own and self.log_level is None:
            self._meta = fields
        return fields

    def version_refused(self, error: RemoteError) -> str | None:
        """A request was answered -32022 (2026-07-28): return the version to retry with, or
        ``None`` to give up (and switch this session to it).

        basic/versioning: the client "SHOULD select a mutually supported version from the
        supported list and retry the request".
        """
        if error.code != UNSUPPORTED_PROTOCOL_VERSION or self.era == lifecycle.HANDSHAKE:
            return None
        version = lifecycle.mutual_version(modern.supported_from_error(error.data))
        if version is None:
            return None
        if version != self.version:
            self.version = version
            self._meta = None
        return version

    # Private methods

    def _check_may_send(self, method: str) -> None:
        state = self.state
        if state is State.READY:
            return  # everything (the common case, on every request)
        if method not in lifecycle.CLIENT_MAY_SEND[state]:
            if state is State.CLOSING or state is State.CLOSED:
                raise LocalProtocolError(f"cannot send {method}: the session is {state.value}")
            raise LocalProtocolError(f"cannot send {method} before the session is ready "
                                     f"(session is {state.value})")

    def _mark(self, msg_id: int) -> None:
        """Keep the answer of our request ``msg_id`` for the probe's own handling."""
        if self._special is NO_IDS:
            self._special = set()
        self._special.add(msg_id)  # type: ignore[union-attr]

    def _unmark(self, msg_id: Any) -> None:
        special = self._special
        if msg_id in special:
            special.discard(msg_id)  # type: ignore[union-attr]
            if not special:
                self._special = NO_IDS  # the common state after the start: no set held

    def _send_discover(self, version: str) -> None:
        fields = modern.meta_fields(version, self.capabilities, self.client_info, None)
        msg_id, data = Endpoint.send_request(self, "server/discover", {"_meta": fields})
        self._discover_ids[msg_id] = version
        self._mark(msg_id)
        self._out.append(data)

    def _send_initialize(self) -> None:
        # MCP 2025-11-25, basic/lifecycle: "the client MUST send a protocol version it
        # supports. This SHOULD be the latest version supported by the client."
        params = {"protocolVersion": self.handshake_versions[0], "capabilities": self.capabilities,
                  "clientInfo": self.client_info}
        msg_id, data = Endpoint.send_request(self, "initialize", params)
        self._initialize_id = msg_id
        self._mark(msg_id)
        self.state = State.INITIALIZING
        self._out.append(data)

    def _answer(self, msg_id: int | str, entry: tuple[str, Any, bool], message: Response | ErrorResponse,
                events: list) -> None:
        if msg_id in self._discover_ids or msg_id == self._initialize_id:
            del self._pending[msg_id]
            self._unmark(msg_id)
            self._probe_answer(msg_id, message, events)  # type: ignore[arg-type]
        elif msg_id in self._ignored:
            del self._pending[msg_id]
            self._ignored.discard(msg_id)  # type: ignore[union-attr]
            if not self._ignored:
                self._ignored = NO_IDS
            self._unmark(msg_id)
        else:
            super()._answer(msg_id, entry, message, events)

    def _invalid(self, message: InvalidMessage, events: list) -> None:
        answer_id = message.answer_id
        if answer_id in self._discover_ids or (answer_id is not None and answer_id == self._initialize_id):
            del self._pending[answer_id]  # type: ignore[arg-type]
            self._unmark(answer_id)
            if self._discover_ids.pop(answer_id, None) is not None:  # type: ignore[arg-type]
                self._step("discover_malformed", events, f"server/discover answer: {message.reason}")
            else:
                self._initialize_id = None
                self._step("initialize_malformed", events, f"initialize answer: {message.reason}")
            return
        super()._invalid(message, events)

    def _request_allowed(self, message: Request) -> tuple[int, str] | None:
        if self.state is not State.READY and self.state is not State.INITIALIZED and message.method != "ping":
            return METHOD_NOT_FOUND, f"Method not found: {message.method} (the session is not initialized yet)"
        return None

    def _special_notification(self, message: Notification, params: dict, events: list) -> bool:
        return False

    def _probe_answer(self, msg_id: int, message: Response | ErrorResponse, events: list) -> None:
        if msg_id in self._discover_ids:
            what, detail = self._discover_outcome(self._discover_ids.pop(msg_id), message)
        else:
            self._initialize_id = None
            what, detail = self._initialize_outcome(message)
        self._step(what, events, detail)

    def _discover_outcome(self, asked: str, message: Response | ErrorResponse) -> tuple[str, Any]:
        """Classify an answer to server/discover: (probe input, what goes with it).

        MCP 2026-07-28, basic/transports/stdio: "The server returns a DiscoverResult: the
        server is modern. [...] a recognized modern JSON-RPC error such as
        UnsupportedProtocolVersionError: the server is modern but does not support the
        requested version. Use one of the versions in its advertised supported list. Do not
        fall back to initialize. [...] any other error [...]: the server is legacy. Fall back
        to the initialize handshake." A list naming only handshake versions we speak is a
        dual-era server: the handshake works.
        """
        if message.__class__ is ErrorResponse:
            error = RemoteError(message.code, message.message, message.data, "server/discover")  # type: ignore
            if error.code == UNSUPPORTED_PROTOCOL_VERSION:
                supported = modern.supported_from_error(error.data)
                version = lifecycle.mutual_version(supported)
                if version is not None and version != asked:
                    return "discover_retry", version
                if lifecycle.mutual_version(supported, self.handshake_versions) is not None:
                    return "discover_refused", error
                return "discover_unsupported", UnsupportedProtocolVersion(supported, MODERN_VERSIONS,
                                                                          lifecycle.MODERN)
            if error.code in (HEADER_MISMATCH, MISSING_REQUIRED_CLIENT_CAPABILITY):
                return "discover_unsupported", error
            return "discover_refused", error
        result = message.result  # type: ignore[union-attr]
        if type(result) is not dict or "supportedVersions" not in result:
            # Nothing modern about it: a sloppy legacy server that answers any request with
            # something (an empty result...). Only a result that claims to be a
            # DiscoverResult and breaks its schema is malformed.
            return "discover_refused", RemoteProtocolError(f"server/discover answered with {_brief(result)}")
        problems = shapes.check_result(asked, "server/discover", result)
        if problems:
            return "discover_malformed", "server/discover result: " + "; ".join(problems)
        offered = result["supportedVersions"]
        version = lifecycle.mutual_version(offered)
        if version is not None:
            return "discover_ok", (version, result)
        unsupported = UnsupportedProtocolVersion(offered, MODERN_VERSIONS + self.handshake_versions, lifecycle.MODERN)
        if lifecycle.mutual_version(offered, self.handshake_versions) is not None:
            return "discover_refused", unsupported
        return "discover_unsupported", unsupported

    def _initialize_outcome(self, message: Response | ErrorResponse) -> tuple[str, Any]:
        """Classify an answer to initialize: (probe input, what goes with it).

        basic/versioning: "A server that supports only [modern] versions SHOULD name the
        protocol versions it supports in any error it returns to an initialize request":
        -32022, or any error whose data lists a modern version we speak, means the server
        serves 2026-07-28.
        """
        if message.__class__ is ErrorResponse:
            error = RemoteError(message.code, message.message, message.data, "initialize")  # type: ignore
            if error.code == UNSUPPORTED_PROTOCOL_VERSION or lifecycle.mutual_version(
                    modern.supported_from_error(error.data)) is not None:
                return "initialize_modern", error
            return "initialize_refused", error
        result = message.result  # type: ignore[union-attr]
        if type(result) is not dict:
            return "initialize_malformed", f"initialize result is not an object: {_brief(result)}"
        version = result.get("protocolVersion")
        if type(version) is not str:
            return "initialize_malformed", "initialize result: $.protocolVersion is missing or not a string"
        if version not in self.handshake_versions:
            # basic/lifecycle: "If the client does not support the version in the server's
            # response, it SHOULD disconnect."
            return "initialize_refused", UnsupportedProtocolVersion(version, self.handshake_versions,
                                                                    lifecycle.HANDSHAKE)
        problems = shapes.check_result(version, "initialize", result)
        if problems:
            return "initialize_malformed", "initialize result: " + "; ".join(problems)
        return "initialize_ok", (version, result)

    def _step(self, what: str, events: list, detail: Any = None) -> None:
        """Apply one transition of the era probe (:data:`mcp_stdio.lifecycle.PROBE`)."""
        transition = PROBE.get((self.probe, what))
        if transition is None:
            return  # a late answer the probe no longer waits for
        self.probe, actions = transition
        for action in actions:
            if action == "adopt":
                self._adopt(lifecycle.MODERN, detail[0], detail[1], events)
            elif action == "complete":
                self._adopt(lifecycle.HANDSHAKE, detail[0], detail[1], events)
            elif action == "initialize":
                self._send_initialize()
                why = "no answer in time" if what == "probe_timeout" else f"a refusal ({detail})"
                events.append(SendInitialize(f"the era probe got {why}; trying the handshake"))
            elif action == "discover":
                self._send_discover(detail if what == "discover_retry" else MODERN_VERSIONS[0])
            elif action == "respawn":
                self._forget_probe()
                events.append(RestartForHandshake("the server exited on the era probe"))
            elif action == "fail":
                self._forget_probe()
                events.append(HandshakeFailed(self._start_error(what, detail)))

    def _adopt(self, era: str, version: str, result: dict, events: list) -> None:
        self._forget_probe()
        if era == lifecycle.MODERN:
            meta = result.get("_meta") if type(result.get("_meta")) is dict else {}
            facts = {"protocolVersion": version, "capabilities": result.get("capabilities") or {},
                     "serverInfo": meta.get(modern.SERVER_INFO) or {}}  # type: ignore[union-attr]
            if "instructions" in result:
                facts["instructions"] = result["instructions"]
            result = facts
        else:
            # MCP 2025-11-25, basic/lifecycle: "After successful initialization, the client
            # MUST send an initialized notification to indicate it is ready to begin normal
            # operations."
            self._out.append(self.send_notification("notifications/initialized"))
        self.era = era
        self.version = version
        self.server_result = shared_answer(result)
        self.state = State.READY
        events.append(HandshakeComplete(era, version, result))

    def _forget_probe(self) -> None:
        """Drop the open questions of the probe; their late answers are ignored quietly."""
        ignored = set(self._ignored)
        ignored.update(self._discover_ids)
        if self._initialize_id is not None:
            ignored.add(self._initialize_id)
        self._ignored = ignored if ignored else NO_IDS
        self._discover_ids.clear()
        self._initialize_id = None

    def _start_error(self, what: str, detail: Any) -> StartError:
        era = self._era_tried()
        if isinstance(detail, UnsupportedProtocolVersion):
            return detail
        if what.endswith("_malformed"):
            error = StartError(f"answered with a malformed message: {detail}", era=era)
            error.__cause__ = RemoteProtocolError(detail)
            return error
        if what == "eof":
            return StartError("closed its output before answering " + (
                "initialize" if self._initialize_id is not None or era == lifecycle.HANDSHAKE else "server/discover"),
                era=era)
        if what == "initialize_modern":
            error = StartError(f"refused initialize: {detail}; it speaks 2026-07-28 only "
                               "(use protocol='auto' or protocol='2026-07-28')", era=lifecycle.HANDSHAKE)
        else:
            method = getattr(detail, "method", None) or "the handshake"
            error = StartError(f"refused {method}: {detail}", era=era)
        error.__cause__ = detail
        return error

    def _era_tried(self) -> str:
        if self.protocol in MODERN_VERSIONS:
            return self.protocol
        return "auto" if self.protocol == "auto" else lifecycle.HANDSHAKE
