"""The public client: :func:`connect`, its lifecycle, and its requests.

Theory of operation
-------------------
A :class:`Client` is what its user holds: the options, the callbacks
(:class:`~mcp_stdio.callbacks.Callbacks`), the request machinery that outlives a process
(:class:`~mcp_stdio.calls.Calls` for our requests, :class:`~mcp_stdio.calls.Incoming` for
the server's, the ordered :class:`~mcp_stdio.calls.Dispatcher` of notifications), the
2026-07-28 cache and subscriptions, and the restart policy. Each server process is a
:class:`~mcp_stdio.connection.Connection` (the transport and the sans-I/O
:class:`~mcp_stdio.client_session.ClientSession`, which owns the lifecycle, the era and the
version): one to start, a new one for each restart. The way from bytes to callers is in
:mod:`mcp_stdio.connection`; the MCP methods are in :mod:`mcp_stdio.api`.

Creating a client does no I/O and needs no event loop; :meth:`Client.start` (or ``async
with``) spawns the server and starts the session, bounded by ``startup_timeout``. When the
connection is lost, every pending request fails at once with an exception naming the exit
status and the stderr tail. :meth:`Client.close` runs once, in its own task, whoever calls
it and however often.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any, Callable

from . import lifecycle, modern
from .api import DEFAULT, LOGGING_LEVELS, ProtocolMethods
from .callbacks import Callbacks, check_callback
from .calls import DEFAULT_MAX_QUEUED_NOTIFICATIONS, DEFAULT_MAX_RUNNING, Calls, Dispatcher, Incoming
from .client_session import ClientSession
from .connection import Connection, _handler_name
from .errors import (
    ClientClosedError,
    ConnectionClosed,
    LocalProtocolError,
    MCPStdioError,
    RequestTimeout,
    StartError,
)
from .framing import DEFAULT_MAX_MESSAGE_SIZE
from .lifecycle import State
from .options import (
    CLIENT_INFO,
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_EXIT_TIMEOUT,
    DEFAULT_MAX_INPUT_ROUNDS,
    DEFAULT_MAX_PAGES,
    DEFAULT_PROBE_TIMEOUT,
    DEFAULT_STARTUP_TIMEOUT,
    DEFAULT_TERMINATE_TIMEOUT,
    DEFAULT_TIMEOUT,
    DEFAULT_VALIDATION_TIMEOUT,
    RestartPolicy,
    check_command,
    check_counts,
    check_protocol,
)
from .outbound import DEFAULT_QUEUE_SIZE
from .rounds import modern_request
from .session import DEFAULT_MAX_INCOMING
from .subscriptions import Listeners, Refreshes, Subscription
from .transport import DEFAULT_STDERR_TAIL_LINES, ChildTransport

if TYPE_CHECKING:
    from .api import ProgressCallback
    from .callbacks import NotificationCallback, RequestCallback, RootsCallback
    from .events import RequestReceived

__all__ = ["Client", "connect"]

logger = logging.getLogger("mcp_stdio.client")
# A library's convention: nothing is printed unless the application configures logging.
logging.getLogger("mcp_stdio").addHandler(logging.NullHandler())

# The era each server command line started in, in this process (basic/versioning: clients
# "SHOULD cache the result for the lifetime of the server process, and MAY persist it
# across restarts of the same server configuration"); stored only after a start succeeded.
_ERAS: dict[tuple, str] = {}

_LIST_CHANGED = {
    "notifications/tools/list_changed": "tools",
    "notifications/prompts/list_changed": "prompts",
    "notifications/resources/list_changed": "resources",
}


def connect(command: list[str], **options: Any) -> Client:
    """Return a :class:`Client` for ``command``; nothing starts until ``async with``.

    Usage::

        async with mcp_stdio.connect(mcp_stdio.reference_server_command()) as client:
            result = await client.call_tool("echo", {"text": "hi"})

    Args:
        command: the server's argv list (never a shell string).
        **options: the keyword arguments of :class:`Client`.
    """
    return Client(command, **options)


class Client(ProtocolMethods):
    """A connection to one MCP server over stdio.

    Args:
        command: argv list of the server; ``command[0]`` is looked up on ``PATH``.
        env: variables for the child, merged over the inherited allow-list.
        cwd: working directory of the child.
        inherit_env: give the child the whole parent environment.
        client_info: ``clientInfo`` (default: mcp_stdio and its version).
        timeout: default seconds per request; ``None`` disables.
        startup_timeout: seconds for spawn plus start; ``None`` disables.
        close_timeout: seconds close() waits for in-flight answers and queued writes.
        exit_timeout: seconds close() waits for exit after closing stdin.
        terminate_timeout: seconds close() waits after SIGTERM before SIGKILL.
        max_message_size: longest message accepted from the server, in bytes; ``None``
            disables.
        queue_size: bound of the outbound ``asyncio.Queue`` used while the pipe is full.
        message_handler: called with each notification as ``{"method", "params"}``, in
            order (a function or a coroutine function).
        stderr_callback: called with each line the server writes on stderr.
        stderr_tail_lines: stderr lines kept for error messages.
        max_pages: pages a list method follows at most.
        logging_callback: called with the params of each ``notifications/message``.
        sampling_callback: answers ``sampling/createMessage`` as ``callback(params)``
            (plain or async); declares the ``sampling`` capability.
        elicitation_callback: answers ``elicitation/create``; declares ``elicitation``.
        list_roots_callback: returns the roots (``callback()``); declares ``roots``.
        roots: fixed roots instead (dicts, ``file://`` URIs or absolute paths).
        refresh_on_list_changed: fetch a list again when the server says it changed (at
            most one refresh in flight per list, and one queued).
        restart: when the server exits unexpectedly, start it again: ``True`` for the
            default policy, or ``{"max_restarts": 5, "backoff": 0.5, "max_backoff": 30.0}``.
        protocol: ``"auto"``, ``"handshake"`` or ``"2026-07-28"`` (see README, "Protocol
            eras").
        probe_timeout: seconds the ``"auto"`` probe waits before also trying the handshake.
        cache_results: in 2026-07-28, keep list and read results for their ``ttlMs``.
        max_input_rounds: in 2026-07-28, ``input_required`` rounds per request.
        max_concurrent_handlers: the server's requests handled at once.
        max_incoming: the server's requests handled or waiting; more are refused.
        max_queued_notifications: notifications waiting for their callbacks; more are
            dropped (counted in :meth:`stats`).
        validation_timeout: seconds one ``outputSchema`` check may take; ``None``
            disables the bound.

    Raises:
        TypeError: a callback cannot be called the way mcp_stdio calls it, or ``command``
            is a string.
        ValueError: an option has an impossible value.

    ``close()`` is bounded by ``close_timeout + exit_timeout + 2 * terminate_timeout + 4``
    seconds whatever the server does.
    """

    # The class of the transport; tests substitute an in-memory one with the same interface.
    _transport_class: Any = ChildTransport

    __slots__ = (
        "command", "_env", "_cwd", "_inherit_env", "client_info", "timeout", "startup_timeout", "close_timeout",
        "exit_timeout", "terminate_timeout", "max_message_size", "queue_size", "max_pages", "_stderr_callback",
        "_stderr_tail_lines", "callbacks", "refresh_on_list_changed", "_restart", "protocol", "probe_timeout",
        "cache_results", "max_input_rounds", "max_concurrent_handlers", "max_incoming", "max_queued_notifications",
        "validation_timeout", "_session", "_connection", "_loop", "_calls", "_incoming", "_dispatcher", "_cache",
        "_schemas", "_listeners", "_error", "_close_task", "_stop_task", "_restarting", "_restart_task",
        "_restarts", "_background", "_refreshes", "_started_at", "_trace", "invalid_messages",
        "unexpected_responses", "__weakref__",
    )

    def __init__(
        self, command: list[str], *, env: dict[str, str] | None = None, cwd: str | os.PathLike | None = None,
        inherit_env: bool = False, client_info: dict | None = None, timeout: float | None = DEFAULT_TIMEOUT,
        startup_timeout: float | None = DEFAULT_STARTUP_TIMEOUT, close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
        exit_timeout: float = DEFAULT_EXIT_TIMEOUT, terminate_timeout: float = DEFAULT_TERMINATE_TIMEOUT,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE, queue_size: int = DEFAULT_QUEUE_SIZE,
        message_handler: NotificationCallback | None = None, stderr_callback: Callable[[str], object] | None = None,
        stderr_tail_lines: int = DEFAULT_STDERR_TAIL_LINES, max_pages: int = DEFAULT_MAX_PAGES,
        logging_callback: NotificationCallback | None = None, sampling_callback: RequestCallback | None = None,
        elicitation_callback: RequestCallback | None = None, list_roots_callback: RootsCallback | None = None,
        roots: Any = None, refresh_on_list_changed: bool = False, restart: bool | dict = False,
        protocol: str = "auto", probe_timeout: float = DEFAULT_PROBE_TIMEOUT, cache_results: bool = True,
        max_input_rounds: int = DEFAULT_MAX_INPUT_ROUNDS, max_concurrent_handlers: int = DEFAULT_MAX_RUNNING,
        max_incoming: int = DEFAULT_MAX_INCOMING,
        max_queued_notifications: int = DEFAULT_MAX_QUEUED_NOTIFICATIONS,
        validation_timeout: float | None = DEFAULT_VALIDATION_TIMEOUT,
    ) -> None:
        self.command = check_command(command)
        protocol = check_protocol(protocol)
        if stderr_callback is not None:
            check_callback(stderr_callback, "stderr_callback", ("line",))
        check_counts(queue_size=queue_size, max_pages=max_pages, max_incoming=max_incoming,
                     max_concurrent_handlers=max_concurrent_handlers, max_input_rounds=max_input_rounds)
        self._env = env
        self._cwd = cwd
        self._inherit_env = inherit_env
        self.client_info = dict(client_info) if client_info else CLIENT_INFO  # shared, never mutated
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.close_timeout = close_timeout
        self.exit_timeout = exit_timeout
        self.terminate_timeout = terminate_timeout
        self.max_message_size = max_message_size
        self.queue_size = queue_size
        self.max_pages = max_pages
        self._stderr_callback = stderr_callback
        self._stderr_tail_lines = stderr_tail_lines
        self.callbacks = Callbacks(sampling_callback=sampling_callback, elicitation_callback=elicitation_callback,
                                   list_roots_callback=list_roots_callback, roots=roots,
                                   logging_callback=logging_callback, message_handler=message_handler)
        self.refresh_on_list_changed = refresh_on_list_changed
        self._restart = RestartPolicy.parse(restart)
        self.protocol = protocol
        self.probe_timeout = probe_timeout
        self.cache_results = cache_results
        self.max_input_rounds = max_input_rounds
        self.max_concurrent_handlers = max_concurrent_handlers
        self.max_incoming = max_incoming
        self.max_queued_notifications = max_queued_notifications
        self.validation_timeout = validation_timeout
        self._session = self._new_session(protocol)  # the current connection's (a new one before start)
        self._connection: Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._calls: Calls | None = None
        self._incoming: Incoming | None = None
        self._dispatcher: Dispatcher | None = None
        self._cache: modern.ResultCache | None = None
        self._schemas: dict[str, Any] = {}
        self._listeners = Listeners(self)
        self._error: MCPStdioError | None = None  # why the connection ended, if it did
        self._close_task: asyncio.Task | None = None
        self._stop_task: asyncio.Task | None = None
        self._restarting: asyncio.Future | None = None
        self._restart_task: asyncio.Task | None = None
        self._restarts = 0
        self._background: set[asyncio.Task] | None = None
        self._refreshes: Refreshes | None = None
        self._started_at: float | None = None
        self._trace = False
        self.invalid_messages = 0
        self.unexpected_responses = 0

    # Public properties

    @property
    def state(self) -> State:
        """Return the lifecycle state (held by the session; compare with ``is``)."""
        return self._session.state

    @property
    def era(self) -> str | None:
        """Return ``"handshake"`` or ``"2026-07-28"`` once started."""
        return self._session.era

    @property
    def initialize_result(self) -> dict | None:
        """Return what the server said about itself (an InitializeResult, or its 2026-07-28
        equivalent built from ``server/discover``), once started.

        Read-only: clients that got the same answer share one copy (copy it to change it)."""
        return self._session.server_result

    @property
    def server_info(self) -> dict:
        """Return the server's ``serverInfo`` (name, version, ...); read-only, shared."""
        return (self._session.server_result or {}).get("serverInfo") or {}

    @property
    def server_capabilities(self) -> dict:
        """Return the capabilities the server declared; read-only, shared (see initialize_result)."""
        return (self._session.server_result or {}).get("capabilities") or {}

    @property
    def protocol_version(self) -> str | None:
        """Return the negotiated protocol version."""
        return self._session.version

    @property
    def instructions(self) -> str | None:
        """Return the server's ``instructions``, if it gave any."""
        return (self._session.server_result or {}).get("instructions")

    @property
    def pid(self) -> int | None:
        """Return the server's process id once spawned."""
        return self._transport.pid if self._connection is not None else None

    @property
    def returncode(self) -> int | None:
        """Return the server's exit status once it exited (negative: killed by a signal)."""
        return self._transport.returncode if self._connection is not None else None

    @property
    def stderr_tail(self) -> tuple[str, ...]:
        """Return the last lines the server wrote on stderr."""
        return self._transport.stderr_tail if self._connection is not None else ()

    @property
    def _transport(self) -> Any:
        """The current process's transport (``None`` before start)."""
        return self._connection.transport if self._connection is not None else None

    @property
    def pending_count(self) -> int:
        """Return how many requests await an answer."""
        return self._session.pending_count

    # Lifecycle

    async def __aenter__(self) -> Client:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Spawn the server and start the session (the era probe, the handshake).

        Raises:
            SpawnError: the command cannot be run.
            UnsupportedProtocolVersion: no protocol version both sides speak.
            StartError: the server exited, refused, answered with a malformed message, or
                did not answer within ``startup_timeout``; the message names the era
                tried; ``__cause__`` holds the underlying error.
            ClientClosedError: the client was already started or closed.
        """
        if self._loop is not None or self._close_task is not None or self._session.state is State.CLOSED:
            raise ClientClosedError(f"start() called on a client that is {self.state.value}")
        self._loop = asyncio.get_running_loop()
        self._trace = logger.isEnabledFor(logging.DEBUG)
        try:
            await asyncio.wait_for(self._start_once(), self.startup_timeout)
        except asyncio.TimeoutError:
            waiting = self._connection.waiting_for() if self._connection is not None else "server/discover"
            error = StartError(f"server {self.command[0]!r} did not answer {waiting} within "
                               f"{self.startup_timeout:g} s (protocol tried: {self._era_tried()})", self.returncode,
                               self.stderr_tail, self._era_tried())
            await self._abort_start()
            raise error from None
        except BaseException:
            await self._abort_start()
            raise

    async def close(self) -> None:
        """Stop the server; idempotent, bounded, safe from any task and under cancellation.

        Order (MCP 2025-11-25, basic/lifecycle, "Shutdown"): wait up to ``close_timeout``
        for in-flight answers, flush queued writes, close stdin, wait ``exit_timeout``,
        SIGTERM the process group, wait ``terminate_timeout``, SIGKILL, reap. Requests still
        pending fail with :class:`ClientClosedError`.
        """
        if self._close_task is None:
            if self._loop is None:
                self._session.closed()
                return
            self._close_task = self._loop.create_task(self._close())
        await asyncio.shield(self._close_task)

    # Requests

    async def notify(self, method: str, params: dict | None = None) -> None:
        """Send a notification (no answer is expected); waits while the outbound queue is full."""
        if self.state is not State.READY:
            self._raise_not_ready(method)
        data = self._session.send_notification(method, params)
        if self._trace:
            logger.debug("> %s", data[:1000])
        await self._transport.wait_room()
        if not self._transport.send(data):
            self._raise_not_ready(method)

    async def listen(self, *, tools: bool = False, prompts: bool = False, resources: bool = False,
                     resource_uris: list[str] | None = None, timeout: Any = DEFAULT) -> Subscription:
        """Open a ``subscriptions/listen`` stream (2026-07-28); return it once acknowledged.

        Args:
            tools: receive ``notifications/tools/list_changed``.
            prompts: receive ``notifications/prompts/list_changed``.
            resources: receive ``notifications/resources/list_changed``.
            resource_uris: receive ``notifications/resources/updated`` for these URIs.
            timeout: seconds to wait for the acknowledgement (the stream itself has no
                timeout).

        Raises:
            CapabilityError: the server did not declare what is asked for
                (``tools.listChanged``, ``resources.subscribe``...).
            LocalProtocolError: the session is not 2026-07-28.
            RequestTimeout: no acknowledgement in time.
        """
        wanted = self._listen_filter(tools, prompts, resources, resource_uris)
        if self.state is not State.READY:
            await self._wait_ready("subscriptions/listen", timeout)
        subscription = self._listeners.open(wanted)
        limit = self.timeout if timeout is DEFAULT else timeout
        try:
            await asyncio.wait_for(asyncio.shield(subscription.acknowledged), limit)
        except asyncio.TimeoutError:
            await subscription.close()
            raise RequestTimeout("subscriptions/listen", limit) from None  # type: ignore[arg-type]
        return subscription

    def set_request_handler(self, method: str, handler: RequestCallback | None) -> None:
        """Answer the server's ``method`` requests with ``handler(params)``.

        The handler is a plain or coroutine function (see :mod:`mcp_stdio.callbacks`); its
        return value is the result, checked against the schema when the method is one of
        the spec's; an exception becomes a JSON-RPC error answer (a
        :class:`~mcp_stdio.errors.RequestError` keeps its code). ``None`` removes it.
        """
        self.callbacks.set_request_handler(method, handler)
        self._session.capabilities = self.callbacks.capabilities()

    async def set_roots(self, roots: Any) -> None:
        """Serve these roots from now on, and tell the server.

        They replace ``list_roots_callback`` when one was given. In the handshake era
        ``notifications/roots/list_changed`` is sent; 2026-07-28 has no such notification
        (the server asks for the roots in each request that needs them).

        Raises:
            LocalProtocolError: the client was created without roots, so it did not
                declare the roots capability.
        """
        if self.callbacks.roots is None and self.callbacks.list_roots is None:
            raise LocalProtocolError("set_roots: the client was created without roots, so it did not "
                                     "declare the roots capability")
        self.callbacks.set_roots(roots)
        if self.era == lifecycle.HANDSHAKE:
            await self.send_roots_list_changed()

    async def send_roots_list_changed(self) -> None:
        """Send ``notifications/roots/list_changed`` (handshake era: the roots changed)."""
        self._handshake_only("notifications/roots/list_changed")
        await self.notify("notifications/roots/list_changed")

    async def set_logging_level(self, level: str, *, timeout: Any = DEFAULT) -> None:
        """Set the lowest level of ``notifications/message`` the server sends.

        In 2026-07-28, which has no ``logging/setLevel``, the level travels in every later
        request's ``_meta`` (``io.modelcontextprotocol/logLevel``), and nothing is sent now.
        """
        if level not in LOGGING_LEVELS:
            raise ValueError(f"level must be one of {', '.join(LOGGING_LEVELS)}, not {level!r}")
        self._require("logging", "logging/setLevel")
        if self.era == lifecycle.MODERN:
            self._session.log_level = level
            self._session.capabilities = self.callbacks.capabilities()
            return
        await self._call("logging/setLevel", {"level": level}, timeout)

    def stats(self) -> dict:
        """Return counters for monitoring (see README, "Monitoring")."""
        from .limits import fd_usage

        calls, transport = self._calls, self._transport
        uptime = None
        if self._started_at is not None and self._loop is not None:
            uptime = round(self._loop.time() - self._started_at, 3)
        return {
            "pid": self.pid, "state": self.state.value, "era": self.era, "protocol_version": self.protocol_version,
            "uptime_s": uptime, "requests_sent": calls.sent if calls else 0, "in_flight": self.pending_count,
            "failed": calls.failed if calls else 0, "timed_out": calls.timed_out if calls else 0,
            "bytes_sent": transport.bytes_written if transport else 0,
            "bytes_received": transport.bytes_read if transport else 0,
            "outbound_backlog": transport.outbound.backlog if transport else 0,
            "invalid_messages": self.invalid_messages, "unexpected_responses": self.unexpected_responses,
            "handlers_running": self._incoming.running if self._incoming else 0,
            "notifications_dropped": self._dispatcher.dropped if self._dispatcher else 0,
            "cached_results": len(self._cache) if self._cache is not None else 0,
            "last_error": str(self._error) if self._error is not None else (calls.last_error if calls else None),
            "fds": fd_usage(), "restarts": self._restarts,
        }

    # The primitive of ProtocolMethods

    def _output_schemas(self) -> dict[str, Any]:
        return self._schemas

    def _start_plain(self, method: str, params: dict,
                     timeout: float | None) -> tuple[Calls, Any, asyncio.Future] | None:
        """See :meth:`ProtocolMethods._start_plain`: a ready connection in the handshake era."""
        calls = self._calls
        if calls is None or self._session.state is not State.READY or self._session.era != lifecycle.HANDSHAKE:
            return None
        msg_id, future = calls.start_plain(method, params, timeout)
        return calls, msg_id, future

    def _server_requests(self) -> Incoming:
        """Return the handlers of the server's requests, made on its first request (most
        sessions never get one: a held session is 290 bytes lighter without)."""
        incoming = self._incoming
        if incoming is None:
            assert self._loop is not None and self._connection is not None
            incoming = self._incoming = Incoming(self._loop, self._session, self._connection.transport.send,
                                                 self._answer_request, self.max_concurrent_handlers, _handler_name)
        return incoming

    async def _send(self, method: str, params: dict | None, *, timeout: float | None,
                    progress_callback: ProgressCallback | None = None, reset_timeout_on_progress: bool = False,
                    max_total_timeout: float | None = None, task: bool = False,
                    caller: Callbacks | None = None, identity: tuple | None = None, owner: Any = None,
                    ticket: list | None = None) -> Any:
        """Send one request with the era's rules.

        ``caller``, ``identity``, ``owner`` and ``ticket`` let a pool's agent speak through
        this client: its own callbacks, its ``(client_info, capabilities, log_level)`` for
        the 2026-07-28 ``_meta``, its cache scope, and a handle on the request in flight.
        """
        if self._session.state is not State.READY:
            await self._wait_ready(method, timeout)
        calls = self._calls
        assert calls is not None
        if self._session.era == lifecycle.HANDSHAKE:
            if progress_callback is None and not task and ticket is None:
                return await calls.call_plain(method, params, timeout)
            return await calls.call(method, params, timeout, progress_callback=progress_callback,
                                    reset=reset_timeout_on_progress, max_total=max_total_timeout, task=task,
                                    ticket=ticket)
        options = {"timeout": timeout, "progress_callback": progress_callback, "reset": reset_timeout_on_progress,
                   "max_total": max_total_timeout, "task": task, "ticket": ticket}
        return await modern_request(calls, self._session, self._cache, self._loop.time,  # type: ignore[union-attr]
                                    method, params, options, caller=caller or self.callbacks, identity=identity,
                                    owner=owner, max_rounds=self.max_input_rounds)

    # Private methods: starting and stopping

    def _new_session(self, protocol: str) -> ClientSession:
        return ClientSession(self.client_info, self.callbacks.capabilities(), protocol=protocol,
                             max_message_size=self.max_message_size, max_incoming=self.max_incoming)

    def _era_key(self) -> tuple:
        return (tuple(self.command), str(self._cwd))

    def _era_tried(self) -> str:
        # What the user asked for: "auto" stays "auto" even after a fallback to the handshake.
        return "auto" if self.protocol == "auto" else self._session._era_tried()

    async def _start_once(self) -> None:
        """Spawn and start once (for start() and for restarts)."""
        protocol = self.protocol
        if protocol == "auto" and _ERAS.get(self._era_key()) == lifecycle.HANDSHAKE:
            protocol = "auto-handshake"  # a legacy server seen before: skip the probe's wait
        for _attempt in range(2):
            if await self._connect(protocol) == "ready":
                break
            # A legacy server that exits on the probe: start it again for the handshake.
            await asyncio.shield(self._connection.stop(0.0))  # type: ignore[union-attr]
            protocol = "auto-handshake"
        else:  # pragma: no cover - a second respawn cannot be asked for
            raise StartError(f"server {self.command[0]!r} exited on the era probe twice", era="auto")
        if self.protocol == "auto":
            _ERAS[self._era_key()] = self._session.era  # type: ignore[assignment]  # only now: it started
        if self._session.era == lifecycle.MODERN and self.cache_results and self._cache is None:
            self._cache = modern.ResultCache()
        self._started_at = self._loop.time()  # type: ignore[union-attr]

    async def _connect(self, protocol: str) -> str:
        """Start a process and a session on it; return "ready" or "respawn"."""
        loop = self._loop
        assert loop is not None
        session = self._session if self._connection is None else self._new_session(protocol)
        session.protocol = protocol
        self._session = session
        self._connection = connection = Connection(self, session)
        self._error = None
        transport = connection.transport
        if self._dispatcher is None:
            self._dispatcher = Dispatcher(loop, self.max_queued_notifications)
        if self._calls is None:
            self._calls = Calls(loop, session, transport.send, transport.discard, self._dispatcher)
        else:
            self._calls.rebind(session, transport.send, transport.discard)
            if self._incoming is not None:
                self._incoming.rebind(session, transport.send)
        self._calls.trace = self._trace
        return await connection.open()

    async def _abort_start(self) -> None:
        if self._calls is not None:
            self._calls.fail_all(lambda: ClientClosedError("the start was abandoned"))
        await self.close()

    async def _close(self) -> None:
        restart = self._restart_task
        if restart is not None and not restart.done():
            restart.cancel()
            await asyncio.gather(restart, return_exceptions=True)
        if self._stop_task is not None:
            await asyncio.shield(self._stop_task)  # a previous child, during a restart
        session, connection, calls = self._session, self._connection, self._calls
        # Long-lived requests are not waited for: they are ended, and the server told.
        self._listeners.end_all(ClientClosedError("the client was closed"), cancel=True)
        session.close()
        loop = self._loop
        assert loop is not None
        deadline = loop.time() + self.close_timeout
        if calls is not None and connection is not None and connection.transport.connected:
            await calls.drained(self.close_timeout)
        if calls is not None:
            calls.fail_all(lambda: ClientClosedError("the client was closed before the server answered"))
        if connection is not None:
            await connection.stop(max(0.0, deadline - loop.time()))
        if self._dispatcher is not None:
            if not await self._dispatcher.idle(self.close_timeout):
                logger.warning("notifications not delivered: their callbacks are too slow")
            await self._dispatcher.stop()
        if self._incoming is not None:
            await self._incoming.finish()
        tasks = list(self._background or ())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        session.closed()

    def _connection_ended(self, connection: Connection, error: ConnectionClosed, was_ready: bool) -> None:
        """A connection is over: fail everything pending, stop its child, maybe restart."""
        if connection is not self._connection:
            return  # an older process, already replaced
        if self._close_task is None and self._error is None:
            self._error = error  # an unexpected end; after close() the client is just closed
            if was_ready:
                logger.warning("%s: the connection ended: %s", self.command[0], error)
        if self._calls is not None:
            self._calls.fail_all(error.copy)  # in-flight requests are never resent
        if self._restart is None:
            self._listeners.end_all(error)
        if self._stop_task is None and self._close_task is None:
            self._stop_task = self._loop.create_task(connection.stop(0.0))  # type: ignore[union-attr]
        if was_ready and self._restart is not None and self._close_task is None and self._restarting is None:
            self._restarting = self._loop.create_future()  # type: ignore[union-attr]
            self._restart_task = self._spawn(self._restart_loop())

    async def _restart_loop(self) -> None:
        """Start the server again with exponential backoff (the restart policy)."""
        policy = self._restart
        assert policy is not None
        restarting = self._restarting
        assert restarting is not None
        try:
            while self._restarts < policy.max_restarts and self._close_task is None:
                delay = policy.delay(self._restarts)
                self._restarts += 1
                logger.warning("%s: restarting in %.2f s (restart %d of %d) after: %s", self.command[0], delay,
                               self._restarts, policy.max_restarts, self._error)
                await asyncio.sleep(delay)
                if self._stop_task is not None:
                    await asyncio.shield(self._stop_task)
                    self._stop_task = None
                if self._close_task is not None:
                    return
                try:
                    await asyncio.wait_for(self._start_once(), self.startup_timeout)
                    if self.era == lifecycle.MODERN:
                        self._listeners.open_again()
                    return
                except (StartError, asyncio.TimeoutError) as exc:
                    self._error = ConnectionClosed(f"restart {self._restarts} failed: {exc}")
                    if self._stop_task is None:
                        self._stop_task = self._loop.create_task(  # type: ignore[union-attr]
                            self._connection.stop(0.0))  # type: ignore[union-attr]
            if self._close_task is None:
                self._error = ConnectionClosed(f"server gave up after {self._restarts} restarts: {self._error}")
                self._listeners.end_all(self._error)
        finally:
            self._restarting = None
            if not restarting.done():
                restarting.set_result(None)

    async def _wait_ready(self, method: str, timeout: Any) -> None:
        """Wait for a restart in progress (within ``timeout``), or raise why not ready."""
        restarting = self._restarting
        if restarting is not None:
            try:
                await asyncio.wait_for(asyncio.shield(restarting), self.timeout if timeout is DEFAULT else timeout)
            except asyncio.TimeoutError:
                pass
        if self._session.state is not State.READY:
            self._raise_not_ready(method)

    def _raise_not_ready(self, method: str) -> None:
        if isinstance(self._error, ConnectionClosed):
            raise self._error.copy()
        if self._error is not None:
            raise ClientClosedError(str(self._error))
        raise ClientClosedError(f"cannot send {method}: the client is {self.state.value}")

    def _spawn(self, coro: Any) -> asyncio.Task:
        """Run ``coro`` in a task that close() cancels and awaits if it is still running."""
        task = self._loop.create_task(coro)  # type: ignore[union-attr]
        if self._background is None:
            self._background = set()
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # Private methods: what the server says

    def _notification(self, method: str, params: dict) -> None:
        """Deliver a checked notification: subscriptions, callbacks, cached results."""
        self._listeners.received(method, params)
        dispatcher = self._dispatcher
        assert dispatcher is not None
        if method == "notifications/message" and self.callbacks.logging is not None:
            dispatcher.deliver(self.callbacks.logging, (params,))
        elif method in _LIST_CHANGED:
            self._list_changed(_LIST_CHANGED[method])
        if self.callbacks.message is not None:
            dispatcher.deliver(self.callbacks.message, ({"method": method, "params": params},))

    def _list_changed(self, kind: str) -> None:
        if self._cache is not None:
            self._cache.drop(f"{kind}/")
        if kind == "tools":
            self._schemas.clear()
        if not self.refresh_on_list_changed or self.state is not State.READY:
            return
        if self._refreshes is None:
            self._refreshes = Refreshes(lambda kind: getattr(self, f"list_{kind}")(), self._spawn)
        self._refreshes.changed(kind)

    async def _answer_request(self, event: RequestReceived) -> Any:
        return await self.callbacks.answer(event.method, event.params, event.version)
