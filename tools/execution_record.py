"""What a chapter ran on: recorded in the notebook's metadata when it is executed at book scale.

``record(nb, seconds)`` stores ``metadata["ntk_execution"]`` (seconds, scale, device, Python, torch
and numpy versions). ``tools/build_book.py --execute`` and ``tools/execute_notebooks.py`` call it;
the book's execution page (``book/_ext/execution_table.py``) reads it from the notebooks it renders,
so the committed render (``make test``) shows the committed run and ``make book`` the fresh one.
"""

from __future__ import annotations

import os
import platform

KEY = "ntk_execution"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_device() -> str:
    """The device a chapter's ``DEVICE = "auto"`` resolves to here (``NTK_DEVICE`` honoured)."""
    import torch

    from ntk_lib.device import resolve_device

    dev = resolve_device(os.environ.get("NTK_DEVICE", "auto"))
    if dev.type == "cuda":
        return f"CUDA GPU ({torch.cuda.get_device_name(dev)})"
    if dev.type == "mps":
        return "Apple MPS"
    return f"CPU ({os.cpu_count()} cores, {_cpu_name()})"


def record(nb, seconds: float, scale: str = "book") -> dict:
    import numpy
    import torch

    info = {
        "seconds": round(float(seconds), 1),
        "scale": scale,
        "device": describe_device(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
    }
    nb.metadata[KEY] = info
    return info
