"""Group ``stress``: leaks, connection churn, and the concurrency ramp until something binds."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..leakcheck import check_cycles
from .common import Context, collect, group_memory, open_fd_count, percentiles, rss_bytes
from .stats import estimate, interleave, ratio_estimate, timed_trial

# Servers whose memory is read at each level of the ramp (the rest is extrapolated):
# reading /proc/PID/smaps_rollup of thousands of processes at every level takes minutes.
RAMP_MEMORY_SAMPLE = 64
# The ramp stops when the machine's available memory falls below this fraction of its total.
RAMP_MEMORY_FLOOR = 0.1


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    await leak(ctx)
    await churn(ctx)
    await ramp(ctx)


async def leak(ctx: Context) -> None:
    """Heap, fds, tasks and children left after many create/initialize/call/close cycles."""
    cycles = ctx.leak_cycles if ctx.leak_cycles else ctx.size(200, 20)
    warmup = ctx.size(30, 5)
    workload = await ctx.workload()
    wrong = 0
    done = 0

    async def cycle() -> None:
        nonlocal wrong, done
        client = ctx.client()
        await client.start()
        ctx.handshakes += 1
        if not await workload.call(client, "leak?"):
            wrong += 1
        await client.close()
        done += 1
        if done % 10 == 0:
            ctx.progress("leak", max(0, done - warmup), cycles)

    report = await check_cycles(cycle, cycles, warmup)
    metrics = report.as_dict()
    top = metrics.pop("top_growth")
    growth = metrics.pop("heap_growth_bytes") / 1024
    metrics["heap_growth_kib"] = round(growth, 2)
    metrics["growth_per_1000_cycles_kib"] = round(growth / cycles * 1000, 2)
    metrics["wrong_answers"] = wrong
    metrics["call"] = workload.name
    ctx.record("leak", metrics, note=f"{warmup} warm-up cycles, then {cycles} measured; top growth: "
               + ("; ".join(f"{t['site']} {t['bytes']:+d} B" for t in top[:3]) or "none"))


async def _bounded(one, count: int, concurrency: int) -> None:
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def churn(ctx: Context) -> None:
    """Connections per second (spawn, handshake, close), 10 at a time, against the floor.

    The ratio uses the light server (with the reference server, whose start-up costs ten
    times more, it would measure the server); the benchmark server's own rate follows.
    """
    pairs, block, concurrency = ctx.size(25, 6), ctx.size(20, 10), 10
    light = ctx.light
    a, b = await interleave(lambda: timed_trial(lambda: _bounded(lambda: ctx.cycle(light), block, concurrency)),
                            lambda: timed_trial(lambda: _bounded(lambda: ctx.floor_cycle(light), block, concurrency)),
                            pairs, lambda i, n: ctx.progress("churn", i, n))
    metrics: dict[str, Any] = {
        "server": "light" if ctx.reference else "benchmark",
        "connections": pairs * block, "concurrency": concurrency, "pairs": pairs,
        "connections_per_s": estimate([block / w for w in a["wall"]], "connections/s"),
        "floor_connections_per_s": estimate([block / w for w in b["wall"]], "connections/s"),
        "ratio": ratio_estimate(a["wall"], b["wall"], rate=True),
        "cpu_per_connection_ms": estimate([c / block * 1e3 for c in a["cpu"]], "ms"),
        "floor_cpu_per_connection_ms": estimate([c / block * 1e3 for c in b["cpu"]], "ms"),
        "cpu_ratio": ratio_estimate(a["cpu"], b["cpu"]),
    }
    if ctx.reference:
        count = ctx.size(60, 10)
        ctx.progress(f"churn: {count} connections of the reference server")
        timing = await timed_trial(lambda: _bounded(ctx.cycle, count, concurrency))
        metrics["reference_server_connections_per_s"] = round(count / timing["wall"], 1)
    server = "the light server (servers/minimal.py)" if ctx.reference else ctx.server_name
    ctx.record("churn", metrics, note=f"{pairs} pairs of {block} connections, {concurrency} at a time, against "
               f"{server}; ratio = connections per second, mcp_stdio / floor (higher is better); cpu = this "
               "process's CPU per connection")


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


def ramp_levels(target: int, quick: bool) -> list[int]:
    """Return the session counts the ramp measures, up to ``target`` (always the last)."""
    if quick:
        levels = list(range(10, target + 1, 10))
    else:
        levels = [n for n in (50, 100, 200, 300, 500, 700, 1000) if n < target]
        step = 500
        top = max(levels, default=0)
        while top + step < target:
            top += step
            levels.append(top)
    if not levels or levels[-1] != target:
        levels.append(target)
    return levels


def _memory_available() -> tuple[int | None, int | None]:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in meminfo}
        return info.get("MemAvailable"), info.get("MemTotal")
    except OSError:
        return None, None


async def ramp(ctx: Context) -> None:
    """Open sessions level by level until one fails, the safe capacity, or --max-concurrent."""
    from .limits import capacity_report

    report = await capacity_report(ctx)
    capacity = report.get("estimated_capacity") or 0
    target, why = capacity, f"reached the estimated safe capacity ({capacity:,} sessions, bound by " \
                            f"{report.get('binding_limit')})"
    if ctx.max_concurrent is not None and ctx.max_concurrent < target:
        target, why = ctx.max_concurrent, f"reached --max-concurrent {ctx.max_concurrent:,} (the estimated " \
                                          f"safe capacity is {capacity:,})"
    if ctx.quick and target > 50:
        target, why = 50, f"reached the --quick limit of 50 (the estimated safe capacity is {capacity:,})"
    workload = await ctx.workload()
    clients: list = []
    levels = []
    stopped = why
    failed_at = None
    collect()
    empty = await measure_loop_lag(ctx.size(300, 50))
    fds0, rss0 = open_fd_count(), rss_bytes()
    started = time.perf_counter()
    try:
        for level in ramp_levels(target, ctx.quick):
            ctx.progress(f"ramp to {target:,} sessions", level, target)
            opened = time.perf_counter()
            try:
                clients += await ctx.open(level - len(clients), concurrency=50, timeout=120, startup_timeout=120)
            except Exception as exc:  # the ramp reports why it stopped
                stopped, failed_at = f"failed opening sessions {len(clients) + 1}-{level}: " \
                                     f"{type(exc).__name__}: {exc}", level
                break
            open_s = time.perf_counter() - opened
            calls = await asyncio.gather(*(workload.call(c, f"ramp-{i}") for i, c in enumerate(clients)),
                                         return_exceptions=True)
            failed = [c for c in calls if c is not True]
            lag = await measure_loop_lag(ctx.size(300, 50))
            sample = clients[:: max(1, len(clients) // RAMP_MEMORY_SAMPLE)][:RAMP_MEMORY_SAMPLE]
            servers = group_memory([c.pid for c in sample])
            scale = len(clients) / len(sample)
            available, total = _memory_available()
            levels.append({
                "sessions": len(clients), "call_failures": len(failed),
                "open_s": round(open_s, 2),
                "fds": open_fd_count() - fds0, "client_rss_mib": round((rss_bytes() - rss0) / 2**20, 1),
                "servers_pss_mib": round(servers["pss"] * scale / 2**20, 1),
                "servers_uss_mib": round(servers["uss"] * scale / 2**20, 1),
                "memory_available_mib": round(available / 2**20) if available else None,
                "timer_lag_p50_ms": lag["timer_lag_p50_ms"], "timer_lag_p99_ms": lag["timer_lag_p99_ms"],
                "task_start_p99_ms": lag["task_start_p99_ms"],
            })
            if failed:
                stopped, failed_at = f"{len(failed)} of {len(clients)} calls failed: {failed[0]!r}", level
                break
            if available and total and available < total * RAMP_MEMORY_FLOOR:
                stopped = f"memory available fell to {available / 2**20:,.0f} MiB " \
                          f"(below {RAMP_MEMORY_FLOOR:.0%} of the total)"
                break
    finally:
        ctx.progress(f"ramp: closing {len(clients):,} sessions")
        await asyncio.gather(*(c.close() for c in clients))
    reached = levels[-1]["sessions"] if levels else 0
    metrics = {
        "target": target, "estimated_capacity": capacity, "max_concurrent": ctx.max_concurrent,
        "reached": reached, "success": failed_at is None and reached == target,
        "stopped_because": stopped, "failed_at": failed_at, "call": workload.name,
        "seconds": round(time.perf_counter() - started, 1), "levels": levels,
        "empty_timer_lag_p99_ms": empty["timer_lag_p99_ms"], "empty_task_start_p99_ms": empty["task_start_p99_ms"],
    }
    at_1000 = [lv for lv in levels if lv["sessions"] == 1000]
    if at_1000:
        metrics["timer_lag_p99_at_1000_ms"] = at_1000[0]["timer_lag_p99_ms"]
    if levels:
        metrics["timer_lag_p99_at_top_ms"] = levels[-1]["timer_lag_p99_ms"]
    ctx.record("ramp", metrics, note=f"server: {ctx.server_name}; sessions opened 50 at a time; at each level "
               "every session makes one call, then the loop's timer lag is sampled (asyncio.sleep(2 ms) "
               f"lateness); servers' memory from up to {RAMP_MEMORY_SAMPLE} sampled servers, scaled")
