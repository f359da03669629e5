"""Short versions of the long runs: the seeded fuzzer and the soak (tools/fuzz.py and
tools/soak.py run them at length)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from .helpers import ROOT


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzzer_finds_nothing_and_reports_every_bad_line(seed):
    report = load_tool("fuzz").run(messages=20_000, seed=seed)
    assert report["findings"] == []
    counts = report["counts"]
    assert counts["InvalidMessage"] > 5_000  # most mutations break the message...
    assert counts["Request"] + counts["Notification"] > 2_000  # ...and valid ones keep flowing
    assert counts["Oversized"] > 0
    assert report["events"] >= 20_000 * 0.9


def test_fuzzer_is_reproducible_from_its_seed():
    fuzz = load_tool("fuzz")
    first, second = fuzz.run(messages=3_000, seed=42), fuzz.run(messages=3_000, seed=42)
    assert first["counts"] == second["counts"]
    assert fuzz.run(messages=3_000, seed=43)["counts"] != first["counts"]


def test_fuzzer_flags_a_framer_that_raises(monkeypatch):
    fuzz = load_tool("fuzz")
    from mcp_stdio import jsonrpc

    original = jsonrpc.parse

    def broken(line):
        if b"sampling" in line:
            raise RuntimeError("boom")
        return original(line)

    monkeypatch.setattr(jsonrpc, "parse", broken)
    assert any("raised RuntimeError('boom')" in f for f in fuzz.run(messages=2_000, seed=1)["findings"])


@pytest.mark.slow  # once per CI run (tox runs without slow tests)
def test_soak_short_version_is_flat(no_leaks):
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "soak.py"), "--requests", "20000",
                           "--cycles", "30"], capture_output=True, text=True, timeout=300)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert lines[-1].startswith("flat in ")
    assert any(line.startswith("requests: heap growth") and "fds left 0; tasks left 0; children left 0" in line
               for line in lines)
    assert any('"phase": "cycles", "done": 30' in line for line in lines)
