"""``python -m mcp_stdio.bench``: an honest benchmark suite for MCP stdio clients.

Groups (one module each): ``memory``, ``requests``, ``core``, ``startup``, ``client``,
``scenarios``, ``stress``, ``pool``, ``limits``, ``faults``; ``all`` runs them in that
order. Every connection is a real spawn and a real handshake; every comparison with the
floor is a paired, interleaved estimate with a 95 % interval (:mod:`.stats`). See
README.rst, "Benchmarks", for the options and the JSON schema.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from typing import Any

from .stats import bounds, regressed, verdict

__all__ = ["GROUPS", "CHECKS", "run_groups", "machine_facts", "checks", "flatten", "compare", "make_baseline",
           "lookup", "value_of"]

GROUPS = ("memory", "requests", "core", "startup", "client", "scenarios", "stress", "pool", "limits", "faults")

# The targets: (name, metric path, comparison, goal, unit, source, what it means, requires).
# A ratio's goal is checked against its whole 95 % interval (stats.verdict). ``requires``
# names metrics that must hold given values for the check to apply (the full sizes: a
# --quick run measures smaller ones, and the check then says "not measured").
CHECKS: tuple[tuple[str, str, str, Any, str, str, str, dict], ...] = (
    ("sequential round trip vs floor", "requests.sequential.latency_ratio", "<=", 1.2, "x", "#14",
     "wall time per tools/call, mcp_stdio / floor", {}),
    ("pipelined throughput, 1,000 in flight, vs floor", "requests.pipelined.depth_1000_ratio", ">=", 0.8, "x",
     "#14", "requests per second, mcp_stdio / floor", {}),
    ("50 MiB response time vs floor", "requests.large_messages.50mib_ratio", "<=", 1.3, "x", "#14",
     "wall time of one 50 MiB answer, mcp_stdio / floor", {}),
    ("50 MiB response peak heap", "requests.large_messages.50mib_peak_heap_x", "<", 3.0, "x the message", "#14",
     "client peak Python heap / message size", {}),
    ("connection churn vs floor", "stress.churn.ratio", ">=", 0.95, "x", "#14",
     "connections per second, mcp_stdio / floor", {}),
    ("client heap per held session vs floor", "memory.session_cost.heap_ratio", "<=", 1.0, "x", "#14",
     "tracemalloc heap per held session, mcp_stdio / floor, same interpreter, same run", {}),
    ("leak: heap growth after warm-up", "stress.leak.heap_growth_kib", "<", 64.0, "KiB", "#14",
     "over the measured cycles", {}),
    ("leak: fds left", "stress.leak.fds_left", "<=", 0, "fds", "#14", "file descriptors", {}),
    ("leak: tasks left", "stress.leak.tasks_left", "<=", 0, "tasks", "#14", "asyncio tasks", {}),
    ("leak: children left", "stress.leak.children_left", "<=", 0, "processes", "#14", "child processes", {}),
    ("event-loop lag p99 with 1,000 idle sessions", "stress.ramp.timer_lag_p99_at_1000_ms", "<", 5.0, "ms",
     "#14", "lateness of asyncio.sleep(2 ms) with 1,000 sessions open", {}),
    ("concurrency ramp: no failure before it stopped", "stress.ramp.success", "==", True, "", "#14",
     "every session of every level answered", {}),
    ("import mcp_stdio beyond asyncio", "startup.import_time.mcp_stdio_client_beyond_asyncio_ms", "<", 15.0, "ms",
     "#14", "fresh interpreters", {}),
    ("fault matrix: every fault handled", "faults.matrix.all_handled", "==", True, "", "#14",
     "rows of the fault table", {}),
    ("fault matrix: nothing left behind", "faults.matrix.all_clean", "==", True, "", "#14",
     "no child, fd or task after any fault", {}),
    ("client CPU per call, sequential, vs floor", "requests.sequential.cpu_ratio", "<=", 1.0, "x", "#16",
     "client CPU time per tools/call, mcp_stdio / floor", {}),
    ("client CPU per call, gathered, vs floor", "requests.gathered.cpu_ratio", "<=", 1.05, "x", "#16",
     "client CPU time per call of asyncio.gather(1,000 calls), mcp_stdio / floor",
     {"requests.gathered.calls_per_trial": 1000}),
    ("client CPU per request, 100,000 in flight, vs floor", "core.in_flight.cpu_ratio", "<=", 1.1, "x", "#16",
     "GC off, mcp_stdio / floor", {"core.in_flight.in_flight": 100_000}),
    ("client heap per held session, 0.8x the floor", "memory.session_cost.heap_ratio", "<=", 0.8, "x", "#16",
     "tracemalloc heap per held session, mcp_stdio / floor", {}),
    ("client RSS per held session", "memory.session_cost.client_rss_per_session_kib", "<=", 12.0, "KiB", "#16",
     "fresh interpreter, RSS growth / sessions held", {}),
    ("loop block, 10,000 simultaneous expiries", "core.expiries.loop_block_ms", "<=", 50.0, "ms", "#16",
     "CPU time of the longest event-loop iteration while they time out", {"core.expiries.requests": 10_000}),
    ("pool: 10,000 agents, every answer right", "pool.headline.all_right", "==", True, "", "#15",
     "10,000 concurrent agents each making calls (8 members of the reference server, 16 of another)",
     {"pool.headline.agents": 10_000}),
    ("pool: client RSS per agent at 10,000 agents", "pool.headline.client_rss_peak_per_agent_kib", "<=", 8.0, "KiB",
     "#15", "peak client RSS while 10,000 agents make calls, per agent", {"pool.headline.agents": 10_000}),
)

# Metrics kept in a baseline: path -> (which way is better, relative tolerance, absolute
# tolerance in the metric's unit). A regression is declared only when the new interval
# lies beyond the baseline's interval widened by both (stats.regressed).
BASELINE_METRICS: dict[str, tuple[str, float, float]] = {
    "requests.sequential.latency_ratio": ("lower", 0.1, 0.0),
    "requests.sequential.cpu_ratio": ("lower", 0.1, 0.0),
    "requests.pipelined.depth_1_ratio": ("higher", 0.1, 0.0),
    "requests.pipelined.depth_10_ratio": ("higher", 0.1, 0.0),
    "requests.pipelined.depth_100_ratio": ("higher", 0.1, 0.0),
    "requests.pipelined.depth_1000_ratio": ("higher", 0.1, 0.0),
    "requests.gathered.cpu_ratio": ("lower", 0.1, 0.0),
    "requests.large_messages.10mib_ratio": ("lower", 0.1, 0.0),
    "requests.large_messages.50mib_ratio": ("lower", 0.1, 0.0),
    "requests.large_messages.10mib_peak_heap_x": ("lower", 0.1, 0.0),
    "core.in_flight.cpu_ratio": ("lower", 0.1, 0.0),
    "core.expiries.loop_block_ms": ("lower", 0.25, 5.0),
    "core.notification_flood.peak_rss_growth_mib": ("lower", 0.25, 2.0),
    "stress.churn.ratio": ("higher", 0.1, 0.0),
    "memory.session_cost.heap_ratio": ("lower", 0.05, 0.0),
    "memory.session_cost.client_heap_per_session_kib": ("lower", 0.05, 0.5),
    "memory.session_cost.client_rss_per_session_kib": ("lower", 0.15, 2.0),
    "memory.session_cost.fds_per_session": ("lower", 0.0, 0.0),
    "stress.leak.heap_growth_kib": ("lower", 0.0, 64.0),
    "stress.ramp.timer_lag_p99_at_1000_ms": ("lower", 1.0, 2.0),
    "startup.import_time.mcp_stdio_client_beyond_asyncio_ms": ("lower", 0.25, 2.0),
    "startup.spawn_to_ready.ready_ratio": ("lower", 0.1, 0.0),
    "pool.headline.client_rss_peak_per_agent_kib": ("lower", 0.15, 0.5),
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


def value_of(metric: Any) -> Any:
    """Return the central value of a metric: an estimate's median, or the metric itself."""
    if isinstance(metric, dict) and "median" in metric:
        return metric["median"]
    return metric


def is_estimate(metric: Any) -> bool:
    """Return whether ``metric`` is an estimate (``{"median", "low", "high", ...}``)."""
    return isinstance(metric, dict) and "median" in metric and "low" in metric


def checks(results: dict, groups: list[str] | None = None) -> list[dict[str, Any]]:
    """Evaluate :data:`CHECKS` against ``results``: met, missed, inconclusive or not measured.

    Args:
        groups: the groups the run was asked for; the checks of other groups (measured on
            the way, as ``limits`` measures ``memory``) are left out.
    """
    evaluated = []
    for name, path, op, goal, unit, source, meaning, requires in CHECKS:
        if groups is not None and path.split(".", 1)[0] not in groups:
            continue
        value = lookup(results, path)
        unmet = [f"{p.split('.')[-1]} {lookup(results, p)} (needs {v:,})" for p, v in requires.items()
                 if value is not None and lookup(results, p) != v]
        status = "not measured" if unmet else verdict(value, op, goal)
        evaluated.append({"name": name, "metric": path, "value": value, "op": op, "goal": goal,
                          "target": f"{op} {goal}", "unit": unit, "source": source, "status": status,
                          "meaning": meaning, "why_not": "; ".join(unmet) or None})
    return evaluated


def flatten(results: dict) -> dict[str, Any]:
    """Return every number and estimate as ``{"group.test.metric": value}``."""
    flat = {}
    for group, tests in results.items():
        for test, entry in tests.items():
            for metric, value in entry.get("metrics", {}).items():
                if (isinstance(value, (int, float)) and not isinstance(value, bool)) or is_estimate(value):
                    flat[f"{group}.{test}.{metric}"] = value
    return flat


def make_baseline(document: dict) -> dict[str, Any]:
    """Return a baseline from a results document: each metric with its interval and tolerances."""
    flat = flatten(document["results"])
    metrics = {}
    for path, (better, tolerance, absolute) in BASELINE_METRICS.items():
        if path in flat:
            metrics[path] = {"value": flat[path], "better": better, "tolerance": tolerance, "absolute": absolute}
    return {"schema": "mcp_stdio.bench.baseline/2", "created": document.get("started"),
            "machine": document.get("machine") or machine_facts(), "settings": document.get("settings", {}),
            "load_average": document.get("load_average"), "metrics": metrics}


def compare(results: dict, baseline: dict) -> list[dict[str, Any]]:
    """Compare ``results`` with ``baseline``: one row per baseline metric.

    Each row has ``metric``, ``baseline``, ``value``, ``status`` (``"regressed"``, ``"ok"``
    or ``"not measured"``) and, when regressed, ``why``. A baseline of schema 1 (single
    values) is read too: its values are intervals of width zero.
    """
    flat = flatten(results)
    rows = []
    for path, spec in baseline.get("metrics", {}).items():
        base = spec.get("value")
        row = {"metric": path, "baseline": base, "value": flat.get(path), "better": spec.get("better", "lower"),
               "tolerance": spec.get("tolerance", 0.1), "absolute": spec.get("absolute", 0.0)}
        if path not in flat or bounds(flat[path]) is None or bounds(base) is None:
            row["status"] = "not measured"
        else:
            why = regressed(flat[path], base, row["better"], row["tolerance"], row["absolute"])
            row["status"] = "regressed" if why else "ok"
            if why:
                row["why"] = why
        rows.append(row)
    return rows


async def run_groups(ctx: Any, groups: list[str]) -> None:
    """Run the named groups, in order, recording into ``ctx``.

    A group that raises, or that records nothing without saying why it skipped, is an error
    of the run: the reason goes to ``ctx.errors[group]`` (the command line prints it and
    exits 1) and the next group runs. A group that cannot run against the named server
    says so with ``ctx.skip(reason)``: reported on its own line, not an error.
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
            if not ctx.results.get(group) and group not in ctx.skipped:
                ctx.errors[group] = "the group recorded no result"
        if group in ctx.results:
            ctx.results[group].setdefault("_group", {"metrics": {}})["metrics"]["seconds"] = round(
                time.perf_counter() - started, 2)


def count_handshakes(stats_path: str) -> int:
    """Return how many ``initialize`` requests the bench's servers counted."""
    total = 0
    try:
        with open(stats_path, encoding="utf-8") as stats:
            for line in stats:
                total += json.loads(line).get("initialize", 0)
    except FileNotFoundError:
        pass
    return total
