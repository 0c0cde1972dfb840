"""Argument checks shared by the public functions.

Every public function of ``ntk_lib`` funnels its inputs through these helpers so
that bad input fails early with an error that names the argument, instead of
surfacing later as a NaN or a shape error deep inside a kernel recursion.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch

__all__ = [
    "as_tensor",
    "check_depth",
    "check_nonnegative",
    "check_positive",
    "check_square_symmetric",
]


def as_tensor(
    x,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    allow_empty: bool = False,
) -> torch.Tensor:
    """Convert ``x`` to a floating tensor and check its rank and finiteness."""
    if isinstance(x, torch.Tensor):
        t = x
    elif isinstance(x, (np.ndarray, numbers.Number, list, tuple)):
        try:
            t = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be numeric array-like, got {type(x).__name__}") from err
    else:
        raise TypeError(f"{name} must be a torch.Tensor or array-like, got {type(x).__name__}")
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name} must be real-valued, got dtype {t.dtype}")
    if dtype is not None:
        t = t.to(dtype)
    elif not t.is_floating_point():
        t = t.to(torch.float64)
    if device is not None:
        t = t.to(device)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if t.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(t.shape)}")
    if not allow_empty and t.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)})")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


def check_depth(depth, name: str = "depth") -> int:
    """``depth`` must be an integer >= 1 (it counts linear layers)."""
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {depth!r}")
    depth = int(depth)
    if depth < 1:
        raise ValueError(f"{name} must be >= 1 (it counts linear layers), got {depth}")
    return depth


def _check_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_nonnegative(value, name: str) -> float:
    value = _check_real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_positive(value, name: str) -> float:
    value = _check_real(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_square_symmetric(k: torch.Tensor, name: str, *, rtol: float | None = None) -> None:
    """A kernel matrix must be square and symmetric up to rounding of its dtype."""
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"{name} must be a square [n, n] matrix, got shape {tuple(k.shape)}")
    if rtol is None:
        rtol = 1e3 * torch.finfo(k.dtype).eps
    scale = float(k.abs().max())
    asym = float((k - k.T).abs().max())
    if asym > rtol * max(scale, torch.finfo(k.dtype).tiny):
        raise ValueError(
            f"{name} must be symmetric: max |K - K^T| = {asym:.3g} exceeds {rtol:.1g} x max |K| = {scale:.3g}"
        )
