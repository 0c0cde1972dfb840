"""Where computations run, how runs are seeded, how big a chunk fits in memory.

Library functions never pick a device themselves: they compute where their input tensors
live. This module serves notebooks and scripts that create those tensors.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["default_device", "resolve_device", "seed_everything", "chunk_rows", "memory_budget_bytes"]


def default_device() -> torch.device:
    """CUDA if available, then Apple MPS, then CPU; the environment variable ``NTK_DEVICE``
    (e.g. ``cpu``, ``cuda:1``) overrides the choice."""
    forced = os.environ.get("NTK_DEVICE", "").strip()
    if forced:
        return resolve_device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(spec="auto") -> torch.device:
    """``"auto"`` (or ``None``) means :func:`default_device`; anything else is passed to
    ``torch.device`` and must be usable here."""
    if spec is None or (isinstance(spec, str) and spec.lower() == "auto"):
        return default_device()
    try:
        dev = torch.device(spec)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device {spec!r} is not a valid torch device") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {spec!r} requested but CUDA is not available")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device {spec!r} requested but MPS is not available")
    return dev


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a CPU generator seeded with ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def memory_budget_bytes(device: torch.device | str | None = None, fraction: float = 0.25) -> int:
    """A working-memory budget: ``fraction`` of free GPU memory on CUDA, of available RAM on CPU
    (1 GiB if it cannot be read)."""
    dev = torch.device(device) if device is not None else torch.device("cpu")
    if dev.type == "cuda":
        free, _ = torch.cuda.mem_get_info(dev)
        return int(free * fraction)
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        avail = 1 << 30
    return int(avail * fraction)


def chunk_rows(n_rows: int, bytes_per_row: int, budget_bytes: int | None = None, device=None) -> int:
    """How many rows of ``bytes_per_row`` fit in ``budget_bytes`` (default :func:`memory_budget_bytes`);
    at least 1, at most ``n_rows``."""
    if n_rows < 1 or bytes_per_row < 1:
        raise ValueError("n_rows and bytes_per_row must be positive")
    budget = memory_budget_bytes(device) if budget_bytes is None else int(budget_bytes)
    return int(max(1, min(n_rows, budget // bytes_per_row)))
