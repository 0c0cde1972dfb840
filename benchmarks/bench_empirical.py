"""Empirical NTK: ntk_lib against the jacobian-contraction method of the torch.func NTK tutorial.

    python benchmarks/bench_empirical.py

Model: MLP with 3 hidden layers of width 512 (NTK parameterization), 64 inputs, float32.
Case 1 (target ratio <= 1.0): the n = 512 kernel of a batch with itself, one output (and
n = 128 with ten outputs). The baseline follows the tutorial: per-sample Jacobians of both arguments with
``vmap(jacrev(...))``, then one einsum per parameter tensor, summed.
Case 2: n = 4096 with ``batch_size=512`` completes; its peak resident memory is printed next to
the memory a single unbatched Jacobian would need.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch.func import functional_call, jacrev, vmap

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_time, machine, peak_rss_during  # noqa: E402

from ntk_lib.empirical import empirical_ntk  # noqa: E402
from ntk_lib.models import MLP  # noqa: E402


def tutorial_jacobian_contraction(model, x1, x2):
    """The torch.func tutorial's method, written out for this benchmark."""
    params = {k: v.detach() for k, v in model.named_parameters()}

    def fnet_single(p, x):
        return functional_call(model, p, (x.unsqueeze(0),)).reshape(1, -1)[0]

    jac1 = vmap(jacrev(fnet_single), (None, 0))(params, x1)
    jac1 = [j.flatten(2) for j in jac1.values()]
    jac2 = vmap(jacrev(fnet_single), (None, 0))(params, x2)
    jac2 = [j.flatten(2) for j in jac2.values()]
    result = torch.stack([torch.einsum("Naf,Mbf->NMab", j1, j2) for j1, j2 in zip(jac1, jac2)])
    return result.sum(0)


def main() -> None:
    torch.manual_seed(0)
    print(f"# empirical NTK, MLP 64 -> 3x512 -> k, float32, {machine()}, torch {torch.__version__}")
    for k, n in ((1, 512), (10, 128)):
        x = torch.randn(n, 64)
        model = MLP(64, 512, 4, out_features=k, seed=0)
        ours = best_time(lambda m=model, x=x: empirical_ntk(m, x))
        base = best_time(lambda m=model, x=x: tutorial_jacobian_contraction(m, x, x))
        a = empirical_ntk(model, x)
        b = tutorial_jacobian_contraction(model, x, x)
        b = b[..., 0, 0] if k == 1 else b
        err = float((a - b).abs().max() / b.abs().max())
        print(
            f"n={n}, k={k:2d}: ntk_lib {ours:6.3f} s   tutorial {base:6.3f} s   "
            f"ratio {ours / base:.3f} (target <= 1.0)   max rel diff {err:.1e}"
        )
    model = MLP(64, 512, 4, seed=0)
    x_big = torch.randn(4096, 64)
    params = sum(p.numel() for p in model.parameters())
    t = time.perf_counter()
    peak, before = peak_rss_during(lambda: empirical_ntk(model, x_big, batch_size=512))
    dt = time.perf_counter() - t
    print(
        f"n=4096, batch_size=512: {dt:.1f} s, peak RSS {peak:.0f} MB (+{peak - before:.0f} MB); "
        f"an unbatched [4096, {params}] float32 Jacobian alone would be {4096 * params * 4 / 2**20:.0f} MB"
    )


if __name__ == "__main__":
    main()
