"""The public client: :func:`connect`, requests, callbacks, timeouts, close.

Theory of operation
-------------------
A :class:`Client` joins the sans-I/O :class:`~mcp_stdio.session.ClientSession` to a
:class:`~mcp_stdio.transport.ChildTransport`:

* Creating a client does no I/O and needs no event loop. :meth:`Client.start` (or
  ``async with``) spawns the server and runs the handshake, bounded by ``startup_timeout``.
* Each request registers a future in the session's pending table; the transport's stdout
  callback feeds the session, whose events resolve the futures directly (no per-request
  task). Any number of requests may be in flight.
* A request that times out, or whose caller is cancelled, is forgotten and the server is
  sent ``notifications/cancelled``; a late answer is logged and dropped.
* Notifications are delivered in order to ``message_handler`` by one dispatcher task, so a
  slow or failing handler never stalls the reader. Requests from the server run
  concurrently, each in its own task; ``ping`` is answered at once, and a method without a
  handler gets -32601.
* When the connection is lost (the child exits, or its stdout ends, or it writes a line over
  ``max_message_size``), every pending request fails at once with an exception naming the
  exit status and the stderr tail.
* :meth:`Client.close` runs once, in its own task, whoever calls it and however often: a
  caller that is cancelled while waiting does not interrupt the stop sequence.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
from typing import TYPE_CHECKING, Any, Callable, Optional

from . import __version__
from .errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    ClientClosedError,
    ConnectionClosed,
    MCPStdioError,
    MessageTooLarge,
    RemoteError,
    RemoteProtocolError,
    RequestTimeout,
    ServerExited,
    StartError,
)
from .client_tasks import TASK_METHODS, ClientTasks
from .framing import DEFAULT_MAX_MESSAGE_SIZE, Oversized
from .jsonrpc import ErrorResponse, InvalidMessage, Notification, Request, Response
from . import modern
from .methods import DEFAULT, ClientMethods
from .timeouts import Deadlines, ProgressEntry
from .modern_client import ModernClient, describe_end
from .subscriptions import Subscription
from .session import (
    ClientSession,
    HandshakeComplete,
    HandshakeFailed,
    State,
    UnexpectedResponse,
)
from .transport import DEFAULT_QUEUE_SIZE, DEFAULT_STDERR_TAIL_LINES, ChildTransport

__all__ = [
    "Client",
    "connect",
    "DEFAULT_TIMEOUT",
    "DEFAULT_STARTUP_TIMEOUT",
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_EXIT_TIMEOUT",
    "DEFAULT_TERMINATE_TIMEOUT",
    "DEFAULT_MAX_PAGES",
]

logger = logging.getLogger("mcp_stdio.client")
# A library's convention: nothing is printed unless the application configures logging
# (bad lines, ignored answers and such are logged at WARNING under "mcp_stdio").
logging.getLogger("mcp_stdio").addHandler(logging.NullHandler())

# Seconds a request may wait for its answer. The TypeScript SDK's default is 60 s; the
# Python SDK has none, which is how requests hang forever. ``None`` disables it per client
# or per call.
DEFAULT_TIMEOUT = 60.0
# Seconds for spawn plus handshake: an ``npx``/``uvx`` cold start downloads packages first.
DEFAULT_STARTUP_TIMEOUT = 60.0
# Seconds close() waits for in-flight answers and queued writes.
DEFAULT_CLOSE_TIMEOUT = 2.0
# Seconds close() waits for the server to exit once its stdin is closed.
DEFAULT_EXIT_TIMEOUT = 2.0
# Seconds close() waits after SIGTERM before SIGKILL.
DEFAULT_TERMINATE_TIMEOUT = 2.0
# Seconds the automatic era probe waits for server/discover before assuming a legacy
# server that ignores unknown requests (a legacy server normally answers -32601 at once).
DEFAULT_PROBE_TIMEOUT = 2.0
# Input rounds one 2026-07-28 request may take (basic/patterns/mrtr asks for a bound).
DEFAULT_MAX_INPUT_ROUNDS = 8
# The era of each server command line seen by this process (basic/versioning: clients
# "SHOULD cache the result for the lifetime of the server process").
_ERAS: dict[tuple, str] = {}

# The restart policy of restart=True: five attempts, waiting 0.5 s, 1 s, 2 s, 4 s, 8 s (a
# crash loop must not spin), never more than 30 s.
DEFAULT_RESTART = {"max_restarts": 5, "backoff": 0.5, "max_backoff": 30.0}
# Pages a list method follows before it stops with an error: a server that paginates
# forever must not keep the client busy forever.
DEFAULT_MAX_PAGES = 1000

# The client's own identity in ``initialize``.
CLIENT_INFO = {"name": "mcp_stdio", "version": __version__}



if TYPE_CHECKING:
    from collections.abc import Awaitable

    NotificationHandler = Callable[[dict[str, Any]], Optional[Awaitable[None]]]
    NotificationCallback = Callable[[dict[str, Any]], Optional[Awaitable[None]]]
    RequestHandler = Callable[[dict[str, Any]], Awaitable[Any]]
    ProgressCallback = Callable[[float, Optional[float], Optional[str]], Optional[Awaitable[None]]]

# Requests of the server about the tasks it started on this client -> ClientTasks method.
_TASK_REQUESTS = {"tasks/get": "get", "tasks/result": "result", "tasks/list": "list", "tasks/cancel": "cancel"}

# The list results that a list_changed notification makes stale.
_LIST_CHANGED = {
    "notifications/tools/list_changed": "tools",
    "notifications/prompts/list_changed": "prompts",
    "notifications/resources/list_changed": "resources",
}


def connect(command: list[str], **options: Any) -> Client:
    """Return a :class:`Client` for ``command``; nothing starts until ``async with``.

    Usage::

        async with mcp_stdio.connect([sys.executable, "-m", "mcp_stdio.server"]) as client:
            result = await client.call_tool("echo", {"text": "hi"})

    Args:
        command: the server's argv list (never a shell string).
        **options: the keyword arguments of :class:`Client`.
    """
    return Client(command, **options)


class Client(ClientMethods, ModernClient):
    """A connection to one MCP server over stdio.

    Args:
        command: argv list of the server; ``command[0]`` is looked up on ``PATH``.
        env: variables for the child, merged over the inherited allow-list (see
            :func:`mcp_stdio.transport.build_env`).
        cwd: working directory of the child.
        inherit_env: give the child the whole parent environment.
        client_info: ``clientInfo`` for ``initialize`` (default: mcp_stdio and its version).
        timeout: default seconds per request; ``None`` disables.
        startup_timeout: seconds for spawn plus handshake; ``None`` disables.
        close_timeout: seconds close() waits for in-flight answers and queued writes.
        exit_timeout: seconds close() waits for exit after closing stdin.
        terminate_timeout: seconds close() waits after SIGTERM before SIGKILL.
        max_message_size: longest message accepted from the server, in bytes; ``None``
            disables.
        queue_size: bound of the outbound message queue.
        message_handler: called with each notification from the server as a dict
            ``{"method": ..., "params": ...}``, in order; may be a coroutine function.
        stderr_callback: called with each line the server writes on stderr.
        stderr_tail_lines: stderr lines kept for error messages.
        max_pages: pages a list method follows at most.
        logging_callback: called with the params of each ``notifications/message``.
        sampling_callback: coroutine function answering ``sampling/createMessage``; its
            presence declares the ``sampling`` capability.
        elicitation_callback: coroutine function answering ``elicitation/create`` (form
            and URL modes); declares the ``elicitation`` capability.
        list_roots_callback: function (or coroutine function) returning the list of roots;
            declares the ``roots`` capability.
        roots: a fixed list of roots (``{"uri": "file:///...", "name": ...}``), instead of
            ``list_roots_callback``; change it with :meth:`set_roots`.
        refresh_on_list_changed: fetch the tools, prompts or resources list again when the
            server says it changed (the cached result is always dropped).
        restart: when the server exits unexpectedly, start it again and redo the handshake:
            ``True`` for the default policy, or ``{"max_restarts": 5, "backoff": 0.5,
            "max_backoff": 30.0}`` (seconds, doubling after each attempt). Requests in
            flight fail with the connection error and are never resent; requests made
            while it restarts wait for it, within their timeout.
        protocol: ``"auto"`` (probe with ``server/discover``, fall back to the handshake),
            ``"handshake"`` (2024-11-05 to 2025-11-25 only) or ``"2026-07-28"`` (modern
            only). The era found by ``"auto"`` is remembered per command line.
        probe_timeout: seconds the ``"auto"`` probe waits before assuming a legacy server.
        cache_results: in 2026-07-28, keep list and read results for their ``ttlMs``.
        max_input_rounds: in 2026-07-28, how many ``input_required`` rounds one request
            may take.

    ``close()`` is bounded by ``close_timeout + exit_timeout + 2 * terminate_timeout + 4``
    seconds whatever the server does (the last terms cover the rest of its process group
    and the kernel's reaping after SIGKILL).
    """

    # The class of the transport; tests substitute an in-memory one with the same interface.
    _transport_class: Any = ChildTransport

    # Slots keep a live session small: the bench checks the heap per session.
    __slots__ = (
        "command", "_env", "_cwd", "_inherit_env", "_client_info", "timeout", "startup_timeout",
        "close_timeout", "exit_timeout", "terminate_timeout", "max_message_size", "queue_size", "max_pages",
        "_message_handler", "_stderr_callback", "_stderr_tail_lines", "_request_handlers", "_state",
        "_session", "_transport", "_loop", "_error", "_close_task", "_stop_task", "_tasks", "_incoming",
        "_blocked", "_deadlines", "_progress", "_next_token", "_logging_callback", "_roots", "_list_roots_callback",
        "_sampling_callback", "_elicitation_callback", "_cache", "refresh_on_list_changed", "_notifications",
        "_dispatcher", "_wakeup", "_drained", "_trace",
        "invalid_messages", "unexpected_responses", "_sent", "_failed", "_timed_out", "_last_error", "_started_at",
        "_restart", "_restarts", "_restarting", "_restart_task", "_client_tasks",
        "protocol", "probe_timeout", "cache_results", "max_input_rounds", "_modern", "_log_level", "_subscriptions",
        "__weakref__",
    )

    def __init__(
        self,
        command: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike | None = None,
        inherit_env: bool = False,
        client_info: dict | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        startup_timeout: float | None = DEFAULT_STARTUP_TIMEOUT,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
        exit_timeout: float = DEFAULT_EXIT_TIMEOUT,
        terminate_timeout: float = DEFAULT_TERMINATE_TIMEOUT,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        message_handler: NotificationHandler | None = None,
        stderr_callback: Callable[[str], object] | None = None,
        stderr_tail_lines: int = DEFAULT_STDERR_TAIL_LINES,
        max_pages: int = DEFAULT_MAX_PAGES,
        logging_callback: NotificationCallback | None = None,
        sampling_callback: RequestHandler | None = None,
        elicitation_callback: RequestHandler | None = None,
        list_roots_callback: Callable[[], Any] | None = None,
        roots: list[dict] | None = None,
        refresh_on_list_changed: bool = False,
        restart: bool | dict = False,
        protocol: str = "auto",
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
        cache_results: bool = True,
        max_input_rounds: int = DEFAULT_MAX_INPUT_ROUNDS,
    ) -> None:
        if isinstance(command, (str, bytes)):
            raise TypeError(
                "command must be an argv list such as ['python', 'server.py'], not a string: "
                "mcp_stdio never runs a shell; use shlex.split() to split a command line"
            )
        self.command = [os.fspath(part) for part in command]
        if not self.command:
            raise ValueError("command must name a program")
        self._env = env
        self._cwd = cwd
        self._inherit_env = inherit_env
        self._client_info = dict(client_info) if client_info else CLIENT_INFO  # shared, never mutated
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.close_timeout = close_timeout
        self.exit_timeout = exit_timeout
        self.terminate_timeout = terminate_timeout
        self.max_message_size = max_message_size
        self.queue_size = queue_size
        self.max_pages = max_pages
        self._message_handler = message_handler
        self._stderr_callback = stderr_callback
        self._stderr_tail_lines = stderr_tail_lines
        self._request_handlers: dict[str, RequestHandler] | None = None
        self._logging_callback = logging_callback
        self._sampling_callback = sampling_callback
        self._elicitation_callback = elicitation_callback
        self._list_roots_callback = list_roots_callback
        self._roots = list(roots) if roots is not None else None
        self.refresh_on_list_changed = refresh_on_list_changed
        self._restart: tuple | None = None
        if restart:
            policy = dict(DEFAULT_RESTART, **(restart if isinstance(restart, dict) else {}))
            unknown = set(policy) - set(DEFAULT_RESTART)
            if unknown:
                raise TypeError(f"unknown restart policy keys: {', '.join(sorted(unknown))}")
            self._restart = (policy["max_restarts"], policy["backoff"], policy["max_backoff"])
        self._restarts = 0
        if protocol == "legacy":
            protocol = "handshake"
        if protocol not in ("auto", "handshake") + modern.MODERN_VERSIONS:
            raise ValueError(f"protocol must be 'auto', 'handshake' or one of {', '.join(modern.MODERN_VERSIONS)}, "
                             f"not {protocol!r}")
        self.protocol = protocol
        self.probe_timeout = probe_timeout
        self.cache_results = cache_results
        self.max_input_rounds = max_input_rounds
        self._modern: str | None = None  # the 2026-07-28 version in use, when modern
        self._log_level: str | None = None
        self._subscriptions: dict[Any, Subscription] | None = None  # listen request id -> subscription
        self._restarting: asyncio.Future | None = None
        self._restart_task: asyncio.Task | None = None
        self._client_tasks: ClientTasks | None = None  # tasks the server started here
        for method, handler in (("sampling/createMessage", sampling_callback),
                                ("elicitation/create", elicitation_callback)):
            if handler is not None:
                self.set_request_handler(method, handler)
        if roots is not None or list_roots_callback is not None:
            self.set_request_handler("roots/list", self._answer_roots)

        self._state = State.NEW
        self._session = ClientSession(max_message_size)
        self._transport: ChildTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: MCPStdioError | None = None  # why the connection ended, if it did
        self._close_task: asyncio.Task | None = None
        self._stop_task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] | None = None  # every background task, until it ends
        # Created on first use (a live session should stay small):
        self._incoming: dict[int | str, asyncio.Task] | None = None  # server request id -> handler task
        # request future -> task waiting for room in the queue (None once we interrupted it)
        self._blocked: dict[asyncio.Future, asyncio.Task | None] | None = None
        self._deadlines: Deadlines | None = None
        self._progress: dict[int, ProgressEntry] | None = None  # progress token -> its request
        self._next_token = 0
        self._cache: dict[str, Any] = {}  # cached list results and tool output schemas
        self._notifications: collections.deque | None = None  # created on first use
        self._dispatcher: asyncio.Task | None = None
        self._wakeup: asyncio.Future | None = None
        self._drained: asyncio.Future | None = None
        self._trace = False
        self.invalid_messages = 0
        self.unexpected_responses = 0
        self._sent = 0
        self._failed = 0
        self._timed_out = 0
        self._last_error: str | None = None
        self._started_at: float | None = None

    # Public properties

    @property
    def state(self) -> State:
        """Return the lifecycle state (a :class:`~mcp_stdio.session.State`)."""
        return self._state

    @property
    def initialize_result(self) -> dict | None:
        """Return the server's whole InitializeResult, once started."""
        return self._session.initialize_result

    @property
    def server_info(self) -> dict:
        """Return the server's ``serverInfo`` (name, version, ...)."""
        return (self._session.initialize_result or {}).get("serverInfo") or {}

    @property
    def server_capabilities(self) -> dict:
        """Return the capabilities the server declared."""
        return (self._session.initialize_result or {}).get("capabilities") or {}

    @property
    def protocol_version(self) -> str | None:
        """Return the negotiated protocol version."""
        return self._session.protocol_version

    @property
    def instructions(self) -> str | None:
        """Return the server's ``instructions``, if it gave any."""
        return (self._session.initialize_result or {}).get("instructions")

    @property
    def pid(self) -> int | None:
        """Return the server's process id once spawned."""
        return self._transport.pid if self._transport else None

    @property
    def returncode(self) -> int | None:
        """Return the server's exit status once it exited (negative: killed by a signal)."""
        return self._transport.returncode if self._transport else None

    @property
    def stderr_tail(self) -> tuple[str, ...]:
        """Return the last lines the server wrote on stderr."""
        return self._transport.stderr_tail if self._transport else ()

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
        """Spawn the server and run the handshake.

        Raises:
            SpawnError: the command cannot be run.
            UnsupportedProtocolVersion: the server chose a version this client lacks.
            StartError: the server exited, failed ``initialize`` or did not answer within
                ``startup_timeout``; ``__cause__`` holds the underlying error.
            ClientClosedError: the client was already started or closed.
        """
        if self._state is not State.NEW:
            raise ClientClosedError(f"start() called on a client that is {self._state.value}")
        try:
            await self._start_once()
        except BaseException:
            await self._abort_start()
            raise

    async def _start_once(self) -> None:
        """Spawn and handshake once (for start() and for restarts)."""
        self._state = State.INITIALIZING
        loop = self._loop = asyncio.get_running_loop()
        self._trace = logger.isEnabledFor(logging.DEBUG)
        self._transport = self._transport_class(
            self.command,
            self._data_received,
            self._connection_lost,
            env=self._env,
            inherit_env=self._inherit_env,
            cwd=self._cwd,
            on_stderr=self._stderr_callback,
            stderr_tail_lines=self._stderr_tail_lines,
            queue_size=self.queue_size,
        )
        await self._transport.start()
        era = self.protocol if self.protocol != "auto" else _ERAS.get(self._era_key(), "auto")
        probed = False
        if era != "handshake":
            outcome = await self._discover(probe=era == "auto")
            if outcome == "modern":
                _ERAS[self._era_key()] = modern.MODERN_VERSIONS[0]
                self._state = State.READY
                self._started_at = loop.time()
                return
            _ERAS[self._era_key()] = "handshake"
            probed = True
            if outcome == "died":
                # Some legacy servers exit on an unknown first request: start again.
                await self._respawn()
                probed = False
        try:
            await self._handshake()
        except StartError as exc:
            if not (probed and isinstance(exc.__cause__, ConnectionClosed)):
                raise
            # The probe timed out, then the server died reading it, with initialize
            # already on its way: it is a legacy server that exits on unknown requests
            # (only slow to start). Start it again, without a probe this time.
            await self._respawn()
            await self._handshake()

    async def _handshake(self) -> None:
        """Run the handshake-era initialize exchange on the current transport."""
        loop = self._loop
        assert loop is not None
        handshake = loop.create_future()
        _, data = self._session.initialize(self._client_info, self._capabilities(), handshake)
        self._send_nowait(data)
        self._check_alive_at_start("initialize")
        try:
            await asyncio.wait_for(handshake, self.startup_timeout)
        except asyncio.TimeoutError:
            raise StartError(
                f"server {self.command[0]!r} did not answer initialize within {self.startup_timeout:g} s",
                self.returncode, self.stderr_tail) from None
        except ConnectionClosed as exc:
            raise StartError(f"server {self.command[0]!r} {describe_end(exc)} before answering initialize",
                             exc.returncode, exc.stderr_tail) from exc
        except RemoteError as exc:
            raise StartError(f"server {self.command[0]!r} refused initialize: {exc}",
                             self.returncode, self.stderr_tail) from exc
        # MCP 2025-11-25, basic/lifecycle: "After successful initialization, the client
        # MUST send an initialized notification".
        self._send_nowait(self._session.send_initialized())
        self._state = State.READY
        self._started_at = loop.time()

    async def close(self) -> None:
        """Stop the server; idempotent, bounded, safe from any task and under cancellation.

        Order (MCP 2025-11-25, basic/lifecycle, "Shutdown"): wait up to ``close_timeout``
        for in-flight answers, flush queued writes, close stdin, wait ``exit_timeout``,
        SIGTERM the process group, wait ``terminate_timeout``, SIGKILL, reap. Requests still
        pending fail with :class:`ClientClosedError`.
        """
        if self._close_task is None:
            if self._state is State.NEW:
                self._state = State.CLOSED
                return
            loop = self._loop or asyncio.get_running_loop()
            self._close_task = loop.create_task(self._close())
        await asyncio.shield(self._close_task)

    # Requests

    async def request(self, method: str, params: dict | None = None, *, timeout: Any = DEFAULT,
                      progress_callback: ProgressCallback | None = None, reset_timeout_on_progress: bool = False,
                      max_total_timeout: float | None = None) -> Any:
        """Send a request and return its result.

        Args:
            method: the method name.
            params: the params object, or ``None``.
            timeout: seconds to wait; ``None`` waits for ever; by default the client's
                ``timeout``.
            progress_callback: called as ``callback(progress, total, message)`` (a function
                or coroutine function) for each ``notifications/progress`` of this request;
                a progress token is sent in ``params._meta.progressToken``.
            reset_timeout_on_progress: restart the timeout at each progress notification
                (MCP basic/lifecycle, "Timeouts": implementations "MAY choose to reset the
                timeout clock when receiving a progress notification").
            max_total_timeout: with ``reset_timeout_on_progress``, the limit that progress
                cannot extend ("SHOULD always enforce a maximum timeout"); ``None`` means
                ten times ``timeout``.

        Raises:
            RemoteError: the server answered with an error.
            RequestTimeout: no answer in time (``notifications/cancelled`` was sent).
            ConnectionClosed: the connection was lost (exit status and stderr tail inside).
            ClientClosedError: the client is not running.
        """
        if self._state is not State.READY:
            if self._restarting is not None:
                await self._wait_restart(timeout)
            if self._state is not State.READY:
                self._raise_not_ready(method)
        if timeout is DEFAULT:
            timeout = self.timeout
        if self._modern is not None:
            return await self._modern_request(method, params, timeout, progress_callback,
                                              reset_timeout_on_progress, max_total_timeout)
        if progress_callback is not None:
            return await self._request_with_progress(method, params, timeout, progress_callback,
                                                     reset_timeout_on_progress, max_total_timeout)
        # The hot path, inline: each coroutine layer costs microseconds per request.
        future, msg_id, data, timer = self._register(method, params, timeout)
        try:
            if self._trace:
                logger.debug("> %s", data[:1000])
            if not self._transport.send_nowait(data):  # type: ignore[union-attr]
                await self._send_blocking(data, future)
            return await future
        except asyncio.CancelledError:
            self._abandon(msg_id, "cancelled by the caller")
            raise
        finally:
            if timer is not None:
                timer.cancel()

    async def _send_request(self, method: str, params: dict | None, timeout: float | None,
                            progress_callback: ProgressCallback | None = None, reset: bool = False,
                            max_total: float | None = None) -> Any:
        """Send one request and wait for its answer (no era logic)."""
        if progress_callback is not None:
            return await self._request_with_progress(method, params, timeout, progress_callback, reset, max_total)
        future, msg_id, data, timer = self._register(method, params, timeout)
        try:
            return await self._transmit(msg_id, data, future)
        finally:
            if timer is not None:
                timer.cancel()

    def _register(self, method: str, params: dict | None,
                  timeout: float | None) -> tuple[asyncio.Future, int, bytes, asyncio.TimerHandle | None]:
        """Register a request with its timeout; return (future, id, bytes, own timer or None)."""
        loop = self._loop
        assert loop is not None
        future = loop.create_future()
        msg_id, data = self._session.send_request(method, params, future)
        self._sent += 1
        timer = None
        if timeout:
            deadlines = self._deadlines
            if deadlines is None:
                deadlines = self._deadlines = Deadlines(loop, self._expire, self._session.is_pending,
                                                             lambda: self._session.pending_count)
            if not deadlines.add(loop.time() + timeout, msg_id, timeout):
                timer = loop.call_later(timeout, self._expire, msg_id, timeout)
        return future, msg_id, data, timer

    async def _transmit(self, msg_id: int, data: bytes, future: asyncio.Future) -> Any:
        """Queue a registered request and wait for its answer; cancel it if the caller is cancelled."""
        try:
            if self._trace:
                logger.debug("> %s", data[:1000])
            if not self._transport.send_nowait(data):  # type: ignore[union-attr]
                await self._send_blocking(data, future)
            return await future
        except asyncio.CancelledError:
            self._abandon(msg_id, "cancelled by the caller")
            raise

    async def _request_with_progress(self, method: str, params: dict | None, timeout: float | None,
                                     callback: ProgressCallback, reset: bool, max_total: float | None) -> Any:
        loop = self._loop
        assert loop is not None
        self._next_token += 1
        token = self._next_token
        params = dict(params or {})
        params["_meta"] = dict(params.get("_meta") or {}, progressToken=token)
        future = loop.create_future()
        msg_id, data = self._session.send_request(method, params, future)
        self._sent += 1
        progress = ProgressEntry(callback, msg_id, timeout if reset else None)
        if timeout:
            progress.limit = loop.time() + (max_total if max_total is not None else 10 * timeout)
            progress.timer = loop.call_later(timeout, self._expire, msg_id, timeout)
        if self._progress is None:
            self._progress = {}
        self._progress[token] = progress
        try:
            return await self._transmit(msg_id, data, future)
        finally:
            del self._progress[token]
            if progress.timer is not None:
                progress.timer.cancel()

    async def notify(self, method: str, params: dict | None = None) -> None:
        """Send a notification (no answer is expected)."""
        if self._state is not State.READY:
            self._raise_not_ready(method)
        data = self._session.send_notification(method, params)
        if self._trace:
            logger.debug("> %s", data[:1000])
        if not await self._transport.send(data):  # type: ignore[union-attr]
            self._raise_not_ready(method)

    async def ping(self, *, timeout: Any = DEFAULT) -> None:
        """Check that the server answers (MCP basic/utilities/ping).

        2026-07-28 has no ``ping``: the equivalent is ``server/discover``, which every
        server "MUST implement".
        """
        await self.request("server/discover" if self._modern is not None else "ping", None, timeout=timeout)

    def stats(self) -> dict:
        """Return counters for monitoring.

        Keys: ``pid``, ``state``, ``protocol_version``, ``uptime_s``, ``requests_sent``,
        ``in_flight``, ``failed`` (errors, timeouts and lost connections included),
        ``timed_out``, ``bytes_sent``, ``bytes_received``, ``invalid_messages``,
        ``unexpected_responses``, ``last_error``, and ``fds``: this process's open file
        descriptors against RLIMIT_NOFILE with the warning (70 %) and critical (90 %)
        thresholds of the limits probe.
        """
        from .limits import fd_usage

        transport = self._transport
        uptime = None
        if self._started_at is not None and self._loop is not None:
            uptime = round(self._loop.time() - self._started_at, 3)
        return {
            "pid": self.pid, "state": self._state.value, "protocol_version": self.protocol_version,
            "uptime_s": uptime, "requests_sent": self._sent, "in_flight": self._session.pending_count,
            "failed": self._failed, "timed_out": self._timed_out,
            "bytes_sent": getattr(transport, "bytes_written", 0), "bytes_received": getattr(transport, "bytes_read", 0),
            "invalid_messages": self.invalid_messages, "unexpected_responses": self.unexpected_responses,
            "last_error": self._last_error if self._error is None else str(self._error), "fds": fd_usage(),
            "restarts": self._restarts,
        }

    def set_request_handler(self, method: str, handler: RequestHandler | None) -> None:
        """Answer the server's requests for ``method`` with ``handler(params)``.

        The handler is a coroutine function; its return value is the result, an exception it
        raises becomes a JSON-RPC error answer (a :class:`RemoteError` keeps its code).
        ``None`` removes the handler (the server then gets -32601).
        """
        if handler is None:
            if self._request_handlers:
                self._request_handlers.pop(method, None)
        else:
            if self._request_handlers is None:
                self._request_handlers = {}
            self._request_handlers[method] = handler

    # Private methods

    def _capabilities(self) -> dict:
        """Return the capabilities to declare: only those with a handler (MCP basic/lifecycle)."""
        capabilities: dict = {}
        if self._roots is not None or self._list_roots_callback is not None:
            capabilities["roots"] = {"listChanged": True}
        if self._sampling_callback is not None:
            capabilities["sampling"] = {}
        if self._elicitation_callback is not None:
            capabilities["elicitation"] = {"form": {}, "url": {}}
        requests = {area: {method: {}} for name, (area, method) in TASK_METHODS.items()
                    if self._request_handlers and name in self._request_handlers}
        if requests:
            # MCP 2025-11-25, basic/utilities/tasks: task augmentation "is subject to
            # capability negotiation"; this client runs those requests as tasks.
            capabilities["tasks"] = {"list": {}, "cancel": {}, "requests": requests}
        return capabilities

    def _raise_not_ready(self, method: str) -> None:
        if self._error is not None:
            raise self._copy_error()
        raise ClientClosedError(f"cannot send {method}: the client is {self._state.value}")

    def _copy_error(self) -> MCPStdioError:
        error = self._error
        assert error is not None
        if isinstance(error, MessageTooLarge):
            return MessageTooLarge(error.size, error.limit, error.returncode, error.stderr_tail)
        if isinstance(error, ServerExited):
            return ServerExited(error.returncode, error.stderr_tail)
        if isinstance(error, ConnectionClosed):
            return ConnectionClosed(error.reason, error.returncode, error.stderr_tail)
        return ClientClosedError(str(error))

    def _send_nowait(self, data: bytes) -> None:
        """Queue a message without waiting; if the queue is full, a task waits for room."""
        transport = self._transport
        if transport is None or not transport.connected:
            return
        if self._trace:
            logger.debug("> %s", data[:1000])
        if not transport.send_nowait(data):
            self._spawn(transport.send(data))

    def _spawn(self, coro: Any) -> asyncio.Task:
        """Run ``coro`` in a task that close() cancels and awaits if it is still running."""
        task = self._loop.create_task(coro)  # type: ignore[union-attr]
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _send_blocking(self, data: bytes, future: asyncio.Future) -> None:
        """Wait for room in the full queue, in the caller's task.

        If the request's future fails meanwhile (timeout, lost connection, close),
        _fail_future interrupts the wait and this returns: the future holds the outcome.
        No extra task or waiter is needed per request, which keeps thousands of blocked
        senders cheap.
        """
        if self._blocked is None:
            self._blocked = {}
        blocked = self._blocked
        blocked[future] = asyncio.current_task()
        try:
            await self._transport.put(data)  # type: ignore[union-attr]
        except asyncio.CancelledError:
            if future in blocked and blocked[future] is None:
                return  # interrupted by _fail_future, not cancelled by the caller
            raise
        finally:
            blocked.pop(future, None)

    def _fail_future(self, future: asyncio.Future, error: BaseException) -> None:
        if future.done():
            return
        if self._state is State.READY or self._state is State.CLOSING:  # not the era probe or handshake
            self._failed += 1
            self._last_error = str(error)
        future.set_exception(error)
        blocked = self._blocked
        if blocked:
            task = blocked.get(future)
            if task is not None:
                blocked[future] = None
                task.cancel()

    def _expire(self, msg_id: int, timeout: float) -> None:
        entry = self._session.pending_entry(msg_id)
        if entry is None:
            return  # answered (or failed) in the meantime
        method, future = entry
        sent = not self._blocked or future not in self._blocked
        self._timed_out += 1
        self._fail_future(future, RequestTimeout(method, timeout))
        if sent:
            self._abandon(msg_id, f"timed out after {timeout:g} s")
        else:
            self._session.forget(msg_id)  # never written: nothing to cancel at the server
            self._check_drained()

    def _abandon(self, msg_id: int, reason: str) -> None:
        """Forget a request and tell the server (MCP basic/utilities/cancellation)."""
        data = self._session.cancel(msg_id, reason)
        if data is not None:
            self._send_nowait(data)
        self._check_drained()

    async def _abort_start(self) -> None:
        # Nobody waits for initialize any more: drop it so that close() does not wait for it.
        for _msg_id, _method, token in self._session.take_pending():
            if token is not None and not token.done():
                token.cancel()
        self._session.close()
        await self.close()

    async def _close(self) -> None:
        restart = self._restart_task
        if restart is not None and not restart.done():
            restart.cancel()
            await asyncio.gather(restart, return_exceptions=True)
        if self._stop_task is not None:
            await asyncio.shield(self._stop_task)  # a previous child, during a restart
            if self._transport is not None and self._transport.connected:
                self._stop_task = None  # the restart had started a new child: stop it too
        self._session.close()
        if self._state is not State.CLOSED:
            self._state = State.CLOSING
        transport = self._transport
        assert transport is not None and self._loop is not None
        loop = self._loop
        deadline = loop.time() + self.close_timeout
        if self._session.pending_count and transport.connected:
            self._drained = loop.create_future()
            try:
                await asyncio.wait_for(self._drained, self.close_timeout)
            except asyncio.TimeoutError:
                pass
        self._fail_pending(lambda: ClientClosedError("the client was closed before the server answered"))
        if self._stop_task is None:
            self._stop_task = loop.create_task(
                transport.stop(max(0.0, deadline - loop.time()), self.exit_timeout, self.terminate_timeout))
        await self._stop_task
        await self._finish_handlers()
        self._session.closed()
        self._state = State.CLOSED

    async def _finish_handlers(self) -> None:
        if self._deadlines is not None:
            self._deadlines.clear()
        if self._dispatcher is not None and not self._dispatcher.done():
            if self._notifications:
                try:
                    await asyncio.wait_for(asyncio.shield(self._dispatcher_idle()), self.close_timeout)
                except asyncio.TimeoutError:
                    logger.warning("%d notifications not delivered: message_handler too slow",
                                   len(self._notifications))
            self._dispatcher.cancel()
        tasks = list(self._tasks or ())
        if self._dispatcher is not None:
            tasks.append(self._dispatcher)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _dispatcher_idle(self) -> None:
        while self._notifications:
            await asyncio.sleep(0.001)

    def _fail_pending(self, make_error: Callable[[], BaseException]) -> None:
        for _msg_id, _method, token in self._session.take_pending():
            if token is not None and not token.done():
                self._fail_future(token, make_error())
        self._check_drained()

    def _check_drained(self) -> None:
        drained = self._drained
        if drained is not None and not drained.done() and not self._session.pending_count:
            drained.set_result(None)

    def _fail_connection(self, error: ConnectionClosed) -> None:
        """The connection is over: fail everything pending and stop the child."""
        was_ready = self._state is State.READY
        if self._error is None and self._close_task is None:
            self._error = error  # an unexpected end; after close() the client is just closed
        if self._state is State.READY or self._state is State.INITIALIZING:
            # Requests from here on raise a copy of the error (see _raise_not_ready).
            self._state = State.CLOSING
        # In-flight requests fail, even with a restart policy: they are never resent.
        self._fail_pending(self._copy_error)
        if self._stop_task is None and self._close_task is None and self._transport is not None:
            transport = self._transport
            self._stop_task = self._loop.create_task(  # type: ignore[union-attr]
                transport.stop(0.0, self.exit_timeout, self.terminate_timeout))
        if was_ready and self._restart is not None and self._close_task is None and self._restarting is None:
            self._restarting = self._loop.create_future()  # type: ignore[union-attr]
            self._restart_task = self._spawn(self._restart_loop())

    async def _restart_loop(self) -> None:
        """Start the server again with exponential backoff (the restart policy)."""
        max_restarts, backoff, max_backoff = self._restart  # type: ignore[misc]
        restarting = self._restarting
        assert restarting is not None
        try:
            while self._restarts < max_restarts and self._close_task is None:
                delay = min(max_backoff, backoff * 2 ** self._restarts)
                self._restarts += 1
                logger.warning("%s: restarting in %.2f s (restart %d of %d) after: %s", self.command[0], delay,
                               self._restarts, max_restarts, self._error)
                await asyncio.sleep(delay)
                if self._stop_task is not None:
                    # The previous child is reaped and its pipes closed (shielded: a
                    # close() that cancels this loop must not interrupt the stop).
                    await asyncio.shield(self._stop_task)
                    self._stop_task = None
                if self._close_task is not None:
                    return
                self._session = ClientSession(self.max_message_size)
                error, self._error = self._error, None
                try:
                    await self._start_once()
                    self._listen_again()
                    return
                except StartError as exc:
                    self._last_error = str(exc)
                    self._error = ConnectionClosed(f"restart {self._restarts} failed: {exc}")
                    if self._transport is not None:
                        self._stop_task = self._loop.create_task(  # type: ignore[union-attr]
                            self._transport.stop(0.0, self.exit_timeout, self.terminate_timeout))
                except BaseException:
                    self._error = error
                    raise
            if self._close_task is None:
                self._state = State.CLOSING
                self._error = ConnectionClosed(f"server gave up after {self._restarts} restarts: {self._error}")
        finally:
            self._restarting = None
            if not restarting.done():
                restarting.set_result(None)

    def _check_alive_at_start(self, method: str) -> None:
        """Raise StartError if the connection ended before ``method`` could be waited for.

        The server may exit before the request is registered; the end of the connection
        then failed nothing, and waiting would last the whole startup_timeout.
        """
        if self._error is None and self._transport is not None and self._transport.connected:
            return
        error = self._error if isinstance(self._error, ConnectionClosed) else ConnectionClosed(
            "server closed the connection", self.returncode, self.stderr_tail)
        raise StartError(f"server {self.command[0]!r} {describe_end(error)} before answering {method}",
                         error.returncode, error.stderr_tail) from error

    def _era_key(self) -> tuple:
        return (tuple(self.command), str(self._cwd))

    async def _respawn(self) -> None:
        """Start the server again after the era probe killed it (then use the handshake)."""
        if self._stop_task is not None:
            await asyncio.shield(self._stop_task)
            self._stop_task = None
        self._error = None
        self._state = State.INITIALIZING
        self._session = ClientSession(self.max_message_size)
        self._transport = self._transport_class(
            self.command, self._data_received, self._connection_lost, env=self._env,
            inherit_env=self._inherit_env, cwd=self._cwd, on_stderr=self._stderr_callback,
            stderr_tail_lines=self._stderr_tail_lines, queue_size=self.queue_size)
        await self._transport.start()

    async def _wait_restart(self, timeout: Any) -> None:
        restarting = self._restarting
        if restarting is None:
            return
        if timeout is DEFAULT:
            timeout = self.timeout
        try:
            await asyncio.wait_for(asyncio.shield(restarting), timeout)
        except asyncio.TimeoutError:
            pass

    # Transport callbacks

    def _data_received(self, data: bytes) -> None:
        if self._trace:
            logger.debug("< %s", data[:1000])
        self._handle_events(self._session.receive_data(data))

    def _handle_events(self, events: list) -> None:
        for event in events:
            kind = event.__class__
            if kind is Response:
                future = event.token
                if not future.done():
                    future.set_result(event.result)
            elif kind is ErrorResponse:
                self._fail_future(event.token, RemoteError(event.code, event.message, event.data, event.method))
            elif kind is Notification:
                self._notification(event)
            elif kind is Request:
                self._request(event)
            else:
                self._other_event(event)
        if self._drained is not None:
            self._check_drained()

    def _other_event(self, event: Any) -> None:
        kind = event.__class__
        if kind is HandshakeComplete:
            if not event.token.done():
                event.token.set_result(event.result)
        elif kind is HandshakeFailed:
            if not event.token.done():
                event.token.set_exception(event.error)
        elif kind is UnexpectedResponse:
            self.unexpected_responses += 1
            logger.warning("! %s: ignored answer (%s)", self.command[0], event.reason)
        elif kind is InvalidMessage:
            self.invalid_messages += 1
            logger.warning("! %s: skipped a line that is not a JSON-RPC message: %s: %r",
                           self.command[0], event.reason, event.excerpt)
            if event.id is not None:
                self._send_nowait(self._session.send_error(event.id, INVALID_REQUEST, event.reason))
        elif kind is Oversized:
            self._fail_connection(MessageTooLarge(event.size, event.limit, None, self.stderr_tail))

    def _connection_lost(self, returncode: int | None) -> None:
        self._handle_events(self._session.receive_eof())  # a last line without a newline
        tail = self.stderr_tail
        if returncode is None:
            error: ConnectionClosed = ConnectionClosed("server closed its stdout", None, tail)
        else:
            error = ServerExited(returncode, tail)
        self._fail_connection(error)

    # Messages from the server

    def _notification(self, message: Notification) -> None:
        method = message.method
        params = message.params or {}
        if self._subscriptions:
            listen_id = (params.get("_meta") or {}).get(modern.SUBSCRIPTION_ID)
            subscription = self._subscriptions.get(listen_id)
            if subscription is not None:
                if method == "notifications/subscriptions/acknowledged":
                    subscription._acknowledge(params)
                else:
                    subscription._deliver({"method": method, "params": params})
        if method == "notifications/progress":
            self._progress_received(params)
        elif method == "notifications/cancelled":
            # MCP basic/utilities/cancellation: the receiver SHOULD "Stop processing the
            # cancelled request" and "Not send a response for the cancelled request".
            request_id = params.get("requestId")
            task = self._incoming.get(request_id) if self._incoming else None  # type: ignore[arg-type]
            if task is not None:
                task.cancel()
        elif method == "notifications/message":
            if self._logging_callback is not None:
                self._deliver(self._logging_callback, (params,))
        elif method in _LIST_CHANGED:
            key = _LIST_CHANGED[method]
            self._cache.pop(key, None)
            for cached in [k for k in self._cache if isinstance(k, tuple) and k[1].startswith(key)]:
                del self._cache[cached]
            if key == "tools":
                self._cache.pop("output_schemas", None)
            if self.refresh_on_list_changed and self._state is State.READY:
                self._spawn(self._refresh(key))
        if self._message_handler is not None:
            self._deliver(self._message_handler, ({"method": method, "params": params},))

    def _progress_received(self, params: dict) -> None:
        progress = self._progress.get(params.get("progressToken")) if self._progress else None  # type: ignore[arg-type]
        if progress is None:
            return
        if progress.timeout is not None and progress.timer is not None:
            loop = self._loop
            assert loop is not None
            remaining = progress.limit - loop.time()
            if remaining > 0:
                progress.timer.cancel()
                progress.timer = loop.call_later(min(progress.timeout, remaining), self._expire,
                                                 progress.msg_id, progress.timeout)
        self._deliver(progress.callback, (params.get("progress"), params.get("total"), params.get("message")))

    def _deliver(self, callback: Any, args: tuple) -> None:
        """Queue a user callback; one dispatcher task runs them in order."""
        if self._notifications is None:
            self._notifications = collections.deque()
        self._notifications.append((callback, args))
        if self._dispatcher is None:
            self._dispatcher = self._loop.create_task(self._dispatch_notifications())  # type: ignore[union-attr]
        elif self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def _refresh(self, key: str) -> None:
        try:
            await getattr(self, f"list_{key}")()
        except MCPStdioError as exc:
            logger.warning("refreshing %s after list_changed failed: %s", key, exc)

    async def _answer_roots(self, params: dict) -> dict:
        if self._list_roots_callback is not None:
            roots = self._list_roots_callback()
            if hasattr(roots, "__await__"):
                roots = await roots
        else:
            roots = self._roots
        return {"roots": list(roots or ())}

    async def _dispatch_notifications(self) -> None:
        queue = self._notifications
        assert queue is not None
        while True:
            while queue:
                callback, args = queue[0]
                try:
                    outcome = callback(*args)
                    if outcome is not None and hasattr(outcome, "__await__"):
                        await outcome
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("notification callback %r raised", callback)
                queue.popleft()
            self._wakeup = self._loop.create_future()  # type: ignore[union-attr]
            await self._wakeup

    def _request(self, message: Request) -> None:
        if message.method == "ping":
            # MCP basic/utilities/ping: "The receiver MUST respond promptly with an empty
            # response".
            self._send_nowait(self._session.send_result(message.id, {}))
            return
        handler = self._request_handlers.get(message.method) if self._request_handlers else None
        if handler is not None and message.method in TASK_METHODS and (message.params or {}).get("task"):
            if self._client_tasks is None:
                self._client_tasks = ClientTasks(self._spawn)
            self._send_nowait(self._session.send_result(message.id, self._client_tasks.create(handler,
                                                                                             message.params)))
            return
        if handler is None and message.method in _TASK_REQUESTS and self._client_tasks is not None:
            handler = getattr(self._client_tasks, _TASK_REQUESTS[message.method])
        if handler is None:
            self._send_nowait(self._session.send_error(
                message.id, METHOD_NOT_FOUND, f"Method not found: {message.method}"))
            return
        msg_id = message.id
        task = self._spawn(self._run_handler(handler, message))
        if self._incoming is None:
            self._incoming = {}
        incoming = self._incoming
        incoming[msg_id] = task
        task.add_done_callback(lambda _: incoming.pop(msg_id, None))

    async def _run_handler(self, handler: RequestHandler, message: Request) -> None:
        try:
            result = await handler(message.params or {})
        except asyncio.CancelledError:
            raise
        except RemoteError as exc:
            data = self._session.send_error(message.id, exc.code, exc.message, exc.data)
        except Exception as exc:
            logger.exception("handler for %s raised", message.method)
            data = self._session.send_error(message.id, INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
        else:
            try:
                data = self._session.send_result(message.id, result if result is not None else {})
            except ValueError as exc:
                data = self._session.send_error(message.id, INTERNAL_ERROR, str(exc))
        if self._transport is not None and self._transport.connected:
            await self._transport.send(data)

    async def _list(self, method: str, key: str, cursor: str | None, page: bool, timeout: Any) -> dict:
        if cursor is not None or page:
            return await self.request(method, {"cursor": cursor} if cursor is not None else None, timeout=timeout)
        items: list = []
        seen: set = set()
        params: dict | None = None
        for _ in range(self.max_pages):
            result = await self.request(method, params, timeout=timeout)
            if type(result) is not dict:
                raise RemoteProtocolError(f"{method} result is not an object: {result!r:.200}")
            items.extend(result.get(key) or ())
            next_cursor = result.get("nextCursor")
            if next_cursor is None:
                return {key: items}
            if next_cursor in seen:
                raise RemoteProtocolError(f"{method}: the server returned cursor {next_cursor!r} twice")
            seen.add(next_cursor)
            params = {"cursor": next_cursor}
        raise RemoteProtocolError(f"{method}: more than {self.max_pages} pages (max_pages)")
