"""Group ``requests``: round-trip latency, pipelined and gathered throughput, large messages.

Each test runs the same work through mcp_stdio and through the floor, on two connections
to the same server, in interleaved trials (``A B, B A, ...``), and reports each ratio as a
median with its 95 % interval (:mod:`.stats`): wall time, and the client's CPU time, which
other processes on the machine do not inflate. The tests call the reference server's
``echo`` and ``blob`` tools: with ``--server``, the group is skipped.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from typing import Any

from .common import Context, collect, percentiles
from .stats import estimate, interleave, ratio_estimate, timed_trial

MIB = 1024 * 1024
# Requests in flight for the pipelined test, and calls per trial at each depth (full, quick).
DEPTHS = {1: (200, 60), 10: (600, 300), 100: (1500, 600), 1000: (2000, 2000)}
# Calls gathered at once in the gathered test (issue 16: client CPU per call, gathered).
GATHERED = 1000


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    if not ctx.reference:
        ctx.skip("needs the reference server's echo and blob tools (the ratios compare clients, "
                 "not servers: run it without --server)")
        return
    client = (await ctx.open(1, timeout=120))[0]
    floor = ctx.floor()
    await floor.start()
    ctx.handshakes += 1
    try:
        await sequential(ctx, client, floor)
        await pipelined(ctx, client, floor)
        await gathered(ctx, client, floor)
        await large_messages(ctx, client, floor)
    finally:
        await client.close()
        await floor.close()


async def _calls(call, count: int, samples: list[float] | None = None) -> None:
    args = {"text": "ping"}
    if samples is None:
        for _ in range(count):
            await call("echo", args)
        return
    clock = time.perf_counter
    for _ in range(count):
        start = clock()
        await call("echo", args)
        samples.append(clock() - start)


async def sequential(ctx: Context, client, floor) -> None:
    """One ``tools/call`` at a time: latency percentiles, and wall and CPU ratios per call."""
    # 60 pairs of 150 calls (~4 s): 40 pairs of 50 calls left an interval of about +-8 %.
    pairs, per_trial = ctx.size(60, 8), ctx.size(150, 25)
    await _calls(client.call_tool, ctx.size(300, 50))
    await _calls(floor.call_tool, ctx.size(300, 50))
    ours: list[float] = []
    theirs: list[float] = []
    a, b = await interleave(
        lambda: timed_trial(lambda: _calls(client.call_tool, per_trial, ours)),
        lambda: timed_trial(lambda: _calls(floor.call_tool, per_trial, theirs)),
        pairs, lambda i, n: ctx.progress("sequential", i, n))
    mine, floor_p = percentiles(ours), percentiles(theirs)
    metrics: dict[str, Any] = {f"{k}_us": round(v * 1e6, 1) for k, v in mine.items()}
    metrics.update({f"floor_{k}_us": round(v * 1e6, 1) for k, v in floor_p.items()})
    metrics["latency_ratio"] = ratio_estimate(a["wall"], b["wall"])
    metrics["cpu_ratio"] = ratio_estimate(a["cpu"], b["cpu"])
    metrics["cpu_per_call_us"] = estimate([c / per_trial * 1e6 for c in a["cpu"]], "µs")
    metrics["floor_cpu_per_call_us"] = estimate([c / per_trial * 1e6 for c in b["cpu"]], "µs")
    metrics["requests"] = len(ours)
    metrics["pairs"] = pairs
    metrics["histogram"] = _histogram(ours, theirs)
    ctx.record("sequential", metrics, note=f"{pairs} pairs of {per_trial} sequential echo calls; latency_ratio = "
               "wall time per call, cpu_ratio = client CPU per call, mcp_stdio / floor")


def _histogram(ours: list[float], theirs: list[float], buckets: int = 40) -> dict:
    """Return latency counts in equal buckets from 0 to the p99 of both (µs), and the percentiles."""
    top = max(percentiles(ours)["p99"], percentiles(theirs)["p99"]) * 1e6 * 1.25
    width = top / buckets or 1.0
    counts: dict = {}
    for name, samples in (("mcp_stdio", ours), ("floor", theirs)):
        row = [0] * buckets
        for sample in samples:
            index = int(sample * 1e6 / width)
            if index < buckets:  # beyond: counted in "over"
                row[index] += 1
        counts[name] = row
        counts[f"{name}_over"] = len(samples) - sum(row)
        counts[f"{name}_percentiles_us"] = {k: round(v * 1e6, 1) for k, v in percentiles(samples).items()}
    return {"bucket_us": round(width, 3), **counts}


async def _pipelined(call, depth: int, count: int) -> None:
    remaining = count
    args = {"text": "x"}

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call("echo", args)

    await asyncio.gather(*(worker() for _ in range(depth)))


async def _paired(ctx: Context, label: str, pairs: int, work_a, work_b) -> tuple[dict, dict]:
    """Run interleaved timed trials of two works; return their measures."""
    return await interleave(lambda: timed_trial(work_a), lambda: timed_trial(work_b), pairs,
                            lambda i, n: ctx.progress(label, i, n))


async def pipelined(ctx: Context, client, floor) -> None:
    """Requests per second with 1, 10, 100 and 1,000 requests in flight."""
    pairs = ctx.size(16, 6)
    metrics: dict = {"pairs": pairs}
    for depth, sizes in DEPTHS.items():
        count = ctx.size(*sizes)
        a, b = await _paired(ctx, f"pipelined, {depth} in flight", pairs,
                             lambda d=depth, c=count: _pipelined(client.call_tool, d, c),
                             lambda d=depth, c=count: _pipelined(floor.call_tool, d, c))
        metrics[f"depth_{depth}_rps"] = round(count / sorted(a["wall"])[len(a["wall"]) // 2])
        metrics[f"depth_{depth}_floor_rps"] = round(count / sorted(b["wall"])[len(b["wall"]) // 2])
        metrics[f"depth_{depth}_ratio"] = ratio_estimate(a["wall"], b["wall"], rate=True)
        metrics[f"depth_{depth}_cpu_ratio"] = ratio_estimate(a["cpu"], b["cpu"])
        metrics[f"depth_{depth}_calls_per_trial"] = count
    ctx.record("pipelined", metrics, note="ratio = requests per second, mcp_stdio / floor (higher is better); "
               "cpu_ratio = client CPU per request, mcp_stdio / floor (lower is better); rps = median trial")


async def gathered(ctx: Context, client, floor) -> None:
    """``asyncio.gather`` of 1,000 calls at once: client CPU per call against the floor."""
    # 30 pairs (a trial is ~0.1 s): 12 left an interval of +-10 % around a ratio near 1.
    pairs, count = ctx.size(30, 6), ctx.size(GATHERED, 300)
    args = {"text": "g"}

    async def gather(call) -> None:
        await asyncio.gather(*(call("echo", args) for _ in range(count)))

    a, b = await interleave(lambda: timed_trial(lambda: gather(client.call_tool)),
                            lambda: timed_trial(lambda: gather(floor.call_tool)),
                            pairs, lambda i, n: ctx.progress(f"gathered {count}", i, n))
    ctx.record("gathered", {
        "calls_per_trial": count, "pairs": pairs,
        "cpu_ratio": ratio_estimate(a["cpu"], b["cpu"]),
        "wall_ratio": ratio_estimate(a["wall"], b["wall"]),
        "cpu_per_call_us": estimate([c / count * 1e6 for c in a["cpu"]], "µs"),
        "floor_cpu_per_call_us": estimate([c / count * 1e6 for c in b["cpu"]], "µs"),
    }, note="cpu_ratio = client CPU per call, mcp_stdio / floor; wall_ratio = time per gather")


async def _blob(call, args: dict) -> None:
    collect()
    result = await call("blob", args)
    assert len(result["content"][0]["text"]) == args["size"]
    del result


async def large_messages(ctx: Context, client, floor) -> None:
    """1, 10 and 50 MiB responses: time against the floor, and client peak memory."""
    sizes = (1, 10, 50) if not ctx.quick else (1, 10)
    metrics: dict = {}
    for mib in sizes:
        args = {"size": mib * MIB}
        pairs = 6 if mib >= 50 or ctx.quick else 10
        a, b = await _paired(ctx, f"large_messages {mib} MiB", pairs, lambda a=args: _blob(client.call_tool, a),
                             lambda a=args: _blob(floor.call_tool, a))
        metrics[f"{mib}mib_s"] = round(sorted(a["wall"])[pairs // 2], 4)
        metrics[f"{mib}mib_floor_s"] = round(sorted(b["wall"])[pairs // 2], 4)
        metrics[f"{mib}mib_ratio"] = ratio_estimate(a["wall"], b["wall"])
        metrics[f"{mib}mib_cpu_ratio"] = ratio_estimate(a["cpu"], b["cpu"])
        # Peak Python heap while the answer is read, parsed and returned, relative to the
        # message size (measured in a separate call: tracemalloc slows everything down).
        for name, call in (("", client.call_tool), ("floor_", floor.call_tool)):
            collect()
            tracemalloc.start()
            try:
                base = tracemalloc.get_traced_memory()[0]
                result = await call("blob", args)
                peak = tracemalloc.get_traced_memory()[1] - base
                del result
            finally:
                tracemalloc.stop()
            metrics[f"{mib}mib_{name}peak_heap_x"] = round(peak / (mib * MIB), 2)
    ctx.record("large_messages", metrics,
               note="10 pairs per size (6 at 50 MiB); ratio = wall time of one call, mcp_stdio / floor; "
                    "s = median trial; peak_heap_x = client peak Python heap during one call / message size")
