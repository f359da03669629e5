#!/usr/bin/env python3
"""Seeded, structure-aware fuzzers of the whole client and of the reference server (issue 11).

Usage:
    python tools/fuzz.py --target client --seed 1 --messages 2000
    python tools/fuzz.py --target server --seed 1 --messages 2000
    python tools/fuzz.py --target client --seed 1 --messages 1000000     # a long run
    python tools/fuzz.py --target client --seed 7 --iteration 123 --shrink  # replay one

``--target client`` drives :class:`mcp_stdio.Client` against a peer that sends mutated
server messages (tools/mcpfuzz/client_target.py); ``--target server`` drives the
reference server, a child process, with mutated client messages
(tools/mcpfuzz/server_target.py). Each iteration is one connection planned from its own
``random.Random(f"{target}:{seed}:{iteration}")``: the same seed sends the same messages.
Progress goes to stderr; the summary (messages sent, findings, seconds) to stdout, as
JSON. Exit status 1 on any finding, after printing the seed, the iteration and the
messages that reproduce it (shrunk with ``--shrink``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from mcpfuzz import client_target, server_target  # noqa: E402
from mcpfuzz.common import MAX_LAG, Monitor  # noqa: E402

__all__ = ["run", "replay", "main"]

# Findings kept with their messages (the first ones; the rest are counted).
MAX_REPORTED = 10


def _target(name: str):
    if name == "client":
        return client_target
    if name == "server":
        return server_target
    raise ValueError(f"target must be 'client' or 'server', not {name!r}")


async def _run(target: str, seed: int, messages: int, *, iterations: list | None = None,
               subprocess_every: int = 0, progress: bool = False, max_seconds: float | None = None,
               plan_filter=None, server_command: list | None = None) -> dict:
    module = _target(target)
    started = time.perf_counter()
    sent = 0
    findings: list = []
    reports: list = []
    index = 0
    done = 0
    seen = 0  # the monitor's findings already reported
    outcomes: dict = {}  # how the driver's requests ended (client target)
    last_progress = started
    gc.collect()
    gc.disable()  # collected between iterations instead (Monitor.collect)
    async with Monitor(MAX_LAG if target == "client" else None) as monitor:
        try:
            while (sent < messages) if iterations is None else (done < len(iterations)):
                iteration = iterations[done] if iterations is not None else index
                monitor.iteration = iteration
                with monitor.pause():  # the fuzzer's own work
                    plan = module.make_plan(seed, iteration)
                if plan_filter is not None:
                    plan = plan_filter(plan)
                if target == "server":
                    outcome = await module.run_iteration(plan, monitor, command=server_command)
                else:
                    outcome = await module.run_iteration(plan, monitor, subprocess=bool(
                        subprocess_every and index % subprocess_every == subprocess_every - 1))
                index += 1
                done += 1
                # Collected now, so that what the iteration left behind (a future whose
                # exception nobody retrieved...) is reported with it.
                monitor.collect(full=index % 50 == 0 or iterations is not None)
                for name, count in outcome.get("outcomes", {}).items():
                    outcomes[name] = outcomes.get(name, 0) + count
                found = outcome["findings"] + monitor.findings[seen:]
                seen = len(monitor.findings)
                sent += outcome["messages"]
                if found:
                    findings.extend(found)
                    if len(reports) < MAX_REPORTED:
                        reports.append({"iteration": iteration, "findings": [f.line() for f in found],
                                        "messages": [line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")[:2000]
                                                     for line in outcome["sent"]],
                                        "received": [line.decode("utf-8", "backslashreplace")[:2000]
                                                     for line in outcome.get("received", ())],
                                        "stderr": outcome.get("stderr", b"").decode("utf-8", "replace")})
                if index == 3:
                    gc.freeze()  # what the first iterations loaded stays: later collections skip it
                now = time.perf_counter()
                if progress and now - last_progress >= 5:
                    last_progress = now
                    print(f"fuzz {target} seed {seed}: {sent} messages, {index} iterations, "
                          f"{len(findings)} findings, {now - started:.0f} s", file=sys.stderr, flush=True)
                if max_seconds is not None and now - started > max_seconds:
                    break
            monitor.collect(full=True)
            findings.extend(monitor.findings[seen:])
        finally:
            gc.unfreeze()
            gc.enable()
    return {"target": target, "seed": seed, "messages": sent, "iterations": index,
            "findings": [f.line() for f in findings], "reports": reports,
            "kinds": sorted({f.kind for f in findings}),
            "seconds": round(time.perf_counter() - started, 2), "max_lag_ms": round(monitor.max_seen_lag * 1000, 1),
            "noisy_lags": monitor.noisy_lags, "outcomes": dict(sorted(outcomes.items()))}


def run(target: str = "client", seed: int = 1, messages: int = 2000, **options) -> dict:
    """Run ``target`` with ``seed`` until ``messages`` messages were sent (or over the
    ``iterations`` given); return the summary."""
    if options.get("iterations") is not None:
        options["iterations"] = list(options["iterations"])
    return asyncio.run(_run(target, seed, messages, **options))


def replay(target: str, seed: int, iteration: int, **options) -> dict:
    """Run one iteration of ``seed`` again; return the summary."""
    return asyncio.run(_run(target, seed, 0, iterations=[iteration], **options))


def plan_text(target: str, seed: int, iterations: int) -> list:
    """Return the messages the first ``iterations`` plans send (references unresolved)."""
    module = _target(target)
    out: list = []
    for iteration in range(iterations):
        out.extend(module.make_plan(seed, iteration).messages_text())
    return out


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("client", "server"), default="client")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--messages", type=int, default=2000, help="messages to send (default 2000)")
    parser.add_argument("--iteration", type=int, action="append", help="replay only this iteration (repeatable)")
    parser.add_argument("--iterations", type=int, default=None,
                        help="run iterations 0..N-1 (whatever the messages they send) instead of --messages")
    parser.add_argument("--subprocess-every", type=int, default=0,
                        help="client target: run every N-th iteration against a child process")
    parser.add_argument("--shrink", action="store_true", help="shrink the messages of the first failing iteration")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--server-command", nargs="+", default=None,
                        help="server target: the server to run instead of the reference server")
    args = parser.parse_args(argv)
    iterations = args.iteration if args.iteration else list(range(args.iterations)) if args.iterations else None
    report = asyncio.run(_run(args.target, args.seed, args.messages, iterations=iterations,
                              subprocess_every=args.subprocess_every, progress=True, max_seconds=args.max_seconds,
                              server_command=args.server_command))
    if report["findings"] and args.shrink:
        from mcpfuzz.shrink import shrink

        first = report["reports"][0]["iteration"]
        report["shrunk"] = shrink(args.target, args.seed, first)
    summary = {key: report[key] for key in ("target", "seed", "messages", "iterations", "seconds", "max_lag_ms",
                                            "noisy_lags", "kinds", "outcomes")}
    summary["findings"] = len(report["findings"])
    print(json.dumps(summary))
    if report["findings"]:
        print(f"FINDINGS with --target {args.target} --seed {args.seed}:")
        for item in report["reports"]:
            print(f"\n--- iteration {item['iteration']} (replay: python tools/fuzz.py --target {args.target} "
                  f"--seed {args.seed} --iteration {item['iteration']})")
            for line in item["findings"]:
                print("  " + line)
            print("  messages sent:")
            for line in item["messages"][:500]:
                print("    " + line[:300])
            if item["received"]:
                print(f"  the {args.target} wrote:")
                for line in item["received"][:60]:
                    print("    " + line.rstrip()[:300])
            if item["stderr"]:
                print("  the end of its stderr:")
                print("    " + item["stderr"][-1500:].replace("\n", "\n    "))
        if "shrunk" in report:
            print("\nsmallest reproducer found:")
            print(json.dumps(report["shrunk"], indent=1)[:20000])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
