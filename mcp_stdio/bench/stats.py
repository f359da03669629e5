"""The bench's estimator: paired, interleaved trials, a median with a 95 % interval, verdicts.

Theory of operation
-------------------
A shared machine drifts: another process takes a core for two seconds, the CPU clock
changes, the page cache fills. One long run of mcp_stdio followed by one long run of the
floor compares two different machines, and the ratio then swings from run to run (churn
vs floor went from 0.92 to 2.32 over ten runs that way). So every comparison here is made
of many short *trials*, alternated ``A B, B A, A B, ...`` (neither side always goes first),
and each pair gives one ratio ``A / B`` measured under nearly the same conditions: a burst
of noise hits one pair, not one side.

The estimate is the **median of the pair ratios**, and its 95 % interval comes from order
statistics, with no assumption about the distribution: if ``r(1) <= ... <= r(n)`` are the
sorted ratios, the true median lies between ``r(j)`` and ``r(n + 1 - j)`` with probability
``1 - 2 P(B <= j - 1)``, where ``B`` follows the binomial law ``B(n, 1/2)``; ``j`` is the
largest rank that keeps this at 95 % or more. Six pairs are the fewest that give a 95 %
interval (``[min, max]``, 96.9 %); with fewer, the interval is unbounded and every check on
it is inconclusive. The same interval serves single quantities measured repeatedly (import
time, loop block time, RSS per session).

Where wall time is mostly noise (the per-call work of a client is microseconds beside a
pipe round trip that the scheduler decides), the ratio is taken on the client's CPU time
(``time.process_time()``), which other processes do not inflate.

A check compares an interval with a goal: **met** when the whole interval is on the right
side, **missed** when the whole interval is on the wrong side, **inconclusive** when it
straddles the goal (more pairs, or a quieter machine, would decide). Baselines store
intervals too, and :func:`regressed` declares a regression only when the new interval lies
beyond the baseline's interval plus the stored tolerance.

This module does no I/O; :func:`interleave` only awaits the trials it is given.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any, Callable
from collections.abc import Awaitable, Sequence

__all__ = [
    "CONFIDENCE",
    "MIN_PAIRS",
    "median_interval",
    "interval_ranks",
    "estimate",
    "ratio_estimate",
    "interleave",
    "timed_trial",
    "verdict",
    "bounds",
    "regressed",
]

# The coverage of every interval of the bench.
CONFIDENCE = 0.95
# The fewest values that give a 95 % interval: P(all six on one side of the median) = 2/64.
MIN_PAIRS = 6


def _binomial_cdf(k: int, n: int) -> float:
    """Return P(B <= k) for B ~ Binomial(n, 1/2)."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(min(k, n) + 1)) / 2 ** n


def interval_ranks(n: int, confidence: float = CONFIDENCE) -> tuple[int, int] | None:
    """Return the 1-based ranks ``(j, n + 1 - j)`` of the median's interval, or ``None``.

    ``None`` means that ``n`` values cannot give an interval of that coverage.
    """
    best = None
    for j in range(1, n // 2 + 1):
        if 1 - 2 * _binomial_cdf(j - 1, n) >= confidence:
            best = j
        else:
            break
    return None if best is None else (best, n + 1 - best)


def median_interval(values: Sequence[float], confidence: float = CONFIDENCE
                    ) -> tuple[float, float | None, float | None]:
    """Return ``(median, low, high)``; ``low`` and ``high`` are ``None`` with too few values."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    median = statistics.median(ordered)
    ranks = interval_ranks(len(ordered), confidence)
    if ranks is None:
        return median, None, None
    return median, ordered[ranks[0] - 1], ordered[ranks[1] - 1]


def _round(value: float | None, digits: int) -> float | None:
    if value is None:
        return None
    return float(f"{value:.{digits}g}")


def estimate(values: Sequence[float], unit: str, digits: int = 4) -> dict[str, Any]:
    """Return ``{"median", "low", "high", "n", "unit", "values"}`` for repeated measurements of one
    quantity (``values``: each measurement, in the order measured, for a reader who doubts the
    summary)."""
    median, low, high = median_interval(values)
    return {"median": _round(median, digits), "low": _round(low, digits), "high": _round(high, digits),
            "n": len(values), "unit": unit, "values": [_round(value, 3) for value in values]}


def ratio_estimate(a: Sequence[float], b: Sequence[float], *, rate: bool = False, digits: int = 4
                   ) -> dict[str, Any]:
    """Return the estimate of the paired ratio of costs ``a[i] / b[i]``.

    Args:
        a: mcp_stdio's cost in each pair (seconds, bytes...; higher is costlier).
        b: the floor's cost in the same pairs.
        rate: give the ratio of rates instead (``b[i] / a[i]``: higher is better), as for
            throughput and connections per second.
    """
    if len(a) != len(b):
        raise ValueError("a and b must pair up")
    ratios = [(y / x if rate else x / y) for x, y in zip(a, b) if x > 0 and y > 0]
    if not ratios:
        raise ValueError("no pair with two positive costs")
    return estimate(ratios, "x", digits)


async def timed_trial(work: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    """Run ``work()`` once; return its ``{"wall", "cpu"}`` seconds (CPU of this process)."""
    cpu, wall = time.process_time, time.perf_counter
    c0, w0 = cpu(), wall()
    await work()
    w1, c1 = wall(), cpu()
    return {"wall": w1 - w0, "cpu": c1 - c0}


async def interleave(trial_a: Callable[[], Awaitable[dict[str, float]]],
                     trial_b: Callable[[], Awaitable[dict[str, float]]], pairs: int,
                     progress: Callable[[int, int], None] | None = None,
                     ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Run ``pairs`` pairs of trials, ``A B`` then ``B A`` alternately; return each side's measures.

    Each trial returns a dict of measures (``{"wall": s, "cpu": s}``, or anything); the
    result maps each measure to its list of values, pair by pair, for each side.
    """
    if pairs < MIN_PAIRS:
        raise ValueError(f"at least {MIN_PAIRS} pairs give a 95 % interval, not {pairs}")
    sides: tuple[dict[str, list[float]], dict[str, list[float]]] = ({}, {})
    for index in range(pairs):
        if progress is not None:
            progress(index + 1, pairs)
        order = ((0, trial_a), (1, trial_b)) if index % 2 == 0 else ((1, trial_b), (0, trial_a))
        for side, trial in order:
            for key, value in (await trial()).items():
                sides[side].setdefault(key, []).append(value)
    return sides


def bounds(value: Any) -> tuple[float, float] | None:
    """Return the interval ``(low, high)`` of an estimate or a plain number (``None``: unknown)."""
    if isinstance(value, dict):
        if value.get("low") is None or value.get("high") is None:
            return None
        return float(value["low"]), float(value["high"])
    if isinstance(value, bool) or value is None:
        return None
    return float(value), float(value)


def verdict(value: Any, op: str, goal: Any) -> str:
    """Return ``"met"``, ``"missed"`` or ``"inconclusive"`` for ``value op goal``.

    ``value`` is an estimate (its interval is compared), a number or a boolean (compared
    as it is); ``None`` gives ``"not measured"``.
    """
    if value is None:
        return "not measured"
    if op == "==":
        return "met" if value == goal else "missed"
    interval = bounds(value)
    if interval is None:
        return "inconclusive"
    low, high = interval
    if op in ("<=", "<"):
        inside = high <= goal if op == "<=" else high < goal
        outside = low > goal if op == "<=" else low >= goal
    elif op in (">=", ">"):
        inside = low >= goal if op == ">=" else low > goal
        outside = high < goal if op == ">=" else high <= goal
    else:
        raise ValueError(f"unknown comparison {op!r}")
    return "met" if inside else "missed" if outside else "inconclusive"


def regressed(new: Any, base: Any, better: str, tolerance: float, absolute: float = 0.0) -> str | None:
    """Return why ``new`` regressed from ``base`` (a line), or ``None``.

    A regression is declared only when the whole new interval lies beyond the baseline's
    interval widened by ``tolerance`` (relative) and ``absolute`` (in the metric's unit):
    an unchanged program, measured again, stays inside.

    Args:
        new, base: estimates (``{"median", "low", "high"}``) or plain numbers.
        better: ``"lower"`` or ``"higher"``.
    """
    new_bounds, base_bounds = bounds(new), bounds(base)
    if new_bounds is None or base_bounds is None:
        return None
    if better == "lower":
        limit = base_bounds[1] * (1 + tolerance) + absolute
        if new_bounds[0] > limit:
            return f"{_show(new)} > {limit:.4g} (baseline {_show(base)}, +{tolerance:.0%})"
    else:
        limit = base_bounds[0] * (1 - tolerance) - absolute
        if new_bounds[1] < limit:
            return f"{_show(new)} < {limit:.4g} (baseline {_show(base)}, -{tolerance:.0%})"
    return None


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('median'):.4g} [{value.get('low'):.4g}, {value.get('high'):.4g}]"
    return f"{value:.4g}"
