"""Each chapter's .ipynb and its py:percent twin hold the same cells, and the chapter follows
the course's conventions (Colab cell, parameters, GPU metadata, committed book-scale outputs)."""

import re

import jupytext
import nbformat
import pytest
import yaml

from .conftest import NOTEBOOKS, ROOT


def cells(nb):
    return [(c.cell_type, c.source.strip(), tuple(sorted(c.metadata.get("tags", [])))) for c in nb.cells]


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_twin_has_same_cells(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{twin.name} (py:percent twin) is missing"
    a = cells(nbformat.read(path, as_version=4))
    b = cells(jupytext.read(twin))
    assert len(a) == len(b), f"{path.name} has {len(a)} cells, its twin {len(b)}"
    for i, (ca, cb) in enumerate(zip(a, b)):
        assert ca == cb, f"cell {i} differs between {path.name} and {twin.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_conventions(path):
    nb = nbformat.read(path, as_version=4)
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = cfg["repository"]["url"].rstrip("/")
    first = nb.cells[0]
    assert "remove-cell" in first.metadata.get("tags", []), "first cell must be tagged remove-cell"
    assert "google.colab" in first.source and f"git+{url}@{cfg['repository']['branch']}" in first.source, (
        "the Colab install cell must install from _config.yml's repository (run tools/sync_repo_url.py)"
    )
    assert not re.search(r"torch[=<>]|numpy[=<>]", first.source), "the Colab cell must not pin torch or numpy"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged parameters"
    src = params[0].source
    for name in ("SCALE", "SEED", "DEVICE"):
        assert re.search(rf"^{name}\s*=", src, re.M), f"parameters cell must set {name}"
    assert re.search(r'^SCALE\s*=\s*"book"', src, re.M), "committed notebooks hold a book-scale run"
    assert nb.metadata.get("accelerator") == "GPU"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "commit the notebook executed (make execute-committed)"
    for c in code:
        for out in c.get("outputs", []):
            assert out.get("output_type") != "error", f"committed notebook has an error output: {c.source[:60]}"
            assert out.get("name") != "stderr", f"committed output has stderr (warnings?): {out.get('text', '')[:120]}"
            text = out.get("text", "") + "".join(v for k, v in out.get("data", {}).items() if k.startswith("text/"))
            assert not re.search(r"(/home/|/[r]oot/|/[w]ork/|/tmp/|[A-Z]:\\Users)", text), "machine path in an output"


def test_toc_lists_exactly_the_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    listed = sorted(f for f in files if f.startswith("notebooks/"))
    assert listed == [f"notebooks/{p.stem}" for p in NOTEBOOKS]
