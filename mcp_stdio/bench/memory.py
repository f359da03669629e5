"""Group ``memory``: what one held session costs, on this interpreter, against the floor.

* ``server_cost``: the benchmark server's own memory: a few real sessions, each server's
  process group (a wrapper such as ``npx`` and its ``node`` together) summed, RSS and PSS.
* ``session_cost``: the client's side, in fresh interpreters (in this process, memory freed
  by earlier tests is reused and would hide the RSS of new sessions): per held session, the
  Python heap (tracemalloc), the RSS and the file descriptors, for mcp_stdio and for the
  floor in interleaved trials, with the ratio and its 95 % interval. The sessions are held
  with the light server replaying the benchmark server's own ``initialize`` answer
  (recorded by ``server_cost``), so the client keeps exactly what it would keep for that
  server, while the trials spawn a cheap process. Each trial holds 200 sessions, started
  20 at a time: RSS also keeps the high-water mark of the starts in progress (their
  coroutines, tasks and half-built transports, freed once started but left resident by
  the allocator), about 150 KiB for 20 at once on 3.9; over 50 sessions that was 3 KiB
  per session, over 200 it is under 1, so the figure is what one more held session costs.
  mcp_stdio watches its children without a thread where pidfds work
  (:mod:`mcp_stdio.children`); the floor, spawning through
  ``asyncio.create_subprocess_exec``, has asyncio's watcher: one thread per child on 3.9 to
  3.11, a pidfd on 3.12 and later.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import tracemalloc

from ..children import pidfd_supported
from .common import Context, collect, group_memory, light_command, open_fd_count, rss_bytes
from .stats import estimate, interleave, ratio_estimate

# Sessions opened and closed in a child before it measures.
WARM_UP = 3
# Sessions held by each trial of ``session_cost``, and how many start at once.
HELD, QUICK_HELD, START_LIMIT = 200, 10, 20


async def run(ctx: Context) -> None:
    """Run every test of the group."""
    result = await server_cost(ctx)
    await session_cost(ctx, result)


async def server_cost(ctx: Context) -> dict:
    """Open a few sessions of the benchmark server; measure each server's memory."""
    count = ctx.size(10, 3)
    ctx.progress(f"server_cost: {count} sessions of {ctx.server_name}")
    clients = await ctx.open(count, concurrency=10, timeout=120, startup_timeout=120)
    try:
        await asyncio.sleep(0.2)  # let the servers settle after their handshake
        memory = group_memory([c.pid for c in clients if c.pid is not None])
        initialize = clients[0].initialize_result
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    ctx.record("server_cost", {
        "sessions": count,
        "server_rss_per_session_kib": round(memory["rss"] / count / 1024, 1),
        "server_pss_per_session_kib": round(memory["pss"] / count / 1024, 1),
        "server_uss_per_session_kib": round(memory["uss"] / count / 1024, 1),
        "processes_per_session": round(memory["processes"] / count, 2),
        "initialize_result_bytes": len(json.dumps(initialize, separators=(",", ":"))),
    }, note=f"server: {ctx.server_name}; each server's process group summed, from /proc: PSS shares the "
            "pages common to several processes among them (it falls as more servers run), USS counts the "
            "private pages, what one more server adds (the capacity estimate uses it)")
    return initialize or {}


async def session_cost(ctx: Context, initialize: dict) -> None:
    """Heap, RSS and fds per held session in fresh interpreters, mcp_stdio and floor interleaved."""
    count, pairs = ctx.size(HELD, QUICK_HELD), 6
    fd, path = tempfile.mkstemp(prefix="mcp_stdio-bench-init-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(initialize, out)
    command = light_command("--initialize-result", path)
    try:
        def trial(kind: str):
            async def run_trial() -> dict:
                answer = ctx.run_child("memory", {"kind": kind, "command": command, "count": count,
                                                  "env": ctx.env})
                return {key: answer[key] for key in ("heap", "rss", "fds")}
            return run_trial

        a, b = await interleave(trial("mcp_stdio"), trial("floor"), pairs,
                                lambda i, n: ctx.progress(f"session_cost: {count} held sessions", i, n))
    finally:
        os.unlink(path)
    per = {key: [v / count / 1024 for v in a[key]] for key in ("heap", "rss")}
    floor_per = {key: [v / count / 1024 for v in b[key]] for key in ("heap", "rss")}
    metrics = {
        "sessions": count, "started_at_once": START_LIMIT, "pairs": pairs,
        "client_heap_per_session_kib": estimate(per["heap"], "KiB"),
        "floor_heap_per_session_kib": estimate(floor_per["heap"], "KiB"),
        "heap_ratio": ratio_estimate(a["heap"], b["heap"]),
        "client_rss_per_session_kib": estimate(per["rss"], "KiB"),
        "floor_rss_per_session_kib": estimate(floor_per["rss"], "KiB"),
        "rss_ratio": ratio_estimate(a["rss"], b["rss"]),
        "fds_per_session": round(sorted(a["fds"])[len(a["fds"]) // 2] / count, 2),
        "floor_fds_per_session": round(sorted(b["fds"])[len(b["fds"]) // 2] / count, 2),
    }
    note = (f"{pairs} pairs of fresh interpreters, each holding {count} sessions ({START_LIMIT} started at once); "
            f"the light server replays the initialize answer of {ctx.server_name}; "
            "heap from tracemalloc, RSS and fds from /proc")
    if sys.version_info < (3, 12):
        note += ("; on this interpreter the floor keeps asyncio's waitpid thread per child, mcp_stdio a pidfd"
                 if pidfd_supported() else "; no pidfds here: both keep asyncio's waitpid thread per child")
    ctx.record("session_cost", metrics, note=note)


def child(args: dict) -> None:
    """Entry point of the child interpreter (see :meth:`Context.run_child`)."""
    print(json.dumps(asyncio.run(_held(args["kind"], args["command"], args["count"], args.get("env")))))


async def _held(kind: str, command: list[str], count: int, env: dict | None) -> dict:
    import mcp_stdio

    from .common import FloorClient

    def new() -> object:
        if kind == "floor":
            from mcp_stdio.transport import build_env

            return FloorClient(command, build_env(env) if env else None)
        return mcp_stdio.connect(command, env=env, protocol="handshake",
                                 client_info={"name": "mcp_stdio-bench", "version": mcp_stdio.__version__})

    async def open_all(count: int = count) -> list:
        sessions = [new() for _ in range(count)]
        limit = asyncio.Semaphore(START_LIMIT)

        async def start(session) -> None:
            async with limit:
                await session.start()

        await asyncio.gather(*(start(s) for s in sessions))
        return sessions

    async def close_all(sessions: list) -> None:
        await asyncio.gather(*(s.close() for s in sessions))

    handshakes = 0
    # Warm-up: imports and caches, with few sessions, so that the measured ones cannot
    # live in memory that the warm-up freed.
    await close_all(await open_all(WARM_UP))
    handshakes += WARM_UP
    await asyncio.sleep(0.05)
    collect()
    rss0, fds0 = rss_bytes(), open_fd_count()
    sessions = await open_all()
    handshakes += count
    await asyncio.sleep(0.05)
    collect()
    rss1, fds1 = rss_bytes(), open_fd_count()
    await close_all(sessions)
    del sessions
    await asyncio.sleep(0.05)
    collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    sessions = await open_all()
    handshakes += count
    await asyncio.sleep(0.05)
    collect()
    heap = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    await close_all(sessions)
    return {"heap": heap, "rss": rss1 - rss0, "fds": fds1 - fds0, "handshakes": handshakes}
