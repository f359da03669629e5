"""Group ``startup``: import time, spawn-to-ready latency, close latency."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from .common import Context, percentiles

_IMPORT_PROBE = (
    "import time; t0 = time.perf_counter(); import asyncio; t1 = time.perf_counter(); "
    "import mcp_stdio; from mcp_stdio import connect; t2 = time.perf_counter(); "
    "print(t1 - t0, t2 - t1)"
)
_BARE_PROBE = "import time; t0 = time.perf_counter(); import mcp_stdio; print(time.perf_counter() - t0)"


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    import_time(ctx)
    await spawn_to_ready(ctx)


def _probe(code: str) -> list[float]:
    parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return [float(x) for x in out.stdout.split()]


def import_time(ctx: Context) -> None:
    """``import mcp_stdio`` (plus its client) beyond ``import asyncio``, in fresh interpreters."""
    runs = ctx.size(15, 5)
    _probe(_IMPORT_PROBE)  # warm-up: lets Python cache bytecode where it can
    asyncio_times, extra_times, bare_times = [], [], []
    for i in range(runs):
        ctx.progress("import_time", i + 1, runs)
        asyncio_s, extra_s = _probe(_IMPORT_PROBE)
        asyncio_times.append(asyncio_s)
        extra_times.append(extra_s)
        bare_times.append(_probe(_BARE_PROBE)[0])
    ctx.record("import_time", {
        "asyncio_ms": round(statistics.median(asyncio_times) * 1e3, 2),
        "mcp_stdio_client_beyond_asyncio_ms": round(statistics.median(extra_times) * 1e3, 2),
        "mcp_stdio_package_alone_ms": round(statistics.median(bare_times) * 1e3, 2),
        "runs": runs,
    }, note="medians; 'beyond asyncio' = import mcp_stdio and its client after asyncio is loaded")


async def spawn_to_ready(ctx: Context) -> None:
    """Spawn + handshake latency and close latency, mcp_stdio and floor alternated."""
    count = ctx.size(30, 8)
    ready, closing, floor_ready, floor_closing = [], [], [], []
    clock = time.perf_counter
    for i in range(count):
        ctx.progress("spawn_to_ready", i + 1, count)
        client = ctx.client()
        start = clock()
        await client.start()
        ready.append(clock() - start)
        ctx.handshakes += 1
        start = clock()
        await client.close()
        closing.append(clock() - start)
        floor = ctx.floor()
        start = clock()
        await floor.start()
        floor_ready.append(clock() - start)
        ctx.handshakes += 1
        start = clock()
        await floor.close()
        floor_closing.append(clock() - start)
    metrics = {}
    for name, samples in (("ready", ready), ("close", closing), ("floor_ready", floor_ready),
                          ("floor_close", floor_closing)):
        for key, value in percentiles(samples, (50, 90)).items():
            metrics[f"{name}_{key}_ms"] = round(value * 1e3, 2)
    metrics["ready_ratio_p50"] = round(metrics["ready_p50_ms"] / metrics["floor_ready_p50_ms"], 3)
    metrics["close_ratio_p50"] = round(metrics["close_p50_ms"] / metrics["floor_close_p50_ms"], 3)
    ctx.record("spawn_to_ready", metrics)
