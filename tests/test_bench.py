"""The benchmark suite, the leak checker and the limits probe: complete and honest output.

Timings are never asserted here (the machines are shared and noisy); what is checked is
that every group and test reports, that the servers really counted the handshakes, and that
baselines, reports and the probe say what they should. The estimator's statistics have
their own tests, in tests/test_bench_stats.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from mcp_stdio import bench, limits
from mcp_stdio.leakcheck import LeakCheck, check_cycles

from .helpers import ROOT, run

EXPECTED_TESTS = {
    "memory": {"server_cost", "session_cost"},
    "requests": {"sequential", "pipelined", "gathered", "large_messages"},
    "core": {"in_flight", "expiries", "notification_flood"},
    "startup": {"import_time", "spawn_to_ready", "reference_server"},
    "client": {"sequential_creation", "parallel_creation", "interleaved_create_initialize", "rapid_create_destroy"},
    "scenarios": {"create_all_then_initialize_all", "interleaved_agents", "concurrent_initialization",
                  "stress_10"},
    "stress": {"leak", "churn", "ramp"},
    "pool": {"side_by_side", "headline", "capacity"},
    "limits": {"probe"},
    "faults": {"matrix"},
}
SVG = "{http://www.w3.org/2000/svg}"


def bench_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "mcp_stdio.bench", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=900, check=check)


# The tests of this run are marked slow: CI runs them once, tox on each interpreter does not.
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    done = bench_cli("all", "--quick", "--out", str(out), "--report", str(out / "report.md"),
                     "--save-baseline", str(out / "baseline.json"), check=False)
    [result_file] = list(out.glob("bench-*.json"))
    return out, json.loads(result_file.read_text()), done


@pytest.mark.slow
def test_quick_all_reports_every_group_and_test(quick_run):
    _, document, done = quick_run
    assert document["schema"] == "mcp_stdio.bench/2"
    assert set(document["results"]) == set(EXPECTED_TESTS)
    assert document["errors"] == {}
    assert document["skipped"] == {}
    for group, tests in EXPECTED_TESTS.items():
        assert set(document["results"][group]) - {"_group"} == tests, group
    assert document["settings"]["quick"] is True
    assert document["machine"]["cpu_count"] == os.cpu_count()
    assert document["machine"]["python"] == sys.version.split()[0]
    assert document["load_average"]["start"] is not None


@pytest.mark.slow
def test_exit_status_is_one_exactly_when_a_check_is_missed(quick_run):
    _, document, done = quick_run
    missed = [c["name"] for c in document["checks"] if c["status"] == "missed"]
    assert done.returncode == (1 if missed else 0), done.stderr
    if missed:
        assert f"MISSED: {len(missed)} check(s): {'; '.join(missed)}" in done.stderr.splitlines()
    assert "ERROR" not in done.stderr


@pytest.mark.slow
def test_the_servers_counted_every_handshake(quick_run):
    _, document, done = quick_run
    handshakes = document["handshakes"]
    assert handshakes["performed"] > 100
    assert handshakes["counted"] == handshakes["performed"]
    assert handshakes["verified"] is True
    assert f"  handshakes   {handshakes['performed']:,} performed, {handshakes['counted']:,} counted by the " \
           "servers (verified)" in done.stdout.splitlines()


@pytest.mark.slow
def test_measurements_are_real_numbers(quick_run):
    _, document, _ = quick_run
    results = document["results"]
    cost = results["memory"]["session_cost"]["metrics"]
    assert cost["fds_per_session"] >= 2  # the pipes; stderr too, for mcp_stdio
    assert cost["client_heap_per_session_kib"]["median"] > 1
    assert cost["heap_ratio"]["low"] <= cost["heap_ratio"]["median"] <= cost["heap_ratio"]["high"]
    assert results["memory"]["server_cost"]["metrics"]["server_uss_per_session_kib"] > 1000
    stress = results["stress"]
    assert stress["leak"]["metrics"]["fds_left"] == 0
    assert stress["leak"]["metrics"]["children_left"] == 0
    assert stress["leak"]["metrics"]["wrong_answers"] == 0
    ramp = stress["ramp"]["metrics"]
    assert ramp["levels"][-1]["sessions"] == ramp["reached"] == ramp["target"] == 50
    assert ramp["success"] is True
    assert ramp["stopped_because"].startswith("reached the --quick limit of 50 (the estimated safe capacity is ")
    assert stress["churn"]["metrics"]["server"] == "light"
    latency = results["requests"]["sequential"]["metrics"]
    assert 0 < latency["p50_us"] <= latency["p90_us"] <= latency["p99_us"]
    assert latency["requests"] == 8 * 25
    assert sum(latency["histogram"]["mcp_stdio"]) + latency["histogram"]["mcp_stdio_over"] == 200
    for key in ("latency_ratio", "cpu_ratio"):
        assert latency[key]["n"] == 8 and latency[key]["unit"] == "x"
    assert results["core"]["expiries"]["metrics"]["loop_block_ms"]["n"] == 6
    assert results["scenarios"]["stress_10"]["metrics"]["success_rate"] == 1.0
    probe = results["limits"]["probe"]["metrics"]
    assert probe["binding_limit"] in {"RLIMIT_NOFILE", "RLIMIT_NPROC", "memory", "RLIMIT_AS"}
    assert probe["estimated_capacity"] > 0
    headline = results["pool"]["headline"]["metrics"]
    assert headline["agents"] == 500 and headline["all_right"] is True and headline["wrong"] == 0
    assert results["pool"]["side_by_side"]["metrics"]["unpooled"]["servers"] == 20


@pytest.mark.slow
def test_fault_matrix_is_complete_and_clean(quick_run):
    from mcp_stdio.bench.faults import CASES

    _, document, done = quick_run
    matrix = document["results"]["faults"]["matrix"]["metrics"]
    assert [row["fault"] for row in matrix["rows"]] == [name for name, _ in CASES]
    assert matrix["handled"] == matrix["cases"] == len(CASES)
    assert matrix["clean"] == len(CASES)
    assert f"  faults       {len(CASES)} of {len(CASES)} faults handled as specified, {len(CASES)} of " \
           f"{len(CASES)} left nothing behind" in done.stdout.splitlines()


@pytest.mark.slow
def test_checks_cover_every_target_with_units(quick_run):
    _, document, done = quick_run
    names = [c["name"] for c in document["checks"]]
    assert names == [c[0] for c in bench.CHECKS]
    for check in document["checks"]:
        assert check["status"] in {"met", "missed", "inconclusive", "not measured"}
        if check["value"] is None:
            assert check["status"] == "not measured"
    full_size_only = {"client CPU per request, 100,000 in flight, vs floor", "loop block, 10,000 simultaneous "
                      "expiries", "pool: 10,000 agents, every answer right", "pool: client RSS per agent at "
                      "10,000 agents", "client CPU per call, gathered, vs floor"}
    for check in document["checks"]:
        if check["name"] in full_size_only:
            assert check["status"] == "not measured" and "(needs " in check["why_not"]
    assert "  checks: median [95 % interval]" not in done.stdout
    assert "checks: median [95 % interval] against the goal" in done.stdout


@pytest.mark.slow
def test_console_summary_answers_the_sizing_questions_with_units(quick_run):
    _, _, done = quick_run
    out = done.stdout
    for label in ("capacity", "ramp", "churn", "latency", "memory", "leak", "loop lag", "expiries", "pool",
                  "faults", "handshakes"):
        assert f"\n  {label:<12} " in out, label
    assert "sessions of the reference server on this machine, bound by " in out
    assert "real servers (node, the official Python SDK) cost 10-20x more per session" in out
    assert "connections/s" in out and " µs, p99 " in out and "KiB per 1,000 cycles" in out
    assert "server PSS " in out and " MiB (USS " in out
    assert "alerts       warning at " in out


@pytest.mark.slow
def test_report_has_every_section_and_the_server_command_whole(quick_run):
    out, document, _ = quick_run
    report = (out / "report.md").read_text()
    for heading in ("# mcp_stdio benchmark report", "## Executive summary", "## System configuration and limits",
                    "## Concurrency ramp", "## Connection churn", "## Leak over 20 iterations",
                    "## Multi-agent patterns", "## Event-loop health", "## Rapid create/destroy",
                    "## Request performance", "## Resource usage per session", "## Start-up",
                    "## Deployment tiers for this machine", "## Monitoring thresholds",
                    "## Baselines and regression thresholds", "## Known limitations", "## Fault matrix",
                    "## Every result, by test"):
        assert f"\n{heading}\n" in f"\n{report}\n", heading
    from mcp_stdio.bench.summary import server_command

    assert f"```\n{server_command(document)}\n```" in report
    assert "| small | " in report and "| medium | " in report and "| large | " in report


def _svgs(out):
    report = (out / "report.md").read_text()
    names = sorted(path.name for path in out.glob("report-*.svg"))
    assert {"report-latency.svg", "report-ratios.svg", "report-ramp-memory.svg", "report-ramp-lag.svg",
            "report-pool-memory.svg"} <= set(names)
    for name in names:
        assert f"]({name})" in report
    return names


@pytest.mark.slow
def test_report_charts_are_valid_svg_with_labelled_axes(quick_run):
    out, _, _ = quick_run
    for name in _svgs(out):
        root = ElementTree.parse(out / name).getroot()
        assert root.tag == f"{SVG}svg"
        assert int(root.get("width")) > 0 and int(root.get("height")) > 0
        texts = [t.text or "" for t in root.iter(f"{SVG}text")]
        assert any("(" in t and ")" in t for t in texts), f"{name}: no axis label with a unit"
    latency = ElementTree.parse(out / "report-latency.svg").getroot()
    texts = [t.text for t in latency.iter(f"{SVG}text")]
    for label in ("mcp_stdio p50", "mcp_stdio p99", "floor p50", "round-trip latency (µs)"):
        assert label in texts or any(label in (t or "") for t in texts), label


def png_size(path) -> tuple[int, int]:
    """Return a PNG's width and height from its IHDR chunk (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert (librsvg2-bin) is not installed")
def test_report_charts_render_to_images_of_their_size(quick_run, tmp_path):
    out, _, _ = quick_run
    for name in _svgs(out):
        png = tmp_path / (name[:-4] + ".png")
        subprocess.run(["rsvg-convert", "-o", str(png), str(out / name)], check=True, capture_output=True,
                       timeout=60)
        root = ElementTree.parse(out / name).getroot()
        assert png.stat().st_size > 1000, name
        assert png_size(png) == (int(root.get("width")), int(root.get("height"))), name


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert (librsvg2-bin) is not installed")
def test_each_kind_of_chart_renders_to_an_image_of_its_size(tmp_path):
    from mcp_stdio.bench import charts

    svgs = {
        "line": charts.line_chart("t", "sessions (count)", "memory (MiB)", {"a (MiB)": [(0, 0), (50, 12.5)],
                                                                            "b (MiB)": [(0, 1), (50, 3)]}),
        "histogram": charts.histogram_chart("t", "latency (µs)", 10.0, {"a": [0, 5, 9, 2], "b": [1, 8, 3, 0]},
                                            {"a": {"p50": 15.0, "p99": 35.0}, "b": {"p50": 12.0, "p99": 25.0}}),
        "intervals": charts.interval_chart("t", "ratio (x)",
                                           [("one", 1.1, 1.0, 1.2, 1.2), ("two", 0.9, 0.8, 1.3, 0.8)]),
        "bars": charts.bar_chart("t", "memory per agent (KiB)", [("unpooled", 12000.0), ("pooled", 8.5)]),
    }
    for name, svg in svgs.items():
        source = tmp_path / f"{name}.svg"
        source.write_text(svg)
        root = ElementTree.fromstring(svg)
        png = tmp_path / f"{name}.png"
        subprocess.run(["rsvg-convert", "-o", str(png), str(source)], check=True, capture_output=True, timeout=60)
        assert png.stat().st_size > 1000, name
        assert png_size(png) == (int(root.get("width")), int(root.get("height"))), name


def test_chart_ticks_are_round_and_cover_the_data():
    from mcp_stdio.bench.charts import _label, nice_ticks

    assert nice_ticks(0, 1511) == [0, 500, 1000, 1500, 2000]
    assert nice_ticks(0.8, 1.4) == [0.8, 1.0, 1.2, 1.4]
    ticks = nice_ticks(0, 12.4)
    assert ticks[0] == 0 and ticks[-1] >= 12.4
    assert [_label(t, ticks) for t in ticks] == ["0", "2.5", "5.0", "7.5", "10.0", "12.5"]
    assert [_label(t, nice_ticks(0, 1511)) for t in nice_ticks(0, 1511)] == ["0", "500", "1,000", "1,500", "2,000"]


def test_a_legend_wraps_instead_of_being_clipped():
    from mcp_stdio.bench import charts

    names = {f"a rather long series name number {i} (MiB)": [(0, 0), (1, i)] for i in range(6)}
    root = ElementTree.fromstring(charts.line_chart("t", "x (count)", "y (MiB)", names))
    width, height = int(root.get("width")), int(root.get("height"))
    for text in root.iter(f"{SVG}text"):
        x = float(text.get("x"))
        if text.get("text-anchor") in (None, "start"):
            assert x + len(text.text) * 7 <= width, text.text
        assert float(text.get("y")) <= height


@pytest.mark.slow
def test_progress_goes_to_stderr_as_plain_lines_off_a_terminal(quick_run):
    _, _, done = quick_run
    lines = done.stderr.splitlines()
    assert "[client] sequential_creation" in lines
    assert any(line.startswith("[stress] churn (") for line in lines)
    assert any(line.startswith("[pool] headline: 500 agents on 8 members") for line in lines)
    assert "\r" not in done.stderr
    assert not any(line.startswith("[") for line in done.stdout.splitlines())


@pytest.mark.slow
def test_a_saved_baseline_has_intervals_and_does_not_flag_its_own_run(quick_run):
    out, document, _ = quick_run
    baseline = json.loads((out / "baseline.json").read_text())
    assert baseline["schema"] == "mcp_stdio.bench.baseline/2"
    assert baseline["machine"]["python"] == sys.version.split()[0]
    ratio = baseline["metrics"]["requests.sequential.latency_ratio"]
    assert set(ratio["value"]) >= {"median", "low", "high", "n"} and ratio["better"] == "lower"
    rows = bench.compare(document["results"], baseline)
    assert [row for row in rows if row["status"] == "regressed"] == []
    assert sum(row["status"] == "ok" for row in rows) >= 15


def test_cli_exits_nonzero_naming_each_regression(tmp_path):
    baseline = {"schema": "mcp_stdio.bench.baseline/2", "metrics": {
        "startup.spawn_to_ready.ready_ratio": {"value": {"median": 0.01, "low": 0.009, "high": 0.011},
                                               "better": "lower", "tolerance": 0.1, "absolute": 0.0}}}
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline))
    done = bench_cli("startup", "--quick", "--quiet", "--out", str(tmp_path), "--baseline", str(path), check=False)
    assert done.returncode == 1
    assert "REGRESSION startup.spawn_to_ready.ready_ratio: " in done.stderr
    assert "(baseline 0.01 [0.009, 0.011], +10%)" in done.stderr


def test_a_faults_only_run_prints_the_table_and_no_handshake_line(tmp_path):
    done = bench_cli("faults", "--quiet", "--out", str(tmp_path), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "handshakes" not in done.stdout
    assert "3. SIGKILL while frozen, 100 pending" in done.stdout
    assert "  faults       " in done.stdout


def test_a_group_that_cannot_run_is_an_error_in_the_summary_and_the_exit_status(tmp_path, monkeypatch, capsys):
    from mcp_stdio.bench import __main__ as command
    from mcp_stdio.bench import faults

    monkeypatch.setattr(faults, "SERVERS", tmp_path / "nowhere")
    status = command.main(["faults", "--quiet", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert status == 1
    reason = (f"FileNotFoundError: the fault servers are missing from {tmp_path / 'nowhere'} "
              "(copy the whole mcp_stdio/ folder)")
    assert f"   ERROR  group faults could not run: {reason}" in out.splitlines()
    assert "ERROR: 1 group(s) could not run: faults" in err
    document = json.loads(next(tmp_path.glob("bench-*.json")).read_text())
    assert document["errors"] == {"faults": reason}


def test_the_fault_servers_are_in_the_package_one_per_file_with_a_one_line_docstring():
    import ast
    import re

    from mcp_stdio.bench import faults
    from mcp_stdio.bench.servers import SERVERS

    assert SERVERS == ROOT / "mcp_stdio" / "bench" / "servers"
    used = {name for module in ("faults.py", "hostile.py")
            for name in re.findall(r'self\.cmd\("(\w+)"', (ROOT / "mcp_stdio" / "bench" / module).read_text())}
    assert used and all((SERVERS / f"{name}.py").is_file() for name in used)
    for path in set(SERVERS.glob("*.py")) - {SERVERS / "__init__.py"}:
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert docstring and "\n" not in docstring, path.name
    assert faults.SERVERS == SERVERS


def test_the_light_server_speaks_enough_and_replays_an_initialize_answer(tmp_path):
    from mcp_stdio.bench.common import light_command

    answer = {"capabilities": {"tools": {}, "logging": {}}, "serverInfo": {"name": "replayed", "version": "9"},
              "instructions": "as recorded"}
    (tmp_path / "init.json").write_text(json.dumps(answer))
    stats = tmp_path / "stats.jsonl"

    async def main():
        import mcp_stdio

        async with mcp_stdio.connect(light_command("--initialize-result", str(tmp_path / "init.json")),
                                     protocol="handshake", env={"MCP_STDIO_SERVER_STATS": str(stats)}) as client:
            assert client.server_info == {"name": "replayed", "version": "9"}
            assert client.instructions == "as recorded"
            await client.ping()
            echoed = mcp_stdio.tool_text(await client.call_tool("echo", {"text": "hé\u2028"}))
            added = mcp_stdio.tool_text(await client.call_tool("add", {"a": 2, "b": 3}))
            names = [tool["name"] for tool in (await client.list_tools())["tools"]]
            with pytest.raises(mcp_stdio.RequestTimeout):
                await client.call_tool("hang", {}, timeout=0.2)
            return echoed, added, names

    assert run(main()) == ("hé\u2028", "5", ["echo", "add", "hang", "flood"])
    assert json.loads(stats.read_text())["initialize"] == 1


def test_unknown_group_is_a_usage_error(tmp_path):
    done = bench_cli("everything", "--out", str(tmp_path), check=False)
    assert done.returncode == 2
    assert "unknown group 'everything'" in done.stderr


def test_a_named_server_runs_the_groups_it_can_and_says_which_it_skips(tmp_path):
    from mcp_stdio.bench.common import light_command

    server = " ".join(light_command())
    done = bench_cli("startup", "requests", "core", "--quick", "--quiet", "--server", server, "--out", str(tmp_path),
                     check=False)
    document = json.loads(next(tmp_path.glob("bench-*.json")).read_text())
    assert document["settings"]["reference"] is False
    assert document["handshakes"]["verified"] is None
    assert document["errors"] == {}
    assert set(document["skipped"]) == {"requests", "core"}
    assert document["results"]["startup"]["spawn_to_ready"]["metrics"]["ready_ms"]["median"] > 0
    assert "reference_server" not in document["results"]["startup"]
    assert "  skipped      group requests: needs the reference server's echo and blob tools" in done.stdout
    assert "(a named server cannot count them)" in done.stdout
    assert done.returncode in (0, 1) and "ERROR" not in done.stderr


def test_percentiles_are_nearest_rank():
    from mcp_stdio.bench.common import percentiles

    assert percentiles(list(range(1, 101))) == {"p50": 50, "p90": 90, "p99": 99}
    assert percentiles([5.0]) == {"p50": 5.0, "p90": 5.0, "p99": 5.0}


def test_leak_check_sees_a_leaked_fd_and_task():
    async def main():
        async with LeakCheck() as check:
            read_end, write_end = os.pipe()
            task = asyncio.ensure_future(asyncio.sleep(10))
        report = check.report
        os.close(read_end)
        os.close(write_end)
        task.cancel()
        return report

    report = run(main())
    assert report.fds == 2 and report.tasks == 1
    assert not report.clean()
    assert "fds left 2; tasks left 1" in report.describe()


def test_leak_check_sees_heap_growth_and_names_the_site():
    hoard = []
    seen = []

    async def cycle():
        hoard.append(bytearray(10_000))

    report = run(check_cycles(cycle, cycles=20, warmup=2, progress=lambda *args: seen.append(args)))
    assert report.heap_growth >= 200_000
    assert not report.clean()
    assert "test_bench.py" in report.top[0][0]
    assert seen[:2] == [("warm-up", 1, 2), ("warm-up", 2, 2)] and seen[-1] == ("measured", 20, 20)


def test_leakcheck_command_on_the_reference_server_shows_progress():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "mcp_stdio.leakcheck", "--cycles", "30", "--warmup", "5"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "clean"
    assert "over 30 cycles; fds left 0; tasks left 0; children left 0" in done.stdout
    progress = done.stderr.splitlines()
    assert progress[0].startswith("warm-up cycle 1 of 5 (")
    assert progress[-1].startswith("measured cycle 30 of 30 (")


def test_limits_probe_names_the_binding_limit_and_thresholds():
    report = limits.probe(fds_per_session=4, client_bytes_per_session=50_000,
                          server_bytes_per_session=5_000_000)
    assert report["limits"]["rlimit_nofile"]["soft"] > 0
    assert report["pipe_capacity_bytes"] >= 4096
    assert report["memory_available_bytes"] > 0
    capacities = report["capacity_by_limit"]
    assert report["binding_limit"] == min(capacities, key=capacities.get)
    capacity = report["estimated_capacity"]
    assert report["thresholds"]["warning_sessions"] == int(capacity * 0.7)
    assert report["thresholds"]["critical_sessions"] == int(capacity * 0.9)
    assert limits.fd_usage()["open"] > 0


def test_limits_group_alone_measures_its_own_costs_and_prints_its_estimate(tmp_path):
    done = bench_cli("limits", "--quick", "--quiet", "--out", str(tmp_path))
    document = json.loads(next(tmp_path.glob("bench-*.json")).read_text())
    assert document["results"]["memory"]["session_cost"]["metrics"]["fds_per_session"] >= 2
    probe = document["results"]["limits"]["probe"]["metrics"]
    assert probe["estimated_capacity"] > 0
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"  capacity     {probe['estimated_capacity']:,} sessions of the reference server "
                               f"on this machine, bound by {probe['binding_limit']} (")
    assert any(line.startswith("  alerts       warning at ") for line in lines)
    assert lines[-1].startswith("results: ")
    assert done.returncode == 0


def test_the_release_baseline_ships_in_the_package_with_its_machine_and_intervals():
    from mcp_stdio.bench import BASELINE_METRICS, is_estimate
    from mcp_stdio.bench.report import release_baseline_path

    baseline = json.loads(Path(release_baseline_path()).read_text(encoding="utf-8"))
    assert baseline["schema"] == "mcp_stdio.bench.baseline/2"
    assert {"cpu_count", "python", "platform", "memory_total_bytes"} <= set(baseline["machine"])
    assert set(baseline["metrics"]) <= set(BASELINE_METRICS) and len(baseline["metrics"]) >= 10
    ratios = [spec["value"] for spec in baseline["metrics"].values() if is_estimate(spec["value"])]
    assert ratios and all(r["low"] <= r["median"] <= r["high"] for r in ratios if r["low"] is not None)
