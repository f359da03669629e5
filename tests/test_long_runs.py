"""Short versions of the long runs: the seeded fuzzers and the soak (tools/fuzz.py and
tools/soak.py run them at length)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys

import pytest

from .helpers import ROOT

BROKEN_REFERENCE = ROOT / "tests" / "fuzz_peers" / "broken_reference.py"

# What the fuzzers found (tools/fuzz.py's report names each with a seed and an iteration)
# is fixed; tests/test_fuzz_findings.py keeps one minimal reproducer each.


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fuzz():
    return load_tool("fuzz")


# The short runs: no finding (a few hundred messages per seed, a few seconds each). They
# count iterations rather than messages: a rare storm iteration sends thousands at once.


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 3, 5])
def test_client_fuzzer_short_run_finds_nothing(fuzz, seed):
    report = fuzz.run("client", seed, iterations=range(25))
    assert report["messages"] >= 300
    assert report["findings"] == []


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_server_fuzzer_short_run_finds_nothing(fuzz, seed, no_leaks):
    report = fuzz.run("server", seed, iterations=range(6))
    assert report["messages"] >= 100
    assert report["findings"] == []


def test_client_fuzzer_runs_against_a_child_process_too(fuzz, no_leaks):
    report = fuzz.run("client", 4, messages=40, subprocess_every=1)
    assert report["iterations"] >= 2
    assert not [line for line in report["findings"] if "fuzzer error" in line]


# Reproducible: the same seed sends the same messages.


@pytest.mark.parametrize("target", ["client", "server"])
def test_fuzzer_is_reproducible_from_its_seed(fuzz, target):
    first = fuzz.plan_text(target, 42, 40)
    assert len(first) > 200
    assert fuzz.plan_text(target, 42, 40) == first
    assert fuzz.plan_text(target, 43, 40) != first


def test_fuzzer_plans_do_not_depend_on_the_hash_seed(fuzz):
    code = ("import sys, hashlib; sys.path.insert(0, sys.argv[1]); import fuzz; "
            "print(hashlib.sha256('\\n'.join(fuzz.plan_text('client', 7, 10) + fuzz.plan_text('server', 7, 10))"
            ".encode('utf-8', 'surrogatepass')).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code, str(ROOT / "tools")], capture_output=True, text=True,
                              env=dict(os.environ, PYTHONHASHSEED=str(hash_seed)), check=True).stdout
               for hash_seed in (1, 2)}
    assert len(digests) == 1


def test_values_are_valid_instances_of_the_schemas(fuzz):
    import random

    from mcpfuzz.values import Schemas

    from mcp_stdio import shapes

    for version in shapes.VERSIONS:
        schemas = Schemas(version)
        for method, entry in sorted(schemas.methods.items()):
            for index in range(20):
                rng = random.Random(f"{version}{method}{index}")
                if entry["result"]:
                    assert shapes.check_result(version, method, schemas.result(rng, method)) == [], method
                if entry["params"]:
                    sender = entry["from"][0]
                    assert shapes.check_params(version, method, schemas.params(rng, method), sender=sender) == []


# The fuzzers cannot pass silently: planted bugs are flagged.


def test_client_fuzzer_flags_an_exception_in_the_reader(fuzz, monkeypatch):
    from mcp_stdio import connection
    from mcp_stdio.events import NotificationReceived

    def broken(self, event):
        raise RuntimeError("planted")

    monkeypatch.setitem(connection._EVENTS, NotificationReceived, broken)
    report = fuzz.replay("client", 1, 22)
    assert any("logged exception" in line and "RuntimeError: planted" in line for line in report["findings"])


def test_client_fuzzer_flags_an_exception_outside_the_tree(fuzz, monkeypatch):
    from mcp_stdio.api import ProtocolMethods

    async def broken(self, *args, **kwargs):
        raise KeyError("planted")

    monkeypatch.setattr(ProtocolMethods, "list_prompts", broken)
    report = fuzz.replay("client", 1, 0)
    assert any("exception outside the tree: list_prompts() raised KeyError" in line for line in report["findings"])


def test_client_fuzzer_flags_a_request_that_never_ends(fuzz, monkeypatch):
    from mcpfuzz import client_target

    from mcp_stdio.calls import Calls

    async def silent(self):  # a peer that answers the start, then nothing...
        await self._wait_for("initialize", 1.0)
        await self.send_frame(self.plan.start)
        while not self.done.is_set():
            await asyncio.sleep(0.01)

    monkeypatch.setattr(client_target.Peer, "run", silent)
    monkeypatch.setattr(Calls, "_expire", lambda self, expired: None)  # ...and timeouts that never fire
    report = fuzz.replay("client", 1, 5)
    assert any("request not bounded" in line for line in report["findings"])


def test_client_fuzzer_flags_a_lost_answer(fuzz, monkeypatch):
    from mcp_stdio.session import Endpoint

    monkeypatch.setattr(Endpoint, "_answer", lambda self, msg_id, entry, message, events: None)  # answers dropped
    report = fuzz.replay("client", 1, 5)
    assert any("lost answer" in line for line in report["findings"])


def test_client_fuzzer_flags_a_loop_stall(fuzz, monkeypatch):
    import time

    from mcp_stdio.session import Endpoint

    original = Endpoint.receive_data

    def slow(self, data):
        end = time.perf_counter() + 0.15
        while time.perf_counter() < end:  # busy, as a pathological check would be
            pass
        return original(self, data)

    monkeypatch.setattr(Endpoint, "receive_data", slow)
    report = fuzz.replay("client", 1, 5)
    assert any("loop stall" in line for line in report["findings"])


@pytest.mark.parametrize("mode, iteration, expected", [
    ("die", 3, "server died"),
    ("hang", 5, "request not answered: id 2 (prompts/list)"),
    ("garbage", 3, "invalid line from the server: not valid JSON"),
])
def test_server_fuzzer_flags_a_planted_bug(fuzz, mode, iteration, expected, no_leaks):
    report = fuzz.replay("server", 1, iteration, server_command=[sys.executable, str(BROKEN_REFERENCE), mode])
    assert any(expected in line for line in report["findings"]), report["findings"]


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
