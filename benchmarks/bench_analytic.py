"""Analytic ReLU NTK: speed and memory against neural-tangents and a plain eager recursion.

    python benchmarks/bench_analytic.py [--nt-python PATH]

Cases: n = 4000 points, n0 = 64, depth L = 10, float64, kernel of x with itself, for each
``--bias`` (default 0 and 0.1). Targets: ours <= 0.25 x neural-tangents' time with bias 0, <= 0.5 x
with bias 0.1, and peak memory <= 0.2 x theirs. Baselines, measured in the same run:
  * neural-tangents' jit-compiled ``stax`` kernel (compile excluded), run with the Python of a
    separate environment that has it (``--nt-python`` or $NT_PYTHON; skipped when absent);
  * a plain eager torch implementation of the Jacot recursion over full [n, n] matrices.
Prints times (best of ``--repeats`` warm calls for ours and neural-tangents alike; one call for the
plain recursion), peak resident memory and the ratios ours / baseline; then the n = 20,000 float32
kernel in row blocks with its peak memory against the size of the output. Both libraries run on
one thread, pinned to one CPU core (the neural-tangents child inherits the pinning; XLA, which
ignores ``OMP_NUM_THREADS``, is also told so by its flags): with two cores each, XLA's threading
scales better than torch's at this size and the wall-clock ratio is about 0.27 for either bias
(``--no-pin``, which keeps torch's default threads, shows it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_time, machine, peak_rss_during, pin_to_one_cpu  # noqa: E402

from ntk_lib.analytic import relu_ntk  # noqa: E402


def plain_recursion(x: torch.Tensor, depth: int, bias_var: float = 0.0) -> torch.Tensor:
    """The textbook recursion: full matrices, arccos of the correlation, no blocking."""
    n0 = x.shape[1]
    sigma = x @ x.T / n0 + bias_var
    theta = sigma.clone()
    for _ in range(1, depth):
        d = torch.sqrt(torch.diagonal(sigma))
        norm = d[:, None] * d[None, :]
        rho = (sigma / norm).clamp(-1, 1)
        t = torch.acos(rho)
        sigma = norm * (torch.sin(t) + (math.pi - t) * rho) / (2 * math.pi) + bias_var
        theta = theta * (math.pi - t) / (2 * math.pi) + sigma
    return theta


def _best_cpu_time(fn, repeats: int) -> float:
    """Best CPU time (this process, all threads) of ``repeats`` calls: unlike wall-clock time it does
    not count the time other processes hold the cores, so it is comparable across a loaded machine."""
    best = float("inf")
    for _ in range(repeats):
        c = time.process_time()
        fn()
        best = min(best, time.process_time() - c)
    return best


def _xla_threads(threads: int) -> dict:
    """XLA's CPU backend ignores OMP_NUM_THREADS: give it the thread count torch runs with."""
    if threads != 1:
        return {}
    return {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--n0", type=int, default=64)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--bias", type=float, nargs="+", default=[0.0, 0.1])
    ap.add_argument("--repeats", type=int, default=5, help="timed warm calls (best kept), ours and theirs alike")
    ap.add_argument("--nt-python", default=os.environ.get("NT_PYTHON"))
    ap.add_argument("--big-n", type=int, default=20000)
    ap.add_argument("--no-pin", action="store_true", help="keep torch's threads and all CPU cores")
    args = ap.parse_args()
    pinned = pin_to_one_cpu() if not args.no_pin else "not pinned"
    torch.manual_seed(0)
    import numpy as np

    x_np = np.random.default_rng(0).standard_normal((args.n, args.n0))
    x = torch.from_numpy(x_np)
    print(
        f"# analytic ReLU NTK, n={args.n}, n0={args.n0}, L={args.depth}, float64, {machine()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads ({pinned})"
    )
    for b in args.bias:
        print(f"## bias_var = {b}")

        def ours_fn(b=b):
            return relu_ntk(x, depth=args.depth, bias_var=b)

        ours = best_time(ours_fn, repeats=args.repeats)
        ours_cpu = _best_cpu_time(ours_fn, args.repeats)
        ours_peak, ours_base = peak_rss_during(ours_fn)
        print(
            f"ntk_lib.relu_ntk        {ours:8.3f} s   peak RSS {ours_peak:7.0f} MB "
            f"(+{ours_peak - ours_base:.0f} MB over the {ours_base:.0f} MB before the call)"
        )
        # the plain recursion is slow: one warm-up and one timed call, whose peak and result are kept
        plain_recursion(x[:64], args.depth, b)
        held = {}

        def plain_fn(b=b, held=held):
            t0 = time.perf_counter()
            held["k"] = plain_recursion(x, args.depth, b)
            held["s"] = time.perf_counter() - t0

        plain_peak, _ = peak_rss_during(plain_fn)
        plain, ref = held["s"], held.pop("k")
        diff = float((ref - ours_fn()).abs().max() / ref.abs().max())
        del ref
        print(f"plain eager recursion   {plain:8.3f} s   peak RSS {plain_peak:7.0f} MB   max rel. diff {diff:.2e}")
        print(f"ratio ours / plain eager      = {ours / plain:.3f}")
        if args.nt_python:
            script = Path(__file__).with_name("_nt_baseline.py")
            res = subprocess.run(
                [args.nt_python, str(script), str(args.n), str(args.n0), str(args.depth), str(args.repeats), "0", str(b)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **_xla_threads(torch.get_num_threads())},
            )
            nt = json.loads(res.stdout.strip().splitlines()[-1])
            corner = torch.tensor(nt["corner"], dtype=torch.float64)
            agree = float((corner - relu_ntk(x[:4], depth=args.depth, bias_var=b)).abs().max() / corner.abs().max())
            target = 0.25 if b == 0 else 0.5
            print(
                f"neural-tangents (jit)   {nt['seconds']:8.3f} s   peak RSS {nt['peak_rss_mb']:7.0f} MB   "
                f"rel. diff on a 4x4 corner {agree:.1e}"
            )
            print(f"ratio ours / neural-tangents = {ours / nt['seconds']:.3f}   (target <= {target}; wall clock)")
            print(
                f"CPU time ours / neural-tangents = {ours_cpu / nt['cpu_seconds']:.3f}   "
                f"({ours_cpu:.3f} s vs {nt['cpu_seconds']:.3f} s: robust to other processes on a shared machine)"
            )
            print(
                f"memory ours / neural-tangents = {ours_peak / nt['peak_rss_mb']:.3f} (peak RSS, whole process), "
                f"{(ours_peak - ours_base) / nt['extra_mb']:.3f} (extra memory of one call: "
                f"{ours_peak - ours_base:.0f} MB vs {nt['extra_mb']:.0f} MB)   (target <= 0.2)"
            )
        else:
            print("neural-tangents baseline skipped: pass --nt-python PATH (a venv with neural-tangents==0.6.5)")

    if args.big_n:
        g = torch.Generator().manual_seed(1)
        xb = torch.randn(args.big_n, args.n0, generator=g, dtype=torch.float64)
        out_mb = args.big_n**2 * 4 / 2**20
        t0 = time.perf_counter()
        peak, base = peak_rss_during(lambda: relu_ntk(xb, depth=3, dtype=torch.float32))
        dt = time.perf_counter() - t0
        print(
            f"n={args.big_n} float32, L=3: {dt:.1f} s, output {out_mb:.0f} MB, peak RSS over baseline "
            f"{peak - base:.0f} MB (budget: output + ~{100 * (1 << 17) / 2**20:.0f} MB of blocks)"
        )


if __name__ == "__main__":
    main()
