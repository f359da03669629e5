"""Check messages against the official MCP JSON schemas, with the library's own validator
(mcp_stdio.schema).

The schemas are the ``schema/`` folder of the specification repository
(modelcontextprotocol/modelcontextprotocol): ``<version>/schema.json`` for each version and
``2026-07-28/examples/``. This module is the one place that knows where they are:
``MCP_SPEC_DIR`` names the folder; without it, ``../shared/mcp-spec`` beside the checkout is
used when it exists. Without either, the tests that need the schemas skip (``required``) and
the fixtures that validate every written message validate nothing; a ``MCP_SPEC_DIR`` that is
set but incomplete fails those tests instead, so that CI cannot skip them by mistake.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache  # functools.cache needs 3.9+; lru_cache reads the same
from pathlib import Path

import pytest

from mcp_stdio.schema import Validator

from .helpers import ROOT

VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28")


def _spec_dir() -> Path | None:
    configured = os.environ.get("MCP_SPEC_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    default = ROOT.parent / "shared" / "mcp-spec"
    return default if default.is_dir() else None


SPEC_DIR = _spec_dir()

REASON = ("the official MCP schemas are not here: set MCP_SPEC_DIR to the schema/ folder of "
          "modelcontextprotocol/modelcontextprotocol (README, Development)")


def available() -> bool:
    """Return whether the schemas are to be used: found, or named by ``MCP_SPEC_DIR``."""
    return SPEC_DIR is not None


def path(*parts: str) -> Path:
    """Return a file of the specification folder; fail clearly if it is missing."""
    if SPEC_DIR is None:
        pytest.skip(REASON)
    found = SPEC_DIR.joinpath(*parts)
    if not found.exists():
        pytest.fail(f"{found} does not exist (MCP_SPEC_DIR={os.environ.get('MCP_SPEC_DIR', '')!r}): "
                    "the folder must hold <version>/schema.json and 2026-07-28/examples/", pytrace=False)
    return found


def examples(version: str = "2026-07-28") -> list[Path]:
    """Return the example messages and values of ``version``, sorted."""
    return sorted(path(version, "examples").glob("*/*.json"))


def describe() -> str:
    """Say where the schemas are, for the header of the test report."""
    if SPEC_DIR is None:
        return f"MCP schemas: not found, schema tests skip and written messages are not validated ({REASON})"
    return f"MCP schemas: {SPEC_DIR}"


# Marks a test that needs the schemas: it skips, with the reason, when they are absent.
required = pytest.mark.skipif(not available(), reason=REASON)


class SpecChecker:
    """Validate JSON-RPC messages of one protocol version."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.root = json.loads(path(version, "schema.json").read_text(encoding="utf-8"))
        self.key = "$defs" if "$defs" in self.root else "definitions"
        self.defs = self.root[self.key]
        self.by_method: dict[str, str] = {}
        for name, definition in self.defs.items():
            method = (definition.get("properties") or {}).get("method", {}).get("const")
            if method and (name.endswith("Request") or name.endswith("Notification")):
                self.by_method[method] = name
        self._validators: dict[str, Validator] = {}

    def validator(self, name: str) -> Validator:
        if name not in self._validators:
            self._validators[name] = Validator(dict(self.root, **{"$ref": f"#/{self.key}/{name}"}))
        return self._validators[name]

    def errors(self, message: dict, request_method: str | None = None, task: bool = False) -> list[str]:
        """Return schema errors of ``message`` ([] when valid); results need the request's method
        (and ``task=True`` when the request was task-augmented: its result is a CreateTaskResult)."""
        found: list[str] = []
        if "method" in message:
            envelope = "JSONRPCRequest" if "id" in message else "JSONRPCNotification"
            found += self.validator(envelope).errors(message)
            typed = self.by_method.get(message["method"])
            if typed is None:
                found.append(f"method {message['method']!r} does not exist in {self.version}")
            else:
                found += self.validator(typed).errors(message)
        elif "result" in message:
            envelope = "JSONRPCResultResponse" if "JSONRPCResultResponse" in self.defs else "JSONRPCResponse"
            found += self.validator(envelope).errors(message)
            if request_method is not None:
                request = self.by_method.get(request_method, "")
                result = request[: -len("Request")] + "Result" if request.endswith("Request") else ""
                name = result if result in self.defs else "Result"
                if task:
                    name = "CreateTaskResult"
                found += self.validator(name).errors(message["result"])
        else:
            envelope = "JSONRPCErrorResponse" if "JSONRPCErrorResponse" in self.defs else "JSONRPCError"
            found += self.validator(envelope).errors(message)
        return found


@lru_cache(maxsize=64)
def checker(version: str) -> SpecChecker:
    return SpecChecker(version)


def lines(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.splitlines() if line.strip()]
