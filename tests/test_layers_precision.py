"""ntk_lib.layers and ntk_lib.activations where round-off and quadrature used to decide the answer:
inputs of very different norms, colinear inputs, large pre-activation variances, kinked activations.

References are independent of the library: an mpmath recursion at 50 digits, closed forms (ReLU, erf),
a dense 2-D trapezoid rule and Monte Carlo.
"""

import math

import mpmath as mp
import pytest
import torch

from ntk_lib import layers as L
from ntk_lib.activations import erf, from_function, relu
from ntk_lib.analytic import relu_ntk

F64 = torch.float64


def _x(n, d, seed):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=F64)


# --------------------------------------------------------------------------- an mpmath reference


def _mp_kernel(x1, x2, arch):
    """NNGP and NTK of ``arch`` at 50 digits, by the layer rules of ntk_lib.layers (Dense, ReLU on a centred
    Gaussian, residual blocks h + a g(h) with the mean cross terms), pair by pair. ``arch``: a list of
    ("dense", w, b), ("relu",), ("res", a, branch)."""
    mp.mp.dps = 50

    def dot(u, v):
        return mp.fsum(mp.mpf(a) * mp.mpf(b) for a, b in zip(u, v))

    def run(state, layers):
        for layer in layers:
            k, q1, q2, m1, m2, t = state
            if layer[0] == "dense":
                w, b = mp.mpf(layer[1]), mp.mpf(layer[2])
                sigma = w * k + b
                state = (sigma, w * q1 + b, w * q2 + b, 0, 0, sigma + w * t)
            elif layer[0] == "relu":
                rho = max(min(k / mp.sqrt(q1 * q2), 1), -1)
                th = mp.acos(rho)
                v = mp.sqrt(q1 * q2) / (2 * mp.pi) * (mp.sin(th) + (mp.pi - th) * mp.cos(th))
                vdot = (mp.pi - th) / (2 * mp.pi)
                state = (v, q1 / 2, q2 / 2, mp.sqrt(q1 / (2 * mp.pi)), mp.sqrt(q2 / (2 * mp.pi)), vdot * t)
            else:
                a = mp.mpf(layer[1])
                gk, gq1, gq2, g1, g2, gt = run(state, layer[2])
                state = (
                    k + a * (m1 * g2 + g1 * m2) + a * a * gk,
                    q1 + 2 * a * m1 * g1 + a * a * gq1,
                    q2 + 2 * a * m2 * g2 + a * a * gq2,
                    m1 + a * g1,
                    m2 + a * g2,
                    t + a * a * gt,
                )
        return state

    n0 = x1.shape[1]
    nngp = torch.empty(x1.shape[0], x2.shape[0], dtype=F64)
    ntk = torch.empty_like(nngp)
    for i, u in enumerate(x1.tolist()):
        for j, v in enumerate(x2.tolist()):
            start = (dot(u, v) / n0, dot(u, u) / n0, dot(v, v) / n0, 0, 0, mp.mpf(0))
            k, _, _, _, _, t = run(start, arch)
            nngp[i, j], ntk[i, j] = float(k), float(t)
    return nngp, ntk


def _net(arch):
    layers = []
    for layer in arch:
        if layer[0] == "dense":
            layers.append(L.Dense(8, layer[1], layer[2]))
        elif layer[0] == "relu":
            layers.append(L.Relu())
        else:
            layers.append(L.Residual(_net(layer[2]), alpha=layer[1]))
    return L.serial(*layers)


def _mlp_arch(depth, w, b):
    arch = []
    for _ in range(depth - 1):
        arch += [("dense", w, b), ("relu",)]
    return [*arch, ("dense", w, b)]


def _rel(a, ref, diag1, diag2):
    """Error relative to the Cauchy-Schwarz scale sqrt(K(x,x) K(x',x')) of each pair."""
    scale = torch.sqrt(diag1[:, None] * diag2[None, :])
    return float(((a - ref).abs() / scale).max())


@pytest.mark.parametrize("ratio", [1e-9, 1e-5, 1e5, 1e9])
@pytest.mark.parametrize("depth,w,b", [(2, 1.0, 0.0), (3, 2.0, 0.0), (4, 2.0, 0.1)])
def test_mixed_magnitudes_against_mpmath(ratio, depth, w, b):
    """Rows whose norms differ by up to 1e9 (the old distance formula lost ~eps * norm ratio)."""
    x1, x2 = _x(3, 5, 0), ratio * _x(2, 5, 1)
    arch = _mlp_arch(depth, w, b)
    k = _net(arch).kernel(x1, x2)
    ref_nngp, ref_ntk = _mp_kernel(x1, x2, arch)
    d1, d2 = _mp_kernel(x1, x1, arch), _mp_kernel(x2, x2, arch)
    assert _rel(k.ntk, ref_ntk, d1[1].diagonal(), d2[1].diagonal()) < 1e-13
    assert _rel(k.nngp, ref_nngp, d1[0].diagonal(), d2[0].diagonal()) < 1e-13
    assert bool((k.nngp > 0).all())  # a ReLU network's NNGP after a ReLU layer is positive
    fast = relu_ntk(x1, x2, depth=depth, weight_var=w, bias_var=b)
    assert torch.allclose(k.ntk, fast, rtol=1e-12, atol=0)


@pytest.mark.parametrize("depth", [3, 6])
@pytest.mark.parametrize("b", [0.0, 0.1])
def test_colinear_rows_against_mpmath_and_relu_ntk(depth, b):
    """Rows x, 2x, 3x: 1 - rho is 0 (or tiny), where an absolute error eps in it moves ReLU's derivative map
    by sqrt(eps) ~ 1e-8."""
    x = _x(3, 5, 2)
    xx = torch.cat([x, 2 * x, 3 * x])
    arch = _mlp_arch(depth, 1.0, b)
    k = _net(arch).kernel(xx)
    _, ref = _mp_kernel(xx, xx, arch)
    assert float(((k.ntk - ref) / ref).abs().max()) < 1e-13
    assert torch.allclose(k.ntk, relu_ntk(xx, depth=depth, bias_var=b), rtol=1e-12, atol=0)


def test_colinear_rows_through_activation_ending_residual_blocks():
    """NTK-ECRN-like blocks h + a relu(W h): positively homogeneous, so x and 2x stay colinear through every
    block; the residual rule for 1 - rho must not cancel there (nor for norms 1e6 apart)."""
    x = _x(2, 4, 3)
    xx = torch.cat([x, 2 * x, 1e6 * x[:1]])
    arch = [("dense", 1.0, 0.0)]
    for a in (0.7, 0.4, 1.1):
        arch.append(("res", a, [("dense", 1.0, 0.0), ("relu",)]))
    arch.append(("dense", 1.0, 0.0))
    k = _net(arch).kernel(xx)
    ref_nngp, ref_ntk = _mp_kernel(xx, xx, arch)
    assert float(((k.ntk - ref_ntk) / ref_ntk).abs().max()) < 1e-13
    assert float(((k.nngp - ref_nngp) / ref_nngp).abs().max()) < 1e-13


def test_residual_blocks_with_bias_against_mpmath():
    x1, x2 = _x(3, 4, 4), 1e-4 * _x(2, 4, 5)
    arch = [("dense", 1.0, 0.0)]
    for a in (0.5, 0.9):
        arch.append(("res", a, [("dense", 1.5, 0.2), ("relu",)]))
    arch.append(("dense", 1.0, 0.1))
    k = _net(arch).kernel(x1, x2)
    ref_nngp, ref_ntk = _mp_kernel(x1, x2, arch)
    d1, d2 = _mp_kernel(x1, x1, arch), _mp_kernel(x2, x2, arch)
    assert _rel(k.ntk, ref_ntk, d1[1].diagonal(), d2[1].diagonal()) < 1e-13
    assert _rel(k.nngp, ref_nngp, d1[0].diagonal(), d2[0].diagonal()) < 1e-13


def test_tiny_rows_at_depth_stay_exact_or_are_refused():
    """x2 at 1e-140 through 60 layers: the old recursion returned exact zeros; now the value of relu_ntk."""
    x1, x2 = _x(3, 5, 0), 1e-140 * _x(2, 5, 1)
    net = L.serial(*([L.Dense(4), L.Relu()] * 59), L.Dense(1))
    k = net.kernel(x1, x2)
    assert torch.allclose(k.ntk, relu_ntk(x1, x2, depth=60), rtol=1e-11, atol=0)


# --------------------------------------------------------------------------- Gaussian duals by quadrature


def _trapezoid_dual(fn, dfn, q1, q2, c, h=0.01, half_width=9.0):
    """V and V-dot of one pair by a dense 2-D trapezoid rule in (z_a, z_b) (u = sqrt(q)(s z_a + t z_b),
    u' = sqrt(q')(s z_a - t z_b)): exponentially convergent for analytic activations."""
    z = torch.arange(-half_width, half_width + h / 2, h, dtype=F64)
    w = h * torch.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    rho = c / math.sqrt(q1 * q2)
    s, t = math.sqrt((1 + rho) / 2), math.sqrt((1 - rho) / 2)
    u = math.sqrt(q1) * (s * z[:, None] + t * z[None, :])
    v = math.sqrt(q2) * (s * z[:, None] - t * z[None, :])
    ww = w[:, None] * w[None, :]
    return float((fn(u) * fn(v) * ww).sum()), float((dfn(u) * dfn(v) * ww).sum())


@pytest.mark.parametrize("q", [0.3, 3.0, 30.0])
def test_tanh_dual_against_dense_trapezoid(q):
    act = from_function(torch.tanh)
    q1 = torch.tensor([q, q, q, 0.2 * q], dtype=F64)
    q2 = torch.tensor([q, 0.5 * q, q, q], dtype=F64)
    c = torch.tensor([q, 0.2 * q, -0.999 * q, 0.4 * q * math.sqrt(0.2)], dtype=F64)
    v, vdot = act.dual(q1, q2, c)
    for i in range(4):
        rv, rd = _trapezoid_dual(torch.tanh, lambda u: 1 / torch.cosh(u) ** 2, *(float(a[i]) for a in (q1, q2, c)))
        assert abs(float(v[i]) - rv) < 1e-11 * max(1.0, abs(rv))
        assert abs(float(vdot[i]) - rd) < 1e-11 * max(1.0, abs(rd))


@pytest.mark.parametrize("weight_var", [1.0, 10.0, 50.0, 1e4])
@pytest.mark.parametrize("bias_var", [0.0, 0.3])
def test_quadrature_equals_closed_forms_at_large_variance(weight_var, bias_var):
    """Activation(torch.erf) / Activation(torch.relu) against Erf() / Relu(): the old Gauss-Hermite rule was off
    by 50 % (erf's NTK at weight_var 50) and 5 % (ReLU, a kink) there."""
    x, x2 = _x(4, 5, 6), _x(3, 5, 7)
    x2[0] = 2 * x[0]  # a colinear pair
    for fn, closed in ((torch.erf, L.Erf), (torch.relu, L.Relu)):
        quad = L.serial(L.Dense(8, weight_var, bias_var), L.Activation(fn), L.Dense(8, weight_var, bias_var),
                        L.Activation(fn), L.Dense(1, weight_var, bias_var))
        exact = L.serial(L.Dense(8, weight_var, bias_var), closed(), L.Dense(8, weight_var, bias_var), closed(),
                         L.Dense(1, weight_var, bias_var))
        for other in (None, x2):
            kq, ke = quad.kernel(x, other), exact.kernel(x, other)
            scale = float(ke.ntk.abs().max())
            assert float((kq.ntk - ke.ntk).abs().max()) < 1e-10 * scale
            assert float((kq.nngp - ke.nngp).abs().max()) < 1e-10 * float(ke.nngp.abs().max())


def test_quadrature_duals_and_means_against_closed_forms():
    q1 = torch.tensor([1e-4, 1.0, 50.0, 1e4, 3.0], dtype=F64)
    q2 = torch.tensor([1e-4, 2.0, 50.0, 1e4, 1e-2], dtype=F64)
    c = torch.tensor([1e-4, -1.2, 49.9, 0.3e4, 0.1], dtype=F64)
    for fn, closed in ((torch.erf, erf()), (torch.relu, relu())):
        act = from_function(fn)
        for got, want in zip(act.dual(q1, q2, c), closed.dual(q1, q2, c)):
            assert torch.allclose(got, want, rtol=1e-11, atol=1e-15)
        assert torch.allclose(act.mean(q1), closed.mean(q1), rtol=1e-12, atol=1e-15)


def test_tanh_network_at_weight_var_10_against_monte_carlo():
    """The NTK of Dense(w=10), tanh, Dense against 4M Gaussian samples (the old rule: 2.42 against 3.01 on
    the diagonal)."""
    x = _x(3, 5, 0)
    w = 10.0
    k = L.serial(L.Dense(8, weight_var=w), L.Activation("tanh"), L.Dense(1)).kernel(x)
    sigma = w * x @ x.T / 5
    chol = torch.linalg.cholesky(sigma)
    g = torch.Generator().manual_seed(1)
    vals, ders = [], []
    for _ in range(4):
        u = torch.randn(1_000_000, 3, generator=g, dtype=F64) @ chol.T
        t = torch.tanh(u)
        d = 1 - t * t
        vals.append(t[:, :, None] * t[:, None, :])
        ders.append(d[:, :, None] * d[:, None, :])
    vals, ders = torch.cat(vals), torch.cat(ders)
    samples = vals + ders * sigma  # Theta = V + V-dot * Sigma for the readout (w = 1, b = 0)
    mean, se = samples.mean(0), samples.std(0) / math.sqrt(samples.shape[0])
    assert bool(((k.ntk - mean).abs() < 5 * se + 1e-12).all()), (k.ntk, mean, se)
    assert bool(((k.nngp - vals.mean(0)).abs() < 5 * vals.std(0) / math.sqrt(vals.shape[0]) + 1e-12).all())


def test_quadrature_that_cannot_converge_says_so():
    act = from_function(lambda u: torch.sin(40 * u), name="fast sine")
    one = torch.tensor([25.0], dtype=F64)
    with pytest.raises(ValueError, match="did not converge"):
        act.dual(one, one, 0.3 * one)


def test_quadrature_values_do_not_depend_on_the_batch():
    """Each pair is refined on its own: a pair's value is the same (to the rounding of the sums) alone or among
    pairs that need finer levels."""
    act = from_function(torch.tanh)
    q1 = torch.tensor([1.0, 300.0, 0.01], dtype=F64)
    q2 = torch.tensor([2.0, 0.5, 0.01], dtype=F64)
    c = torch.tensor([0.3, 0.1, 0.0099], dtype=F64)
    together = act.dual(q1, q2, c)
    for i in range(3):
        alone = act.dual(q1[i : i + 1], q2[i : i + 1], c[i : i + 1])
        for a, b in zip(alone, together):
            assert abs(float(a[0]) - float(b[i])) <= 1e-15 * abs(float(b[i]))


# --------------------------------------------------------------------------- Fourier features, residual widths


def test_fourier_features_estimate_the_gaussian_kernel_and_pass_on_half_of_it():
    """The docstring's two statements: phi^T phi' / m -> exp(-2 pi^2 sigma^2 |x - x'|^2); the per-coordinate
    kernel a following Dense sees (fan-in 2m) is half of it."""
    m, sigma = 200_000, 0.3
    x = _x(3, 2, 8)
    layer = L.FourierFeatures(m, sigma, seed=0)
    from ntk_lib._modules import fourier_embedding

    phi = fourier_embedding(x, layer.matrix(2))
    gauss = torch.exp(-2 * math.pi**2 * sigma**2 * torch.cdist(x, x) ** 2)
    assert float((phi @ phi.T / m - gauss).abs().max()) < 5 / math.sqrt(m)
    k = L.serial(layer, L.Dense(1)).kernel(x)  # Sigma = K_phi for w = 1, b = 0
    torch.testing.assert_close(k.nngp, phi @ phi.T / (2 * m), rtol=1e-12, atol=1e-14)


def test_kernel_refuses_a_residual_branch_that_changes_width():
    net = L.serial(L.Dense(5), L.Residual(L.serial(L.Dense(7), L.Relu())), L.Dense(1))
    with pytest.raises(ValueError, match="maps 5 features to 7"):
        net.kernel(_x(3, 2, 0))
    with pytest.raises(ValueError, match="maps 5 features to 7"):
        net.build(2)
