"""An MCP server over stdio, on the same sans-I/O core as the client.

``python -m mcp_stdio.server`` runs the reference server (see :mod:`mcp_stdio.reference`):
this package holds the framework (this module), :mod:`~mcp_stdio.server.context` (what a
handler gets) and :mod:`~mcp_stdio.server.stdio` (the asyncio connection).
Write your own with the decorator API::

    from mcp_stdio.server import Server

    server = Server("demo")

    @server.tool()
    def greet(name: str, excited: bool = False) -> str:
        "Say hello."
        return f"Hello, {name}{'!' if excited else '.'}"

    server.run()

Decorators: :meth:`Server.tool`, :meth:`Server.resource` (a fixed URI),
:meth:`Server.resource_template` (``scheme://path/{var}``), :meth:`Server.prompt` and
:meth:`Server.completion`. Input schemas and prompt arguments come from the function's
signature (``str``, ``int``, ``float``, ``bool``, ``list``, ``dict`` and their ``Optional``
forms; parameters without a default are required), descriptions from docstrings. A
parameter named ``ctx`` receives a :class:`~mcp_stdio.server.context.Context`.

Theory of operation
-------------------
:meth:`Server.run` serves stdin and stdout through asyncio
(:class:`~mcp_stdio.server.stdio.Connection`), on a :class:`~mcp_stdio.server_session.ServerSession`
that enforces the lifecycle, negotiates the version, answers ``initialize``, ``ping``,
``server/discover`` and ``logging/setLevel``, and checks every message both ways. This
module answers the rest: tools, resources, prompts, completion, tasks, subscriptions.

Requests are served concurrently (at most ``max_concurrent_requests`` at once). A function
written ``async def`` runs on the event loop; a plain function runs in a worker thread, so
that it may block without stalling other requests (it sees a cancellation through
``ctx.is_cancelled()``). ``notifications/cancelled`` cancels the request's task.

Set ``MCP_STDIO_SERVER_STATS`` to a file name and the server appends one JSON line of
counters to that file when it exits (the benchmarks check with it that every handshake
really happened).
"""

from __future__ import annotations

import asyncio
import json
import re

from .. import __version__, lifecycle, modern
from ..errors import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    RESOURCE_NOT_FOUND,
    InputRequired,
    RemoteError,
    RequestError,
    ToolError,
)
from ..framing import DEFAULT_MAX_MESSAGE_SIZE
from ..tasks import TaskStore
from .context import Context, encode_state, modern_responses

TYPE_CHECKING = False  # typing is not imported at run time: the server must start fast
if TYPE_CHECKING:
    from typing import Any, Callable

    from ..events import CancelRequested, RequestReceived
    from .stdio import Connection

__all__ = ["Server", "Context", "ToolError", "main"]

# What a parameter annotation (as a string, PEP 563) maps to in JSON Schema.
_SCHEMA_TYPES = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "list": {"type": "array"},
    "dict": {"type": "object"},
    "Any": {},
}

# Milliseconds clients may cache lists and server/discover (basic/patterns/caching); the
# lists change only with a list_changed notification.
DEFAULT_CACHE_TTL_MS = 60_000
# Requests served at once; more wait in order.
DEFAULT_MAX_CONCURRENT_REQUESTS = 16
# Seconds a request to the client (sampling, elicitation, roots) may wait for its answer.
DEFAULT_REQUEST_TIMEOUT = 60.0
# Completion values per answer: server/utilities/completion allows at most 100.
MAX_COMPLETIONS = 100


class _Entry:
    __slots__ = ("func", "definition", "params", "wants_ctx", "pattern", "is_async", "validator")

    def __init__(self, func: Callable, definition: dict, params: tuple[str, ...] = (), pattern: Any = None) -> None:
        self.func = func
        self.definition = definition
        self.params = tuple(p for p in params if p != "ctx")
        self.wants_ctx = "ctx" in params
        self.pattern = pattern
        self.is_async = asyncio.iscoroutinefunction(func)
        self.validator: Any = None  # the inputSchema's, compiled on first use


def _annotation_schema(annotation: Any) -> dict:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    text = text.replace("typing.", "").replace(" ", "")
    if text.startswith("Optional[") and text.endswith("]"):
        inner = _annotation_schema(text[9:-1])
        return {"anyOf": [inner, {"type": "null"}]} if inner else {}
    if "|" in text:
        parts = text.split("|")
        schemas = [_annotation_schema(part) for part in parts if part != "None"]
        if "None" in parts:
            schemas.append({"type": "null"})
        return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    base = text.split("[", 1)[0]
    base = {"List": "list", "Dict": "dict"}.get(base, base)
    return dict(_SCHEMA_TYPES.get(base, {}))


def _signature(func: Callable) -> tuple[dict, tuple[str, ...], set[str]]:
    """Return the parameters' JSON Schema, their names, and the required ones (no inspect)."""
    code = func.__code__
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    defaults = func.__defaults__ or ()
    kwdefaults = func.__kwdefaults__ or {}
    positional = code.co_argcount
    first_default = positional - len(defaults)
    annotations = getattr(func, "__annotations__", {})
    properties: dict = {}
    required: list = []
    for index, name in enumerate(names):
        if name == "ctx":
            continue
        schema = _annotation_schema(annotations[name]) if name in annotations else {}
        has_default = index >= first_default if index < positional else name in kwdefaults
        if has_default:
            default = defaults[index - first_default] if index < positional else kwdefaults[name]
            if default is None or isinstance(default, (str, int, float, bool)):
                schema["default"] = default
        else:
            required.append(name)
        properties[name] = schema
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema, tuple(names), set(required)


def _describe(func: Callable, description: str | None) -> str:
    return description if description is not None else (func.__doc__ or "").strip()


def _tool_result(value: Any) -> dict:
    if isinstance(value, dict) and isinstance(value.get("content"), list):
        return value  # already a CallToolResult
    if isinstance(value, str):
        return {"content": [{"type": "text", "text": value}]}
    if isinstance(value, dict):
        return {"content": [{"type": "text", "text": json.dumps(value, ensure_ascii=False)}],
                "structuredContent": value}
    if value is None:
        return {"content": []}
    return {"content": [{"type": "text", "text": json.dumps(value, ensure_ascii=False)}]}


def _error_result(message: str) -> dict:
    # MCP 2025-11-25, server/tools: tool execution errors are reported "in the result object,
    # not as an MCP protocol-level error", with isError set, so that the model sees them.
    return {"content": [{"type": "text", "text": message}], "isError": True}


class Server:
    """An MCP server of both eras over stdio.

    Args:
        name: ``serverInfo.name``.
        version: ``serverInfo.version``.
        instructions: optional ``instructions`` for the client.
        page_size: the most items per page of a list result (``None``: one page).
        max_concurrent_requests: requests served at once.
        request_timeout: seconds a request to the client may wait for its answer.
        max_message_size: longest message accepted from the client, in bytes.
        cache_ttl_ms: the ``ttlMs`` of 2026-07-28 list results and ``server/discover``.
    """

    def __init__(self, name: str = "mcp_stdio-server", version: str = __version__, *,
                 instructions: str | None = None, page_size: int | None = None,
                 max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS,
                 request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
                 max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
                 cache_ttl_ms: int = DEFAULT_CACHE_TTL_MS) -> None:
        self.name = name
        self.version = version
        self.instructions = instructions
        self.page_size = page_size
        self.max_concurrent_requests = max_concurrent_requests
        self.request_timeout = request_timeout
        self.max_message_size = max_message_size
        self.cache_ttl_ms = cache_ttl_ms
        self._tools: dict[str, _Entry] = {}
        self._resources: dict[str, _Entry] = {}
        self._templates: list[_Entry] = []
        self._prompts: dict[str, _Entry] = {}
        self._completions: dict[tuple, Callable] = {}
        self._subscriptions: set[str] = set()  # handshake era: resources/subscribe
        self._listeners: dict[Any, dict] = {}  # 2026-07-28: listen request id -> its filter
        self._tasks = TaskStore()
        self._connection: Connection | None = None
        self.stats = {"initialize": 0, "requests": 0, "notifications": 0, "invalid": 0}

    @property
    def server_info(self) -> dict:
        """Return ``serverInfo``."""
        return {"name": self.name, "version": self.version}

    # Registration

    def tool(self, name: str | None = None, *, description: str | None = None, title: str | None = None,
             output_schema: dict | None = None, annotations: dict | None = None) -> Callable[[Callable], Callable]:
        """Register the decorated function as a tool.

        Args:
            name: the tool's name (default: the function's name).
            description: default: the function's docstring.
            title: a human-readable title.
            output_schema: JSON Schema of the tool's structured result (a returned dict
                becomes ``structuredContent``).
            annotations: tool annotations (``readOnlyHint``...).
        """

        def register(func: Callable) -> Callable:
            input_schema, params, _ = _signature(func)
            definition: dict = {"name": name or func.__name__, "inputSchema": input_schema}
            for key, value in (("description", _describe(func, description)), ("title", title),
                               ("outputSchema", output_schema), ("annotations", annotations)):
                if value:
                    definition[key] = value
            self._tools[definition["name"]] = _Entry(func, definition, params)
            return func

        return register

    def resource(self, uri: str, *, name: str | None = None, description: str | None = None,
                 mime_type: str = "text/plain") -> Callable[[Callable], Callable]:
        """Register the decorated function as the resource at ``uri``.

        The function returns ``str`` (text) or ``bytes`` (sent as base64 ``blob``).
        """

        def register(func: Callable) -> Callable:
            definition = {"uri": uri, "name": name or func.__name__, "mimeType": mime_type}
            text = _describe(func, description)
            if text:
                definition["description"] = text
            self._resources[uri] = _Entry(func, definition, _signature(func)[1])
            return func

        return register

    def resource_template(self, uri_template: str, *, name: str | None = None, description: str | None = None,
                          mime_type: str = "text/plain") -> Callable[[Callable], Callable]:
        """Register a resource template such as ``notes://{folder}/{name}``.

        Each ``{variable}`` matches one path segment and is passed to the function by name.
        """

        def register(func: Callable) -> Callable:
            parts = re.split(r"\{(\w+)\}", uri_template)
            pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)"
                              for i, part in enumerate(parts))
            definition = {"uriTemplate": uri_template, "name": name or func.__name__, "mimeType": mime_type}
            text = _describe(func, description)
            if text:
                definition["description"] = text
            self._templates.append(_Entry(func, definition, _signature(func)[1], re.compile(f"^{pattern}$")))
            return func

        return register

    def prompt(self, name: str | None = None, *, description: str | None = None,
               title: str | None = None) -> Callable[[Callable], Callable]:
        """Register the decorated function as a prompt; its parameters are the arguments.

        It returns a string (one user message) or a list of ``{"role", "content"}`` messages.
        """

        def register(func: Callable) -> Callable:
            schema, params, required = _signature(func)
            arguments = [{"name": arg, "required": arg in required} for arg in schema["properties"]]
            definition: dict = {"name": name or func.__name__, "arguments": arguments}
            for key, value in (("description", _describe(func, description)), ("title", title)):
                if value:
                    definition[key] = value
            self._prompts[definition["name"]] = _Entry(func, definition, params)
            return func

        return register

    def completion(self, ref: str, argument: str) -> Callable[[Callable], Callable]:
        """Register completions for ``argument`` of a prompt (by name) or a template (by URI template).

        The function takes ``(value, context_arguments)`` and returns a list of strings.
        """

        def register(func: Callable) -> Callable:
            self._completions[(ref, argument)] = func
            return func

        return register

    # Notifications to the client (thread-safe)

    def notify_resource_updated(self, uri: str) -> None:
        """Tell a subscribed client that ``uri`` changed (resources/subscribe or subscriptions/listen)."""
        connection = self._connection
        if connection is None:
            return
        if uri in self._subscriptions:
            connection.notify_threadsafe("notifications/resources/updated", {"uri": uri})
        for listen_id, wanted in list(self._listeners.items()):
            if uri in (wanted.get("resourceSubscriptions") or ()):
                connection.notify_threadsafe("notifications/resources/updated",
                                             {"uri": uri, "_meta": {modern.SUBSCRIPTION_ID: listen_id}})

    def notify_list_changed(self, kind: str) -> None:
        """Tell the client that the ``tools``, ``prompts`` or ``resources`` list changed."""
        connection = self._connection
        if connection is None:
            return
        if connection.session.version in lifecycle.HANDSHAKE_VERSIONS:
            connection.notify_threadsafe(f"notifications/{kind}/list_changed")
        for listen_id, wanted in list(self._listeners.items()):
            if wanted.get(f"{kind}ListChanged"):
                connection.notify_threadsafe(f"notifications/{kind}/list_changed",
                                             {"_meta": {modern.SUBSCRIPTION_ID: listen_id}})

    # Serving

    def run(self) -> None:
        """Serve stdin and stdout until the client closes stdin."""
        from .stdio import serve

        serve(self)

    def capabilities(self, version: str) -> dict:
        """Return the server's capabilities in protocol ``version`` (the one place)."""
        capabilities: dict = {"tools": {"listChanged": True}, "logging": {}}
        if self._resources or self._templates:
            capabilities["resources"] = {"subscribe": True, "listChanged": True}
        if self._prompts:
            capabilities["prompts"] = {"listChanged": True}
        if self._completions and version >= "2025-03-26":
            capabilities["completions"] = {}
        if version == "2025-11-25":
            capabilities["tasks"] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
        return capabilities

    async def handle(self, connection: Connection, event: RequestReceived) -> Any:
        """Answer one request of the client (the session checked it); return its result.

        Raises:
            RequestError: the request fails with this JSON-RPC error.
        """
        handler = _HANDLERS.get(event.method)
        if handler is None:
            raise RequestError(METHOD_NOT_FOUND, f"Method not found: {event.method}")
        return await handler(self, connection, event)

    def open_listener(self, connection: Connection, event: RequestReceived) -> None:
        """Open a ``subscriptions/listen`` stream; the request stays open until cancelled."""
        wanted = event.params.get("notifications") or {}
        accepted = {key: value for key, value in wanted.items()
                    if key in ("toolsListChanged", "promptsListChanged", "resourcesListChanged",
                               "resourceSubscriptions")}
        self._listeners[event.id] = accepted
        # basic/patterns/subscriptions: the acknowledgement "MUST be the first message the
        # server sends carrying the subscription's ID".
        connection.notify_threadsafe("notifications/subscriptions/acknowledged",
                                     {"_meta": {modern.SUBSCRIPTION_ID: event.id}, "notifications": accepted})

    def cancelled(self, event: CancelRequested) -> None:
        """The client cancelled a request: a listen stream ends (no answer is sent)."""
        self._listeners.pop(event.request_id, None)

    # Handlers (method -> coroutine, see _HANDLERS)

    async def _list_tools(self, connection: Connection, event: RequestReceived) -> dict:
        version = event.version or ""
        tools = []
        for entry in self._tools.values():
            definition = entry.definition
            if version < "2025-06-18":  # outputSchema and title came in 2025-06-18
                definition = {k: v for k, v in definition.items() if k not in ("outputSchema", "title")}
            elif version == "2025-11-25":
                definition = dict(definition, execution={"taskSupport": "optional"})
            tools.append(definition)
        return self._page(tools, event, "tools")

    async def _call_tool(self, connection: Connection, event: RequestReceived) -> dict:
        params = event.params
        name = params.get("name")
        entry = self._tools.get(name)  # type: ignore[arg-type]
        if entry is None:
            # MCP server/tools "Error Handling": unknown tools are a protocol error (-32602).
            raise RequestError(INVALID_PARAMS, f"Unknown tool: {name!r}")
        arguments = params.get("arguments") or {}
        if "task" in params and event.version == "2025-11-25":
            return self._create_task(connection, entry, arguments, event)
        return await self._run_tool(connection, entry, arguments, event)

    async def _run_tool(self, connection: Connection, entry: _Entry, arguments: dict, event: RequestReceived) -> dict:
        problems = self._argument_problems(entry, arguments)
        if problems:
            # 2026-07-28, server/tools: argument validation failures are tool execution
            # errors (isError), which the model can correct.
            return _error_result("invalid arguments: " + "; ".join(problems))
        try:
            result = _tool_result(await self._call(connection, entry, arguments, event))
        except InputRequired as exc:
            return self._input_required(exc, event)
        except RequestError as exc:
            if not isinstance(exc, RemoteError):
                raise  # the handler chose this error for the request (-32021...)
            return _error_result(f"{type(exc).__name__}: {exc}")  # the client's answer to the tool's request
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return _error_result(str(exc) if isinstance(exc, ToolError) else f"{type(exc).__name__}: {exc}")
        if (event.version or "") < "2025-06-18":
            result = {key: value for key, value in result.items() if key != "structuredContent"}
        return result

    def _argument_problems(self, entry: _Entry, arguments: dict) -> list[str]:
        unknown = sorted(key for key in arguments if key not in entry.params)
        if unknown:
            return [f"unexpected arguments: {', '.join(unknown)}"]
        if entry.validator is None:
            from ..schema import compile_schema

            entry.validator = compile_schema(entry.definition["inputSchema"])
        return entry.validator.errors(arguments, 5)  # type: ignore[no-any-return]

    async def _call(self, connection: Connection, entry: _Entry, arguments: dict, event: RequestReceived) -> Any:
        context = None
        if entry.wants_ctx:
            context = Context(connection, event.id, event.version, event.params, modern_responses(event.params))
            arguments = dict(arguments, ctx=context)
        if entry.is_async:
            return await entry.func(**arguments)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, lambda: entry.func(**arguments))
        except asyncio.CancelledError:
            if context is not None:
                context._cancelled = True  # the worker thread sees it through ctx.is_cancelled()
            raise

    def _input_required(self, exc: InputRequired, event: RequestReceived) -> dict:
        """Return the InputRequiredResult of basic/patterns/mrtr for a handler that needs input."""
        return {"resultType": "input_required",
                "inputRequests": {exc.key: {"method": exc.method, "params": exc.params}},
                "requestState": encode_state(modern_responses(event.params) or {})}

    def _create_task(self, connection: Connection, entry: _Entry, arguments: dict, event: RequestReceived) -> dict:
        # MCP 2025-11-25, basic/utilities/tasks: the receiver answers a task-augmented request
        # with CreateTaskResult at once and runs the work in the background.
        state = self._tasks.create(event.params["task"].get("ttl"))
        task_id = state["taskId"]

        async def work() -> None:
            try:
                result = await self._run_tool(connection, entry, arguments, event)
            except asyncio.CancelledError:
                self._tasks.finish(task_id, "cancelled", RequestError(INVALID_PARAMS, "the task was cancelled"))
                raise
            except RequestError as exc:
                self._tasks.finish(task_id, "failed", exc)
            else:
                self._tasks.finish(task_id, "failed" if result.get("isError") else "completed", result)
            finally:
                connection.task_settled(task_id)

        connection.start_task(task_id, work())
        return {"task": state}

    async def _get_task(self, connection: Connection, event: RequestReceived) -> dict:
        return self._tasks.get(event.params.get("taskId"))

    async def _task_result(self, connection: Connection, event: RequestReceived) -> dict:
        task_id = event.params.get("taskId")
        status, outcome = self._tasks.outcome(task_id)
        if outcome is None:
            await connection.task_done(task_id)  # type: ignore[arg-type]
        return self._tasks.result(task_id)

    async def _list_tasks(self, connection: Connection, event: RequestReceived) -> dict:
        return self._page(self._tasks.list(), event, "tasks")

    async def _cancel_task(self, connection: Connection, event: RequestReceived) -> dict:
        task_id = event.params.get("taskId")
        state = self._tasks.cancel(task_id)
        connection.cancel_task(task_id)  # type: ignore[arg-type]
        return state

    async def _list_resources(self, connection: Connection, event: RequestReceived) -> dict:
        return self._page([entry.definition for entry in self._resources.values()], event, "resources")

    async def _list_templates(self, connection: Connection, event: RequestReceived) -> dict:
        return self._page([entry.definition for entry in self._templates], event, "resourceTemplates")

    def _find_resource(self, uri: Any, event: RequestReceived) -> tuple[_Entry, dict]:
        if uri in self._resources:
            return self._resources[uri], {}
        for entry in self._templates:
            match = entry.pattern.match(uri) if isinstance(uri, str) else None
            if match:
                return entry, match.groupdict()
        # MCP 2025-11-25, server/resources "Error Handling": "Resource not found: -32002";
        # 2026-07-28 replaced it with -32602 (basic/index, "Error Codes").
        modern_era = event.version in lifecycle.MODERN_VERSIONS
        raise RequestError(INVALID_PARAMS if modern_era else RESOURCE_NOT_FOUND, f"Resource not found: {uri}",
                           {"uri": uri})

    async def _read_resource(self, connection: Connection, event: RequestReceived) -> dict:
        uri = event.params.get("uri")
        entry, variables = self._find_resource(uri, event)
        try:
            value = await self._call(connection, entry, variables, event)
        except InputRequired as exc:
            return self._input_required(exc, event)
        contents: dict = {"uri": uri, "mimeType": entry.definition.get("mimeType", "text/plain")}
        if isinstance(value, (bytes, bytearray)):
            import base64

            contents["blob"] = base64.b64encode(value).decode("ascii")
        else:
            contents["text"] = str(value)
        return self._cacheable({"contents": [contents]}, event)

    async def _subscribe(self, connection: Connection, event: RequestReceived) -> dict:
        uri = event.params.get("uri")
        self._find_resource(uri, event)
        self._subscriptions.add(uri)  # type: ignore[arg-type]
        return {}

    async def _unsubscribe(self, connection: Connection, event: RequestReceived) -> dict:
        self._subscriptions.discard(event.params.get("uri"))  # type: ignore[arg-type]
        return {}

    async def _list_prompts(self, connection: Connection, event: RequestReceived) -> dict:
        return self._page([entry.definition for entry in self._prompts.values()], event, "prompts")

    async def _get_prompt(self, connection: Connection, event: RequestReceived) -> dict:
        name = event.params.get("name")
        entry = self._prompts.get(name)  # type: ignore[arg-type]
        if entry is None:
            raise RequestError(INVALID_PARAMS, f"Unknown prompt: {name!r}")
        arguments = event.params.get("arguments") or {}
        missing = [arg["name"] for arg in entry.definition["arguments"]
                   if arg["required"] and arg["name"] not in arguments]
        if missing:
            raise RequestError(INVALID_PARAMS, f"missing prompt arguments: {', '.join(missing)}")
        unknown = sorted(key for key in arguments if key not in entry.params)
        if unknown:
            raise RequestError(INVALID_PARAMS, f"unknown prompt arguments: {', '.join(unknown)}")
        try:
            value = await self._call(connection, entry, arguments, event)
        except InputRequired as exc:
            return self._input_required(exc, event)
        messages = [{"role": "user", "content": {"type": "text", "text": value}}] if isinstance(value, str) \
            else list(value)
        result: dict = {"messages": messages}
        if entry.definition.get("description"):
            result["description"] = entry.definition["description"]
        return result

    async def _complete(self, connection: Connection, event: RequestReceived) -> dict:
        ref = event.params.get("ref") or {}
        argument = event.params.get("argument") or {}
        key = ref.get("name") if ref.get("type") == "ref/prompt" else ref.get("uri")
        func = self._completions.get((key, argument.get("name")))
        values = []
        if func is not None:
            context = (event.params.get("context") or {}).get("arguments") or {}
            values = [str(v) for v in func(argument.get("value", ""), context)]
        return {"completion": {"values": values[:MAX_COMPLETIONS], "total": len(values),
                               "hasMore": len(values) > MAX_COMPLETIONS}}

    def _page(self, items: list, event: RequestReceived, key: str) -> dict:
        start = 0
        cursor = event.params.get("cursor")
        if cursor is not None:
            if not (isinstance(cursor, str) and cursor.isascii() and cursor.isdecimal()
                    and len(cursor) < 12 and int(cursor) <= len(items)):
                raise RequestError(INVALID_PARAMS, f"invalid cursor {str(cursor)[:40]!r}")
            start = int(cursor)
        end = len(items) if self.page_size is None else start + self.page_size
        result: dict = {key: items[start:end]}
        if end < len(items):
            result["nextCursor"] = str(end)
        return self._cacheable(result, event)

    def _cacheable(self, result: dict, event: RequestReceived) -> dict:
        if event.version in lifecycle.MODERN_VERSIONS:
            # basic/patterns/caching: required hints; these lists change only with a
            # list_changed notification, and nothing here depends on the caller.
            result.update(ttlMs=self.cache_ttl_ms, cacheScope="public")
        return result


_HANDLERS: dict[str, Callable[[Server, Connection, RequestReceived], Any]] = {
    "tools/list": Server._list_tools,
    "tools/call": Server._call_tool,
    "resources/list": Server._list_resources,
    "resources/templates/list": Server._list_templates,
    "resources/read": Server._read_resource,
    "resources/subscribe": Server._subscribe,
    "resources/unsubscribe": Server._unsubscribe,
    "prompts/list": Server._list_prompts,
    "prompts/get": Server._get_prompt,
    "completion/complete": Server._complete,
    "tasks/get": Server._get_task,
    "tasks/result": Server._task_result,
    "tasks/list": Server._list_tasks,
    "tasks/cancel": Server._cancel_task,
}


def main(argv: list[str] | None = None) -> int:
    """Run the reference server on stdin and stdout (``python -m mcp_stdio.server``)."""
    from ..reference import build

    build().run()
    return 0
