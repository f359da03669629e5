"""The Markdown report of a bench run, with SVG charts drawn with the standard library."""

from __future__ import annotations

import os
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["write_report"]

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def _svg_lines(title: str, x_label: str, series: dict[str, list[tuple[float, float]]], y_label: str) -> str:
    """Return an SVG line chart of ``series`` ({name: [(x, y), ...]})."""
    width, height, left, bottom, top, right = 640, 360, 70, 50, 40, 150
    points = [p for values in series.values() for p in values]
    max_x = max((x for x, _ in points), default=1) or 1
    max_y = max((y for _, y in points), default=1) or 1
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + x / max_x * plot_w

    def sy(y: float) -> float:
        return top + plot_h - y / max_y * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
           f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>',
           f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">{escape(x_label)}</text>',
           f'<text x="15" y="{top + plot_h / 2}" transform="rotate(-90 15 {top + plot_h / 2})" '
           f'text-anchor="middle">{escape(y_label)}</text>']
    for i in range(5):
        value = max_y * i / 4
        out.append(f'<text x="{left - 5}" y="{sy(value) + 4}" text-anchor="end">{value:.3g}</text>')
        value_x = max_x * i / 4
        out.append(f'<text x="{sx(value_x)}" y="{top + plot_h + 15}" text-anchor="middle">{value_x:.3g}</text>')
    for index, (name, values) in enumerate(series.items()):
        color = _COLORS[index % len(_COLORS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values)
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        for x, y in values:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{color}"/>')
        out.append(f'<rect x="{width - right + 15}" y="{top + index * 20}" width="12" height="12" fill="{color}"/>')
        out.append(f'<text x="{width - right + 32}" y="{top + index * 20 + 10}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _svg_histogram(title: str, bucket: float, series: dict[str, list[int]]) -> str:
    """Return an SVG histogram: one outline per series, bucket width ``bucket`` µs."""
    converted = {name: [(i * bucket, count) for i, count in enumerate(counts)] for name, counts in series.items()}
    return _svg_lines(title, "round-trip latency (µs)", converted, "requests")


def _table(metrics: dict[str, Any]) -> list[str]:
    rows = ["| metric | value |", "|---|---|"]
    for key, value in metrics.items():
        if isinstance(value, (dict, list)):
            continue
        rows.append(f"| {key} | {value} |")
    return rows


def write_report(path: str, document: dict[str, Any]) -> list[str]:
    """Write the Markdown report to ``path`` and its charts beside it; return the files."""
    base, _ = os.path.splitext(path)
    written = [path]
    results = document["results"]
    machine = document["machine"]
    lines = ["# mcp_stdio benchmark report", "",
             f"Run on {document['started']} in {document['duration_s']} s: Python {machine['python']} on "
             f"{machine.get('cpu_model', machine['machine'])}, {machine['cpu_count']} CPUs, "
             f"{round(machine.get('memory_total_bytes', 0) / 2**30, 1)} GiB, {machine['platform']}.", "",
             f"Server: `{' '.join(document['settings']['server'])[:120]}`"
             + (" (the reference server)" if document["settings"]["reference"] else ""),
             "", "## Summary", ""]
    hs = document.get("handshakes", {})
    if hs.get("verified") is not None:
        lines.append(f"Handshakes performed: {hs['performed']}; counted by the servers: {hs['counted']} "
                     f"({'verified' if hs['verified'] else 'MISMATCH'}).")
        lines.append("")
    lines += ["| target | value | goal | status |", "|---|---|---|---|"]
    for check in document["checks"]:
        lines.append(f"| {check['name']} | {check['value']} | {check['target']} | {check['status']} |")
    lines.append("")
    probe = results.get("limits", {}).get("probe", {}).get("metrics")
    if probe:
        per = probe.get("per_session") or {}
        thresholds = probe.get("thresholds") or {}
        lines += ["## Sizing", "",
                  f"- One session costs {per.get('fds')} file descriptors in the client, "
                  f"{round((per.get('client_bytes') or 0) / 1024, 1)} KiB of client RSS and "
                  f"{round((per.get('server_bytes') or 0) / 1024, 1)} KiB (PSS) for the server process.",
                  f"- Estimated safe capacity on this machine: **{probe.get('estimated_capacity')} sessions**, "
                  f"bound by {probe.get('binding_limit')} (capacity by limit: {probe.get('capacity_by_limit')}).",
                  f"- Alert at {thresholds.get('warning_sessions')} sessions (warning, 70 %) and "
                  f"{thresholds.get('critical_sessions')} (critical, 90 %); on file descriptors at "
                  f"{thresholds.get('warning_fds')} and {thresholds.get('critical_fds')}.",
                  "- To go further, raise the first binding limit (for example `ulimit -n` for "
                  "RLIMIT_NOFILE) and re-run `python -m mcp_stdio.bench limits`.", ""]
    ramp = results.get("stress", {}).get("max_concurrent", {}).get("metrics", {})
    if ramp.get("levels"):
        levels = ramp["levels"]
        chart = base + "-sessions.svg"
        with open(chart, "w", encoding="utf-8") as svg:
            svg.write(_svg_lines("Cost of concurrent sessions", "concurrent sessions", {
                "client RSS (MiB)": [(lv["sessions"], lv["client_rss_mib"]) for lv in levels],
                "servers PSS / 10 (MiB)": [(lv["sessions"], lv["servers_pss_mib"] / 10) for lv in levels],
                "client fds / 10": [(lv["sessions"], lv["fds"] / 10) for lv in levels],
            }, "MiB or count"))
        written.append(chart)
        lines += ["## Concurrency ramp", "", f"Reached {ramp['reached']} of {ramp['target']} sessions: "
                  f"{ramp['stopped_because']}.", "", f"![sessions]({os.path.basename(chart)})", "",
                  "| sessions | fds | client RSS MiB | servers PSS MiB | timer lag p99 ms | ping failures |",
                  "|---|---|---|---|---|---|"]
        for lv in levels:
            lines.append(f"| {lv['sessions']} | {lv['fds']} | {lv['client_rss_mib']} | {lv['servers_pss_mib']} | "
                         f"{lv['timer_lag_p99_ms']} | {lv['ping_failures']} |")
        lines.append("")
    histogram = results.get("requests", {}).get("sequential_latency", {}).get("metrics", {}).get("histogram")
    if histogram:
        chart = base + "-latency.svg"
        with open(chart, "w", encoding="utf-8") as svg:
            svg.write(_svg_histogram("Sequential tools/call latency", histogram["bucket_us"],
                                     {"mcp_stdio": histogram["mcp_stdio"], "floor": histogram["floor"]}))
        written.append(chart)
        lines += ["## Latency distribution", "", f"![latency]({os.path.basename(chart)})", ""]
    lines += ["## Results by test", ""]
    for group, tests in results.items():
        for test, entry in tests.items():
            if test == "_group":
                continue
            lines += [f"### {group} / {test}", ""]
            if entry.get("note"):
                lines += [entry["note"], ""]
            lines += _table(entry["metrics"]) + [""]
    with open(path, "w", encoding="utf-8") as report:
        report.write("\n".join(lines))
    return written
