"""The repository URL lives in _config.yml only; this writes each chapter's Colab install cell from it.

    python tools/sync_repo_url.py          # rewrite the install cell of every chapter and its twin

The install cell is generated whole (``install_cell_source``): on Colab it installs the course
library from that URL, and if pip fails it prints pip's last lines and says which URL to change,
instead of a traceback. The notebook tests fail when a chapter's install cell is not this one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
INSTALL_MARK = "# colab-install"

INSTALL_CELL = '''\
# colab-install: on Colab, install the course library (URL set once, in _config.yml).
import sys

if "google.colab" in sys.modules:
    import subprocess

    NTK_LIB = "{spec}"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", NTK_LIB], capture_output=True, text=True)
    if pip.returncode != 0:
        print("\\n".join(pip.stderr.strip().splitlines()[-5:]))
        raise SystemExit(
            f"Could not install the course library from {{NTK_LIB.split(' @ ', 1)[1]}}. If the course lives "
            "elsewhere, put its repository URL in place of that one in this cell (authors: repository.url "
            "in _config.yml, then make sync-url) and run the cell again."
        )'''


def repository_spec() -> str:
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = cfg["repository"]
    return f"ntk_lib @ git+{repo['url'].rstrip('/')}@{repo.get('branch', 'main')}"


def install_cell_source(spec: str | None = None) -> str:
    """The Colab install cell installing ``spec`` (default: _config.yml's repository and branch)."""
    return INSTALL_CELL.format(spec=spec or repository_spec())


def apply_install_url(nb) -> bool:
    """Make the notebook's first cell (marked ``# colab-install``) the install cell; True if it changed."""
    first = nb.cells[0]
    if INSTALL_MARK not in first.source:
        raise SystemExit("the first cell of every chapter must be the Colab install cell (# colab-install)")
    new = install_cell_source()
    changed = first.source != new
    first.source = new
    return changed


def main() -> int:
    for ipynb in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        twin = ipynb.with_suffix(".py")
        nb = nbformat.read(ipynb, as_version=4)
        if apply_install_url(nb):
            nbformat.write(nb, ipynb)
            print(f"updated {ipynb.name}")
        tw = jupytext.read(twin)
        if apply_install_url(tw):
            jupytext.write(tw, twin, fmt="py:percent")
            print(f"updated {twin.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
