"""The execution page's table is built from what each chapter recorded when it was executed."""

import sys

import nbformat

from tests.notebooks.conftest import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))
from execution_record import KEY, record  # noqa: E402
from execution_table import table  # noqa: E402


def _chapter(path, title, seconds=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\ntext"), nbformat.v4.new_code_cell("1 + 1")]
    if seconds is not None:
        record(nb, seconds)
    nbformat.write(nb, path)
    return nb


def test_record_holds_time_device_and_versions():
    import numpy
    import torch

    nb = nbformat.v4.new_notebook()
    info = record(nb, 12.34)
    assert nb.metadata[KEY] == info
    assert info["seconds"] == 12.3 and info["scale"] == "book"
    assert info["torch"] == torch.__version__ and info["numpy"] == numpy.__version__
    assert info["device"].startswith(("CPU", "CUDA", "Apple"))


def test_table_lists_each_chapter_and_the_total(tmp_path):
    (tmp_path / "notebooks").mkdir()
    a = _chapter(tmp_path / "notebooks" / "01_a.ipynb", "1. First", seconds=40.0)
    _chapter(tmp_path / "notebooks" / "02_b.ipynb", "2. Second", seconds=100.0)
    _chapter(tmp_path / "notebooks" / "03_c.ipynb", "3. Third")
    rows = table(tmp_path, ["notebooks/01_a", "notebooks/02_b", "notebooks/03_c"]).splitlines()
    assert len(rows) == 2 + 3 + 1
    info = a.metadata[KEY]
    assert rows[2] == (
        f"| [1. First](/notebooks/01_a.ipynb) | 40 s | {info['device']} | {info['python']} "
        f"| {info['torch']} | {info['numpy']} |"
    )
    assert "| 1 min 40 s |" in rows[3]
    assert "not recorded" in rows[4]
    assert rows[5].startswith("| **all chapters** | **2 min 20 s** |")
