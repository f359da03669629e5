"""Shape checks of MCP messages, per protocol version (sans-I/O, standard library only).

Theory of operation
-------------------

Every message from a peer is checked here, against the negotiated version's schema, before
any other code sees it; what this side sends is checked too (results of user callbacks).
The JSON-RPC envelope is :mod:`mcp_stdio.jsonrpc`'s business; this module checks what is
inside: the ``params`` of a request or a notification, and the ``result`` of a response.

The data is the official MCP schema of each version, reduced by ``tools/gen_schemas.py`` to
``mcp_stdio/schemas/<version>.json``: the definitions that messages reach, without
annotations, and an index of the methods (who sends each, its params, its result). A
version's file is read the first time that version is used, and a definition's validator
is compiled the first time it is used, then kept: importing this module reads nothing,
and the caches are bounded by the shipped data (at most one validator per definition or
params schema of each version, about 150).

Rules of the versions that the data encodes, and that callers must respect:

* A method exists in some versions only: elicitation from 2025-06-18, tasks in 2025-11-25
  only, ``server/discover`` and ``subscriptions/listen`` in 2026-07-28 only, which has no
  ``initialize``, ``ping``, ``logging/setLevel`` nor ``resources/(un)subscribe``.
  :func:`check_params` answers ``None`` for a method that the version does not define for
  that sender: the caller answers -32601 (a request) or ignores it (a notification).
* 2026-07-28 has no server-to-client JSON-RPC request: ``sampling/createMessage``,
  ``roots/list`` and ``elicitation/create`` travel inside an ``InputRequiredResult``
  (kind ``"input"``), as ``{"method", "params"}`` objects, and the client's answers go back
  in the ``inputResponses`` of the retried request (basic/patterns/mrtr).
* 2026-07-28 results carry ``resultType``: ``"complete"`` (the method's result type) or
  ``"input_required"`` (an InputRequiredResult, only for the methods whose
  ``<Result>Response`` allows it: ``tools/call``, ``prompts/get``, ``resources/read``).
  The schema requires the field of servers; a result without it is read as complete, as
  basic/index tells clients to.

Problems are strings ``"<path>: <problem>"`` as :class:`mcp_stdio.schema.Validator` writes
them, at most :data:`MAX_PROBLEMS`; ``$`` is the params object or the result itself.

Use, in the session core::

    problems = shapes.check_params(version, method, params, sender="server")
    if problems is None:      # not a method of this version from this sender
        ...                   # a request: answer -32601; a notification: drop it
    elif problems:            # answer -32602 (a request) or log and drop (a notification)
        ...
    problems = shapes.check_result(version, request_method, result, task=was_task)
    if problems:              # the pending request fails with RemoteProtocolError
        ...
"""

from __future__ import annotations

from .errors import LocalProtocolError

TYPE_CHECKING = False  # typing is not imported at run time: importing must cost nothing
if TYPE_CHECKING:
    from typing import Any

    from .schema import Validator

__all__ = [
    "VERSIONS",
    "MAX_PROBLEMS",
    "MethodInfo",
    "method_info",
    "methods",
    "check_params",
    "check_result",
    "check",
    "plain_tool_result",
]

# The versions whose data ships in mcp_stdio/schemas/, oldest first.
VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28")

# Problems reported per check: enough to fix a message, short enough for an error reply.
MAX_PROBLEMS = 5

_SENDERS = ("client", "server")
_KINDS = ("request", "notification", "input")
# The folder of this module, without the os module (this module is sans-I/O).
_HERE = __file__[: max(__file__.rfind("/"), __file__.rfind("\\")) + 1]


class MethodInfo:
    """What the schema of one version says about one method (read-only data).

    Attributes:
        method: the method name.
        kind: ``"request"``, ``"notification"``, or ``"input"`` for a 2026-07-28 server
            request that travels inside an InputRequiredResult.
        senders: who may send it: ``("client",)``, ``("server",)`` or both.
        definition: the schema definition of the message (``"CallToolRequest"``).
        params: where its params schema is in the version's data, as a JSON pointer
            (``"#/$defs/CallToolRequestParams"``), or ``None`` if it takes none.
        params_required: whether ``params`` must be present.
        result: the result definition of a request or input (``"CallToolResult"``), else
            ``None``.
        task: whether the request may be task-augmented (its result is then a
            CreateTaskResult).
        input_required: whether the result may be an InputRequiredResult (2026-07-28).
    """

    __slots__ = ("method", "kind", "senders", "definition", "params", "params_required", "result", "task",
                 "input_required")

    def __init__(self, method: str, entry: dict) -> None:
        self.method = method
        self.kind: str = entry["kind"]
        self.senders: tuple[str, ...] = tuple(entry["from"])
        self.definition: str = entry["definition"]
        self.params: str | None = entry["params"]
        self.params_required: bool = entry["params_required"]
        self.result: str | None = entry["result"]
        self.task: bool = entry["task"]
        self.input_required: bool = entry["input_required"]

    def __repr__(self) -> str:
        return (f"MethodInfo({self.method!r}, kind={self.kind!r}, senders={self.senders!r}, "
                f"definition={self.definition!r}, result={self.result!r})")


class _Version:
    """One version's data, its method index, and its compiled validators."""

    def __init__(self, version: str, data: dict) -> None:
        self.version = version
        self.defs: dict = data["$defs"]
        self.methods = {method: MethodInfo(method, entry) for method, entry in data["methods"].items()}
        self.result_type: bool = data["result_type"]
        self.task_result: str | None = data["task_result"]
        self.input_required_result: str | None = data["input_required_result"]
        self._validators: dict[str, Validator] = {}

    def validator(self, ref: str) -> Validator:
        """Return the validator of the subschema at ``ref`` (``#/$defs/...``), compiled once."""
        validator = self._validators.get(ref)
        if validator is None:
            from .schema import Validator  # first use only: keeps the import of this module free

            validator = Validator({"$defs": self.defs, "$ref": ref})
            self._validators[ref] = validator
        return validator

    def errors(self, ref: str, instance: Any) -> list[str]:
        return self.validator(ref).errors(instance, MAX_PROBLEMS)


_LOADED: dict[str, _Version] = {}


def _version(version: str) -> _Version:
    loaded = _LOADED.get(version)
    if loaded is not None:
        return loaded
    if version not in VERSIONS:
        raise LocalProtocolError(f"no schema for protocol version {version!r} (known: {', '.join(VERSIONS)})")
    import json  # first use only: keeps the import of this module free

    with open(f"{_HERE}schemas/{version}.json", encoding="utf-8") as file:
        loaded = _Version(version, json.load(file))
    _LOADED[version] = loaded
    return loaded


# Public functions


def method_info(version: str, method: str) -> MethodInfo | None:
    """Return what ``version`` says about ``method``, or ``None`` if it does not define it.

    Raises:
        LocalProtocolError: ``version`` is not one of :data:`VERSIONS`.
    """
    return _version(version).methods.get(method)


def methods(version: str, kind: str | None = None, sender: str | None = None) -> tuple[str, ...]:
    """Return the methods of ``version``, sorted, optionally of one kind or one sender.

    Args:
        kind: ``"request"``, ``"notification"`` or ``"input"``; ``None`` for all.
        sender: ``"client"`` or ``"server"``; ``None`` for both.

    Raises:
        LocalProtocolError: an unknown version, kind or sender.
    """
    if kind is not None and kind not in _KINDS:
        raise LocalProtocolError(f"kind must be one of {_KINDS}, not {kind!r}")
    if sender is not None and sender not in _SENDERS:
        raise LocalProtocolError(f"sender must be 'client' or 'server', not {sender!r}")
    return tuple(sorted(
        name for name, info in _version(version).methods.items()
        if (kind is None or info.kind == kind) and (sender is None or sender in info.senders)
    ))


def check_params(version: str, method: str, params: Any, *, sender: str) -> list[str] | None:
    """Return the problems of the ``params`` of a request, notification or input request.

    Args:
        version: the negotiated protocol version.
        method: the message's method.
        params: the ``params`` member, or ``None`` when it is absent.
        sender: who sent (or is about to send) the message: ``"client"`` or ``"server"``.

    Returns:
        ``None`` when ``version`` defines no such method sent by ``sender`` (the caller
        answers -32601 to a request and ignores a notification), else the problems: an empty
        list when the params are valid.

    Raises:
        LocalProtocolError: an unknown version or sender.
    """
    if sender not in _SENDERS:
        raise LocalProtocolError(f"sender must be 'client' or 'server', not {sender!r}")
    loaded = _version(version)
    info = loaded.methods.get(method)
    if info is None or sender not in info.senders:
        return None
    if params is None:
        return [f"$: params are required by {method}"] if info.params_required else []
    if info.params is None:
        return []
    return loaded.errors(info.params, params)


def check_result(version: str, method: str, result: Any, *, task: bool = False) -> list[str]:
    """Return the problems of the ``result`` of a request (or of an input request).

    The client checks what servers answer, and what its own callbacks return before sending
    it (``sampling/createMessage``, ``elicitation/create``, ``roots/list``); the server
    checks what its handlers return.

    Args:
        version: the negotiated protocol version.
        method: the method of the request that this result answers. A method that the
            version does not define as a request (an extension) is checked against the
            generic Result.
        result: the ``result`` member.
        task: the request was task-augmented (2025-11-25): the result must be a
            CreateTaskResult.

    Returns:
        The problems; an empty list when the result is valid. In 2026-07-28, ``resultType``
        chooses the shape: ``"complete"`` or absent, the method's result (which requires
        the field); ``"input_required"``, an InputRequiredResult, each of its
        ``inputRequests`` checked as the input request its ``method`` names.

    Raises:
        LocalProtocolError: an unknown version, or ``task=True`` for a request that cannot
            be task-augmented in that version.
    """
    if method == "tools/call" and not task and plain_tool_result(version, result):
        return []  # the common answer, accepted without the generic validator (see below)
    loaded = _version(version)
    info = loaded.methods.get(method)
    if info is not None and info.kind == "notification":
        info = None
    if task:
        if loaded.task_result is None or info is None or not info.task:
            raise LocalProtocolError(f"{method} requests cannot be task-augmented in {version}")
        return loaded.errors(f"#/$defs/{loaded.task_result}", result)
    if loaded.result_type and (info is None or info.kind != "input"):
        # 2026-07-28, Result.resultType: "complete" or "input_required" (ResultType); the
        # answers to input requests (inputResponses) carry no resultType.
        kind = result.get("resultType", "complete") if type(result) is dict else "complete"
        if kind == "input_required":
            if info is not None and not info.input_required:
                return [f"$.resultType: a {method} result cannot be 'input_required'"]
            return _check_input_required(loaded, result)
        if kind != "complete":
            return [f"$.resultType: {_brief(kind)} is not 'complete' or 'input_required'"]
        if type(result) is dict and "resultType" not in result:
            # basic/index: "clients MUST treat an absent resultType as complete" (a server
            # of an earlier version); the schema's requirement is the server's to meet.
            result = dict(result, resultType="complete")
    return loaded.errors(f"#/$defs/{info.result if info is not None else 'Result'}", result)


def check(version: str, definition: str, value: Any) -> list[str]:
    """Return the problems of ``value`` as an instance of the schema ``definition``.

    For the shapes that are no method's params or result: ``"Implementation"``,
    ``"ServerCapabilities"``, ``"Tool"``, the error types of 2026-07-28
    (``"UnsupportedProtocolVersionError"``...), whole messages (``"JSONRPCMessage"``).

    Raises:
        LocalProtocolError: an unknown version, or a definition that its data does not hold.
    """
    loaded = _version(version)
    if definition not in loaded.defs:
        raise LocalProtocolError(f"no definition {definition!r} in the schema of {version}")
    return loaded.errors(f"#/$defs/{definition}", value)


# Private functions


# The versions whose CallToolResult has structuredContent, and where it must be an object.
_STRUCTURED_OBJECT = ("2025-06-18", "2025-11-25")


def plain_tool_result(version: str, result: Any) -> bool:
    """Return whether ``result`` is a plainly valid ``tools/call`` result.

    The answer to nearly every call is text blocks, maybe ``isError`` and structured
    content: this checks that shape in a few microseconds, on the hot path of every call.
    It only ever accepts what the schema of every version accepts (CallToolResult requires
    ``content``, an array of content blocks; a TextContent is ``{"type": "text", "text":
    string}``); anything else (other blocks, annotations, ``_meta``...) goes to the full
    check.
    """
    if type(result) is not dict:
        return False
    content = result.get("content")
    if type(content) is not list:
        return False
    for block in content:
        if type(block) is not dict or len(block) != 2 or block.get("type") != "text" \
                or type(block.get("text")) is not str:
            return False
    if len(result) == 1:
        return True
    for key, value in result.items():
        if key == "content":
            continue
        if key == "isError":
            if type(value) is not bool:
                return False
        elif key == "structuredContent":
            if version in _STRUCTURED_OBJECT and type(value) is not dict:
                return False
        elif key != "resultType" or value != "complete":
            return False
    return True


def _check_input_required(loaded: _Version, result: dict) -> list[str]:
    found = loaded.errors(f"#/$defs/{loaded.input_required_result}", result)
    # 2026-07-28 schema, InputRequiredResult: "At least one of `inputRequests` or
    # `requestState` MUST be present."
    if "inputRequests" not in result and "requestState" not in result:
        found.append("$: neither 'inputRequests' nor 'requestState' is present")
    requests = result.get("inputRequests")
    if found and type(requests) is dict:
        # "matches none of anyOf" says little: check each input request as its method's.
        for key, request in requests.items():
            where = f"$.inputRequests.{key}"
            vague = [problem for problem in found if problem.startswith(where + ": ")]
            if not vague or type(request) is not dict:
                continue
            method = request.get("method")
            info = loaded.methods.get(method) if type(method) is str else None
            if info is not None and info.kind == "input":
                precise = [where + problem[1:] for problem in loaded.errors(f"#/$defs/{info.definition}", request)]
            else:
                precise = [f"{where}.method: {_brief(request.get('method'))} is not an input request "
                           f"of {loaded.version}"]
            found = [problem for problem in found if problem not in vague] + precise
    return found[:MAX_PROBLEMS]


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
