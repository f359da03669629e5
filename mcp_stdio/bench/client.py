"""Group ``client``: creating and destroying clients (the event loop's health is measured by the
concurrency ramp of ``stress``, at each level)."""

from __future__ import annotations

import asyncio
import time

from ..client import Client
from .common import Context


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    await sequential_creation(ctx)
    await parallel_creation(ctx)
    await interleaved(ctx)
    await rapid_create_destroy(ctx)


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
    previous: Client | None = None
    for _ in range(count):
        client = ctx.client()
        if previous is not None:
            await previous.start()
            ctx.handshakes += 1
        clients.append(client)
        previous = client
    if previous is not None:
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
    ctx.record("rapid_create_destroy", {"cycles": count, "cycles_per_s": round(count / elapsed, 1),
                                        "ms_per_cycle": round(elapsed / count * 1e3, 2)},
               note=f"start and close, one after the other, against {ctx.server_name}")
