"""Empirical NTK: ntk_lib's structured method against the torch.func tutorial and neural-tangents.

    OMP_NUM_THREADS=1 python benchmarks/bench_empirical.py [--nt-python PATH] [--cases 1,2,3]

Every comparison runs on one thread: the script sets ``torch.set_num_threads(1)`` and, where the OS
allows it, pins itself (and the neural-tangents child process, which inherits the pinning) to one CPU
core, so that both libraries get the same core. Times are the best of ``--repeats`` warm calls (one call when a call takes over 5 s), as CPU time of
the process (its ratios are the ones to read on a shared machine, where wall time depends on the
other load) and as wall time; peak
memory is the rise of the resident set (VmHWM) above its level before the call, after handing freed
memory back to the OS.

Cases (float32, NTK of the inputs with themselves, ``x2=None``):

1. ``nn.Sequential`` of ``Linear``/``ReLU``, 64 -> 3 x 512 -> 1, n = 512. Baselines: the
   jacobian contraction of the torch.func NTK tutorial (per-sample Jacobians of both arguments with
   ``vmap(jacrev(...))``, one einsum per parameter tensor; target: time <= 0.05 x), ntk_lib's own
   ``method="jacobian"``, and neural-tangents' ``empirical_ntk_fn(..., implementation=
   STRUCTURED_DERIVATIVES)`` jit-compiled and warm on the same weights and inputs (target:
   <= 1.0 x), run by ``--nt-python`` (or $NT_PYTHON), a Python with neural-tangents 0.6.5 installed.
2. The same network with 10 outputs, n = 64: ``mode="full"``, ``"trace"`` and ``"diagonal"`` against
   the tutorial's full contraction and its traced einsum.
3. Width 8192, 3 hidden layers, n = 1000: ntk_lib's structured method completes; its time and peak
   resident memory are printed (goal < 3 GB) next to the size of the Jacobian that the jacobian
   method would have to hold (``--nt-wide``: neural-tangents on the same network, one warm call).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_during, pin_to_one_cpu  # noqa: E402

from ntk_lib.empirical import empirical_ntk  # noqa: E402


def tutorial_jacobian_contraction(model, x1, x2, trace=False):
    """The torch.func NTK tutorial's jacobian contraction, written out for this benchmark."""
    params = {k: v.detach() for k, v in model.named_parameters()}

    def fnet_single(p, x):
        return functional_call(model, p, (x.unsqueeze(0),)).reshape(1, -1)[0]

    jac1 = vmap(jacrev(fnet_single), (None, 0))(params, x1)
    jac1 = [j.flatten(2) for j in jac1.values()]
    jac2 = vmap(jacrev(fnet_single), (None, 0))(params, x2)
    jac2 = [j.flatten(2) for j in jac2.values()]
    spec = "Naf,Maf->NM" if trace else "Naf,Mbf->NMab"
    return torch.stack([torch.einsum(spec, j1, j2) for j1, j2 in zip(jac1, jac2)]).sum(0)


def mlp(width: int, hidden: int, out: int, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    layers, n_in = [], 64
    for _ in range(hidden):
        layers += [nn.Linear(n_in, width), nn.ReLU()]
        n_in = width
    return nn.Sequential(*layers, nn.Linear(n_in, out))


def _trim() -> None:
    """Hand freed heap memory back to the OS, so the next peak measures new allocations (glibc only)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def measure(fn, repeats: int) -> tuple[float, float, float]:
    """(best CPU time in s, best wall time in s, peak RSS rise in MB) of warm calls of ``fn``; the
    memory call is the warm-up, and a call that takes more than 5 s is timed once."""
    _trim()
    t0 = time.perf_counter()
    peak, before = peak_rss_during(fn)
    first = time.perf_counter() - t0
    cpu = wall = float("inf")
    for _ in range(1 if first > 5 else repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        cpu, wall = min(cpu, time.process_time() - c0), min(wall, time.perf_counter() - t0)
    return cpu, wall, peak - before


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max() / b.double().abs().max())


def neural_tangents(nt_python: str, model: nn.Sequential, x: torch.Tensor, repeats: int) -> dict | None:
    """Time neural-tangents' structured derivatives on the same weights and inputs in a child process."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    arrays = {"x": x.numpy()}
    for i, m in enumerate(linears):
        arrays[f"w{i}"] = m.weight.detach().numpy()
        arrays[f"b{i}"] = m.bias.detach().numpy()
    script = Path(__file__).with_name("_nt_empirical_baseline.py")
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
        "OMP_NUM_THREADS": "1",
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        np.savez(path, **arrays)
        proc = subprocess.run(
            [nt_python, str(script), str(path), str(repeats)], capture_output=True, text=True, env=env, check=False
        )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        print(f"neural-tangents baseline failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")
        return None
    return json.loads(lines[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nt-python", default=os.environ.get("NT_PYTHON"), help="a Python with neural-tangents")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cases", default="1,2,3", help="comma-separated cases to run (default: 1,2,3)")
    ap.add_argument("--nt-wide", action="store_true", help="run neural-tangents on case 3 too (slow)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU core")
    args = ap.parse_args()

    pinned = pin_to_one_cpu(args.no_pin)
    print(f"# empirical NTK, float32, 1 thread ({pinned}), torch {torch.__version__}, best of {args.repeats}")
    cases = {c.strip() for c in args.cases.split(",")}
    if "1" in cases:
        case_1(args)
    if "2" in cases:
        case_2(args)
    if "3" in cases:
        case_3(args)


def case_1(args) -> None:

    model = mlp(512, 3, 1)
    x = torch.randn(512, 64, generator=torch.Generator().manual_seed(1))
    ours = empirical_ntk(model, x)
    ref = tutorial_jacobian_contraction(model, x, x)[..., 0, 0]
    t_s, w_s, m_s = measure(lambda: empirical_ntk(model, x), args.repeats)
    t_j, w_j, m_j = measure(lambda: empirical_ntk(model, x, method="jacobian"), args.repeats)
    t_t, w_t, m_t = measure(lambda: tutorial_jacobian_contraction(model, x, x), args.repeats)
    print("\n## 1. nn.Sequential Linear/ReLU 64 -> 3x512 -> 1, n = 512")
    print(f"{'method':44s} {'CPU s':>8s} {'wall s':>8s} {'peak MB':>8s}  time ratio  memory ratio  (to the tutorial)")
    for name, t, w, m in (
        ("ntk_lib empirical_ntk (auto = structured)", t_s, w_s, m_s),
        ("ntk_lib empirical_ntk(method='jacobian')", t_j, w_j, m_j),
        ("torch.func tutorial, jacobian contraction", t_t, w_t, m_t),
    ):
        print(f"{name:44s} {t:8.3f} {w:8.3f} {m:8.0f}  {t / t_t:10.4f}  {m / max(m_t, 1e-9):12.3f}")
    print(f"structured / tutorial CPU time: {t_s / t_t:.4f} (target <= 0.05); max rel diff {rel(ours, ref):.1e}")
    if args.nt_python:
        nt = neural_tangents(args.nt_python, model, x, args.repeats)
        if nt is not None:
            # timed again after the child process, so that both see the same load on a shared machine
            again = measure(lambda: empirical_ntk(model, x), args.repeats)
            t_s, w_s = min(t_s, again[0]), min(w_s, again[1])
            corner = torch.tensor(nt["corner"])
            print(
                f"neural-tangents STRUCTURED_DERIVATIVES (jit, warm): CPU {nt['cpu_seconds']:.4f} s, "
                f"wall {nt['seconds']:.4f} s (compile {nt['compile_seconds']:.1f} s, process peak RSS "
                f"{nt['peak_rss_mb']:.0f} MB); ntk_lib structured: CPU {t_s:.4f} s, wall {w_s:.4f} s\n"
                f"structured / neural-tangents: CPU time {t_s / nt['cpu_seconds']:.2f}, wall time "
                f"{w_s / nt['seconds']:.2f} (target <= 1.0); max rel diff of the 4x4 corner {rel(ours[:4, :4], corner):.1e}"
            )
    else:
        print("neural-tangents baseline skipped: pass --nt-python PATH (a Python with neural-tangents==0.6.5)")


def case_2(args) -> None:
    model10 = mlp(512, 3, 10)
    x10 = torch.randn(64, 64, generator=torch.Generator().manual_seed(2))
    full_ref = tutorial_jacobian_contraction(model10, x10, x10)
    t_full, _, m_full = measure(lambda: tutorial_jacobian_contraction(model10, x10, x10), args.repeats)
    t_tr, _, m_tr = measure(lambda: tutorial_jacobian_contraction(model10, x10, x10, trace=True), args.repeats)
    print("\n## 2. the same network with 10 outputs, n = 64")
    print(
        f"{'mode':10s} {'ntk_lib CPU s':>13s} {'tutorial CPU s':>14s} {'time ratio':>10s} {'memory ratio':>12s} {'rel diff':>9s}"
    )
    refs = {
        "full": full_ref,
        "trace": full_ref.diagonal(dim1=2, dim2=3).sum(-1),
        "diagonal": full_ref.diagonal(dim1=2, dim2=3),
    }
    for mode in ("full", "trace", "diagonal"):
        t_m, _, m_m = measure(lambda mode=mode: empirical_ntk(model10, x10, mode=mode), args.repeats)
        base_t, base_m = (t_tr, m_tr) if mode == "trace" else (t_full, m_full)
        err = rel(empirical_ntk(model10, x10, mode=mode), refs[mode])
        print(f"{mode:10s} {t_m:13.3f} {base_t:14.3f} {t_m / base_t:10.4f} {m_m / max(base_m, 1e-9):12.3f} {err:9.1e}")
    print("(the tutorial's diagonal is its full contraction, then the diagonal taken)")


def case_3(args) -> None:
    wide = mlp(8192, 3, 1)
    xw = torch.randn(1000, 64, generator=torch.Generator().manual_seed(3))
    n_params = sum(p.numel() for p in wide.parameters())
    _trim()
    c0, t0 = time.process_time(), time.perf_counter()
    peak, before = peak_rss_during(lambda: empirical_ntk(wide, xw))
    dc, dt = time.process_time() - c0, time.perf_counter() - t0
    if args.nt_wide:  # a warm call, as neural-tangents' is
        c0, t0 = time.process_time(), time.perf_counter()
        empirical_ntk(wide, xw)
        dc, dt = time.process_time() - c0, time.perf_counter() - t0
    print(
        f"\n## 3. nn.Sequential Linear/ReLU 64 -> 3x8192 -> 1, n = 1000 ({'a warm' if args.nt_wide else 'one cold'} call)"
    )
    print(
        f"ntk_lib structured: CPU {dc:.1f} s, wall {dt:.1f} s, process peak RSS {peak / 1024:.2f} GB (goal < 3 GB; the model's "
        f"{n_params:,} float32 parameters are {n_params * 4 / 2**30:.2f} GB of it, the call added "
        f"{(peak - before) / 1024:.2f} GB); the [1000, {n_params:,}] float32 Jacobian of the jacobian "
        f"method would be {1000 * n_params * 4 / 2**30:.0f} GB"
    )
    if args.nt_python and args.nt_wide:
        nt = neural_tangents(args.nt_python, wide, xw, 1)
        if nt is not None:
            print(
                f"neural-tangents STRUCTURED_DERIVATIVES (jit, second call): CPU {nt['cpu_seconds']:.1f} s, wall "
                f"{nt['seconds']:.1f} s (compile and first call {nt['compile_seconds']:.1f} s), process peak RSS "
                f"{nt['peak_rss_mb'] / 1024:.2f} GB; ntk_lib / neural-tangents CPU time {dc / nt['cpu_seconds']:.2f}"
            )


if __name__ == "__main__":
    main()
