"""ntk_lib.layers: composed kernels against the closed-form paths and against wide built networks."""

import pytest
import torch

from ntk_lib import layers as L
from ntk_lib.analytic import relu_nngp, relu_ntk


def _x(n=6, d=3, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _mlp(depth, w, b, width=64):
    hidden = []
    for _ in range(depth - 1):
        hidden += [L.Dense(width, w, b), L.Relu()]
    return L.serial(*hidden, L.Dense(1, w, b))


@pytest.mark.parametrize("depth", [1, 2, 3, 6, 10])
@pytest.mark.parametrize("w,b", [(1.0, 0.0), (2.0, 0.0), (2.0, 0.1), (1.3, 0.5)])
def test_composed_relu_mlp_equals_relu_ntk(depth, w, b):
    x = _x(12, 5)
    x2 = torch.cat([x[:4], _x(5, 5, seed=1)])  # shared rows: the diagonal x = x' appears in x2 too
    net = _mlp(depth, w, b)
    for other in (None, x2):
        k = net.kernel(x, other)
        ntk = relu_ntk(x, other, depth=depth, weight_var=w, bias_var=b)
        nngp = relu_nngp(x, other, depth=depth, weight_var=w, bias_var=b)
        assert k.ntk.dtype == torch.float64 and k.ntk.shape == ntk.shape
        assert torch.allclose(k.ntk, ntk, rtol=1e-12, atol=0)
        assert torch.allclose(k.nngp, nngp, rtol=1e-12, atol=0)


@pytest.mark.parametrize("act", ["erf", "tanh", "relu"])
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_composed_mlp_equals_nngp_ntk(act, depth):
    """Any activation: the composed MLP is nngp_ntk (same Gaussian duals, same conventions)."""
    from ntk_lib.analytic import nngp_ntk

    x, x2 = _x(8, 3), _x(5, 3, seed=2)
    hidden = []
    for _ in range(depth - 1):
        hidden += [L.Dense(32, 1.7, 0.2), L.Activation(act)]
    net = L.serial(*hidden, L.Dense(1, 1.7, 0.2))
    for other in (None, x2):
        nngp, ntk = nngp_ntk(x, other, depth=depth, activation=act, weight_var=1.7, bias_var=0.2)
        k = net.kernel(x, other)
        torch.testing.assert_close(k.nngp, nngp, rtol=1e-12, atol=1e-15)
        torch.testing.assert_close(k.ntk, ntk, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- Monte Carlo over widths

WIDTHS = [64, 128, 256, 512, 1024]
SEEDS = 6


def _ecrn_body(n, alphas=(0.7, 0.4, 1.1), drop=0.0, act=L.Relu):
    """Input layer, then blocks h + alpha relu(W h + b) (branches that end in an activation)."""
    return [L.Dense(n, 2.0, 0.05)] + [
        L.Residual(L.serial(L.Dense(n, bias_var=0.1), act()), alpha=a, drop_prob=drop) for a in alphas
    ]


CASES = {
    "relu": lambda n: [L.Dense(n, 2.0, 0.1), L.Relu(), L.Dense(n, 2.0, 0.1), L.Relu(), L.Dense(1, 2.0, 0.1)],
    "erf": lambda n: [L.Dense(n, 1.5, 0.2), L.Erf(), L.Dense(n, 1.5, 0.2), L.Erf(), L.Dense(1)],
    "tanh (quadrature)": lambda n: [L.Dense(n, 1.5), L.Activation(torch.tanh), L.Dense(1, 1.5)],
    "fourier": lambda n: [L.FourierFeatures(16, 0.7, seed=3), L.Dense(n, 2.0, 0.1), L.Relu(), L.Dense(1)],
    "residual, dense-ending branch": lambda n: [
        L.Dense(n, 2.0),
        L.Relu(),
        L.Dense(n),
        L.Residual(L.serial(L.Dense(n, 2.0, 0.1), L.Relu(), L.Dense(n)), alpha=0.8),
        L.Residual(L.serial(L.Dense(n, 2.0), L.Relu(), L.Dense(n)), alpha=0.5),
        L.Relu(),
        L.Dense(1),
    ],
    "residual, activation-ending branch": lambda n: [*_ecrn_body(n), L.Dense(1)],
    "residual, erf-ending branch": lambda n: [*_ecrn_body(n, act=L.Erf), L.Dense(1)],
    "residual, drop_prob (eval mode)": lambda n: [*_ecrn_body(n, drop=0.3), L.Dense(1)],
    # the stream entering the block is a ReLU output (not centred), as in the API's example
    "residual on a relu stream": lambda n: [
        L.Dense(n, weight_var=2.0, bias_var=0.05),
        L.Relu(),
        L.Residual(L.serial(L.Dense(n, bias_var=0.05), L.Relu()), alpha=0.5),
        L.Dense(1),
    ],
}


def _slope(widths, errors):
    from ntk_lib.fit import loglog_slope

    return loglog_slope(widths, errors)[0]


def _rel(a, b):
    return float((a - b).norm() / b.norm())


def _check_rate(per_seed, name, widths=WIDTHS):
    """Errors fall as width^-1/2 (the finite-width fluctuation), with no plateau (a wrong rule would
    leave an O(1) bias and a slope near 0 at the large widths). ``per_seed`` is [seeds, widths];
    the fitted slope and its 95% t-interval over seeds are printed (``pytest -s``)."""
    from ntk_lib.fit import slope_interval

    errors = [sum(col) / len(col) for col in zip(*per_seed)]
    slope = _slope(widths, errors)
    print(f"\n{name}: error slope {slope_interval(widths, per_seed)} over widths {widths}; errors {errors}")
    assert -0.8 < slope < -0.3, (slope, errors)
    assert _slope(widths[-3:], errors[-3:]) < -0.25, errors


@pytest.mark.parametrize("case", list(CASES))
def test_empirical_ntk_converges_to_kernel(case):
    from ntk_lib.empirical import empirical_ntk

    x = _x(6, 3)
    exact = L.serial(*CASES[case](8)).kernel(x).ntk
    per_seed = [
        [
            _rel(empirical_ntk(L.serial(*CASES[case](n)).build(3, seed=seed, dtype=torch.float64).eval(), x), exact)
            for n in WIDTHS
        ]
        for seed in range(SEEDS)
    ]
    _check_rate(per_seed, case)


def test_relu_kernel_layers_are_the_composed_prefixes():
    """Layer l of relu_kernel_layers is the kernel of the first l Dense layers of the composed MLP."""
    from ntk_lib.analytic import relu_kernel_layers

    x = _x(7, 4)
    layers = relu_kernel_layers(x, depth=5, weight_var=2.0, bias_var=0.2)
    net = _mlp(5, 2.0, 0.2)
    for depth in range(1, 6):
        prefix = L.serial(*net.layers[: 2 * depth - 1]).kernel(x)
        assert torch.allclose(prefix.nngp, layers.sigma[depth - 1], rtol=1e-12, atol=0)
        assert torch.allclose(prefix.ntk, layers.theta[depth - 1], rtol=1e-12, atol=0)


def _report(widths=(128, 256, 512, 1024, 2048), seeds=8):
    """The slopes of the closing note, at larger widths and more seeds than the test:
    ``python tests/test_layers.py``."""
    from ntk_lib.empirical import empirical_ntk
    from ntk_lib.fit import slope_interval

    x = _x(6, 3)
    widths = list(widths)
    for case, make in CASES.items():
        exact = L.serial(*make(8)).kernel(x).ntk
        per_seed = [
            [
                _rel(empirical_ntk(L.serial(*make(n)).build(3, seed=s, dtype=torch.float64).eval(), x), exact)
                for n in widths
            ]
            for s in range(seeds)
        ]
        mean = [sum(col) / seeds for col in zip(*per_seed)]
        print(f"{case:36s} slope {slope_interval(widths, per_seed)}  mean rel. error {mean[0]:.3f} -> {mean[-1]:.3f}")
    # NTK-ECRN (models.NTKECRN, 3 blocks, p = 0.4): eval mode, and the expectation over the 8 mask patterns
    from ntk_lib.models import NTKECRN
    from ntk_lib.residual import mask_expected_ntk

    x2 = x[:, :2]
    for expectation, fn in ((None, empirical_ntk), ("masks", mask_expected_ntk)):
        per_seed = []
        for s in range(seeds):
            row = []
            for n in widths:
                net = NTKECRN(
                    2,
                    n,
                    3,
                    fourier_features=8,
                    fourier_sigma=0.5,
                    alpha=0.7,
                    drop_prob=0.4,
                    seed=s,
                    dtype=torch.float64,
                )
                row.append(_rel(fn(net.eval(), x2).detach(), net.kernel(x2, expectation=expectation).ntk))
            per_seed.append(row)
        mean = [sum(col) / seeds for col in zip(*per_seed)]
        label = f"NTK-ECRN, expectation={expectation}"
        print(f"{label:36s} slope {slope_interval(widths, per_seed)}  mean rel. error {mean[0]:.3f} -> {mean[-1]:.3f}")


if __name__ == "__main__":
    _report()
