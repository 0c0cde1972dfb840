"""What every chapter does first: check its parameters, seed, pick a device, set the style.

Also ``glue``, which records a value for the book (myst-nb) and simply displays it where
myst-nb is not installed (e.g. on Colab).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch

from .device import resolve_device, seed_everything
from .plotting import unlabeled_axes, use_style

__all__ = ["Run", "setup", "glue", "SCALES", "REPRODUCIBLE_ENV", "reproducible_environment"]

SCALES = ("smoke", "book", "paper")

#: Environment under which chapters are executed for the book and re-executed by the regression tests.
#: Progress bars off (their text is not output), fixed hash seed, two CPU threads (a parallel sum is
#: split by thread), and the CPU kernels pinned to their AVX2 versions (PyTorch's vectorized kernels
#: and MKL's conditional numerical reproducibility mode): without the pin, an AVX-512 CPU and an AVX2
#: CPU sum float32 products in different orders, and a chapter's printed digits depend on the machine
#: that ran it. Must be set before torch is imported, i.e. in the environment of the kernel that runs
#: the chapter.
REPRODUCIBLE_ENV = {
    "NTK_PROGRESS": "0",
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "2",
    "MKL_NUM_THREADS": "2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_CBWR": "AVX2",
}


def reproducible_environment(env=None) -> dict:
    """Set :data:`REPRODUCIBLE_ENV` in ``env`` (default ``os.environ``), overriding what is there (a
    shell's ``OMP_NUM_THREADS=1`` would change the committed digits); return ``env``."""
    env = os.environ if env is None else env
    env.update(REPRODUCIBLE_ENV)
    return env
#: a file path: every figure the notebook displays is checked for unlabeled axes, findings appended there
FIGURE_CHECK_ENV = "NTK_CHECK_FIGURES"


@dataclass(frozen=True)
class Run:
    scale: str
    seed: int
    device: torch.device

    def pick(self, choices: dict[str, Any]) -> Any:
        """The value for this run's scale from ``{"smoke": ..., "book": ..., "paper": ...}``."""
        missing = [s for s in SCALES if s not in choices]
        if missing:
            raise ValueError(f"choices must give a value for every scale, missing {missing}")
        return choices[self.scale]


def setup(scale: str = "book", seed: int = 0, device="auto") -> Run:
    """Validate the chapter parameters, seed every RNG, resolve the device, set the plot style."""
    if scale not in SCALES:
        raise ValueError(f"SCALE must be one of {SCALES}, got {scale!r}")
    seed_everything(seed)
    use_style()
    if os.environ.get(FIGURE_CHECK_ENV):
        _check_figures(os.environ[FIGURE_CHECK_ENV])
    torch.set_default_dtype(torch.float32)
    return Run(scale, int(seed), resolve_device(device))


def _rounded(value, digits: int):
    import numbers

    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        return float(f"{float(value):.{digits}g}")
    return value


def glue(name: str, value, display: bool = False, digits: int = 6):
    """myst-nb's ``glue`` when available (the book build), else show the value (Colab).

    Real numbers are rounded to ``digits`` significant digits first: the prose shows a few digits,
    and the stored output must not change with the last bits of a floating-point reduction, or
    the nbval regression of the committed notebook would fail for no reason.
    """
    value = _rounded(value, digits)
    try:
        from myst_nb import glue as _glue
    except ImportError:  # pragma: no cover - depends on the environment
        if display:
            print(f"{name} = {value}")
        return value
    _glue(name, value, display=display)
    return value


def _check_figures(path: str) -> None:
    """Append ``cell N: <unlabeled axes>`` to ``path`` for each figure this kernel displays with one.

    Used by the smoke-scale test of every chapter; outside IPython it does nothing.
    """
    try:
        from IPython import get_ipython
        from matplotlib import pyplot as plt
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        return
    ip = get_ipython()
    if ip is None:
        return
    # the inline backend installs its figure printer when first used: make that happen before wrapping it
    plt.close(plt.figure())
    png = ip.display_formatter.formatters["image/png"]
    inner = png.for_type(Figure)
    if inner is None or getattr(inner, "_ntk_checked", False):
        return

    def checked(fig, *args, **kwargs):
        problems = unlabeled_axes(fig)
        if problems:
            with open(path, "a") as f:
                f.write(f"cell {ip.execution_count}: {'; '.join(problems)}\n")
        return inner(fig, *args, **kwargs)

    checked._ntk_checked = True
    png.for_type(Figure, checked)
