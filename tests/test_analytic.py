"""ntk_lib.analytic against closed forms, high-precision references, Monte Carlo and itself."""

import math

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ntk_lib import analytic
from ntk_lib.analytic import (
    h,
    h_prime,
    nngp_ntk,
    relu_kernel_layers,
    relu_nngp,
    relu_ntk,
    theta_bar_recurrence,
)

mpmath.mp.dps = 50


def mp_theta_bar(rho1, depth):
    """Prop. 5 in 50-digit arithmetic: the reference for precision tests."""
    rho = mpmath.mpf(rho1)
    tb = rho
    for layer in range(1, depth):
        hp = mpmath.mpf(1) / 2 + mpmath.asin(rho) / mpmath.pi
        hv = rho * mpmath.asin(rho) / mpmath.pi + mpmath.sqrt(1 - rho * rho) / mpmath.pi + rho / 2
        tb = mpmath.mpf(layer) / (layer + 1) * hp * tb + hv / (layer + 1)
        rho = hv
    return tb


# ----------------------------------------------------------------- closed forms


@pytest.mark.parametrize("depth", [1, 2, 3, 7, 20, 40, 60])
def test_prop1_diagonal_on_sphere(sphere_points, depth):
    n0 = 16
    x = sphere_points(9, n0)
    k = relu_ntk(x, depth=depth)
    expected = depth / (n0 * 2.0 ** (depth - 1))
    assert torch.allclose(k.diagonal(), torch.full((9,), expected, dtype=torch.float64), rtol=1e-12, atol=0)
    s = relu_nngp(x, depth=depth)
    assert torch.allclose(
        s.diagonal(), torch.full((9,), 1 / (n0 * 2.0 ** (depth - 1)), dtype=torch.float64), rtol=1e-12, atol=0
    )


def test_prop1_colinear_pair():
    x = torch.tensor([[3.0, 4.0], [0.6, 0.8]], dtype=torch.float64)  # colinear, norms 5 and 1
    for depth in (2, 5, 30):
        k = relu_ntk(x, depth=depth)
        assert k[0, 1].item() == pytest.approx(depth * 5 / (2 * 2 ** (depth - 1)), rel=1e-13)


def test_arc_cosine_kernel_cho_saul(sphere_points):
    """Depth 2: Sigma^2 = (w/2pi) |x||x'|/n0 (sin t + (pi - t) cos t), Sigma-dot = w (pi - t)/(2 pi)."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(7, 5, generator=g, dtype=torch.float64) * 1.7
    y = torch.randn(4, 5, generator=g, dtype=torch.float64)
    w, n0 = 1.3, 5
    nx, ny = x.norm(dim=1), y.norm(dim=1)
    cos = ((x @ y.T) / torch.outer(nx, ny)).clamp(-1, 1).numpy()
    t = np.arccos(cos)
    q = torch.outer(nx, ny).numpy() * w / n0
    sigma2 = w / (2 * np.pi) * q * (np.sin(t) + (np.pi - t) * np.cos(t))
    sdot2 = w * (np.pi - t) / (2 * np.pi)
    theta2 = sdot2 * q * cos + sigma2
    assert np.allclose(relu_nngp(x, y, depth=2, weight_var=w).numpy(), sigma2, rtol=1e-12, atol=0)
    assert np.allclose(relu_ntk(x, y, depth=2, weight_var=w).numpy(), theta2, rtol=1e-12, atol=0)


def test_homogeneity_prop2():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 3, generator=g, dtype=torch.float64)
    y = torch.randn(6, 3, generator=g, dtype=torch.float64)
    xn = x / x.norm(dim=1, keepdim=True)
    yn = y / y.norm(dim=1, keepdim=True)
    scale = torch.outer(x.norm(dim=1), y.norm(dim=1))
    for depth in (1, 3, 8):
        assert torch.allclose(relu_ntk(x, y, depth=depth), scale * relu_ntk(xn, yn, depth=depth), rtol=1e-13)


def test_h_and_h_prime():
    z = torch.linspace(-1, 1, 201, dtype=torch.float64)
    assert h(torch.tensor(-1.0)).item() == pytest.approx(0.0, abs=1e-15)
    assert h(torch.tensor(1.0)).item() == pytest.approx(1.0, abs=1e-15)
    assert bool((h(z) >= z - 1e-15).all())
    assert bool((torch.diff(h(z)) > 0).all())
    zr = z.clone().requires_grad_(True)
    hz = zr * torch.asin(zr) / math.pi + torch.sqrt(1 - zr**2) / math.pi + zr / 2
    (grad,) = torch.autograd.grad(hz[1:-1].sum(), zr)
    assert torch.allclose(grad[1:-1], h_prime(z[1:-1]), rtol=1e-10)
    with pytest.raises(ValueError, match="z must lie in"):
        h(torch.tensor([1.5]))


# ----------------------------------------------------------------- precision


def test_normalized_matches_prop5_at_depth_5000(sphere_points):
    x = sphere_points(6, 8)
    # The reference must not depend on how a reduction rounds its last bit: the diagonal cosine
    # is exactly 1 (a rounded x_i.x_i = 1 - 2^-52 is amplified by the recurrence through sqrt(1 - rho)),
    # and off the diagonal the recurrence is well conditioned.
    rho = (x @ x.T).clamp(-1, 1)
    rho.fill_diagonal_(1.0)
    prop5 = theta_bar_recurrence(rho, 5000)[-1]
    norm = relu_ntk(x, depth=5000, normalized=True)
    assert bool(torch.isfinite(norm).all())
    assert torch.allclose(norm, prop5, rtol=0, atol=1e-12)
    # the raw kernel at this depth underflows: a clear error instead of zeros
    with pytest.raises(ValueError, match="normalized=True"):
        relu_ntk(x, depth=5000)
    assert norm.diagonal().sub(1).abs().max() < 1e-12
    off = norm[~torch.eye(6, dtype=torch.bool)]
    assert bool(((off - 0.25).abs() < 0.01).all())


@pytest.mark.parametrize("rho1", [-0.9, 0.0, 0.5, 0.99, 1 - 1e-9])
def test_prop5_recurrence_against_50_digits(rho1):
    depth = 300
    ours = theta_bar_recurrence(torch.tensor(rho1, dtype=torch.float64), depth)[-1].item()
    ref = float(mp_theta_bar(rho1, depth))
    assert ours == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("angle", [1e-3, 1e-5, 1e-7])
def test_nearly_colinear_inputs_keep_precision(angle):
    """A pair at a tiny angle keeps full relative precision; taking arccos of a rounded
    correlation (the textbook route) loses about half the digits here."""
    x = torch.tensor([[1.0, 0.0, 0.0], [math.cos(angle), math.sin(angle), 0.0]], dtype=torch.float64)
    depth = 6
    true_angle = mpmath.atan2(mpmath.mpf(x[1, 1].item()), mpmath.mpf(x[1, 0].item()))
    tb_ref = mp_theta_bar(mpmath.cos(true_angle), depth)
    raw_ref = float(tb_ref * depth / (3 * mpmath.mpf(2) ** (depth - 1)))
    assert relu_ntk(x, depth=depth, normalized=True)[0, 1].item() == pytest.approx(float(tb_ref), rel=1e-14, abs=0)
    assert relu_ntk(x, depth=depth)[0, 1].item() == pytest.approx(raw_ref, rel=1e-14, abs=0)
    layers = relu_kernel_layers(x, depth=depth)
    assert layers.theta[-1, 0, 1].item() == pytest.approx(raw_ref, rel=1e-14, abs=0)


def test_diagonal_angle_exactly_zero(sphere_points):
    x = sphere_points(30, 10)
    layers = relu_kernel_layers(x, depth=12)
    assert bool((layers.rho.diagonal(dim1=1, dim2=2) == 1).all())


# ----------------------------------------------------------------- structure and properties


def test_layers_satisfy_jacot_recursion():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(5, 4, generator=g, dtype=torch.float64)
    y = torch.randn(3, 4, generator=g, dtype=torch.float64)
    w, b = 1.4, 0.2
    lay = relu_kernel_layers(x, y, depth=6, weight_var=w, bias_var=b)
    assert torch.allclose(lay.theta[0], lay.sigma[0])
    for layer in range(1, 6):
        assert torch.allclose(
            lay.theta[layer], lay.sigma_dot[layer] * lay.theta[layer - 1] + lay.sigma[layer], rtol=1e-12
        )
    assert torch.allclose(lay.theta[-1], relu_ntk(x, y, depth=6, weight_var=w, bias_var=b), rtol=1e-13)
    assert torch.allclose(lay.sigma[-1], relu_nngp(x, y, depth=6, weight_var=w, bias_var=b), rtol=1e-13)
    sx = relu_kernel_layers(x, depth=6, weight_var=w, bias_var=b).sigma
    sy = relu_kernel_layers(y, depth=6, weight_var=w, bias_var=b).sigma
    rho = lay.sigma / torch.sqrt(sx.diagonal(dim1=1, dim2=2)[:, :, None] * sy.diagonal(dim1=1, dim2=2)[:, None, :])
    assert torch.allclose(lay.rho, rho, rtol=1e-12)


@pytest.mark.parametrize("bias_var", [0.0, 0.25])
def test_blocks_and_symmetric_path_agree(bias_var):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(37, 6, generator=g, dtype=torch.float64)
    full = relu_ntk(x, x.clone(), depth=5, bias_var=bias_var, block_elems=10**9)
    tiny = relu_ntk(x, depth=5, bias_var=bias_var, block_elems=50)
    assert torch.allclose(full, tiny, rtol=1e-13, atol=0)
    assert torch.equal(tiny, tiny.T)


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("bias_var", [0.0, 0.3])
def test_generic_recursion_matches(activation, bias_var):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(6, 5, generator=g, dtype=torch.float64)
    y = torch.randn(4, 5, generator=g, dtype=torch.float64)
    sig, th = nngp_ntk(x, y, depth=4, activation=activation, weight_var=1.5, bias_var=bias_var)
    if activation == "relu":
        assert torch.allclose(th, relu_ntk(x, y, depth=4, weight_var=1.5, bias_var=bias_var), rtol=1e-12)
        assert torch.allclose(sig, relu_nngp(x, y, depth=4, weight_var=1.5, bias_var=bias_var), rtol=1e-12)
    else:
        from ntk_lib.activations import from_function

        quad = from_function(torch.erf, num_points=200)
        sq, tq = nngp_ntk(x, y, depth=4, activation=quad, weight_var=1.5, bias_var=bias_var)
        assert float((sig - sq).abs().max()) < 1e-12 * float(sig.abs().max())
        assert float((th - tq).abs().max()) < 1e-12 * float(th.abs().max())


def test_quadrature_relu_close_to_closed_form():
    from ntk_lib.activations import from_function

    g = torch.Generator().manual_seed(6)
    x = torch.randn(5, 4, generator=g, dtype=torch.float64)
    exact = relu_ntk(x, depth=3)
    errors = []
    for m in (16, 64, 256):
        _, tq = nngp_ntk(x, depth=3, activation=from_function(torch.relu, num_points=m))
        errors.append(float((tq - exact).abs().max() / exact.abs().max()))
    # the kink makes Gauss-Hermite converge slowly, but it does converge to the closed form
    assert errors[2] < 0.01
    assert errors[2] < errors[1] < errors[0]


def test_erf_dual_against_monte_carlo():
    from ntk_lib.activations import erf

    g = torch.Generator().manual_seed(7)
    q1, q2, c = (
        torch.tensor(0.8, dtype=torch.float64),
        torch.tensor(1.5, dtype=torch.float64),
        torch.tensor(0.6, dtype=torch.float64),
    )
    cov = torch.tensor([[0.8, 0.6], [0.6, 1.5]], dtype=torch.float64)
    z = torch.randn(2_000_000, 2, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T
    mc_v = (torch.erf(z[:, 0]) * torch.erf(z[:, 1])).mean()
    deriv = 2 / math.sqrt(math.pi) * torch.exp(-(z**2))
    mc_d = (deriv[:, 0] * deriv[:, 1]).mean()
    v, d = erf().dual(q1, q2, c)
    assert v.item() == pytest.approx(mc_v.item(), abs=4e-3)
    assert d.item() == pytest.approx(mc_d.item(), abs=4e-3)


def test_nngp_against_finite_width_monte_carlo():
    """Sigma^L is the covariance of the output of a random ReLU network."""
    from ntk_lib.models import MLP

    g = torch.Generator().manual_seed(8)
    x = torch.randn(3, 4, generator=g, dtype=torch.float64)
    outs = torch.stack([MLP(4, 512, 3, seed=s, bias_var=0.2, dtype=torch.float64)(x).detach() for s in range(400)])
    mc = outs.T @ outs / outs.shape[0]
    exact = relu_nngp(x, depth=3, bias_var=0.2)
    assert torch.allclose(mc, exact, atol=0.2 * float(exact.abs().max()))


unit_rows = st.integers(min_value=0, max_value=10_000).map(
    lambda s: torch.nn.functional.normalize(
        torch.randn(5, 3, generator=torch.Generator().manual_seed(s), dtype=torch.float64), dim=1
    )
)


@given(x=unit_rows, depth=st.integers(1, 12), w=st.floats(0.2, 3.0), b=st.floats(0.0, 2.0))
def test_property_symmetric_psd(x, depth, w, b):
    k = relu_ntk(x, depth=depth, weight_var=w, bias_var=b)
    assert torch.equal(k, k.T)
    lam = torch.linalg.eigvalsh(k)
    assert float(lam.min()) >= -1e-12 * float(lam.max())
    y = x[:3] * 2.0
    assert torch.allclose(
        relu_ntk(x, y, depth=depth, weight_var=w, bias_var=b),
        relu_ntk(y, x, depth=depth, weight_var=w, bias_var=b).T,
        rtol=1e-13,
    )


def test_prop5_range_claim_fails_at_depth_2():
    """Prop. 5 says normalized values lie in [0, 1]; at L = 2 a negatively correlated pair
    breaks it: Theta-bar^(2) = (rho h'(rho) + h(rho)) / 2 < 0 near rho = -0.79."""
    tb = theta_bar_recurrence(torch.tensor([-0.79], dtype=torch.float64), 3)
    assert tb[1, 0] < -0.06
    assert tb[2, 0] > 0.08


@given(x=unit_rows, depth=st.integers(3, 40))
def test_property_normalized_in_unit_interval(x, depth):
    k = relu_ntk(x, depth=depth, normalized=True)
    assert float(k.min()) >= 0.0 and float(k.max()) <= 1.0 + 1e-15
    assert torch.allclose(k.diagonal(), torch.ones(5, dtype=torch.float64), atol=1e-14)


@given(depth=st.integers(2, 200))
def test_property_normalized_increasing_in_rho(depth):
    # increasing for rho >= 0 at every depth (not near rho = -1: see the chapter on depth)
    rho = torch.linspace(0.0, 0.999, 101, dtype=torch.float64)
    tb = theta_bar_recurrence(rho, depth)[-1]
    assert bool((torch.diff(tb) > 0).all())


def test_float32_output_and_module_attr():
    x = torch.randn(10, 3)
    k = relu_ntk(x, depth=3, dtype=torch.float32)
    assert k.dtype == torch.float32
    assert relu_ntk(x, depth=3).dtype == torch.float64
    assert analytic.DEFAULT_BLOCK_ELEMS > 0
