r"""Layer-to-layer correlation maps of deep infinite-width networks on the sphere.

For ReLU, :math:`\rho^{(l+1)} = h(\rho^{(l)})` (St-Arnaud et al. 2025, Definition 5 and Lemma 1),
with the error :math:`e_l = 1-\rho^{(l)}` tracked without cancellation; the :math:`\eta` kernels of
their Prop. 8 and the depth scale :math:`\max_{i\ne j} 1/\sqrt{1-h(x_i^\top x_j)}` of Thm 3 and
Figs 6 and 8. The maps :math:`h` and :math:`h'` themselves live in :mod:`ntk_lib.analytic`.
"""

from __future__ import annotations

import math

import torch

from ._validate import as_tensor, check_depth, check_positive, row_norms, to_float64
from .analytic import _check_unit_interval, _input_cosines, _relu_step, _unit_rows

__all__ = ["relu_correlations", "eta_recurrence", "eta_fixed_point", "depth_scale"]


def relu_correlations(rho1, depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Layer correlations on the sphere, :math:`\rho^{(l+1)} = h(\rho^{(l)})` (Lemma 1), and their
    errors :math:`e_l = 1 - \rho^{(l)}` computed without cancellation. Both ``[depth, *shape]``."""
    depth = check_depth(depth)
    rho = to_float64(_check_unit_interval(rho1, "rho1"))
    u = (1 - rho).clamp(0.0, 2.0)
    rhos = torch.empty((depth, *rho.shape), dtype=torch.float64, device=rho.device)
    errs = torch.empty_like(rhos)
    rhos[0], errs[0] = rho, u
    for layer in range(1, depth):
        rho, u, _ = _relu_step(rho, u)
        rhos[layer], errs[layer] = rho, u
    return rhos, errs


def _sigmoid_squared(z):
    return torch.sigmoid(z) ** 2


def eta_recurrence(z1, depth: int) -> torch.Tensor:
    r"""Prop. 8's kernels: :math:`\eta^{(1)} = x^\top x'`, :math:`\eta^{(L+1)} = (1+e^{-\eta^{(L)}})^{-2}`.
    ``z1`` holds inner products in :math:`[-1, 1]`; returns ``[depth, *z1.shape]``."""
    depth = check_depth(depth)
    z = to_float64(_check_unit_interval(z1, "z1"))
    out = torch.empty((depth, *z.shape), dtype=torch.float64, device=z.device)
    out[0] = z
    for layer in range(1, depth):
        z = _sigmoid_squared(z)
        out[layer] = z
    return out


def eta_fixed_point(tol: float = 1e-15) -> float:
    r"""The unique :math:`\beta` with :math:`\beta = (1+e^{-\beta})^{-2}` (the limit in Prop. 8), by bisection
    to an interval of width ``tol`` > 0 (at most 64 halvings: below float64 spacing nothing changes)."""
    tol = check_positive(tol, "tol")
    lo, hi = 0.0, 1.0  # g(z) = sigmoid(z)^2 - z is > 0 at 0 and < 0 at 1
    for _ in range(64):
        if hi - lo <= tol:
            break
        mid = 0.5 * (lo + hi)
        if 1.0 / (1.0 + math.exp(-mid)) ** 2 > mid:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def depth_scale(x) -> float:
    r""":math:`\max_{i\ne j} 1/\sqrt{1-h(x_i^\top x_j)} = \max_{i\ne j} 1/\sqrt{1-\rho^{(2)}(x_i,x_j)}`
    for the rows of ``x`` projected to the sphere: the depth of Thm 3, Corollary 1 and Figs 6, 8.
    ``1 - h`` is computed without cancellation, so nearly colinear rows give large, exact values.
    Rows of any magnitude are scaled before normalizing; an all-zero row (no direction) is refused."""
    x = to_float64(as_tensor(x, "x", ndim=2))
    if x.shape[0] < 2:
        raise ValueError(f"x needs at least two rows, got {x.shape[0]}")
    scale, _ = row_norms(x)
    if bool((scale == 0).any()):
        raise ValueError(f"x has an all-zero row (row {int(torch.argmin(scale))}), which has no direction on the sphere")
    xh = _unit_rows(x)
    cos, one_minus = _input_cosines(xh, xh)
    _, omh, _ = _relu_step(cos, one_minus)
    omh.fill_diagonal_(float("inf"))
    smallest = float(omh.min())
    if smallest <= 0:
        raise ValueError("x has two identical directions: the depth scale is infinite")
    return 1.0 / math.sqrt(smallest)
