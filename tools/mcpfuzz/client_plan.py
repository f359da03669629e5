"""The plans of the client target: what one iteration does, drawn from its seed.

A :class:`Plan` holds the era (the handshake, with the version the peer negotiates, or
2026-07-28; sometimes reached through the era probe of ``protocol="auto"``), the client's
options and callbacks, the requests the driver makes (:class:`Call`) with short timeouts,
some cancelled by the driver, and the frames the peer sends (:class:`Frame`): answers to
the driver's requests (valid, with a field of the wrong type, with a broken envelope,
twice, with an id of another type), notifications of every kind (progress, message,
cancelled, list_changed, resources/updated, subscriptions/acknowledged,
elicitation/complete, tasks/status, unknown ones; valid or mutated, with ``_meta`` of every
type), requests of the server (ping, sampling, elicitation, roots, tasks/*) with ids of
every JSON type, input_required rounds with mutated input requests, output schemas meant
to break the checker, batches, non-standard JSON and junk lines, several messages per
chunk, and chunks cut anywhere (down to one byte at a time).

What a plan cannot know (the ids the client will choose, its progress tokens, its
subscriptions, the tasks it will create) is a :class:`~.values.Ref`, resolved by the peer.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

from .values import Raw, Ref, Schemas, dumps, hostile, hostile_id, mutate, text

__all__ = ["Call", "Frame", "Plan", "make_plan", "HANDSHAKE_VERSIONS", "MODERN", "JUNK"]

HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
MODERN = "2026-07-28"
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"
SERVER_INFO = "io.modelcontextprotocol/serverInfo"

TOOL_NAMES = ("echo", "weather", "a")
URIS = ("file:///a.txt", "reference://readme", "x")
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


# Junk lines: none is a JSON-RPC message, each must be counted in invalid_messages.
JUNK = (b"{", b"}", b"[", b"]", b"null", b"true", b"1", b'"x"', b"[]", b"{}", b"[1,2]", b'{"jsonrpc":"2.0"}',
        b"\xff\xfe", b"\xc3", b"\x00", b"{\"a\":1", b'{"jsonrpc":"2.0","id":1,"result":{}', b"NaN", b"Infinity",
        b"\xef\xbb\xbf{", b'{"jsonrpc":"2.0","method":1}', b'{"id":{}}', b"\x1b[2J", "\u2028".encode(),
        b'{"jsonrpc":"2.0","method":"x","params":[1]}')


@dataclass
class Call:
    """One request of the driver."""

    at: float  # seconds after the start
    api: str  # the Client method
    args: tuple
    kwargs: dict
    timeout: float
    wire: str  # the method on the wire
    rounds: int  # round trips it may take (pages, input rounds, a version retry)
    cancel_after: float | None = None
    progress: bool = False


@dataclass
class Frame:
    """Messages the peer sends together, cut into chunks."""

    delay: float
    messages: list  # ("json", value, ascii, line_end) or ("raw", bytes, line_end)
    chunking: str  # "whole", "lines", "cuts", "bytes"
    cuts: list = field(default_factory=list)  # fractions of the blob, for "cuts"
    yield_between: bool = False


@dataclass
class Plan:
    """Everything an iteration does, drawn from its seed before it runs."""

    iteration: int
    seed: int
    era: str  # "handshake" or MODERN
    version: str
    options: dict
    callbacks: dict  # name -> "async", "sync", "invalid", "slow"
    start: Frame
    start_mutated: bool
    calls: list
    frames: list
    ignore_every: int  # 0: the sweep answers everything; k: it skips every k-th request
    oversized_at: int | None = None  # index of the frame that sends a line over the limit
    exit_after: int | None = None  # index of the frame after which the server exits
    protocol: str = ""  # the client's protocol option: the era's, or "auto" (the era probe)
    probe_answer: str = "refuse"  # "auto" in the handshake era: refuse server/discover, or stay silent

    def messages_text(self) -> list:
        """Return the messages of the plan as text (references unresolved): the plan's
        "message sequence", the same for the same seed."""
        out = []
        for frame in [self.start] + self.frames:
            for message in frame.messages:
                if message[0] == "json":
                    out.append(dumps(message[1], ascii=message[2]))
                else:
                    out.append(message[1].decode("utf-8", "backslashreplace"))
        return out

    def digest(self) -> str:
        data = json.dumps([self.era, self.version, sorted(self.options.items(), key=str), self.callbacks,
                           [(c.at, c.api, repr(c.args), repr(c.kwargs), c.timeout, c.cancel_after, c.progress)
                            for c in self.calls], self.ignore_every], default=repr)
        data += "\n".join(self.messages_text())
        return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()

    def count(self) -> int:
        """Return how many messages the plan sends (a batch counts its elements)."""
        total = 0
        for frame in [self.start] + self.frames:
            for message in frame.messages:
                value = message[1]
                total += len(value) if message[0] == "json" and type(value) is list and value else 1
        return total


# Plans


def capabilities(version: str) -> dict:
    """Return server capabilities that let the driver make every request of ``version``."""
    caps: dict = {"tools": {"listChanged": True}, "resources": {"subscribe": True, "listChanged": True},
                  "prompts": {"listChanged": True}, "logging": {}}
    if version >= "2025-03-26":
        caps["completions"] = {}
    if version == "2025-11-25":
        caps["tasks"] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
    return caps


def start_result(rng: random.Random, era: str, version: str) -> dict:
    """Return a valid answer to ``initialize`` or ``server/discover``."""
    info = {"name": "fuzz-peer", "version": "1"}
    if era == MODERN:
        result: dict = {"resultType": "complete", "supportedVersions": [MODERN], "capabilities": capabilities(MODERN),
                        "ttlMs": rng.choice((0, 1000)), "cacheScope": "public", "_meta": {SERVER_INFO: info}}
    else:
        result = {"protocolVersion": version, "capabilities": capabilities(version), "serverInfo": info}
    if rng.random() < 0.3:
        result["instructions"] = text(rng)
    return result


class _PlanMaker:
    def __init__(self, rng: random.Random, plan: Plan) -> None:
        self.rng = rng
        self.plan = plan
        self.schemas = Schemas(plan.version)
        self.next_server_id = 1
        self.server_ids: list = []

    # The driver's requests

    def calls(self) -> list:
        rng, version, modern = self.rng, self.plan.version, self.plan.era == MODERN
        apis = ["ping", "list_tools", "call_tool", "call_tool", "read_resource", "get_prompt", "complete",
                "list_prompts", "list_resources", "list_resource_templates", "request"]
        if modern:
            apis += ["listen", "listen", "call_tool"]
        else:
            apis += ["subscribe_resource", "set_logging_level"]
            if version == "2025-11-25":
                apis += ["get_task", "list_tasks", "get_task_result", "cancel_task", "call_tool_task"]
        calls = []
        for _ in range(rng.randint(1, 8)):
            api = rng.choice(apis)
            timeout = rng.choice((0.05, 0.1, 0.2, 0.3, 0.5))
            at = rng.choice((0.0, 0.0, 0.0, 0.002, 0.01, 0.02))
            call = self._call(api, at, timeout)
            if rng.random() < 0.1:
                call.cancel_after = rng.choice((0.0, 0.001, 0.01, 0.05))
            calls.append(call)
        return calls

    def _call(self, api: str, at: float, timeout: float) -> Call:
        rng, modern = self.rng, self.plan.era == MODERN
        max_pages = self.plan.options["max_pages"]
        rounds_input = (self.plan.options["max_input_rounds"] + 1) * 2 if modern else 1
        if api == "ping":
            return Call(at, api, (), {"timeout": timeout}, timeout, "server/discover" if modern else "ping", 2)
        if api.startswith("list_"):
            wire = {"list_tools": "tools/list", "list_prompts": "prompts/list", "list_resources": "resources/list",
                    "list_resource_templates": "resources/templates/list", "list_tasks": "tasks/list"}[api]
            return Call(at, api, (), {"timeout": timeout}, timeout, wire, max_pages * 2)
        if api in ("call_tool", "call_tool_task"):
            arguments = {"text": text(rng)} if rng.random() < 0.8 else {}
            kwargs: dict = {"timeout": timeout}
            progress = rng.random() < 0.5
            if progress and rng.random() < 0.5:
                kwargs["reset_timeout_on_progress"] = True
                kwargs["max_total_timeout"] = timeout * 2
            if api == "call_tool_task":
                kwargs["task"] = {"ttl": rng.choice((0, 1000, 60000))}
            call = Call(at, "call_tool", (rng.choice(TOOL_NAMES), arguments), kwargs, timeout, "tools/call",
                        rounds_input * (2 if progress and "max_total_timeout" in kwargs else 1), progress=progress)
            return call
        if api == "read_resource":
            return Call(at, api, (rng.choice(URIS),), {"timeout": timeout}, timeout, "resources/read", rounds_input)
        if api == "get_prompt":
            arguments = {"name": "x"} if rng.random() < 0.5 else None
            return Call(at, api, ("greeting", arguments), {"timeout": timeout}, timeout, "prompts/get", rounds_input)
        if api == "complete":
            ref = {"type": "ref/prompt", "name": "greeting"} if rng.random() < 0.5 else \
                {"type": "ref/resource", "uri": "file:///{x}"}
            return Call(at, api, (ref, {"name": "language", "value": "py"}), {"timeout": timeout}, timeout,
                        "completion/complete", 2)
        if api == "request":
            return Call(at, api, ("x/custom", {"a": 1} if rng.random() < 0.5 else None), {"timeout": timeout},
                        timeout, "x/custom", 2)
        if api == "listen":
            kwargs = {"timeout": timeout}
            for key in ("tools", "prompts", "resources"):
                if rng.random() < 0.5:
                    kwargs[key] = True
            if rng.random() < 0.5 or len(kwargs) == 1:
                kwargs["resource_uris"] = [rng.choice(URIS)]
            return Call(at, api, (), kwargs, timeout, "subscriptions/listen", 1)
        if api == "subscribe_resource":
            return Call(at, api, (rng.choice(URIS),), {"timeout": timeout}, timeout, "resources/subscribe", 1)
        if api == "set_logging_level":
            return Call(at, api, (rng.choice(LOG_LEVELS),), {"timeout": timeout}, timeout, "logging/setLevel", 1)
        if api in ("get_task", "get_task_result", "cancel_task"):
            wire = {"get_task": "tasks/get", "get_task_result": "tasks/result", "cancel_task": "tasks/cancel"}[api]
            return Call(at, api, (rng.choice(("t1", "t2", "")),), {"timeout": timeout}, timeout, wire, 1)
        raise ValueError(api)

    # The peer's messages

    def frames(self, calls: list) -> list:
        rng = self.rng
        wires = sorted({call.wire for call in calls})
        frames = []
        for _ in range(rng.choice((0, 1, 2, 3, 4, 6, 10))):
            messages = [self.message(wires) for _ in range(rng.choice((1, 1, 2, 3, 5, 8)))]
            frames.append(self.frame(messages, rng.choice((0.0, 0.0, 0.0, 0.001, 0.005, 0.02))))
        return frames

    def frame(self, messages: list, delay: float) -> Frame:
        rng = self.rng
        chunking = rng.choice(("whole", "whole", "lines", "cuts", "cuts", "bytes"))
        cuts = sorted(rng.random() for _ in range(rng.randint(1, 6))) if chunking == "cuts" else []
        return Frame(delay, messages, chunking, cuts, rng.random() < 0.3)

    def wrap(self, value: Any) -> tuple:
        rng = self.rng
        return ("json", value, rng.random() < 0.3, rng.choice((b"\n", b"\n", b"\n", b"\r\n")))

    def message(self, wires: list) -> tuple:
        rng = self.rng
        choice = rng.random()
        if choice < 0.35 and wires:
            return self.wrap(self.answer(rng.choice(wires)))
        if choice < 0.6:
            return self.wrap(self.notification(wires))
        if choice < 0.75:
            return self.wrap(self.server_request())
        if choice < 0.85:
            return ("raw", rng.choice(JUNK), rng.choice((b"\n", b"\r\n")))
        if choice < 0.92:
            size = rng.randint(1, 4)
            items = [self.answer(rng.choice(wires)) if wires and rng.random() < 0.4 else
                     self.notification(wires) if rng.random() < 0.5 else self.server_request() for _ in range(size)]
            if rng.random() < 0.2:
                items.append(hostile(rng))
            return self.wrap(items)
        # An answer to an id that is not pending, of any type.
        return self.wrap({"jsonrpc": "2.0", "id": hostile_id(rng), "result": {}} if rng.random() < 0.7 else
                         {"jsonrpc": "2.0", "id": hostile_id(rng), "error": {"code": -32603, "message": "x"}})

    def answer(self, wire: str) -> Any:
        rng, schemas = self.rng, self.schemas
        ref = Ref(f"req:{wire}", rng.randrange(3))
        choice = rng.random()
        if wire == "x/custom":
            result: Any = hostile(rng) if rng.random() < 0.5 else {"ok": True}
        elif wire in schemas.methods:
            task = wire == "tools/call" and self.plan.version == "2025-11-25" and rng.random() < 0.3
            result = schemas.result(rng, wire, task=task)
            if wire == "tools/list" and type(result) is dict:
                choice = rng.random()
                if choice < 0.4:
                    result = self.hostile_tools(result)
                elif choice < 0.8:
                    result = self.usual_tools(result)
            if wire == "tools/call" and not task and type(result) is dict and rng.random() < 0.4:
                # What the hostile output schemas of hostile_tools() choke on.
                result["structuredContent"] = rng.choice((
                    {"a": "a" * 28 + "!"}, {"a": list(range(20_000))}, {"a": [[i] for i in range(5000)]},
                    {"a": 1e308}, {"a": 10 ** 400}, {"a": 0.3}, {"a": Raw("1e999")}, {"a": "a"}, [], "x", None))
        else:
            result = {}
        if self.plan.era == MODERN and wire in ("tools/call", "prompts/get", "resources/read") and choice < 0.3:
            result = self.input_required()
        if self.plan.era == MODERN and wire == "subscriptions/listen" and choice < 0.5:
            # The server ends the stream by answering it.
            result = schemas.result(rng, wire)
            if type(result) is dict and type(result.get("_meta")) is dict:
                result["_meta"][SUBSCRIPTION_ID] = ref
        message: Any = {"jsonrpc": "2.0", "id": ref, "result": result}
        kind = rng.random()
        if kind < 0.35:
            message["result"] = mutate(rng, result) if type(result) in (dict, list) and result else hostile(rng)
        elif kind < 0.45:
            error: Any = {"code": rng.choice((-32601, -32602, -32603, -32002, -32022, -32042, 1, 0)),
                          "message": text(rng)}
            if rng.random() < 0.5:
                error["data"] = {"supported": [MODERN, "x"]} if rng.random() < 0.5 else hostile(rng)
            if rng.random() < 0.4:
                error = mutate(rng, error)
            message = {"jsonrpc": "2.0", "id": ref, "error": error}
        elif kind < 0.55:
            message = mutate(rng, message)  # the envelope: jsonrpc, id, result, error
        elif kind < 0.6:
            message["id"] = rng.choice((Raw(f'"{ref.index + 1}"'), 1.0, True, [ref]))  # another type
        return message

    def usual_tools(self, result: dict) -> dict:
        """A tools/list result naming the tools the driver calls, with ordinary output
        schemas (so that call_tool checks structured results the usual way)."""
        rng = self.rng
        schemas = [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"type": "object", "properties": {"a": {"type": "number", "multipleOf": 0.1}}},
            {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"},
                                                    "uniqueItems": True}}},
            {"type": "object", "additionalProperties": False},
            {"type": "object"},
        ]
        tools = []
        for name in TOOL_NAMES:
            tool: dict = {"name": name, "inputSchema": {"type": "object"}}
            if rng.random() < 0.7 and self.plan.version >= "2025-06-18":
                tool["outputSchema"] = rng.choice(schemas)
            tools.append(tool)
        return dict(result, tools=tools)

    def hostile_tools(self, result: dict) -> dict:
        """A tools/list result whose tools have output schemas meant to break the checker."""
        rng = self.rng
        schemas = [
            {"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}},
            {"type": "object", "properties": {"a": {"type": "array", "uniqueItems": True}}},
            {"type": "object", "$ref": "#"},
            {"type": "object", "properties": {"a": {"$ref": "#/properties/a"}}},
            {"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}},
            {"type": "object", "properties": {"a": {"type": "number", "multipleOf": 0}}},
            {"type": "object", "properties": {"a": {"type": "number", "multipleOf": Raw("1e-400")}}},
            {"type": "object", "properties": {"a": {"type": 5, "minimum": "x", "required": "a"}}},
            {"type": "object", "properties": {"a": {"$ref": "http://example.com/s.json"}}},
            {"type": "object", "required": [{}], "properties": []},
            {"type": "object", "properties": {"a": Raw('{"items":' * 900 + "{}" + "}" * 900)}},
            {"type": "object", "allOf": [{"$ref": "#/allOf/0"}]},
        ]
        tools = [{"name": name, "inputSchema": {"type": "object"}, "outputSchema": rng.choice(schemas)}
                 for name in TOOL_NAMES]
        return dict(result, tools=tools) if type(result) is dict else {"tools": tools}

    def input_required(self) -> dict:
        rng, schemas = self.rng, self.schemas
        requests: dict = {}
        for index in range(rng.randint(1, 3)):
            method = rng.choice(("sampling/createMessage", "elicitation/create", "roots/list", "x/unknown"))
            params = schemas.params(rng, method) if method in schemas.methods else {}
            request: Any = {"method": method}
            if params is not None:
                request["params"] = params
            requests[f"k{index}"] = request
        result: dict = {"resultType": "input_required", "inputRequests": requests}
        if rng.random() < 0.7:
            result["requestState"] = text(rng)
        if rng.random() < 0.5:
            result = mutate(rng, result)
        return result

    def notification(self, wires: list) -> Any:
        rng, schemas, modern = self.rng, self.schemas, self.plan.era == MODERN
        methods = schemas.method_names("notification", "server") + ["notifications/x", "x/y"]
        method = rng.choice(methods)
        params: Any = schemas.params(rng, method) if method in schemas.methods else \
            {"_meta": {SUBSCRIPTION_ID: Ref("sub", 0)}} if rng.random() < 0.5 else {}
        if params is None:
            params = {}
        if method == "notifications/progress":
            params["progressToken"] = Ref("token", rng.randrange(3)) if rng.random() < 0.8 else hostile_id(rng)
            params["progress"] = rng.choice((0, 1, 2, 0.5, 10 ** 6, -1, 1e308))
        elif method == "notifications/cancelled":
            params["requestId"] = Ref("srv", rng.randrange(3)) if rng.random() < 0.6 else hostile_id(rng)
        elif method == "notifications/subscriptions/acknowledged":
            params.setdefault("_meta", {})
        elif method == "notifications/tasks/status":
            params["taskId"] = Ref("task", rng.randrange(2))
        if modern and type(params) is dict and rng.random() < 0.6:
            meta = params.get("_meta") if type(params.get("_meta")) is dict else {}
            params["_meta"] = dict(meta, **{SUBSCRIPTION_ID: Ref("sub", rng.randrange(2))})
        message: Any = {"jsonrpc": "2.0", "method": method, "params": params}
        choice = rng.random()
        if choice < 0.4:
            message["params"] = mutate(rng, params) if params else hostile(rng)
        elif choice < 0.5:
            message = mutate(rng, message)
        elif choice < 0.55:
            del message["params"]
        elif choice < 0.65 and type(params) is dict:
            params["_meta"] = hostile(rng)
        return message

    def server_request(self) -> Any:
        rng, schemas = self.rng, self.schemas
        methods = ["ping", "sampling/createMessage", "elicitation/create", "roots/list", "x/unknown"]
        if self.plan.version == "2025-11-25":
            methods += ["tasks/get", "tasks/result", "tasks/list", "tasks/cancel"]
        method = rng.choice(methods)
        info = schemas.methods.get(method)
        params: Any = schemas.params(rng, method) if info is not None and info["params"] else None
        if method.startswith("tasks/") and method != "tasks/list":
            params = {"taskId": Ref("task", rng.randrange(2)) if rng.random() < 0.8 else hostile(rng)}
        if method in ("sampling/createMessage", "elicitation/create") and self.plan.version == "2025-11-25" \
                and type(params) is dict and rng.random() < 0.3:
            params["task"] = {"ttl": rng.choice((1000, 0))} if rng.random() < 0.7 else hostile(rng)
        choice = rng.random()
        if choice < 0.6:
            msg_id: Any = self.next_server_id
            self.next_server_id += 1
        elif choice < 0.8:
            msg_id = hostile_id(rng)
        elif choice < 0.9:
            msg_id = Ref("srv", rng.randrange(3))  # a duplicate of an earlier one, maybe in flight
        else:
            msg_id = Ref("req:*", rng.randrange(3))  # the id of a request of the client
        message: Any = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        if rng.random() < 0.4:
            message = mutate(rng, message)
        return message


def make_plan(seed: int, iteration: int, *, era: str | None = None) -> Plan:
    """Return the plan of iteration ``iteration`` of ``seed`` (a pure function of both)."""
    rng = random.Random(f"client:{seed}:{iteration}")
    era = era or (MODERN if rng.random() < 0.4 else "handshake")
    version = MODERN if era == MODERN else rng.choice(HANDSHAKE_VERSIONS)
    options = {
        "timeout": rng.choice((0.1, 0.3)),
        "startup_timeout": 1.0,
        "close_timeout": rng.choice((0.05, 0.2)),
        "exit_timeout": 0.2,
        "terminate_timeout": 0.2,
        "max_pages": rng.choice((1, 2, 3)),
        "max_input_rounds": rng.choice((1, 2)),
        "max_concurrent_handlers": rng.choice((1, 4, 16)),
        "validation_timeout": 0.2,
        "refresh_on_list_changed": rng.random() < 0.3,
        "cache_results": rng.random() < 0.5,
        "max_queued_notifications": rng.choice((3, 10_000)),
    }
    if rng.random() < 0.1:
        options["max_message_size"] = rng.choice((512, 4096))
    callbacks = {name: rng.choice(("async", "async", "sync", "invalid", "slow", "none"))
                 for name in ("sampling", "elicitation", "roots", "logging", "message")}
    plan = Plan(iteration, seed, era, version, options, callbacks, Frame(0.0, [], "whole"), False, [], [],
                rng.choice((0, 0, 0, 0, 2, 3)))
    plan.protocol = "auto" if rng.random() < 0.15 else "handshake" if era == "handshake" else MODERN
    plan.probe_answer = rng.choice(("refuse", "refuse", "silent"))
    if plan.protocol == "auto":
        options["probe_timeout"] = 0.05
    maker = _PlanMaker(rng, plan)
    plan.calls = maker.calls()
    plan.frames = maker.frames(plan.calls)
    # The start: the answer, maybe mutated, maybe after other messages in the same chunk.
    first = "server/discover" if era == MODERN else "initialize"
    answer: Any = {"jsonrpc": "2.0", "id": Ref(f"req:{first}", 0), "result": start_result(rng, era, version)}
    before: list = []
    if rng.random() < 0.15:
        plan.start_mutated = True
        answer = mutate(rng, answer) if rng.random() < 0.5 else dict(answer, result=mutate(rng, answer["result"]))
    if rng.random() < 0.2:
        before = [maker.message([]) for _ in range(rng.randint(1, 3))]
    after = [maker.message([]) for _ in range(rng.randint(1, 2))] if rng.random() < 0.2 else []
    plan.start = maker.frame(before + [maker.wrap(answer)] + after, 0.0)
    special = rng.random()
    if special < 0.015:
        # A storm of the server's requests in one chunk (handler bounds, close() under load).
        methods = ("roots/list", "ping", "sampling/createMessage", "elicitation/create", "x/unknown")
        storm = []
        for _ in range(rng.choice((200, 1000, 3000))):
            method = rng.choice(methods)
            request: dict = {"jsonrpc": "2.0", "id": maker.next_server_id, "method": method}
            maker.next_server_id += 1
            if method in maker.schemas.methods and maker.schemas.methods[method]["params"]:
                request["params"] = maker.schemas.params(rng, method)
            storm.append(("json", request, False, b"\n"))
        plan.frames.insert(rng.randrange(len(plan.frames) + 1), Frame(0.0, storm, "whole"))
    elif special < 0.03:
        # A flood of list_changed: refreshes must coalesce (one in flight per list).
        options["refresh_on_list_changed"] = True
        kinds = ("tools", "prompts", "resources")
        flood = [("json", {"jsonrpc": "2.0", "method": f"notifications/{rng.choice(kinds)}/list_changed"}, False,
                  b"\n") for _ in range(rng.choice((50, 500, 2000)))]
        plan.frames.insert(rng.randrange(len(plan.frames) + 1), Frame(0.0, flood, rng.choice(("whole", "lines"))))
    elif special < 0.08 and plan.frames:
        plan.exit_after = rng.randrange(len(plan.frames))  # the server exits with requests in flight
    if "max_message_size" in options and plan.frames and rng.random() < 0.5:
        index = rng.randrange(len(plan.frames))
        plan.frames[index].messages.append(maker.wrap({"jsonrpc": "2.0", "method": "notifications/message",
                                                       "params": {"level": "info",
                                                                  "data": "z" * options["max_message_size"]}}))
        plan.oversized_at = index
    return plan
