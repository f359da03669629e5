#!/usr/bin/env python3
"""Soak: many requests on one session, then many connection cycles, under the leak checker.

Usage: python tools/soak.py [--requests 1000000] [--cycles 10000] [--report-every N]

Prints the Python heap (tracemalloc), RSS, open fds, asyncio tasks and live children at
regular points, so that a flat line can be seen, and a final leak report for each phase.
Exit status 1 if either phase leaked (heap growth over 64 KiB after warm-up, or any fd,
task or child left).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mcp_stdio  # noqa: E402
from mcp_stdio.bench.common import open_fd_count, reference_command, rss_bytes  # noqa: E402
from mcp_stdio.leakcheck import LeakCheck, live_children  # noqa: E402


def sample(label: str, done: int) -> dict:
    point = {"phase": label, "done": done, "heap_kib": round(tracemalloc.get_traced_memory()[0] / 1024, 1),
             "rss_mib": round(rss_bytes() / 2**20, 1), "fds": open_fd_count(),
             "tasks": len(asyncio.all_tasks()), "children": len(live_children())}
    print(json.dumps(point), flush=True)
    return point


async def soak(requests: int, cycles: int, every_requests: int, every_cycles: int, depth: int = 50) -> dict:
    command = reference_command()
    points = []
    async with mcp_stdio.connect(command) as client:
        for _ in range(1000):  # warm-up
            await client.call_tool("echo", {"text": "warm"})
        check = LeakCheck(ignore=(__file__,))
        check.start()
        done = 0
        args = {"text": "soak"}
        while done < requests:
            batch = min(every_requests, requests - done)
            remaining = batch

            async def worker():
                nonlocal remaining
                while remaining > 0:
                    remaining -= 1
                    await client.call_tool("echo", args)

            await asyncio.gather(*(worker() for _ in range(depth)))
            done += batch
            points.append(sample("requests", done))
        request_report = check.stop()

    async def cycle():
        async with mcp_stdio.connect(command) as c:
            await c.call_tool("echo", {"text": "cycle"})

    for _ in range(min(50, cycles)):
        await cycle()
    check = LeakCheck(ignore=(__file__,))
    check.start()
    done = 0
    while done < cycles:
        batch = min(every_cycles, cycles - done)
        await asyncio.gather(*(cycle() for _ in range(batch)))
        done += batch
        points.append(sample("cycles", done))
    check.cycles = cycles
    cycle_report = check.stop()
    return {"requests": request_report, "cycles": cycle_report, "points": points}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--report-every", type=int, default=0, help="requests between samples")
    args = parser.parse_args(argv)
    every_requests = args.report_every or max(1, args.requests // 20)
    every_cycles = max(1, min(10, args.cycles))
    started = time.perf_counter()
    result = asyncio.run(soak(args.requests, args.cycles, every_requests, every_cycles))
    ok = True
    for phase in ("requests", "cycles"):
        report = result[phase]
        print(f"{phase}: {report.describe()}")
        ok = ok and report.clean()
    print(f"{'flat' if ok else 'LEAK'} in {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
