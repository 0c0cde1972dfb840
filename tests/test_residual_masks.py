"""Stochastic-depth masks: enumeration, the expected NTK over masks, the eval-mode network, block kernels."""

import math

import pytest
import torch

from ntk_lib.empirical import empirical_ntk
from ntk_lib.models import NTKECRN
from ntk_lib.residual import block_parameters, mask_configurations, mask_expected_ntk, partial_ntk, with_masks


def _net(p=0.3, blocks=3, alpha=0.7, seed=0):
    return NTKECRN(2, 48, blocks, fourier_sigma=1.0, alpha=alpha, drop_prob=p, seed=seed, dtype=torch.float64)


X = torch.randn(9, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def test_mask_configurations():
    confs = mask_configurations([0.9, 0.5, 0.2])
    assert len(confs) == 8
    assert sum(p for _, p in confs) == pytest.approx(1.0)
    assert dict(confs)[(1, 0, 1)] == pytest.approx(0.9 * 0.5 * 0.2)
    assert mask_configurations([1.0, 1.0]) == [((1, 1), 1.0)]
    with pytest.raises(ValueError, match="keep_probs"):
        mask_configurations([1.2])
    with pytest.raises(ValueError, match="L <= 16"):
        mask_configurations([0.5] * 17)


def test_views_share_parameters_and_reproduce_the_model():
    net = _net()
    net.eval()
    assert torch.equal(with_masks(net, net.keep_probs)(X), net(X))
    view = with_masks(net)
    assert {id(p) for p in view.parameters()} == {id(p) for p in net.parameters()}
    # the eval-mode network IS the network with scales alpha (1 - p) and every block kept
    scaled = with_masks(net, alphas=[a * q for a, q in zip(net.alphas, net.keep_probs)])
    torch.testing.assert_close(scaled(X), net(X), rtol=0, atol=1e-14)
    torch.testing.assert_close(empirical_ntk(scaled, X), empirical_ntk(net, X), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="masks"):
        with_masks(net, [1.0, 0.0])
    with pytest.raises(TypeError, match="NTKECRN"):
        with_masks(torch.nn.Linear(2, 1))


def test_expected_ntk_by_hand_for_one_block_and_against_monte_carlo():
    net = _net(p=0.4, blocks=1)
    k1 = empirical_ntk(with_masks(net, [1.0]), X)
    k0 = empirical_ntk(with_masks(net, [0.0]), X)
    torch.testing.assert_close(mask_expected_ntk(net, X), 0.6 * k1 + 0.4 * k0, rtol=1e-12, atol=1e-12)
    # three blocks: the enumeration equals the average over many sampled masks (Monte Carlo)
    net = _net(p=0.5, blocks=3)
    exact = mask_expected_ntk(net, X)
    g = torch.Generator().manual_seed(0)
    draws = (torch.rand(400, 3, generator=g) < 0.5).double()
    cache = {}
    mc = 0
    for m in draws:
        key = tuple(int(v) for v in m)
        if key not in cache:
            cache[key] = empirical_ntk(with_masks(net, key), X)
        mc = mc + cache[key] / len(draws)
    rel = float((mc - exact).norm() / exact.norm())
    assert rel < 0.05
    # and it is neither the undropped kernel nor the eval-mode kernel
    net.eval()
    k_eval = empirical_ntk(net, X)
    k_full = empirical_ntk(with_masks(net), X)
    assert float((exact - k_eval).norm() / exact.norm()) > 0.05
    assert float((exact - k_full).norm() / exact.norm()) > 0.05
    # with p = 0 it is the kernel of the network
    net0 = _net(p=0.0)
    torch.testing.assert_close(mask_expected_ntk(net0, X), empirical_ntk(net0, X), rtol=1e-12, atol=1e-12)


def test_block_contributions_add_up_and_scale_with_alpha_squared():
    net = _net(p=0.0, blocks=3)
    total = empirical_ntk(net, X)
    groups = [list(net.input.parameters()), *[block_parameters(net, b) for b in range(3)], list(net.readout.parameters())]
    summed = sum(partial_ntk(net, X, params=g) for g in groups)
    torch.testing.assert_close(summed, total, rtol=1e-10, atol=1e-10)
    assert all(p.requires_grad for p in net.parameters())  # flags restored
    # by construction, d f / d W_L = alpha_L x (a factor that does not depend on alpha_L) for the last block
    base = partial_ntk(with_masks(net, alphas=[0.7, 0.7, 1.0]), X, params=block_parameters(net, 2))
    for a in (0.1, 0.5, 2.0):
        k = partial_ntk(with_masks(net, alphas=[0.7, 0.7, a]), X, params=block_parameters(net, 2))
        torch.testing.assert_close(k, a**2 * base, rtol=1e-10, atol=1e-12)
    # an earlier block also changes what comes after it: its contribution is not exactly alpha^2
    b1 = partial_ntk(with_masks(net, alphas=[1.0, 0.7, 0.7]), X, params=block_parameters(net, 0))
    b2 = partial_ntk(with_masks(net, alphas=[2.0, 0.7, 0.7]), X, params=block_parameters(net, 0))
    assert not math.isclose(float(b2.norm() / b1.norm()), 4.0, rel_tol=1e-6)
    with pytest.raises(ValueError, match="block must"):
        block_parameters(net, 3)
    with pytest.raises(ValueError, match="params"):
        partial_ntk(net, X, params=[torch.nn.Parameter(torch.zeros(1))])
