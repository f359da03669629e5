"""Group ``scenarios``: the patterns of multi-agent hosts."""

from __future__ import annotations

import asyncio
import time

from .common import Context


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    await create_all_then_initialize_all(ctx)
    await interleaved_agents(ctx)
    await concurrent_initialization(ctx)
    await stress(ctx)


async def _start(ctx: Context, client) -> None:
    await client.start()
    ctx.handshakes += 1


async def create_all_then_initialize_all(ctx: Context) -> None:
    """Create N clients (no I/O), then initialize them all at once."""
    count = ctx.size(20, 5)
    ctx.progress("create_all_then_initialize_all")
    start = time.perf_counter()
    clients = [ctx.client() for _ in range(count)]
    created = time.perf_counter() - start
    await asyncio.gather(*(_start(ctx, c) for c in clients))
    total = time.perf_counter() - start
    workload = await ctx.workload()
    await asyncio.gather(*(workload.call(c, "hi") for c in clients))
    await asyncio.gather(*(c.close() for c in clients))
    ctx.record("create_all_then_initialize_all", {
        "clients": count, "create_ms": round(created * 1e3, 3), "total_s": round(total, 3)})


async def interleaved_agents(ctx: Context) -> None:
    """N agents, each creating its client and initializing it as soon as it exists."""
    count = ctx.size(20, 5)
    ctx.progress("interleaved_agents")
    workload = await ctx.workload()

    async def agent(index: int):
        await asyncio.sleep(index * 0.002)  # agents arrive one after the other
        client = ctx.client()
        await _start(ctx, client)
        await workload.call(client, str(index))
        return client

    start = time.perf_counter()
    clients = await asyncio.gather(*(agent(i) for i in range(count)))
    total = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in clients))
    ctx.record("interleaved_agents", {"agents": count, "total_s": round(total, 3)})


async def concurrent_initialization(ctx: Context) -> None:
    """Initialize 10 clients one by one, then 10 at once: the speed-up."""
    count = 10
    ctx.progress("concurrent_initialization: sequential")
    start = time.perf_counter()
    clients = []
    for _ in range(count):
        client = ctx.client()
        await _start(ctx, client)
        clients.append(client)
    sequential = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in clients))
    ctx.progress("concurrent_initialization: concurrent")
    start = time.perf_counter()
    clients = await ctx.open(count)
    concurrent = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in clients))
    ctx.record("concurrent_initialization", {
        "clients": count, "sequential_s": round(sequential, 3), "concurrent_s": round(concurrent, 3),
        "speedup": round(sequential / concurrent, 2)})


async def stress(ctx: Context) -> None:
    """50 sessions at once, each making calls concurrently; every call must succeed."""
    count = ctx.size(50, 10)
    calls = ctx.size(40, 10)
    ctx.progress(f"stress_{count}")
    workload = await ctx.workload()
    start = time.perf_counter()
    clients = await ctx.open(count)
    results = await asyncio.gather(
        *(workload.call(c, f"{i}-{j}") for i, c in enumerate(clients) for j in range(calls)),
        return_exceptions=True)
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in clients))
    ok = sum(1 for r in results if r is True)
    ctx.record(f"stress_{count}", {"sessions": count, "calls": len(results), "succeeded": ok,
                                   "success_rate": round(ok / len(results), 4), "total_s": round(elapsed, 3),
                                   "call": workload.name})
