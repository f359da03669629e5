"""Group ``stress``: per-session costs, leaks, churn, and the concurrency ramp."""

from __future__ import annotations

import asyncio
import time
import tracemalloc

from ..leakcheck import check_cycles
from .client import measure_loop_lag
from .common import Context, children_memory, collect, open_fd_count, rss_bytes


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    await session_cost(ctx)
    await leak(ctx)
    await churn(ctx)
    await max_concurrent(ctx)


async def session_cost(ctx: Context) -> None:
    """Measure what one live session costs: fds, client RSS, client heap, server memory."""
    count = ctx.size(100, 10)
    ctx.progress("session_cost")
    collect()
    fds_before, rss_before = open_fd_count(), rss_bytes()
    clients = await ctx.open(count, concurrency=50)
    await asyncio.sleep(0.05)
    collect()
    fds_after, rss_after = open_fd_count(), rss_bytes()
    servers = children_memory([c.pid for c in clients])
    await asyncio.gather(*(c.close() for c in clients))
    # Heap per session, measured apart: tracemalloc slows the spawns it watches.
    collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    clients = await ctx.open(count, concurrency=50)
    collect()
    heap = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    await asyncio.gather(*(c.close() for c in clients))
    ctx.record("session_cost", {
        "sessions": count,
        "fds_per_session": round((fds_after - fds_before) / count, 2),
        "client_rss_per_session_kib": round((rss_after - rss_before) / count / 1024, 1),
        "client_heap_per_session_kib": round(heap / count / 1024, 2),
        "server_rss_per_session_kib": round(servers["rss"] / count / 1024, 1),
        "server_pss_per_session_kib": round(servers["pss"] / count / 1024, 1),
    }, note="heap from tracemalloc; RSS and fds from /proc; servers' PSS from /proc/PID/smaps_rollup")


async def leak(ctx: Context) -> None:
    """Heap, fds, tasks and children left after many create/initialize/close cycles."""
    cycles = ctx.leak_cycles if ctx.leak_cycles else ctx.size(200, 20)
    warmup = ctx.size(30, 5)
    ctx.progress(f"leak over {cycles} cycles")

    async def cycle() -> None:
        client = ctx.client()
        await client.start()
        ctx.handshakes += 1
        await client.call_tool("echo", {"text": "leak?"})
        await client.close()

    report = await check_cycles(cycle, cycles, warmup)
    metrics = report.as_dict()
    top = metrics.pop("top_growth")
    metrics["heap_growth_kib"] = round(metrics.pop("heap_growth_bytes") / 1024, 2)
    ctx.record("leak", metrics, note="top growth: " + "; ".join(f"{t['site']} {t['bytes']:+d} B" for t in top[:3]))


async def churn(ctx: Context) -> None:
    """Connections per second (spawn, handshake, close), 10 at a time, against the floor."""
    total = ctx.size(1000, 50)
    concurrency = 10
    block = max(concurrency, total // 10)
    elapsed = {"mcp_stdio": 0.0, "floor": 0.0}
    done = 0
    while done < total:
        ctx.progress("churn", done, total)
        for name, one in (("mcp_stdio", ctx.cycle), ("floor", ctx.floor_cycle)):
            start = time.perf_counter()
            await _bounded(one, block, concurrency)
            elapsed[name] += time.perf_counter() - start
        done += block
    ours, theirs = done / elapsed["mcp_stdio"], done / elapsed["floor"]
    ctx.record("churn", {"connections": done, "concurrency": concurrency,
                         "connections_per_s": round(ours, 1), "floor_connections_per_s": round(theirs, 1),
                         "ratio": round(ours / theirs, 3)},
               note="alternating blocks of mcp_stdio and floor; ratio = ours / floor (higher is better)")


async def _bounded(one, count: int, concurrency: int) -> None:
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def max_concurrent(ctx: Context) -> None:
    """Open sessions 50 at a time up to --max-concurrent; stop at the first failure."""
    step = 50 if not ctx.quick else 10
    top = ctx.max_concurrent if not ctx.quick else min(ctx.max_concurrent, 50)
    clients: list = []
    levels = []
    failure = None
    collect()
    fds0, rss0 = open_fd_count(), rss_bytes()
    try:
        while len(clients) < top:
            want = min(step, top - len(clients))
            ctx.progress("max_concurrent", len(clients) + want, top)
            try:
                clients += await ctx.open(want, concurrency=50, timeout=120, startup_timeout=120)
            except Exception as exc:  # the ramp reports why it stopped
                failure = f"{type(exc).__name__}: {exc}"
                break
            pings = await asyncio.gather(*(c.ping() for c in clients), return_exceptions=True)
            failed = [p for p in pings if isinstance(p, BaseException)]
            lag = await measure_loop_lag(50)
            servers = children_memory([c.pid for c in clients])
            levels.append({
                "sessions": len(clients), "ping_failures": len(failed),
                "fds": open_fd_count() - fds0, "client_rss_mib": round((rss_bytes() - rss0) / 2**20, 1),
                "servers_pss_mib": round(servers["pss"] / 2**20, 1),
                "timer_lag_p99_ms": lag["timer_lag_p99_ms"],
            })
            if failed:
                failure = f"{len(failed)} pings failed at {len(clients)} sessions: {failed[0]}"
                break
    finally:
        ctx.progress(f"max_concurrent: closing {len(clients)}")
        await asyncio.gather(*(c.close() for c in clients))
    reached = levels[-1]["sessions"] if levels and not failure else (levels[-1]["sessions"] if levels else 0)
    ctx.record("max_concurrent", {
        "target": top, "reached": reached, "success": failure is None and reached == top,
        "stopped_because": failure or "reached the target", "levels": levels,
    })
