"""The MCP lifecycle as data: states, eras, versions, capabilities, the era probe (sans-I/O).

Theory of operation
-------------------
MCP has two eras. In the *handshake* era (2024-11-05 to 2025-11-25) a session starts with
``initialize``; in the *modern* era (2026-07-28) there is no session: every request carries
its protocol version and the client's capabilities in ``_meta``, and ``server/discover``
tells what a server speaks. A client session and a server session
(:mod:`mcp_stdio.session`) each own one :class:`State`, one era and one negotiated version;
nothing else in the library keeps a copy. This module holds the rules they apply, as data:

* :data:`CLIENT_MAY_SEND` and :data:`SERVER_MAY_SEND`: which requests each side may send in
  each state; :data:`SERVER_ACCEPTS`: which requests a server answers in each state (the
  others get :data:`NOT_INITIALIZED` as an error);
* :data:`SERVER_CAPABILITY` and :data:`CLIENT_CAPABILITY`: which capability of the peer each
  method needs, walked by :func:`declares`;
* :data:`PROBE`: the era probe of a client in automatic mode, a transition table from
  (phase, what happened) to (next phase, what to do).

The handshake era's states (MCP 2025-11-25, basic/lifecycle)::

    client: NEW --initialize--> INITIALIZING --result--> INITIALIZED --initialized--> READY
    server: NEW --initialize answered--> INITIALIZED --initialized received--> READY
    both:   any --close--> CLOSING --connection gone--> CLOSED

A modern client goes from NEW to READY when ``server/discover`` answers; a modern server
is READY from the start (every request carries what a handshake would have said).
"""

from __future__ import annotations

import enum

from .errors import INVALID_REQUEST

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Iterable

__all__ = [
    "State",
    "HANDSHAKE",
    "MODERN",
    "HANDSHAKE_VERSIONS",
    "LATEST_HANDSHAKE_VERSION",
    "MODERN_VERSIONS",
    "ALL_VERSIONS",
    "negotiate_version",
    "mutual_version",
    "ANY",
    "CLIENT_MAY_SEND",
    "SERVER_MAY_SEND",
    "SERVER_ACCEPTS",
    "NOT_INITIALIZED",
    "MODERN_REMOVED",
    "SERVER_CAPABILITY",
    "CLIENT_CAPABILITY",
    "declares",
    "Probe",
    "PROBE",
]


class State(enum.Enum):
    """The lifecycle state of a session (compare with ``is``)."""

    NEW = "new"
    INITIALIZING = "initializing"
    INITIALIZED = "initialized"
    READY = "ready"
    CLOSING = "closing"
    CLOSED = "closed"


# The two eras, as the sessions and the command line name them.
HANDSHAKE = "handshake"
MODERN = "2026-07-28"

# The handshake-era versions this library speaks, newest first. MCP 2025-11-25,
# basic/lifecycle: the client "MUST send a protocol version it supports. This SHOULD be the
# latest version supported by the client."
HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
LATEST_HANDSHAKE_VERSION = HANDSHAKE_VERSIONS[0]
# The modern versions, newest first.
MODERN_VERSIONS = ("2026-07-28",)
ALL_VERSIONS = MODERN_VERSIONS + HANDSHAKE_VERSIONS


def negotiate_version(requested: object, supported: tuple[str, ...] = HANDSHAKE_VERSIONS) -> str:
    """Return the version a server answers to ``initialize`` (basic/lifecycle).

    "If the server supports the requested protocol version, it MUST respond with the same
    version. Otherwise, the server MUST respond with another protocol version it supports.
    This SHOULD be the latest version supported by the server."
    """
    if requested in supported:
        return requested  # type: ignore[return-value]
    return supported[0]


def mutual_version(offered: Iterable[Any], supported: tuple[str, ...] = MODERN_VERSIONS) -> str | None:
    """Return the newest of ``supported`` that the peer ``offered``, or ``None``.

    MCP 2026-07-28, basic/versioning: on an unsupported version the client "SHOULD select a
    mutually supported version from the supported list and retry the request".
    """
    offered = {version for version in offered if type(version) is str} if offered else set()
    for version in supported:
        if version in offered:
            return version
    return None


class _Any:
    """Stands for "every method" in the tables below."""

    def __contains__(self, method: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()

# MCP 2025-11-25, basic/lifecycle, "Initialization": "The client SHOULD NOT send requests
# other than pings before the server has responded to the initialize request". The era
# probe's server/discover may still be open while initialize is on its way.
CLIENT_MAY_SEND: dict[State, Any] = {
    State.NEW: frozenset({"initialize", "server/discover"}),
    State.INITIALIZING: frozenset({"ping", "server/discover"}),
    State.INITIALIZED: frozenset({"ping"}),
    State.READY: ANY,
    State.CLOSING: frozenset(),
    State.CLOSED: frozenset(),
}

# basic/lifecycle: "The server SHOULD NOT send requests other than pings and logging before
# receiving the initialized notification" (logging is a notification, always allowed).
SERVER_MAY_SEND: dict[State, Any] = {
    State.NEW: frozenset({"ping"}),
    State.INITIALIZED: frozenset({"ping"}),
    State.READY: ANY,
    State.CLOSING: frozenset(),
    State.CLOSED: frozenset(),
}

# What a server answers in each state of the handshake era: before initialize, only
# initialize, ping ("The initialization phase MUST be the first interaction between client
# and server") and the era probe; after it, everything but a second initialize. A request
# between the InitializeResult and the initialized notification is served: the
# notification may still be in the pipe behind it.
SERVER_ACCEPTS: dict[State, Any] = {
    State.NEW: frozenset({"initialize", "ping", "server/discover"}),
    State.INITIALIZED: ANY,
    State.READY: ANY,
    State.CLOSING: frozenset(),
    State.CLOSED: frozenset(),
}

# The error for a request the lifecycle does not allow: the spec names no code, and the
# request is well formed but not valid now, which JSON-RPC calls an Invalid Request.
NOT_INITIALIZED = INVALID_REQUEST

# Methods of the handshake era that 2026-07-28 removed, with what replaces them.
MODERN_REMOVED = {
    "initialize": "server/discover",
    "ping": "server/discover",
    "logging/setLevel": "the per-request _meta io.modelcontextprotocol/logLevel",
    "resources/subscribe": "subscriptions/listen with resourceSubscriptions",
    "resources/unsubscribe": "cancelling the subscriptions/listen request",
    "tasks/get": "the tasks extension",
    "tasks/result": "the tasks extension",
    "tasks/list": "the tasks extension",
    "tasks/cancel": "the tasks extension",
}

# The server capability each client request needs (basic/lifecycle, "Capability
# Negotiation"; each feature page names its capability). Methods not listed need none.
SERVER_CAPABILITY = {
    "tools/list": "tools",
    "tools/call": "tools",
    "resources/list": "resources",
    "resources/templates/list": "resources",
    "resources/read": "resources",
    "resources/subscribe": "resources.subscribe",
    "resources/unsubscribe": "resources.subscribe",
    "prompts/list": "prompts",
    "prompts/get": "prompts",
    "logging/setLevel": "logging",
    "completion/complete": "completions",
    "tasks/get": "tasks",
    "tasks/result": "tasks",
    "tasks/list": "tasks.list",
    "tasks/cancel": "tasks.cancel",
}

# The client capability each server request needs.
CLIENT_CAPABILITY = {
    "sampling/createMessage": "sampling",
    "elicitation/create": "elicitation",
    "roots/list": "roots",
}


def declares(capabilities: object, path: str) -> bool:
    """Return whether ``capabilities`` declares ``path`` (dotted: ``resources.subscribe``).

    A capability is declared when every step is an object key and the last value is
    present and not ``false`` (``{"subscribe": true}``, ``{"tools": {}}``).
    """
    node = capabilities
    for part in path.split("."):
        if type(node) is not dict or part not in node:
            return False
        node = node[part]
    return node is not False and node is not None


class Probe(enum.Enum):
    """The phases of the era probe of a client (see :data:`PROBE`)."""

    DISCOVERING = "discovering"   # server/discover sent, nothing else
    RACING = "racing"             # the probe timed out: initialize sent too, both open
    HANDSHAKING = "handshaking"   # initialize sent; a late discover answer is ignored
    HANDSHAKE_ONLY = "handshake only"  # protocol="handshake": initialize, no switch
    MODERN_ONLY = "modern only"   # protocol="2026-07-28": server/discover, no fallback
    DONE = "done"


# The era probe of ``protocol="auto"`` (MCP 2026-07-28, basic/versioning, "Backward
# Compatibility": a stdio client may "probe with server/discover and fall back on any error
# that is not a recognized modern error"), keeping both questions open on slow servers:
# when the probe is not answered in time, initialize is sent without abandoning
# server/discover, and the first valid answer decides. Inputs:
#
#   discover_ok        a valid DiscoverResult naming a version we speak
#   discover_retry     -32022 whose data lists a modern version we speak: ask again with it
#   discover_refused   a non-modern error (the server is legacy), or a modern answer whose
#                      versions include a handshake version we speak (a dual-era server)
#   discover_unsupported  a modern error naming no version we speak, -32020 or -32021:
#                      "Do not fall back to initialize"
#   probe_timeout      no answer within probe_timeout
#   initialize_ok      a valid InitializeResult with a version we speak
#   initialize_modern  -32022 to initialize: the server serves 2026-07-28 only
#   initialize_refused any other error to initialize
#   eof                the server's stdout ended before the era was decided
#   discover_malformed   a server/discover answer that breaks the schema
#   initialize_malformed an initialize answer that breaks the schema
#
# Actions, carried out by ClientSession in order: "adopt" (2026-07-28), "complete" (the
# handshake: send notifications/initialized), "initialize" (send it), "discover" (send it
# again), "respawn" (start a new process and use the handshake), "fail".
PROBE: dict[tuple[Probe, str], tuple[Probe, tuple[str, ...]]] = {
    (Probe.DISCOVERING, "discover_ok"): (Probe.DONE, ("adopt",)),
    (Probe.DISCOVERING, "discover_retry"): (Probe.DISCOVERING, ("discover",)),
    (Probe.DISCOVERING, "discover_refused"): (Probe.HANDSHAKING, ("initialize",)),
    (Probe.DISCOVERING, "probe_timeout"): (Probe.RACING, ("initialize",)),
    # A server that exits on an unknown first request: start it again for the handshake.
    (Probe.DISCOVERING, "eof"): (Probe.DONE, ("respawn",)),
    (Probe.RACING, "discover_ok"): (Probe.DONE, ("adopt",)),
    (Probe.RACING, "discover_retry"): (Probe.RACING, ("discover",)),
    (Probe.RACING, "discover_refused"): (Probe.HANDSHAKING, ()),
    (Probe.RACING, "initialize_ok"): (Probe.DONE, ("complete",)),
    # "A -32022 answer to initialize means the server is modern": ask again, as the
    # official SDK does; the first discover may still answer too.
    (Probe.RACING, "initialize_modern"): (Probe.RACING, ("discover",)),
    # Any other refusal of initialize (an error, or a version we do not speak) while
    # server/discover is unanswered fails the start at once: stdio servers answer in order,
    # so a server that answered initialize has passed over discover and will not answer it
    # (waiting would only turn a clear refusal into a startup timeout).
    (Probe.RACING, "initialize_refused"): (Probe.DONE, ("fail",)),
    # A slow legacy server that died reading the probe, with initialize on its way.
    (Probe.RACING, "eof"): (Probe.DONE, ("respawn",)),
    (Probe.HANDSHAKING, "initialize_ok"): (Probe.DONE, ("complete",)),
    (Probe.HANDSHAKING, "initialize_modern"): (Probe.MODERN_ONLY, ("discover",)),
    (Probe.HANDSHAKING, "initialize_refused"): (Probe.DONE, ("fail",)),
    (Probe.HANDSHAKING, "discover_ok"): (Probe.HANDSHAKING, ()),
    (Probe.HANDSHAKING, "discover_retry"): (Probe.HANDSHAKING, ()),
    (Probe.HANDSHAKING, "discover_refused"): (Probe.HANDSHAKING, ()),
    (Probe.HANDSHAKING, "probe_timeout"): (Probe.HANDSHAKING, ()),
    (Probe.HANDSHAKING, "eof"): (Probe.DONE, ("fail",)),
    (Probe.MODERN_ONLY, "discover_ok"): (Probe.DONE, ("adopt",)),
    (Probe.MODERN_ONLY, "discover_retry"): (Probe.MODERN_ONLY, ("discover",)),
    (Probe.MODERN_ONLY, "discover_refused"): (Probe.DONE, ("fail",)),
    (Probe.MODERN_ONLY, "probe_timeout"): (Probe.MODERN_ONLY, ()),
    (Probe.MODERN_ONLY, "initialize_ok"): (Probe.MODERN_ONLY, ()),
    (Probe.MODERN_ONLY, "initialize_modern"): (Probe.MODERN_ONLY, ()),
    (Probe.MODERN_ONLY, "initialize_refused"): (Probe.MODERN_ONLY, ()),
    (Probe.MODERN_ONLY, "eof"): (Probe.DONE, ("fail",)),
    (Probe.HANDSHAKE_ONLY, "initialize_ok"): (Probe.DONE, ("complete",)),
    (Probe.HANDSHAKE_ONLY, "initialize_modern"): (Probe.DONE, ("fail",)),
    (Probe.HANDSHAKE_ONLY, "initialize_refused"): (Probe.DONE, ("fail",)),
    (Probe.HANDSHAKE_ONLY, "eof"): (Probe.DONE, ("fail",)),
}
# "A malformed initialize or server/discover result fails the start with a clear error", in
# every phase that still waits for it (a late answer of an abandoned question is ignored).
for _phase in (Probe.DISCOVERING, Probe.RACING, Probe.MODERN_ONLY):
    PROBE[(_phase, "discover_malformed")] = (Probe.DONE, ("fail",))
    PROBE[(_phase, "discover_unsupported")] = (Probe.DONE, ("fail",))
for _phase in (Probe.RACING, Probe.HANDSHAKING, Probe.HANDSHAKE_ONLY):
    PROBE[(_phase, "initialize_malformed")] = (Probe.DONE, ("fail",))
del _phase
