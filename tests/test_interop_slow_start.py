"""The default connect against real servers that start slowly (``sh -c 'sleep 2.5; exec "$@"'``
in front of them): the era probe times out, ``initialize`` goes out too, and the first
valid answer decides. An official SDK 2.x server (2026-07-28) and server-everything (the
handshake era), each twice in a row with default options; a server that dies on the probe
still connects."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

import mcp_stdio
from mcp_stdio.client import _ERAS

from .helpers import run, server
from .test_interop_everything import EVERYTHING
from .test_interop_official import PEERS, PYTHON

pytestmark = pytest.mark.usefixtures("no_leaks")

SLOW = ["sh", "-c", 'sleep 2.5; exec "$@"', "slow"]


def connect_twice(command: list[str], **options) -> list[tuple[str, str]]:
    """Connect with default options twice in a row; return (era, version) of each."""
    _ERAS.clear()
    seen = []

    async def main():
        for _ in range(2):
            async with mcp_stdio.connect(command, stderr_callback=lambda line: None, **options) as client:
                seen.append((client.era, client.protocol_version))
                await client.list_tools()

    run(main(), timeout=120)
    return seen


@pytest.mark.skipif(PYTHON is None, reason="the official mcp package is not installed (.ci/run installs it)")
def test_a_slow_official_sdk_server_connects_in_2026_with_default_options_twice():
    seen = connect_twice(SLOW + [PYTHON, str(PEERS / "official_server.py")], env={"PYTHONWARNINGS": "ignore"})
    assert seen == [("2026-07-28", "2026-07-28"), ("2026-07-28", "2026-07-28")]
    # The era is remembered only after a start that succeeded, and it is the modern one.
    assert list(_ERAS.values()) == ["2026-07-28"]


@pytest.mark.skipif(not os.path.isfile(EVERYTHING) or shutil.which("node") is None,
                    reason="server-everything is not installed (.ci/run installs it)")
def test_a_slow_server_everything_connects_in_the_handshake_era_twice():
    seen = connect_twice(SLOW + ["node", EVERYTHING, "stdio"])
    assert [era for era, _ in seen] == ["handshake", "handshake"]


def test_a_slow_legacy_server_that_dies_on_the_probe_still_connects():
    seen = connect_twice(SLOW + server("exits_on_unknown"))
    assert [era for era, _ in seen] == ["handshake", "handshake"]


MODERN_ONLY = [sys.executable, str(PEERS / "modern_only.py")]


def test_a_slow_modern_only_server_connects_in_2026_with_default_options_twice():
    seen = connect_twice(SLOW + MODERN_ONLY)
    assert seen == [("2026-07-28", "2026-07-28"), ("2026-07-28", "2026-07-28")]


def test_a_refusal_of_initialize_means_2026_even_when_the_handshake_era_was_remembered():
    # This process believes the command spoke the handshake (so the probe is skipped): the
    # -32022 answer to initialize moves the session to 2026-07-28 on the same process.
    _ERAS.clear()
    _ERAS[(tuple(MODERN_ONLY), "None")] = "handshake"

    async def main():
        async with mcp_stdio.connect(MODERN_ONLY) as client:
            return client.era, [tool["name"] for tool in (await client.list_tools())["tools"]]

    assert run(main(), timeout=60) == ("2026-07-28", ["t"])
    assert _ERAS[(tuple(MODERN_ONLY), "None")] == "2026-07-28"


def test_the_handshake_only_mode_refuses_a_modern_only_server_with_a_hint():
    async def main():
        with pytest.raises(mcp_stdio.StartError, match="it speaks 2026-07-28 only \\(use protocol='auto' or "
                                                       "protocol='2026-07-28'\\)") as info:
            async with mcp_stdio.connect(MODERN_ONLY, protocol="handshake"):
                pass
        assert info.value.era == "handshake"

    run(main())
