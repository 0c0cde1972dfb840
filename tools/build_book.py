"""Render the book into _build/ without touching tracked files.

    python tools/build_book.py --execute     # make book: run every chapter afresh (book scale)
    python tools/build_book.py --committed   # make test: render the committed outputs

Both copy the book sources into a staging folder under _build/ and build from there with
warnings as errors (-W -n --keep-going). With --execute the staged notebooks are executed by
papermill first, so the HTML can never show outputs older than the code: there is no
jupyter-cache, whose keys cover cell sources but not the library the cells import.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))


def stage(dest: Path) -> list[Path]:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "book", dest / "book")
    (dest / "notebooks").mkdir()
    staged = []
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copy2(nb, dest / "notebooks" / nb.name)
        staged.append(dest / "notebooks" / nb.name)
    return staged


def execute(notebooks: list[Path]) -> None:
    import nbformat
    import papermill as pm
    from execution_record import describe_device, record

    from ntk_lib.notebook import reproducible_environment

    reproducible_environment()  # the kernels papermill starts inherit it
    print(f"executing {len(notebooks)} chapters at book scale on {describe_device()}", flush=True)
    for nb in notebooks:
        t = time.perf_counter()
        print(f"  {nb.name} ...", end=" ", flush=True)
        pm.execute_notebook(
            str(nb),
            str(nb),
            cwd=str(nb.parent),
            kernel_name="python3",
            progress_bar=False,
            request_save_on_cell_execute=False,
        )
        seconds = time.perf_counter() - t
        executed = nbformat.read(nb, as_version=4)
        record(executed, seconds)
        nbformat.write(executed, nb)
        print(f"{seconds:.0f} s", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--execute", action="store_true", help="execute every chapter, then render _build/html")
    mode.add_argument("--committed", action="store_true", help="render the committed outputs (a check)")
    args = ap.parse_args()
    src = ROOT / "_build" / ("stage" if args.execute else "check-stage")
    # jupyter-book writes to <path-output>/_build/html, so the repository root gives _build/html
    out = ROOT if args.execute else ROOT / "_build" / "check"
    notebooks = stage(src)
    if args.execute:
        execute(notebooks)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(src), "--path-output", str(out), "-W", "-n", "--keep-going", "--builder", "html"]
    t = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT)
    if res.returncode == 0:
        print(f"book rendered in {time.perf_counter() - t:.0f} s: {out / '_build' / 'html' / 'index.html'}")
    return res.returncode


if __name__ == "__main__":
    sys.exit(main())
