r"""Power-law fits: the slope :math:`a` of :math:`\log y = a \log x + c` by least squares."""

from __future__ import annotations

import numpy as np

__all__ = ["loglog_slope"]


def loglog_slope(x, y) -> tuple[float, float]:
    """Least-squares slope and intercept of ``log(y)`` against ``log(x)``.

    Both arrays must be 1-D, of equal length >= 2, finite and strictly positive.
    """
    xa = np.asarray(x, dtype=float).reshape(-1)
    ya = np.asarray(y, dtype=float).reshape(-1)
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same length, got {xa.size} and {ya.size}")
    if xa.size < 2:
        raise ValueError("need at least two points to fit a slope")
    for name, arr in (("x", xa), ("y", ya)):
        if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ValueError(f"{name} must be finite and > 0 for a log-log fit")
    slope, intercept = np.polyfit(np.log(xa), np.log(ya), 1)
    return float(slope), float(intercept)
