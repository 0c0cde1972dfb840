"""Fill the execution page with what each chapter ran on, read from the notebooks at build time.

Every executed chapter carries ``metadata["ntk_execution"]`` (written by ``tools/execution_record.py``
when it is executed at book scale). The page ``book/execution.md`` holds the marker
``<!-- execution-table -->``, replaced here by a table of the notebooks listed in the table of
contents, so the page always describes the outputs the reader is looking at.
"""

from __future__ import annotations

import json
from pathlib import Path

from sphinx.application import Sphinx

MARKER = "<!-- execution-table -->"
KEY = "ntk_execution"
DOCNAME = "book/execution"


def _title(nb: dict) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for line in src.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "?"


def _fmt_seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{int(s // 60)} min {s % 60:02.0f} s"


def table(srcdir: Path, docnames: list[str]) -> str:
    rows = [
        "| chapter | time at book scale | device | Python | torch | numpy |",
        "|---|---|---|---|---|---|",
    ]
    total = 0.0
    for doc in docnames:
        path = srcdir / f"{doc}.ipynb"
        nb = json.loads(path.read_text())
        info = nb.get("metadata", {}).get(KEY)
        # a Markdown link, not {doc}: its text keeps the title's math ($...$) for MathJax
        link = f"[{_title(nb)}](/{doc}.ipynb)"
        if info is None:
            rows.append(f"| {link} | not recorded | | | | |")
            continue
        total += info["seconds"]
        rows.append(
            f"| {link} | {_fmt_seconds(info['seconds'])} | {info['device']} | {info['python']} "
            f"| {info['torch']} | {info['numpy']} |"
        )
    rows.append(f"| **all chapters** | **{_fmt_seconds(total)}** | | | | |")
    return "\n".join(rows)


def _fill(app: Sphinx, docname: str, source: list[str]) -> None:
    if docname != DOCNAME or MARKER not in source[0]:
        return
    srcdir = Path(app.srcdir)
    notebooks = sorted(d for d in app.env.found_docs if (srcdir / f"{d}.ipynb").is_file())
    source[0] = source[0].replace(MARKER, table(srcdir, notebooks))


def _always_reread(app, env, added, changed, removed) -> list[str]:
    # the page depends on the notebooks' metadata, which Sphinx does not track
    return [DOCNAME] if DOCNAME in env.found_docs else []


def setup(app: Sphinx) -> dict:
    app.connect("source-read", _fill)
    app.connect("env-get-outdated", _always_reread)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
