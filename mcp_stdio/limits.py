"""The limits probe: how many MCP stdio sessions can this process and machine hold?

:func:`probe` reads the ``resource`` limits (RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_AS,
RLIMIT_CPU), the memory available and the pipe capacity, takes the measured cost of one
session (file descriptors, client memory, server memory), and estimates a safe capacity,
naming the limit that binds first. It also gives the thresholds a deployment should alert
on: a warning at 70 % and a critical alert at 90 % of that capacity.

Run it with ``python -m mcp_stdio.bench limits`` (it then measures the per-session costs
against the reference server first).
"""

from __future__ import annotations

import os
import resource

__all__ = ["probe", "WARNING_FRACTION", "CRITICAL_FRACTION", "fd_usage"]

# Alert thresholds, as fractions of the estimated capacity: 70 % leaves time to react,
# 90 % means the next burst of sessions may fail.
WARNING_FRACTION = 0.7
CRITICAL_FRACTION = 0.9
# File descriptors kept free for everything else the host process does.
FD_RESERVE = 64
# Memory kept free for the rest of the machine, as a fraction of what is available.
MEMORY_RESERVE = 0.2

_F_GETPIPE_SZ = 1032  # Linux fcntl


def _limit(name: str) -> dict | None:
    number = getattr(resource, name, None)
    if number is None:
        return None
    soft, hard = resource.getrlimit(number)
    return {"soft": None if soft == resource.RLIM_INFINITY else soft,
            "hard": None if hard == resource.RLIM_INFINITY else hard}


def _meminfo() -> dict[str, int]:
    info = {}
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                key, value = line.split(":", 1)
                info[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return info


def _pipe_capacity() -> int | None:
    try:
        import fcntl

        read_end, write_end = os.pipe()
        try:
            return fcntl.fcntl(write_end, _F_GETPIPE_SZ)
        finally:
            os.close(read_end)
            os.close(write_end)
    except (OSError, ImportError):
        return None


def _user_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def fd_usage() -> dict[str, int | None]:
    """Return open file descriptors against RLIMIT_NOFILE, with the alert thresholds."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    limit = None if soft == resource.RLIM_INFINITY else soft
    try:
        used = len(os.listdir("/proc/self/fd")) - 1
    except OSError:
        used = None
    return {"open": used, "limit": limit,
            "warning": int(limit * WARNING_FRACTION) if limit else None,
            "critical": int(limit * CRITICAL_FRACTION) if limit else None}


def probe(fds_per_session: float | None = None, client_bytes_per_session: float | None = None,
          server_bytes_per_session: float | None = None, processes_per_session: float = 1.0) -> dict:
    """Return the limits, the per-session costs given, and the estimated safe capacity.

    Args:
        fds_per_session: file descriptors one session holds in this process (measured).
        client_bytes_per_session: this process's memory per session (measured RSS).
        server_bytes_per_session: memory of one server process (measured PSS).
        processes_per_session: processes one session runs (1 for a direct server; a
            wrapper such as npx adds its own).
    """
    limits = {name.lower(): _limit(name) for name in
              ("RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_AS", "RLIMIT_CPU")}
    meminfo = _meminfo()
    available = meminfo.get("MemAvailable")
    fds = fd_usage()
    result: dict = {
        "limits": limits,
        "memory_total_bytes": meminfo.get("MemTotal"),
        "memory_available_bytes": available,
        "pipe_capacity_bytes": _pipe_capacity(),
        "cpu_count": os.cpu_count(),
        "open_fds": fds["open"],
        "user_processes": _user_processes(),
        "per_session": {"fds": fds_per_session, "client_bytes": client_bytes_per_session,
                        "server_bytes": server_bytes_per_session, "processes": processes_per_session},
    }
    capacities: dict[str, int] = {}
    nofile = (limits["rlimit_nofile"] or {}).get("soft")
    if fds_per_session and nofile:
        capacities["RLIMIT_NOFILE"] = int((nofile - (fds["open"] or 0) - FD_RESERVE) / fds_per_session)
    nproc = (limits["rlimit_nproc"] or {}).get("soft")
    if nproc and processes_per_session:
        capacities["RLIMIT_NPROC"] = int((nproc - result["user_processes"]) / processes_per_session)
    per_session_memory = (client_bytes_per_session or 0) + (server_bytes_per_session or 0)
    if available and per_session_memory:
        capacities["memory"] = int(available * (1 - MEMORY_RESERVE) / per_session_memory)
    address_space = (limits["rlimit_as"] or {}).get("soft")
    if address_space and client_bytes_per_session:
        capacities["RLIMIT_AS"] = int(address_space * (1 - MEMORY_RESERVE) / client_bytes_per_session)
    result["capacity_by_limit"] = capacities
    if capacities:
        binding = min(capacities, key=capacities.get)  # type: ignore[arg-type]
        capacity = max(0, capacities[binding])
        result["estimated_capacity"] = capacity
        result["binding_limit"] = binding
        result["thresholds"] = {"warning_sessions": int(capacity * WARNING_FRACTION),
                                "critical_sessions": int(capacity * CRITICAL_FRACTION)}
        if fds_per_session and nofile:
            result["thresholds"]["warning_fds"] = int(nofile * WARNING_FRACTION)
            result["thresholds"]["critical_fds"] = int(nofile * CRITICAL_FRACTION)
    return result
