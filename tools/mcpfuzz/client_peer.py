"""The peer of the client target: the server side of one iteration.

:class:`Peer` sends a plan's frames to the client, resolving each :class:`~.values.Ref` when
the message goes (waiting a little for the request it names), then answers every request
still unanswered with a valid result (unless the plan leaves some unanswered, to test the
timeouts) until the driver is done. It reads and checks every line the client writes, and
records what the driver's checks need: the junk lines sent, the answers that must end
their request at once.

It speaks to the client through an ``io`` object: in memory (tests/memory.py, see
:class:`~.client_target.MemoryIO`) or over a real pipe (tools/mcpfuzz/scripted_server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from typing import Any

from .client_plan import MODERN, Frame, Plan
from .common import MAX_LAG, Finding, Monitor, NonStandard, brief, id_key, strict_json
from .values import Dup, Ref, Schemas, dumps

__all__ = ["Peer", "definitive_answer_id", "LAG_PER_MIB", "REF_WAIT"]

SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"

# Seconds of CPU the client's reader may take per MiB of a chunk, on top of MAX_LAG (about
# 20 MB/s: json.loads alone reads 50 MB/s of escaped text on a slow machine).
LAG_PER_MIB = 0.05
# Seconds the peer waits for a request of the client that a frame refers to.
REF_WAIT = 0.05
# Bytes a read from a pipe brings at most (Linux's default pipe buffer).
PIPE_SIZE = 64 * 1024


def definitive_answer_id(line: bytes) -> list:
    """Return the integer ids that ``line`` answers beyond doubt: a JSON object (or batch
    elements) without ``method`` whose ``id`` is an integer. Such an answer must end its
    request at once (a result, or an error when it is malformed), never by a timeout.

    A top-level object refused only for a non-standard number still counts: the library
    reads its id leniently (mcp_stdio.jsonrpc, "_lenient_answer_id").
    """
    try:
        value = strict_json(line.rstrip(b"\r"))
    except NonStandard:
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


class Peer:
    """The server side: sends a plan's frames to the client and checks what it writes.

    Args:
        plan: the iteration's plan.
        io: ``write(bytes)``, ``lines()`` (the client's lines written since the last call),
            ``async wait(timeout)`` (until the client writes something), ``connected``.
        done: set by the driver when it has nothing more to ask.
    """

    def __init__(self, plan: Plan, io: Any, done: asyncio.Event | None = None,
                 monitor: Monitor | None = None) -> None:
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
        self.exited_at: float | None = None  # loop time at which the server "exited"
        self.calls_by_wire: dict = {}  # method -> the driver's requests of it
        for call in plan.calls:
            self.calls_by_wire[call.wire] = self.calls_by_wire.get(call.wire, 0) + 1
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
                self.answered.add(id_key(probe["id"]))
        await self._wait_for(first, 1.0)
        await self.send_frame(plan.start)
        for index, frame in enumerate(plan.frames):
            if frame.delay:
                await asyncio.sleep(frame.delay)
            await self.send_frame(frame)
            if plan.oversized_at == index:
                self.over_limit = True
            if plan.exit_after == index:
                self.pump()
                self.exited_at = asyncio.get_running_loop().time()
                self.io.exit(1)  # as if the server process had exited, requests in flight
                return
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
                if id_key(msg_id) in self.answered:
                    continue
                self.answered.add(id_key(msg_id))
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
            longest = 0  # the longest line this chunk completes: the reader parses it now
            while delivered < len(lines) and ends[delivered] <= written:
                line, junk = lines[delivered]
                self._note(line, len(self.sent))
                if junk:
                    self._count_junk()
                self.sent.append(line)
                longest = max(longest, len(line))
                delivered += 1
            self.write(chunk, longest)

    def write(self, data: bytes, longest: int = 0) -> None:
        """Deliver ``data`` to the client; its reader must not stall the loop.

        The reader's bound is :data:`MAX_LAG` plus :data:`LAG_PER_MIB` per MiB of the
        chunk or of the longest line it completes: decoding and checking are linear in the
        size of a message, and a message of many MiB cannot be read in 100 ms. Such a
        chunk is timed alone (the loop monitor does not count it).
        """
        size = max(len(data), longest)
        if size > PIPE_SIZE:
            with self.pause():
                self.io.write(data)
        else:
            self.io.write(data)
        errors = getattr(self.io, "reader_errors", None)
        while errors:
            self.finding("exception in the reader", f"the client's reader (its transport's data callback) "
                                                    f"raised, for {brief(data[:200])}: {errors.pop(0)}")
        spent = getattr(self.io, "reader_cpu", 0.0)
        bound = MAX_LAG + LAG_PER_MIB * size / 2 ** 20
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
            for start in range(0, len(data) + 1, PIPE_SIZE):
                piece = (data + b"\n")[start:start + PIPE_SIZE]
                if piece:
                    self.write(piece, len(data) if start + PIPE_SIZE > len(data) else 0)

    def _chunks(self, blob: bytes, frame: Frame) -> list:
        if frame.chunking == "lines":
            return [line + b"\n" for line in blob.split(b"\n") if line] or [blob]
        if frame.chunking == "bytes" and len(blob) <= 4096:
            return [blob[i:i + 1] for i in range(len(blob))]
        if frame.chunking == "cuts":
            points = sorted({int(cut * len(blob)) for cut in frame.cuts} | {0, len(blob)})
            chunks = [blob[a:b] for a, b in zip(points, points[1:]) if b > a]
        else:
            chunks = [blob]
        # A pipe holds 64 KiB: no read brings more (a longer line arrives in pieces).
        return [chunk[i:i + PIPE_SIZE] for chunk in chunks for i in range(0, len(chunk), PIPE_SIZE)]

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
                key = id_key(item["id"])
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
        else:
            method = {"token": "tools/call", "sub": "subscriptions/listen"}.get(ref.kind)
            if method is not None and not self.by_method.get(method) and method not in self.absent:
                if not await self._wait_for(method, REF_WAIT):
                    self.absent.add(method)

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
            self.check_coalesced(parsed.method)
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
                    self.answered.add(id_key(request_id))
            return
        # An answer to one of our requests.
        key = id_key(parsed.id)
        count = self.answers[key] = self.answers.get(key, 0) + 1
        if count > self.server_id_keys.get(key, 0):
            self.finding("unasked answer", f"the client answered id {parsed.id!r} {count} times, but it was "
                                           f"asked {self.server_id_keys.get(key, 0)} times: {brief(line)}")
        if isinstance(parsed, jsonrpc.Response) and type(parsed.result) is dict:
            task = parsed.result.get("task")
            if type(task) is dict and type(task.get("taskId")) is str:
                self.tasks.append(task["taskId"])

    def check_coalesced(self, method: str) -> None:
        """A list's refreshes after list_changed: at most one in flight (issue 11, item 6),
        on top of the driver's own requests of that list."""
        if method not in ("tools/list", "prompts/list", "resources/list"):
            return
        outstanding = [request for request in self.by_method.get(method, ())
                       if request["id"] not in self.definitive and request["id"] not in self.cancelled]
        bound = self.calls_by_wire.get(method, 0) + (1 if self.plan.options["refresh_on_list_changed"] else 0)
        if len(outstanding) > bound:
            self.finding("refresh not coalesced", f"{len(outstanding)} {method} requests in flight at once (the "
                                                  f"driver made {self.calls_by_wire.get(method, 0)})")

    def finding(self, kind: str, detail: str) -> None:
        self.findings.append(Finding(kind, detail, self.plan.iteration))
        if self.on_finding is not None:
            self.on_finding(kind, detail)
