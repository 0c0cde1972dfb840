r"""The depth axis of the ReLU NTK on the sphere (St-Arnaud et al. 2025, §6 and Appendix C).

Quantities the depth results are stated in: the layer correlations :math:`\rho^{(L)}` and
their error :math:`e_L = 1-\rho^{(L)}` (Lemma 1, proof of Thm 2), the :math:`\eta` kernels of
Prop. 8, the depth scale :math:`\max_{i\ne j} 1/\sqrt{1-h(x_i^\top x_j)}` of Thm 3 and Figs 6 and 8,
the projection operator of Prop. 6, and the near-collision probabilities of Prop. 7 / Example 2.
"""

from __future__ import annotations

import math
import numbers

import torch

from ._validate import as_tensor, check_depth
from .analytic import _check_unit_interval, _input_cosines, _relu_step, _unit_rows
from .dynamics import _eigh, _times

__all__ = [
    "relu_correlations",
    "eta_recurrence",
    "eta_fixed_point",
    "depth_scale",
    "projection_operator",
    "cap_probability",
    "collision_union_bound",
    "collision_bound_prop7",
    "cai_constant",
]


def relu_correlations(rho1, depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Layer correlations on the sphere, :math:`\rho^{(l+1)} = h(\rho^{(l)})` (Lemma 1), and their
    errors :math:`e_l = 1 - \rho^{(l)}` computed without cancellation. Both ``[depth, *shape]``."""
    depth = check_depth(depth)
    rho = _check_unit_interval(rho1, "rho1").to(torch.float64)
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
    z = _check_unit_interval(z1, "z1").to(torch.float64)
    out = torch.empty((depth, *z.shape), dtype=torch.float64, device=z.device)
    out[0] = z
    for layer in range(1, depth):
        z = _sigmoid_squared(z)
        out[layer] = z
    return out


def eta_fixed_point(tol: float = 1e-15) -> float:
    r"""The unique :math:`\beta` with :math:`\beta = (1+e^{-\beta})^{-2}` (the limit in Prop. 8), by bisection."""
    lo, hi = 0.0, 1.0  # g(z) = sigmoid(z)^2 - z is > 0 at 0 and < 0 at 1
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if 1.0 / (1.0 + math.exp(-mid)) ** 2 > mid:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def depth_scale(x) -> float:
    r""":math:`\max_{i\ne j} 1/\sqrt{1-h(x_i^\top x_j)} = \max_{i\ne j} 1/\sqrt{1-\rho^{(2)}(x_i,x_j)}`
    for the rows of ``x`` projected to the sphere: the depth of Thm 3, Corollary 1 and Figs 6, 8.
    ``1 - h`` is computed without cancellation, so nearly colinear rows give large, exact values."""
    x = as_tensor(x, "x", ndim=2).to(torch.float64)
    if x.shape[0] < 2:
        raise ValueError(f"x needs at least two rows, got {x.shape[0]}")
    xh = _unit_rows(x)
    cos, one_minus = _input_cosines(xh, xh)
    _, omh, _ = _relu_step(cos, one_minus)
    omh.fill_diagonal_(float("inf"))
    smallest = float(omh.min())
    if smallest <= 0:
        raise ValueError("x has two identical directions: the depth scale is infinite")
    return 1.0 / math.sqrt(smallest)


def projection_operator(k_train, k_test_train, t) -> torch.Tensor:
    r"""Prop. 6's projection operator :math:`K(x,X)\,K^{-1}\big(e^{-tK}-I\big)` for every time in ``t``:
    ``[T, m, n]``. Computed as :math:`K(x,X)\,V\operatorname{diag}\big((e^{-t\lambda_i}-1)/\lambda_i\big)V^\top`
    (limit :math:`-t` for :math:`\lambda_i = 0`), so it is finite even for a singular kernel."""
    k = as_tensor(k_train, "k_train", ndim=2).to(torch.float64)
    kx = as_tensor(k_test_train, "k_test_train", ndim=2, device=k.device).to(torch.float64)
    if kx.shape[1] != k.shape[0]:
        raise ValueError(f"k_test_train has {kx.shape[1]} columns but k_train has size {k.shape[0]}")
    lam, vec, tol = _eigh(k)
    ts = _times(t, k.device)
    null = lam.abs() <= tol
    safe = torch.where(null, torch.ones_like(lam), lam)
    gain = torch.expm1(-ts[:, None] * lam[None, :]) / safe[None, :]
    gain = torch.where(null[None, :], -ts[:, None].expand_as(gain), gain)
    return torch.einsum("mj,tj,nj->tmn", kx @ vec, gain, vec)


def _check_n0(n0):
    if isinstance(n0, bool) or not isinstance(n0, numbers.Integral) or n0 < 2:
        raise ValueError(f"n0 must be an integer >= 2, got {n0!r}")
    return int(n0)


def cap_probability(n0: int, angle: float) -> float:
    r"""Exact :math:`P(\theta \le a)` for the angle :math:`\theta` between two independent uniform points
    on :math:`S^{n_0-1}`, density :math:`\frac{\Gamma(n_0/2)}{\sqrt\pi\,\Gamma((n_0-1)/2)}\sin^{n_0-2}\theta`
    (Cai et al. 2013), via the regularized incomplete beta function."""
    from scipy.special import betainc

    n0 = _check_n0(n0)
    if not (0.0 <= angle <= math.pi):
        raise ValueError(f"angle must lie in [0, pi], got {angle}")
    half = 0.5 * float(betainc((n0 - 1) / 2, 0.5, math.sin(min(angle, math.pi - angle)) ** 2))
    return half if angle <= math.pi / 2 else 1.0 - half


def _log_pairs(n: int) -> float:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    return math.log(n) + math.log(n - 1) - math.log(2)


def collision_union_bound(n: int, n0: int, angle: float) -> float:
    r"""Union bound :math:`\binom n2 P(\theta\le a)` on the probability that two of ``n`` uniform points
    on :math:`S^{n_0-1}` are within angle ``angle`` (not capped at 1, to show its size)."""
    return math.exp(_log_pairs(n) + math.log(max(cap_probability(n0, angle), 1e-300)))


def collision_bound_prop7(n: int, n0: int, delta: float) -> float:
    r"""Prop. 7's closed-form bound :math:`\binom n2\frac1{\sqrt\pi}\sqrt{\frac{n_0}{2}}\frac{\delta^{n_0-1}}{n_0-1}`
    (derived from :math:`P(\theta\le\delta)`, i.e. for the *angle* :math:`\delta`)."""
    n0 = _check_n0(n0)
    if not (0 < delta < 1):
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    log_b = _log_pairs(n) - 0.5 * math.log(math.pi) + 0.5 * math.log(n0 / 2) + (n0 - 1) * math.log(delta)
    return math.exp(log_b - math.log(n0 - 1))


def cai_constant(n0: int) -> float:
    r""":math:`K = \frac1{4\sqrt\pi}\frac{\Gamma(n_0/2)}{\Gamma((n_0+1)/2)}` (Cai et al. 2013, Thm 2), as quoted in §6.1."""
    n0 = _check_n0(n0)
    return math.exp(math.lgamma(n0 / 2) - math.lgamma((n0 + 1) / 2)) / (4 * math.sqrt(math.pi))
