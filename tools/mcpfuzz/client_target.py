"""The client target: the whole :class:`mcp_stdio.Client` against a peer that sends
mutated server messages.

One iteration is one connection, planned from ``random.Random(f"client:{seed}:{i}")``:

* a :class:`Plan`: the era (handshake, with a negotiated version, or 2026-07-28), the
  client's options and callbacks, the requests the driver makes (``call_tool``,
  ``list_tools``, ``read_resource``, ``get_prompt``, ``complete``, ``ping``, ``listen``,
  tasks...) with short timeouts, some cancelled by the driver, and the frames the peer
  sends: answers to the driver's requests (valid, with a field of the wrong type, with a
  broken envelope, twice, with an id of another type), notifications of every kind
  (progress, message, cancelled, list_changed, resources/updated,
  subscriptions/acknowledged, elicitation/complete, tasks/status, unknown ones, each valid
  or mutated, with ``_meta`` of every type), requests of the server (ping, sampling,
  elicitation, roots, tasks/*) with ids of every JSON type, input_required rounds with
  mutated input requests, batches, non-standard JSON and junk lines, several messages per
  chunk, and chunks cut anywhere (down to one byte at a time);
* the peer (:class:`Peer`) sends the frames, resolving the references a plan cannot know
  (the ids the client chose, its progress tokens, its subscriptions, the tasks it
  created), then answers every request still unanswered with a valid result, so that the
  iteration ends soon (unless the plan leaves some unanswered, to test the timeouts);
* the driver (:func:`run_iteration`) runs the requests concurrently and checks the
  promises listed in :func:`run_iteration`.

The peer runs in memory (``tests/memory.py``) or, with ``subprocess=True``, in a child
process (``tools/mcpfuzz/scripted_server.py SEED ITERATION``) that makes the same plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from .common import MAX_LAG, Finding, Monitor, brief
from .values import Dup, Raw, Ref, Schemas, dumps, hostile, hostile_id, mutate, text

__all__ = ["Plan", "make_plan", "Peer", "run_iteration", "HANDSHAKE_VERSIONS", "MODERN"]

HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
MODERN = "2026-07-28"
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"
SERVER_INFO = "io.modelcontextprotocol/serverInfo"

TOOL_NAMES = ("echo", "weather", "a")
URIS = ("file:///a.txt", "reference://readme", "x")
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")

# Seconds a request may overrun its bound (its timeout times the number of round trips it
# may take) before it is a finding: the loop's own scheduling, a worker thread's start.
SLACK = 0.5
# Seconds of CPU the client's reader may take per MiB of a chunk, on top of MAX_LAG (about
# 20 MB/s: json.loads alone reads 50 MB/s of escaped text on a slow machine).
LAG_PER_MIB = 0.05
# Seconds the peer waits for a request of the client that a frame refers to.
REF_WAIT = 0.05

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
    cancel_after: Optional[float] = None
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
    oversized_at: Optional[int] = None  # index of the frame that sends a line over the limit
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


def make_plan(seed: int, iteration: int, *, era: Optional[str] = None) -> Plan:
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
    if "max_message_size" in options and plan.frames and rng.random() < 0.5:
        index = rng.randrange(len(plan.frames))
        plan.frames[index].messages.append(maker.wrap({"jsonrpc": "2.0", "method": "notifications/message",
                                                       "params": {"level": "info",
                                                                  "data": "z" * options["max_message_size"]}}))
        plan.oversized_at = index
    return plan


# The peer


def _strict(line: bytes) -> Any:
    """Decode a line as the library documents it (RFC 8259 only; NaN, infinities and
    numbers beyond a double refused); raise ValueError if it cannot."""
    if line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    return json.loads(line.decode("utf-8"), parse_constant=_refuse, parse_float=_finite)


class _NonStandard(ValueError):
    pass


def _refuse(name: str) -> Any:
    raise _NonStandard(name)


def _finite(text: str) -> float:
    value = float(text)
    if value - value != 0.0:
        raise _NonStandard(text)
    return value


def definitive_answer_id(line: bytes) -> list:
    """Return the integer ids that ``line`` answers beyond doubt: a JSON object (or batch
    elements) without ``method`` whose ``id`` is an integer. Such an answer must end its
    request at once (a result, or an error when it is malformed), never by a timeout.

    A top-level object refused only for a non-standard number still counts: the library
    reads its id leniently (mcp_stdio.jsonrpc, "_lenient_answer_id").
    """
    try:
        value = _strict(line.rstrip(b"\r"))
    except _NonStandard:
        try:
            value = json.loads(line.rstrip(b"\r").decode("utf-8"))
        except (ValueError, RecursionError):
            return []
        if type(value) is not dict:
            return []
    except (ValueError, RecursionError, UnicodeDecodeError):
        return []
    items = value if type(value) is list else [value]
    return [item["id"] for item in items
            if type(item) is dict and "method" not in item and type(item.get("id")) is int]


def _scrub(value: Any) -> Any:
    """Lone surrogates become U+FFFD, as the library reads them (its documented rule)."""
    if type(value) is str:
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    return value


def _key(value: Any) -> Any:
    """A hashable key for an id of any JSON type (1, 1.0 and True stay apart)."""
    return (type(value).__name__, json.dumps(value, sort_keys=True) if type(value) in (list, dict) else _scrub(value))


class Peer:
    """The server side: sends a plan's frames to the client and checks what it writes.

    Args:
        plan: the iteration's plan.
        io: ``write(bytes)``, ``lines()`` (the client's lines written since the last call),
            ``async wait(timeout)`` (until the client writes something), ``connected``.
        done: set by the driver when it has nothing more to ask.
    """

    def __init__(self, plan: Plan, io: Any, done: Optional[asyncio.Event] = None,
                 monitor: Optional[Monitor] = None) -> None:
        self.plan = plan
        self.monitor = monitor
        self.io = io
        self.done = done
        self.rng = random.Random(f"client-peer:{plan.seed}:{plan.iteration}")
        self.schemas = Schemas(plan.version)
        self.requests: list = []  # the client's requests, in order
        self.request_ids: set = set()
        self.by_method: dict = {}
        self.absent: set = set()  # methods waited for in vain
        self.answered: set = set()  # request ids validly answered (or cancelled by the client)
        self.definitive: dict = {}  # request id -> index of the message that answered it
        self.cancelled: set = set()  # ids the client cancelled
        self.server_ids: list = []  # ids of our requests (resolved)
        self.server_id_keys: dict = {}  # key -> times sent as a request
        self.answers: dict = {}  # key -> times the client answered
        self.tasks: list = []  # task ids the client created
        self.subs: list = []  # ids of the client's listen requests
        self.acked: set = set()
        self.sent: list = []  # every line sent, for the report
        self.messages = 0
        self.junk = 0  # junk lines delivered while the connection was up and not over the limit
        self.over_limit = False
        self.findings: list = []
        self.client_lines = 0
        self.received: list = []  # the client's first lines, for the report
        self.on_finding: Any = None  # called with (kind, detail) for each finding
        self.exact_order = getattr(io, "exact_order", True)  # see "lost answer"

    # Running

    async def run(self) -> None:
        plan = self.plan
        first = "server/discover" if plan.era == MODERN else "initialize"
        if plan.protocol == "auto" and plan.era != MODERN:
            # The era probe: server/discover first; a legacy server refuses it, or ignores it.
            await self._wait_for("server/discover", 1.0)
            if plan.probe_answer == "refuse" and self.by_method.get("server/discover"):
                probe = self.by_method["server/discover"][0]
                self.write_messages([{"jsonrpc": "2.0", "id": probe["id"],
                                      "error": {"code": -32601, "message": "Method not found"}}])
                self.answered.add(_key(probe["id"]))
        await self._wait_for(first, 1.0)
        await self.send_frame(plan.start)
        for index, frame in enumerate(plan.frames):
            if frame.delay:
                await asyncio.sleep(frame.delay)
            await self.send_frame(frame)
            if plan.oversized_at == index:
                self.over_limit = True
        await self.sweep()

    async def sweep(self) -> None:
        """Answer what is still unanswered, validly, until the driver is done."""
        while True:
            self.pump()
            for index, request in enumerate(self.requests):
                msg_id = request.get("id")
                if self.plan.ignore_every and index % self.plan.ignore_every == 0:
                    continue
                method = request.get("method")
                if method == "subscriptions/listen":
                    if index not in self.acked:
                        self.acked.add(index)
                        wanted = (request.get("params") or {}).get("notifications") or {}
                        self.write_messages([{"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                                              "params": {"_meta": {SUBSCRIPTION_ID: msg_id}, "notifications": wanted}}])
                    continue
                if _key(msg_id) in self.answered:
                    continue
                self.answered.add(_key(msg_id))
                self.write_messages([{"jsonrpc": "2.0", "id": msg_id, "result": self.valid_result(request)}])
            if self.done is not None and self.done.is_set():
                return
            if not self.io.connected:
                return
            await self.io.wait(0.02)

    def valid_result(self, request: dict) -> Any:
        method = request.get("method")
        params = request.get("params") or {}
        if method not in self.schemas.methods or self.schemas.methods[method]["kind"] != "request":
            return {}
        task = method == "tools/call" and "task" in params and self.plan.version == "2025-11-25"
        result = self.schemas.result(self.rng, method, task=task)
        if type(result) is dict:
            result.pop("nextCursor", None)  # the last page
            if method == "tools/list":
                result["tools"] = []
            if method == "server/discover":
                result["supportedVersions"] = [MODERN]
        return result

    # Sending

    async def send_frame(self, frame: Frame) -> None:
        lines = []
        for message in frame.messages:
            if message[0] == "raw":
                lines.append((message[1] + message[2], message[1].strip(b" \t\r") != b""))
                self.messages += 1
                continue
            _, value, ascii, end = message
            for ref in self._refs(value):
                await self._prepare(ref)
            self.pump()
            with self.pause():
                data = dumps(value, ascii=ascii, resolve=self.resolve).encode("utf-8", "surrogatepass")
            self.messages += len(value) if type(value) is list and value else 1
            lines.append((data + end, False))
        blob = b"".join(line for line, _ in lines)
        ends = []  # where each line ends in the blob
        position = 0
        for line, _ in lines:
            position += len(line)
            ends.append(position)
        delivered = 0
        written = 0
        for index, chunk in enumerate(self._chunks(blob, frame)):
            if index and frame.yield_between:
                await asyncio.sleep(0)
            self.pump()  # what the client wrote before this chunk (a timeout's cancellation)
            written += len(chunk)
            while delivered < len(lines) and ends[delivered] <= written:
                line, junk = lines[delivered]
                self._note(line, len(self.sent))
                if junk:
                    self._count_junk()
                self.sent.append(line)
                delivered += 1
            self.write(chunk)

    def write(self, data: bytes) -> None:
        """Deliver ``data`` to the client; its reader must not stall the loop.

        The reader's bound is :data:`MAX_LAG` plus :data:`LAG_PER_MIB` per MiB of the
        chunk: decoding and checking are linear in the size of a message, and a message of
        many MiB cannot be read in 100 ms. A chunk over 256 KiB is timed alone (the loop
        monitor does not count it).
        """
        if len(data) > 256 * 1024:
            with self.pause():
                self.io.write(data)
        else:
            self.io.write(data)
        errors = getattr(self.io, "reader_errors", None)
        while errors:
            self.finding("exception in the reader", f"the client's reader (its transport's data callback) "
                                                    f"raised, for {brief(data[:200])}: {errors.pop(0)}")
        spent = getattr(self.io, "reader_cpu", 0.0)
        bound = MAX_LAG + LAG_PER_MIB * len(data) / 2 ** 20
        if spent > bound:
            self.finding("loop stall", f"the client's reader took {spent * 1000:.0f} ms of CPU (bound "
                                       f"{bound * 1000:.0f} ms) for a chunk of {len(data)} bytes: {brief(data[:300])}")

    def pause(self) -> Any:
        return self.monitor.pause() if self.monitor is not None else contextlib.nullcontext()
    def write_messages(self, values: list) -> None:
        for value in values:
            data = dumps(value).encode("utf-8", "surrogatepass")
            self.pump()
            self._note(data, len(self.sent))
            self.messages += 1
            self.sent.append(data + b"\n")
            self.write(data + b"\n")

    def _chunks(self, blob: bytes, frame: Frame) -> list:
        if frame.chunking == "lines":
            return [line + b"\n" for line in blob.split(b"\n") if line] or [blob]
        if frame.chunking == "bytes" and len(blob) <= 4096:
            return [blob[i:i + 1] for i in range(len(blob))]
        if frame.chunking == "cuts":
            points = sorted({int(cut * len(blob)) for cut in frame.cuts} | {0, len(blob)})
            return [blob[a:b] for a, b in zip(points, points[1:]) if b > a]
        return [blob]

    def _count_junk(self) -> None:
        if self.io.connected and not self.over_limit:
            self.junk += 1

    def _note(self, data: bytes, index: int) -> None:
        """Record what line ``index`` means for the checks: our requests' ids, definitive
        answers (called just before the line is delivered, after the client's lines were read)."""
        data = data.rstrip(b"\n")
        for msg_id in definitive_answer_id(data):
            if msg_id in self.request_ids and msg_id not in self.definitive and msg_id not in self.cancelled:
                self.definitive[msg_id] = index
        try:
            decoded = json.loads(data.decode("utf-8", "surrogatepass"))
        except (ValueError, RecursionError):
            return
        for item in decoded if type(decoded) is list else [decoded]:
            if type(item) is dict and "method" in item and "id" in item:
                key = _key(item["id"])
                self.server_id_keys[key] = self.server_id_keys.get(key, 0) + 1
                if type(item["id"]) in (int, str):
                    self.server_ids.append(item["id"])

    # References

    def _refs(self, value: Any) -> list:
        found: list = []
        stack = [value]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is Ref:
                found.append(node)
            elif kind is dict:
                stack.extend(node.values())
            elif kind is list:
                stack.extend(node)
            elif kind is Dup:
                stack.extend(item for _, item in node.pairs)
        return found

    async def _prepare(self, ref: Ref) -> None:
        if ref.kind.startswith("req:"):
            method = ref.kind[4:]
            if method != "*" and not self.by_method.get(method) and method not in self.absent:
                if not await self._wait_for(method, REF_WAIT):
                    self.absent.add(method)
        elif ref.kind == "token" and not self.by_method.get("tools/call") and "tools/call" not in self.absent:
            if not await self._wait_for("tools/call", REF_WAIT):
                self.absent.add("tools/call")

    async def _wait_for(self, method: str, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.pump()
            if self.by_method.get(method):
                return True
            left = deadline - loop.time()
            if left <= 0 or not self.io.connected:
                return False
            await self.io.wait(left)

    def resolve(self, ref: Ref) -> Any:
        kind, index = ref.kind, ref.index
        if kind.startswith("req:"):
            method = kind[4:]
            pool = self.requests if method == "*" else self.by_method.get(method, [])
            if pool:
                return pool[index % len(pool)]["id"]
            return 900_000 + index
        if kind == "token":
            pool = [r for r in self.by_method.get("tools/call", [])
                    if type((r.get("params") or {}).get("_meta")) is dict and "progressToken" in r["params"]["_meta"]]
            if pool:
                return pool[index % len(pool)]["params"]["_meta"]["progressToken"]
            return 900_000 + index
        if kind == "sub":
            pool = self.by_method.get("subscriptions/listen", [])
            return pool[index % len(pool)]["id"] if pool else 900_000 + index
        if kind == "srv":
            return self.server_ids[-1 - index % len(self.server_ids)] if self.server_ids else 1
        if kind == "task":
            return self.tasks[index % len(self.tasks)] if self.tasks else f"task-{index}"
        raise ValueError(kind)

    # What the client wrote

    def pump(self) -> None:
        for line in self.io.lines():
            self.client_lines += 1
            if len(self.received) < 500:
                self.received.append(line)
            self.check_client_line(line)

    def check_client_line(self, line: bytes) -> None:
        """Check one line of the client: valid JSON-RPC, a request of a known shape, an
        answer to one of our requests (at most one per request)."""
        from mcp_stdio import jsonrpc, shapes

        parsed = jsonrpc.parse(line)
        if isinstance(parsed, (jsonrpc.InvalidMessage, jsonrpc.Batch)):
            self.finding("invalid message from the client", f"{parsed!r}: {brief(line)}")
            return
        message = json.loads(line)
        version = self.plan.version
        if isinstance(parsed, jsonrpc.Request):
            self.requests.append(message)
            self.request_ids.add(parsed.id)
            self.by_method.setdefault(parsed.method, []).append(message)
            if parsed.method != "x/custom" and parsed.method in self.schemas.methods:
                problems = shapes.check_params(version, parsed.method, parsed.params, sender="client")
                if problems:
                    self.finding("invalid request from the client", f"{parsed.method}: {problems}")
            return
        if isinstance(parsed, jsonrpc.Notification):
            if parsed.method == "notifications/cancelled":
                request_id = (parsed.params or {}).get("requestId")
                reason = (parsed.params or {}).get("reason") or ""
                if request_id in self.definitive and reason.startswith("timed out") \
                        and request_id not in self.cancelled and self.exact_order:
                    self.finding("lost answer", f"request {request_id} timed out ({reason}) although line "
                                                f"{self.definitive[request_id]} answered it: "
                                                f"{brief(self.sent[self.definitive[request_id]])}")
                if type(request_id) is int:
                    self.cancelled.add(request_id)
                    self.answered.add(_key(request_id))
            return
        # An answer to one of our requests.
        key = _key(parsed.id)
        count = self.answers[key] = self.answers.get(key, 0) + 1
        if count > self.server_id_keys.get(key, 0):
            self.finding("unasked answer", f"the client answered id {parsed.id!r} {count} times, but it was "
                                           f"asked {self.server_id_keys.get(key, 0)} times: {brief(line)}")
        if isinstance(parsed, jsonrpc.Response) and type(parsed.result) is dict:
            task = parsed.result.get("task")
            if type(task) is dict and type(task.get("taskId")) is str:
                self.tasks.append(task["taskId"])

    def finding(self, kind: str, detail: str) -> None:
        self.findings.append(Finding(kind, detail, self.plan.iteration))
        if self.on_finding is not None:
            self.on_finding(kind, detail)


# The driver


class _MemoryIO:
    """The peer's side of tests/memory.py's in-memory transport."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.reader_cpu = 0.0  # CPU seconds the client's reader took for the last chunk
        self.reader_errors: list = []  # tracebacks of exceptions that escaped the reader

    @property
    def connected(self) -> bool:
        return self.transport.connected

    def write(self, data: bytes) -> None:
        if self.transport.connected:
            self.transport.bytes_read += len(data)
            cpu = time.thread_time()
            try:
                self.transport.on_data(data)
            except Exception:  # over a pipe, asyncio's data_received would get it
                import traceback

                self.reader_errors.append(traceback.format_exc())
            self.reader_cpu = time.thread_time() - cpu

    def lines(self) -> list:
        pipe = self.transport.pipe
        lines, pipe.lines = pipe.lines, []
        if lines:
            pipe.taken()
        return lines

    async def wait(self, timeout: float) -> None:
        pipe = self.transport.pipe
        if pipe.lines:
            return
        pipe.arrived = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(pipe.arrived, timeout)
        except asyncio.TimeoutError:
            pass


class _Callbacks:
    """The driver's callbacks: they answer, and check what the client gives them."""

    def __init__(self, plan: Plan, findings: list) -> None:
        self.plan = plan
        self.findings = findings
        self.rng = random.Random(f"client-callbacks:{plan.seed}:{plan.iteration}")
        self.schemas = Schemas(plan.version)
        self.progress_seen: dict = {}
        self.version = plan.version

    def finding(self, kind: str, detail: str) -> None:
        self.findings.append(Finding(kind, detail, self.plan.iteration))

    def _check(self, method: str, params: Any) -> None:
        from mcp_stdio import shapes

        if type(params) is not dict:
            self.finding("callback got unchecked input", f"{method}: params {brief(params)}")
            return
        problems = shapes.check_params(self.version, method, params, sender="server")
        if problems:
            self.finding("callback got unchecked input", f"{method}: {problems}: {brief(params)}")

    def _answer(self, method: str) -> Any:
        mode = self.plan.callbacks[{"sampling/createMessage": "sampling", "elicitation/create": "elicitation",
                                    "roots/list": "roots"}[method]]
        if mode == "invalid":
            return hostile(self.rng)
        if method == "roots/list":
            return [{"uri": "file:///tmp", "name": "tmp"}]
        if method == "elicitation/create":
            return {"action": "decline"}
        return self.schemas.definition(self.rng, "CreateMessageResult")

    def make(self, name: str, method: str) -> Any:
        mode = self.plan.callbacks[name]
        if mode == "none":
            return None
        if mode == "sync":
            def sync(params: Any) -> Any:
                self._check(method, params)
                return self._answer(method)

            return sync

        async def answer(params: Any) -> Any:
            self._check(method, params)
            if mode == "slow":
                await asyncio.sleep(0.01)
            return self._answer(method)

        return answer

    def roots(self) -> Any:
        mode = self.plan.callbacks["roots"]
        if mode == "none":
            return None
        if mode == "sync":
            return lambda: self._answer("roots/list")

        async def roots() -> Any:
            return self._answer("roots/list")

        return roots

    def logging(self) -> Any:
        if self.plan.callbacks["logging"] == "none":
            return None

        def logged(params: Any) -> None:
            self._check("notifications/message", params)

        return logged

    def message(self) -> Any:
        from mcp_stdio import shapes

        mode = self.plan.callbacks["message"]
        if mode == "none":
            return None

        async def handler(notification: Any) -> None:
            if type(notification) is not dict or type(notification.get("method")) is not str \
                    or type(notification.get("params")) is not dict:
                self.finding("callback got unchecked input", f"message_handler: {brief(notification)}")
                return
            problems = shapes.check_params(self.version, notification["method"], notification["params"],
                                           sender="server")
            if problems:
                self.finding("callback got unchecked input", f"message_handler: {notification['method']}: "
                                                             f"{problems}")
            if mode == "slow":
                await asyncio.sleep(0.005)

        return handler

    def progress(self, call_index: int) -> Any:
        def progress(value: Any, total: Any, message: Any) -> None:
            number = (int, float)
            if type(value) not in number or value != value or (total is not None and type(total) not in number) \
                    or (message is not None and type(message) is not str):
                self.finding("callback got unchecked input", f"progress_callback{(value, total, message)!r:.200}")
                return
            last = self.progress_seen.get(call_index)
            if last is not None and value <= last:
                self.finding("callback got unchecked input", f"progress went from {last} to {value}")
            self.progress_seen[call_index] = value

        return progress


def _check_result(call: Call, result: Any) -> Optional[str]:
    """Return what is wrong with what a call returned (its documented type), or None."""
    api = call.api
    if api in ("ping", "subscribe_resource", "set_logging_level"):
        return None if result is None else f"returned {brief(result)} instead of None"
    if api == "request":
        return None
    if api == "listen":
        return None
    if type(result) is not dict:
        return f"returned {type(result).__name__} {brief(result)}"
    key = {"list_tools": "tools", "list_prompts": "prompts", "list_resources": "resources",
           "list_resource_templates": "resourceTemplates", "list_tasks": "tasks", "read_resource": "contents",
           "get_prompt": "messages"}.get(api)
    if key is not None and type(result.get(key)) is not list:
        return f"returned a result whose {key!r} is {brief(result.get(key))}"
    if api == "call_tool" and "task" not in call.kwargs and type(result.get("content")) is not list:
        return f"returned a result whose content is {brief(result.get('content'))}"
    if api == "complete" and type(result.get("completion")) is not dict:
        return f"returned a result whose completion is {brief(result.get('completion'))}"
    return None


def close_bound(options: dict) -> float:
    """The documented bound of close() (mcp_stdio.Client's docstring)."""
    return options["close_timeout"] + options["exit_timeout"] + 2 * options["terminate_timeout"] + 4


async def run_iteration(plan: Plan, monitor: Monitor, *, subprocess: bool = False) -> dict:
    """Run one iteration; return ``{"messages", "findings", "sent"}``.

    Checked (each failure is a :class:`~.common.Finding`):

    * the start ends within ``startup_timeout`` plus slack, with success or an
      ``mcp_stdio`` error;
    * every request ends within its bound (its timeout times the round trips it may take,
      plus :data:`SLACK`), with a result of its documented type or an exception of the
      ``mcp_stdio.errors`` tree (``CancelledError`` only when the driver cancelled it);
    * a request answered beyond doubt is never timed out ("lost answer");
    * callbacks only get checked input (params valid for the version, progress that is a
      number and increases);
    * every line the client writes is JSON-RPC, its requests have valid params, and it
      answers only ids it was asked, once per time asked;
    * ``invalid_messages`` grew by at least the junk lines sent;
    * ``close()`` ends within its documented bound and leaves no task behind;
    * and, by the :class:`~.common.Monitor`: no loop stall, no exception in a callback of
      the loop, no unraisable exception, no exception logged by the library.
    """
    from mcp_stdio import errors
    from mcp_stdio.client import Client

    loop = asyncio.get_running_loop()
    findings: list = []
    baseline = set(asyncio.all_tasks())
    done = asyncio.Event()
    peers: list = []
    checks = _Callbacks(plan, findings)

    def finding(kind: str, detail: str) -> None:
        findings.append(Finding(kind, detail, plan.iteration))

    options = dict(plan.options)
    import mcp_stdio.client

    mcp_stdio.client._ERAS.clear()  # the era seen for a command: each iteration starts afresh
    options.update(protocol=plan.protocol,
                   sampling_callback=checks.make("sampling", "sampling/createMessage"),
                   elicitation_callback=checks.make("elicitation", "elicitation/create"),
                   list_roots_callback=checks.roots(), logging_callback=checks.logging(),
                   message_handler=checks.message())
    if subprocess:
        from pathlib import Path

        script = Path(__file__).resolve().parent / "scripted_server.py"
        options["startup_timeout"] = 10.0
        options["env"] = {"PYTHONDONTWRITEBYTECODE": "1"}

        def on_stderr(line: str) -> None:
            if line.startswith("FINDING "):
                item = json.loads(line[8:])
                finding(item["kind"], item["detail"])
            elif "Traceback (most recent call last)" in line:
                finding("fuzzer error", "the scripted server crashed (see its stderr)")

        options["stderr_callback"] = on_stderr
        client: Any = Client([sys.executable, str(script), str(plan.seed), str(plan.iteration)], **options)
    else:
        from tests.memory import memory_client

        async def script(memory_peer: Any) -> None:
            peer = Peer(plan, _MemoryIO(memory_peer._transport), done, monitor)
            peers.append(peer)
            try:
                await peer.run()
            except Exception:  # the fuzzer's own bug: say so, never blame the client
                import traceback

                peer.finding("fuzzer error", traceback.format_exc())

        client = memory_client(script, capacity=10 ** 9, **options)
    started = loop.time()
    ok = False
    try:
        await asyncio.wait_for(client.start(), options["startup_timeout"] + SLACK + 1)
        ok = True
    except errors.MCPStdioError:
        pass
    except asyncio.TimeoutError:
        finding("start not bounded", f"start() did not end within {options['startup_timeout'] + SLACK + 1:g} s")
    except Exception as exc:
        finding("exception outside the tree", f"start() raised {type(exc).__name__}: {exc}")
    elapsed = loop.time() - started
    if elapsed > options["startup_timeout"] + SLACK:
        finding("start not bounded", f"start() took {elapsed:.2f} s (startup_timeout {options['startup_timeout']})")
    if ok:
        await _drive(plan, client, checks, finding)
    done.set()
    started = loop.time()
    try:
        await asyncio.wait_for(client.close(), close_bound(options) + 1)
    except asyncio.TimeoutError:
        finding("close not bounded", f"close() did not end within {close_bound(options):g} s")
    except BaseException as exc:
        finding("close raised", f"close() raised {type(exc).__name__}: {exc}")
    elapsed = loop.time() - started
    if elapsed > close_bound(options):
        finding("close not bounded", f"close() took {elapsed:.2f} s (bound {close_bound(options):g} s)")
    for _ in range(3):
        await asyncio.sleep(0)
    left = [task for task in asyncio.all_tasks() - baseline if task is not asyncio.current_task()
            and not task.done()]
    if left:
        finding("task left", f"{len(left)} task(s) left after close(): {brief(left, 400)}")
        for task in left:
            task.cancel()
    peer = peers[0] if peers else None
    messages = plan.count()
    sent: list = []
    received: list = []
    if peer is not None:
        received = peer.received
        findings.extend(peer.findings)
        messages = peer.messages
        sent = peer.sent
        if peer.junk and client.invalid_messages < peer.junk:
            finding("invalid message not counted", f"{peer.junk} junk lines were sent but invalid_messages is "
                                                   f"{client.invalid_messages}")
    return {"messages": messages, "findings": findings, "sent": sent, "received": received}


async def _drive(plan: Plan, client: Any, checks: _Callbacks, finding: Any) -> None:
    from mcp_stdio import errors

    loop = asyncio.get_running_loop()
    cancelled: set = set()
    outcomes: dict = {}

    async def one(index: int, call: Call) -> None:
        if call.at:
            await asyncio.sleep(call.at)
        kwargs = dict(call.kwargs)
        if call.progress:
            kwargs["progress_callback"] = checks.progress(index)
        started = loop.time()
        bound = call.timeout * call.rounds + plan.options["validation_timeout"] + SLACK

        def check_time() -> None:
            elapsed = loop.time() - started
            if elapsed > bound:
                finding("request not bounded", f"{call.api}{call.args!r:.80} took {elapsed:.2f} s "
                                               f"(timeout {call.timeout:g} s, bound {bound:.2f} s)")

        try:
            result = await getattr(client, call.api)(*call.args, **kwargs)
        except errors.MCPStdioError as exc:
            outcomes[index] = type(exc).__name__
        except asyncio.CancelledError:
            if index not in cancelled:
                finding("unexpected cancellation", f"{call.api}{call.args!r:.80} raised CancelledError")
            outcomes[index] = "cancelled"
            raise
        except Exception as exc:
            finding("exception outside the tree", f"{call.api}{call.args!r:.80} raised {type(exc).__name__}: {exc}")
            outcomes[index] = type(exc).__name__
        else:
            check_time()
            problem = _check_result(call, result)
            if problem:
                finding("bad result", f"{call.api}{call.args!r:.80} {problem}")
            outcomes[index] = "ok"
            if call.api == "listen":
                await _use_subscription(result, finding)
            return
        check_time()

    tasks = [loop.create_task(one(index, call)) for index, call in enumerate(plan.calls)]

    async def cancel_later(index: int, delay: float) -> None:
        await asyncio.sleep(plan.calls[index].at + delay)
        if not tasks[index].done():
            cancelled.add(index)
            tasks[index].cancel()

    cancellers = [loop.create_task(cancel_later(index, call.cancel_after)) for index, call in enumerate(plan.calls)
                  if call.cancel_after is not None]
    hard = max((c.at + c.timeout * c.rounds for c in plan.calls), default=0) + plan.options["validation_timeout"] \
        + SLACK + 2
    if not tasks:
        return
    finished, pending = await asyncio.wait(tasks + cancellers, timeout=hard)
    for task in pending:
        if task in tasks:
            index = tasks.index(task)
            call = plan.calls[index]
            finding("request not bounded", f"{call.api}{call.args!r:.80} still running after {hard:.2f} s")
            cancelled.add(index)
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=1)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            finding("driver error", repr(task.exception()))


async def _use_subscription(subscription: Any, finding: Any) -> None:
    """Read a few notifications of a subscription, then close it."""
    from mcp_stdio import errors

    try:
        for _ in range(3):
            try:
                item = await asyncio.wait_for(subscription.__anext__(), 0.02)
            except (asyncio.TimeoutError, StopAsyncIteration):
                break
            if type(item) is not dict or type(item.get("params")) is not dict:
                finding("callback got unchecked input", f"subscription yielded {brief(item)}")
    except errors.MCPStdioError:
        pass
    except Exception as exc:
        finding("exception outside the tree", f"subscription raised {type(exc).__name__}: {exc}")
    try:
        await asyncio.wait_for(subscription.close(), 1.0)
    except asyncio.TimeoutError:
        finding("close not bounded", "Subscription.close() did not end within 1 s")
    except Exception as exc:
        finding("exception outside the tree", f"Subscription.close() raised {type(exc).__name__}: {exc}")


def timing() -> float:
    return time.perf_counter()
