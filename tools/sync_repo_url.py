"""The repository URL lives in _config.yml only; this writes it into each chapter's Colab cell.

    python tools/sync_repo_url.py          # rewrite the twins' install cells
The notebook tests fail when a chapter's install cell and _config.yml disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
INSTALL_MARK = "# colab-install"
_SPEC = re.compile(r'"ntk_lib @ git\+[^"]*"')


def repository_spec() -> str:
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = cfg["repository"]
    return f'"ntk_lib @ git+{repo["url"].rstrip("/")}@{repo.get("branch", "main")}"'


def apply_install_url(nb) -> None:
    """Point the notebook's install cell (first cell, marked ``# colab-install``) at _config.yml's URL."""
    first = nb.cells[0]
    if INSTALL_MARK not in first.source:
        raise SystemExit("the first cell of every chapter must be the Colab install cell (# colab-install)")
    first.source = _SPEC.sub(repository_spec(), first.source)


def main() -> int:
    spec = repository_spec()
    for twin in sorted((ROOT / "notebooks").glob("[0-9]*.py")):
        text = twin.read_text()
        new = _SPEC.sub(spec, text)
        if new != text:
            twin.write_text(new)
            print(f"updated {twin.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
