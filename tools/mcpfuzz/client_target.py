"""The client target: the whole :class:`mcp_stdio.Client` against a peer that sends
mutated server messages.

One iteration is one connection, planned from ``random.Random(f"client:{seed}:{i}")``:

* its :class:`~.client_plan.Plan` (:mod:`.client_plan`): the era, the client's options and
  callbacks, the requests the driver makes, the frames the peer sends;
* the peer (:class:`~.client_peer.Peer`) sends the frames, resolving what a plan cannot
  know, then answers what is still unanswered, and checks what the client writes;
* the driver (:func:`run_iteration`, here) makes the requests concurrently, with the
  callbacks of :class:`_Callbacks`, and checks the promises listed in its docstring.

The peer runs in memory (``tests/memory.py``, through :class:`MemoryIO`) or, with
``subprocess=True``, in a child process (``tools/mcpfuzz/scripted_server.py SEED
ITERATION``) that makes the same plan.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any

from .client_peer import Peer
from .client_plan import Call, Plan, make_plan
from .common import Finding, Monitor, brief
from .values import Schemas, hostile

__all__ = ["Plan", "make_plan", "Peer", "run_iteration", "MemoryIO", "SLACK"]

# Seconds a request may overrun its bound (its timeout times the number of round trips it
# may take) before it is a finding: the loop's own scheduling, a worker thread's start.
SLACK = 0.5
# Seconds added to that slack per message the iteration sends: a storm of 3,000 requests
# keeps a slow machine's loop busy for seconds (in short steps), and timers fire late.
SLACK_PER_MESSAGE = 0.001


def slack(plan: Plan) -> float:
    """Return how far the iteration's requests may overrun their bounds."""
    return SLACK + SLACK_PER_MESSAGE * plan.count()


class MemoryIO:
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

    def exit(self, returncode: int) -> None:
        self.transport.exit(returncode)

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


def _check_result(call: Call, result: Any) -> str | None:
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
      plus :func:`slack`), with a result of its documented type or an exception of the
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
            peer = Peer(plan, MemoryIO(memory_peer._transport), done, monitor)
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
        await asyncio.wait_for(client.start(), options["startup_timeout"] + slack(plan) + 1)
        ok = True
    except errors.MCPStdioError:
        pass
    except asyncio.TimeoutError:
        finding("start not bounded", f"start() did not end within {options['startup_timeout'] + slack(plan) + 1:g} s")
    except Exception as exc:
        finding("exception outside the tree", f"start() raised {type(exc).__name__}: {exc}")
    elapsed = loop.time() - started
    if elapsed > options["startup_timeout"] + slack(plan):
        finding("start not bounded", f"start() took {elapsed:.2f} s (startup_timeout {options['startup_timeout']})")
    if ok:
        outcomes = await _drive(plan, client, checks, finding,
                                lambda: peers[0].exited_at if peers else None)
    else:
        outcomes = {"start failed": 1}
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
    if subprocess and client.pid is not None and client.returncode is None:
        finding("child left", f"the server process {client.pid} is still running after close()")
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
    return {"messages": messages, "findings": findings, "sent": sent, "received": received, "outcomes": outcomes}


async def _drive(plan: Plan, client: Any, checks: _Callbacks, finding: Any, exited_at: Any) -> dict:
    """Run the plan's requests; return how many ended each way ("ok", or the exception's
    name). ``exited_at()`` is the loop time at which the server exited, if it did."""
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
        bound = call.timeout * call.rounds + plan.options["validation_timeout"] + slack(plan)

        def check_time() -> None:
            now = loop.time()
            elapsed = now - started
            if elapsed > bound:
                finding("request not bounded", f"{call.api}{call.args!r:.80} took {elapsed:.2f} s "
                                               f"(timeout {call.timeout:g} s, bound {bound:.2f} s)")
            gone = exited_at()
            if gone is not None and started < gone and now > gone + slack(plan):
                # "A closed connection fails every pending request at once" (STYLE.md).
                finding("request outlived the connection", f"{call.api}{call.args!r:.80} ended "
                                                           f"{now - gone:.2f} s after the server exited")

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
        + slack(plan) + 2
    if not tasks:
        return {}
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
    counts: dict = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


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
