#!/usr/bin/env python3
"""Soak: many requests on one session, then many connection cycles, under the leak checker.

Usage: python tools/soak.py [--requests 1000000] [--cycles 10000] [--report-every N]

It first times a short warm-up and prints the expected duration. Then it prints the Python
heap (tracemalloc), RSS, open fds, asyncio tasks and live children at regular points, so
that a flat line can be seen, and a final leak report for each phase. Ctrl-C (SIGINT) or
SIGTERM stops it cleanly after the current batch: the sessions are closed and the leak
reports cover what was done (exit status 130). Exit status 1 if either phase leaked (heap
growth over 64 KiB after warm-up, or any fd, task or child left).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mcp_stdio  # noqa: E402
from mcp_stdio.bench.common import open_fd_count, reference_command, rss_bytes  # noqa: E402
from mcp_stdio.leakcheck import LeakCheck, live_children  # noqa: E402

# Warm-up before measuring: requests on the session, and connection cycles.
WARM_REQUESTS = 1000
WARM_CYCLES = 20


def sample(label: str, done: int) -> dict:
    point = {"phase": label, "done": done, "heap_kib": round(tracemalloc.get_traced_memory()[0] / 1024, 1),
             "rss_mib": round(rss_bytes() / 2**20, 1), "fds": open_fd_count(),
             "tasks": len(asyncio.all_tasks()), "children": len(live_children())}
    print(json.dumps(point), flush=True)
    return point


class _Stop:
    """Set by SIGINT or SIGTERM; the loops check it between batches."""

    def __init__(self) -> None:
        self.requested = False
        self.loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            try:
                self.loop.add_signal_handler(number, self.set, number)
            except (NotImplementedError, RuntimeError):  # not the main thread, or no signals
                pass

    def set(self, number: int) -> None:
        if not self.requested:
            print(f"{signal.Signals(number).name}: stopping after the current batch", file=sys.stderr, flush=True)
        self.requested = True

    def remove(self) -> None:
        for number in (signal.SIGINT, signal.SIGTERM):
            try:
                self.loop.remove_signal_handler(number)
            except (NotImplementedError, RuntimeError):
                pass


async def soak(requests: int, cycles: int, every_requests: int, every_cycles: int, depth: int = 50) -> dict:
    command = reference_command()
    stop = _Stop()
    points = []
    args = {"text": "soak"}

    async def batch_of_requests(client: mcp_stdio.Client, count: int) -> None:
        remaining = count

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await client.call_tool("echo", args)

        await asyncio.gather(*(worker() for _ in range(depth)))

    async def cycle() -> None:
        async with mcp_stdio.connect(command) as c:
            await c.call_tool("echo", {"text": "cycle"})

    try:
        async with mcp_stdio.connect(command) as client:
            started = time.perf_counter()
            await batch_of_requests(client, WARM_REQUESTS)
            per_request = (time.perf_counter() - started) / WARM_REQUESTS
            started = time.perf_counter()
            for _ in range(min(WARM_CYCLES, cycles)):
                await cycle()
            per_cycle = (time.perf_counter() - started) / max(1, min(WARM_CYCLES, cycles))
            # Cycles run every_cycles at a time: about that many times faster on idle cores.
            expected = requests * per_request + cycles * per_cycle / min(2, max(1, every_cycles))
            print(f"expected duration: about {expected:.0f} s ({1 / per_request:,.0f} requests/s, "
                  f"{1 / per_cycle:.1f} cycles/s one at a time, from the warm-up); Ctrl-C stops cleanly",
                  file=sys.stderr, flush=True)
            check = LeakCheck(ignore=(__file__,))
            check.start()
            done = 0
            while done < requests and not stop.requested:
                batch = min(every_requests, requests - done)
                await batch_of_requests(client, batch)
                done += batch
                points.append(sample("requests", done))
            check.cycles = done
            request_report = check.stop()
        check = LeakCheck(ignore=(__file__,))
        check.start()
        done_cycles = 0
        while done_cycles < cycles and not stop.requested:
            batch = min(every_cycles, cycles - done_cycles)
            await asyncio.gather(*(cycle() for _ in range(batch)))
            done_cycles += batch
            points.append(sample("cycles", done_cycles))
        check.cycles = done_cycles
        cycle_report = check.stop()
    finally:
        stop.remove()
    return {"requests": request_report, "cycles": cycle_report, "points": points, "interrupted": stop.requested,
            "requests_done": done, "cycles_done": done_cycles}


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
    elapsed = time.perf_counter() - started
    if result["interrupted"]:
        print(f"interrupted after {result['requests_done']:,} requests and {result['cycles_done']:,} cycles; "
              f"{'flat' if ok else 'LEAK'} so far, in {elapsed:.1f} s")
        return 130 if ok else 1
    print(f"{'flat' if ok else 'LEAK'} in {elapsed:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
