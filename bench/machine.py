"""Describe the machine a benchmark ran on (figures mean nothing without it)."""

from __future__ import annotations

import os
import platform


def describe() -> dict[str, str | int]:
    model = _first_field("/proc/cpuinfo", "model name") or "unknown"
    mem_kib = _first_field("/proc/meminfo", "MemTotal")
    mem_gib = round(int(mem_kib.split()[0]) / 1024 / 1024) if mem_kib else 0
    return {
        "cpu": model,
        "cores": os.cpu_count() or 0,
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def _first_field(path: str, name: str) -> str | None:
    """The value of the first `name: value` line of a /proc file."""
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if line.startswith(name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def peak_rss_mib(pid: int) -> float | None:
    """VmHWM of a live process: its peak resident memory so far."""
    value = _first_field(f"/proc/{pid}/status", "VmHWM")
    return int(value.split()[0]) / 1024 if value else None
