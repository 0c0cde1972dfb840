"""Where computations run, how runs are seeded, how big a chunk fits in memory.

Library functions never pick a device themselves: they compute where their input tensors
live. This module serves notebooks and scripts that create those tensors.

.. rubric:: Device policy

* **CPU and CUDA**: every public function runs where its inputs live and returns its result there.
  Analytic kernels, dynamics and spectral functions compute in float64; models, empirical kernels
  and training keep the model's dtype. Nothing converts a CUDA tensor to NumPy behind the caller's
  back; the analytic recursion makes no host synchronization inside its layer loop on a GPU, and
  sizes its blocks from :func:`memory_budget_bytes`.
* **Apple MPS** has no float64 and no ``torch.linalg.eigh``. Work that needs them runs on the CPU:
  the analytic kernels (:mod:`ntk_lib.analytic`, :mod:`ntk_lib.correlations`), the closed-form
  dynamics and every spectral function (:mod:`ntk_lib.dynamics`, :mod:`ntk_lib.spectral`), the
  metrics and the drift statistics accept MPS tensors, move them to the CPU, compute in float64
  there and return **CPU** float64 tensors (exact results; the move costs one copy). Models,
  :func:`ntk_lib.empirical.empirical_ntk` and :func:`ntk_lib.training.train_gd` run on MPS in float32
  (their precision is float32's, as on any float32 device); a float64 model cannot be moved to MPS,
  which PyTorch itself refuses with its own message. :func:`default_device` picks MPS when it is the
  only accelerator, for those float32 parts; set ``NTK_DEVICE=cpu`` to keep everything on the CPU.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["default_device", "resolve_device", "precise_dtype", "seed_everything", "chunk_rows", "memory_budget_bytes"]


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


def precise_dtype(device) -> torch.dtype:
    """The dtype chapters train and compare networks in: float64, except on Apple MPS (float32, the
    device policy above). In float64 a run's printed digits do not depend on the CPU's summation order;
    in float32 a run near the edge of stability, or the smallest eigenvalue of a kernel, can."""
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device {device!r} is not a valid torch device") from err
    return torch.float32 if kind == "mps" else torch.float64


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a CPU generator seeded with ``seed``."""
    from ._validate import check_int

    try:
        seed = check_int(seed, "seed", minimum=0)
    except TypeError as err:
        raise ValueError(str(err).replace("an integer", "a non-negative integer")) from None
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def memory_budget_bytes(device: torch.device | str | None = None, fraction: float = 0.25) -> int:
    """A working-memory budget: ``fraction`` (in (0, 1]) of free GPU memory on CUDA, of available RAM
    elsewhere (1 GiB if it cannot be read). Sizes the GPU blocks of :func:`ntk_lib.analytic.relu_ntk`."""
    from ._validate import check_positive

    fraction = check_positive(fraction, "fraction")
    if fraction > 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    try:
        dev = torch.device(device) if device is not None else torch.device("cpu")
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be a torch.device or a device string such as 'cpu' or 'cuda:0', got {device!r}") from err
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
    from ._validate import check_int

    n_rows = check_int(n_rows, "n_rows", minimum=1)
    bytes_per_row = check_int(bytes_per_row, "bytes_per_row", minimum=1)
    budget = memory_budget_bytes(device) if budget_bytes is None else check_int(budget_bytes, "budget_bytes", minimum=0)
    return int(max(1, min(n_rows, budget // bytes_per_row)))
