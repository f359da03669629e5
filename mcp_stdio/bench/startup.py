"""Group ``startup``: import time, spawn-to-ready and close latency, the reference server's start.

* ``import_time``: ``import mcp_stdio`` and its client beyond ``import asyncio``, in fresh
  interpreters, as a median with its 95 % interval.
* ``spawn_to_ready``: spawn plus handshake, and close, for mcp_stdio and the floor in
  interleaved trials against the light server (against the reference server the ratio
  would mostly measure the server's own start; with ``--server``, that server).
* ``reference_server``: what the reference server costs to start: its import time in a
  fresh ``python -S``, and spawn-to-ready with mcp_stdio.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from .common import Context, package_parent, reference_command
from .stats import estimate, interleave, ratio_estimate

_IMPORT_PROBE = (
    "import time; t0 = time.perf_counter(); import asyncio; t1 = time.perf_counter(); "
    "import mcp_stdio; from mcp_stdio import connect; t2 = time.perf_counter(); "
    "print(t1 - t0, t2 - t1)"
)
_BARE_PROBE = "import time; t0 = time.perf_counter(); import mcp_stdio; print(time.perf_counter() - t0)"
_SERVER_PROBE = ("import time; t0 = time.perf_counter(); import mcp_stdio.server, mcp_stdio.reference; "
                 "print(time.perf_counter() - t0)")


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    import_time(ctx)
    await spawn_to_ready(ctx)
    if ctx.reference:
        await reference_server(ctx)


def _probe(code: str, *options: str) -> list[float]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = package_parent()
    out = subprocess.run([sys.executable, *options, "-c", code], capture_output=True, text=True, env=env,
                         check=True, cwd=package_parent())
    return [float(x) for x in out.stdout.split()]


def import_time(ctx: Context) -> None:
    """``import mcp_stdio`` (plus its client) beyond ``import asyncio``, in fresh interpreters."""
    runs = ctx.size(21, 7)
    _probe(_IMPORT_PROBE)  # warm-up: lets Python cache bytecode where it can
    asyncio_times, extra_times, bare_times = [], [], []
    for i in range(runs):
        ctx.progress("import_time", i + 1, runs)
        asyncio_s, extra_s = _probe(_IMPORT_PROBE)
        asyncio_times.append(asyncio_s * 1e3)
        extra_times.append(extra_s * 1e3)
        bare_times.append(_probe(_BARE_PROBE)[0] * 1e3)
    ctx.record("import_time", {
        "asyncio_ms": estimate(asyncio_times, "ms"),
        "mcp_stdio_client_beyond_asyncio_ms": estimate(extra_times, "ms"),
        "mcp_stdio_package_alone_ms": estimate(bare_times, "ms"),
        "runs": runs,
    }, note="fresh interpreters; 'beyond asyncio' = import mcp_stdio and its client after asyncio is loaded")


async def spawn_to_ready(ctx: Context) -> None:
    """Spawn + handshake latency and close latency, mcp_stdio and floor interleaved."""
    pairs = ctx.size(40, 8)
    light = ctx.light
    clock = time.perf_counter

    async def ours() -> dict:
        client = ctx.client(light)
        start = clock()
        await client.start()
        ready = clock() - start
        ctx.handshakes += 1
        start = clock()
        await client.close()
        return {"ready": ready, "close": clock() - start}

    async def floor() -> dict:
        client = ctx.floor(light)
        start = clock()
        await client.start()
        ready = clock() - start
        ctx.handshakes += 1
        start = clock()
        await client.close()
        return {"ready": ready, "close": clock() - start}

    a, b = await interleave(ours, floor, pairs, lambda i, n: ctx.progress("spawn_to_ready", i, n))
    ctx.record("spawn_to_ready", {
        "server": "light" if ctx.reference else "benchmark", "pairs": pairs,
        "ready_ms": estimate([v * 1e3 for v in a["ready"]], "ms"),
        "floor_ready_ms": estimate([v * 1e3 for v in b["ready"]], "ms"),
        "close_ms": estimate([v * 1e3 for v in a["close"]], "ms"),
        "floor_close_ms": estimate([v * 1e3 for v in b["close"]], "ms"),
        "ready_ratio": ratio_estimate(a["ready"], b["ready"]),
        "close_ratio": ratio_estimate(a["close"], b["close"]),
    }, note=f"against {'the light server (servers/minimal.py)' if ctx.reference else ctx.server_name}; "
            "ratio = mcp_stdio / floor (lower is better)")


async def reference_server(ctx: Context) -> None:
    """The reference server's import time, and its spawn-to-ready time with mcp_stdio."""
    runs = ctx.size(15, 6)
    imports, ready = [], []
    command = reference_command()
    _probe(_SERVER_PROBE, "-S")  # warm-up
    for i in range(runs):
        ctx.progress("reference_server", i + 1, runs)
        imports.append(_probe(_SERVER_PROBE, "-S")[0] * 1e3)
        client = ctx.client(command)
        start = time.perf_counter()
        await client.start()
        ready.append((time.perf_counter() - start) * 1e3)
        ctx.handshakes += 1
        await client.close()
    ctx.record("reference_server", {
        "runs": runs,
        "import_ms": estimate(imports, "ms"),
        "spawn_to_ready_ms": estimate(ready, "ms"),
    }, note="import = `import mcp_stdio.server, mcp_stdio.reference` in a fresh `python -S`; spawn_to_ready "
            "= mcp_stdio's start() of the reference server (spawn, interpreter start, imports, handshake)")
