"""Group ``limits``: the limits probe, fed with per-session costs measured in this run."""

from __future__ import annotations

from .. import limits as limits_module
from . import lookup
from .stress import session_cost


async def run(ctx) -> None:
    """Measure the per-session costs (unless ``stress`` did already) and probe the limits."""
    if lookup(ctx.results, "stress.session_cost.fds_per_session") is None:
        group, ctx.group = ctx.group, "stress"
        try:
            await session_cost(ctx)
        finally:
            ctx.group = group
    ctx.progress("probe")
    fds = lookup(ctx.results, "stress.session_cost.fds_per_session")
    client_kib = lookup(ctx.results, "stress.session_cost.client_rss_per_session_kib")
    server_kib = lookup(ctx.results, "stress.session_cost.server_pss_per_session_kib")
    report = limits_module.probe(
        fds_per_session=fds,
        client_bytes_per_session=(client_kib or 0) * 1024 or None,
        server_bytes_per_session=(server_kib or 0) * 1024 or None,
    )
    metrics = {
        "estimated_capacity": report.get("estimated_capacity"),
        "binding_limit": report.get("binding_limit"),
        "rlimit_nofile_soft": (report["limits"]["rlimit_nofile"] or {}).get("soft"),
        "rlimit_nproc_soft": (report["limits"]["rlimit_nproc"] or {}).get("soft"),
        "memory_available_mib": round((report.get("memory_available_bytes") or 0) / 2**20),
        "pipe_capacity_bytes": report.get("pipe_capacity_bytes"),
        "capacity_by_limit": report.get("capacity_by_limit"),
        "thresholds": report.get("thresholds"),
        "per_session": report.get("per_session"),
        "limits": report.get("limits"),
    }
    ctx.record("probe", metrics)
