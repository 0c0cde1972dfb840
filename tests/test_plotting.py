"""ntk_lib.plotting: log-axis tick labels that never overlap, and the unlabeled-axis check."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import pytest  # noqa: E402

from ntk_lib.plotting import SparseLogFormatter, unlabeled_axes, use_style  # noqa: E402

# narrow panels (three to a page-wide figure) over log ranges from under a decade to a few decades
RANGES = [(150, 900), (120, 2000), (300, 800), (2e-3, 9e-3), (64, 2048), (1.5, 40)]


def _overlaps(ax, axis: str) -> list[tuple[str, str]]:
    fig = ax.figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    get = ax.get_xticklabels if axis == "x" else ax.get_yticklabels
    lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
    ticks = ax.xaxis if axis == "x" else ax.yaxis
    locs = list(ticks.get_majorticklocs()) + list(ticks.get_minorticklocs())
    labels = get(minor=False) + get(minor=True)
    boxes = [
        (lab.get_window_extent(r), lab.get_text())
        for loc, lab in zip(locs, labels)
        if lab.get_text() and lab.get_visible() and min(lo, hi) <= loc <= max(lo, hi)
    ]
    boxes.sort(key=lambda b: b[0].x0 if axis == "x" else b[0].y0)
    return [
        (a[1], b[1])
        for a, b in zip(boxes, boxes[1:])
        if (a[0].x1 > b[0].x0 if axis == "x" else a[0].y1 > b[0].y0)
    ]


def _panels():
    fig, axes = plt.subplots(1, 3, figsize=(6.4, 2.6))
    return fig, axes


@pytest.fixture(autouse=True)
def _style():
    with matplotlib.rc_context():
        use_style()
        yield
    plt.close("all")


@pytest.mark.parametrize("lo,hi", RANGES)
def test_log_tick_labels_do_not_overlap(lo, hi):
    fig, axes = _panels()
    ax = axes[0]
    ax.plot([lo, hi], [lo, hi])
    ax.set_xscale("log")
    ax.set_yscale("log")
    assert isinstance(ax.xaxis.get_minor_formatter(), SparseLogFormatter)
    assert not _overlaps(ax, "x"), _overlaps(ax, "x")
    assert not _overlaps(ax, "y")


def test_matplotlib_default_overlaps_where_the_style_does_not():
    # the check above can fail: matplotlib's own minor labels run together on a narrow panel
    found = False
    for lo, hi in RANGES:
        fig, axes = _panels()
        ax = axes[0]
        ax.plot([lo, hi], [1, 2])
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(mticker.LogFormatterSciNotation(labelOnlyBase=False))
        found |= bool(_overlaps(ax, "x"))
        plt.close(fig)
    assert found


def test_sparse_minor_labels_are_two_and_five():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([150, 900], [1, 2])
    ax.set_xscale("log")
    fig.canvas.draw()
    lo, hi = ax.get_xlim()
    locs = ax.xaxis.get_minorticklocs()
    minor = [t.get_text() for x, t in zip(locs, ax.get_xticklabels(minor=True)) if t.get_text() and lo <= x <= hi]
    assert minor == [r"$\mathdefault{2\times10^{2}}$", r"$\mathdefault{5\times10^{2}}$"]


def test_unlabeled_axes_names_each_missing_label():
    fig, axes = plt.subplots(1, 3, sharey=True)
    axes[0].set_ylabel("loss")  # shared: labels the y axis of all three panels
    axes[0].set_xlabel("step")
    axes[1].set_xlabel("width")
    axes[2].set_title("kernel")
    im = axes[2].imshow([[0, 1], [1, 0]])
    fig.colorbar(im, ax=axes[2])
    assert unlabeled_axes(fig) == ["panel 3 ('kernel'): x axis", "colorbar"]
    axes[2].set_xlabel("input")
    fig.axes[-1].set_ylabel("value")
    assert unlabeled_axes(fig) == []


def test_unlabeled_axes_skips_axes_switched_off():
    fig, ax = plt.subplots()
    ax.imshow([[0, 1], [1, 0]])
    ax.axis("off")
    assert unlabeled_axes(fig) == []
