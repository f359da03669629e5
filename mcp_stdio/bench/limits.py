"""Group ``limits``: the limits probe, fed with per-session costs measured in this run."""

from __future__ import annotations

from typing import Any

from .. import limits as limits_module
from . import lookup, value_of


async def ensure_costs(ctx: Any) -> None:
    """Measure the per-session costs (group ``memory``) unless this run did already."""
    if lookup(ctx.results, "memory.session_cost.fds_per_session") is not None:
        return
    from . import memory

    group, ctx.group = ctx.group, "memory"
    try:
        await memory.run(ctx)
    finally:
        ctx.group = group


async def capacity_report(ctx: Any) -> dict:
    """Return :func:`mcp_stdio.limits.probe` for the benchmark server, from this run's costs."""
    await ensure_costs(ctx)
    fds = lookup(ctx.results, "memory.session_cost.fds_per_session")
    client_kib = value_of(lookup(ctx.results, "memory.session_cost.client_rss_per_session_kib"))
    server_kib = lookup(ctx.results, "memory.server_cost.server_uss_per_session_kib")
    processes = lookup(ctx.results, "memory.server_cost.processes_per_session") or 1.0
    return limits_module.probe(
        fds_per_session=fds,
        client_bytes_per_session=(client_kib or 0) * 1024 or None,
        server_bytes_per_session=(server_kib or 0) * 1024 or None,
        processes_per_session=processes,
    )


async def run(ctx: Any) -> None:
    """Probe the limits with the per-session costs of this run."""
    report = await capacity_report(ctx)
    ctx.progress("probe")
    metrics = {
        "server": ctx.server_name,
        "estimated_capacity": report.get("estimated_capacity"),
        "binding_limit": report.get("binding_limit"),
        "rlimit_nofile_soft": (report["limits"]["rlimit_nofile"] or {}).get("soft"),
        "rlimit_nproc_soft": (report["limits"]["rlimit_nproc"] or {}).get("soft"),
        "memory_available_mib": round((report.get("memory_available_bytes") or 0) / 2**20),
        "memory_total_mib": round((report.get("memory_total_bytes") or 0) / 2**20),
        "pipe_capacity_bytes": report.get("pipe_capacity_bytes"),
        "user_processes": report.get("user_processes"),
        "capacity_by_limit": report.get("capacity_by_limit"),
        "thresholds": report.get("thresholds"),
        "per_session": report.get("per_session"),
        "limits": report.get("limits"),
    }
    ctx.record("probe", metrics, note="per session: fds and client RSS from memory.session_cost, the server's "
               "USS (private memory) from memory.server_cost")
