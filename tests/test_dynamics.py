"""ntk_lib.dynamics against a small-step integration of df/dt = -lr K (f - y) and its limits."""

import math

import pytest
import torch

from ntk_lib.dynamics import gradient_flow, kernel_regression


def rk4_flow(k, kx, y, f0, f0x, lr, t_end, steps):
    """Integrate train and test predictions jointly with classical RK4."""
    dt = t_end / steps

    def rhs(f):
        return -lr * k @ (f - y), -lr * kx @ (f - y)

    f, fx = f0.clone(), f0x.clone()
    for _ in range(steps):
        a, ax = rhs(f)
        b, bx = rhs(f + dt / 2 * a)
        c, cx = rhs(f + dt / 2 * b)
        d, dx = rhs(f + dt * c)
        f = f + dt / 6 * (a + 2 * b + 2 * c + d)
        fx = fx + dt / 6 * (ax + 2 * bx + 2 * cx + dx)
    return f, fx


def features(n, p, m=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    phi = torch.randn(n + m, p, generator=g, dtype=torch.float64)
    return phi[:n] @ phi[:n].T, phi[n:] @ phi[:n].T, g


@pytest.mark.parametrize("rank", [8, 3])  # full rank, then a singular kernel
def test_closed_form_matches_ode_integration(rank):
    k, kx, g = features(8, rank)
    y = torch.randn(8, 2, generator=g, dtype=torch.float64)
    f0 = torch.randn(8, 2, generator=g, dtype=torch.float64) * 0.1
    f0x = torch.randn(3, 2, generator=g, dtype=torch.float64) * 0.1
    lr = 0.3
    flow = gradient_flow(k, y, t=[0.5, 2.0], f0_train=f0, k_test_train=kx, f0_test=f0x, lr=lr)
    for i, t_end in enumerate([0.5, 2.0]):
        f, fx = rk4_flow(k, kx, y, f0, f0x, lr, t_end, steps=4000)
        assert torch.allclose(flow.train[i], f, atol=1e-9)
        assert torch.allclose(flow.test[i], fx, atol=1e-9)


def test_time_zero_and_infinity():
    k, kx, g = features(6, 6)
    y = torch.randn(6, generator=g, dtype=torch.float64)
    f0 = torch.randn(6, generator=g, dtype=torch.float64)
    f0x = torch.randn(3, generator=g, dtype=torch.float64)
    flow = gradient_flow(k, y, t=[0.0, 1e6, math.inf], f0_train=f0, k_test_train=kx, f0_test=f0x)
    assert torch.equal(flow.train[0], f0)
    assert torch.equal(flow.test[0], f0x)
    assert torch.allclose(flow.train[2], y, atol=1e-10)
    kr = kernel_regression(k, y, k_test_train=kx, f0_train=f0, f0_test=f0x)
    solve = f0x + kx @ torch.linalg.solve(k, y - f0)
    assert torch.allclose(kr.test[0], solve, rtol=1e-8)
    assert torch.allclose(flow.test[1], solve, rtol=1e-6)


def test_singular_kernel_null_modes():
    """On a rank-2 kernel the residual outside its range never moves; the test prediction at
    t = inf is the pseudo-inverse (minimum-norm) interpolant."""
    k, kx, g = features(5, 2)
    y = torch.randn(5, generator=g, dtype=torch.float64)
    flow = gradient_flow(k, y, t=[10.0, math.inf], k_test_train=kx)
    lam, vec = torch.linalg.eigh(k)
    null = vec[:, lam < 1e-10 * lam.max()]
    assert torch.allclose(null.T @ flow.train[-1], null.T @ torch.zeros(5, dtype=torch.float64), atol=1e-10)
    pinv = kx @ torch.linalg.pinv(k, hermitian=True) @ y
    assert torch.allclose(flow.test[-1], pinv, rtol=1e-8)


def test_matrix_exponential_and_lr():
    k, _, g = features(7, 7)
    y = torch.randn(7, generator=g, dtype=torch.float64)
    f0 = torch.zeros(7, dtype=torch.float64)
    ts = [0.1, 1.0, 3.0]
    flow = gradient_flow(k, y, t=ts, lr=0.5)
    for i, t in enumerate(ts):
        ref = y + torch.linalg.matrix_exp(-0.5 * t * k) @ (f0 - y)
        assert torch.allclose(flow.train[i], ref, atol=1e-10)
    same = gradient_flow(k, y, t=[2 * x for x in ts], lr=0.25)
    assert torch.allclose(flow.train, same.train, atol=1e-12)


def test_bad_inputs():
    k, kx, _ = features(4, 4)
    y = torch.zeros(4, dtype=torch.float64)
    with pytest.raises(ValueError, match="t must be >= 0"):
        gradient_flow(k, y, t=[-1.0])
    with pytest.raises(ValueError, match="t contains NaN"):
        gradient_flow(k, y, t=[float("nan")])
    with pytest.raises(ValueError, match="k_train must be a square"):
        gradient_flow(k[:, :3], y, t=1.0)
    with pytest.raises(ValueError, match="k_train must be symmetric"):
        asym = k.clone()
        asym[0, 1] += 1.0
        gradient_flow(asym, y, t=1.0)
    with pytest.raises(ValueError, match="positive semi-definite"):
        gradient_flow(-k, y, t=1.0)
    with pytest.raises(ValueError, match="y_train has 3 rows"):
        gradient_flow(k, y[:3], t=1.0)
    with pytest.raises(ValueError, match="k_test_train has 3 columns"):
        gradient_flow(k, y, t=1.0, k_test_train=kx[:, :3])
    with pytest.raises(ValueError, match="k_train contains NaN"):
        bad = k.clone()
        bad[1, 1] = float("inf")
        gradient_flow(bad, y, t=1.0)
    with pytest.raises(ValueError, match="lr must be > 0"):
        gradient_flow(k, y, t=1.0, lr=0.0)
    with pytest.raises(ValueError, match="f0_test was given without"):
        gradient_flow(k, y, t=1.0, f0_test=torch.zeros(2))
    with pytest.raises(ValueError, match="f0_train has shape"):
        gradient_flow(k, y, t=1.0, f0_train=torch.zeros(4, 2))


def test_gradient_descent_matches_explicit_iteration():
    from ntk_lib.dynamics import gradient_descent

    k, kx, g = features(6, 4)
    y = torch.randn(6, generator=g, dtype=torch.float64)
    f0 = torch.randn(6, generator=g, dtype=torch.float64)
    f0x = torch.randn(3, generator=g, dtype=torch.float64)
    lr = 0.8 / float(torch.linalg.eigvalsh(k).max())
    out = gradient_descent(k, y, steps=[0, 1, 7, 40], lr=lr, f0_train=f0, k_test_train=kx, f0_test=f0x)
    f, fx = f0.clone(), f0x.clone()
    for step in range(41):
        if step in (0, 1, 7, 40):
            i = [0, 1, 7, 40].index(step)
            assert torch.allclose(out.train[i], f, atol=1e-11)
            assert torch.allclose(out.test[i], fx, atol=1e-11)
        r = f - y
        f, fx = f - lr * k @ r, fx - lr * kx @ r
    with pytest.raises(ValueError, match="steps must be non-negative integers"):
        gradient_descent(k, y, steps=[1.5], lr=lr)
    # beyond 2 / lambda_max the top mode grows
    big = gradient_descent(k, y, steps=[50], lr=2.2 / float(torch.linalg.eigvalsh(k).max()))
    assert float((big.train[0] - y).norm()) > 10 * float(y.norm())
