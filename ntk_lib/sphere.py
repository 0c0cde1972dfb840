r"""Geometry of random points on the sphere :math:`S^{n_0-1}`: angle caps and near-collision bounds.

Used to audit St-Arnaud et al. 2025, Prop. 7 and Example 2, against the exact cap probability
and the limit law of the minimum angle of Cai, Fan and Jiang (2013).
"""

from __future__ import annotations

import math

from ._validate import check_int, check_real

__all__ = [
    "cap_probability",
    "collision_union_bound",
    "collision_bound_prop7",
    "cai_constant",
    "min_angle_limit_cdf",
    "close_pair_probability_bounds",
    "min_angle_expectation_bounds",
]


def _check_n0(n0):
    return check_int(n0, "n0", minimum=2)


def _exp(log_value: float) -> float:
    """exp that returns inf instead of raising OverflowError (the bounds are shown uncapped)."""
    return math.inf if log_value > 709.78 else math.exp(log_value)


def cap_probability(n0: int, angle: float) -> float:
    r"""Exact :math:`P(\theta \le a)` for the angle :math:`\theta` between two independent uniform points
    on :math:`S^{n_0-1}`, density :math:`\frac{\Gamma(n_0/2)}{\sqrt\pi\,\Gamma((n_0-1)/2)}\sin^{n_0-2}\theta`
    (Cai et al. 2013), via the regularized incomplete beta function."""
    from scipy.special import betainc

    n0 = _check_n0(n0)
    angle = check_real(angle, "angle")
    if not (0.0 <= angle <= math.pi):
        raise ValueError(f"angle must lie in [0, pi], got {angle}")
    half = 0.5 * float(betainc((n0 - 1) / 2, 0.5, math.sin(min(angle, math.pi - angle)) ** 2))
    return half if angle <= math.pi / 2 else 1.0 - half


def _log_pairs(n: int) -> float:
    n = check_int(n, "n", minimum=2)
    return math.log(n) + math.log(n - 1) - math.log(2)


def collision_union_bound(n: int, n0: int, angle: float) -> float:
    r"""Union bound :math:`\binom n2 P(\theta\le a)` on the probability that two of ``n`` uniform points
    on :math:`S^{n_0-1}` are within angle ``angle`` (not capped at 1, to show its size)."""
    log_pairs = _log_pairs(n)
    return _exp(log_pairs + math.log(max(cap_probability(n0, angle), 1e-300)))


def collision_bound_prop7(n: int, n0: int, delta: float) -> float:
    r"""Prop. 7's closed-form bound :math:`\binom n2\frac1{\sqrt\pi}\sqrt{\frac{n_0}{2}}\frac{\delta^{n_0-1}}{n_0-1}`
    (derived from :math:`P(\theta\le\delta)`, i.e. for the *angle* :math:`\delta`)."""
    n0 = _check_n0(n0)
    delta = check_real(delta, "delta")
    if not (0 < delta < 1):
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    log_b = _log_pairs(n) - 0.5 * math.log(math.pi) + 0.5 * math.log(n0 / 2) + (n0 - 1) * math.log(delta)
    return _exp(log_b - math.log(n0 - 1))


def cai_constant(n0: int) -> float:
    r""":math:`K = \frac1{4\sqrt\pi}\frac{\Gamma(n_0/2)}{\Gamma((n_0+1)/2)}` (Cai et al. 2013, Thm 2), as quoted in §6.1."""
    n0 = _check_n0(n0)
    return math.exp(math.lgamma(n0 / 2) - math.lgamma((n0 + 1) / 2)) / (4 * math.sqrt(math.pi))


def min_angle_limit_cdf(n: int, n0: int, angle: float) -> float:
    r"""Cai, Fan and Jiang (2013, Thm 2), an :math:`n\to\infty` limit law: :math:`n^{2/(n_0-1)}\Theta_{\min}`
    converges in distribution to :math:`F(x) = 1 - e^{-Kx^{n_0-1}}`. Returns the limit value
    :math:`F(n^{2/(n_0-1)}\,a)` used as an approximation of :math:`P(\Theta_{\min}\le a)` at this ``n``."""
    n0 = _check_n0(n0)
    _log_pairs(n)
    angle = check_real(angle, "angle")
    if not (0.0 <= angle <= math.pi):
        raise ValueError(f"angle must lie in [0, pi], got {angle}")
    if angle == 0:
        return 0.0
    log_x = 2 * math.log(n) / (n0 - 1) + math.log(angle)
    return -math.expm1(-cai_constant(n0) * math.exp((n0 - 1) * log_x))


def close_pair_probability_bounds(n: int, n0: int, angle: float) -> tuple[float, float]:
    r"""Exact bounds on :math:`P(\Theta_{\min}\le a)` for ``n`` independent uniform points on :math:`S^{n_0-1}`.

    With :math:`N` the number of pairs within angle :math:`a`, :math:`M = \binom n2` and
    :math:`p = P(\theta\le a)`: the events of distinct pairs are pairwise independent (for a pair sharing
    a point, the second angle is uniform given the first), so :math:`E N = Mp` and
    :math:`E N^2 = Mp + M(M-1)p^2` exactly, and

    .. math:: \frac{(E N)^2}{E N^2} \le P(N > 0) \le \min(1, E N)

    (second-moment and union bounds)."""
    n0 = _check_n0(n0)
    log_m = _log_pairs(n)
    p = cap_probability(n0, angle)
    if p == 0:
        return 0.0, 0.0
    mean = math.exp(log_m + math.log(p))
    m = math.exp(log_m)
    second = mean + mean * mean - m * p * p
    return mean * mean / second, min(1.0, mean)


def min_angle_expectation_bounds(n: int, n0: int, grid: int = 4001) -> tuple[float, float]:
    r"""Bounds on :math:`E\,\Theta_{\min} = \int_0^\pi P(\Theta_{\min} > a)\,da` at finite ``n`` from
    :func:`close_pair_probability_bounds` (trapezoid rule on ``grid`` points; the bracket, not the
    quadrature, dominates the uncertainty)."""
    import numpy as np

    grid = check_int(grid, "grid", minimum=3)
    angles = np.linspace(0.0, math.pi, int(grid))
    lo_hi = np.array([close_pair_probability_bounds(n, n0, float(a)) for a in angles])
    # P(min > a) = 1 - P(N > 0): the upper bound on P(N > 0) gives the lower bound on the mean
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz
    low = float(trapezoid(1 - lo_hi[:, 1], angles))
    high = float(trapezoid(1 - lo_hi[:, 0], angles))
    return low, high
