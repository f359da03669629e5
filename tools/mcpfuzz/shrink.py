"""Shrink a failing iteration: drop frames, messages and requests while the finding stays.

Greedy, in passes: whole frames (or batches) first, then the driver's requests, then single
messages, then chunk cuts (a frame sent whole); a change is kept when the iteration, run
again, still reports a finding of the same kind. Bounded by ``max_trials`` runs.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from . import client_target, server_target
from .common import MAX_LAG, Monitor

__all__ = ["shrink"]


def _units(target: str, plan: Any) -> list:
    units: list = []
    if target == "client":
        units += [("frame", i) for i in range(len(plan.frames))]
        units += [("call", i) for i in range(len(plan.calls))]
        units += [("start", j) for j in range(len(plan.start.messages))]
        units += [("message", i, j) for i, frame in enumerate(plan.frames) for j in range(len(frame.messages))]
        units += [("whole", i) for i, frame in enumerate(plan.frames) if frame.chunking != "whole"]
    else:
        units += [("batch", i) for i in range(len(plan.batches))]
        units += [("line", i, j) for i, batch in enumerate(plan.batches) for j in range(len(batch.lines))]
        units += [("whole", i) for i, batch in enumerate(plan.batches) if batch.chunking != "whole"]
    return units


def _without(target: str, plan: Any, unit: tuple) -> Any:
    new = copy.deepcopy(plan)
    kind = unit[0]
    if kind == "frame":
        del new.frames[unit[1]]
        if new.oversized_at is not None:
            new.oversized_at = None if new.oversized_at == unit[1] else new.oversized_at - (new.oversized_at > unit[1])
    elif kind == "call":
        del new.calls[unit[1]]
    elif kind == "start":
        del new.start.messages[unit[1]]
    elif kind == "message":
        del new.frames[unit[1]].messages[unit[2]]
    elif kind == "batch":
        del new.batches[unit[1]]
    elif kind == "line":
        del new.batches[unit[1]].lines[unit[2]]
    elif kind == "whole":
        (new.frames if target == "client" else new.batches)[unit[1]].chunking = "whole"
    return new


async def _run(target: str, plan: Any) -> dict:
    module = client_target if target == "client" else server_target
    async with Monitor(MAX_LAG if target == "client" else None) as monitor:
        monitor.iteration = plan.iteration
        outcome = await module.run_iteration(plan, monitor)
        outcome["findings"] = outcome["findings"] + monitor.findings
    return outcome


def shrink(target: str, seed: int, iteration: int, *, max_trials: int = 150, max_seconds: float = 300.0) -> dict:
    """Return the smallest plan found that still fails like iteration ``iteration`` of ``seed``."""
    module = client_target if target == "client" else server_target
    plan = module.make_plan(seed, iteration)
    first = asyncio.run(_run(target, plan))
    if not first["findings"]:
        return {"reproduced": False}
    kind = first["findings"][0].kind
    trials = 0
    started = time.monotonic()
    changed = True
    last = first
    while changed and trials < max_trials and time.monotonic() - started < max_seconds:
        changed = False
        for unit in reversed(_units(target, plan)):
            if trials >= max_trials or time.monotonic() - started >= max_seconds:
                break
            try:
                candidate = _without(target, plan, unit)
            except (IndexError, TypeError):
                continue
            trials += 1
            outcome = asyncio.run(_run(target, candidate))
            if any(finding.kind == kind for finding in outcome["findings"]):
                plan, last, changed = candidate, outcome, True
    result: dict = {"reproduced": True, "kind": kind, "trials": trials,
                    "finding": next(f.line() for f in last["findings"] if f.kind == kind),
                    "plan_messages": plan.messages_text()}
    if target == "client":
        result["era"] = plan.era
        result["version"] = plan.version
        result["calls"] = [f"{call.api}{call.args!r} {call.kwargs!r}" for call in plan.calls]
        result["options"] = plan.options
    result["sent"] = [line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")[:3000] for line in last["sent"]]
    result["received"] = [line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")[:3000]
                          for line in last.get("received", ())]
    return result
