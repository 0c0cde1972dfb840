"""Closed-form gradient flow at many times against one matrix exponential per time.

    python benchmarks/bench_dynamics.py

n = 1000 training points, 200 test points, 100 times, float64. Baseline: for each t,
``torch.linalg.matrix_exp(-t K)`` applied to the residual (train) and the exact test formula
through a solve. Target: ntk_lib >= 10x faster.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_time, machine  # noqa: E402

from ntk_lib.analytic import relu_ntk  # noqa: E402
from ntk_lib.dynamics import gradient_flow  # noqa: E402


def matrix_exp_baseline(k, kx, y, ts):
    train, test = [], []
    r0 = -y
    for t in ts:
        e = torch.linalg.matrix_exp(-t * k)
        train.append(y + e @ r0)
        test.append(-kx @ torch.linalg.solve(k, (torch.eye(k.shape[0], dtype=k.dtype) - e) @ r0))
    return torch.stack(train), torch.stack(test)


def main() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1200, 16, generator=g, dtype=torch.float64)
    kall = relu_ntk(x, depth=3)
    k, kx = kall[:1000, :1000], kall[1000:, :1000]
    y = torch.randn(1000, generator=g, dtype=torch.float64)
    ts = torch.logspace(-1, 3, 100, dtype=torch.float64)
    print(f"# gradient flow, n=1000, m=200, 100 times, float64, {machine()}")
    ours = best_time(lambda: gradient_flow(k, y, t=ts, k_test_train=kx))
    base = best_time(lambda: matrix_exp_baseline(k, kx, y, ts), repeats=1)
    a = gradient_flow(k, y, t=ts, k_test_train=kx)
    b = matrix_exp_baseline(k, kx, y, ts)
    err = max(float((a.train - b[0]).abs().max()), float((a.test - b[1]).abs().max()))
    print(
        f"ntk_lib.gradient_flow {ours:7.3f} s   matrix_exp per time {base:7.3f} s   "
        f"speed-up {base / ours:.1f}x (target >= 10x)   max |diff| {err:.1e}"
    )


if __name__ == "__main__":
    main()
