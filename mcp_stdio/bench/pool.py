"""Group ``pool``: many agents on a few server processes (``mcp_stdio.pool``), against one
server per agent.

* ``side_by_side``: the same agents (200; 20 with ``--quick``), each making a few calls,
  once with a client and a server each (unpooled) and once on 8 members (pooled): calls
  per second, p50/p99 latency, client RSS per agent, servers' memory per agent.
* ``headline``: 10,000 concurrent agents (500 with ``--quick``), each making its calls, on
  8 members of the reference server (16 of a server named with ``--server``): every answer
  checked, client RSS per agent (peak while they all work, and held while idle).
* ``capacity``: agents this machine can hold, unpooled (the limits probe with this run's
  per-session costs) and pooled (memory over the measured cost per agent).

Each configuration runs in a fresh interpreter, so its RSS is its own. The call is
``echo`` with a text unique to the agent and the call, checked in the answer (any server
with an ``echo`` tool), else ``ping``. Members speak the era the client picks (``auto``).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from .common import (
    Context,
    Workload,
    collect,
    group_memory,
    peak_rss_bytes,
    percentiles,
    reset_peak_rss,
    rss_bytes,
)

# Members of the headline run: the targets (8 of the reference server, at most 16
# of a node server such as server-memory).
REFERENCE_MEMBERS = 8
OTHER_MEMBERS = 16
# Seconds the era probe waits before also sending initialize: long, so that a busy machine
# does not make a client send both, and initialize is sent exactly when the era is the
# handshake's (the ledger of handshakes stays exact; a legacy server refuses the probe at once).
PROBE_TIMEOUT = 120.0


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    from .limits import capacity_report

    workload = await ctx.workload()
    members = REFERENCE_MEMBERS if ctx.reference else OTHER_MEMBERS
    calls = ctx.size(3, 2)
    base = {"command": ctx.command, "env": ctx.env, "tool": workload.tool, "argument": workload.argument,
            "calls": calls}
    few = ctx.size(200, 20)
    side = {}
    for mode in ("unpooled", "pooled"):
        ctx.progress(f"side_by_side: {few} agents, {mode}")
        side[mode] = ctx.run_child("pool", dict(base, mode=mode, agents=few, members=members))
    ctx.record("side_by_side", {"agents": few, "members": members, "calls_per_agent": calls,
                                "call": workload.name, "unpooled": side["unpooled"], "pooled": side["pooled"]},
               note=f"server: {ctx.server_name}; unpooled = one client and one server per agent; pooled = "
                    f"mcp_stdio.pool with {members} members; fresh interpreter each")
    many = ctx.size(10_000, 500)
    ctx.progress(f"headline: {many:,} agents on {members} members")
    headline = ctx.run_child("pool", dict(base, mode="pooled", agents=many, members=members))
    ctx.record("headline", dict(headline, agents=many, members=members, calls_per_agent=calls,
                                call=workload.name, all_right=headline["wrong"] == 0 and headline["errors"] == 0),
               note=f"{many:,} concurrent agents, each making {calls} calls one after the other, on {members} "
                    f"members of {ctx.server_name}")
    report = await capacity_report(ctx)
    per_agent = headline["client_rss_peak_per_agent_kib"] + headline["servers_uss_mib"] * 1024 / many
    available = report.get("memory_available_bytes") or 0
    from .. import limits as limits_module

    pooled = int(available * (1 - limits_module.MEMORY_RESERVE) / (per_agent * 1024)) if per_agent > 0 else None
    ctx.record("capacity", {
        "unpooled_capacity": report.get("estimated_capacity"), "unpooled_binding_limit": report.get("binding_limit"),
        "pooled_memory_capacity": pooled, "pooled_cost_per_agent_kib": round(per_agent, 2), "members": members,
        "pooled_calls_per_s": headline["calls_per_s"], "pooled_p50_ms": headline["p50_ms"],
        "pooled_agents_measured": many,
    }, note="unpooled: the limits probe with this run's per-session costs; pooled: what memory alone allows "
            "(available memory less the probe's 20 % reserve, over the headline's peak client RSS per agent plus "
            "its members' USS shared among the agents; fds and processes stay those of the members): a pool is "
            "bound by its members' throughput long before, so the calls per second its members served are "
            "the figure to size with")


def child(args: dict) -> None:
    """Entry point of the child interpreter (see :meth:`Context.run_child`)."""
    print(json.dumps(asyncio.run(_run(args))))


async def _run(args: dict) -> dict:
    import mcp_stdio

    workload = Workload(args["tool"], args["argument"])
    agents_n, calls, env = args["agents"], args["calls"], args["env"]
    latencies: list[float] = []
    outcome = {"wrong": 0, "errors": 0}
    clock = time.perf_counter

    async def work(index: int, agent: Any) -> None:
        for j in range(calls):
            start = clock()
            try:
                right = await workload.call(agent, f"agent-{index}-call-{j}")
            except Exception:  # counted: every answer must be right
                outcome["errors"] += 1
                continue
            latencies.append(clock() - start)
            if not right:
                outcome["wrong"] += 1

    async def drive(agents: list) -> dict:
        collect()
        rss_before = rss_bytes()
        reset_peak_rss()
        cpu0, start = time.process_time(), clock()
        await asyncio.gather(*(work(i, a) for i, a in enumerate(agents)))
        elapsed, cpu = clock() - start, time.process_time() - cpu0
        return {"elapsed": elapsed, "cpu": cpu, "rss_before": rss_before, "peak": peak_rss_bytes(),
                "rss_after": rss_bytes()}

    collect()
    rss0 = rss_bytes()
    handshakes = 0
    if args["mode"] == "pooled":
        async with mcp_stdio.pool(args["command"], size=args["members"], env=env, timeout=300,
                                  startup_timeout=120, probe_timeout=PROBE_TIMEOUT) as pool:
            collect()
            rss_members = rss_bytes()
            agents = [pool.session(client_info={"name": f"agent-{i}", "version": "1"}) for i in range(agents_n)]
            collect()
            rss_idle = rss_bytes()
            run = await drive(agents)
            servers = group_memory(pool.pids)
            era = pool.members[0].era if pool.members else None
            handshakes = sum(1 for m in pool.members if m.era == "handshake")
            stats = pool.stats()
            await asyncio.gather(*(a.close() for a in agents))
        base_rss = rss_members
        extra = {"members": args["members"], "replaced": stats["replaced"], "retried": stats["retried"]}
    else:
        clients = [mcp_stdio.connect(args["command"], env=env, timeout=300, startup_timeout=120,
                                     probe_timeout=PROBE_TIMEOUT) for _ in range(agents_n)]
        limit = asyncio.Semaphore(50)

        async def start(client: Any) -> None:
            async with limit:
                await client.start()

        try:
            await asyncio.gather(*(start(c) for c in clients))
            collect()
            rss_idle = rss_bytes()
            run = await drive(clients)
            servers = group_memory([c.pid for c in clients if c.pid is not None])
            era = clients[0].era
            handshakes = sum(1 for c in clients if c.era == "handshake")
        finally:
            await asyncio.gather(*(c.close() for c in clients))
        base_rss = rss0
        extra = {}
    total = agents_n * calls
    points = percentiles(latencies)
    return dict(extra, **{
        "agents": agents_n, "calls": total, "era": era, "wrong": outcome["wrong"], "errors": outcome["errors"],
        "calls_per_s": round(total / run["elapsed"], 1), "seconds": round(run["elapsed"], 2),
        "client_cpu_per_call_us": round(run["cpu"] / total * 1e6, 1),
        "p50_ms": round(points["p50"] * 1e3, 2), "p99_ms": round(points["p99"] * 1e3, 2),
        "client_rss_idle_per_agent_kib": round((rss_idle - base_rss) / agents_n / 1024, 2),
        "client_rss_peak_per_agent_kib": round((max(run["peak"], run["rss_after"]) - base_rss) / agents_n / 1024, 2),
        "servers_pss_mib": round(servers["pss"] / 2**20, 1), "servers_uss_mib": round(servers["uss"] / 2**20, 1),
        "servers": servers["processes"], "handshakes": handshakes,
    })
