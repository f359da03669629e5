"""The console summary of a bench run: the sizing questions answered, with units, then the checks.

Every function here takes the results document (``bench-*.json``) and returns text, so the
summary, the Markdown report and the tests share one wording.
"""

from __future__ import annotations

import shlex
from typing import Any

from . import is_estimate, lookup, value_of

__all__ = ["summary", "show", "check_line", "capacity_lines", "server_command", "REAL_SERVERS"]

# What the report says next to every capacity figure (issue 14, section 4).
REAL_SERVERS = ("real servers (node, the official Python SDK) cost 10-20x more per session than a stdlib "
                "server: run with --server \"CMD\" to size for yours")


def _number(value: float, digits: int = 3) -> str:
    """Return ``value`` with ``digits`` significant digits, thousands separated."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
        return f"{int(round(value)):,}"
    magnitude = abs(value)
    if magnitude >= 10 ** digits:
        return f"{value:,.0f}"
    text = f"{value:.{digits}g}"
    if "e" in text:
        text = f"{value:.{max(0, digits - 1)}f}"
    return text


def show(value: Any, unit: str = "") -> str:
    """Return a metric with its unit: ``1.05x [1.02, 1.08]``, ``15.7 KiB``, ``True``."""
    space = "" if unit in ("x", "") else " "
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if is_estimate(value):
        text = f"{_number(value['median'])}{space}{unit}"
        if value.get("low") is None:
            return text + f" [no interval: {value.get('n')} values]"
        return text + f" [{_number(value['low'])}, {_number(value['high'])}]"
    if isinstance(value, (int, float)):
        return f"{_number(value)}{space}{unit}"
    return str(value)


def check_line(check: dict) -> str:
    """Return one check as a line: status, name, value with its interval and unit, goal."""
    goal = check["goal"]
    unit = check.get("unit", "")
    goal_text = "yes" if goal is True else show(goal, unit)
    value = check["value"]
    text = f"  {check['status']:<13} {check['name']:<52} {show(value, unit):<26} goal {check['op']} {goal_text}"
    if check.get("why_not"):
        text += f"  ({check['why_not']})"
    return text + f"  [{check['source']}]"


def server_command(document: dict) -> str:
    """Return the benchmark server's command line, whole."""
    return shlex.join(document["settings"]["server"])


def _server_label(document: dict) -> str:
    settings = document["settings"]
    return "the reference server" if settings.get("reference") else f"`{server_command(document)}`"


def capacity_lines(document: dict) -> list[str]:
    """Return the capacity estimate and its alert thresholds (``bench limits`` prints these)."""
    results = document["results"]
    probe = results.get("limits", {}).get("probe", {}).get("metrics")
    if not probe or probe.get("estimated_capacity") is None:
        return []
    per = probe.get("per_session") or {}
    thresholds = probe.get("thresholds") or {}
    server_mib = (per.get("server_bytes") or 0) / 2**20
    client_kib = (per.get("client_bytes") or 0) / 1024
    label = _server_label(document)
    lines = [f"  capacity     {probe['estimated_capacity']:,} sessions of {label} on this machine, bound by "
             f"{probe['binding_limit']} ({_number(server_mib)} MiB per server (USS), {_number(client_kib)} KiB "
             f"client RSS and {_number(per.get('fds') or 0)} fds per session)"]
    by_limit = ", ".join(f"{name} {count:,}" for name, count in sorted((probe.get("capacity_by_limit") or {}).items(),
                                                                        key=lambda item: item[1]))
    lines.append(f"               by limit: {by_limit}")
    if thresholds:
        alert = (f"  alerts       warning at {thresholds.get('warning_sessions', 0):,} sessions, critical at "
                 f"{thresholds.get('critical_sessions', 0):,}")
        if "warning_fds" in thresholds:
            alert += (f"; open fds warning at {thresholds['warning_fds']:,}, critical at "
                      f"{thresholds['critical_fds']:,} (RLIMIT_NOFILE {probe.get('rlimit_nofile_soft'):,})")
        lines.append(alert)
    lines.append(f"               {REAL_SERVERS}")
    return lines


def _line(label: str, text: str) -> str:
    return f"  {label:<12} {text}"


def summary(document: dict) -> list[str]:
    """Return the summary lines of a run (what ``bench all`` prints on stdout)."""
    results = document["results"]
    machine = document["machine"]
    settings = document["settings"]
    load = document.get("load_average") or {}
    lines = [f"mcp_stdio bench {document['started']}: Python {machine['python']}, {machine['cpu_count']} CPUs "
             f"({machine.get('cpu_model', machine['machine'])}), "
             f"{round(machine.get('memory_total_bytes', 0) / 2**30, 1)} GiB; {document['duration_s']} s"
             + (f"; load average {load.get('start')} at the start, {load.get('max')} at most, "
                f"{load.get('end')} at the end" if load else "")
             + (" (--quick: small sizes)" if settings.get("quick") else "")]
    lines.append(f"  server       {_server_label(document)}: {server_command(document)}")
    lines += capacity_lines(document)
    ramp = lookup(results, "stress.ramp.reached")
    if ramp is not None:
        lines.append(_line("ramp", f"{ramp:,} of {lookup(results, 'stress.ramp.target'):,} sessions: "
                                   f"{lookup(results, 'stress.ramp.stopped_because')}"))
    churn = results.get("stress", {}).get("churn", {}).get("metrics")
    if churn:
        server = "light server" if churn.get("server") == "light" else "this server"
        text = (f"{show(churn['connections_per_s'], 'connections/s')} ({server}, floor "
                f"{_number(value_of(churn['floor_connections_per_s']))}/s): ratio {show(churn['ratio'], 'x')}")
        if churn.get("reference_server_connections_per_s") is not None:
            text += f"; reference server {_number(churn['reference_server_connections_per_s'])} connections/s"
        lines.append(_line("churn", text))
    seq = results.get("requests", {}).get("sequential", {}).get("metrics")
    if seq:
        lines.append(_line("latency", f"tools/call p50 {_number(seq['p50_us'])} µs, p99 {_number(seq['p99_us'])} µs "
                                      f"(floor p50 {_number(seq['floor_p50_us'])} µs, p99 "
                                      f"{_number(seq['floor_p99_us'])} µs)"))
    cost = results.get("memory", {}).get("session_cost", {}).get("metrics")
    server_cost = results.get("memory", {}).get("server_cost", {}).get("metrics")
    if cost:
        text = (f"per session: client heap {show(value_of(cost['client_heap_per_session_kib']), 'KiB')} "
                f"(floor {_number(value_of(cost['floor_heap_per_session_kib']))}), client RSS "
                f"{show(value_of(cost['client_rss_per_session_kib']), 'KiB')} (floor "
                f"{_number(value_of(cost['floor_rss_per_session_kib']))}), {cost['fds_per_session']} fds")
        if server_cost:
            text += (f", server PSS {_number(server_cost['server_pss_per_session_kib'] / 1024)} MiB "
                     f"(USS {_number(server_cost['server_uss_per_session_kib'] / 1024)} MiB)")
        lines.append(_line("memory", text))
    leak = results.get("stress", {}).get("leak", {}).get("metrics")
    if leak:
        clean = leak["heap_growth_kib"] < 64 and not (leak["fds_left"] or leak["tasks_left"] or leak["children_left"])
        lines.append(_line("leak", f"{'none' if clean else 'LEAK'}: heap {leak['heap_growth_kib']:+.1f} KiB over "
                                   f"{leak['cycles']} cycles ({leak['growth_per_1000_cycles_kib']:+.1f} KiB per "
                                   f"1,000 cycles); {leak['fds_left']} fds, {leak['tasks_left']} tasks, "
                                   f"{leak['children_left']} children left"))
    lag = lookup(results, "stress.ramp.timer_lag_p99_at_1000_ms")
    top = lookup(results, "stress.ramp.timer_lag_p99_at_top_ms")
    if top is not None:
        text = f"timer lag p99 {_number(lag)} ms with 1,000 idle sessions, " if lag is not None else "timer lag p99 "
        text += (f"{_number(top)} ms with {ramp:,} (empty loop "
                 f"{_number(lookup(results, 'stress.ramp.empty_timer_lag_p99_ms'))} ms)")
        lines.append(_line("loop lag", text))
    expiries = lookup(results, "core.expiries.loop_block_ms")
    if expiries is not None:
        lines.append(_line("expiries", f"{lookup(results, 'core.expiries.requests'):,} simultaneous timeouts block "
                                       f"the loop {show(expiries, 'ms')} of CPU at most per iteration (GC off; "
                                       f"{_number(value_of(lookup(results, 'core.expiries.loop_block_gc_on_ms')))} "
                                       "ms with it on)"))
    headline = results.get("pool", {}).get("headline", {}).get("metrics")
    if headline:
        side = results["pool"].get("side_by_side", {}).get("metrics", {})
        unpooled = side.get("unpooled") or {}
        lines.append(_line("pool", f"{headline['agents']:,} agents on {headline['members']} members: "
                                   f"{_number(headline['calls_per_s'])} calls/s, p50 {_number(headline['p50_ms'])} ms, "
                                   f"p99 {_number(headline['p99_ms'])} ms, "
                                   f"{'every answer right' if headline['all_right'] else 'WRONG ANSWERS'} "
                                   f"({headline['calls']:,} calls: {headline['call']}), client RSS "
                                   f"{_number(headline['client_rss_peak_per_agent_kib'])} KiB per agent"))
        if unpooled:
            pooled = side.get("pooled") or {}
            lines.append(_line("", f"{side['agents']} agents unpooled: {_number(unpooled['calls_per_s'])} calls/s, "
                                   f"p50 {_number(unpooled['p50_ms'])} ms, servers "
                                   f"{_number(unpooled['servers_uss_mib'])} MiB; pooled: "
                                   f"{_number(pooled.get('calls_per_s', 0))} calls/s, p50 "
                                   f"{_number(pooled.get('p50_ms', 0))} ms, servers "
                                   f"{_number(pooled.get('servers_uss_mib', 0))} MiB"))
        capacity = results["pool"].get("capacity", {}).get("metrics")
        if capacity:
            lines.append(_line("", f"capacity: {capacity['unpooled_capacity']:,} agents unpooled "
                                   f"(bound by {capacity['unpooled_binding_limit']}); pooled on "
                                   f"{capacity['members']} members, memory would allow "
                                   f"{capacity['pooled_memory_capacity']:,} "
                                   f"({_number(capacity['pooled_cost_per_agent_kib'])} KiB per agent): the "
                                   f"bound is throughput, {_number(capacity['pooled_calls_per_s'])} calls/s"))
    matrix = results.get("faults", {}).get("matrix", {}).get("metrics")
    if matrix and matrix.get("rows"):
        lines.append(_line("faults", f"{matrix['handled']} of {matrix['cases']} faults handled as specified, "
                                     f"{matrix['clean']} of {matrix['cases']} left nothing behind"))
    hs = document.get("handshakes") or {}
    if hs.get("performed"):
        if hs.get("counted") is not None:
            lines.append(_line("handshakes", f"{hs['performed']:,} performed, {hs['counted']:,} counted by the "
                                             f"servers ({'verified' if hs.get('verified') else 'MISMATCH'})"))
        else:
            lines.append(_line("handshakes", f"{hs['performed']:,} performed (a named server cannot count them)"))
    for group, reason in document.get("skipped", {}).items():
        lines.append(_line("skipped", f"group {group}: {reason}"))
    checks = [c for c in document.get("checks", []) if c["status"] != "not measured" or c.get("why_not")]
    if checks:
        lines += ["", "checks: median [95 % interval] against the goal; met or missed only when the whole "
                      "interval is on one side of it"]
        lines += [check_line(check) for check in checks]
        counts = {status: sum(c["status"] == status for c in document["checks"])
                  for status in ("met", "missed", "inconclusive", "not measured")}
        tally = f"  {counts['met']} met, {counts['missed']} missed, {counts['inconclusive']} inconclusive"
        if counts["inconclusive"]:
            tally += " (an inconclusive check does not fail the run: its interval straddles the goal)"
        tally += f", {counts['not measured']} not measured"
        lines.append(tally)
    return lines
