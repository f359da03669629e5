"""Group ``core``: the client's own costs, the targets of issue 16 ("below the floor").

* ``in_flight``: client CPU per request with 100,000 requests in flight at once (garbage
  collector off, as a burst of that size would run it many times on both sides), paired
  with the floor. The light server answers (the reference server refuses more than 1,024
  requests in flight).
* ``expiries``: how long the event loop is blocked when 10,000 requests time out at the
  same moment (the loop is held past their deadline, so that one sweep finds them all):
  the CPU time of the longest loop iteration (wall time too, which a busy machine inflates),
  garbage collector off; and with it on, in alternated trials.
  The light server's ``hang`` tool never answers.
* ``notification_flood``: memory growth of a fresh process while the light server sends
  100,000 notifications to an async ``message_handler``, and how many were dropped.

The CPU ratios of calls (sequential and gathered) are measured by the ``requests`` group.
"""

from __future__ import annotations

import asyncio
import gc
import time

from .common import Context, collect, light_command, peak_rss_bytes, reset_peak_rss, rss_bytes
from .stats import estimate, interleave, ratio_estimate, timed_trial

# Seconds of timeout of the expiring requests: longer than it takes to send 10,000 of them on
# a busy machine, so none expires before the loop is held.
EXPIRY_TIMEOUT = 2.0


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    if not ctx.reference:
        ctx.skip("measures the client against the reference and light servers' tools (echo, hang, flood): "
                 "run it without --server")
        return
    await in_flight(ctx)
    await expiries(ctx)
    await notification_flood(ctx)


async def in_flight(ctx: Context) -> None:
    """CPU per request with 100,000 requests in flight (GC off), mcp_stdio against the floor."""
    count = ctx.size(100_000, 10_000)
    # Sixteen pairs: six, the fewest with a 95 % interval, make it [min, max], +-15 % on this
    # machine; ten left [0.79, 1.14] around a median of 1.0 on 3.12 (a trial's CPU time
    # moved by +-20 % from one trial to the next, on both sides).
    pairs = ctx.size(16, 6)
    client = (await ctx.open(1, command=ctx.light, timeout=None))[0]
    floor = ctx.floor(ctx.light)
    await floor.start()
    ctx.handshakes += 1
    args = {"text": "f"}

    async def burst(call) -> None:
        collect()
        enabled = gc.isenabled()
        gc.disable()
        try:
            results = await asyncio.gather(*(call("echo", args) for _ in range(count)))
        finally:
            if enabled:
                gc.enable()
        assert len(results) == count
        del results
        # The finished gather, and with it every request's task, stays alive until this
        # step of the task ends (the loop's running handle holds it): a collect() before
        # that traversed 600,000 live objects, 3 us per request on both sides.
        await asyncio.sleep(0)
        collect()

    try:
        a, b = await interleave(lambda: timed_trial(lambda: burst(client.call_tool)),
                                lambda: timed_trial(lambda: burst(floor.call_tool)),
                                pairs, lambda i, n: ctx.progress(f"in_flight {count:,}", i, n))
    finally:
        await client.close()
        await floor.close()
    ctx.record("in_flight", {
        "in_flight": count, "pairs": pairs,
        "cpu_ratio": ratio_estimate(a["cpu"], b["cpu"]),
        "wall_ratio": ratio_estimate(a["wall"], b["wall"]),
        "cpu_per_request_us": estimate([c / count * 1e6 for c in a["cpu"]], "µs"),
        "floor_cpu_per_request_us": estimate([c / count * 1e6 for c in b["cpu"]], "µs"),
    }, note="one trial = asyncio.gather of every request at once, GC off; cpu_ratio = client CPU per request, "
            "mcp_stdio / floor")


async def expiries(ctx: Context) -> None:
    """The longest loop iteration while 10,000 requests time out together (GC off, then on)."""
    count = ctx.size(10_000, 2_000)
    trials = ctx.size(7, 6)
    measured: dict[bool, dict[str, list[float]]] = {False: {}, True: {}}
    client = (await ctx.open(1, command=light_command(), timeout=None))[0]
    try:
        for index in range(trials * 2):
            gc_on = index % 2 == 1  # alternated, so drift hits both alike
            ctx.progress(f"expiries of {count:,}, GC {'on' if gc_on else 'off'}", index // 2 + 1, trials)
            for key, value in (await _expire(client, count, gc_on)).items():
                measured[gc_on].setdefault(key, []).append(value)
    finally:
        await client.close()
    off, on = measured[False], measured[True]
    ctx.record("expiries", {
        "requests": count, "trials": trials,
        "loop_block_ms": estimate(off["cpu"], "ms"),
        "loop_block_wall_ms": estimate(off["wall"], "ms"),
        "loop_block_gc_on_ms": estimate(on["cpu"], "ms"),
        "all_failed_ms": estimate(off["done"], "ms"),
    }, note="loop_block = the CPU time of the longest event-loop iteration from the sweep until every caller "
            "has its RequestTimeout and the cancellations are written (the work the loop did in one go), with "
            "the garbage collector off; loop_block_wall adds the time other processes took the CPU; "
            "loop_block_gc_on = the same with the collector on, when a collection among the requests' objects "
            "may land in that iteration (a pause no cap on the sweep removes); all_failed = wall time until "
            "every caller has its error")


async def _expire(client, count: int, gc_on: bool) -> dict[str, float]:
    """Make ``count`` requests expire at once; return the longest iteration's ``cpu``/``wall`` and ``done`` (ms)."""
    loop = asyncio.get_running_loop()
    calls = [asyncio.ensure_future(client.call_tool("hang", {}, timeout=EXPIRY_TIMEOUT)) for _ in range(count)]
    limit = loop.time() + EXPIRY_TIMEOUT
    while client.stats()["outbound_backlog"] or client.pending_count < count:
        if loop.time() > limit or any(call.done() for call in calls):
            raise RuntimeError(f"sending {count:,} requests took longer than their {EXPIRY_TIMEOUT} s timeout: "
                               "the machine is too busy for this test")
        await asyncio.sleep(0.005)  # every request written and pending
    # Hold the loop past the last deadline (each is at most now + the timeout): when it runs
    # again, one sweep finds every request expired.
    collect()
    if not gc_on:
        gc.disable()
    try:
        time.sleep(EXPIRY_TIMEOUT + 0.05)
        ticker = _Ticker(loop)
        start = time.perf_counter()
        results = await asyncio.gather(*calls, return_exceptions=True)
        done = time.perf_counter() - start
        await asyncio.sleep(0.02)  # the cancellations' writes, if any were deferred
        ticker.running = False
    finally:
        gc.enable()
    timeouts = sum(type(r).__name__ == "RequestTimeout" for r in results)
    if timeouts != count:
        raise AssertionError(f"{count - timeouts} of {count} requests did not time out")
    await asyncio.sleep(0.1)
    return {"cpu": max(ticker.cpu_gaps[1:] or ticker.cpu_gaps) * 1e3,
            "wall": max(ticker.gaps[1:] or ticker.gaps) * 1e3, "done": done * 1e3}


class _Ticker:
    """A callback that reschedules itself at every loop iteration, recording the time between runs."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.gaps: list[float] = []
        self.cpu_gaps: list[float] = []
        self.running = True
        self.last = time.perf_counter()
        self.last_cpu = time.process_time()
        loop.call_soon(self.tick)

    def tick(self) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.gaps.append(now - self.last)
        self.cpu_gaps.append(cpu - self.last_cpu)
        self.last, self.last_cpu = now, cpu
        if self.running:
            self.loop.call_soon(self.tick)


async def notification_flood(ctx: Context) -> None:
    """RSS growth of a fresh process under 100,000 notifications to an async handler."""
    count = ctx.size(100_000, 20_000)
    trials = 6
    growth, dropped, delivered = [], [], []
    for trial in range(trials):
        ctx.progress(f"notification flood of {count:,}", trial + 1, trials)
        answer = ctx.run_child("core", {"test": "flood", "count": count, "env": ctx.env})
        growth.append(answer["peak_growth_bytes"] / 2**20)
        dropped.append(answer["dropped"])
        delivered.append(answer["delivered"])
    ctx.record("notification_flood", {
        "notifications": count, "trials": trials,
        "peak_rss_growth_mib": estimate(growth, "MiB"),
        "dropped": estimate(dropped, "notifications"),
        "delivered": estimate(delivered, "notifications"),
    }, note="a fresh interpreter per trial; the handler is `async def handler(message): await asyncio.sleep(0)`; "
            "growth = peak RSS during the flood minus RSS before it")


def child(args: dict) -> None:
    """Entry point of the child interpreter (see :meth:`Context.run_child`)."""
    import json

    if args["test"] == "flood":
        print(json.dumps(asyncio.run(_flood(args["count"], args.get("env")))))


async def _flood(count: int, env: dict | None) -> dict:
    import mcp_stdio

    delivered = 0

    async def handler(message: dict) -> None:
        nonlocal delivered
        delivered += 1
        await asyncio.sleep(0)

    async with mcp_stdio.connect(light_command(), env=env, protocol="handshake", message_handler=handler,
                                 timeout=None) as client:
        await client.call_tool("flood", {"count": 100})  # warm-up
        await asyncio.sleep(0.1)
        collect()
        before = rss_bytes()
        reset_peak_rss()
        await client.call_tool("flood", {"count": count})
        deadline = time.monotonic() + 120
        while delivered + client.stats()["notifications_dropped"] < count + 100 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        peak = peak_rss_bytes()
        dropped = client.stats()["notifications_dropped"]
    return {"peak_growth_bytes": max(0, peak - before), "dropped": dropped, "delivered": delivered - 100,
            "handshakes": 1}
