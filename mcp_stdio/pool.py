"""Shared servers: many agents on a few server processes (``mcp_stdio.pool``).

::

    async with mcp_stdio.pool(command, size=4) as pool:
        agent = pool.session(client_info={"name": "agent-7", "version": "1"})
        result = await agent.call_tool("echo", {"text": "hi"})
        await agent.close()

Theory of operation
-------------------
A :class:`Pool` starts ``size`` members: ordinary :class:`mcp_stdio.Client` connections to
the same command. An :class:`Agent` (``pool.session()``) has every request method of a
client (:class:`~mcp_stdio.api.ProtocolMethods`) and its own callbacks; creating one does
no I/O. Each request of an agent goes to the least-loaded member with room (at most
``max_in_flight`` requests in flight per member); when every member is full, requests wait
in one line per agent, and the lines are served in turn (round robin), so an agent with
twenty thousand calls queued cannot starve another. JSON-RPC ids and progress tokens are
the member's own, so agents never collide; a cancellation reaches the member as its own
``notifications/cancelled``; progress reaches the agent whose request it is.

In 2026-07-28 (the era made for sharing) each request carries its agent's client info,
capabilities and log level in ``_meta``; ``input_required`` rounds are answered by the
agent's callbacks; ``listen`` streams are per agent; cached results are shared across
agents only when ``cacheScope`` is ``"public"``. A log message names no request: it goes
to the one agent with a request in flight on that member whose ``log_level`` admits it,
else to the pool-level ``logging_callback`` (else nowhere).

In the handshake era a member's session is shared, so its limits are exact:

* each member sends one ``initialize`` with the capabilities named in ``declare`` (and
  those of the pool-level callbacks);
* a request of the server (sampling, elicitation, roots) goes to the agent whose request
  caused it when that can be known: the only agent with a request in flight on that
  member that has a callback for it; otherwise to the pool-level callback given to
  ``pool()`` (``sampling_callback=``...); otherwise it is answered with a JSON-RPC error
  (-32603, "cannot tell which agent ...");
* ``resources/subscribe`` is counted across agents (one subscription per URI on one
  member; the last ``unsubscribe_resource`` ends it), and updates reach the agents that
  subscribed; when that member dies, the pool subscribes again on a live member (updates
  sent in between are lost, as they would be for a client);
* ``list_changed`` and log notifications reach every agent's ``message_handler`` and
  ``logging_callback`` (or the pool-level ones); the log level is the pool's
  (:meth:`Pool.set_logging_level`).

Faults: a member that dies fails only its own requests in flight (``ServerExited`` with its
stderr tail), and is replaced in the background, with backoff, while the others serve.
Idempotent requests (lists, reads, prompts, completion) are retried once on another member;
``tools/call`` never. The pool grows up to ``max_size`` when requests wait, and shrinks to
``min_size`` members idle for ``idle_timeout`` seconds. :meth:`Pool.close` is bounded like
:meth:`mcp_stdio.Client.close` and leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sys
import types

from . import lifecycle
from .api import DEFAULT, LOGGING_LEVELS, ProtocolMethods
from .callbacks import Callbacks
from .client import Client
from .errors import (
    INTERNAL_ERROR,
    ClientClosedError,
    ConnectionClosed,
    LocalProtocolError,
    MCPStdioError,
    RequestError,
    RequestTimeout,
    StartError,
)
from .lifecycle import State
from .options import DEFAULT_CLOSE_TIMEOUT, DEFAULT_STARTUP_TIMEOUT, DEFAULT_TIMEOUT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Coroutine
    from typing import Any

    from .api import ProgressCallback
    from .events import RequestReceived
    from .subscriptions import Subscription

__all__ = ["pool", "Pool", "Agent", "DEFAULT_POOL_SIZE", "DEFAULT_MAX_IN_FLIGHT", "IDEMPOTENT"]

logger = logging.getLogger("mcp_stdio.pool")

# Members started by default: a few processes serve many agents.
DEFAULT_POOL_SIZE = 4
# Requests in flight per member: enough to keep a server busy, few enough that a slow one
# does not hoard the work.
DEFAULT_MAX_IN_FLIGHT = 100
# Seconds a member beyond min_size may stay idle before it is closed.
DEFAULT_IDLE_TIMEOUT = 60.0
# Requests that may be retried once on another member when theirs dies: they change nothing.
IDEMPOTENT = frozenset({"tools/list", "resources/list", "resources/templates/list", "resources/read",
                        "prompts/list", "prompts/get", "completion/complete", "ping", "server/discover"})
# The backoff of member replacements: 0.5 s, doubling, at most 30 s.
_BACKOFF = (0.5, 30.0)


def pool(command: list[str], *, size: int = DEFAULT_POOL_SIZE, **options: Any) -> Pool:
    """Return a :class:`Pool` of ``size`` members; nothing starts until ``async with``.

    Args:
        command: the server's argv list.
        size: members started at first (and kept at least, unless ``min_size`` says less).
        **options: the keyword arguments of :class:`Pool` and of :class:`mcp_stdio.Client`.
    """
    return Pool(command, size=size, **options)


class _Member(Client):
    """A client of the pool: the server's requests and notifications go through the pool."""

    __slots__ = ("pool", "in_flight", "idle_since", "requests")

    def __init__(self, pool: Pool, command: list[str], **options: Any) -> None:
        super().__init__(command, **options)
        self.pool = pool
        self.in_flight = 0
        self.idle_since = 0.0
        # agent -> its requests in flight here (for routing the server's requests)
        self.requests: collections.Counter[Agent] = collections.Counter()

    async def _answer_request(self, event: RequestReceived) -> Any:
        return await self.pool._answer_request(self, event)

    def _notification(self, method: str, params: dict) -> None:
        super()._notification(method, params)
        self.pool._notification(self, method, params)

    def _connection_ended(self, connection: Any, error: Any, was_ready: bool) -> None:
        super()._connection_ended(connection, error, was_ready)
        if self._error is not None and self in self.pool.members:
            # Noticed at once, not at the next request: the pool replaces the member and
            # moves its subscriptions while it is idle too.
            self._loop.call_soon(self.pool._member_died, self)  # type: ignore[union-attr]


class Pool:
    """Many agents on a few members (clients of one server command).

    Args:
        command: the server's argv list.
        size: members started at first.
        min_size: members kept when idle (default ``size``).
        max_size: members at most, grown when requests wait (default ``size``).
        max_in_flight: requests in flight per member.
        idle_timeout: seconds before an idle member beyond ``min_size`` is closed.
        declare: capabilities the members declare for the agents' callbacks in the
            handshake era (``{"sampling", "elicitation", "roots"}``); 2026-07-28 needs none.
        **options: the keyword arguments of :class:`mcp_stdio.Client` for every member
            (its callbacks are the pool-level ones).

    Raises:
        TypeError, ValueError: an option is unknown or has an impossible value (checked
            here, as :class:`mcp_stdio.Client` checks them, before anything starts).
    """

    def __init__(self, command: list[str], *, size: int = DEFAULT_POOL_SIZE, min_size: int | None = None,
                 max_size: int | None = None, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
                 idle_timeout: float = DEFAULT_IDLE_TIMEOUT, declare: set[str] | frozenset[str] = frozenset(),
                 **options: Any) -> None:
        self.command = list(command)
        self.min_size = size if min_size is None else min_size
        self.max_size = max(size, self.max_size_default(size, max_size))
        if not 1 <= size or not 0 <= self.min_size <= size or max_in_flight < 1:
            raise ValueError("size must be at least 1, min_size between 0 and size, max_in_flight at least 1")
        self.size = size
        self.max_in_flight = max_in_flight
        self.idle_timeout = idle_timeout
        unknown = set(declare) - {"sampling", "elicitation", "roots"}
        if unknown:
            raise ValueError(f"declare: unknown capabilities {', '.join(sorted(unknown))}")
        self.declare = frozenset(declare)
        if options.pop("restart", False):
            raise ValueError("restart: the pool replaces a member that dies by itself")
        self._options = options
        self.callbacks = Callbacks(**{key: options.pop(key) for key in list(options) if key in _CALLBACK_OPTIONS})
        self.timeout = options.get("timeout", DEFAULT_TIMEOUT)
        self.startup_timeout = options.get("startup_timeout", DEFAULT_STARTUP_TIMEOUT)  # of each member
        self.close_timeout = options.get("close_timeout", DEFAULT_CLOSE_TIMEOUT)  # of each, closed in parallel
        self.members: list[_Member] = []
        self._starting: set[_Member] = set()  # members being started (not yet in members)
        self._retired: set[_Member] = set()  # members out of service, being closed
        self._line: collections.deque[Agent] = collections.deque()  # agents whose requests wait, in turn
        self._schemas: dict[str, Any] = {}
        self._subscribed: dict[str, tuple[_Member, collections.Counter]] = {}  # uri -> (member, agent counts)
        self._agents: set[Agent] = set()
        self._tasks: set[asyncio.Task] = set()
        self._closing = False
        self._started = False
        self._reaper: asyncio.TimerHandle | None = None
        self.replaced = 0
        self.retried = 0
        _Member(self, self.command, **self._member_options())  # checks the options (no I/O)

    @staticmethod
    def max_size_default(size: int, max_size: int | None) -> int:
        """Return ``max_size``, or ``size`` when it is not given."""
        return size if max_size is None else max_size

    # Public methods

    async def __aenter__(self) -> Pool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def pids(self) -> list[int]:
        """Return the pids of the live members."""
        return [member.pid for member in self.members if member.pid is not None and member.state is State.READY]

    async def start(self) -> None:
        """Start ``size`` members at once.

        Raises:
            StartError: no member could start (the first error); members that started are
                closed. Some members failing is logged and they are replaced in the
                background.
            ClientClosedError: the pool was started before, or closed (nothing is spawned).
        """
        if self._closing or self._started:
            raise ClientClosedError(f"start() called on a pool that is {'closed' if self._closing else 'started'}")
        self._started = True
        results = await asyncio.gather(*(self._new_member() for _ in range(self.size)), return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        if len(errors) == len(results):
            await self.close()
            first = errors[0]
            if isinstance(first, MCPStdioError):
                raise first
            raise StartError(f"no member of the pool could start: {first!r}") from first
        for error in errors:
            logger.warning("%s: a member failed to start (%s); replacing it", self.command[0], error)
            self._spawn(self._replace())

    def session(self, **options: Any) -> Agent:
        """Return a new agent (no I/O); its options are those of :class:`Agent`."""
        if self._closing:
            raise ClientClosedError("the pool is closed")
        agent = Agent(self, **options)
        self._agents.add(agent)
        return agent

    async def close(self) -> None:
        """Close every agent and member, in parallel; bounded like ``Client.close()``."""
        self._closing = True
        if self._reaper is not None:
            self._reaper.cancel()
        for agent in list(self._agents):
            agent._abandon(ClientClosedError("the pool was closed"))
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # Members retired before (idle, or dead) are waited for too: cancelling the task that
        # closed one does not stop its close, which would go on after ours and leave its pipes.
        await asyncio.gather(*(member.close() for member in [*self.members, *self._retired]), return_exceptions=True)
        self.members = []
        self._retired.clear()
        self._starting.clear()  # what is left never ran (its task was cancelled first): no process

    async def set_logging_level(self, level: str) -> None:
        """Set the log level of every member (handshake era: the level is per process)."""
        await asyncio.gather(*(member.set_logging_level(level) for member in self._ready()))

    def stats(self) -> dict:
        """Return the pool's counters: members, agents, requests in flight and waiting."""
        ready = self._ready()
        return {
            "members": len(self.members), "ready": len(ready), "starting": len(self._starting), "pids": self.pids,
            "agents": len(self._agents), "in_flight": sum(m.in_flight for m in self.members),
            "waiting": sum(len(agent._waiting) for agent in self._line), "replaced": self.replaced,
            "retried": self.retried,
            "per_member": [{"pid": m.pid, "state": m.state.value, "in_flight": m.in_flight} for m in self.members],
        }

    # Private methods: members

    def _ready(self) -> list[_Member]:
        return [member for member in self.members if member.state is State.READY]

    def _member_options(self) -> dict[str, Any]:
        """The options of a member: the pool's, with the callbacks routed to the agents."""
        options = dict(self._options)
        for capability, option in (("sampling", "sampling_callback"), ("elicitation", "elicitation_callback")):
            if capability in self.declare or getattr(self.callbacks, capability) is not None:
                options[option] = _AGENT_HANDLED
        if "roots" in self.declare or self.callbacks.roots is not None or self.callbacks.list_roots is not None:
            options["list_roots_callback"] = _agent_roots
        return options

    def _new_member(self) -> Coroutine[Any, Any, _Member]:
        """Return the start of a new member, counted in ``_starting`` from now on (not from
        when the coroutine first runs: several growths in one turn of the loop must see it)."""
        member = _Member(self, self.command, **self._member_options())
        self._starting.add(member)
        return self._start_member(member)

    async def _start_member(self, member: _Member) -> _Member:
        try:
            await member.start()
        finally:
            self._starting.discard(member)
        member.idle_since = asyncio.get_running_loop().time()
        if self._closing:
            await member.close()
            raise ClientClosedError("the pool was closed")
        self.members.append(member)
        self._dispatch()
        # A member that joins idle (the wait that grew the pool is over) is reaped like the
        # others: nothing else would look at it until a request ends.
        self._shrink_later()
        return member

    async def _replace(self) -> None:
        """Start a member again after one died, with backoff, until one starts."""
        delay, limit = _BACKOFF
        while not self._closing:
            try:
                await self._new_member()
                self.replaced += 1
                return
            except MCPStdioError as exc:
                logger.warning("%s: replacing a member failed (%s); again in %.1f s", self.command[0], exc, delay)
            await asyncio.sleep(delay)
            delay = min(limit, delay * 2)

    def _member_died(self, member: _Member) -> None:
        if member in self.members:
            self._retire(member)
            if not self._closing and len(self.members) + len(self._starting) < max(self.min_size, 1):
                self._spawn(self._replace())
            orphaned = [uri for uri, (owner, _) in self._subscribed.items() if owner is member]
            if orphaned and not self._closing:
                self._spawn(self._resubscribe(orphaned))

    async def _resubscribe(self, uris: list[str]) -> None:
        """Subscribe again, on a live member, to the URIs a dead member held: the agents that
        subscribed keep their updates (with backoff while no member is ready)."""
        delay, limit = _BACKOFF
        while uris and not self._closing:
            ready = self._ready()
            if ready:
                member = min(ready, key=lambda m: m.in_flight)
                for uri in list(uris):
                    entry = self._subscribed.get(uri)
                    if entry is None or entry[0] is not None and entry[0] in self.members:
                        uris.remove(uri)  # unsubscribed, or subscribed again, meanwhile
                        continue
                    try:
                        await member.subscribe_resource(uri)
                    except MCPStdioError as exc:
                        logger.warning("%s: subscribing again to %s failed (%s); again in %.1f s",
                                       self.command[0], uri, exc, delay)
                        break
                    current = self._subscribed.get(uri)
                    if current is not None:
                        self._subscribed[uri] = (member, current[1])
                    uris.remove(uri)
            if uris:
                await asyncio.sleep(delay)
                delay = min(limit, delay * 2)

    def _retire(self, member: _Member) -> None:
        """Take ``member`` out of service and close it in the background."""
        self.members.remove(member)
        self._retired.add(member)
        self._spawn(self._close_retired(member))

    async def _close_retired(self, member: _Member) -> None:
        await member.close()
        self._retired.discard(member)  # not when cancelled: then close() waits for it

    def _spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _pick(self) -> _Member | None:
        """Return the least-loaded ready member with room, or ``None``."""
        best = None
        dead = None
        for member in self.members:
            if member.state is not State.READY:
                if member._error is not None:
                    dead = [member] if dead is None else dead + [member]
                continue
            if member.in_flight < self.max_in_flight and (best is None or member.in_flight < best.in_flight):
                best = member
        # Retired after the walk: _member_died removes from self.members, which the walk
        # must not see change under it (it would skip the next member).
        for member in dead or ():
            self._member_died(member)
        return best

    def _grow(self) -> None:
        if len(self.members) + len(self._starting) < self.max_size and not self._closing and not self._starting:
            self._spawn(self._new_member())

    def _shrink_later(self) -> None:
        """Look for idle members beyond ``min_size`` in ``idle_timeout`` seconds (once at a time)."""
        if self._reaper is None and len(self.members) > self.min_size and not self._closing:
            self._reaper = asyncio.get_running_loop().call_later(self.idle_timeout, self._shrink)

    def _shrink(self) -> None:
        self._reaper = None
        now = asyncio.get_running_loop().time()
        for member in list(self.members):
            if len(self.members) <= self.min_size:
                break
            if member.in_flight == 0 and now - member.idle_since >= self.idle_timeout:
                self._retire(member)
        self._shrink_later()

    # Private methods: requests

    async def _run(self, agent: Agent, method: str, params: dict | None, timeout: float | None,
                   options: dict) -> Any:
        """Run one request of ``agent`` on a member (waiting for room in turn)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        retried = False
        while True:
            member = self._pick() if not agent._waiting and not self._line else None
            # The same value for every request that did not wait: one deadline queue serves them.
            remaining = timeout if not retried else (None if deadline is None else max(0.0, deadline - loop.time()))
            if member is None:
                member = await self._wait_turn(agent, method, timeout, deadline)  # room reserved
                remaining = None if deadline is None else max(0.0, deadline - loop.time())
            else:
                member.in_flight += 1
            ticket: list = []
            member.requests[agent] += 1
            agent._in_flight.append(ticket)
            try:
                return await member._send(method, params, timeout=remaining, caller=agent.callbacks,
                                          identity=agent._identity(), owner=agent, ticket=ticket, **options)
            except ConnectionClosed:
                if method not in IDEMPOTENT or retried or self._closing or agent._closed:
                    raise
                retried = True  # a request that changes nothing: once more, on another member
                self.retried += 1
            finally:
                agent._in_flight.remove(ticket)
                member.in_flight -= 1
                member.requests[agent] -= 1
                if not member.requests[agent]:
                    del member.requests[agent]
                if not member.in_flight:
                    member.idle_since = loop.time()
                    self._shrink_later()
                if member.state is not State.READY and member._error is not None:
                    self._member_died(member)
                self._dispatch()

    async def _wait_turn(self, agent: Agent, method: str, timeout: float | None, deadline: float | None) -> _Member:
        """Wait in the agent's line until a member has room for it; return that member."""
        if agent._closed:
            raise ClientClosedError("the agent is closed")
        loop = asyncio.get_running_loop()
        turn = loop.create_future()
        agent._waiting.append(turn)
        if len(agent._waiting) == 1:
            self._line.append(agent)
        self._grow()
        timer = None if deadline is None else loop.call_at(deadline, _expire_turn, turn, method, timeout)
        try:
            return await turn  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                turn.result().in_flight -= 1  # granted, then cancelled before it ran: give the room back
                self._dispatch()
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if not turn.done() or turn.cancelled():
                agent._forget_turn(turn)

    def _dispatch(self) -> None:
        """Give members' free room to the waiting agents, one request per agent in turn."""
        line = self._line
        while line:
            member = self._pick()
            if member is None:
                self._grow()
                return
            agent = line.popleft()
            while agent._waiting:
                turn = agent._waiting.popleft()
                if not turn.done():
                    member.in_flight += 1  # reserved now: the request runs at the next iteration
                    turn.set_result(member)
                    break
            if agent._waiting:
                line.append(agent)  # back of the line: the others come first

    # Private methods: what the servers say

    async def _answer_request(self, member: _Member, event: RequestReceived) -> Any:
        """Route a request of a member's server to the agent that caused it (see the module)."""
        candidates = [agent for agent in member.requests if agent.callbacks.handles(event.method)]
        if len(candidates) == 1:
            return await candidates[0].callbacks.answer(event.method, event.params, event.version)
        if self.callbacks.handles(event.method):
            return await self.callbacks.answer(event.method, event.params, event.version)
        why = "no agent with a request in flight has a callback for it" if not candidates else \
            f"{len(candidates)} agents with requests in flight have a callback for it"
        raise RequestError(INTERNAL_ERROR, f"{event.method}: cannot tell which agent this request is for ({why})")

    def _notification(self, member: _Member, method: str, params: dict) -> None:
        if member.era == lifecycle.MODERN:
            # 2026-07-28: notifications belong to a request or a subscription (the member
            # routes those); a log message names neither (see the module).
            if method == "notifications/message":
                self._modern_log(member, params)
            return
        if method == "notifications/resources/updated":
            entry = self._subscribed.get(params.get("uri"))  # type: ignore[arg-type]
            targets = [agent for agent in entry[1]] if entry is not None else []
        elif method == "notifications/message" or method.endswith("/list_changed"):
            if method == "notifications/message" and self.callbacks.logging is not None:
                self._deliver(member, self.callbacks.logging, params)
                return
            if method != "notifications/message" and self.callbacks.message is not None:
                self._deliver(member, self.callbacks.message, {"method": method, "params": params})
                return
            targets = list(self._agents)
        else:
            return
        for agent in targets:
            if method == "notifications/message":
                if agent.callbacks.logging is not None:
                    self._deliver(member, agent.callbacks.logging, params)
            elif agent.callbacks.message is not None:
                self._deliver(member, agent.callbacks.message, {"method": method, "params": params})

    def _modern_log(self, member: _Member, params: dict) -> None:
        """A 2026-07-28 log message: to the one agent with a request in flight on ``member``
        that asked for its level, else to the pool-level ``logging_callback``."""
        level = params.get("level")
        rank = LOGGING_LEVELS.index(level) if level in LOGGING_LEVELS else len(LOGGING_LEVELS)
        askers = [agent for agent in member.requests
                  if agent.log_level is not None and LOGGING_LEVELS.index(agent.log_level) <= rank]
        callback = askers[0].callbacks.logging if len(askers) == 1 else self.callbacks.logging
        if callback is not None:
            self._deliver(member, callback, params)

    def _deliver(self, member: _Member, callback: Any, argument: dict) -> None:
        """Run a notification callback in the order of ``member``'s notifications."""
        if member._dispatcher is not None:
            member._dispatcher.deliver(callback, (argument,))

    async def _subscribe(self, agent: Agent, uri: str, timeout: Any) -> None:
        entry = self._subscribed.get(uri)
        if entry is None:
            ready = self._ready()
            member = self._pick() or (ready[0] if ready else None)
            if member is None:
                raise ClientClosedError("no member of the pool is ready")
            await member.subscribe_resource(uri, timeout=timeout)
            entry = self._subscribed.setdefault(uri, (member, collections.Counter()))
        entry[1][agent] += 1

    async def _unsubscribe(self, agent: Agent, uri: str, timeout: Any) -> None:
        entry = self._subscribed.get(uri)
        if entry is None or not entry[1][agent]:
            return
        entry[1][agent] -= 1
        if not entry[1][agent]:
            del entry[1][agent]
        if not entry[1]:
            del self._subscribed[uri]
            if entry[0].state is State.READY:
                await entry[0].unsubscribe_resource(uri, timeout=timeout)


def _check_level(level: str) -> None:
    if level not in LOGGING_LEVELS:
        raise ValueError(f"level must be one of {', '.join(LOGGING_LEVELS)}, not {level!r}")


def _expire_turn(turn: asyncio.Future, method: str, timeout: float | None) -> None:
    if not turn.done():
        turn.set_exception(RequestTimeout(method, timeout or 0.0))


async def _agent_handled(params: dict) -> Any:  # pragma: no cover - the pool routes instead
    raise RequestError(INTERNAL_ERROR, "routed by the pool")


def _agent_roots() -> Any:  # pragma: no cover - the pool routes instead
    raise RequestError(INTERNAL_ERROR, "routed by the pool")


_AGENT_HANDLED = _agent_handled

# The options of pool() that are the pool-level callbacks (not given to members as such).
_CALLBACK_OPTIONS = ("sampling_callback", "elicitation_callback", "list_roots_callback", "roots",
                     "logging_callback", "message_handler")


class Agent(ProtocolMethods):
    """One user of a pool, with the request methods of a client and its own callbacks.

    Args:
        pool: the pool.
        client_info: the agent's ``clientInfo`` (2026-07-28: sent with each request).
        sampling_callback, elicitation_callback, list_roots_callback, roots,
        logging_callback, message_handler: as for :class:`mcp_stdio.Client`, for this
            agent only.
        log_level: the lowest log level this agent wants (2026-07-28, per request).
        timeout: seconds per request (default: the pool's).
    """

    __slots__ = ("pool", "client_info", "callbacks", "log_level", "timeout", "max_pages", "validation_timeout",
                 "_waiting", "_in_flight", "_closed", "_subscriptions", "__weakref__")

    def __init__(self, pool: Pool, *, client_info: dict | None = None, log_level: str | None = None,
                 timeout: Any = DEFAULT, **callbacks: Any) -> None:
        self.pool = pool
        self.client_info = client_info
        self.callbacks = Callbacks(**callbacks)
        if log_level is not None:
            _check_level(log_level)
        self.log_level = log_level
        self.timeout = pool.timeout if timeout is DEFAULT else timeout
        self.max_pages = pool._options.get("max_pages", 1000)
        self.validation_timeout = pool._options.get("validation_timeout", 5.0)
        self._waiting: collections.deque[asyncio.Future] = collections.deque()
        self._in_flight: list[list] = []
        self._closed = False
        self._subscriptions: list[Subscription] | None = None

    # What ProtocolMethods needs

    def _member(self) -> Client:
        ready = self.pool._ready()
        if not ready:
            raise ClientClosedError("no member of the pool is ready")
        return ready[0]

    @property
    def server_capabilities(self) -> dict:
        """Return the capabilities the server declared (the same for every member)."""
        return self._member().server_capabilities

    @property
    def protocol_version(self) -> str | None:
        """Return the protocol version of the members."""
        return self._member().protocol_version

    @property
    def era(self) -> str | None:
        """Return the era of the members."""
        return self._member().era

    def _output_schemas(self) -> dict[str, Any]:
        return self.pool._schemas

    def _identity(self) -> tuple:
        return (self.client_info, self.callbacks.capabilities(), self.log_level)

    async def _send(self, method: str, params: dict | None, *, timeout: float | None,
                    progress_callback: ProgressCallback | None = None, reset_timeout_on_progress: bool = False,
                    max_total_timeout: float | None = None, task: bool = False) -> Any:
        if self._closed:
            raise ClientClosedError(f"cannot send {method}: the agent is closed")
        return await self.pool._run(self, method, params, timeout, {
            "progress_callback": progress_callback, "reset_timeout_on_progress": reset_timeout_on_progress,
            "max_total_timeout": max_total_timeout, "task": task})

    # Public methods

    async def __aenter__(self) -> Agent:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the agent: its requests in flight or waiting fail with ClientClosedError
        (the servers are told), its subscriptions end."""
        if self._closed:
            return
        self._abandon(ClientClosedError("the agent was closed"))
        for subscription in self._subscriptions or ():
            await subscription.close()
        for uri, (_, agents) in list(self.pool._subscribed.items()):
            while agents.get(self):
                await self.pool._unsubscribe(self, uri, DEFAULT)
        self.pool._agents.discard(self)

    async def subscribe_resource(self, uri: str, *, timeout: Any = DEFAULT) -> None:
        """Ask for updates of ``uri`` (counted across the pool's agents; handshake era)."""
        self._handshake_only("resources/subscribe")
        self._require("resources.subscribe", "resources/subscribe")
        await self.pool._subscribe(self, uri, timeout)

    async def unsubscribe_resource(self, uri: str, *, timeout: Any = DEFAULT) -> None:
        """Stop the updates of ``uri`` for this agent."""
        self._handshake_only("resources/unsubscribe")
        await self.pool._unsubscribe(self, uri, timeout)

    async def set_logging_level(self, level: str, *, timeout: Any = DEFAULT) -> None:
        """Set this agent's log level (2026-07-28, per request); in the handshake era the
        level is the pool's: use :meth:`Pool.set_logging_level`."""
        _check_level(level)
        if self.era != lifecycle.MODERN:
            raise LocalProtocolError("the handshake era sets the log level per server process, shared by the pool: "
                                     "use pool.set_logging_level()")
        self.log_level = level

    async def listen(self, *, tools: bool = False, prompts: bool = False, resources: bool = False,
                     resource_uris: list[str] | None = None, timeout: Any = DEFAULT) -> Subscription:
        """Open a ``subscriptions/listen`` stream for this agent (2026-07-28), on one member."""
        self._listen_filter(tools, prompts, resources, resource_uris)
        member = self.pool._pick() or self._member()
        subscription = await member.listen(tools=tools, prompts=prompts, resources=resources,
                                           resource_uris=resource_uris, timeout=timeout)
        # Kept for close(); the ended ones go now, so that listening again and again costs nothing.
        self._subscriptions = [kept for kept in self._subscriptions or () if not kept.closed]
        self._subscriptions.append(subscription)
        return subscription

    # Private methods

    def _abandon(self, error: BaseException) -> None:
        self._closed = True
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_exception(error)
        for ticket in list(self._in_flight):
            if ticket:
                calls, msg_id, future = ticket
                calls.end(msg_id, future, error)

    def _forget_turn(self, turn: asyncio.Future) -> None:
        try:
            self._waiting.remove(turn)
        except ValueError:
            pass


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`pool`.

    ``mcp_stdio.pool`` names two things: the function (a lazy attribute of the package) and
    this submodule, which the import system sets on the package as soon as anything imports
    it (``from mcp_stdio.pool import Agent``, or :mod:`mcp_stdio.sync`). Whichever the
    package holds, ``mcp_stdio.pool(command, ...)`` works.
    """

    def __call__(self, command: list[str], *, size: int = DEFAULT_POOL_SIZE, **options: Any) -> Pool:
        return pool(command, size=size, **options)


sys.modules[__name__].__class__ = _CallableModule
