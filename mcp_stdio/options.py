"""What a :class:`~mcp_stdio.client.Client` accepts: the default of each option, and the checks.

One home for the defaults (the client, the pool, the command line and the README's table
read them here) and for the checks an option gets before anything starts: an impossible
value is a ``ValueError`` or a ``TypeError`` when the client is created, never a failure
later in a running session.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

from . import __version__, lifecycle

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_STARTUP_TIMEOUT",
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_EXIT_TIMEOUT",
    "DEFAULT_TERMINATE_TIMEOUT",
    "DEFAULT_PROBE_TIMEOUT",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_INPUT_ROUNDS",
    "DEFAULT_VALIDATION_TIMEOUT",
    "DEFAULT_RESTART",
    "CLIENT_INFO",
    "RestartPolicy",
    "check_command",
    "check_protocol",
    "check_counts",
]

# Seconds a request may wait for its answer. The TypeScript SDK's default is 60 s; the
# Python SDK has none, which is how requests hang for ever. ``None`` disables it.
DEFAULT_TIMEOUT = 60.0
# Seconds for spawn plus start: an ``npx``/``uvx`` cold start downloads packages first.
DEFAULT_STARTUP_TIMEOUT = 60.0
# Seconds close() waits for in-flight answers and queued writes.
DEFAULT_CLOSE_TIMEOUT = 2.0
# Seconds close() waits for the server to exit once its stdin is closed.
DEFAULT_EXIT_TIMEOUT = 2.0
# Seconds close() waits after SIGTERM before SIGKILL.
DEFAULT_TERMINATE_TIMEOUT = 2.0
# Seconds the era probe waits for server/discover before it also sends initialize (a legacy
# server normally refuses the probe at once; one that ignores it is found this way).
DEFAULT_PROBE_TIMEOUT = 2.0
# Input rounds one 2026-07-28 request may take (basic/patterns/mrtr asks clients for a bound).
DEFAULT_MAX_INPUT_ROUNDS = 8
# Pages a list method follows before it stops with an error.
DEFAULT_MAX_PAGES = 1000
# Seconds one outputSchema check may take in all (a hostile schema must not hang a call).
DEFAULT_VALIDATION_TIMEOUT = 5.0
# The restart policy of restart=True: five attempts, waiting 0.5 s, 1 s, 2 s, 4 s, 8 s.
DEFAULT_RESTART = {"max_restarts": 5, "backoff": 0.5, "max_backoff": 30.0}
# The client's own identity.
CLIENT_INFO = {"name": "mcp_stdio", "version": __version__}


class RestartPolicy(NamedTuple):
    """How a client starts its server again after an unexpected exit (the ``restart`` option)."""

    max_restarts: int
    backoff: float
    max_backoff: float

    @classmethod
    def parse(cls, option: bool | dict) -> RestartPolicy | None:
        """Read the ``restart`` option: false, ``True`` (the default policy) or a dict over it.

        Raises:
            TypeError: the dict has keys other than those of :data:`DEFAULT_RESTART`.
        """
        if not option:
            return None
        policy = dict(DEFAULT_RESTART, **(option if isinstance(option, dict) else {}))
        unknown = set(policy) - set(DEFAULT_RESTART)
        if unknown:
            raise TypeError(f"unknown restart policy keys: {', '.join(sorted(unknown))}")
        return cls(policy["max_restarts"], policy["backoff"], policy["max_backoff"])

    def delay(self, attempt: int) -> float:
        """Seconds to wait before restart number ``attempt + 1`` (exponential, capped)."""
        return float(min(self.max_backoff, self.backoff * 2 ** attempt))


def check_command(command: Any) -> list[str]:
    """Return the server's argv as a list of strings.

    Raises:
        TypeError: ``command`` is a string (mcp_stdio never runs a shell).
        ValueError: it names no program.
    """
    if isinstance(command, (str, bytes)):
        raise TypeError("command must be an argv list such as ['python', 'server.py'], not a string: "
                        "mcp_stdio never runs a shell; use shlex.split() to split a command line")
    argv = [os.fspath(part) for part in command]
    if not argv or not argv[0]:
        raise ValueError("command must name a program")
    return argv


def check_protocol(protocol: str) -> str:
    """Return the ``protocol`` option normalised (``"legacy"`` is the handshake era's old name).

    Raises:
        ValueError: not ``"auto"``, ``"handshake"`` or a 2026-07-28-era version.
    """
    if protocol == "legacy":
        protocol = lifecycle.HANDSHAKE
    if protocol not in ("auto", lifecycle.HANDSHAKE) + lifecycle.MODERN_VERSIONS:
        raise ValueError(f"protocol must be 'auto', 'handshake' or one of "
                         f"{', '.join(lifecycle.MODERN_VERSIONS)}, not {protocol!r}")
    return protocol


def check_counts(**counts: Any) -> None:
    """Check that each named option is a positive integer.

    Raises:
        ValueError: naming the first option that is not.
    """
    for name, value in counts.items():
        if type(value) is not int or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
