"""The tools that keep every chapter's page tidy: the Colab install cell and folded setup cells."""

import os
import subprocess
import sys

import nbformat
import pytest

from .conftest import NOTEBOOKS, ROOT

sys.path.insert(0, str(ROOT / "tools"))
from sync_repo_url import install_cell_source, repository_spec  # noqa: E402
from tag_cells import TAG, is_setup_cell, tag  # noqa: E402

# a fake google.colab module makes the cell take its Colab branch
RUN_AS_COLAB = "import sys, types; sys.modules['google.colab'] = types.ModuleType('google.colab'); exec(sys.stdin.read())"


def test_install_cell_says_which_url_to_change(tmp_path):
    missing = f"file://{tmp_path}/no-such-repository"
    src = install_cell_source(f"ntk_lib @ git+{missing}@main")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"}
    res = subprocess.run(
        [sys.executable, "-c", RUN_AS_COLAB], input=src, capture_output=True, text=True, env=env, timeout=300
    )
    out = res.stdout + res.stderr
    assert res.returncode != 0, "a failed install must stop the notebook"
    assert f"Could not install the course library from git+{missing}@main" in out
    assert "put its repository URL in place of that one in this cell" in out and "_config.yml" in out
    assert "Traceback" not in out, f"a traceback instead of the message:\n{out}"


def test_install_cell_does_nothing_off_colab():
    res = subprocess.run([sys.executable, "-c", install_cell_source()], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout == res.stderr == ""


def test_install_cell_uses_the_configured_repository():
    assert f'NTK_LIB = "{repository_spec()}"' in install_cell_source()


def _nb(*sources, tags=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    for cell, t in zip(nb.cells, tags or []):
        if t:
            cell.metadata["tags"] = [t]
    return nb


def test_tag_cells_folds_setup_cells_only():
    nb = _nb(
        'SCALE = "book"\nSEED = 0\nimport os',  # parameters: stays visible
        "import numpy as np\nimport torch\n\nfrom ntk_lib.notebook import setup\n\nrun = setup(SCALE, SEED, DEVICE)\ncfg = run.pick({})",
        "from ntk_lib.fit import loglog_slope\nfor w in widths:\n    print(w)",  # a loop: real work
        "x = compute()\ny = other()\nimport math",  # mostly computation
        "%matplotlib inline\nimport numpy",  # a magic: not parsed, left alone
        "import math",
    )
    nb.cells[0].metadata["tags"] = ["parameters"]
    assert tag(nb) == [1, 5]
    assert nb.cells[1].metadata["tags"] == [TAG]
    assert nb.cells[0].metadata["tags"] == ["parameters"]
    assert tag(nb) == [], "tagging is idempotent"


def test_markdown_cells_are_not_setup_cells():
    assert not is_setup_cell(nbformat.v4.new_markdown_cell("import this"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_is_tidy(path):
    nb = nbformat.read(path, as_version=4)
    fix = "run make tidy-notebooks (tools/sync_repo_url.py and tools/tag_cells.py)"
    assert nb.cells[0].source == install_cell_source(), f"the Colab install cell is not the generated one: {fix}"
    untagged = [i for i, c in enumerate(nb.cells) if is_setup_cell(c)]
    assert not untagged, f"import/configuration cells {untagged} are not folded ({TAG}): {fix}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_records_its_execution(path):
    # the book's execution page is generated from this (tools/execution_record.py)
    info = nbformat.read(path, as_version=4).metadata.get("ntk_execution")
    assert info, "no record of the book-scale run: re-execute with make execute-committed"
    assert info["scale"] == "book" and info["seconds"] > 0
    assert {"device", "python", "torch", "numpy"} <= set(info)


def test_sources_hold_no_control_characters():
    """A backslash escape in a non-raw string ("\\b" of "\\bar", "\\a" of "\\alpha") becomes a control
    character that the page shows as a broken formula; text and code never need one."""
    import re

    bad = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    suffixes = {".py", ".md", ".yml", ".toml", ".txt", ".cfg", ".bib", ".ipynb"}
    files = [p for p in ROOT.rglob("*") if p.suffix in suffixes and p.is_file()]
    files = [p for p in files if not set(p.relative_to(ROOT).parts) & {".venv", "_build", ".git", "node_modules"}]
    offenders = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":
            text = "".join(
                "".join(cell.source) if isinstance(cell.source, list) else cell.source
                for cell in nbformat.reads(text, as_version=4).cells
            )
        for lineno, line in enumerate(text.splitlines(), 1):
            if bad.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()!r}")
    assert len(files) > 50, f"found only {len(files)} files under {ROOT}"
    assert not offenders, "control characters:\n" + "\n".join(offenders[:20])


def test_the_book_build_starts_its_kernels(tmp_path, monkeypatch):
    """``make book`` executes chapters through ``tools/build_book.execute``: its kernel must start with
    the installed kernelspec (a duplicated kernel flag once made every kernel die at start-up) and its
    execution record must be written."""
    import build_book

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "one_cell.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # execute() sets the reproducible environment
    build_book.execute([path])
    out = nbformat.read(path, as_version=4)
    assert out.cells[0].outputs[0]["text"].strip() == "42"
