r"""Power-law fits and intervals over seeds.

* :func:`loglog_slope`: the least-squares slope :math:`a` of :math:`\log y = a \log x + c`.
* :func:`slope_interval`: the same slope for measurements repeated over seeds, with a 95 %
  bootstrap interval that resamples whole seeds (the unit that is independent).
* :func:`mean_interval` and :func:`paired_interval`: a mean over seeds, or a paired difference
  between two models run on the same seeds, with its Student-*t* 95 % interval.

Every chapter that fits an exponent or compares two models uses these, so that every number the
book quotes carries the same kind of interval.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ._validate import as_tensor, check_int

__all__ = ["loglog_slope", "SlopeFit", "slope_interval", "Interval", "mean_interval", "paired_interval"]


def _as_array(values, name: str) -> np.ndarray:
    """A float64 numpy copy of ``values`` (tensors on any device, lists, arrays)."""
    # one dtype rule for the library (bool/complex/strings refused), then host memory for numpy
    return as_tensor(values, name, dtype=torch.float64, allow_empty=True).cpu().numpy()


def _check_level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not (0.0 < float(level) < 1.0):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    return float(level)


def loglog_slope(x, y) -> tuple[float, float]:
    """Least-squares slope and intercept of ``log(y)`` against ``log(x)``.

    Both arrays must be 1-D, of equal length >= 2, finite and strictly positive.
    """
    xa = _as_array(x, "x").reshape(-1)
    ya = _as_array(y, "y").reshape(-1)
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
    """A fitted exponent with its bootstrap interval over seeds."""

    slope: float  #: slope of the seed-averaged :math:`\log y` against :math:`\log x`
    low: float  #: lower end of the interval
    high: float  #: upper end of the interval
    intercept: float  #: intercept of the same fit
    n_seeds: int  #: number of seeds (rows of ``y``)

    def __str__(self) -> str:
        return f"{self.slope:.2f} [{self.low:.2f}, {self.high:.2f}]"


def slope_interval(x, y, *, level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> SlopeFit:
    r"""Exponent :math:`a` of :math:`y \propto x^a` from repeated runs, with a bootstrap interval.

    ``y`` is ``[seeds, len(x)]``: row ``s`` holds one seed's measurement at every ``x`` (the same
    seed at every ``x``, so rows are the independent units). The point estimate fits
    :math:`\overline{\log y}` (the mean over seeds of :math:`\log y`, a geometric mean) against
    :math:`\log x` by least squares; the interval is the percentile interval of the same fit over
    ``n_boot`` resamplings of whole rows with replacement (Efron & Tibshirani 1993, ch. 13).
    With few seeds the percentile interval is narrow-biased; the chapters use at least 3 seeds and
    say how many.
    """
    xa = _as_array(x, "x").reshape(-1)
    ya = _as_array(y, "y")
    if ya.ndim != 2:
        raise ValueError(f"y must be 2-D [seeds, len(x)], got shape {tuple(ya.shape)}")
    if ya.shape[1] != xa.size:
        raise ValueError(f"y has {ya.shape[1]} columns but x has {xa.size} values")
    if ya.shape[0] < 2:
        raise ValueError(f"y needs at least 2 seeds (rows) for an interval, got {ya.shape[0]}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise ValueError(f"n_boot must be an integer >= 100, got {n_boot!r}")
    level = _check_level(level)
    for name, arr in (("x", xa), ("y", ya)):
        if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ValueError(f"{name} must be finite and > 0 for a log-log fit")
    lx = np.log(xa)
    if np.ptp(lx) == 0:
        raise ValueError("x must hold at least two distinct values")
    ly = np.log(ya)
    # least squares against a fixed design: slope = w . mean(log y) with w = centered log x / ss
    w = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    slope = float(w @ ly.mean(axis=0))
    intercept = float(ly.mean() - slope * lx.mean())
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    idx = rng.integers(0, ya.shape[0], size=(n_boot, ya.shape[0]))
    boot = ly[idx].mean(axis=1) @ w
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return SlopeFit(slope, float(lo), float(hi), intercept, int(ya.shape[0]))


class Interval(NamedTuple):
    """A mean over seeds with its Student-*t* interval."""

    mean: float  #: sample mean
    low: float  #: lower end of the interval
    high: float  #: upper end of the interval
    sd: float  #: sample standard deviation (ddof = 1)
    n: int  #: number of values

    def __str__(self) -> str:
        return f"{self.mean:.3g} [{self.low:.3g}, {self.high:.3g}]"


def mean_interval(values, *, level: float = 0.95) -> Interval:
    r"""Mean of ``values`` (one per seed) and its interval :math:`\bar v \pm t_{n-1}\, s/\sqrt n`."""
    from scipy.stats import t as student_t

    v = _as_array(values, "values").reshape(-1)
    if v.size < 2:
        raise ValueError(f"values needs at least 2 entries for an interval, got {v.size}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    level = _check_level(level)
    m, sd = float(v.mean()), float(v.std(ddof=1))
    half = float(student_t.ppf((1 + level) / 2, v.size - 1)) * sd / np.sqrt(v.size)
    return Interval(m, m - half, m + half, sd, int(v.size))


def paired_interval(a, b, *, level: float = 0.95) -> Interval:
    r"""Paired difference ``a - b`` over seeds (same seed, same data split for both models):
    the mean difference and its Student-*t* interval. An interval containing 0 is a tie."""
    av = _as_array(a, "a").reshape(-1)
    bv = _as_array(b, "b").reshape(-1)
    if av.shape != bv.shape:
        raise ValueError(f"a and b must have the same length (paired seeds), got {av.size} and {bv.size}")
    return mean_interval(av - bv, level=level)
