"""One figure style for the whole course, and a check that a figure says what it shows.

``use_style()`` (called by :func:`ntk_lib.notebook.setup`) sets fonts sized for a figure shown at
the width of a book page, constrained layout, and log axes whose minor tick labels cannot run
together: on an axis spanning about a decade matplotlib labels 2, 3, 4 and 6 times a power of
ten ("2×10² 3×10² …"), which overlap on a narrow panel; here only as many as the panel has room for.

``unlabeled_axes(fig)`` lists every axis and colorbar of a figure that has no label.
"""

from __future__ import annotations

import math
import warnings

import matplotlib as mpl
import matplotlib.scale as mscale
import matplotlib.ticker as mticker
from matplotlib.font_manager import FontProperties

__all__ = ["use_style", "unlabeled_axes", "COLORS"]

#: network, flow with the empirical kernel, flow with the analytic kernel, data, extra
COLORS = {"net": "#1f77b4", "emp": "#ff7f0e", "inf": "#2ca02c", "data": "#222222", "extra": "#9467bd"}

#: minor-label sets on a short log axis (multiples of a power of ten), richest first, with the
#: smallest gap between neighbouring labels in decades; the richest that fits the panel is used
MINOR_LABEL_SETS = (({1.0, 2.0, 5.0}, math.log10(2)), ({1.0, 3.0}, math.log10(3)), ({1.0}, 1.0))


class SparseLogFormatter(mticker.LogFormatterSciNotation):
    """Minor log-axis labels only where they fit: 2 and 5, or 3, times a power of ten, or none.

    Applies where matplotlib labels a subset of the minor ticks (about a decade in view); the set is
    chosen from the panel's size in pixels, so a narrow panel gets fewer labels than a wide one.
    """

    def set_locs(self, locs=None):
        super().set_locs(locs)
        sub = getattr(self, "_sublabels", None)
        if self._base != 10 or sub is None or not 1 < len(sub) < 10 or self.axis is None:
            return
        lo, hi = sorted(self.axis.get_view_interval())
        ax = self.axis.axes
        horizontal = self.axis.axis_name == "x"
        pixels = ax.bbox.width if horizontal else ax.bbox.height
        if lo <= 0 or pixels <= 0:
            return
        size = FontProperties(size=mpl.rcParams["xtick.labelsize" if horizontal else "ytick.labelsize"])
        font_px = size.get_size_in_points() * ax.figure.dpi / 72
        # "2×10²" is about 4.5 font sizes wide; stacked on a y axis, labels need 1.5 font sizes
        need = font_px * (4.5 if horizontal else 1.5)
        per_decade = pixels / math.log10(hi / lo)
        self._sublabels = next((labels for labels, gap in MINOR_LABEL_SETS if gap * per_decade >= need), {1.0})


class TidyLogScale(mscale.LogScale):
    """matplotlib's ``"log"`` scale with :class:`SparseLogFormatter` for its minor tick labels."""

    def set_default_locators_and_formatters(self, axis):
        super().set_default_locators_and_formatters(axis)
        axis.set_minor_formatter(SparseLogFormatter(self.base, labelOnlyBase=(self.subs is not None)))


def use_style() -> None:
    """Readable defaults at page width: fonts, light grid, no top/right spines, constrained layout, fixed dpi."""
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.8),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.constrained_layout.use": True,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 11,
            "axes.titlesize": 11.5,
            "axes.labelsize": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 9.5,
            "legend.frameon": False,
        }
    )
    # replaces the "log" scale for every axis created from now on (set_xscale("log"), loglog);
    # matplotlib >= 3.11 notes that LogScale's constructor still takes ``axis``: not ours to change
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        mscale.register_scale(TidyLogScale)


def _colorbar_of(ax):
    return getattr(ax, "_colorbar", None)


def _has_label(ax, which: str) -> bool:
    """Whether this axis, or an axis it shares (``sharex``/``sharey``), carries a label."""
    group = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    siblings = group.get_siblings(ax) if hasattr(group, "get_siblings") else [ax]
    get = "get_xlabel" if which == "x" else "get_ylabel"
    return any(getattr(a, get)().strip() for a in siblings)


def unlabeled_axes(fig) -> list[str]:
    """Every visible axis and colorbar of ``fig`` without a label, e.g. ``["panel 2: y axis"]``.

    Axes switched off (images shown with ``axis("off")``) are skipped; an axis shared with a
    labelled one (``sharex=True`` panels) counts as labelled.
    """
    problems = []
    panels = [ax for ax in fig.axes if _colorbar_of(ax) is None]
    for i, ax in enumerate(panels, 1):
        if not ax.axison or not ax.get_visible():
            continue
        name = f"panel {i}" + (f" ({ax.get_title()!r})" if ax.get_title() else "")
        for which in ("x", "y"):
            axis = ax.xaxis if which == "x" else ax.yaxis
            if axis.get_visible() and not _has_label(ax, which):
                problems.append(f"{name}: {which} axis")
    for ax in fig.axes:
        cb = _colorbar_of(ax)
        if cb is not None and ax.get_visible():
            long_axis = ax.yaxis if cb.orientation == "vertical" else ax.xaxis
            if not long_axis.get_label().get_text().strip():
                problems.append("colorbar")
    return problems
