"""Group ``requests``: round-trip latency, pipelined throughput, large messages.

Each test runs the same work through mcp_stdio and through the floor, on two connections
to the same server command, in the same run, and reports the ratio.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc

from .common import Context, collect, percentiles

MIB = 1024 * 1024


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    await sequential_latency(ctx)
    await pipelined_throughput(ctx)
    await large_messages(ctx)


async def _latencies(call, count: int) -> list[float]:
    samples = []
    clock = time.perf_counter
    for _ in range(count):
        start = clock()
        await call()
        samples.append(clock() - start)
    return samples


async def sequential_latency(ctx: Context) -> None:
    """One ``tools/call`` at a time; p50/p90/p99 for mcp_stdio and the floor, alternated."""
    count = ctx.size(3000, 300)
    client = (await ctx.open(1))[0]
    floor = ctx.floor()
    await floor.start()
    ctx.handshakes += 1
    ours: list[float] = []
    theirs: list[float] = []
    try:
        args = {"text": "ping"}
        warm = ctx.size(200, 50)
        await _latencies(lambda: client.call_tool("echo", args), warm)
        await _latencies(lambda: floor.call_tool("echo", args), warm)
        # Alternate in slices so that a burst of noise hits both sides alike.
        rounds = 10
        for i in range(rounds):
            ctx.progress("sequential_latency", i + 1, rounds)
            ours += await _latencies(lambda: client.call_tool("echo", args), count // rounds)
            theirs += await _latencies(lambda: floor.call_tool("echo", args), count // rounds)
    finally:
        await client.close()
        await floor.close()
    mine, floor_p = percentiles(ours), percentiles(theirs)
    metrics = {f"{k}_us": round(v * 1e6, 1) for k, v in mine.items()}
    metrics.update({f"floor_{k}_us": round(v * 1e6, 1) for k, v in floor_p.items()})
    metrics["ratio_p50"] = round(mine["p50"] / floor_p["p50"], 3)
    metrics["requests"] = len(ours)
    metrics["histogram"] = _histogram(ours, theirs)
    ctx.record("sequential_latency", metrics)


def _histogram(ours: list[float], theirs: list[float], buckets: int = 30) -> dict:
    """Return latency counts in equal buckets from 0 to the p99 of both, in microseconds."""
    top = max(percentiles(ours)["p99"], percentiles(theirs)["p99"]) * 1e6
    width = top / buckets or 1.0
    counts = {}
    for name, samples in (("mcp_stdio", ours), ("floor", theirs)):
        row = [0] * buckets
        for sample in samples:
            row[min(buckets - 1, int(sample * 1e6 / width))] += 1
        counts[name] = row
    return {"bucket_us": round(width, 2), **counts}


async def pipelined_throughput(ctx: Context) -> None:
    """Requests per second with 1, 10, 100 and 1,000 requests in flight."""
    total = ctx.size(20000, 2000)
    client = (await ctx.open(1))[0]
    floor = ctx.floor()
    await floor.start()
    ctx.handshakes += 1
    metrics: dict = {}
    args = {"text": "x"}
    try:
        levels = (1, 10, 100, 1000)
        for index, depth in enumerate(levels):
            ctx.progress(f"pipelined_throughput depth {depth}", index + 1, len(levels))
            rates = {"mcp_stdio": 0.0, "floor": 0.0}
            for _ in range(3):  # alternated; the best of three of each is kept
                for name, call in (("mcp_stdio", client.call_tool), ("floor", floor.call_tool)):
                    rates[name] = max(rates[name], await _throughput(call, args, depth, total // 3))
            metrics[f"depth_{depth}_rps"] = round(rates["mcp_stdio"])
            metrics[f"depth_{depth}_floor_rps"] = round(rates["floor"])
            metrics[f"depth_{depth}_ratio"] = round(rates["mcp_stdio"] / rates["floor"], 3)
    finally:
        await client.close()
        await floor.close()
    ctx.record("pipelined_throughput", metrics,
               note="best of 3 alternated runs each; ratio = mcp_stdio rps / floor rps (higher is better)")


async def _throughput(call, args: dict, depth: int, total: int) -> float:
    count = max(depth, total if depth > 1 else total // 4)
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call("echo", args)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(depth)))
    return count / (time.perf_counter() - start)


async def large_messages(ctx: Context) -> None:
    """1, 10 and 50 MiB responses: time against the floor, and client peak memory."""
    sizes = (1, 10, 50) if not ctx.quick else (1, 10)
    client = (await ctx.open(1, timeout=120))[0]
    floor = ctx.floor()
    await floor.start()
    ctx.handshakes += 1
    metrics: dict = {}
    try:
        for index, mib in enumerate(sizes):
            ctx.progress(f"large_messages {mib} MiB", index + 1, len(sizes))
            args = {"size": mib * MIB}
            times = {"mcp_stdio": [], "floor": []}
            for _ in range(3):
                for name, call in (("mcp_stdio", client.call_tool), ("floor", floor.call_tool)):
                    collect()
                    start = time.perf_counter()
                    result = await call("blob", args)
                    times[name].append(time.perf_counter() - start)
                    assert len(result["content"][0]["text"]) == mib * MIB
                    del result
            ours, theirs = min(times["mcp_stdio"]), min(times["floor"])
            metrics[f"{mib}mib_s"] = round(ours, 4)
            metrics[f"{mib}mib_floor_s"] = round(theirs, 4)
            metrics[f"{mib}mib_ratio"] = round(ours / theirs, 3)
            # Peak Python heap while the answer is read, parsed and returned, relative to the
            # message size (measured in a separate call: tracemalloc slows everything down).
            collect()
            tracemalloc.start()
            try:
                tracemalloc.reset_peak() if hasattr(tracemalloc, "reset_peak") else None
                base = tracemalloc.get_traced_memory()[0]
                result = await client.call_tool("blob", args)
                peak = tracemalloc.get_traced_memory()[1] - base
                del result
            finally:
                tracemalloc.stop()
            metrics[f"{mib}mib_peak_heap_x"] = round(peak / (mib * MIB), 2)
    finally:
        await client.close()
        await floor.close()
    ctx.record("large_messages", metrics,
               note="best of 3; peak_heap_x = client peak Python heap during the call / message size")
