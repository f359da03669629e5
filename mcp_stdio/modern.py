"""The 2026-07-28 ("modern") protocol: constants and pure helpers shared by the client and
the reference server (sans-I/O).

MCP 2026-07-28 drops the ``initialize`` handshake. basic/index, "Per-request protocol
fields": "Client requests carry the following io.modelcontextprotocol/* fields in _meta;
fields marked as required MUST be included on every request": the protocol version and
the client capabilities (required), the client info ("Clients SHOULD include") and an
optional log level. Results carry ``resultType``: "A resultType of any value unrecognized
by the client MUST be considered invalid", and "clients MUST treat an absent resultType as
complete".
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "MODERN_VERSIONS",
    "PROTOCOL_VERSION",
    "CLIENT_CAPABILITIES",
    "CLIENT_INFO",
    "LOG_LEVEL",
    "SERVER_INFO",
    "SUBSCRIPTION_ID",
    "RELATED_TASK",
    "HEADER_MISMATCH",
    "MISSING_REQUIRED_CLIENT_CAPABILITY",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "RESULT_TYPES",
    "INPUT_REQUIRED_METHODS",
    "stamp",
    "is_modern_request",
]

# The modern protocol versions this library speaks, newest first.
MODERN_VERSIONS = ("2026-07-28",)

PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
LOG_LEVEL = "io.modelcontextprotocol/logLevel"
SERVER_INFO = "io.modelcontextprotocol/serverInfo"
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"
RELATED_TASK = "io.modelcontextprotocol/related-task"

# MCP 2026-07-28, basic/index "Error Codes".
HEADER_MISMATCH = -32020
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022

# basic/index "ResultType": the values of the core protocol.
RESULT_TYPES = ("complete", "input_required")

# basic/patterns/mrtr: the requests whose result may be input_required.
INPUT_REQUIRED_METHODS = ("tools/call", "prompts/get", "resources/read")


def stamp(params: dict | None, version: str, capabilities: dict, client_info: dict | None,
          log_level: str | None = None) -> dict:
    """Return ``params`` with the per-request ``_meta`` fields added (a new dict)."""
    params = dict(params) if params else {}
    meta = dict(params.get("_meta") or {})
    meta[PROTOCOL_VERSION] = version
    meta[CLIENT_CAPABILITIES] = capabilities
    if client_info is not None:
        meta[CLIENT_INFO] = client_info
    if log_level is not None:
        meta[LOG_LEVEL] = log_level
    params["_meta"] = meta
    return params


def is_modern_request(params: Any) -> bool:
    """Return whether request params carry the modern per-request protocol version."""
    return type(params) is dict and type(params.get("_meta")) is dict and PROTOCOL_VERSION in params["_meta"]
