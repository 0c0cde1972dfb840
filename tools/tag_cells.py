"""Fold import and configuration cells in the HTML: tag them ``hide-input`` (idempotent).

    python tools/tag_cells.py            # tag every chapter and its twin in place
    python tools/tag_cells.py --check    # exit 1 if a chapter lacks a tag it should have

A code cell is an import/configuration cell when it imports something, at least half of its
top-level statements are imports, and it holds no loop, branch, function or class: the cell after
the parameters cell in every chapter (imports, ``setup(...)``, the scale dictionary). The
parameters cell and the Colab install cell are never touched; their outputs (e.g. the printed
scale) stay visible, only the code is folded.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
TAG = "hide-input"
_KEEP_VISIBLE = {"parameters", "remove-cell", "remove-input", "hide-cell", TAG}
_SIMPLE = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)


def is_setup_cell(cell) -> bool:
    if cell.cell_type != "code" or _KEEP_VISIBLE & set(cell.metadata.get("tags", [])):
        return False
    try:
        body = ast.parse(cell.source).body
    except SyntaxError:  # IPython magics: leave the cell as it is
        return False
    imports = sum(isinstance(s, (ast.Import, ast.ImportFrom)) for s in body)
    return imports > 0 and 2 * imports >= len(body) and all(isinstance(s, _SIMPLE) for s in body)


def tag(nb) -> list[int]:
    """Add ``hide-input`` to every import/configuration cell; returns the indices of the cells changed."""
    changed = []
    for i, cell in enumerate(nb.cells):
        if is_setup_cell(cell):
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), TAG]
            changed.append(i)
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    missing = []
    for ipynb in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        twin = ipynb.with_suffix(".py")
        for path, reader, writer in (
            (ipynb, lambda p: nbformat.read(p, as_version=4), nbformat.write),
            (twin, jupytext.read, lambda nb, p: jupytext.write(nb, p, fmt="py:percent")),
        ):
            nb = reader(path)
            cells = tag(nb)
            if cells and check:
                missing.append(f"{path.name}: cells {cells}")
            elif cells:
                writer(nb, path)
                print(f"{path.name}: tagged cells {cells} {TAG}")
    if missing:
        print("import/configuration cells without hide-input (run python tools/tag_cells.py):", *missing, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
