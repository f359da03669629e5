"""Check messages against the official MCP JSON schemas in ../shared/mcp-spec/, with the
library's own validator (mcp_stdio.schema)."""

from __future__ import annotations

import json
from functools import lru_cache  # functools.cache needs 3.9+; lru_cache reads the same

from mcp_stdio.schema import Validator

from .helpers import ROOT

SPEC = ROOT.parent / "shared" / "mcp-spec"
VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28")


def available() -> bool:
    return (SPEC / "2025-11-25" / "schema.json").is_file()


class SpecChecker:
    """Validate JSON-RPC messages of one protocol version."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.root = json.loads((SPEC / version / "schema.json").read_text(encoding="utf-8"))
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
