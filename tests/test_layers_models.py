"""ntk_lib.layers with the course's networks: MLP and NTK-ECRN are their architectures, NTK-ECRN's kernel
against wide networks, stochastic-depth masks, Fourier features, parameterizations."""

import itertools
import math

import pytest
import torch

from ntk_lib import activations as A
from ntk_lib import layers as L
from ntk_lib.analytic import relu_nngp, relu_ntk
from ntk_lib.empirical import empirical_ntk
from ntk_lib.fit import loglog_slope
from ntk_lib.models import MLP, NTKECRN, FourierFeatures
from ntk_lib.residual import mask_expected_ntk

F64 = torch.float64


def _x(n=5, d=2, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=F64)


def _rel(a, b):
    return float((a - b).norm() / b.norm())


def _slope(x, y):
    return loglog_slope(x, y)[0]


# --------------------------------------------------------------------------- models are their architectures


@pytest.mark.parametrize("param", ["ntk", "standard", "mup"])
@pytest.mark.parametrize("act", ["relu", "erf"])
def test_mlp_is_its_architecture(param, act):
    net = MLP(3, 32, 3, 2, activation=act, parameterization=param, weight_var=2.0, bias_var=0.1, seed=4, dtype=F64)
    built = net.architecture.build(3, seed=4, dtype=F64)
    x = _x(7, 3)
    assert torch.equal(net(x), built(x))
    assert [p.shape for p in net.parameters()] == [p.shape for p in built.parameters()]
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), built.parameters()))
    assert net.lr_multiplier == built.lr_multiplier == (32.0 if param == "mup" else 1.0)


def test_mlp_kernel_is_relu_ntk():
    x = _x(9, 4)
    net = MLP(4, 16, 5, weight_var=2.0, bias_var=0.3, seed=0)
    k = net.kernel(x)
    assert torch.allclose(k.ntk, relu_ntk(x, depth=5, weight_var=2.0, bias_var=0.3), rtol=1e-12, atol=0)
    assert torch.allclose(k.nngp, relu_nngp(x, depth=5, weight_var=2.0, bias_var=0.3), rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="mup"):
        MLP(4, 16, 3, parameterization="mup", seed=0).kernel(x)


def _ecrn(width, seed=0, blocks=3, p=0.2, alpha=0.7, schedule="constant", act="relu", sigma=0.5, bias_var=0.1):
    return NTKECRN(
        2,
        width,
        blocks,
        fourier_features=8,
        fourier_sigma=sigma,
        alpha=alpha,
        alpha_schedule=schedule,
        drop_prob=p,
        activation=act,
        bias_var=bias_var,
        seed=seed,
        dtype=F64,
    )


@pytest.mark.parametrize("sigma", [0.5, None])
def test_ntkecrn_is_its_architecture(sigma):
    net = _ecrn(24, seed=3, p=[0.1, 0.0, 0.4], schedule="1/sqrt(L)", sigma=sigma)
    built = net.architecture.build(2, seed=3, dtype=F64)
    x = _x(6)
    net.eval()
    built.eval()
    assert torch.equal(net(x), built(x))
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), built.parameters()))
    assert {n for n, _ in net.named_buffers()} == ({"fourier.B"} if sigma else set())
    res = [layer for layer in net.architecture.layers if isinstance(layer, L.Residual)]
    assert [r.alpha for r in res] == pytest.approx([0.7 / math.sqrt(3)] * 3)
    assert [r.drop_prob for r in res] == [0.1, 0.0, 0.4]


def _errors_over_widths(make, x, widths, seeds=3, expectation=None):
    """Mean relative error of each network's empirical NTK (over masks with ``expectation="masks"``)
    against its own kernel (each seed draws its own Fourier matrix B)."""
    fn = mask_expected_ntk if expectation == "masks" else empirical_ntk
    errs = []
    for n in widths:
        nets = [make(n, s).eval() for s in range(seeds)]
        errs.append(sum(_rel(fn(m, x).detach(), m.kernel(x, expectation=expectation).ntk) for m in nets) / seeds)
    return errs


def test_ntkecrn_kernel_is_the_wide_limit():
    """NTK-ECRN (branches that end in a ReLU, drop_prob in eval mode): empirical NTK -> kernel(), error
    slope near -1/2 over widths and no plateau."""
    x = _x(4)
    widths = [64, 128, 256, 512, 1024]
    errs = _errors_over_widths(lambda n, s: _ecrn(n, seed=s), x, widths)
    assert -0.8 < _slope(widths, errs) < -0.3, errs
    assert _slope(widths[-3:], errs[-3:]) < -0.25, errs


def _naive_stream_kernel(net, x):
    """<h_L(x), h_L(x')>/n by the rule K' = K + alpha^2 K_branch (the one that drops the stream's mean)."""
    k = L.serial(*net.architecture.layers[:2]).kernel(x).nngp  # Fourier features, input Dense
    relu = A.relu()
    for a in net.alphas:
        sigma = k + 0.1
        q = sigma.diagonal()
        k = k + a * a * relu.dual(q[:, None], q[None, :], sigma)[0]
    return k


def test_residual_stream_of_ntkecrn_against_a_wide_network_and_the_naive_rule():
    """The stream <h_L(x), h_L(x')>/n of a wide NTK-ECRN matches the exact rule (with the mean cross terms)
    and not the rule that adds alpha^2 times the branch kernel."""
    x = _x(4)
    make = lambda n, s: _ecrn(n, seed=s, blocks=6, p=0.0, alpha=1.0, sigma=0.5)  # noqa: E731
    width = 2048
    for seed in range(2):
        net = make(width, seed).eval()
        exact = L.serial(*net.architecture.layers[:-1]).kernel(x).nngp
        naive = _naive_stream_kernel(net, x)
        gap = _rel(naive, exact)
        assert gap > 0.15  # the cross terms matter: the rules are far apart on this network
        with torch.no_grad():
            h = net.features(x)
        wide = h @ h.T / width
        assert _rel(wide, exact) < gap / 4
        assert _rel(wide, naive) > gap / 2


@pytest.mark.parametrize("act", [L.Relu, L.Erf])
def test_mask_expectation_is_the_enumeration_over_patterns(act):
    """kernel(expectation="masks") = sum over the 2^B mask patterns of P(m) times the kernel of the
    network with blocks alpha * m (built independently here)."""
    alphas, probs = [0.6, 1.2, 0.3], [0.3, 0.0, 0.5]

    def arch(scales, drops):
        blocks = [
            L.Residual(L.serial(L.Dense(8, 1.5, 0.1), act()), alpha=a, drop_prob=q) for a, q in zip(scales, drops)
        ]
        return L.serial(L.FourierFeatures(6, 0.8, seed=1), L.Dense(8, 2.0), *blocks, L.Dense(1, 1.0, 0.05))

    x, x2 = _x(5), _x(3, seed=9)
    for other in (None, x2):
        got = arch(alphas, probs).kernel(x, other, expectation="masks")
        assert got.nngp_se is None and got.ntk_se is None
        nngp = ntk = 0.0
        for pattern in itertools.product((0, 1), repeat=3):
            weight = math.prod(1 - q if m else q for m, q in zip(pattern, probs))
            k = arch([a * m for a, m in zip(alphas, pattern)], [0.0] * 3).kernel(x, other)
            nngp, ntk = nngp + weight * k.nngp, ntk + weight * k.ntk
        torch.testing.assert_close(got.ntk, ntk, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(got.nngp, nngp, rtol=1e-12, atol=1e-14)
        # eval mode is a different network (alpha (1 - p) inside): not the same kernel
        assert _rel(arch(alphas, probs).kernel(x, other).ntk, got.ntk) > 1e-3


def test_mask_expectation_against_wide_networks():
    """E over masks of the empirical NTK of wide NTK-ECRNs -> kernel(expectation="masks")."""
    x = _x(4)
    widths = [64, 128, 256, 512, 1024]
    errs = _errors_over_widths(lambda n, s: _ecrn(n, seed=s, p=0.4), x, widths, expectation="masks")
    assert -0.8 < _slope(widths, errs) < -0.3, errs
    assert errs[-1] < 0.08


def test_many_blocks_are_sampled_with_standard_errors(monkeypatch):
    net = _ecrn(8, blocks=4, p=0.3)
    x = _x(4)
    exact = net.kernel(x, expectation="masks")
    monkeypatch.setattr(L, "MAX_MASK_PATTERNS", 8)  # 16 patterns: more than enumerated
    with pytest.raises(ValueError, match="mask_samples"):
        net.kernel(x, expectation="masks")
    with pytest.raises(ValueError, match="mask_samples"):
        net.kernel(x, expectation="masks", mask_samples=1)
    got = net.kernel(x, expectation="masks", mask_samples=400, seed=2)
    assert got.ntk_se is not None and float(got.ntk_se.max()) > 0
    z = ((got.ntk - exact.ntk).abs() / got.ntk_se.clamp(min=1e-300)).max()
    assert float(z) < 4.5
    again = net.kernel(x, expectation="masks", mask_samples=400, seed=2)
    assert torch.equal(again.ntk, got.ntk)


# --------------------------------------------------------------------------- Fourier features


def test_fourier_kernel_is_exact_for_the_drawn_matrix():
    ff = L.FourierFeatures(32, 0.9, seed=5)
    x, x2 = _x(6, 3), _x(4, 3, seed=1)
    module = FourierFeatures(3, 32, 0.9, seed=5, dtype=F64)
    assert torch.equal(module.B, ff.matrix(3))
    phi, phi2 = module(x), module(x2)
    k = L.serial(ff).kernel(x, x2)
    torch.testing.assert_close(k.nngp, phi @ phi2.T / 64, rtol=1e-13, atol=1e-15)
    assert torch.equal(k.ntk, torch.zeros_like(k.ntk))
    # a ReLU MLP on the features: its NTK is relu_ntk of the features (with n0 = 2m)
    net = L.serial(ff, L.Dense(16, 2.0, 0.1), L.Relu(), L.Dense(1, 2.0, 0.1))
    torch.testing.assert_close(
        net.kernel(x, x2).ntk, relu_ntk(phi, phi2, depth=2, weight_var=2.0, bias_var=0.1), rtol=1e-12, atol=1e-14
    )


def test_fourier_kernel_tends_to_the_gaussian():
    sigma = 0.4
    x = _x(6, 2)
    gauss = 0.5 * torch.exp(-2 * math.pi**2 * sigma**2 * torch.cdist(x, x) ** 2)
    ms = [16, 64, 256, 1024, 4096]
    errs = [
        sum(_rel(L.serial(L.FourierFeatures(m, sigma, seed=s)).kernel(x).nngp, gauss) for s in range(8)) / 8 for m in ms
    ]
    assert -0.7 < _slope(ms, errs) < -0.3, errs
    assert errs[-1] < 0.03


# --------------------------------------------------------------------------- parameterizations


def test_standard_parameterization_computes_the_same_function():
    arch = {p: L.serial(L.Dense(64, 2.0, 0.1, p), L.Relu(), L.Dense(1, 2.0, 0.1, p)) for p in ("ntk", "standard")}
    x = _x(5, 3)
    outs = {p: a.build(3, seed=1, dtype=F64)(x) for p, a in arch.items()}
    torch.testing.assert_close(outs["standard"], outs["ntk"], rtol=1e-12, atol=1e-14)
    assert torch.equal(arch["standard"].kernel(x).ntk, arch["ntk"].kernel(x).ntk)
    # the standard parameterization's NTK is not the limit: its first layer's gradient is n_in times larger
    wide = arch["standard"].build(3, seed=1, dtype=F64)
    assert _rel(empirical_ntk(wide, x), arch["ntk"].kernel(x).ntk) > 1.0


def test_mup_readout_vanishes_with_width_and_has_no_kernel():
    arch = lambda n: L.serial(L.Dense(n, 2.0), L.Relu(), L.Dense(1, 2.0, parameterization="mup"))  # noqa: E731
    x = _x(3, 3)
    with torch.no_grad():
        outs = {n: torch.stack([arch(n).build(3, seed=s, dtype=F64)(x) for s in range(20)]) for n in (64, 1024)}
    rms = [float(outs[n].pow(2).mean().sqrt()) for n in (64, 1024)]
    assert rms[1] < rms[0] / 2.5  # O(n^-1/2): a factor 4 for 16x the width
    assert arch(64).build(3, seed=0).lr_multiplier == 64.0
    with pytest.raises(ValueError, match="mup"):
        arch(64).kernel(x)


def test_resnet18_is_reexported():
    from ntk_lib import resnet
    from ntk_lib.models import ResNet18

    assert ResNet18 is resnet.ResNet18


def test_built_stochastic_depth_draws_masks_in_training_mode_and_uses_expectations_in_eval():
    from ntk_lib._modules import ResidualBlock

    arch = L.serial(L.Dense(16), L.Residual(L.serial(L.Dense(16), L.Relu()), alpha=0.8, drop_prob=0.3), L.Dense(1))
    model = arch.build(2, seed=0, dtype=F64)
    (block,) = [m for m in model.modules() if isinstance(m, ResidualBlock)]
    x = _x(3)
    with torch.no_grad():
        model.eval()
        eval_out = model(x)
        block.mask = 0.7
        assert torch.equal(model(x), eval_out)
        block.mask = 0.0
        dropped = model(x)
        block.mask = 1.0
        kept = model(x)
        block.mask = None
        model.train()
        outs = [model(x) for _ in range(2000)]
    n_dropped = sum(bool(torch.equal(o, dropped)) for o in outs)
    assert all(torch.equal(o, dropped) or torch.equal(o, kept) for o in outs)
    # binomial(2000, 0.3): sd 20.5, so +-4 sd is +-82
    assert abs(n_dropped - 600) < 82, n_dropped


def test_mask_tree_equals_the_full_enumeration_and_nested_blocks_are_enumerated(monkeypatch):
    x = _x(5)
    top = _ecrn(8, blocks=4, p=[0.1, 0.5, 0.0, 0.3]).architecture
    inner = L.Residual(L.serial(L.Dense(8, 1.2), L.Erf()), alpha=0.9, drop_prob=0.4)
    nested = L.serial(
        L.Dense(8, 2.0),
        L.Residual(L.serial(L.Dense(8, 1.0, 0.1), inner, L.Dense(8)), alpha=0.6, drop_prob=0.25),
        L.Dense(1),
    )
    fast = top.kernel(x, expectation="masks")
    monkeypatch.setattr(L.Layer, "_mask_tree", lambda self, start, blocks: None)
    slow = top.kernel(x, expectation="masks")
    torch.testing.assert_close(fast.ntk, slow.ntk, rtol=1e-12, atol=0)
    torch.testing.assert_close(fast.nngp, slow.nngp, rtol=1e-12, atol=0)
    monkeypatch.undo()
    # nested: E over (outer, inner) masks, by hand
    got = nested.kernel(x, expectation="masks")
    want = 0.0
    for mo, mi in itertools.product((0, 1), repeat=2):
        weight = (0.75 if mo else 0.25) * (0.6 if mi else 0.4)
        branch = L.serial(
            L.Dense(8, 1.0, 0.1), L.Residual(L.serial(L.Dense(8, 1.2), L.Erf()), alpha=0.9 * mi), L.Dense(8)
        )
        net = L.serial(L.Dense(8, 2.0), L.Residual(branch, alpha=0.6 * mo), L.Dense(1))
        want = want + weight * net.kernel(x).ntk
    torch.testing.assert_close(got.ntk, want, rtol=1e-12, atol=0)


def test_fourier_matrix_is_the_float32_draw_in_every_dtype():
    """B is the float32 draw of its seed (the matrix the chapters' seeds have always given), held exactly
    by float32 and float64 modules and by the kernel."""
    gen = torch.Generator().manual_seed(11)
    b32 = torch.randn(16, 3, generator=gen, dtype=torch.float32) * 1.7
    assert torch.equal(FourierFeatures(3, 16, 1.7, seed=11).B, b32)
    assert torch.equal(FourierFeatures(3, 16, 1.7, seed=11, dtype=F64).B, b32.double())
    assert torch.equal(L.FourierFeatures(16, 1.7, seed=11).matrix(3), b32.double())
