"""ntk_lib.layers: symmetry and positive semi-definiteness of composed kernels (hypothesis), and bad input."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from ntk_lib import layers as L

F64 = torch.float64


def _x(n, d, seed):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=F64)


_ACTS = {"relu": L.Relu, "erf": L.Erf, "tanh": lambda: L.Activation("tanh")}


@st.composite
def architectures(draw):
    """Random compositions: optional Fourier features, Dense/activation pairs, residual blocks whose
    branches end in a Dense layer or in an activation, with alpha and drop_prob per block."""
    width = 8
    layers = []
    if draw(st.booleans()):
        layers.append(
            L.FourierFeatures(draw(st.integers(1, 6)), draw(st.floats(0.1, 2.0)), seed=draw(st.integers(0, 9)))
        )
    w = st.floats(0.3, 3.0)
    b = st.floats(0.0, 1.0)
    layers.append(L.Dense(width, draw(w), draw(b)))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["act", "res_act", "res_dense"]))
        act = _ACTS[draw(st.sampled_from(sorted(_ACTS)))]
        if kind == "act":  # an activation needs a Gaussian (Dense) input
            if not isinstance(layers[-1], L.Dense):
                layers.append(L.Dense(width, draw(w), draw(b)))
            layers.append(act())
        else:
            branch = [L.Dense(width, draw(w), draw(b)), act()]
            if kind == "res_dense":
                branch.append(L.Dense(width, draw(w), draw(b)))
            alpha = draw(st.floats(0.0, 2.0))
            drop = draw(st.sampled_from([0.0, 0.2, 0.5]))
            layers.append(L.Residual(L.serial(*branch), alpha=alpha, drop_prob=drop))
    layers.append(L.Dense(1, draw(w), draw(b)))
    return L.serial(*layers)


def _check_psd(k):
    ev = torch.linalg.eigvalsh(k)
    assert float(ev.min()) >= -1e-10 * max(float(ev.abs().max()), 1e-300), ev


@given(architectures(), st.integers(0, 10**6), st.sampled_from([None, "masks"]))
def test_kernels_are_symmetric_psd_and_consistent(net, seed, expectation):
    x = _x(7, 3, seed)
    x2 = _x(4, 3, seed + 1)
    k = net.kernel(x, expectation=expectation)
    for a in (k.nngp, k.ntk):
        assert a.dtype == F64 and a.shape == (7, 7)
        assert torch.isfinite(a).all()
        assert torch.equal(a, a.T)
        _check_psd(a)
    # the NTK dominates the NNGP of the output (it contains the readout's own term)
    _check_psd(k.ntk - k.nngp)
    # K(x, x2) is a block of K([x; x2]) and K(x2, x) its transpose
    both = torch.cat([x, x2])
    kb = net.kernel(both, expectation=expectation)
    k12 = net.kernel(x, x2, expectation=expectation)
    k21 = net.kernel(x2, x, expectation=expectation)
    rtol = 1e-9
    for full, cross, back in ((kb.nngp, k12.nngp, k21.nngp), (kb.ntk, k12.ntk, k21.ntk)):
        scale = float(full.abs().max())
        torch.testing.assert_close(cross, full[:7, 7:], rtol=rtol, atol=rtol * 1e-3 * scale)
        torch.testing.assert_close(back, cross.T, rtol=rtol, atol=rtol * 1e-3 * scale)


def test_device_and_dtype_follow_the_input():
    net = L.serial(L.Dense(4, 2.0, 0.1), L.Relu(), L.Dense(1))
    k = net.kernel(_x(3, 2, 0).float())
    assert k.ntk.dtype == F64 and k.ntk.device == torch.device("cpu")
    k_list = net.kernel([[1.0, 0.0], [0.0, 2.0]])
    assert k_list.ntk.shape == (2, 2)


# --------------------------------------------------------------------------- bad input


def test_bad_layers_and_compositions():
    with pytest.raises(ValueError, match="at least one layer"):
        L.serial()
    with pytest.raises(TypeError, match=r"layers\[1\] must be a layer"):
        L.serial(L.Dense(3), nn.Linear(3, 3))
    with pytest.raises(TypeError, match="branch must be a layer"):
        L.Residual(nn.Linear(3, 3))
    with pytest.raises(ValueError, match="must start with a Dense"):
        L.Residual(L.serial(L.Relu(), L.Dense(3)))
    with pytest.raises(TypeError, match="describes an architecture"):
        L.Dense(3)(torch.ones(2, 3))
    x = _x(3, 2, 0)
    with pytest.raises(ValueError, match="not Gaussian"):
        L.serial(L.Dense(4), L.Relu(), L.Relu(), L.Dense(1)).kernel(x)
    with pytest.raises(ValueError, match="not Gaussian"):
        L.serial(L.Dense(4), L.Residual(L.serial(L.Dense(4), L.Relu())), L.Relu(), L.Dense(1)).kernel(x)
    with pytest.raises(ValueError, match="put it first"):
        L.serial(L.Dense(4), L.FourierFeatures(3, 1.0)).kernel(x)
    with pytest.raises(ValueError, match="Dense layer before it"):
        L.serial(L.Residual(L.serial(L.Dense(2), L.Relu()))).kernel(x)
    with pytest.raises(ValueError, match="as many features"):
        L.serial(L.Dense(4), L.Residual(L.serial(L.Dense(5), L.Relu()))).build(2)


@pytest.mark.parametrize(
    "kwargs, err, msg",
    [
        ({"alpha": -0.1}, ValueError, "alpha must be >= 0"),
        ({"alpha": math.nan}, ValueError, "alpha must be finite"),
        ({"alpha": math.inf}, ValueError, "alpha must be finite"),
        ({"alpha": "1"}, TypeError, "alpha must be a real number"),
        ({"drop_prob": 1.0}, ValueError, r"drop_prob must lie in \[0, 1\)"),
        ({"drop_prob": -0.1}, ValueError, r"drop_prob must lie in \[0, 1\)"),
        ({"drop_prob": math.nan}, ValueError, r"drop_prob must (lie in \[0, 1\)|be finite)"),
        ({"drop_prob": True}, TypeError, "drop_prob must be a real number"),
    ],
)
def test_bad_residual_arguments(kwargs, err, msg):
    with pytest.raises(err, match=msg):
        L.Residual(L.serial(L.Dense(4), L.Relu()), **kwargs)


@pytest.mark.parametrize(
    "make, err, msg",
    [
        (lambda: L.Dense(0), ValueError, "out_features must be a positive integer"),
        (lambda: L.Dense(2.5), TypeError, "out_features must be a positive integer"),
        (lambda: L.Dense(3, weight_var=0.0), ValueError, "weight_var must be > 0"),
        (lambda: L.Dense(3, bias_var=-1.0), ValueError, "bias_var must be >= 0"),
        (lambda: L.Dense(3, parameterization="sp"), ValueError, "parameterization must be one of"),
        (lambda: L.Activation("sigmoidal?"), ValueError, "activation must be"),
        (lambda: L.Activation(3), TypeError, "activation must be"),
        (lambda: L.FourierFeatures(0, 1.0), ValueError, "n_features must be a positive integer"),
        (lambda: L.FourierFeatures(4, -1.0), ValueError, "sigma must be > 0"),
        (lambda: L.FourierFeatures(4, 1.0, seed=-2), ValueError, "seed must be a non-negative integer"),
    ],
)
def test_bad_layer_arguments(make, err, msg):
    with pytest.raises(err, match=msg):
        make()


def test_bad_kernel_and_build_arguments():
    net = L.serial(L.Dense(4), L.Residual(L.serial(L.Dense(4), L.Relu()), drop_prob=0.3), L.Dense(1))
    x = _x(3, 2, 0)
    with pytest.raises(ValueError, match="feature dimensions must match"):
        net.kernel(x, _x(3, 5, 1))
    with pytest.raises(ValueError, match="x1"):
        net.kernel(torch.ones(3))
    with pytest.raises(ValueError, match="x1"):
        net.kernel(torch.tensor([[1.0, math.nan]]))
    with pytest.raises(ValueError, match="expectation must be"):
        net.kernel(x, expectation="mean")
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        net.build(0)
    with pytest.raises(TypeError, match="in_features must be a positive integer"):
        net.build(2.5)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        net.build(2, seed=-1)
    with pytest.raises(TypeError, match="dtype must be a floating"):
        net.build(2, dtype=torch.int64)
    model = net.build(2, seed=0)
    with pytest.raises(ValueError, match=r"in_features=2"):
        model(torch.ones(3, 5))


@pytest.mark.parametrize("expectation", [None, "masks"])
def test_row_blocks_give_the_same_kernel(monkeypatch, expectation):
    net = L.serial(
        L.FourierFeatures(4, 0.8, seed=2),
        L.Dense(8, 2.0, 0.1),
        L.Residual(L.serial(L.Dense(8, 1.0, 0.1), L.Relu()), alpha=0.7, drop_prob=0.3),
        L.Residual(L.serial(L.Dense(8, 1.5), L.Erf(), L.Dense(8)), alpha=1.2, drop_prob=0.2),
        L.Dense(1, 1.0, 0.05),
    )
    x, x2 = _x(23, 3, 0), _x(9, 3, 1)
    whole = [net.kernel(x, expectation=expectation), net.kernel(x, x2, expectation=expectation)]
    monkeypatch.setattr(L, "_ROW_BLOCK_ELEMS", 40)  # blocks of 1 to 4 rows
    blocked = [net.kernel(x, expectation=expectation), net.kernel(x, x2, expectation=expectation)]
    for a, b in zip(whole, blocked):
        for u, v in ((a.nngp, b.nngp), (a.ntk, b.ntk)):
            torch.testing.assert_close(v, u, rtol=1e-12, atol=1e-14)
    assert torch.equal(blocked[0].ntk, blocked[0].ntk.T)
    _check_psd(blocked[0].ntk)
    # sampled masks: every row block uses the same patterns
    monkeypatch.setattr(L, "MAX_MASK_PATTERNS", 2)
    monkeypatch.setattr(L, "_ROW_BLOCK_ELEMS", 10**9)
    one = net.kernel(x, expectation="masks", mask_samples=30, seed=4)
    monkeypatch.setattr(L, "_ROW_BLOCK_ELEMS", 40)
    many = net.kernel(x, expectation="masks", mask_samples=30, seed=4)
    for u, v in zip(one, many):
        torch.testing.assert_close(v, u, rtol=1e-10, atol=1e-13)


def test_colinear_pairs_and_zero_rows():
    """Colinear pairs of different norms (1 - rho = 0 exactly) stay finite on both ReLU paths (with and
    without a zero-variance row), and the other rows match relu_ntk."""
    from ntk_lib.analytic import relu_ntk

    pts = torch.tensor([[1.0, 2.0], [2.0, 4.0], [-1.0, -2.0], [0.3, -0.1]], dtype=F64)
    net = L.serial(L.Dense(4, 2.0), L.Relu(), L.Dense(4, 2.0), L.Relu(), L.Dense(1, 2.0))
    ref = relu_ntk(pts, depth=3, weight_var=2.0)
    torch.testing.assert_close(net.kernel(pts).ntk, ref, rtol=1e-12, atol=1e-14)
    with_zero = net.kernel(torch.cat([torch.zeros(1, 2, dtype=F64), pts])).ntk
    assert torch.isfinite(with_zero).all()
    assert torch.equal(with_zero[0], torch.zeros(5, dtype=F64))
    # the general path forms 1 - rho with other roundings; at rho = -1 the step's sin(theta) has an
    # infinite slope in 1 - rho, so an ulp there moves the kernel by about sqrt(eps)
    torch.testing.assert_close(with_zero[1:, 1:], ref, rtol=1e-7, atol=1e-12)
