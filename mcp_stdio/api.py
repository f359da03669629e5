"""The MCP requests of a client, one method each, on top of one primitive (asyncio).

:class:`ProtocolMethods` is what :class:`mcp_stdio.Client` and a pool's agent
(:mod:`mcp_stdio.pool`) have in common: ``list_tools``, ``call_tool``, ``read_resource``...,
named as in the specification and the official Python SDK, returning plain dicts shaped as
the spec's results (see :mod:`mcp_stdio.types`). A subclass provides the primitive,
:meth:`ProtocolMethods._send`, and what the server declared (``server_capabilities``,
``protocol_version``, ``era``); nothing else is shared, so a reader and a type checker can
follow every call.

Rules applied here:

* "Both parties MUST only use capabilities that were successfully negotiated" (MCP
  2025-11-25, basic/lifecycle, "Operation"): a method whose server capability is missing
  raises :class:`~mcp_stdio.errors.CapabilityError` locally, without a round trip
  (:data:`mcp_stdio.lifecycle.SERVER_CAPABILITY`).
* A method or a field that the negotiated version lacks is refused with
  :class:`~mcp_stdio.errors.LocalProtocolError` rather than sent.
* List methods follow ``nextCursor`` to the end by default (an empty string is a cursor
  too; only a missing ``nextCursor`` ends the list), with a page cap and cursor cycle
  detection; with ``cursor`` (or ``page=True``) they return one page.
* ``call_tool`` checks ``structuredContent`` against the tool's ``outputSchema``
  (server/tools: "Clients SHOULD validate structured results against this schema"), in a
  bounded time, off the event loop when it is large.
"""

from __future__ import annotations

import asyncio

from . import lifecycle
from .calls import CANCELLED_BY_CALLER
from .errors import CapabilityError, LocalProtocolError, RemoteProtocolError, SchemaError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional
    from collections.abc import Awaitable

    from .calls import Calls
    from .subscriptions import Subscription
    from .types import (
        CallToolResult,
        CompleteResult,
        GetPromptResult,
        ListPromptsResult,
        ListResourcesResult,
        ListResourceTemplatesResult,
        ListTasksResult,
        ListToolsResult,
        ReadResourceResult,
        Task,
    )

    ProgressCallback = Callable[[float, Optional[float], Optional[str]], Optional[Awaitable[None]]]

__all__ = ["ProtocolMethods", "DEFAULT", "LOGGING_LEVELS", "INLINE_VALIDATION_BUDGET"]


class _Default:
    """The type of :data:`DEFAULT`: "use the client's setting"."""

    def __repr__(self) -> str:
        return "DEFAULT"


# The default of every ``timeout`` argument: the client's ``timeout`` (``None`` would mean
# "wait for ever").
DEFAULT: Any = _Default()

# MCP server/utilities/logging: the syslog severities, lowest first.
LOGGING_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")

# Seconds an outputSchema check may run on the event loop; a check that needs more goes on
# in a worker thread (the loop keeps running) within the client's validation_timeout.
INLINE_VALIDATION_BUDGET = 0.02

# The protocol version that introduced a method or a field.
_SINCE = {
    "completions capability": "2025-03-26",
    "completion context": "2025-06-18",
    "structured output": "2025-06-18",
    "tasks": "2025-11-25",
}


class ProtocolMethods:
    """The MCP methods of a client, built on :meth:`_send`.

    Subclasses provide ``_send``, ``server_capabilities``, ``protocol_version``, ``era``,
    ``timeout``, ``max_pages``, ``validation_timeout`` and ``_output_schemas``.
    """

    __slots__ = ()

    # What subclasses provide

    timeout: float | None
    max_pages: int
    validation_timeout: float | None

    @property
    def server_capabilities(self) -> dict:  # pragma: no cover - abstract
        """Return the capabilities the server declared."""
        raise NotImplementedError

    @property
    def protocol_version(self) -> str | None:  # pragma: no cover - abstract
        """Return the protocol version in use."""
        raise NotImplementedError

    @property
    def era(self) -> str | None:  # pragma: no cover - abstract
        """Return ``"handshake"`` or ``"2026-07-28"`` once started."""
        raise NotImplementedError

    def _output_schemas(self) -> dict[str, Any]:  # pragma: no cover - abstract
        """Return the tools' output schemas learnt from ``tools/list``, by tool name."""
        raise NotImplementedError

    async def _send(self, method: str, params: dict | None, *, timeout: float | None,
                    progress_callback: ProgressCallback | None = None, reset_timeout_on_progress: bool = False,
                    max_total_timeout: float | None = None, task: bool = False) -> Any:  # pragma: no cover
        """Send one request (with the era's rules) and return its checked result."""
        raise NotImplementedError

    def _start_plain(self, method: str, params: dict,
                     timeout: float | None) -> tuple[Calls, Any, asyncio.Future] | None:
        """Send a request without progress or task now, if the era allows it, and return
        ``(calls, id, future)`` for the caller to await in its own frame; else ``None``
        (then :meth:`_send` is the way). The hot path of :meth:`call_tool`."""
        return None

    # The generic request

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
            RemoteProtocolError: the answer breaks the protocol (its shape, for example).
            RequestTimeout: no answer in time (``notifications/cancelled`` was sent).
            ConnectionClosed: the connection was lost (exit status and stderr tail inside).
            ClientClosedError: the client is not running.
            LocalProtocolError: the request is not allowed now, or its params cannot be sent.
        """
        if params is not None and type(params) is not dict:
            raise LocalProtocolError(f"{method}: params must be a dict, not {type(params).__name__}")
        return await self._send(method, params, timeout=self.timeout if timeout is DEFAULT else timeout,
                                progress_callback=progress_callback,
                                reset_timeout_on_progress=reset_timeout_on_progress,
                                max_total_timeout=max_total_timeout)

    # Checks

    def _require(self, capability: str, method: str) -> None:
        """Raise CapabilityError unless the server declared ``capability`` (dotted path)."""
        capabilities = self.server_capabilities
        if capability in capabilities and "." not in capability:
            value = capabilities[capability]
            if value is not False and value is not None:
                return  # the common case, kept cheap: call_tool is the hot path
        if not lifecycle.declares(capabilities, capability):
            raise CapabilityError(method, capability)

    def _require_version(self, feature: str, method: str) -> None:
        version = self.protocol_version or ""
        since = _SINCE[feature]
        if feature == "tasks" and self.era == lifecycle.MODERN:
            raise LocalProtocolError(f"{method}: tasks are not part of protocol {version} (they became an "
                                     "extension)")
        if version < since:
            raise LocalProtocolError(f"{method}: {feature} needs protocol {since} or later; "
                                     f"the session negotiated {version}")

    def _handshake_only(self, method: str) -> None:
        if self.era == lifecycle.MODERN:
            raise LocalProtocolError(f"{method} does not exist in protocol {self.protocol_version}; use "
                                     f"{lifecycle.MODERN_REMOVED[method]} instead")

    async def _call(self, method: str, params: dict | None, timeout: Any, **options: Any) -> Any:
        return await self._send(method, params, timeout=self.timeout if timeout is DEFAULT else timeout, **options)

    # Tools

    async def list_tools(self, cursor: str | None = None, *, page: bool = False,
                         timeout: Any = DEFAULT) -> ListToolsResult:
        """Return the server's tools as a ``tools/list`` result (all pages by default).

        Also remembers each tool's ``outputSchema`` so that :meth:`call_tool` can validate
        structured results.
        """
        self._require("tools", "tools/list")
        result = await self._list("tools/list", "tools", cursor, page, timeout)
        schemas = self._output_schemas()
        if cursor is None and not page:
            schemas.clear()  # the whole list is the truth: a tool gone takes its schema along
        for tool in result["tools"]:
            if "outputSchema" in tool:
                schemas[tool["name"]] = tool["outputSchema"]
        return result  # type: ignore[return-value]

    async def call_tool(self, name: str, arguments: dict | None = None, *, timeout: Any = DEFAULT,
                        progress_callback: ProgressCallback | None = None, reset_timeout_on_progress: bool = False,
                        max_total_timeout: float | None = None, task: dict | None = None,
                        meta: dict | None = None, validate: bool = True) -> CallToolResult:
        """Call a tool and return its ``CallToolResult`` dict.

        Args:
            name: the tool's name.
            arguments: its arguments (a dict).
            timeout: seconds (default: the client's ``timeout``).
            progress_callback: ``callback(progress, total, message)`` for progress
                notifications; see :meth:`request` for the timeout options that go with it.
            reset_timeout_on_progress: see :meth:`request`.
            max_total_timeout: see :meth:`request`.
            task: ``{"ttl": ms}`` to run the call as a task (2025-11-25, when the server
                declares ``tasks.requests.tools.call``); the result is then a
                ``CreateTaskResult``; see :meth:`get_task` and :meth:`get_task_result`.
            meta: extra ``_meta`` fields.
            validate: check ``structuredContent`` against the tool's ``outputSchema``
                (known from :meth:`list_tools`).

        A tool that fails reports it inside the result (``isError: true``); see
        :func:`mcp_stdio.tool_text` and :func:`mcp_stdio.is_error`.

        Raises:
            RemoteProtocolError: the result is not a valid ``CallToolResult``, or its
                ``structuredContent`` does not match the output schema (or the schema is
                unusable, or its check ran past ``validation_timeout``).
            LocalProtocolError: ``arguments`` is not a dict.
        """
        self._require("tools", "tools/call")
        params: dict = {"name": name}
        if arguments is not None:
            if type(arguments) is not dict:
                raise LocalProtocolError(f"tools/call {name}: arguments must be a dict, not {type(arguments).__name__}")
            params["arguments"] = arguments
        if task is not None:
            self._require_version("tasks", "tools/call")
            self._require("tasks.requests.tools.call", "tools/call with a task")
            params["task"] = task
        if meta:
            params["_meta"] = dict(meta)
        if timeout is DEFAULT:
            timeout = self.timeout
        # The common call in this one frame: no coroutine between the caller and the answer.
        started = self._start_plain("tools/call", params, timeout) if progress_callback is None and task is None \
            else None
        if started is not None:
            calls, msg_id, future = started
            try:
                result = await future
            except asyncio.CancelledError:
                calls.abandon(msg_id, CANCELLED_BY_CALLER)
                raise
        else:
            result = await self._send("tools/call", params, timeout=timeout, progress_callback=progress_callback,
                                      reset_timeout_on_progress=reset_timeout_on_progress,
                                      max_total_timeout=max_total_timeout, task=task is not None)
        if validate and task is None:
            schema = self._output_schemas().get(name)
            if schema is not None and not result.get("isError"):
                await self._check_structured(name, schema, result)
        return result  # type: ignore[no-any-return]

    async def _check_structured(self, name: str, schema: Any, result: dict) -> None:
        # MCP 2025-11-25, server/tools "Output Schema": "Servers MUST provide structured
        # results that conform to this schema" and "Clients SHOULD validate structured
        # results against this schema."
        if "structuredContent" not in result:
            raise RemoteProtocolError(f"tools/call {name}: the tool has an outputSchema but the result "
                                      "has no structuredContent")
        instance = result["structuredContent"]
        budget = self.validation_timeout
        from .schema import compile_schema  # the validator loads on the first outputSchema (import time)

        try:
            validator = compile_schema(schema)
            inline = INLINE_VALIDATION_BUDGET if budget is None else min(budget, INLINE_VALIDATION_BUDGET)
            try:
                problems = validator.errors(instance, timeout=inline)
            except SchemaError as exc:
                if budget is not None and budget <= inline or not _over_budget(exc):
                    raise
                # Too long for the loop: go on in a worker thread, which the loop interleaves.
                loop = asyncio.get_running_loop()
                problems = await loop.run_in_executor(None, lambda: validator.errors(instance, timeout=budget))
        except SchemaError as exc:
            raise RemoteProtocolError(f"tools/call {name}: the tool's outputSchema cannot be checked: {exc}") from None
        if problems:
            raise RemoteProtocolError(f"tools/call {name}: structuredContent does not match the outputSchema: "
                                      + "; ".join(problems))

    # Resources

    async def list_resources(self, cursor: str | None = None, *, page: bool = False,
                             timeout: Any = DEFAULT) -> ListResourcesResult:
        """Return the server's resources as a ``resources/list`` result (all pages by default)."""
        self._require("resources", "resources/list")
        return await self._list("resources/list", "resources", cursor, page, timeout)  # type: ignore[return-value]

    async def list_resource_templates(self, cursor: str | None = None, *, page: bool = False,
                                      timeout: Any = DEFAULT) -> ListResourceTemplatesResult:
        """Return the ``resources/templates/list`` result (all pages by default)."""
        self._require("resources", "resources/templates/list")
        return await self._list("resources/templates/list", "resourceTemplates", cursor, page,  # type: ignore
                                timeout)

    async def read_resource(self, uri: str, *, timeout: Any = DEFAULT) -> ReadResourceResult:
        """Return the ``resources/read`` result for ``uri`` (its ``contents``)."""
        self._require("resources", "resources/read")
        return await self._call("resources/read", {"uri": uri}, timeout)  # type: ignore[no-any-return]

    async def subscribe_resource(self, uri: str, *, timeout: Any = DEFAULT) -> None:
        """Ask for ``notifications/resources/updated`` when ``uri`` changes (handshake era).

        In 2026-07-28 use :meth:`listen` with ``resource_uris`` instead.
        """
        self._handshake_only("resources/subscribe")
        self._require("resources.subscribe", "resources/subscribe")
        await self._call("resources/subscribe", {"uri": uri}, timeout)

    async def unsubscribe_resource(self, uri: str, *, timeout: Any = DEFAULT) -> None:
        """Stop the updates of ``uri`` (handshake era)."""
        self._handshake_only("resources/unsubscribe")
        self._require("resources.subscribe", "resources/unsubscribe")
        await self._call("resources/unsubscribe", {"uri": uri}, timeout)

    # Prompts

    async def list_prompts(self, cursor: str | None = None, *, page: bool = False,
                           timeout: Any = DEFAULT) -> ListPromptsResult:
        """Return the server's prompts as a ``prompts/list`` result (all pages by default)."""
        self._require("prompts", "prompts/list")
        return await self._list("prompts/list", "prompts", cursor, page, timeout)  # type: ignore[return-value]

    async def get_prompt(self, name: str, arguments: dict[str, str] | None = None, *,
                         timeout: Any = DEFAULT) -> GetPromptResult:
        """Return the ``prompts/get`` result (``messages``) for prompt ``name``."""
        self._require("prompts", "prompts/get")
        params: dict = {"name": name}
        if arguments is not None:
            if type(arguments) is not dict:
                raise LocalProtocolError(f"prompts/get {name}: arguments must be a dict, not "
                                         f"{type(arguments).__name__}")
            params["arguments"] = arguments
        return await self._call("prompts/get", params, timeout)  # type: ignore[no-any-return]

    # Utilities

    async def complete(self, ref: dict, argument: dict, context: dict | None = None, *,
                       timeout: Any = DEFAULT) -> CompleteResult:
        """Ask for completions of an argument (``completion/complete``).

        Args:
            ref: ``{"type": "ref/prompt", "name": ...}`` or
                ``{"type": "ref/resource", "uri": ...}``.
            argument: ``{"name": ..., "value": ...}``.
            context: ``{"arguments": {...}}``, values already chosen (2025-06-18+).
        """
        if (self.protocol_version or "") >= _SINCE["completions capability"]:
            self._require("completions", "completion/complete")
        params: dict = {"ref": ref, "argument": argument}
        if context is not None:
            self._require_version("completion context", "completion/complete")
            params["context"] = context
        return await self._call("completion/complete", params, timeout)  # type: ignore[no-any-return]

    async def ping(self, *, timeout: Any = DEFAULT) -> None:
        """Check that the server answers (MCP basic/utilities/ping).

        2026-07-28 has no ``ping``: the equivalent is ``server/discover``, which every
        server "MUST implement".
        """
        await self._call("server/discover" if self.era == lifecycle.MODERN else "ping", None, timeout)

    # Tasks (experimental, 2025-11-25)

    async def get_task(self, task_id: str, *, timeout: Any = DEFAULT) -> Task:
        """Return the state of a task (``tasks/get``)."""
        self._require_version("tasks", "tasks/get")
        self._require("tasks", "tasks/get")
        return await self._call("tasks/get", {"taskId": task_id}, timeout)  # type: ignore[no-any-return]

    async def get_task_result(self, task_id: str, *, timeout: Any = DEFAULT) -> dict:
        """Wait for a task's result (``tasks/result``); for a tool call, a CallToolResult."""
        self._require_version("tasks", "tasks/result")
        self._require("tasks", "tasks/result")
        return await self._call("tasks/result", {"taskId": task_id}, timeout)  # type: ignore[no-any-return]

    async def list_tasks(self, cursor: str | None = None, *, page: bool = False,
                         timeout: Any = DEFAULT) -> ListTasksResult:
        """Return the server's tasks (``tasks/list``; all pages by default)."""
        self._require_version("tasks", "tasks/list")
        self._require("tasks.list", "tasks/list")
        return await self._list("tasks/list", "tasks", cursor, page, timeout)  # type: ignore[return-value]

    async def cancel_task(self, task_id: str, *, timeout: Any = DEFAULT) -> Task:
        """Cancel a task (``tasks/cancel``)."""
        self._require_version("tasks", "tasks/cancel")
        self._require("tasks.cancel", "tasks/cancel")
        return await self._call("tasks/cancel", {"taskId": task_id}, timeout)  # type: ignore[no-any-return]

    # Helpers

    async def _list(self, method: str, key: str, cursor: str | None, page: bool, timeout: Any) -> dict:
        """Fetch one page, or every page of a list (the results are checked by the session)."""
        if cursor is not None and type(cursor) is not str:
            raise LocalProtocolError(f"{method}: cursor must be a string, not {type(cursor).__name__}")
        if cursor is not None or page:
            return await self._call(method, {"cursor": cursor} if cursor is not None else None,  # type: ignore
                                    timeout)
        items: list = []
        seen: set = set()
        params: dict | None = None
        for _ in range(self.max_pages):
            result = await self._call(method, params, timeout)
            items.extend(result[key])
            next_cursor = result.get("nextCursor")
            if next_cursor is None:
                return {key: items}
            if next_cursor in seen:
                raise RemoteProtocolError(f"{method}: the server returned cursor {next_cursor!r:.80} twice")
            seen.add(next_cursor)
            params = {"cursor": next_cursor}
        raise RemoteProtocolError(f"{method}: more than {self.max_pages} pages (max_pages)")

    def _listen_filter(self, tools: bool, prompts: bool, resources: bool,
                       resource_uris: list[str] | None) -> dict:
        """Return the ``subscriptions/listen`` filter, refusing what the server did not declare."""
        if self.era != lifecycle.MODERN:
            raise LocalProtocolError("listen() needs protocol 2026-07-28; in the handshake era use "
                                     "subscribe_resource() and message_handler")
        wanted: dict = {}
        for key, value, capability in (("toolsListChanged", tools, "tools.listChanged"),
                                       ("promptsListChanged", prompts, "prompts.listChanged"),
                                       ("resourcesListChanged", resources, "resources.listChanged")):
            if value:
                self._require(capability, "subscriptions/listen")
                wanted[key] = True
        if resource_uris:
            self._require("resources.subscribe", "subscriptions/listen")
            wanted["resourceSubscriptions"] = list(resource_uris)
        if not wanted:
            raise LocalProtocolError("listen(): ask for at least one kind of notification")
        return wanted

    async def listen(self, *, tools: bool = False, prompts: bool = False, resources: bool = False,
                     resource_uris: list[str] | None = None,
                     timeout: Any = DEFAULT) -> Subscription:  # pragma: no cover - abstract
        """Open a ``subscriptions/listen`` stream (2026-07-28)."""
        raise NotImplementedError


def _over_budget(exc: SchemaError) -> bool:
    return "within its budget" in str(exc)
