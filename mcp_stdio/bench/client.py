"""Group ``client``: creating and destroying clients, and the event loop's health."""

from __future__ import annotations

import asyncio
import time

from .common import Context, percentiles


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    await sequential_creation(ctx)
    await parallel_creation(ctx)
    await interleaved(ctx)
    await rapid_create_destroy(ctx)
    await loop_health(ctx)


async def sequential_creation(ctx: Context) -> None:
    """Start N clients one after the other, then close them all."""
    count = ctx.size(30, 5)
    ctx.progress("sequential_creation")
    start = time.perf_counter()
    clients = await ctx.open(count, concurrency=1)
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in clients))
    ctx.record("sequential_creation", {"clients": count, "total_s": round(elapsed, 3),
                                       "per_client_ms": round(elapsed / count * 1e3, 2)})


async def parallel_creation(ctx: Context) -> None:
    """Start N clients all at once."""
    count = ctx.size(50, 10)
    ctx.progress("parallel_creation")
    start = time.perf_counter()
    clients = await ctx.open(count)
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in clients))
    ctx.record("parallel_creation", {"clients": count, "total_s": round(elapsed, 3),
                                     "clients_per_s": round(count / elapsed, 1)})


async def interleaved(ctx: Context) -> None:
    """Create a client, start the previous one, and so on: creation is free of I/O."""
    count = ctx.size(30, 5)
    ctx.progress("interleaved_create_initialize")
    start = time.perf_counter()
    clients = []
    previous = None
    for _ in range(count):
        client = ctx.client()
        if previous is not None:
            await previous.start()
            ctx.handshakes += 1
        clients.append(client)
        previous = client
    await previous.start()
    ctx.handshakes += 1
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in clients))
    ctx.record("interleaved_create_initialize", {"clients": count, "total_s": round(elapsed, 3)})


async def rapid_create_destroy(ctx: Context) -> None:
    """Start and close clients back to back."""
    count = ctx.size(100, 10)
    start = time.perf_counter()
    for i in range(count):
        if i % 10 == 0:
            ctx.progress("rapid_create_destroy", i, count)
        await ctx.cycle()
    elapsed = time.perf_counter() - start
    ctx.record("rapid_create_destroy", {"cycles": count, "cycles_per_s": round(count / elapsed, 1)})


async def measure_loop_lag(samples: int, interval: float = 0.002) -> dict:
    """Return timer lateness and task start latency percentiles, in milliseconds."""
    loop = asyncio.get_running_loop()
    lags = []
    for _ in range(samples):
        expected = loop.time() + interval
        await asyncio.sleep(interval)
        lags.append(max(0.0, loop.time() - expected))
    starts = []

    async def probe(created: float) -> None:
        starts.append(time.perf_counter() - created)

    for _ in range(samples):
        await asyncio.ensure_future(probe(time.perf_counter()))
    result = {f"timer_lag_{k}_ms": round(v * 1e3, 3) for k, v in percentiles(lags).items()}
    result.update({f"task_start_{k}_ms": round(v * 1e3, 3) for k, v in percentiles(starts).items()})
    return result


async def loop_health(ctx: Context) -> None:
    """Timer and task latency while many idle clients are open (target: p99 < 5 ms at 1,000)."""
    count = ctx.size(1000, 30)
    ctx.progress(f"loop_health: opening {count} clients")
    baseline = await measure_loop_lag(ctx.size(300, 50))
    clients = await ctx.open(count, concurrency=50)
    try:
        ctx.progress(f"loop_health: measuring with {count} idle clients")
        loaded = await measure_loop_lag(ctx.size(1000, 100))
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    metrics = {"idle_clients": count}
    metrics.update(loaded)
    metrics.update({f"empty_{k}": v for k, v in baseline.items()})
    ctx.record("loop_health", metrics, note="timer lag = lateness of asyncio.sleep(2 ms)")
