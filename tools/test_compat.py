"""Test the supported range, not one pinned environment (``make test-compat``).

    python tools/test_compat.py                  # both environments
    python tools/test_compat.py --env oldest     # one of them
    python tools/test_compat.py --keep           # keep the environments under _build/compat/

Two throwaway virtual environments are built from ``pyproject.toml`` alone:

* **oldest**: the oldest Python of the classifiers (``requires-python``'s floor) with every
  runtime dependency pinned to its declared lower bound (``torch>=2.3.1`` -> ``torch==2.3.1``);
* **newest**: the newest Python of the classifiers with the newest release of everything.

In each, the library is installed the way the Colab cell installs it: ``pip install
"ntk_lib @ git+file://<this checkout>@HEAD"`` (the committed HEAD, not the working tree). Then the
library tests run from a copy of ``tests/`` in an empty folder, so ``import ntk_lib`` can only find
the installed package, and every chapter runs at "smoke" scale with papermill from an empty working
directory. A table (environment x tests x chapters) is printed; the exit status is non-zero if
anything failed. The environments are deleted afterwards unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "_build" / "compat"
# what the test run and the papermill run need on top of the package itself
TEST_TOOLS = ["pytest", "hypothesis", "mpmath", "papermill", "ipykernel"]


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def python_versions() -> list[str]:
    """The ``3.N`` classifiers, oldest first; the oldest must be requires-python's floor."""
    proj = project()
    found = sorted(
        (c.rsplit("::", 1)[1].strip() for c in proj.get("classifiers", []) if re.search(r"Python :: 3\.\d+$", c)),
        key=lambda v: int(v.split(".")[1]),
    )
    floor = re.fullmatch(r">=\s*(3\.\d+)", proj["requires-python"].strip())
    if not found or floor is None or found[0] != floor.group(1):
        raise SystemExit("pyproject.toml: requires-python '>=3.N' must equal the oldest 'Python :: 3.N' classifier")
    return found


def minimum_pins() -> list[str]:
    """Each runtime dependency pinned to its declared lower bound."""
    pins = []
    for dep in project()["dependencies"]:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9.]*)", dep.strip())
        if m is None:
            raise SystemExit(f"pyproject.toml: dependency {dep!r} must read 'name>=version'")
        pins.append(f"{m.group(1)}=={m.group(2)}")
    return pins


def find_python(version: str) -> str:
    """``python3.N`` from PATH, or from pyenv's versions when PATH has only pyenv's shim for it."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)
    for exe in filter(None, candidates):
        probe = subprocess.run([str(exe), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
        if probe.returncode == 0:
            return str(exe)
    raise SystemExit(f"python{version} not found (needed for the compatibility run; pyenv or apt can install it)")


@dataclass
class Result:
    name: str
    python: str = "?"
    versions: str = ""
    tests: str = "not run"
    chapters: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    disk: str = ""
    ok: bool = False


def run(cmd: list[str], log, **kw) -> int:
    log.write(f"\n$ {' '.join(cmd)}\n")
    log.flush()
    return subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, **kw).returncode


def du(path: Path) -> str:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return f"{total / 2**30:.1f} GiB"


def head_commit() -> str:
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def export(commit: str, dest: Path, *paths: str) -> None:
    """``paths`` as they are in ``commit`` (not the work tree), so tests and chapters match the package."""
    archive = subprocess.run(["git", "archive", commit, *paths], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def check_env(name: str, python: str, pins: list[str], keep: bool, commit: str) -> Result:
    res = Result(name)
    t0 = time.perf_counter()
    env = WORK / name
    shutil.rmtree(env, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    log_path = WORK / f"{name}.log"
    py = env / "bin" / "python"
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    clean.update(NTK_PROGRESS="0", NTK_DEVICE="cpu", PYTHONHASHSEED="0", PIP_DISABLE_PIP_VERSION_CHECK="1")
    with open(log_path, "w") as log:
        print(f"[{name}] building {env.relative_to(ROOT)} with {python} (log: {log_path.relative_to(ROOT)})", flush=True)
        if run([python, "-m", "venv", str(env)], log) or run([str(py), "-m", "pip", "install", "-q", "-U", "pip"], log, env=clean):
            res.tests = "venv failed"
            return res
        spec = f"ntk_lib @ git+file://{ROOT}@{commit}"
        # the Colab cell's install, with this environment's pins as constraints on the dependencies
        cmd = [str(py), "-m", "pip", "install", "-q", spec, *pins, *TEST_TOOLS]
        if not pins:
            cmd.insert(4, "--upgrade")
        if run(cmd, log, env=clean):
            res.tests = "install failed"
            return res
        out = subprocess.run(
            [str(py), "-c", "import sys, torch, numpy, matplotlib, sklearn, tqdm;"
             "print(sys.version.split()[0]); print(f'torch {torch.__version__}, numpy {numpy.__version__}, "
             "matplotlib {matplotlib.__version__}, scikit-learn {sklearn.__version__}, tqdm {tqdm.__version__}')"],
            capture_output=True, text=True, env=clean,
        )
        lines = out.stdout.split("\n")
        res.python, res.versions = lines[0], lines[1] if len(lines) > 1 else out.stderr.strip()[-200:]
        print(f"[{name}] Python {res.python}: {res.versions}", flush=True)
        ok = True
        with tempfile.TemporaryDirectory(prefix=f"ntk-compat-{name}-") as tmp:
            src = Path(tmp) / "src"
            src.mkdir()
            export(commit, src, "tests", "notebooks")
            tests = Path(tmp) / "tests"
            shutil.copytree(src / "tests", tests, ignore=shutil.ignore_patterns("notebooks", "book", "__pycache__"))
            (Path(tmp) / "pytest.ini").write_text("[pytest]\nmarkers =\n    gpu: needs a CUDA GPU\naddopts = -ra\n")
            print(f"[{name}] library tests (from an empty folder, against the installed package) ...", flush=True)
            pytest_out = subprocess.run(
                [str(py), "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider"],
                cwd=tmp, capture_output=True, text=True, env=clean,
            )
            log.write(pytest_out.stdout + pytest_out.stderr)
            summary = [ln for ln in pytest_out.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
            res.tests = (summary[-1].strip("= ") if summary else "no summary") + ("" if pytest_out.returncode == 0 else " (FAIL)")
            ok &= pytest_out.returncode == 0
            for nb in sorted((src / "notebooks").glob("[0-9]*.ipynb")):
                workdir = Path(tmp) / f"run-{nb.stem}"
                workdir.mkdir()
                t = time.perf_counter()
                code = run(
                    [str(py), "-m", "papermill", str(nb), str(workdir / nb.name), "-p", "SCALE", "smoke",
                     "-k", "python3", "--cwd", str(workdir), "--no-progress-bar"],
                    log, env=clean, cwd=workdir,
                )
                res.chapters[nb.stem] = f"ok {time.perf_counter() - t:.0f}s" if code == 0 else "FAIL"
                ok &= code == 0
                print(f"[{name}] {nb.stem}: {res.chapters[nb.stem]}", flush=True)
        res.disk = du(env)
    if not keep:
        shutil.rmtree(env, ignore_errors=True)
    res.seconds = time.perf_counter() - t0
    res.ok = ok
    return res


def table(results: list[Result]) -> str:
    chapters = sorted({c for r in results for c in r.chapters})
    head = ["environment", "Python", "library tests", *chapters, "time", "disk"]
    rows = [
        [f"{r.name}: {r.versions}", r.python, r.tests, *(r.chapters.get(c, "-") for c in chapters),
         f"{r.seconds / 60:.1f} min", r.disk]
        for r in results
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", choices=["oldest", "newest"], action="append", help="run only this environment")
    ap.add_argument("--keep", action="store_true", help="keep the environments under _build/compat/")
    args = ap.parse_args()
    versions = python_versions()
    plans = {"oldest": (versions[0], minimum_pins()), "newest": (versions[-1], [])}
    if subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "ntk_lib", "pyproject.toml", "tests", "notebooks"], cwd=ROOT).returncode:
        print("note: uncommitted changes in ntk_lib/, tests/ or notebooks/ are not tested; the committed HEAD is")
    commit = head_commit()
    print(f"package, tests and chapters from commit {commit[:12]}")
    results = []
    for name in args.env or ["oldest", "newest"]:
        pyver, pins = plans[name]
        results.append(check_env(name, find_python(pyver), pins, args.keep, commit))
    print()
    print(table(results))
    bad = [r.name for r in results if not r.ok]
    if bad:
        print(f"\nFAILED: {', '.join(bad)} (logs under {WORK.relative_to(ROOT)}/)")
        return 1
    print("\nall environments passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
