"""The command line of the benchmark suite: ``python -m mcp_stdio.bench GROUP... [options]``.

Progress goes to stderr; stdout gets the summary (capacity, churn, latency, memory, leak,
loop lag, pool, faults) and the checks, every value with its unit. The exit status is 1
when a check is missed, a group could not run, the servers' handshake count differs from
the bench's, or ``--baseline`` finds a regression; an inconclusive check does not fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
import tempfile
import time
from typing import Any

from . import (
    GROUPS,
    checks,
    compare,
    count_handshakes,
    machine_facts,
    make_baseline,
    raise_fd_limit,
    run_groups,
)
from .common import Context, load_average

SCHEMA = "mcp_stdio.bench/2"


class Progress:
    """Progress lines on stderr: one line rewritten in place on a terminal, plain lines elsewhere."""

    def __init__(self, stream=sys.stderr) -> None:
        self._stream = stream
        self._tty = hasattr(stream, "isatty") and stream.isatty()
        self._last = ""

    def __call__(self, line: str) -> None:
        if line == self._last:
            return
        self._last = line
        if self._tty:
            self._stream.write("\r\033[K" + line[:150])
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def done(self) -> None:
        if self._tty and self._last:
            self._stream.write("\r\033[K")
            self._stream.flush()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_stdio.bench",
        description="Benchmark MCP stdio clients with real spawns and real handshakes.")
    parser.add_argument("groups", nargs="+", metavar="GROUP",
                        help=f"'all' or any of: {', '.join(GROUPS)}")
    parser.add_argument("--server", help='server command line, e.g. "npx -y @scope/server" '
                        "(default: the reference server)")
    parser.add_argument("--quick", action="store_true", help="small sizes: all groups in a few minutes")
    parser.add_argument("--max-concurrent", type=int, default=None,
                        help="top of the concurrency ramp (default: the estimated safe capacity)")
    parser.add_argument("--leak-cycles", type=int, default=0,
                        help="cycles measured by the leak test (default 200, 20 with --quick)")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"),
                        help="directory for the JSON results (default benchmarks/results/)")
    parser.add_argument("--report", metavar="FILE.md", help="write a Markdown report with SVG charts")
    parser.add_argument("--baseline", metavar="FILE", help="compare with a baseline; exit 1 on regression")
    parser.add_argument("--save-baseline", metavar="FILE", help="write a baseline (with intervals) from this run")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    wanted = []
    for group in args.groups:
        names = list(GROUPS) if group == "all" else [group]
        for name in names:
            if name not in GROUPS:
                parser.error(f"unknown group {name!r}; choose from all, {', '.join(GROUPS)}")
            if name not in wanted:
                wanted.append(name)
    args.groups = wanted
    return args


async def _run(ctx: Context, groups: list[str], loads: list[float]) -> None:
    """Run the groups, sampling the machine's load average every 10 s (for the report)."""

    async def sample() -> None:
        while True:
            value = load_average()
            if value is not None:
                loads.append(value)
            await asyncio.sleep(10)

    sampler = asyncio.ensure_future(sample())
    try:
        await run_groups(ctx, groups)
    finally:
        sampler.cancel()
        try:
            await sampler
        except asyncio.CancelledError:
            pass


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark command line; return the exit status."""
    from .summary import capacity_lines, summary

    args = parse_args(argv)
    nofile = raise_fd_limit()
    progress = None if args.quiet else Progress()
    stats_fd, stats_path = tempfile.mkstemp(prefix="mcp_stdio-bench-", suffix=".jsonl")
    os.close(stats_fd)
    server = shlex.split(args.server) if args.server else None
    ctx = Context(server, args.quick, args.max_concurrent, progress, stats_path)
    ctx.leak_cycles = args.leak_cycles
    started = time.time()
    loads: list[float] = []
    load_start = load_average()
    try:
        asyncio.run(_run(ctx, args.groups, loads))
    finally:
        if progress is not None:
            progress.done()
        counted = count_handshakes(stats_path)
        os.unlink(stats_path)
    load_end = load_average()
    verifiable = ctx.reference and ctx.handshakes > 0
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "machine": dict(machine_facts(), rlimit_nofile=nofile),
        "load_average": {"start": load_start, "end": load_end,
                         "max": max(loads + [x for x in (load_start, load_end) if x is not None], default=None),
                         "samples_every_10s": loads},
        "settings": {"groups": args.groups, "quick": args.quick, "max_concurrent": args.max_concurrent,
                     "server": ctx.command, "reference": ctx.reference, "light_server": ctx.light},
        "handshakes": {"performed": ctx.handshakes,
                       "counted": counted if verifiable else None,
                       "verified": (counted == ctx.handshakes) if verifiable else None},
        "results": ctx.results,
        "errors": ctx.errors,
        "skipped": ctx.skipped,
        "checks": checks(ctx.results, args.groups),
    }
    comparison = None
    if args.baseline:
        with open(args.baseline, encoding="utf-8") as source:
            baseline = json.load(source)
        comparison = {"file": args.baseline, "machine": baseline.get("machine"), "created": baseline.get("created"),
                      "rows": compare(ctx.results, baseline)}
        document["baseline"] = comparison
    os.makedirs(args.out, exist_ok=True)
    out_path = os.path.join(args.out, time.strftime("bench-%Y%m%d-%H%M%S.json", time.gmtime(started)))
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=1)
    matrix: dict[str, Any] = ctx.results.get("faults", {}).get("matrix", {}).get("metrics", {})
    if matrix.get("rows"):
        from .faults import table

        rows = matrix["rows"] if args.groups == ["faults"] else [
            row for row in matrix["rows"] if not row["handled"] or row["left_behind"] != "nothing"]
        if rows:
            print(table(rows))
    if args.groups == ["limits"]:
        print("\n".join(capacity_lines(document)))
    else:
        print("\n".join(summary(document)))
    print(f"results: {out_path}")
    for group, error in ctx.errors.items():
        print(f"   ERROR  group {group} could not run: {error}")
    if args.report:
        from .report import write_report

        files = write_report(args.report, document)
        print(f"report: {', '.join(files)}")
    if args.save_baseline:
        with open(args.save_baseline, "w", encoding="utf-8") as out:
            json.dump(make_baseline(document), out, indent=1)
        print(f"baseline saved: {args.save_baseline}")
    status = 0
    if ctx.errors:
        print(f"ERROR: {len(ctx.errors)} group(s) could not run: {', '.join(ctx.errors)}", file=sys.stderr)
        status = 1
    if verifiable and not document["handshakes"]["verified"]:
        print("ERROR: the servers did not count the handshakes the bench reports", file=sys.stderr)
        status = 1
    missed = [check["name"] for check in document["checks"] if check["status"] == "missed"]
    if missed:
        print(f"MISSED: {len(missed)} check(s): {'; '.join(missed)}", file=sys.stderr)
        status = 1
    if comparison is not None:
        regressions = [row for row in comparison["rows"] if row["status"] == "regressed"]
        for row in regressions:
            print(f"REGRESSION {row['metric']}: {row['why']}", file=sys.stderr)
        if regressions:
            status = 1
        else:
            measured = sum(row["status"] == "ok" for row in comparison["rows"])
            print(f"no regression against {args.baseline} ({measured} metrics compared)")
    return status


if __name__ == "__main__":
    sys.exit(main())
