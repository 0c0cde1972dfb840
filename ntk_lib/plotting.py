"""One figure style for the whole course."""

from __future__ import annotations

import matplotlib as mpl

__all__ = ["use_style", "COLORS"]

#: network, flow with the empirical kernel, flow with the analytic kernel, data, extra
COLORS = {"net": "#1f77b4", "emp": "#ff7f0e", "inf": "#2ca02c", "data": "#222222", "extra": "#9467bd"}


def use_style() -> None:
    """Readable defaults: moderate size, light grid, no top/right spines, fixed dpi."""
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.8),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 8,
            "legend.frameon": False,
            "font.size": 10,
        }
    )
