"""The Markdown report of a bench run, laid out like a performance report, with SVG charts.

Sections: executive summary; system configuration and limits; concurrency ramp; churn;
leak; multi-agent patterns (scenarios and the pool); event-loop health; rapid
create/destroy; request performance; resource usage per session; start-up; deployment
tiers; monitoring thresholds; baselines; known limitations; the fault matrix; every
result by test.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from . import BASELINE_METRICS, compare, lookup, value_of
from . import charts
from .summary import REAL_SERVERS, check_line, server_command, show, summary

__all__ = ["write_report", "release_baseline_path"]


def release_baseline_path() -> str:
    """Return where the shipped release baseline lives: ``baseline.json`` beside this module.

    It ships inside the package (wheel, sdist, a vendored ``mcp_stdio/`` folder), so that
    every copy of the bench can compare with the release it came with.
    """
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "baseline.json")


def _n(value: Any) -> str:
    return "-" if value is None else show(value_of(value))


def _short(name: str) -> str:
    """Return a check's name for a chart row: without "vs floor" and trailing commas."""
    return name.replace(" vs floor", "").replace(", 0.8x the floor", " (#16)").rstrip(", ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return out + [""]


def _metrics_table(metrics: dict[str, Any]) -> list[str]:
    rows = []
    for key, value in metrics.items():
        if isinstance(value, list) or (isinstance(value, dict) and "median" not in value):
            continue
        rows.append([key, show(value, value.get("unit", "") if isinstance(value, dict) else "")])
    return _table(["metric", "value"], rows) if rows else []


class _Report:
    def __init__(self, path: str, document: dict) -> None:
        self.path = path
        self.base = os.path.splitext(path)[0]
        self.document = document
        self.results = document["results"]
        self.lines: list[str] = []
        self.files = [path]

    def metric(self, path: str) -> Any:
        return lookup(self.results, path)

    def chart(self, name: str, svg: str, alt: str) -> None:
        file = f"{self.base}-{name}.svg"
        with open(file, "w", encoding="utf-8") as out:
            out.write(svg)
        self.files.append(file)
        self.lines += [f"![{alt}]({os.path.basename(file)})", ""]

    def add(self, *lines: str) -> None:
        self.lines += list(lines)


def write_report(path: str, document: dict[str, Any], baseline: dict | None = None) -> list[str]:
    """Write the Markdown report to ``path`` and its charts beside it; return the files.

    Args:
        baseline: a baseline to compare with; default: the document's ``--baseline``
            comparison, else the release baseline shipped in ``mcp_stdio/bench/baseline.json``.
    """
    report = _Report(path, document)
    for section in (_header, _executive, _system, _ramp, _churn, _leak, _agents, _loop, _rapid, _requests,
                    _resources, _startup, _tiers, _monitoring):
        section(report)
    _baselines(report, baseline)
    _limitations(report)
    _faults(report)
    _all_results(report)
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(report.lines))
    return report.files


def _header(r: _Report) -> None:
    d = r.document
    machine = d["machine"]
    load = d.get("load_average") or {}
    r.add("# mcp_stdio benchmark report", "",
          f"Run on {d['started']} in {d['duration_s']} s: Python {machine['python']} "
          f"({machine.get('implementation', '')}) on {machine.get('cpu_model', machine['machine'])}, "
          f"{machine['cpu_count']} CPUs, {round(machine.get('memory_total_bytes', 0) / 2**30, 1)} GiB, "
          f"{machine['platform']}."
          + (f" Load average: {load.get('start')} at the start, {load.get('max')} at most, {load.get('end')} at "
             "the end (sampled every 10 s)." if load else ""),
          "" if not d["settings"].get("quick") else "\n**A --quick run: small sizes; several targets are not "
          "measured at their full size.**\n",
          "Benchmark server" + (" (the reference server)" if d["settings"]["reference"] else "") + ":", "",
          "```", server_command(d), "```", "")
    if d["settings"]["reference"]:
        r.add("Churn and start-up ratios, the held-session memory and the core costs use the bench's light "
              "server (`mcp_stdio/bench/servers/minimal.py`, a blocking stdlib loop), because the reference "
              "server runs on asyncio and costs about ten times more to start: against it, two clients' "
              "comparison would mostly measure the server. Its own start-up costs are measured apart.", "")


def _executive(r: _Report) -> None:
    d = r.document
    r.add("## Executive summary", "", "```")
    r.add(*[line for line in summary(d) if not line.startswith("checks:") and not line.startswith("  met")
            and not line.startswith("  missed") and not line.startswith("  inconclusive")
            and not line.startswith("  not measured")])
    r.add("```", "")
    checks = d.get("checks", [])
    if checks:
        r.add("### Targets", "",
              "Each ratio is the median of paired, interleaved trials (mcp_stdio then the floor, then the floor "
              "then mcp_stdio, ...), with its 95 % interval from order statistics. A check is **met** or "
              "**missed** only when the whole interval is on one side of the goal; otherwise it is "
              "**inconclusive** (which does not fail the run). Sources: the issues that set each target.", "")
        rows = []
        for check in checks:
            goal = "yes" if check["goal"] is True else show(check["goal"], check.get("unit", ""))
            value = show(check["value"], check.get("unit", ""))
            status = check["status"] + (f" ({check['why_not']})" if check.get("why_not") else "")
            rows.append([check["name"], value, f"{check['op']} {goal}", status, check["source"]])
        r.add(*_table(["target", "value [95 % interval]", "goal", "status", "source"], rows))
        estimates = [c for c in checks if isinstance(c["value"], dict) and c.get("unit") == "x"
                     and c["value"].get("low") is not None]
        if estimates:
            r.chart("ratios", charts.interval_chart(
                "Ratios against the floor (95 % intervals)", "mcp_stdio / floor (x)",
                [(_short(c["name"]), c["value"]["median"],
                  c["value"]["low"], c["value"]["high"], c["goal"]) for c in estimates]), "ratios")


def _system(r: _Report) -> None:
    d = r.document
    machine = d["machine"]
    probe = r.metric("limits.probe.limits") or {}
    rows = [["CPU", f"{machine.get('cpu_model', '?')}, {machine['cpu_count']} CPUs"],
            ["memory", f"{round(machine.get('memory_total_bytes', 0) / 2**30, 1)} GiB total, "
                       f"{_n(r.metric('limits.probe.memory_available_mib'))} MiB available at the probe"],
            ["platform", machine["platform"]], ["Python", f"{machine['python']} ({machine.get('implementation')})"],
            ["RLIMIT_NOFILE", f"{machine['rlimit_nofile'][0]:,} soft, {machine['rlimit_nofile'][1]:,} hard "
                              "(the bench raises the soft limit to the hard one)"]]
    for name in ("rlimit_nproc", "rlimit_as", "rlimit_cpu"):
        limit = probe.get(name)
        if limit is not None:
            rows.append([name.upper(), f"{limit.get('soft') or 'unlimited'} soft, "
                                       f"{limit.get('hard') or 'unlimited'} hard"])
    if r.metric("limits.probe.pipe_capacity_bytes"):
        rows.append(["pipe capacity", f"{r.metric('limits.probe.pipe_capacity_bytes'):,} bytes"])
    load = d.get("load_average") or {}
    if load:
        rows.append(["load average (1 min)", f"{load.get('start')} at the start, {load.get('max')} at most, "
                                              f"{load.get('end')} at the end"])
    r.add("## System configuration and limits", "", *_table(["", ""], rows))


def _ramp(r: _Report) -> None:
    ramp = r.results.get("stress", {}).get("ramp", {}).get("metrics")
    if not ramp:
        return
    levels = ramp["levels"]
    r.add("## Concurrency ramp", "",
          f"Target: {ramp['target']:,} sessions (estimated safe capacity {ramp['estimated_capacity']:,}"
          + (f", --max-concurrent {ramp['max_concurrent']:,}" if ramp.get("max_concurrent") else "") + "). "
          f"Reached **{ramp['reached']:,}** in {ramp['seconds']} s; stopped because it "
          f"{ramp['stopped_because']}. At every level each session made one call ({ramp['call']}).", "")
    if len(levels) > 1:
        r.chart("ramp-memory", charts.line_chart(
            "Memory of the servers against concurrent sessions", "concurrent sessions", "memory (MiB)",
            {"servers, USS (MiB)": [(lv["sessions"], lv["servers_uss_mib"]) for lv in levels],
             "servers, PSS (MiB)": [(lv["sessions"], lv["servers_pss_mib"]) for lv in levels]}), "servers' memory")
        r.chart("ramp-client", charts.line_chart(
            "Client RSS growth against concurrent sessions", "concurrent sessions", "client RSS growth (MiB)",
            {"client RSS growth (MiB)": [(lv["sessions"], lv["client_rss_mib"]) for lv in levels]}), "client RSS")
        r.chart("ramp-fds", charts.line_chart(
            "Client file descriptors against concurrent sessions", "concurrent sessions", "open fds (count)",
            {"fds opened by the sessions": [(lv["sessions"], lv["fds"]) for lv in levels]}), "fds")
        r.chart("ramp-lag", charts.line_chart(
            "Event-loop timer lag against concurrent sessions", "concurrent sessions", "timer lag (ms)",
            {"p50 (ms)": [(lv["sessions"], lv["timer_lag_p50_ms"]) for lv in levels],
             "p99 (ms)": [(lv["sessions"], lv["timer_lag_p99_ms"]) for lv in levels]}), "loop lag")
    r.add(*_table(["sessions", "open time s", "fds", "client RSS MiB", "servers USS MiB", "servers PSS MiB",
                   "available MiB", "lag p50 ms", "lag p99 ms", "failed calls"],
                  [[f"{lv['sessions']:,}", lv["open_s"], lv["fds"], lv["client_rss_mib"], lv["servers_uss_mib"],
                    lv["servers_pss_mib"], lv["memory_available_mib"], lv["timer_lag_p50_ms"],
                    lv["timer_lag_p99_ms"], lv["call_failures"]] for lv in levels]))


def _churn(r: _Report) -> None:
    churn = r.results.get("stress", {}).get("churn", {}).get("metrics")
    if not churn:
        return
    server = "the light server" if churn.get("server") == "light" else "the benchmark server"
    r.add("## Connection churn", "",
          f"Spawn, handshake and close, {churn['concurrency']} at a time, {churn['pairs']} pairs of blocks "
          f"against {server}.", "",
          *_table(["", "mcp_stdio", "floor", "mcp_stdio / floor"], [
              ["connections per second", show(churn["connections_per_s"], "/s"),
               show(churn["floor_connections_per_s"], "/s"), show(churn["ratio"], "x")],
              ["client CPU per connection", show(churn["cpu_per_connection_ms"], "ms"),
               show(churn["floor_cpu_per_connection_ms"], "ms"), show(churn["cpu_ratio"], "x")]]))
    if churn.get("reference_server_connections_per_s") is not None:
        r.add(f"With the reference server itself: {churn['reference_server_connections_per_s']} connections/s "
              "(its asyncio start-up dominates).", "")


def _leak(r: _Report) -> None:
    entry = r.results.get("stress", {}).get("leak")
    if not entry:
        return
    leak = entry["metrics"]
    r.add(f"## Leak over {leak['cycles']} iterations", "",
          f"Each iteration: start a client ({leak['call']}), close it; after the warm-up, the heap grew "
          f"{leak['heap_growth_kib']:+.2f} KiB ({leak['growth_per_1000_cycles_kib']:+.2f} KiB per 1,000 "
          f"cycles); fds left {leak['fds_left']}, tasks left {leak['tasks_left']}, children left "
          f"{leak['children_left']}, wrong answers {leak['wrong_answers']}.", "", entry.get("note", ""), "")


def _agents(r: _Report) -> None:
    scenarios = r.results.get("scenarios", {})
    pool = r.results.get("pool", {})
    if not scenarios and not pool:
        return
    r.add("## Multi-agent patterns", "")
    if scenarios:
        rows = []
        for test, entry in scenarios.items():
            if test == "_group":
                continue
            rows.append([test, ", ".join(f"{k} {v}" for k, v in entry["metrics"].items())])
        r.add(*_table(["pattern", "measured"], rows))
    side = pool.get("side_by_side", {}).get("metrics")
    headline = pool.get("headline", {}).get("metrics")
    if side:
        r.add("### Shared servers (`mcp_stdio.pool`)", "", pool["side_by_side"].get("note", ""), "")
        rows = []
        for label, run in (("unpooled", side["unpooled"]), ("pooled", side["pooled"])) + \
                (((f"pooled, {headline['agents']:,} agents", headline),) if headline else ()):
            rows.append([label, f"{run['agents']:,}", run.get("members", run["agents"]), run["era"],
                         _n(run["calls_per_s"]), run["p50_ms"], run["p99_ms"], run["client_rss_peak_per_agent_kib"],
                         run["servers_uss_mib"], f"{run['wrong'] + run['errors']}"])
        r.add(*_table(["", "agents", "server processes", "era", "calls/s", "p50 ms", "p99 ms",
                       "client RSS KiB per agent (peak)", "servers USS MiB", "wrong or failed"], rows))
        per_agent = [("unpooled: client + server", side["unpooled"]["client_rss_peak_per_agent_kib"]
                      + side["unpooled"]["servers_uss_mib"] * 1024 / side["unpooled"]["agents"])]
        if headline:
            per_agent.append((f"pooled, {headline['agents']:,} agents: client + servers",
                              headline["client_rss_peak_per_agent_kib"]
                              + headline["servers_uss_mib"] * 1024 / headline["agents"]))
        r.chart("pool-memory", charts.bar_chart("Memory per agent", "memory per agent (KiB)", per_agent),
                "memory per agent")
    capacity = pool.get("capacity", {}).get("metrics")
    if capacity:
        r.add(f"Capacity on this machine: **{capacity['unpooled_capacity']:,} agents unpooled** (bound by "
              f"{capacity['unpooled_binding_limit']}). Pooled on {capacity['members']} members, memory alone would "
              f"allow {capacity['pooled_memory_capacity']:,} agents ({capacity['pooled_cost_per_agent_kib']} KiB "
              f"each); the bound is throughput: the members served **{_n(capacity['pooled_calls_per_s'])} calls/s** "
              f"with {capacity['pooled_agents_measured']:,} agents (p50 {capacity['pooled_p50_ms']} ms), so size "
              "a pool by the calls per second its agents make.", "", pool["capacity"].get("note", ""), "")


def _loop(r: _Report) -> None:
    ramp = r.results.get("stress", {}).get("ramp", {}).get("metrics")
    core = r.results.get("core", {})
    if not ramp and not core:
        return
    r.add("## Event-loop health", "")
    if ramp:
        r.add(f"Timer lag (lateness of `asyncio.sleep(2 ms)`), p99: {ramp['empty_timer_lag_p99_ms']} ms on an "
              f"empty loop"
              + (f", {ramp['timer_lag_p99_at_1000_ms']} ms with 1,000 idle sessions" if
                 ramp.get("timer_lag_p99_at_1000_ms") is not None else "")
              + (f", {ramp['timer_lag_p99_at_top_ms']} ms with {ramp['reached']:,}" if ramp.get("levels") else "")
              + f". Task start latency p99 on an empty loop: {ramp['empty_task_start_p99_ms']} ms.", "")
    expiries = core.get("expiries", {}).get("metrics")
    if expiries:
        r.add(f"{expiries['requests']:,} requests timing out at the same moment (the loop is held past their "
              f"deadline, so one sweep finds them all): the longest loop iteration took "
              f"{show(expiries['loop_block_ms'], 'ms')} of CPU ({show(expiries.get('loop_block_wall_ms'), 'ms')} of "
              f"wall time) with the garbage collector off, {show(expiries.get('loop_block_gc_on_ms'), 'ms')} of CPU "
              f"with it on; every caller had its RequestTimeout after "
              f"{show(expiries['all_failed_ms'], 'ms')} ({expiries['trials']} trials).", "")
    flood = core.get("notification_flood", {}).get("metrics")
    if flood:
        r.add(f"{flood['notifications']:,} notifications to an async `message_handler` in a fresh process: peak "
              f"RSS growth {show(flood['peak_rss_growth_mib'], 'MiB')}; delivered {show(flood['delivered'])}, "
              f"dropped {show(flood['dropped'])} (the client's bounded queue, `max_queued_notifications`).", "")


def _rapid(r: _Report) -> None:
    group = r.results.get("client")
    if not group:
        return
    server = "the reference server" if r.document["settings"]["reference"] else "the benchmark server"
    r.add("## Rapid create/destroy", "", f"Against {server}.", "")
    rows = []
    for test, entry in group.items():
        if test == "_group":
            continue
        rows.append([test, ", ".join(f"{k} {v}" for k, v in entry["metrics"].items())])
    r.add(*_table(["test", "measured"], rows))


def _requests(r: _Report) -> None:
    group = r.results.get("requests")
    if not group:
        return
    r.add("## Request performance", "")
    seq = group.get("sequential", {}).get("metrics")
    if seq:
        r.add(*_table(["sequential tools/call", "mcp_stdio", "floor", "mcp_stdio / floor"], [
            ["p50 / p90 / p99 latency", f"{seq['p50_us']} / {seq['p90_us']} / {seq['p99_us']} µs",
             f"{seq['floor_p50_us']} / {seq['floor_p90_us']} / {seq['floor_p99_us']} µs",
             f"{show(seq['latency_ratio'], 'x')} (time per call)"],
            ["client CPU per call", show(seq["cpu_per_call_us"], "µs"), show(seq["floor_cpu_per_call_us"], "µs"),
             show(seq["cpu_ratio"], "x")]]))
        histogram = seq.get("histogram")
        if histogram:
            r.chart("latency", charts.histogram_chart(
                "Sequential tools/call round trip", "round-trip latency (µs)", histogram["bucket_us"],
                {"mcp_stdio": histogram["mcp_stdio"], "floor": histogram["floor"]},
                {name: {k: v for k, v in histogram[f"{name}_percentiles_us"].items() if k in ("p50", "p99")}
                 for name in ("mcp_stdio", "floor")}), "latency histogram")
    pipe = group.get("pipelined", {}).get("metrics")
    if pipe:
        rows = []
        for depth in (1, 10, 100, 1000):
            if f"depth_{depth}_ratio" in pipe:
                rows.append([f"{depth:,}", f"{pipe[f'depth_{depth}_rps']:,}", f"{pipe[f'depth_{depth}_floor_rps']:,}",
                             show(pipe[f"depth_{depth}_ratio"], "x"), show(pipe[f"depth_{depth}_cpu_ratio"], "x")])
        r.add("Pipelined: requests per second with N in flight.", "",
              *_table(["in flight", "mcp_stdio req/s", "floor req/s", "throughput ratio", "client CPU ratio"], rows))
    gathered = group.get("gathered", {}).get("metrics")
    if gathered:
        r.add(f"`asyncio.gather` of {gathered['calls_per_trial']:,} calls: client CPU per call "
              f"{show(gathered['cpu_per_call_us'], 'µs')} against {show(gathered['floor_cpu_per_call_us'], 'µs')} "
              f"for the floor: {show(gathered['cpu_ratio'], 'x')}.", "")
    flight = r.results.get("core", {}).get("in_flight", {}).get("metrics")
    if flight:
        r.add(f"{flight['in_flight']:,} requests in flight at once (GC off): client CPU per request "
              f"{show(flight['cpu_per_request_us'], 'µs')} against {show(flight['floor_cpu_per_request_us'], 'µs')}: "
              f"{show(flight['cpu_ratio'], 'x')}.", "")
    large = group.get("large_messages", {}).get("metrics")
    if large:
        rows = []
        for mib in (1, 10, 50):
            if f"{mib}mib_ratio" in large:
                rows.append([f"{mib} MiB", f"{large[f'{mib}mib_s']} s", f"{large[f'{mib}mib_floor_s']} s",
                             show(large[f"{mib}mib_ratio"], "x"), f"{large[f'{mib}mib_peak_heap_x']}x",
                             f"{large[f'{mib}mib_floor_peak_heap_x']}x"])
        r.add("Large answers:", "", *_table(["answer", "mcp_stdio", "floor", "time ratio", "peak heap / size",
                                            "floor peak heap / size"], rows))


def _resources(r: _Report) -> None:
    cost = r.results.get("memory", {}).get("session_cost", {}).get("metrics")
    server = r.results.get("memory", {}).get("server_cost", {}).get("metrics")
    if not cost and not server:
        return
    r.add("## Resource usage per session", "")
    rows = []
    if cost:
        rows += [["client heap (tracemalloc)", show(cost["client_heap_per_session_kib"], "KiB"),
                  show(cost["floor_heap_per_session_kib"], "KiB"), show(cost["heap_ratio"], "x")],
                 ["client RSS", show(cost["client_rss_per_session_kib"], "KiB"),
                  show(cost["floor_rss_per_session_kib"], "KiB"), show(cost["rss_ratio"], "x")],
                 ["client fds", cost["fds_per_session"], cost["floor_fds_per_session"], ""]]
    seq = r.results.get("requests", {}).get("sequential", {}).get("metrics")
    if seq:
        rows.append(["client CPU per sequential call", show(seq["cpu_per_call_us"], "µs"),
                     show(seq["floor_cpu_per_call_us"], "µs"), show(seq["cpu_ratio"], "x")])
    r.add(*_table(["per held session", "mcp_stdio", "floor", "ratio"], rows))
    if cost:
        r.add(r.results["memory"]["session_cost"].get("note", ""), "")
    if server:
        name = "the reference server" if r.document["settings"]["reference"] else "the named server"
        r.add(f"The server ({name}): RSS {server['server_rss_per_session_kib'] / 1024:.1f} MiB, PSS "
              f"{server['server_pss_per_session_kib'] / 1024:.1f} MiB, USS "
              f"{server['server_uss_per_session_kib'] / 1024:.1f} MiB per session, "
              f"{server['processes_per_session']} processes; its initialize answer is "
              f"{server['initialize_result_bytes']} bytes. {REAL_SERVERS[0].upper() + REAL_SERVERS[1:]}.", "")


def _startup(r: _Report) -> None:
    group = r.results.get("startup")
    if not group:
        return
    r.add("## Start-up", "")
    imports = group.get("import_time", {}).get("metrics")
    if imports:
        r.add(f"`import asyncio`: {show(imports['asyncio_ms'], 'ms')}; `import mcp_stdio` and its client beyond "
              f"asyncio: {show(imports['mcp_stdio_client_beyond_asyncio_ms'], 'ms')}; the package alone: "
              f"{show(imports['mcp_stdio_package_alone_ms'], 'ms')} ({imports['runs']} fresh interpreters).", "")
    spawn = group.get("spawn_to_ready", {}).get("metrics")
    if spawn:
        r.add(*_table(["spawn to ready", "mcp_stdio", "floor", "ratio"], [
            ["start (spawn + handshake)", show(spawn["ready_ms"], "ms"), show(spawn["floor_ready_ms"], "ms"),
             show(spawn["ready_ratio"], "x")],
            ["close", show(spawn["close_ms"], "ms"), show(spawn["floor_close_ms"], "ms"),
             show(spawn["close_ratio"], "x")]]))
    ref = group.get("reference_server", {}).get("metrics")
    if ref:
        r.add(f"The reference server: its import takes {show(ref['import_ms'], 'ms')} in a fresh `python -S`; "
              f"spawn to ready with mcp_stdio {show(ref['spawn_to_ready_ms'], 'ms')}.", "")


def _round_down(value: float) -> int:
    if value < 10:
        return max(1, int(value))
    magnitude = 10 ** math.floor(math.log10(value))
    return int(math.floor(value / magnitude * 2) / 2 * magnitude)


def _tiers(r: _Report) -> None:
    probe = r.results.get("limits", {}).get("probe", {}).get("metrics")
    if not probe or not probe.get("estimated_capacity"):
        return
    per = probe["per_session"]
    capacity = probe["estimated_capacity"]
    warning = probe["thresholds"]["warning_sessions"]
    session_mib = ((per.get("client_bytes") or 0) + (per.get("server_bytes") or 0)) / 2**20
    fds = per.get("fds") or 0
    levels = {lv["sessions"]: lv for lv in (r.metric("stress.ramp.levels") or [])}
    headline = r.results.get("pool", {}).get("headline", {}).get("metrics")
    tiers = [("small", min(50, warning)), ("medium", _round_down(max(50, warning / 4))), ("large", warning)]
    rows = []
    for name, sessions in tiers:
        memory = sessions * session_mib
        fd_need = int(sessions * fds + 64)
        ulimit = 1 << max(10, math.ceil(math.log2(fd_need * 1.5)))
        nearest = min(levels, key=lambda level: abs(level - sessions)) if levels else None
        lag = f"{levels[nearest]['timer_lag_p99_ms']} ms at {nearest:,}" if nearest else "-"
        pooled = "-"
        if headline:
            per_agent = headline["client_rss_peak_per_agent_kib"] / 1024
            members_mib = headline["servers_uss_mib"]
            pooled = f"{members_mib + sessions * per_agent:,.0f} MiB on {headline['members']} members"
        rows.append([name, f"{sessions:,}", f"{memory:,.0f} MiB", f"{fd_need:,} (ulimit -n {ulimit:,})",
                     f"{sessions:,} + 1", lag, pooled])
    r.add("## Deployment tiers for this machine", "",
          f"Derived from this run: {session_mib:.1f} MiB per session (client RSS plus one server's USS), "
          f"{fds} fds per session, an estimated safe capacity of {capacity:,} sessions (bound by "
          f"{probe['binding_limit']}); large = the warning threshold (70 % of the capacity). "
          "Sizes are for the benchmark server; " + REAL_SERVERS + ".", "",
          *_table(["tier", "sessions", "memory", "client fds", "processes", "loop lag p99 measured",
                   "pooled instead (mcp_stdio.pool)"], rows))
    seq = r.results.get("requests", {}).get("gathered", {}).get("metrics")
    if seq:
        per_call = value_of(seq["cpu_per_call_us"])
        r.add(f"CPU: one client process spends about {per_call:.0f} µs of CPU per call when calls are gathered, "
              f"so one core serves at most about {1e6 / per_call:,.0f} calls/s through one event loop; beyond "
              "that, split agents across processes.", "")


def _monitoring(r: _Report) -> None:
    probe = r.results.get("limits", {}).get("probe", {}).get("metrics")
    if not probe or not probe.get("thresholds"):
        return
    t = probe["thresholds"]
    rows = [["live sessions", f"{t['warning_sessions']:,}", f"{t['critical_sessions']:,}",
             "70 % / 90 % of the estimated safe capacity"]]
    if "warning_fds" in t:
        rows.append(["open fds (`client.stats()['fds']`)", f"{t['warning_fds']:,}", f"{t['critical_fds']:,}",
                     "70 % / 90 % of RLIMIT_NOFILE"])
    total = probe.get("memory_total_mib") or 0
    rows.append(["MemAvailable", f"{total * 0.3:,.0f} MiB", f"{total * 0.2:,.0f} MiB",
                 "the probe keeps 20 % in reserve"])
    rows.append(["event-loop timer lag p99", "5 ms", "50 ms", "the #14 target; a sweep of 10,000 expiries is "
                 "allowed 50 ms (#16)"])
    rows.append(["`client.stats()['timed_out']` rate", "> 1 % of requests", "> 10 %", "a server falling behind"])
    rows.append(["`client.stats()['notifications_dropped']`", "> 0", "growing", "a handler slower than its server"])
    rows.append(["`pool.stats()['waiting']`", "> 10 x members", "> 100 x members", "requests queue for a member"])
    r.add("## Monitoring thresholds", "", *_table(["signal", "warning", "critical", "why"], rows))


def _baselines(r: _Report, baseline: dict | None) -> None:
    d = r.document
    source = None
    if baseline is not None:
        rows, source, machine = compare(r.results, baseline), "the given baseline", baseline.get("machine")
    elif d.get("baseline"):
        rows, source, machine = d["baseline"]["rows"], f"`{d['baseline']['file']}`", d["baseline"].get("machine")
    else:
        path = release_baseline_path()
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as file:
                loaded = json.load(file)
            source = "the release baseline (`mcp_stdio/bench/baseline.json`)"
            rows, machine = compare(r.results, loaded), loaded.get("machine")
    r.add("## Baselines and regression thresholds", "",
          "`--save-baseline FILE` stores each metric below with its interval; `--baseline FILE` declares a "
          "regression only when this run's whole interval lies beyond the baseline's interval widened by the "
          "stored tolerance (relative, plus an absolute one), so an unchanged program measured again is not "
          "flagged.", "")
    if source is None:
        r.add("No baseline to compare with (none given, and no release baseline next to the package).", "")
        table = [[path, better, f"{tol:.0%}", absolute] for path, (better, tol, absolute) in BASELINE_METRICS.items()]
        r.add(*_table(["metric", "better", "tolerance", "absolute tolerance"], table))
        return
    if machine:
        same = machine.get("cpu_model") == d["machine"].get("cpu_model") and machine.get("python") == \
            d["machine"].get("python")
        r.add(f"Compared with {source}, from {machine.get('cpu_model', '?')} ({machine.get('cpu_count')} CPUs), "
              f"Python {machine.get('python')}" + ("" if same else ": **another machine or Python**; ratios "
                                                    "travel, absolute figures do not") + ".", "")
    table = []
    for row in rows:
        table.append([row["metric"], show(row["baseline"]), show(row["value"]), row["better"],
                      f"{row['tolerance']:.0%} + {row['absolute']}", row["status"] + (f": {row['why']}" if
                                                                                      row.get("why") else "")])
    r.add(*_table(["metric", "baseline", "this run", "better", "tolerance", "status"], table))


def _limitations(r: _Report) -> None:
    d = r.document
    items = [
        "Capacity is estimated from per-session costs and the limits, then verified by the ramp only up to "
        "where it stopped; CPU under load (many sessions all calling at once) is not part of the estimate.",
        "Server memory is measured for the benchmark server only; " + REAL_SERVERS + ".",
        "PSS depends on how many similar processes run (shared pages are divided among them); capacity uses "
        "USS, the private memory one more server adds.",
        "Wall-time ratios on a shared machine carry the noise of other work; the intervals say how much. CPU "
        "ratios count this process only (not the server's CPU).",
        "Only Linux was measured (RSS, PSS, fds and the limits come from /proc); macOS and Windows were not.",
        "No network, no TLS: stdio pipes only. The light server stands in for the reference server wherever "
        "the server's own start-up would dominate (churn, start-up ratios, held-session memory, core costs); "
        "the replayed initialize answer makes the client keep what it keeps for the benchmark server.",
        "tracemalloc figures count Python allocations only (not the interpreter's own structures or C "
        "libraries); RSS counts everything, including freed memory the allocator keeps.",
    ]
    for group, reason in d.get("skipped", {}).items():
        items.append(f"Group `{group}` was skipped: {reason}.")
    for group, error in d.get("errors", {}).items():
        items.append(f"Group `{group}` could not run: {error}.")
    not_measured = [c["name"] for c in d.get("checks", []) if c["status"] == "not measured"]
    if not_measured:
        items.append("Not measured in this run: " + "; ".join(not_measured) + ".")
    r.add("## Known limitations", "", *[f"- {item}" for item in items], "")


def _faults(r: _Report) -> None:
    matrix = r.results.get("faults", {}).get("matrix", {}).get("metrics")
    if not matrix or not matrix.get("rows"):
        return
    r.add("## Fault matrix", "", f"{matrix['handled']} of {matrix['cases']} faults handled as specified; "
          f"{matrix['clean']} of {matrix['cases']} left nothing behind.", "",
          *_table(["fault", "handled", "time", "left behind", "what happened"],
                  [[row["fault"], "yes" if row["handled"] else "**no**", f"{row['seconds']} s", row["left_behind"],
                    row["outcome"].replace("|", "\\|")] for row in matrix["rows"]]))


def _all_results(r: _Report) -> None:
    r.add("## Every result, by test", "")
    for group, tests in r.results.items():
        for test, entry in tests.items():
            if test == "_group":
                continue
            r.add(f"### {group} / {test}", "")
            if entry.get("note"):
                r.add(entry["note"], "")
            r.add(*_metrics_table(entry["metrics"]))
    checks = r.document.get("checks", [])
    if checks:
        r.add("### Checks as printed", "", "```", *[check_line(c) for c in checks], "```", "")
