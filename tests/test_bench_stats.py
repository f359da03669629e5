"""The bench's estimator (mcp_stdio/bench/stats.py): intervals, verdicts, baselines, the console.

Known distributions, drawn with fixed seeds: the 95 % interval must cover the true median
about 95 % of the time; a check is inconclusive when the interval straddles its goal; a
baseline does not flag an unchanged program and does flag a shifted one.
"""

from __future__ import annotations

import math
import random

import pytest

from mcp_stdio.bench import checks, compare, stats
from mcp_stdio.bench.summary import check_line, show, summary

from .helpers import run


def test_interval_ranks_follow_the_binomial_law():
    assert stats.interval_ranks(5) is None  # 2/32 = 6.25 % outside: no 95 % interval
    assert stats.interval_ranks(6) == (1, 6)  # 2/64 = 3.1 %
    assert stats.interval_ranks(10) == (2, 9)  # P(B <= 1) = 11/1024: 97.9 %
    assert stats.interval_ranks(20) == (6, 15)  # P(B <= 5) = 2.07 %: 95.9 %
    for n in range(6, 200):
        j, k = stats.interval_ranks(n)
        assert k == n + 1 - j
        outside = 2 * sum(math.comb(n, i) for i in range(j)) / 2 ** n
        assert outside <= 0.05
        more = 2 * sum(math.comb(n, i) for i in range(j + 1)) / 2 ** n
        assert more > 0.05  # the narrowest interval that keeps 95 %


def test_too_few_values_give_no_interval_and_every_check_on_it_is_inconclusive():
    estimate = stats.estimate([1.0, 1.1, 0.9, 1.05, 0.95], "x")
    assert estimate == {"median": 1.0, "low": None, "high": None, "n": 5, "unit": "x",
                        "values": [1.0, 1.1, 0.9, 1.05, 0.95]}
    assert stats.verdict(estimate, "<=", 100.0) == "inconclusive"
    with pytest.raises(ValueError, match="at least 6 pairs give a 95 % interval, not 5"):
        run(stats.interleave(_trial({"wall": 1.0}), _trial({"wall": 1.0}), 5))


@pytest.mark.parametrize("n", [6, 11, 20, 40])
def test_the_interval_covers_the_true_median_of_a_known_distribution(n):
    rng = random.Random(20261130 + n)
    true_median = 1.1  # lognormal: the median is exp(mu)
    covered = 0
    repetitions = 2000
    for _ in range(repetitions):
        values = [rng.lognormvariate(math.log(true_median), 0.3) for _ in range(n)]
        _, low, high = stats.median_interval(values)
        covered += low <= true_median <= high
    assert covered / repetitions >= 0.94  # exact coverage is at least 95 %; allow sampling error


def test_the_interval_narrows_as_pairs_grow():
    rng = random.Random(7)
    widths = []
    for n in (10, 40, 160):
        values = [rng.gauss(1.0, 0.1) for _ in range(n)]
        _, low, high = stats.median_interval(values)
        widths.append(high - low)
    assert widths[0] > widths[1] > widths[2]


def test_paired_ratios_cancel_drift_that_hits_both_sides():
    # A machine that slows down tenfold over the run: each pair sees the same slowdown.
    slow = [1 + 9 * i / 39 for i in range(40)]
    ours = [1.1 * s for s in slow]
    floor = list(slow)
    estimate = stats.ratio_estimate(ours, floor)
    assert estimate["median"] == estimate["low"] == estimate["high"] == 1.1
    rates = stats.ratio_estimate(ours, floor, rate=True)
    assert rates["median"] == round(1 / 1.1, 4)


def _trial(measures):
    async def trial():
        return dict(measures)
    return trial


def test_interleave_alternates_which_side_goes_first():
    order = []

    def side(name):
        async def trial():
            order.append(name)
            return {"wall": len(order)}
        return trial

    a, b = run(stats.interleave(side("A"), side("B"), 6))
    assert "".join(order) == "ABBAABBAABBA"
    assert a["wall"] == [1, 4, 5, 8, 9, 12] and b["wall"] == [2, 3, 6, 7, 10, 11]


def test_timed_trial_measures_wall_and_cpu():
    import asyncio

    async def work():
        await asyncio.sleep(0.05)
        sum(range(200_000))

    measures = run(stats.timed_trial(work))
    assert measures["wall"] >= 0.05 and 0 < measures["cpu"] < measures["wall"]


@pytest.mark.parametrize("interval, op, goal, expected", [
    ((1.02, 1.08), "<=", 1.2, "met"),
    ((1.25, 1.30), "<=", 1.2, "missed"),
    ((1.15, 1.25), "<=", 1.2, "inconclusive"),
    ((1.2, 1.2), "<=", 1.2, "met"),
    ((1.2, 1.2), "<", 1.2, "missed"),
    ((0.85, 0.95), ">=", 0.8, "met"),
    ((0.70, 0.79), ">=", 0.8, "missed"),
    ((0.75, 0.85), ">=", 0.8, "inconclusive"),
])
def test_a_check_is_met_missed_or_inconclusive_by_its_whole_interval(interval, op, goal, expected):
    low, high = interval
    estimate = {"median": (low + high) / 2, "low": low, "high": high, "n": 20, "unit": "x"}
    assert stats.verdict(estimate, op, goal) == expected


def test_plain_values_and_booleans_are_checked_as_they_are():
    assert stats.verdict(3.0, "<", 64.0) == "met"
    assert stats.verdict(0, "<=", 0) == "met"
    assert stats.verdict(1, "<=", 0) == "missed"
    assert stats.verdict(True, "==", True) == "met"
    assert stats.verdict(False, "==", True) == "missed"
    assert stats.verdict(None, "<=", 1.0) == "not measured"


def _run_like(rng, mean, spread, n=30):
    """Return a ratio estimate as the bench would measure it: n paired, noisy trials."""
    ours = [mean * rng.lognormvariate(0, spread) for _ in range(n)]
    floor = [rng.lognormvariate(0, spread) for _ in range(n)]
    return stats.ratio_estimate(ours, floor)


def test_an_unchanged_program_is_not_flagged_by_its_baseline():
    rng = random.Random(14)
    false_alarms = 0
    for _ in range(500):
        base = _run_like(rng, 1.10, 0.15)
        again = _run_like(rng, 1.10, 0.15)
        false_alarms += stats.regressed(again, base, "lower", 0.1) is not None
    assert false_alarms == 0


def test_a_shifted_program_is_flagged_with_the_numbers():
    rng = random.Random(15)
    base = _run_like(rng, 1.10, 0.05)
    worse = _run_like(rng, 1.60, 0.05)
    why = stats.regressed(worse, base, "lower", 0.1)
    assert why is not None and why.startswith(f"{worse['median']:.4g} [") and "+10%)" in why
    better_is_higher = stats.regressed(_run_like(rng, 0.5, 0.05), _run_like(rng, 1.0, 0.05), "higher", 0.1)
    assert better_is_higher is not None and "-10%)" in better_is_higher
    assert stats.regressed(_run_like(rng, 0.8, 0.05), base, "lower", 0.1) is None  # an improvement


def test_an_absolute_tolerance_covers_values_near_zero():
    assert stats.regressed(3.0, 1.0, "lower", 0.0, absolute=64.0) is None
    assert stats.regressed(70.0, 1.0, "lower", 0.0, absolute=64.0) is not None


def test_compare_reads_intervals_and_old_single_values():
    results = {"requests": {"sequential": {"metrics": {
        "latency_ratio": {"median": 1.5, "low": 1.45, "high": 1.55, "n": 40, "unit": "x"},
        "cpu_ratio": {"median": 1.0, "low": 0.98, "high": 1.02, "n": 40, "unit": "x"}}}}}
    baseline = {"metrics": {
        "requests.sequential.latency_ratio": {"value": {"median": 1.1, "low": 1.05, "high": 1.15}, "better": "lower",
                                              "tolerance": 0.1, "absolute": 0.0},
        "requests.sequential.cpu_ratio": {"value": 1.01, "better": "lower", "tolerance": 0.1},
        "stress.churn.ratio": {"value": 1.0, "better": "higher", "tolerance": 0.1}}}
    rows = {row["metric"]: row for row in compare(results, baseline)}
    assert rows["requests.sequential.latency_ratio"]["status"] == "regressed"
    assert rows["requests.sequential.cpu_ratio"]["status"] == "ok"
    assert rows["stress.churn.ratio"]["status"] == "not measured"


def test_checks_wait_for_the_full_size_and_leave_out_groups_not_asked_for():
    results = {"core": {"in_flight": {"metrics": {
        "in_flight": 10_000, "cpu_ratio": {"median": 1.3, "low": 1.2, "high": 1.4, "n": 6, "unit": "x"}}}}}
    [check] = [c for c in checks(results) if c["metric"] == "core.in_flight.cpu_ratio"]
    assert check["status"] == "not measured" and check["why_not"] == "in_flight 10000 (needs 100,000)"
    results["core"]["in_flight"]["metrics"]["in_flight"] = 100_000
    [check] = [c for c in checks(results) if c["metric"] == "core.in_flight.cpu_ratio"]
    assert check["status"] == "missed"
    assert checks(results, ["faults"]) == [c for c in checks(results) if c["metric"].startswith("faults.")]


def test_values_are_shown_with_their_units_and_intervals():
    assert show({"median": 1.053, "low": 1.0213, "high": 1.0849, "n": 40, "unit": "x"}, "x") == "1.05x [1.02, 1.08]"
    assert show({"median": 15.66, "low": 15.6, "high": 15.7, "n": 6, "unit": "KiB"}, "KiB") == \
        "15.7 KiB [15.6, 15.7]"
    assert show({"median": 2.0, "low": None, "high": None, "n": 3, "unit": "ms"}, "ms") == \
        "2 ms [no interval: 3 values]"
    assert show(1511, "sessions") == "1,511 sessions"
    assert show(True) == "yes"
    check = {"name": "sequential round trip vs floor", "status": "inconclusive", "op": "<=", "goal": 1.2,
             "unit": "x", "source": "#14", "value": {"median": 1.13, "low": 0.9, "high": 1.3, "n": 8}}
    line = check_line(check)
    assert line.startswith("  inconclusive  sequential round trip vs floor ")
    assert "1.13x [0.9, 1.3]" in line and line.endswith("goal <= 1.2x  [#14]")


def test_the_summary_names_the_server_and_says_what_inconclusive_means():
    document = {
        "started": "2026-11-30T10:00:00Z", "duration_s": 12.5,
        "machine": {"python": "3.11.7", "cpu_count": 2, "cpu_model": "AMD EPYC", "machine": "x86_64",
                    "memory_total_bytes": 24 * 2**30},
        "load_average": {"start": 0.3, "max": 0.6, "end": 0.4},
        "settings": {"server": ["node", "server.js", "--flag=a b"], "reference": False, "quick": False},
        "results": {"limits": {"probe": {"metrics": {
            "estimated_capacity": 380, "binding_limit": "memory", "capacity_by_limit": {"memory": 380,
                                                                                        "RLIMIT_NOFILE": 6600},
            "per_session": {"fds": 3.0, "client_bytes": 30 * 1024, "server_bytes": 48 * 2**20},
            "thresholds": {"warning_sessions": 266, "critical_sessions": 342, "warning_fds": 14000,
                           "critical_fds": 18000}, "rlimit_nofile_soft": 20000}}}},
        "handshakes": {"performed": 40, "counted": None},
        "skipped": {"requests": "needs the reference server"},
        "checks": [{"name": "connection churn vs floor", "status": "inconclusive", "op": ">=", "goal": 0.95,
                    "unit": "x", "source": "#14", "value": {"median": 1.0, "low": 0.9, "high": 1.1, "n": 25}}],
    }
    lines = summary(document)
    assert lines[0] == ("mcp_stdio bench 2026-11-30T10:00:00Z: Python 3.11.7, 2 CPUs (AMD EPYC), 24.0 GiB; 12.5 s; "
                        "load average 0.3 at the start, 0.6 at most, 0.4 at the end")
    assert lines[1] == "  server       `node server.js '--flag=a b'`: node server.js '--flag=a b'"
    assert lines[2] == ("  capacity     380 sessions of `node server.js '--flag=a b'` on this machine, bound by memory "
                        "(48 MiB per server (USS), 30 KiB client RSS and 3 fds per session)")
    assert "  alerts       warning at 266 sessions, critical at 342; open fds warning at 14,000, critical at " \
           "18,000 (RLIMIT_NOFILE 20,000)" in lines
    assert "  handshakes   40 performed (a named server cannot count them)" in lines
    assert "  skipped      group requests: needs the reference server" in lines
    assert lines[-1] == ("  0 met, 0 missed, 1 inconclusive (an inconclusive check does not fail the run: its "
                         "interval straddles the goal), 0 not measured")
