"""Timing and peak-memory helpers for the benchmark scripts (Linux /proc where available)."""

from __future__ import annotations

import os
import resource
import time


def best_time(fn, repeats: int = 3) -> float:
    """Best wall-clock time of ``repeats`` warm calls (the first call is a warm-up)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _proc_status_mb(key: str) -> float | None:
    """A memory line of /proc/self/status (VmHWM: peak, VmRSS: current) in MB, None off Linux."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def peak_rss_during(fn) -> tuple[float, float]:
    """Run ``fn`` and return (peak RSS in MB during the call, RSS in MB before it).

    Resets the kernel's high-water mark first (``/proc/self/clear_refs``), so the peak belongs to
    this call; falls back to the process-lifetime maximum where that is not possible.
    """
    before = _proc_status_mb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    fn()
    peak = _proc_status_mb("VmHWM")
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak, (before or 0.0)


def pin_to_one_cpu(no_pin: bool = False) -> str:
    """One torch thread and, where the OS allows it, this process (and every child it starts, which
    inherits the affinity: the neural-tangents baseline) pinned to one CPU core. Comparisons on a
    shared or small machine are then not decided by which library grabs more cores, nor by what else
    runs. Returns a phrase for the header."""
    import torch

    torch.set_num_threads(1)
    if no_pin or not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def machine() -> str:
    return f"{os.cpu_count()} cores"
