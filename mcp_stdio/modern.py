"""The 2026-07-28 protocol's rules that are not lifecycle: per-request ``_meta``, input
rounds, and the result cache (sans-I/O, shared by the client, the pool and the server).

MCP 2026-07-28 drops the ``initialize`` handshake. basic/index, "Per-request protocol
fields": "Client requests carry the following io.modelcontextprotocol/* fields in _meta;
fields marked as required MUST be included on every request": the protocol version and
the client capabilities (required), the client info ("Clients SHOULD include") and an
optional log level. Results carry ``resultType``: "A resultType of any value unrecognized
by the client MUST be considered invalid", and "clients MUST treat an absent resultType as
complete".

Input rounds (basic/patterns/mrtr): a server that needs the client's input (sampling,
elicitation, roots) answers ``input_required`` with ``inputRequests``; the client answers
each, then retries the same request, under a new id, with ``inputResponses`` keyed like the
requests and ``requestState`` echoed unchanged. :func:`input_asks` reads a round,
:func:`retry_params` builds the retry.

Caching (basic/patterns/caching): results may carry ``ttlMs`` and ``cacheScope``;
:class:`ResultCache` keeps them for that long, bounded in entries, and shares a
``"private"`` result only with the caller that got it.
"""

from __future__ import annotations

import json
from collections import OrderedDict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Hashable

__all__ = [
    "PROTOCOL_VERSION",
    "CLIENT_CAPABILITIES",
    "CLIENT_INFO",
    "LOG_LEVEL",
    "SERVER_INFO",
    "SUBSCRIPTION_ID",
    "RELATED_TASK",
    "RESULT_TYPES",
    "INPUT_REQUIRED_METHODS",
    "CACHEABLE_METHODS",
    "DEFAULT_CACHE_ENTRIES",
    "meta_fields",
    "stamp",
    "is_modern_request",
    "supported_from_error",
    "input_asks",
    "retry_params",
    "ResultCache",
]

PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
LOG_LEVEL = "io.modelcontextprotocol/logLevel"
SERVER_INFO = "io.modelcontextprotocol/serverInfo"
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"
# MCP 2025-11-25, basic/utilities/tasks: the _meta key that ties a message to its task.
RELATED_TASK = "io.modelcontextprotocol/related-task"

# basic/index "ResultType": the values of the core protocol.
RESULT_TYPES = ("complete", "input_required")

# basic/patterns/mrtr: the requests whose result may be input_required.
INPUT_REQUIRED_METHODS = ("tools/call", "prompts/get", "resources/read")

# The results that carry cache hints (basic/patterns/caching) and that the client keeps.
CACHEABLE_METHODS = ("tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read")

# Results kept at most: a server that answers every read with a long ttlMs must not make
# the cache grow without bound (least recently used first out).
DEFAULT_CACHE_ENTRIES = 256
# A resources/read result with more text than this (characters) is not kept: a cache of a
# few hundred entries must not hold gigabytes.
MAX_CACHED_READ = 1024 * 1024


def meta_fields(version: str, capabilities: dict, client_info: dict | None, log_level: str | None = None) -> dict:
    """Return the per-request ``_meta`` fields of a client (a new dict)."""
    fields = {PROTOCOL_VERSION: version, CLIENT_CAPABILITIES: capabilities}
    if client_info is not None:
        fields[CLIENT_INFO] = client_info
    if log_level is not None:
        fields[LOG_LEVEL] = log_level
    return fields


def stamp(params: dict | None, fields: dict) -> dict:
    """Return ``params`` with the per-request ``_meta`` fields added (a new dict; the
    caller's own ``_meta`` keys are kept, ours win)."""
    params = dict(params) if params else {}
    meta = params.get("_meta")
    params["_meta"] = dict(meta, **fields) if type(meta) is dict and meta else fields
    return params


def is_modern_request(params: Any) -> bool:
    """Return whether request params carry the 2026-07-28 per-request protocol version."""
    if type(params) is not dict:
        return False
    meta = params.get("_meta")
    return type(meta) is dict and type(meta.get(PROTOCOL_VERSION)) is str


def supported_from_error(data: Any) -> list[str]:
    """Return the versions an UnsupportedProtocolVersionError (-32022) lists as supported."""
    supported = data.get("supported") if type(data) is dict else None
    return [version for version in supported if type(version) is str] if type(supported) is list else []


def input_asks(result: dict) -> list[tuple[str, str, dict]]:
    """Return ``(key, method, params)`` for each input request of an ``input_required``
    result (already checked against the schema), in the server's order."""
    requests = result.get("inputRequests") or {}
    return [(key, request["method"], request.get("params") or {}) for key, request in requests.items()]


def retry_params(params: dict | None, result: dict, responses: dict) -> dict:
    """Return the params of the retry of a request after an input round.

    basic/patterns/mrtr: the retry carries ``inputResponses`` keyed like the
    ``inputRequests`` and the ``requestState`` "exactly as received"; a previous round's
    fields are replaced.
    """
    retry = {key: value for key, value in (params or {}).items() if key not in ("inputResponses", "requestState")}
    if responses:
        retry["inputResponses"] = responses
    if "requestState" in result:
        retry["requestState"] = result["requestState"]
    return retry


class ResultCache:
    """Results kept for their ``ttlMs`` (basic/patterns/caching), least recently used first
    out beyond ``max_entries``.

    Times are given by the caller (``now``, in seconds, any monotonic clock), so the cache
    does no I/O and can be tested without waiting.

    Args:
        max_entries: results kept at most.
    """

    __slots__ = ("max_entries", "_entries")

    def __init__(self, max_entries: int = DEFAULT_CACHE_ENTRIES) -> None:
        self.max_entries = max_entries
        # key -> (expiry, result)
        self._entries: OrderedDict[tuple, tuple[float, dict]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(method: str, params: dict | None) -> str | None:
        """Return the cache key of a request (its params without ``_meta``), or ``None``
        when its results are not cached."""
        if method not in CACHEABLE_METHODS:
            return None
        rest = {k: v for k, v in params.items() if k != "_meta"} if params else None
        if not rest:
            return method
        try:
            return method + " " + json.dumps(rest, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return None

    def get(self, key: str, caller: Hashable, now: float) -> dict | None:
        """Return the result kept for ``key``, for ``caller``, if it has not expired."""
        for owner in (None, caller):
            entry = self._entries.get((key, owner))
            if entry is None:
                continue
            if entry[0] > now:
                self._entries.move_to_end((key, owner))
                return entry[1]
            del self._entries[(key, owner)]
        return None

    def put(self, key: str, result: dict, caller: Hashable, now: float) -> bool:
        """Keep ``result`` if its hints allow it; return whether it was kept.

        A ``"public"`` result is shared by every caller; a ``"private"`` one ("MAY be cached
        and reused only within the same authorization context") only by ``caller``. The
        2026-07-28 schema requires ``cacheScope``; should a result without one get here, it
        is kept as if private: sharing a result across the agents of a pool is a promise
        only the server can make.
        """
        ttl = result.get("ttlMs")
        if type(ttl) is not int or ttl <= 0:
            return False
        if key.startswith("resources/read") and _read_size(result) > MAX_CACHED_READ:
            return False
        owner = None if result.get("cacheScope") == "public" else caller
        entries = self._entries
        entries[(key, owner)] = (now + ttl / 1000, result)
        entries.move_to_end((key, owner))
        while len(entries) > self.max_entries:
            entries.popitem(last=False)
        self._prune(now)
        return True

    def drop(self, method_prefix: str) -> None:
        """Forget every result of the methods starting with ``method_prefix`` (a
        ``list_changed`` notification made them stale)."""
        for key in [key for key in self._entries if key[0].startswith(method_prefix)]:
            del self._entries[key]

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()

    def _prune(self, now: float) -> None:
        # Expired entries at the cold end go first; a few per call keeps this O(1) amortized.
        entries = self._entries
        for _ in range(4):
            if not entries:
                return
            key, (expiry, _) = next(iter(entries.items()))
            if expiry > now:
                return
            del entries[key]


def _read_size(result: dict) -> int:
    size = 0
    for contents in result.get("contents") or ():
        if type(contents) is dict:
            for field in ("text", "blob"):
                value = contents.get(field)
                if type(value) is str:
                    size += len(value)
    return size
