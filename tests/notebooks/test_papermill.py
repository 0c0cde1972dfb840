"""papermill runs every chapter at smoke scale into _build/ (never over the committed notebook).

Every figure a chapter displays is checked on the way (``NTK_CHECK_FIGURES``): each axis and
colorbar must carry a label.
"""

import os

import papermill as pm
import pytest

from .conftest import NOTEBOOKS, ROOT


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_runs_at_smoke_scale(path):
    out_dir = ROOT / "_build" / "papermill"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / path.name
    os.environ.setdefault("NTK_PROGRESS", "0")
    figures = out_dir / f"{path.stem}.unlabeled.txt"
    figures.unlink(missing_ok=True)
    os.environ["NTK_CHECK_FIGURES"] = str(figures)
    nb = pm.execute_notebook(
        str(path),
        str(out),
        parameters={"SCALE": "smoke"},
        cwd=str(path.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    unlabeled = figures.read_text() if figures.exists() else ""
    assert not unlabeled, f"figures with unlabeled axes or colorbars (ntk_lib.plotting.unlabeled_axes):\n{unlabeled}"
