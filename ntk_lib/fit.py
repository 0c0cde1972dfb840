r"""Power-law fits and intervals over seeds.

* :func:`loglog_slope`: the least-squares slope :math:`a` of :math:`\log y = a \log x + c`.
* :func:`slope_interval`: the same slope for measurements repeated over seeds, with a 95 %
  Student-*t* interval over the per-seed slopes (seeds are the independent unit).
* :func:`mean_interval` and :func:`paired_interval`: a mean over seeds, or a paired difference
  between two models run on the same seeds, with its Student-*t* 95 % interval.
* :func:`geometric_interval` and :func:`ratio_interval`: the same on a log scale, for positive
  quantities (errors, losses, ratios of them), whose interval then never reaches zero.

Every chapter that fits an exponent or compares two models uses these, so that every number the
book quotes carries the same kind of interval.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from ._validate import as_tensor

__all__ = [
    "loglog_slope",
    "SlopeFit",
    "slope_interval",
    "Interval",
    "mean_interval",
    "paired_interval",
    "geometric_interval",
    "ratio_interval",
]


def _as_array(values, name: str, ndim: int = 1) -> np.ndarray:
    """A float64 numpy copy of ``values`` (tensors on any device, lists, arrays) with at most
    ``ndim`` dimensions; 1-D results are flattened."""
    # one dtype rule for the library (bool/complex/strings refused), then host memory for numpy
    arr = as_tensor(values, name, dtype=torch.float64, allow_empty=True).cpu().numpy()
    # a [1, 1, n] array is not n values of one sample: refuse it rather than guess its layout
    if arr.ndim > ndim:
        raise ValueError(f"{name} must have at most {ndim} dimension(s), got shape {tuple(arr.shape)}")
    return arr.reshape(-1) if ndim == 1 else arr


def _check_level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not (0.0 < float(level) < 1.0):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    return float(level)


def loglog_slope(x, y) -> tuple[float, float]:
    """Least-squares slope and intercept of ``log(y)`` against ``log(x)``.

    Both arrays must be 1-D, of equal length >= 2, finite and strictly positive.
    """
    xa = _as_array(x, "x")
    ya = _as_array(y, "y")
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same length, got {xa.size} and {ya.size}")
    if xa.size < 2:
        raise ValueError("need at least two points to fit a slope")
    for name, arr in (("x", xa), ("y", ya)):
        if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ValueError(f"{name} must be finite and > 0 for a log-log fit")
    if np.ptp(np.log(xa)) == 0:
        raise ValueError("x must hold at least two distinct values")
    slope, intercept = np.polyfit(np.log(xa), np.log(ya), 1)
    return float(slope), float(intercept)


class SlopeFit(NamedTuple):
    """A fitted exponent with its Student-*t* interval over seeds."""

    slope: float  #: slope of the seed-averaged :math:`\log y` against :math:`\log x`
    low: float  #: lower end of the interval
    high: float  #: upper end of the interval
    intercept: float  #: intercept of the same fit
    n_seeds: int  #: number of seeds (rows of ``y``)

    def __str__(self) -> str:
        return f"{self.slope:.2f} [{self.low:.2f}, {self.high:.2f}]"


def slope_interval(x, y, *, level: float = 0.95) -> SlopeFit:
    r"""Exponent :math:`a` of :math:`y \propto x^a` from repeated runs, with a Student-*t* interval.

    ``y`` is ``[seeds, len(x)]``: row ``s`` holds one seed's measurement at every ``x`` (the same
    seed at every ``x``, so rows are the independent units). Each row gives a least-squares slope
    :math:`a_s` of :math:`\log y_s` against :math:`\log x`; the estimate is their mean
    :math:`\bar a` (which is also the slope of :math:`\overline{\log y}`, a geometric mean over
    seeds) and the interval is :math:`\bar a \pm t_{S-1,(1+\text{level})/2}\, s_a/\sqrt S`.

    The per-seed slopes are independent replicates, so this interval has its nominal coverage for
    any number of seeds :math:`S \ge 2` when they are roughly normal; a percentile bootstrap over
    so few rows would cover far less (with 3 seeds it returns about the range of the slopes).
    """
    from scipy.stats import t as student_t

    xa = _as_array(x, "x")
    ya = _as_array(y, "y", ndim=2)
    if ya.ndim != 2:
        raise ValueError(f"y must be 2-D [seeds, len(x)], got shape {tuple(ya.shape)}")
    if ya.shape[1] != xa.size:
        raise ValueError(f"y has {ya.shape[1]} columns but x has {xa.size} values")
    if ya.shape[0] < 2:
        raise ValueError(f"y needs at least 2 seeds (rows) for an interval, got {ya.shape[0]}")
    level = _check_level(level)
    for name, arr in (("x", xa), ("y", ya)):
        if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ValueError(f"{name} must be finite and > 0 for a log-log fit")
    lx = np.log(xa)
    if np.ptp(lx) == 0:
        raise ValueError("x must hold at least two distinct values")
    ly = np.log(ya)
    # least squares against a fixed design is linear in the data: slope_s = w . log y_s
    w = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    per_seed = ly @ w
    n = per_seed.size
    slope = float(per_seed.mean())
    intercept = float(ly.mean() - slope * lx.mean())
    half = float(student_t.ppf((1 + level) / 2, n - 1) * per_seed.std(ddof=1) / np.sqrt(n))
    return SlopeFit(slope, slope - half, slope + half, intercept, int(n))


class Interval(NamedTuple):
    """A mean over seeds with its Student-*t* interval."""

    mean: float  #: sample mean
    low: float  #: lower end of the interval
    high: float  #: upper end of the interval
    sd: float  #: sample standard deviation (ddof = 1)
    n: int  #: number of values

    def __str__(self) -> str:
        # three significant digits, trailing zeros kept ("1.40 [0.90, 2.10]")
        return f"{self.mean:#.3g} [{self.low:#.3g}, {self.high:#.3g}]"


def mean_interval(values, *, level: float = 0.95) -> Interval:
    r"""Mean of ``values`` (one per seed) and its interval :math:`\bar v \pm t_{n-1}\, s/\sqrt n`.

    Computed in units of :math:`\max|v|` (no overflow of the sum or the squares for values up to the
    largest float); an interval whose ends do not fit in float64 raises a ``ValueError``."""
    from scipy.stats import t as student_t

    v = _as_array(values, "values")
    if v.size < 2:
        raise ValueError(f"values needs at least 2 entries for an interval, got {v.size}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    level = _check_level(level)
    # in units of the largest magnitude: the sum and the squares of values near 1e308 stay in range
    top = float(np.abs(v).max())
    if top == 0:
        return Interval(0.0, 0.0, 0.0, 0.0, int(v.size))
    scale = math.ldexp(1.0, math.frexp(top)[1] - 1)  # a power of two: the scaling itself is exact
    u = v / scale
    mu, su = float(u.mean()), float(u.std(ddof=1))
    hu = float(student_t.ppf((1 + level) / 2, v.size - 1)) * su / np.sqrt(v.size)
    with np.errstate(over="ignore"):
        m, sd, low, high = (float(np.float64(a) * scale) for a in (mu, su, mu - hu, mu + hu))
    if not all(np.isfinite([m, sd, low, high])):
        raise ValueError(
            f"the interval of values overflows float64 (mean {mu:.4g} x {scale:.4g}, half-width {hu:.4g} x {scale:.4g}): "
            "rescale values"
        )
    return Interval(m, low, high, sd, int(v.size))


def paired_interval(a, b, *, level: float = 0.95) -> Interval:
    r"""Paired difference ``a - b`` over seeds (same seed, same data split for both models):
    the mean difference and its Student-*t* interval. An interval containing 0 leaves the comparison
    unresolved, which is not a tie: the difference may be real but too small for this many seeds."""
    av = _as_array(a, "a")
    bv = _as_array(b, "b")
    if av.shape != bv.shape:
        raise ValueError(f"a and b must have the same length (paired seeds), got {av.size} and {bv.size}")
    return mean_interval(av - bv, level=level)


def geometric_interval(values, *, level: float = 0.95) -> Interval:
    r"""Positive values, one per seed: the geometric mean :math:`e^{\bar\ell}` with the Student-*t* interval
    of the mean :math:`\bar\ell` of their logarithms, mapped back by :math:`e^{(\cdot)}`.

    For errors, losses and ratios, whose spread is multiplicative: the interval stays positive where
    :func:`mean_interval` on a few seeds can reach below zero. ``sd`` and ``n`` are those of the
    logarithms."""
    v = _as_array(values, "values")
    if not bool((v > 0).all()):
        raise ValueError("values must all be positive (a geometric interval is taken on their logarithms)")
    li = mean_interval(np.log(v), level=level)
    return Interval(math.exp(li.mean), math.exp(li.low), math.exp(li.high), li.sd, li.n)


def ratio_interval(a, b, *, level: float = 0.95) -> Interval:
    """Paired ratio ``a / b`` over seeds (same seed for both): :func:`geometric_interval` of the ratios,
    i.e. the interval of the mean log difference. An interval containing 1 leaves the comparison unresolved."""
    av = _as_array(a, "a")
    bv = _as_array(b, "b")
    if av.shape != bv.shape:
        raise ValueError(f"a and b must have the same length (paired seeds), got {av.size} and {bv.size}")
    if not bool((av > 0).all() and (bv > 0).all()):
        raise ValueError("a and b must be positive (a ratio interval is taken on their logarithms)")
    return geometric_interval(av / bv, level=level)
