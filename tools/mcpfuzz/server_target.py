"""The server target: the reference server (a child process) fed mutated client messages.

One iteration is one server process, planned from ``random.Random(f"server:{seed}:{i}")``
(:mod:`.server_plan`): batches of mutated client messages, each followed by a sentinel
``ping``, written in chunks cut anywhere. The driver (here) reads everything the server
writes, answers its own requests (sampling, elicitation, roots, tasks) as the plan says
(validly, with a wrong shape, with an error, or never, and then cancels the call that made
them), and keeps the accounts of what the server owes.

Checked (each failure is a :class:`~.common.Finding`):

* the process never dies while it has input, and answers a sentinel ``ping`` within
  :data:`SENTINEL_BOUND` (plus :data:`BOUND_PER_CHUNK` per write) after each batch;
* every well-formed request with a usable id gets exactly one answer, and any other
  request with a usable id at most one (zero allowed when it was cancelled, or is a
  ``subscriptions/listen`` stream); no answer names an id that was never asked; all come
  within :data:`ANSWER_BOUND`;
* every line it writes is a JSON-RPC message (``mcp_stdio.jsonrpc.parse``), each result
  is valid for its method in the version of its request (``shapes.check_result``), each
  request and notification of the server has valid params;
* the lifecycle holds: nothing but ``ping`` (and ``server/discover``) is served before a
  successful ``initialize``, a second ``initialize`` is refused, and a 2026-07-28 request
  for a method that version lacks is refused;
* its resident memory stays under :data:`MAX_RSS`;
* at the end of input it exits with status 0 within its shutdown grace, and its stderr
  has no Python traceback.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from typing import Any

from .common import Finding, Monitor, brief, id_key, strict_json
from .server_plan import HANDSHAKE_VERSIONS, MODERN, PROTOCOL_VERSION, Batch, Plan, make_plan
from .values import Schemas, dumps, hostile, mutate

__all__ = ["Plan", "make_plan", "run_iteration", "SENTINEL_BOUND", "ANSWER_BOUND", "EXIT_BOUND", "MAX_RSS"]

# Seconds the server may take to answer the sentinel ping after a batch (it answers ping
# itself, in the reader: any delay is a stalled loop or a wedged server).
SENTINEL_BOUND = 3.0
# Seconds added to both bounds per chunk the batch was written in: a batch written one byte
# at a time costs the server one pipe read per byte (about 2 ms each on a slow machine, in
# asyncio's read path; the sans-I/O core takes 2 us per byte).
BOUND_PER_CHUNK = 0.005
# Seconds every request may take to be answered once the last batch was written (the
# slowest tool the plans call sleeps 0.2 s).
ANSWER_BOUND = 5.0
# Seconds the server may take to exit once its stdin is closed (its SHUTDOWN_GRACE is 2 s,
# applied to running requests and then to unwritten answers).
EXIT_BOUND = 7.0
# Resident memory the server may use at the end of an iteration (its largest input is a
# 2 MiB line; a bookkeeping that grows with what the client sends shows here).
MAX_RSS = 200 * 2 ** 20

def _is_modern(params: Any) -> bool:
    meta = params.get("_meta") if type(params) is dict else None
    return type(meta) is dict and type(meta.get(PROTOCOL_VERSION)) is str


class _Expected:
    """What the server owes for one id: answers at least ``low`` and at most ``high``."""

    __slots__ = ("low", "high", "requests", "answers")

    def __init__(self) -> None:
        self.low = 0
        self.high = 0
        self.requests: list = []  # (method, params, version or None, position)
        self.answers = 0


class _Driver:
    def __init__(self, plan: Plan, monitor: Monitor) -> None:
        self.plan = plan
        self.monitor = monitor
        self.rng = random.Random(f"server-driver:{plan.seed}:{plan.iteration}")
        self.findings: list = []
        self.expected: dict = {}  # id key -> _Expected
        self.position = 0  # lines sent so far
        self.negotiated: str | None = None  # the version the server's initialize result named
        self.initialize_positions: list = []  # positions of initialize requests
        self.sentinels: dict = {}  # id -> future
        self.sent: list = []
        self.received: list = []
        self.messages = 0
        self.process: Any = None
        self.stderr = bytearray()
        self.traceback = False
        self.server_requests: dict = {}  # their ids -> method
        self.initialized: list = []  # positions of the initialize requests that got a result
        self.outcomes: dict = {}  # answers to our requests: results and errors
        self.exited: asyncio.Task | None = None  # the process's wait()
        self.chunks = 0  # chunks the last batch was written in
        self.all_chunks = 0

    def finding(self, kind: str, detail: str) -> None:
        self.findings.append(Finding(kind, detail, self.plan.iteration))

    # Sending

    def account(self, line: bytes) -> None:
        """Record what the server owes for ``line`` (each element of a batch in its turn:
        the server handles them in order)."""
        self.position += 1
        try:
            value = strict_json(line)
        except (ValueError, RecursionError, UnicodeDecodeError):
            return
        items = value if type(value) is list and value else [value]
        for item in items:
            self.position += 1
            if type(item) is not dict or "method" not in item:
                continue
            if "id" not in item:
                if item.get("method") == "notifications/cancelled" and type(item.get("params")) is dict:
                    cancelled = self.expected.get(id_key(item["params"].get("requestId")))
                    if cancelled is not None:
                        cancelled.low = 0  # "MAY ignore", or stop: no answer is owed any more
                continue
            msg_id = item["id"]
            if type(msg_id) not in (int, str):
                continue
            expected = self.expected.setdefault(id_key(msg_id), _Expected())
            method, params = item.get("method"), item.get("params")
            well_formed = item.get("jsonrpc") == "2.0" and type(method) is str and (
                params is None or type(params) is dict)
            listen = method == "subscriptions/listen"
            expected.high += 1
            if well_formed and not listen:
                expected.low += 1
            version = MODERN if _is_modern(params) else None
            if method == "initialize" and not version:
                self.initialize_positions.append(self.position)
            expected.requests.append((method, params if type(params) is dict else {}, version, self.position))

    async def write(self, data: bytes) -> None:
        stdin = self.process.stdin
        stdin.write(data)
        await stdin.drain()

    async def send_batch(self, batch: Batch) -> None:
        for line in batch.lines:
            self.account(line)
            self.sent.append(line)
            self.messages += 1
        blob = b"".join(line + b"\n" for line in batch.lines)
        if batch.chunking == "lines":
            chunks = [line + b"\n" for line in batch.lines]
        elif batch.chunking == "bytes" and len(blob) <= 2048:
            chunks = [blob[i:i + 1] for i in range(len(blob))]
        elif batch.chunking == "cuts":
            points = sorted({int(cut * len(blob)) for cut in batch.cuts} | {0, len(blob)})
            chunks = [blob[a:b] for a, b in zip(points, points[1:]) if b > a]
        else:
            chunks = [blob]
        self.chunks = len(chunks)
        self.all_chunks += len(chunks)
        for chunk in chunks:
            await self.write(chunk)

    async def sentinel(self, index: int) -> None:
        """Ping after a batch: the server must be alive and answer within the bound."""
        msg_id = f"sentinel-{index}"
        future = asyncio.get_running_loop().create_future()
        self.sentinels[msg_id] = future
        line = dumps({"jsonrpc": "2.0", "id": msg_id, "method": "ping"}).encode("utf-8")
        self.sent.append(line)
        self.messages += 1
        try:
            await self.write(line + b"\n")
            if self.exited is None:
                self.exited = asyncio.get_running_loop().create_task(self.process.wait())
            bound = SENTINEL_BOUND + BOUND_PER_CHUNK * self.chunks
            await asyncio.wait({future, self.exited}, timeout=bound, return_when=asyncio.FIRST_COMPLETED)
            if not future.done():
                alive = self.process.returncode is None
                self.finding("server wedged" if alive else "server died",
                             f"no answer to the sentinel ping after batch {index} within {bound:g} s"
                             if alive else f"it exited (status {self.process.returncode}) before answering the "
                                           f"sentinel ping after batch {index}")
                raise _Stop()
        except (ConnectionError, BrokenPipeError):
            self.finding("server died", f"its stdin broke after batch {index} (exit status "
                                        f"{self.process.returncode})")
            raise _Stop() from None

    # Receiving

    async def read_stdout(self) -> None:
        reader = self.process.stdout
        while True:
            try:
                line = await reader.readline()
            except ValueError:  # a line over the stream's limit
                self.finding("invalid line from the server", "a line longer than 64 MiB")
                return
            if not line:
                return
            if len(self.received) < 300:
                self.received.append(line)
            try:
                await self.on_line(line.rstrip(b"\n"))
            except Exception:  # the fuzzer's own bug: say so, and keep reading
                import traceback

                self.finding("fuzzer error", traceback.format_exc())

    async def read_stderr(self) -> None:
        reader = self.process.stderr
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            if b"Traceback (most recent call last)" in chunk or b"Traceback (most recent call last)" in (
                    bytes(self.stderr[-40:]) + chunk):
                self.traceback = True
            self.stderr += chunk
            if len(self.stderr) > 200_000:
                del self.stderr[:100_000]

    async def on_line(self, line: bytes) -> None:
        from mcp_stdio import jsonrpc

        parsed = jsonrpc.parse(line)
        if isinstance(parsed, jsonrpc.InvalidMessage):
            self.finding("invalid line from the server", f"{parsed.reason}: {brief(line)}")
            return
        items = parsed.messages if isinstance(parsed, jsonrpc.Batch) else [parsed]
        for item in items:
            if isinstance(item, jsonrpc.InvalidMessage):
                self.finding("invalid line from the server", f"{item.reason}: {brief(line)}")
            elif isinstance(item, (jsonrpc.Response, jsonrpc.ErrorResponse)):
                self.on_answer(item, line)
            elif isinstance(item, jsonrpc.Request):
                self.check_params(item.method, item.params, line)
                await self.answer_server(item)
            else:
                self.check_params(item.method, item.params, line)

    def on_answer(self, item: Any, line: bytes) -> None:
        from mcp_stdio import jsonrpc, shapes

        if type(item.id) is str and item.id in self.sentinels:
            future = self.sentinels.pop(item.id)
            if not future.done():
                future.set_result(None)
            return
        expected = self.expected.get(id_key(item.id))
        if expected is None:
            if item.id is None and isinstance(item, jsonrpc.ErrorResponse):
                return  # an error about a line whose id could not be read
            self.finding("answer to nothing", f"the server answered id {item.id!r}, never asked: {brief(line)}")
            return
        expected.answers += 1
        kind = "error" if isinstance(item, jsonrpc.ErrorResponse) else "result"
        self.outcomes[kind] = self.outcomes.get(kind, 0) + 1
        if expected.answers > expected.high:
            self.finding("answered twice", f"id {item.id!r} answered {expected.answers} times, asked "
                                           f"{expected.high} times: {brief(line)}")
        if isinstance(item, jsonrpc.Response) and type(item.result) is dict and "serverInfo" in item.result:
            for request in expected.requests:  # an InitializeResult: which initialize it answers
                if request[0] == "initialize" and request[2] is None and request[3] not in self.initialized:
                    if len(expected.requests) == 1:
                        self.check_lifecycle(request, True, line)
                    self.initialized.append(request[3])
                    break
        elif len(expected.requests) == 1:
            self.check_lifecycle(expected.requests[0], isinstance(item, jsonrpc.Response), line)
        if isinstance(item, jsonrpc.ErrorResponse):
            return
        problems_seen = []
        for method, params, version, position in expected.requests:
            if type(method) is not str:
                continue  # refused for that: only an error could answer it
            if version is None:
                version = self.negotiated if self.initialize_positions and \
                    self.initialize_positions[0] < position else None
            if method == "initialize" and type(item.result) is dict and version is None:
                answered = item.result.get("protocolVersion")
                if type(answered) is str and self.negotiated is None:
                    self.negotiated = answered
                version = answered if answered in shapes.VERSIONS else None
            if method in ("ping", "server/discover") and version is None:
                version = MODERN if method == "server/discover" else HANDSHAKE_VERSIONS[0]
            if version is None or version not in shapes.VERSIONS or shapes.method_info(version, method) is None:
                return  # a request the server should not have served: nothing to check it against
            info = shapes.method_info(version, method)
            task = bool(info.task and "task" in params)
            problems = shapes.check_result(version, method, item.result, task=task)
            if not problems:
                return
            problems_seen.append(f"{method} ({version}): {problems}")
        if problems_seen:
            self.finding("invalid result", f"{'; '.join(problems_seen)}: {brief(line)}")

    def check_lifecycle(self, request: tuple, served: bool, line: bytes) -> None:
        """Check the lifecycle of the handshake era (basic/lifecycle) and the methods of
        2026-07-28 on one answered request."""
        from mcp_stdio import shapes

        method, params, version, position = request
        if version == MODERN:
            if served and method not in shapes.methods(MODERN, "request", "client"):
                self.finding("lifecycle", f"a 2026-07-28 request for {method}, which that version lacks, was "
                                          f"served: {brief(line)}")
            return
        succeeded_before = any(done < position for done in self.initialized)
        if method == "initialize":
            if served and succeeded_before:
                self.finding("lifecycle", f"a second initialize was accepted: {brief(line)}")
        elif served and method not in ("ping", "server/discover") and not succeeded_before:
            self.finding("lifecycle", f"{method} was served before initialize: {brief(line)}")

    def check_params(self, method: str, params: Any, line: bytes) -> None:
        from mcp_stdio import shapes

        versions = [v for v in (self.negotiated, MODERN) if v in shapes.VERSIONS] or list(shapes.VERSIONS)
        outcomes = [shapes.check_params(version, method, params, sender="server") for version in versions]
        if any(problems == [] for problems in outcomes):
            return
        if all(problems is None for problems in outcomes):
            self.finding("unknown message from the server", f"{method} is not a server message of "
                                                            f"{', '.join(versions)}: {brief(line)}")
            return
        self.finding("invalid message from the server", f"{method}: {[p for p in outcomes if p]}: {brief(line)}")

    async def answer_server(self, request: Any) -> None:
        """Answer the server's request per the plan's policy."""
        rng, policy = self.rng, self.plan.answer_policy
        version = self.negotiated if self.negotiated in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[0]
        schemas = Schemas(version)
        if policy == "never":
            return
        if policy == "slow":
            await asyncio.sleep(0.02)
        method = request.method
        params = request.params or {}
        if policy == "error":
            value: Any = {"jsonrpc": "2.0", "id": request.id, "error": {"code": -32603, "message": "fuzz"}}
        else:
            if method in ("sampling/createMessage", "elicitation/create") and "task" in params:
                # Tasks exist in 2025-11-25 only; a server may still ask for one in another
                # version when the client declared the capability.
                result: Any = Schemas("2025-11-25").result(rng, method, task=True)
            elif method == "sampling/createMessage":
                result = {"role": "assistant", "content": {"type": "text", "text": "fuzz"}, "model": "fuzz"}
            elif method == "elicitation/create":
                result = {"action": "accept", "content": {"answer": "fuzz"}}
            elif method == "roots/list":
                result = {"roots": [{"uri": "file:///tmp"}]}
            elif method == "tasks/result":
                result = {"role": "assistant", "content": {"type": "text", "text": "fuzz"}, "model": "fuzz"}
            elif method in schemas.methods and schemas.methods[method]["result"]:
                result = schemas.result(rng, method)
            else:
                result = {}
            if policy == "mutated":
                result = mutate(rng, result) if type(result) is dict and result else hostile(rng)
            value = {"jsonrpc": "2.0", "id": request.id, "result": result}
        line = dumps(value).encode("utf-8", "surrogatepass")
        self.sent.append(line)
        self.messages += 1
        try:
            await self.write(line + b"\n")
        except (ConnectionError, BrokenPipeError):
            pass

    # The end

    def missing(self) -> list:
        return [(key, expected) for key, expected in self.expected.items()
                if expected.answers < expected.low]

    async def wait_answers(self) -> None:
        loop = asyncio.get_running_loop()
        bound = ANSWER_BOUND + BOUND_PER_CHUNK * self.all_chunks
        deadline = loop.time() + bound
        while self.missing() and loop.time() < deadline and self.process.returncode is None:
            await asyncio.sleep(0.02)
        for key, expected in self.missing():
            methods = sorted({str(request[0]) for request in expected.requests})
            self.finding("request not answered", f"id {key[1]!r} ({', '.join(methods)}) got {expected.answers} "
                                                 f"answers, owed {expected.low}, within {bound:g} s")


def _rss(pid: int) -> int | None:
    """Return the resident memory of ``pid`` in bytes (Linux), or None."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


class _Stop(Exception):
    """The server is gone or wedged: end the iteration."""


async def run_iteration(plan: Plan, monitor: Monitor, *, subprocess: bool = True,
                        command: list | None = None) -> dict:
    """Run one iteration against a fresh reference server (or ``command``); return
    ``{"messages", "findings", "sent", "received", "stderr"}``."""
    import mcp_stdio

    command = command or mcp_stdio.reference_server_command()
    driver = _Driver(plan, monitor)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("MCP_STDIO_SERVER_STATS", None)
    process = driver.process = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True, limit=80 * 1024 * 1024)
    loop = asyncio.get_running_loop()
    readers = [loop.create_task(driver.read_stdout()), loop.create_task(driver.read_stderr())]
    try:
        for index, batch in enumerate(plan.batches):
            await driver.send_batch(batch)
            await driver.sentinel(index)
        await driver.wait_answers()
        rss = _rss(process.pid)
        if rss is not None and rss > MAX_RSS:
            driver.finding("memory", f"the server uses {rss / 2 ** 20:.0f} MiB of resident memory "
                                     f"(bound {MAX_RSS / 2 ** 20:.0f} MiB)")
        process.stdin.close()
        try:
            returncode = await asyncio.wait_for(process.wait(), EXIT_BOUND)
        except asyncio.TimeoutError:
            driver.finding("server did not exit", f"still running {EXIT_BOUND:g} s after its stdin was closed")
            returncode = None
        else:
            if returncode != 0:
                driver.finding("server died", f"exit status {returncode} at the end of input")
    except _Stop:
        pass
    except (ConnectionError, BrokenPipeError) as exc:
        driver.finding("server died", f"{type(exc).__name__} while writing (exit status {process.returncode})")
    finally:
        if process.returncode is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await process.wait()
        if driver.exited is not None and not driver.exited.done():
            driver.exited.cancel()
        try:
            await asyncio.wait_for(asyncio.gather(*readers, return_exceptions=True), 5)
        except asyncio.TimeoutError:
            for reader in readers:
                reader.cancel()
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
    if b"internal error while checking" in driver.stderr:
        start = driver.stderr.find(b"internal error while checking")
        driver.finding("internal error", "the server's stderr: " + bytes(driver.stderr[max(0, start - 100):start + 400])
                       .decode("utf-8", "replace"))
    if driver.traceback:
        start = driver.stderr.find(b"Traceback (most recent call last)")
        driver.finding("traceback on stderr", bytes(driver.stderr[max(0, start - 200):start + 3000]).decode(
            "utf-8", "replace"))
    return {"messages": driver.messages, "findings": driver.findings, "sent": driver.sent,
            "received": driver.received, "stderr": bytes(driver.stderr[-3000:]), "outcomes": driver.outcomes}
