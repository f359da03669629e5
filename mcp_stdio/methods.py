"""The MCP requests of the client, one method each (mixed into :class:`mcp_stdio.Client`).

Names follow the specification and the official Python SDK (``list_tools``,
``call_tool``, ``read_resource``...). Results are plain dicts shaped as the spec's result
types (see :mod:`mcp_stdio.types`).

Rules applied here:

* "Both parties MUST only use capabilities that were successfully negotiated" (MCP
  2025-11-25, basic/lifecycle, "Operation"): a method whose server capability is missing
  raises :class:`~mcp_stdio.errors.CapabilityError` locally, without a round trip.
* "Respect the negotiated protocol version": a method or a field that the negotiated
  version lacks is refused with :class:`~mcp_stdio.errors.LocalProtocolError` rather than
  sent.
* List methods follow ``nextCursor`` to the end by default, with a page cap and cursor
  cycle detection; with ``cursor`` (or ``page=True``) they return one page.
"""

from __future__ import annotations

from typing import Any

from .errors import CapabilityError, LocalProtocolError, RemoteProtocolError
from .schema import SchemaError, compile_schema

TYPE_CHECKING = False
if TYPE_CHECKING:
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

__all__ = ["ClientMethods", "LOGGING_LEVELS", "DEFAULT"]


class _Default:
    """The type of :data:`DEFAULT`: "use the client's setting"."""

    def __repr__(self) -> str:
        return "DEFAULT"


# The default of every ``timeout`` argument: the client's ``timeout`` (``None`` would mean
# "wait for ever").
DEFAULT: Any = _Default()

# MCP server/utilities/logging: the syslog severities, lowest first.
LOGGING_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")

# The protocol version that introduced a method or a field.
_SINCE = {
    "completions capability": "2025-03-26",
    "completion context": "2025-06-18",
    "structured output": "2025-06-18",
    "tasks": "2025-11-25",
}


class ClientMethods:
    """The MCP methods of a client; requires ``request``, ``server_capabilities`` and
    ``protocol_version`` from the class it is mixed into."""

    __slots__ = ()

    # Checks

    def _require(self, capability: str, method: str) -> None:
        """Raise CapabilityError unless the server declared ``capability`` (dotted path)."""
        node: Any = self.server_capabilities  # type: ignore[attr-defined]
        if "." not in capability and capability in node and node[capability] is not False:
            return  # the common case, kept cheap: call_tool is the hot path
        for part in capability.split("."):
            if not isinstance(node, dict) or part not in node:
                raise CapabilityError(method, capability)
            node = node[part]
        if node is False:
            raise CapabilityError(method, capability)

    def _require_version(self, feature: str, method: str) -> None:
        version = self.protocol_version or ""  # type: ignore[attr-defined]
        since = _SINCE[feature]
        if feature == "tasks" and self._modern is not None:  # type: ignore[attr-defined]
            raise LocalProtocolError(f"{method}: tasks are not part of protocol {version} (they became an "
                                     "extension)")
        if version < since:
            raise LocalProtocolError(f"{method}: {feature} needs protocol {since} or later; "
                                     f"the session negotiated {version}")

    # Tools

    async def list_tools(self, cursor: str | None = None, *,
                         page: bool = False, timeout: Any = DEFAULT) -> ListToolsResult:
        """Return the server's tools as a ``tools/list`` result (all pages by default).

        Also remembers each tool's ``outputSchema`` so that :meth:`call_tool` can validate
        structured results.
        """
        self._require("tools", "tools/list")
        result = await self._list("tools/list", "tools", cursor, page, timeout)  # type: ignore[attr-defined]
        schemas = self._cache.setdefault("output_schemas", {})  # type: ignore[attr-defined]
        for tool in result.get("tools") or ():
            if isinstance(tool, dict) and isinstance(tool.get("outputSchema"), dict):
                schemas[tool.get("name")] = tool["outputSchema"]
        if cursor is None and not page:
            self._cache["tools"] = result  # type: ignore[attr-defined]
        return result

    async def call_tool(self, name: str, arguments: dict | None = None, *, timeout: Any = DEFAULT,
                        progress_callback: Any = None, reset_timeout_on_progress: bool = False,
                        max_total_timeout: float | None = None, task: dict | None = None,
                        meta: dict | None = None, validate: bool = True) -> CallToolResult:
        """Call a tool and return its ``CallToolResult`` dict.

        Args:
            name: the tool's name.
            arguments: its arguments.
            timeout: seconds (default: the client's ``timeout``).
            progress_callback: ``callback(progress, total, message)`` for progress
                notifications; see :meth:`mcp_stdio.Client.request` for the timeout
                options that go with it.
            task: ``{"ttl": ms}`` to run the call as a task (2025-11-25, when the server
                declares ``tasks.requests.tools.call``); the result is then a
                ``CreateTaskResult``; see :meth:`get_task` and :meth:`get_task_result`.
            meta: extra ``_meta`` fields.
            validate: check ``structuredContent`` against the tool's ``outputSchema``
                (known from :meth:`list_tools`).

        A tool that fails reports it inside the result (``isError: true``); see
        :func:`mcp_stdio.tool_text` and :func:`mcp_stdio.is_error`.

        Raises:
            RemoteProtocolError: ``structuredContent`` does not match the output schema.
        """
        self._require("tools", "tools/call")
        params: dict = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        if task is not None:
            self._require_version("tasks", "tools/call")
            self._require("tasks.requests.tools.call", "tools/call with a task")
            params["task"] = task
        if meta:
            params["_meta"] = dict(meta)
        result = await self.request(  # type: ignore[attr-defined]
            "tools/call", params, timeout=timeout, progress_callback=progress_callback,
            reset_timeout_on_progress=reset_timeout_on_progress, max_total_timeout=max_total_timeout)
        if validate and task is None and isinstance(result, dict):
            self._check_structured(name, result)
        return result

    def _check_structured(self, name: str, result: dict) -> None:
        schema = (self._cache.get("output_schemas") or {}).get(name)  # type: ignore[attr-defined]
        if schema is None or result.get("isError"):
            return
        # MCP 2025-11-25, server/tools "Output Schema": "Servers MUST provide structured
        # results that conform to this schema" and "Clients SHOULD validate structured
        # results against this schema."
        if "structuredContent" not in result:
            raise RemoteProtocolError(f"tools/call {name}: the tool has an outputSchema but the result "
                                      "has no structuredContent")
        try:
            problems = compile_schema(schema).errors(result["structuredContent"])
        except SchemaError as exc:
            raise RemoteProtocolError(f"tools/call {name}: the tool's outputSchema is unusable: {exc}") from None
        if problems:
            raise RemoteProtocolError(f"tools/call {name}: structuredContent does not match the outputSchema: "
                                      + "; ".join(problems))

    # Resources

    async def list_resources(self, cursor: str | None = None, *,
                             page: bool = False, timeout: Any = DEFAULT) -> ListResourcesResult:
        """Return the server's resources as a ``resources/list`` result (all pages by default)."""
        self._require("resources", "resources/list")
        result = await self._list("resources/list", "resources", cursor, page, timeout)  # type: ignore[attr-defined]
        if cursor is None and not page:
            self._cache["resources"] = result  # type: ignore[attr-defined]
        return result

    async def list_resource_templates(self, cursor: str | None = None, *, page: bool = False,
                                      timeout: Any = DEFAULT) -> ListResourceTemplatesResult:
        """Return the ``resources/templates/list`` result (all pages by default)."""
        self._require("resources", "resources/templates/list")
        return await self._list("resources/templates/list", "resourceTemplates", cursor, page,  # type: ignore
                                timeout)

    async def read_resource(self, uri: str, *, timeout: Any = DEFAULT) -> ReadResourceResult:
        """Return the ``resources/read`` result for ``uri`` (its ``contents``)."""
        self._require("resources", "resources/read")
        return await self._request_with("resources/read", {"uri": uri}, timeout)

    def _handshake_only(self, method: str, instead: str) -> None:
        if self._modern is not None:  # type: ignore[attr-defined]
            raise LocalProtocolError(f"{method} does not exist in protocol {self._modern}; {instead}")  # type: ignore

    async def subscribe_resource(self, uri: str, *, timeout: Any = DEFAULT) -> None:
        """Ask for ``notifications/resources/updated`` when ``uri`` changes.

        In 2026-07-28 use :meth:`listen` with ``resource_uris`` instead.
        """
        self._handshake_only("resources/subscribe", "use listen(resource_uris=[...])")
        self._require("resources.subscribe", "resources/subscribe")
        await self._request_with("resources/subscribe", {"uri": uri}, timeout)

    async def unsubscribe_resource(self, uri: str, *, timeout: Any = DEFAULT) -> None:
        """Stop the updates of ``uri``."""
        self._handshake_only("resources/unsubscribe", "close the subscription returned by listen()")
        self._require("resources.subscribe", "resources/unsubscribe")
        await self._request_with("resources/unsubscribe", {"uri": uri}, timeout)

    # Prompts

    async def list_prompts(self, cursor: str | None = None, *,
                           page: bool = False, timeout: Any = DEFAULT) -> ListPromptsResult:
        """Return the server's prompts as a ``prompts/list`` result (all pages by default)."""
        self._require("prompts", "prompts/list")
        result = await self._list("prompts/list", "prompts", cursor, page, timeout)  # type: ignore[attr-defined]
        if cursor is None and not page:
            self._cache["prompts"] = result  # type: ignore[attr-defined]
        return result

    async def get_prompt(self, name: str, arguments: dict[str, str] | None = None, *,
                         timeout: Any = DEFAULT) -> GetPromptResult:
        """Return the ``prompts/get`` result (``messages``) for prompt ``name``."""
        self._require("prompts", "prompts/get")
        params: dict = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        return await self._request_with("prompts/get", params, timeout)

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
        if (self.protocol_version or "") >= _SINCE["completions capability"]:  # type: ignore[attr-defined]
            self._require("completions", "completion/complete")
        params: dict = {"ref": ref, "argument": argument}
        if context is not None:
            self._require_version("completion context", "completion/complete")
            params["context"] = context
        return await self._request_with("completion/complete", params, timeout)

    async def set_logging_level(self, level: str, *, timeout: Any = DEFAULT) -> None:
        """Set the lowest level of ``notifications/message`` the server sends.

        In 2026-07-28, which has no ``logging/setLevel``, the documented equivalent: the
        level is sent in every later request's ``_meta``
        (``io.modelcontextprotocol/logLevel``), and nothing is sent now.
        """
        if level not in LOGGING_LEVELS:
            raise ValueError(f"level must be one of {', '.join(LOGGING_LEVELS)}, not {level!r}")
        self._require("logging", "logging/setLevel")
        if self._modern is not None:  # type: ignore[attr-defined]
            self._log_level = level  # type: ignore[attr-defined]
            return
        await self._request_with("logging/setLevel", {"level": level}, timeout)

    async def set_roots(self, roots: list[dict]) -> None:
        """Replace the roots given to the server, and tell it (``notifications/roots/list_changed``)."""
        if self._roots is None and self._list_roots_callback is None:  # type: ignore[attr-defined]
            raise LocalProtocolError("set_roots: the client was created without roots, so it did not "
                                     "declare the roots capability")
        self._roots = list(roots)  # type: ignore[attr-defined]
        await self.send_roots_list_changed()

    async def send_roots_list_changed(self) -> None:
        """Send ``notifications/roots/list_changed`` (the roots given by the callback changed)."""
        await self.notify("notifications/roots/list_changed")  # type: ignore[attr-defined]

    # Tasks (experimental, 2025-11-25)

    async def get_task(self, task_id: str, *, timeout: Any = DEFAULT) -> Task:
        """Return the state of a task (``tasks/get``)."""
        self._require_version("tasks", "tasks/get")
        self._require("tasks", "tasks/get")
        return await self._request_with("tasks/get", {"taskId": task_id}, timeout)

    async def get_task_result(self, task_id: str, *, timeout: Any = DEFAULT) -> dict:
        """Wait for a task's result (``tasks/result``); for a tool call, a CallToolResult."""
        self._require_version("tasks", "tasks/result")
        self._require("tasks", "tasks/result")
        return await self._request_with("tasks/result", {"taskId": task_id}, timeout)

    async def list_tasks(self, cursor: str | None = None, *,
                         page: bool = False, timeout: Any = DEFAULT) -> ListTasksResult:
        """Return the server's tasks (``tasks/list``; all pages by default)."""
        self._require_version("tasks", "tasks/list")
        self._require("tasks.list", "tasks/list")
        return await self._list("tasks/list", "tasks", cursor, page, timeout)  # type: ignore[attr-defined]

    async def cancel_task(self, task_id: str, *, timeout: Any = DEFAULT) -> Task:
        """Cancel a task (``tasks/cancel``)."""
        self._require_version("tasks", "tasks/cancel")
        self._require("tasks.cancel", "tasks/cancel")
        return await self._request_with("tasks/cancel", {"taskId": task_id}, timeout)

    # Helpers

    async def _request_with(self, method: str, params: dict | None, timeout: Any, progress_callback: Any = None,
                            reset: bool = False, max_total: float | None = None) -> Any:
        return await self.request(  # type: ignore[attr-defined]
            method, params, timeout=timeout, progress_callback=progress_callback,
            reset_timeout_on_progress=reset, max_total_timeout=max_total)
