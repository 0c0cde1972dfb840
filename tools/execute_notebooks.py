"""For authors: rebuild each chapter from its jupytext twin, execute it at book scale, commit-ready.

    python tools/execute_notebooks.py notebooks/01_ntk_ode.ipynb [...]

The ``.py`` twin (py:percent) is the source of truth for cells: its cells replace the notebook's
(with the generated Colab install cell and ``hide-input`` on setup cells, see tools/tag_cells.py),
the notebook is executed in place (nbclient, no timing metadata, progress bars off), and the
twin is rewritten from the result so both files hold exactly the same cells. The run's time,
device and versions go into the notebook's metadata for the book's execution page.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from execution_record import record  # noqa: E402
from sync_repo_url import apply_install_url  # noqa: E402
from tag_cells import tag  # noqa: E402

from ntk_lib.notebook import reproducible_environment  # noqa: E402

NOTEBOOK_METADATA = {
    "accelerator": "GPU",
    "colab": {"provenance": [], "gpuType": "T4"},
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def build(ipynb: Path) -> None:
    twin = ipynb.with_suffix(".py")
    if not twin.exists():
        raise SystemExit(f"{twin} is missing: every chapter needs its py:percent twin")
    nb = jupytext.read(twin)
    apply_install_url(nb)
    tag(nb)
    nb.metadata.update(NOTEBOOK_METADATA)
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    os.environ["NTK_PROGRESS"] = "0"
    os.environ.setdefault("NTK_DEVICE", "cpu")
    reproducible_environment()
    t = time.perf_counter()
    NotebookClient(
        nb,
        timeout=1800,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(ipynb.parent)}},
    ).execute()
    # an error raised while an inline figure is drawn leaves the cell "ok" but an error output behind
    broken = [c.source[:60] for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if broken:
        raise SystemExit(f"{ipynb.name}: error output in cell {broken[0]!r}; nothing written")
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    record(nb, time.perf_counter() - t)
    nbformat.write(nb, ipynb)
    jupytext.write(nb, twin, fmt="py:percent")
    print(f"{ipynb.name}: executed in {time.perf_counter() - t:.0f} s")


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv if not a.startswith("--")]
    for p in paths:
        build(p.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
