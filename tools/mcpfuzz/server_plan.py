"""The plans of the server target: what one iteration sends, drawn from its seed.

A :class:`Plan` holds an era (the handshake, 2026-07-28 requests carrying their
``_meta``, or both mixed), the version ``initialize`` asks for, how the driver answers the
server's own requests (validly, with a wrong shape, with an error, never, late), and
:class:`Batch` es of lines: requests of every client method with valid or mutated params
(before and after ``initialize``, a second ``initialize``, a bad ``_meta``, hostile tool
arguments, huge and deeply nested params), ids of every JSON type and ids still in
flight, cancellations of every id type, notifications, junk lines, batches, non-standard
JSON, and rare floods (20,000 cancellations of unknown ids, thousands of requests at once).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .values import Schemas, dumps, hostile, hostile_id, mutate, text

__all__ = ["Batch", "Plan", "make_plan", "HANDSHAKE_VERSIONS", "MODERN", "PROTOCOL_VERSION", "ASKING"]

HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
MODERN = "2026-07-28"
PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO = "io.modelcontextprotocol/clientInfo"

CAPABILITIES = {"roots": {"listChanged": True}, "sampling": {}, "elicitation": {"form": {}, "url": {}},
                "tasks": {"list": {}, "cancel": {}, "requests": {"sampling": {"createMessage": {}},
                                                                  "elicitation": {"create": {}}}}}
TOOLS = ("echo", "add", "sleep", "blob", "weather", "fail", "log", "sample", "sample_as_task", "ask", "ask_url",
         "roots", "touch", "nope")
# The tools that ask the client something (sampling, elicitation, roots) in the handshake era.
ASKING = ("sample", "sample_as_task", "ask", "ask_url", "roots")
URIS = ("reference://readme", "reference://logo", "reference://items/1", "reference://items/%2F", "nope://x", "")
JUNK = (b"{", b"]", b"null", b"1", b"[]", b"{}", b"[1,2]", b'{"jsonrpc":"2.0"}', b"\xff\xfe", b"\xc3", b"\x00",
        b'{"jsonrpc":"2.0","id":1,"method":"ping"', b"NaN", b"\xef\xbb\xbf{", b'{"jsonrpc":"2.0","method":1}',
        b'{"id":{}}', "\u2028".encode(), b"   ", b"\r")


@dataclass


class Batch:
    """Lines written together, cut into chunks, followed by a sentinel ping."""

    lines: list  # bytes, without line ends
    chunking: str
    cuts: list = field(default_factory=list)


@dataclass
class Plan:
    iteration: int
    seed: int
    era: str  # "handshake", "modern" or "mixed"
    version: str  # what initialize asks for
    batches: list
    answer_policy: str  # how the driver answers the server's requests: valid, mutated, error, never, slow

    @property
    def negotiated(self) -> str:
        """The version the server answers to our initialize (basic/lifecycle: the one asked
        for when it speaks it, else its latest)."""
        return self.version if self.version in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[0]

    def messages_text(self) -> list:
        return [line.decode("utf-8", "backslashreplace") for batch in self.batches for line in batch.lines]

    def count(self) -> int:
        return sum(len(batch.lines) for batch in self.batches)


class _PlanMaker:
    def __init__(self, rng: random.Random, plan: Plan) -> None:
        self.rng = rng
        self.plan = plan
        self.next_id = 1
        self.ids: list = []  # ids used so far (for duplicates and cancellations)
        self.asking_ids: list = []  # ids of calls of the tools that ask the client

    def fresh_id(self) -> Any:
        rng = self.rng
        choice = rng.random()
        if choice < 0.7:
            msg_id: Any = self.next_id
            self.next_id += 1
        elif choice < 0.8:
            msg_id = f"s{self.next_id}"
            self.next_id += 1
        elif choice < 0.9 and self.ids:
            msg_id = rng.choice(self.ids)  # a duplicate, maybe still in flight
        else:
            msg_id = hostile_id(rng)
        if type(msg_id) in (int, str):
            self.ids.append(msg_id)
        return msg_id

    def meta(self, version: str) -> dict:
        rng = self.rng
        meta: dict = {PROTOCOL_VERSION: MODERN, CLIENT_CAPABILITIES: dict(CAPABILITIES),
                      CLIENT_INFO: {"name": "fuzz", "version": "1"}}
        if rng.random() < 0.3:
            meta["io.modelcontextprotocol/logLevel"] = rng.choice(("debug", "error", "x"))
        if rng.random() < 0.2:
            meta = mutate(rng, meta)
        elif rng.random() < 0.05:
            meta[PROTOCOL_VERSION] = rng.choice(("2099-01-01", "2025-11-25", ""))
        return meta

    def request(self, modern: bool) -> Any:
        rng = self.rng
        version = MODERN if modern else self.plan.negotiated
        schemas = Schemas(version)
        methods = schemas.method_names("request", "client") + ["x/unknown"]
        if not modern:
            methods += ["initialize", "ping"]  # again: refused once initialized
        method = rng.choice(methods)
        if method == "tools/call" and rng.random() < 0.7:
            params: Any = self.tool_call(version)
        elif method in schemas.methods and schemas.methods[method]["params"]:
            params = schemas.params(rng, method)
        else:
            params = None
        if method == "resources/read" and type(params) is dict and rng.random() < 0.7:
            params["uri"] = rng.choice(URIS)
        if method == "prompts/get" and type(params) is dict and rng.random() < 0.7:
            params["name"] = rng.choice(("greeting", "code_review", "nope"))
        if modern:
            params = dict(params) if type(params) is dict else {}
            meta = params.get("_meta") if type(params.get("_meta")) is dict else {}
            fields = self.meta(version)
            params["_meta"] = dict(meta, **fields) if type(fields) is dict else fields
        msg_id = self.fresh_id()
        message: Any = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        choice = rng.random()
        if choice < 0.25 and type(params) is dict and params:
            message["params"] = mutate(rng, params)
        elif choice < 0.35:
            message = mutate(rng, message)
        if method == "tools/call" and type(params) is dict and params.get("name") in ASKING:
            self.asking_ids.append(msg_id)
        return message

    def tool_call(self, version: str) -> dict:
        rng = self.rng
        name = rng.choice(TOOLS)
        arguments: Any = {
            "echo": {"text": text(rng)},
            "add": {"a": rng.choice((1, 1.5, 1e308, -1e308, 10 ** 30, 2 ** 63)), "b": rng.choice((1, 1e308, -0.0))},
            "sleep": {"seconds": rng.choice((0, 0.01, 0.2, -1))},
            "blob": {"size": rng.choice((0, 10, 100_000, -5))},
            "weather": {"city": text(rng)},
            "fail": {"message": text(rng)},
            "log": {"level": rng.choice(("info", "debug", "x", "emergency")), "message": text(rng)},
            "sample": {"prompt": text(rng)},
            "sample_as_task": {"prompt": text(rng)},
            "ask": {"question": text(rng)},
            "ask_url": {"url": "https://example.com"},
            "roots": {},
            "touch": {"item": text(rng)},
            "nope": {},
        }[name]
        if rng.random() < 0.3:
            arguments = mutate(rng, arguments) if arguments else {"x": hostile(rng)}
        params: dict = {"name": name, "arguments": arguments}
        if version == "2025-11-25" and rng.random() < 0.2:
            params["task"] = {"ttl": rng.choice((1000, 60000))} if rng.random() < 0.8 else hostile(rng)
        return params

    def notification(self) -> Any:
        rng = self.rng
        method = rng.choice(("notifications/cancelled", "notifications/cancelled", "notifications/initialized",
                             "notifications/progress", "notifications/roots/list_changed", "notifications/x"))
        params: Any = {}
        if method == "notifications/cancelled":
            params = {"requestId": rng.choice(self.ids) if self.ids and rng.random() < 0.6 else hostile_id(rng)}
            if rng.random() < 0.3:
                params["reason"] = hostile(rng) if rng.random() < 0.5 else "fuzz"
        elif method == "notifications/progress":
            params = {"progressToken": hostile_id(rng), "progress": hostile(rng)}
        message: Any = {"jsonrpc": "2.0", "method": method, "params": params}
        if rng.random() < 0.3:
            message = mutate(rng, message)
        return message

    def line(self, modern: bool) -> bytes:
        rng = self.rng
        choice = rng.random()
        if choice < 0.6:
            value = self.request(modern if self.plan.era != "mixed" else rng.random() < 0.5)
        elif choice < 0.8:
            value = self.notification()
        elif choice < 0.88:
            return rng.choice(JUNK)
        elif choice < 0.95:
            value = [self.request(modern) if rng.random() < 0.7 else self.notification()
                     for _ in range(rng.randint(1, 4))]
        else:
            value = {"jsonrpc": "2.0", "id": hostile_id(rng), "result": hostile(rng)}  # an answer to nothing
        return dumps(value, ascii=rng.random() < 0.3).encode("utf-8", "surrogatepass")

    def initialize(self) -> bytes:
        rng = self.rng
        params: Any = {"protocolVersion": self.plan.version, "capabilities": dict(CAPABILITIES),
                       "clientInfo": {"name": "fuzz", "version": "1"}}
        if rng.random() < 0.15:
            params = mutate(rng, params)
        message = {"jsonrpc": "2.0", "id": self.fresh_id() if rng.random() < 0.3 else 0, "method": "initialize",
                   "params": params}
        return dumps(message).encode("utf-8", "surrogatepass")

    def cancel_asking(self) -> list:
        """Cancel the calls that asked the client something (their asks stay unanswered)."""
        lines = [dumps({"jsonrpc": "2.0", "method": "notifications/cancelled",
                        "params": {"requestId": msg_id, "reason": "fuzz"}}).encode("utf-8", "surrogatepass")
                 for msg_id in self.asking_ids]
        self.asking_ids = []
        return lines


def make_plan(seed: int, iteration: int) -> Plan:
    """Return the plan of iteration ``iteration`` of ``seed`` (a pure function of both)."""
    rng = random.Random(f"server:{seed}:{iteration}")
    era = rng.choice(("handshake", "handshake", "modern", "mixed"))
    version = rng.choice(HANDSHAKE_VERSIONS + ("2099-01-01", MODERN))
    plan = Plan(iteration, seed, era, version, [], rng.choice(("valid", "valid", "mutated", "error", "never",
                                                               "slow")))
    maker = _PlanMaker(rng, plan)
    for index in range(rng.randint(2, 8)):
        lines = []
        if index == 0 and era != "modern":
            if rng.random() < 0.2:  # requests before initialize
                lines += [maker.line(False) for _ in range(rng.randint(1, 3))]
            if rng.random() < 0.95:
                lines.append(maker.initialize())
                if rng.random() < 0.9:
                    lines.append(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
        lines += [maker.line(era == "modern") for _ in range(rng.choice((1, 2, 4, 8, 12)))]
        if rng.random() < 0.05:
            lines.append(maker.initialize())  # a second initialize
        if rng.random() < 0.03:
            huge = {"jsonrpc": "2.0", "id": maker.fresh_id(), "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"text": "é" * 1_000_000}}}
            lines.append(dumps(huge).encode("utf-8", "surrogatepass"))
        flood = rng.random()
        if flood < 0.003:
            # Cancellations of ids never sent: nothing may be kept for them (issue 11, item 17).
            lines += [b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":%d}}'
                      % (10 ** 9 + i) for i in range(20_000)]
        elif flood < 0.01:
            # More requests at once than the server handles (max_incoming, then refusals).
            for _ in range(rng.choice((500, 3000))):
                method = rng.choice(("ping", "tools/list", "tools/call"))
                message: dict = {"jsonrpc": "2.0", "id": maker.fresh_id(), "method": method}
                if method == "tools/call":
                    message["params"] = {"name": "echo", "arguments": {"text": "x"}}
                lines.append(dumps(message).encode("utf-8", "surrogatepass"))
        if plan.answer_policy == "never":
            lines += maker.cancel_asking()
        chunking = rng.choice(("whole", "lines", "cuts", "cuts", "bytes"))
        cuts = sorted(rng.random() for _ in range(rng.randint(1, 5))) if chunking == "cuts" else []
        plan.batches.append(Batch(lines, chunking, cuts))
    return plan
