"""``python -m mcp_stdio.bench``: an honest benchmark suite for MCP stdio clients.

Groups (one module each): ``client``, ``scenarios``, ``stress``, ``requests``,
``startup``, ``limits``, ``faults``; ``all`` runs them in that order. Every connection is a real spawn
and a real handshake. See README.rst, "Benchmarks", for the options and the JSON schema.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from typing import Any

__all__ = ["GROUPS", "CHECKS", "run_groups", "machine_facts", "checks", "flatten", "compare"]

GROUPS = ("client", "scenarios", "stress", "requests", "startup", "limits", "faults")

# The speed-to-lead targets: (name, metric path, comparison, target, what it means).
CHECKS = (
    ("sequential round trip vs floor", "requests.sequential_latency.ratio_p50", "<=", 1.2,
     "p50 latency of one tools/call, mcp_stdio / floor"),
    ("pipelined throughput, 1,000 in flight, vs floor", "requests.pipelined_throughput.depth_1000_ratio",
     ">=", 0.8, "requests per second, mcp_stdio / floor"),
    ("50 MiB response time vs floor", "requests.large_messages.50mib_ratio", "<=", 1.3,
     "seconds, mcp_stdio / floor"),
    ("50 MiB response peak heap", "requests.large_messages.50mib_peak_heap_x", "<", 3.0,
     "client peak Python heap / message size"),
    ("connection churn vs floor", "stress.churn.ratio", ">=", 0.95,
     "connections per second, mcp_stdio / floor"),
    ("client heap per live session", "stress.session_cost.client_heap_per_session_kib", "<=", 12.0,
     "KiB, tracemalloc"),
    ("leak: heap growth after warm-up", "stress.leak.heap_growth_kib", "<", 64.0, "KiB over the measured cycles"),
    ("leak: fds left", "stress.leak.fds_left", "<=", 0, "file descriptors"),
    ("leak: tasks left", "stress.leak.tasks_left", "<=", 0, "asyncio tasks"),
    ("leak: children left", "stress.leak.children_left", "<=", 0, "processes"),
    ("event-loop lag p99 with idle sessions", "client.loop_health.timer_lag_p99_ms", "<", 5.0,
     "milliseconds (the target is for 1,000 idle sessions)"),
    ("concurrent sessions, all successful", "stress.max_concurrent.success", "==", True,
     "every step of the ramp up to --max-concurrent"),
    ("import mcp_stdio beyond asyncio", "startup.import_time.mcp_stdio_client_beyond_asyncio_ms", "<", 15.0,
     "milliseconds"),
    ("fault matrix: every fault handled", "faults.matrix.all_handled", "==", True, "rows of the fault table"),
    ("fault matrix: nothing left behind", "faults.matrix.all_clean", "==", True,
     "no child, fd or task after any fault"),
)

# Metrics kept in a baseline: path -> (which way is better, relative tolerance). Ratios
# against the floor travel between machines; absolute times only compare on one machine.
BASELINE_METRICS = {
    "requests.sequential_latency.ratio_p50": ("lower", 0.25),
    "requests.pipelined_throughput.depth_1_ratio": ("higher", 0.25),
    "requests.pipelined_throughput.depth_100_ratio": ("higher", 0.25),
    "requests.pipelined_throughput.depth_1000_ratio": ("higher", 0.25),
    "requests.large_messages.10mib_ratio": ("lower", 0.3),
    "requests.large_messages.50mib_ratio": ("lower", 0.3),
    "requests.large_messages.10mib_peak_heap_x": ("lower", 0.2),
    "stress.churn.ratio": ("higher", 0.2),
    "stress.session_cost.client_heap_per_session_kib": ("lower", 0.2),
    "stress.session_cost.fds_per_session": ("lower", 0.0),
    "stress.leak.heap_growth_kib": ("lower", 1.0),
    "startup.import_time.mcp_stdio_client_beyond_asyncio_ms": ("lower", 0.5),
    "startup.spawn_to_ready.ready_ratio_p50": ("lower", 0.3),
    "client.loop_health.timer_lag_p99_ms": ("lower", 1.0),
}


def machine_facts() -> dict[str, Any]:
    """Return the facts about this machine that a reader of the numbers needs."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    facts: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "rlimit_nofile": list(nofile),
    }
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            facts["memory_total_bytes"] = int(meminfo.readline().split()[1]) * 1024
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    facts["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return facts


def raise_fd_limit() -> list[int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (each session holds pipes); return both."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    return list(resource.getrlimit(resource.RLIMIT_NOFILE))


def lookup(results: dict, path: str) -> Any:
    """Return the metric at ``group.test.metric`` in ``results``, or ``None``."""
    group, test, metric = path.split(".", 2)
    return results.get(group, {}).get(test, {}).get("metrics", {}).get(metric)


def checks(results: dict) -> list[dict[str, Any]]:
    """Evaluate :data:`CHECKS` against ``results``; unmeasured targets say so."""
    evaluated = []
    for name, path, op, target, meaning in CHECKS:
        value = lookup(results, path)
        if value is None:
            status = "not measured"
        else:
            ok = {"<=": value <= target, ">=": value >= target, "<": value < target,
                  "==": value == target}[op]
            status = "met" if ok else "missed"
        evaluated.append({"name": name, "metric": path, "value": value, "target": f"{op} {target}",
                          "status": status, "meaning": meaning})
    return evaluated


def flatten(results: dict) -> dict[str, Any]:
    """Return every scalar metric as ``{"group.test.metric": value}``."""
    flat = {}
    for group, tests in results.items():
        for test, entry in tests.items():
            for metric, value in entry.get("metrics", {}).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    flat[f"{group}.{test}.{metric}"] = value
    return flat


def make_baseline(results: dict) -> dict[str, Any]:
    """Return a baseline document from ``results``."""
    flat = flatten(results)
    metrics = {}
    for path, (better, tolerance) in BASELINE_METRICS.items():
        if path in flat:
            metrics[path] = {"value": flat[path], "better": better, "tolerance": tolerance}
    return {"schema": "mcp_stdio.bench.baseline/1", "machine": machine_facts(), "metrics": metrics}


def compare(results: dict, baseline: dict) -> list[str]:
    """Return one line per regression of ``results`` against ``baseline`` (empty: none)."""
    flat = flatten(results)
    regressions = []
    for path, spec in baseline.get("metrics", {}).items():
        if path not in flat:
            continue
        value, reference = flat[path], spec["value"]
        tolerance = spec.get("tolerance", 0.2)
        if spec.get("better") == "higher":
            limit = reference * (1 - tolerance)
            if value < limit:
                regressions.append(f"{path}: {value} < {limit:.4g} (baseline {reference}, -{tolerance:.0%})")
        else:
            limit = reference * (1 + tolerance) if reference > 0 else reference + tolerance
            if value > limit:
                regressions.append(f"{path}: {value} > {limit:.4g} (baseline {reference}, +{tolerance:.0%})")
    return regressions


async def run_groups(ctx: Any, groups: list[str]) -> None:
    """Run the named groups, in order, recording into ``ctx``.

    A group that raises, or that records nothing, is an error of the run: the reason goes to
    ``ctx.errors[group]`` (the command line prints it and exits 1) and the next group runs.
    """
    import importlib

    for group in groups:
        ctx.group = group
        started = time.perf_counter()
        try:
            module = importlib.import_module(f".{group}", __name__)
            await module.run(ctx)
        except Exception as exc:  # any failure: reported, never a silently missing group
            ctx.errors[group] = f"{type(exc).__name__}: {exc}"
        else:
            if not ctx.results.get(group):
                ctx.errors[group] = "the group recorded no result"
        ctx.results.setdefault(group, {}).setdefault("_group", {"metrics": {}})["metrics"]["seconds"] = round(
            time.perf_counter() - started, 2)


def count_handshakes(stats_path: str) -> int:
    """Return how many ``initialize`` requests the reference servers counted."""
    total = 0
    try:
        with open(stats_path, encoding="utf-8") as stats:
            for line in stats:
                total += json.loads(line).get("initialize", 0)
    except FileNotFoundError:
        pass
    return total
