"""Synthetic inputs: points on circles and spheres (the domain of the depth results)."""

from __future__ import annotations

import math
import numbers

import torch

__all__ = ["sphere", "circle", "circle_points"]


def _check_n(n, name="n"):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def sphere(n: int, dim: int, *, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``n`` points drawn uniformly on the unit sphere :math:`S^{dim-1}` (normalized Gaussians)."""
    n, dim = _check_n(n), _check_n(dim, "dim")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)
    return (x / x.norm(dim=1, keepdim=True)).to(dtype)


def circle_points(angles: torch.Tensor) -> torch.Tensor:
    """Points :math:`(\\cos\\theta, \\sin\\theta)` for angles ``[n]``: ``[n, 2]``."""
    return torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def circle(
    n: int, *, random: bool = True, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """Angles in :math:`[0, 2\\pi)`, sorted (uniform random, or an even grid) and their points."""
    n = _check_n(n)
    if random:
        g = torch.Generator().manual_seed(seed)
        angles = torch.sort(torch.rand(n, generator=g, dtype=torch.float64) * 2 * math.pi).values
    else:
        angles = torch.arange(n, dtype=torch.float64) * (2 * math.pi / n)
    return angles.to(dtype), circle_points(angles).to(dtype)
