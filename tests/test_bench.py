"""The benchmark suite, the leak checker and the limits probe: complete and honest output.

Timings are never asserted here (the machines are shared and noisy); what is checked is
that every group and test reports, that the servers really counted the handshakes, and that
baselines, reports and the probe say what they should.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

from mcp_stdio import bench, limits
from mcp_stdio.leakcheck import LeakCheck, check_cycles

from .helpers import ROOT, run

EXPECTED_TESTS = {
    "client": {"sequential_creation", "parallel_creation", "interleaved_create_initialize",
               "rapid_create_destroy", "loop_health"},
    "scenarios": {"create_all_then_initialize_all", "interleaved_agents", "concurrent_initialization",
                  "stress_10"},
    "stress": {"session_cost", "leak", "churn", "max_concurrent"},
    "requests": {"sequential_latency", "pipelined_throughput", "large_messages"},
    "startup": {"import_time", "spawn_to_ready"},
    "limits": {"probe"},
    "faults": {"matrix"},
}


def bench_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "mcp_stdio.bench", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600, check=check)


# The tests of this run are marked slow: CI runs them once, tox on each interpreter does not.
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    done = bench_cli("all", "--quick", "--out", str(out), "--report", str(out / "report.md"),
                     "--save-baseline", str(out / "baseline.json"))
    [result_file] = list(out.glob("bench-*.json"))
    return out, json.loads(result_file.read_text()), done


@pytest.mark.slow
def test_quick_all_reports_every_group_and_test(quick_run):
    _, document, done = quick_run
    assert document["schema"] == "mcp_stdio.bench/1"
    assert set(document["results"]) == set(EXPECTED_TESTS)
    assert document["errors"] == {}
    for group, tests in EXPECTED_TESTS.items():
        assert set(document["results"][group]) - {"_group"} == tests, group
    assert document["settings"]["quick"] is True
    assert document["machine"]["cpu_count"] == os.cpu_count()
    assert document["machine"]["python"] == sys.version.split()[0]


@pytest.mark.slow
def test_the_servers_counted_every_handshake(quick_run):
    _, document, done = quick_run
    handshakes = document["handshakes"]
    assert handshakes["performed"] > 100
    assert handshakes["counted"] == handshakes["performed"]
    assert handshakes["verified"] is True
    assert f"handshakes performed {handshakes['performed']}, counted by the servers" in done.stdout


@pytest.mark.slow
def test_measurements_are_real_numbers(quick_run):
    _, document, _ = quick_run
    results = document["results"]
    stress = results["stress"]
    assert stress["session_cost"]["metrics"]["fds_per_session"] >= 3  # three pipes at least
    assert stress["leak"]["metrics"]["fds_left"] == 0
    assert stress["leak"]["metrics"]["children_left"] == 0
    assert stress["max_concurrent"]["metrics"]["levels"][-1]["sessions"] == 50
    assert stress["max_concurrent"]["metrics"]["success"] is True
    latency = results["requests"]["sequential_latency"]["metrics"]
    assert 0 < latency["p50_us"] <= latency["p90_us"] <= latency["p99_us"]
    assert latency["requests"] == 300
    assert sum(latency["histogram"]["mcp_stdio"]) == 300
    assert results["scenarios"]["stress_10"]["metrics"]["success_rate"] == 1.0
    probe = results["limits"]["probe"]["metrics"]
    assert probe["binding_limit"] in {"RLIMIT_NOFILE", "RLIMIT_NPROC", "memory", "RLIMIT_AS"}
    assert probe["estimated_capacity"] > 0


@pytest.mark.slow
def test_fault_matrix_is_complete_and_clean(quick_run):
    from mcp_stdio.bench.faults import CASES

    _, document, done = quick_run
    matrix = document["results"]["faults"]["matrix"]["metrics"]
    assert [row["fault"] for row in matrix["rows"]] == [name for name, _ in CASES]
    assert matrix["handled"] == matrix["cases"] == len(CASES)
    assert matrix["clean"] == len(CASES)
    assert f"{len(CASES)} of {len(CASES)} faults handled as specified" in done.stdout
    assert "3. SIGKILL while frozen, 100 pending" in done.stdout


@pytest.mark.slow
def test_checks_cover_every_target(quick_run):
    _, document, _ = quick_run
    names = [c["name"] for c in document["checks"]]
    assert names == [c[0] for c in bench.CHECKS]
    for check in document["checks"]:
        assert check["status"] in {"met", "missed", "not measured"}
        if check["value"] is None:
            assert check["status"] == "not measured"


@pytest.mark.slow
def test_report_has_summary_tables_sizing_and_valid_svg(quick_run):
    out, _, done = quick_run
    report = (out / "report.md").read_text()
    for heading in ("# mcp_stdio benchmark report", "## Summary", "## Sizing", "## Concurrency ramp",
                    "## Latency distribution", "## Results by test", "### requests / sequential_latency"):
        assert heading in report
    for name in ("report-sessions.svg", "report-latency.svg"):
        assert f"]({name})" in report
        root = ElementTree.parse(out / name).getroot()
        assert root.tag.endswith("svg")
        assert root.findall(".//{http://www.w3.org/2000/svg}polyline")


@pytest.mark.slow
def test_progress_goes_to_stderr_as_plain_lines_off_a_terminal(quick_run):
    _, _, done = quick_run
    lines = done.stderr.splitlines()
    assert "[client] sequential_creation" in lines
    assert any(line.startswith("[stress] churn (") for line in lines)
    assert "\r" not in done.stderr


@pytest.mark.slow
def test_baseline_round_trip_and_regression_detection(quick_run, tmp_path):
    out, document, _ = quick_run
    baseline = json.loads((out / "baseline.json").read_text())
    assert baseline["schema"] == "mcp_stdio.bench.baseline/1"
    assert "requests.sequential_latency.ratio_p50" in baseline["metrics"]
    assert bench.compare(document["results"], baseline) == []
    doctored = json.loads(json.dumps(baseline))
    doctored["metrics"]["requests.sequential_latency.ratio_p50"]["value"] = 0.01
    doctored["metrics"]["stress.churn.ratio"]["value"] = 1000.0
    regressions = bench.compare(document["results"], doctored)
    assert len(regressions) == 2
    assert regressions[0].startswith("requests.sequential_latency.ratio_p50: ")
    assert regressions[1].startswith("stress.churn.ratio: ")


def test_cli_exits_nonzero_naming_each_regression(tmp_path):
    baseline = {"schema": "mcp_stdio.bench.baseline/1", "metrics": {
        "startup.spawn_to_ready.ready_ratio_p50": {"value": 0.0001, "better": "lower", "tolerance": 0.1}}}
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline))
    done = bench_cli("startup", "--quick", "--quiet", "--out", str(tmp_path), "--baseline", str(path), check=False)
    assert done.returncode == 1
    assert "REGRESSION startup.spawn_to_ready.ready_ratio_p50: " in done.stderr


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


def test_unknown_group_is_a_usage_error(tmp_path):
    done = bench_cli("everything", "--out", str(tmp_path), check=False)
    assert done.returncode == 2
    assert "unknown group 'everything'" in done.stderr


def test_custom_server_cannot_be_verified_but_runs(tmp_path):
    server = f"{sys.executable} -m mcp_stdio.server"
    done = bench_cli("startup", "--quick", "--quiet", "--server", server, "--out", str(tmp_path))
    document = json.loads(next(tmp_path.glob("bench-*.json")).read_text())
    assert document["settings"]["reference"] is False
    assert document["handshakes"]["verified"] is None
    assert document["results"]["startup"]["spawn_to_ready"]["metrics"]["ready_p50_ms"] > 0
    assert done.returncode == 0


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

    async def cycle():
        hoard.append(bytearray(10_000))

    report = run(check_cycles(cycle, cycles=20, warmup=2))
    assert report.heap_growth >= 200_000
    assert not report.clean()
    assert "test_bench.py" in report.top[0][0]


def test_leakcheck_command_on_the_reference_server():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "mcp_stdio.leakcheck", "--cycles", "30", "--warmup", "5"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "clean"
    assert "over 30 cycles; fds left 0; tasks left 0; children left 0" in done.stdout


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


def test_limits_group_alone_measures_its_own_costs(tmp_path):
    done = bench_cli("limits", "--quick", "--quiet", "--out", str(tmp_path))
    document = json.loads(next(tmp_path.glob("bench-*.json")).read_text())
    assert document["results"]["stress"]["session_cost"]["metrics"]["fds_per_session"] >= 3
    assert document["results"]["limits"]["probe"]["metrics"]["estimated_capacity"] > 0
    assert done.returncode == 0
