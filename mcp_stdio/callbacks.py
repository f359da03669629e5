"""User callbacks, as users write them: checked when given, adapted, and answers checked.

A :class:`Callbacks` holds the callbacks of one caller: a :class:`~mcp_stdio.Client`, or
one agent of a :mod:`~mcp_stdio.pool`. It declares the capabilities they imply (only those
with a handler: MCP basic/lifecycle, "Capability Negotiation") and answers the server's
requests with them, in both eras (a request of the handshake era, an input request of a
2026-07-28 ``input_required`` round).

How callbacks are written and run:

* Request callbacks (``sampling_callback(params)``, ``elicitation_callback(params)``,
  ``list_roots_callback()``, and handlers given to ``set_request_handler``) may be plain
  functions or coroutine functions. A coroutine function runs on the event loop; a plain
  function runs in a worker thread of the loop's default executor, so that it may block
  (ask a person, call a model) without stalling the connection, and may even use
  :mod:`mcp_stdio.sync`.
* Notification callbacks (``message_handler(notification)``, ``logging_callback(params)``,
  ``progress_callback(progress, total, message)``) run on the event loop, in order: a plain
  function must return quickly; a coroutine function is awaited before the next one runs.
* Signatures are checked when the callback is given: the official SDK's
  ``(context, params)`` form gets a clear ``TypeError`` naming the form expected here.
* What a callback returns may be a dict, a pydantic model (``model_dump()``), a dataclass,
  or for roots a list of roots, ``{"roots": [...]}``, plain ``file://`` URIs or absolute
  paths. It is checked against the negotiated version's schema before it is sent: an
  invalid answer is never sent; the server gets a JSON-RPC error (-32603) and a WARNING
  names the callback and the invalid field.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from . import shapes
from .errors import INTERNAL_ERROR, METHOD_NOT_FOUND, RequestError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Union
    from collections.abc import Awaitable

    RequestCallback = Callable[[dict], Union[Any, Awaitable[Any]]]
    RootsCallback = Callable[[], Union[Any, Awaitable[Any]]]
    NotificationCallback = Callable[[dict], Optional[Awaitable[None]]]
    ProgressCallback = Callable[[float, Optional[float], Optional[str]], Optional[Awaitable[None]]]

__all__ = ["Callbacks", "check_callback", "to_json", "normalize_roots", "call_request_handler", "CALLBACK_NAMES",
           "TASK_METHODS"]

logger = logging.getLogger("mcp_stdio.client")

# The request each callback answers, and how users name the callback in messages.
CALLBACK_NAMES = {
    "sampling/createMessage": "sampling_callback",
    "elicitation/create": "elicitation_callback",
    "roots/list": "list_roots_callback",
}


def check_callback(callback: object, name: str, arguments: tuple[str, ...]) -> None:
    """Raise ``TypeError`` unless ``callback`` can be called with ``arguments`` positionally.

    Args:
        callback: what the user gave.
        name: the option's name, for the message.
        arguments: the names of the arguments mcp_stdio passes, in order.
    """
    if not callable(callback):
        raise TypeError(f"{name} must be callable, not {type(callback).__name__}")
    wanted = f"{name}({', '.join(arguments)})"
    code = getattr(callback, "__code__", None)
    if code is not None and not hasattr(callback, "__self__"):
        # A plain function: read its code object (cheaper than inspect).
        positional = code.co_argcount
        defaults = len(getattr(callback, "__defaults__", None) or ())
        takes_star = bool(code.co_flags & 0x04)
        required = positional - defaults
        names = code.co_varnames[:positional]
        ok = required <= len(arguments) and (takes_star or positional >= len(arguments))
    else:
        import inspect

        try:
            signature = inspect.signature(callback)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return  # a builtin without a signature: trust it
        try:
            signature.bind(*arguments)
            return
        except TypeError:
            ok = False
        names = tuple(signature.parameters)
        required = sum(1 for p in signature.parameters.values()
                       if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    if ok:
        return
    sdk = " (the official SDK's (context, params) form is not supported: mcp_stdio passes the params " \
          "as a dict, without a context)" if len(arguments) == 1 and required == 2 else ""
    raise TypeError(f"{name} must accept {wanted}; {_describe(callback)} takes "
                    f"({', '.join(names)}){sdk}")


def _describe(callback: object) -> str:
    return getattr(callback, "__name__", None) or type(callback).__name__


def to_json(value: Any) -> Any:
    """Return ``value`` as JSON data: a pydantic model is dumped, a dataclass converted."""
    if hasattr(value, "model_dump") and callable(value.model_dump):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
        import dataclasses

        return {key: to_json(item) for key, item in dataclasses.asdict(value).items() if item is not None}
    if type(value) is list or type(value) is tuple:
        return [to_json(item) for item in value]
    return value


def normalize_roots(value: Any) -> Any:
    """Return a ``roots/list`` result from what a roots callback (or ``roots=``) gives.

    Accepted: ``{"roots": [...]}`` (the official SDK's ListRootsResult, dict or model), a
    list of roots, each a dict or model ``{"uri": "file:///...", "name": ...}``, a
    ``file://`` URI string, or an absolute path (converted to its ``file://`` URI). MCP
    client/roots: the ``uri`` "MUST be a file:// URI"; anything else is left as given, for
    the schema check to refuse.
    """
    value = to_json(value)
    if value is None:
        return {"roots": []}
    if type(value) is dict:
        if "roots" not in value:
            return value
        roots = value["roots"]
        rest = {key: item for key, item in value.items() if key != "roots"}
    else:
        roots, rest = value, {}
    if type(roots) is not list:
        return dict(rest, roots=roots)
    return dict(rest, roots=[_root(item) for item in roots])


def _root(item: Any) -> Any:
    item = to_json(item)
    if type(item) is str:
        if item.startswith("/"):
            import pathlib

            return {"uri": pathlib.PurePosixPath(item).as_uri()}
        return {"uri": item}
    return item


async def call_request_handler(callback: Callable[..., Any], *args: Any) -> Any:
    """Call a request callback: awaited on the loop, or in a worker thread if plain."""
    # An object whose class defines ``async def __call__`` is awaited too (callable() cannot tell).
    call = getattr(type(callback), "__call__", None)  # noqa: B004
    if asyncio.iscoroutinefunction(callback) or asyncio.iscoroutinefunction(call):
        return await callback(*args)
    loop = asyncio.get_running_loop()
    outcome = await loop.run_in_executor(None, functools.partial(callback, *args))
    if hasattr(outcome, "__await__"):
        return await outcome  # a plain function that returned an awaitable
    return outcome


class Callbacks:
    """The callbacks of one caller, and the capabilities they declare.

    Args:
        sampling_callback: answers ``sampling/createMessage`` with ``callback(params)``.
        elicitation_callback: answers ``elicitation/create`` (form and URL modes).
        list_roots_callback: returns the roots (``callback()``).
        roots: fixed roots, instead of ``list_roots_callback``.
        logging_callback: receives the params of each ``notifications/message``.
        message_handler: receives every notification as ``{"method", "params"}``.

    Raises:
        TypeError: a callback cannot be called the way mcp_stdio calls it.
    """

    __slots__ = ("sampling", "elicitation", "list_roots", "roots", "logging", "message", "requests",
                 "_capabilities")

    def __init__(self, *, sampling_callback: RequestCallback | None = None,
                 elicitation_callback: RequestCallback | None = None,
                 list_roots_callback: RootsCallback | None = None, roots: Any = None,
                 logging_callback: NotificationCallback | None = None,
                 message_handler: NotificationCallback | None = None) -> None:
        for callback, name, arguments in ((sampling_callback, "sampling_callback", ("params",)),
                                          (elicitation_callback, "elicitation_callback", ("params",)),
                                          (logging_callback, "logging_callback", ("params",)),
                                          (message_handler, "message_handler", ("notification",))):
            if callback is not None:
                check_callback(callback, name, arguments)
        if list_roots_callback is not None:
            check_callback(list_roots_callback, "list_roots_callback", ())
            if roots is not None:
                raise TypeError("give either roots or list_roots_callback, not both")
        self.sampling = sampling_callback
        self.elicitation = elicitation_callback
        self.list_roots = list_roots_callback
        self.roots = normalize_roots(roots) if roots is not None else None
        self.logging = logging_callback
        self.message = message_handler
        # Extra request handlers (set_request_handler), method -> callback(params).
        self.requests: dict[str, RequestCallback] | None = None
        self._capabilities: dict | None = None

    def capabilities(self) -> dict:
        """Return the capabilities these callbacks declare (cached until they change)."""
        if self._capabilities is None:
            capabilities: dict = {}
            if self.roots is not None or self.list_roots is not None:
                capabilities["roots"] = {"listChanged": True}
            if self.sampling is not None:
                capabilities["sampling"] = {}
            if self.elicitation is not None:
                capabilities["elicitation"] = {"form": {}, "url": {}}
            tasks: dict[str, dict] = {area: {name: {}} for method, (area, name) in TASK_METHODS.items()
                                      if self.handles(method)}
            if tasks:
                # MCP 2025-11-25, basic/utilities/tasks: task augmentation "is subject to
                # capability negotiation".
                capabilities["tasks"] = {"list": {}, "cancel": {}, "requests": tasks}
            self._capabilities = capabilities
        return self._capabilities

    def set_request_handler(self, method: str, handler: RequestCallback | None) -> None:
        """Answer the server's ``method`` requests with ``handler(params)``; ``None`` removes it."""
        if handler is None:
            if self.requests:
                self.requests.pop(method, None)
        else:
            check_callback(handler, f"the handler of {method}", ("params",))
            if self.requests is None:
                self.requests = {}
            self.requests[method] = handler
        self._capabilities = None

    def set_roots(self, roots: Any) -> None:
        """Serve these roots from now on (instead of the callback, if there was one)."""
        self.roots = normalize_roots(roots)
        self.list_roots = None

    def handles(self, method: str) -> bool:
        """Return whether a callback answers ``method``."""
        return self._handler(method) is not None

    async def answer(self, method: str, params: dict, version: str | None) -> Any:
        """Answer the server's request ``method`` with the callback; return the checked result.

        Raises:
            RequestError: no callback handles ``method`` (-32601), the callback raised
                (its own RequestError, or -32603 naming the exception), or it returned an
                invalid result (-32603; logged as a WARNING naming the callback and field).
        """
        handler = self._handler(method)
        if handler is None:
            raise RequestError(METHOD_NOT_FOUND, f"Method not found: {method}")
        name = CALLBACK_NAMES.get(method, f"the handler of {method}")
        try:
            if handler is _FIXED_ROOTS:
                result: Any = self.roots
            elif method == "roots/list":
                result = normalize_roots(await call_request_handler(handler))
            else:
                result = to_json(await call_request_handler(handler, params))
        except RequestError:
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("%s raised while answering %s", name, method)
            raise RequestError(INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"[:300]) from exc
        if result is None:
            result = {}
        if version is not None and shapes.method_info(version, method) is not None:
            problems = shapes.check_result(version, method, result)
            if problems:
                logger.warning("%s returned an invalid %s result, not sent (the server gets an error): %s",
                               name, method, "; ".join(problems))
                raise RequestError(INTERNAL_ERROR, f"the client's {method} handler returned an invalid result")
        return result

    def _handler(self, method: str) -> Any:
        if self.requests and method in self.requests:
            return self.requests[method]
        if method == "sampling/createMessage":
            return self.sampling
        if method == "elicitation/create":
            return self.elicitation
        if method == "roots/list":
            if self.list_roots is not None:
                return self.list_roots
            return _FIXED_ROOTS if self.roots is not None else None
        return None


def _fixed_roots() -> None:  # a marker: answer roots/list with Callbacks.roots
    return None


_FIXED_ROOTS = _fixed_roots

# The requests of the server that a client runs as tasks when asked (2025-11-25), by method.
TASK_METHODS = {"sampling/createMessage": ("sampling", "createMessage"),
                "elicitation/create": ("elicitation", "create")}
