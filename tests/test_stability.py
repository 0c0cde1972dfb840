"""Kernel step sizes, the top eigenvalue without forming the kernel, loss-curve checks, cross-entropy GD."""

import math

import numpy as np
import pytest
import torch

from ntk_lib.cross_entropy import train_gd_cross_entropy
from ntk_lib.empirical import empirical_ntk
from ntk_lib.models import MLP, NTKECRN
from ntk_lib.stability import check_loss_curve, stable_lr, top_eigenvalue
from ntk_lib.training import train_gd


def _dense(k):
    if k.ndim == 4:
        n, c = k.shape[0], k.shape[2]
        k = k.permute(0, 2, 1, 3).reshape(n * c, n * c)
    return float(torch.linalg.eigvalsh(k.double())[-1])


@pytest.mark.parametrize("out", [1, 3])
def test_top_eigenvalue_matches_the_dense_kernel(out):
    torch.manual_seed(0)
    net = MLP(4, 64, 3, out, bias_var=0.1, seed=1, dtype=torch.float64)
    x = torch.randn(25, 4, dtype=torch.float64)
    lam = top_eigenvalue(net, x, rtol=1e-10, iters=500)
    assert lam == pytest.approx(_dense(empirical_ntk(net, x)), rel=1e-6)


def test_top_eigenvalue_eval_mode_and_model_untouched():
    net = NTKECRN(2, 32, 3, fourier_sigma=1.0, drop_prob=0.5, seed=0, dtype=torch.float64)
    x = torch.randn(12, 2, dtype=torch.float64)
    before = [p.detach().clone() for p in net.parameters()]
    lam = top_eigenvalue(net, x, rtol=1e-10, iters=500)
    assert net.training  # mode restored
    assert all(torch.equal(a, p) for a, p in zip(before, net.parameters()))
    net.eval()
    assert lam == pytest.approx(_dense(empirical_ntk(net, x)), rel=1e-6)
    with pytest.raises(ValueError, match="iters"):
        top_eigenvalue(net, x, iters=0)
    with pytest.raises(TypeError, match="model"):
        top_eigenvalue(lambda z: z, x)


def test_stable_lr_values_and_errors():
    assert stable_lr(4.0) == pytest.approx(0.25)  # 0.5 * 2 / 4
    assert stable_lr(4.0, loss="cross_entropy") == pytest.approx(0.5)
    assert stable_lr(4.0, reduction="mean", n=10) == pytest.approx(2.5)
    for kw, match in (
        (dict(fraction=1.0), "fraction"),
        (dict(loss="hinge"), "loss"),
        (dict(reduction="mean"), "n must"),
        (dict(reduction="max"), "reduction"),
    ):
        with pytest.raises(ValueError, match=match):
            stable_lr(4.0, **kw)
    with pytest.raises(ValueError, match="lam_max"):
        stable_lr(-1.0)


def _linear_problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 6, generator=g, dtype=torch.float64)
    y = torch.randn(40, generator=g, dtype=torch.float64)
    net = torch.nn.Linear(6, 1, dtype=torch.float64)
    torch.nn.init.zeros_(net.weight)
    torch.nn.init.zeros_(net.bias)
    model = torch.nn.Sequential(net, torch.nn.Flatten(0))
    return model, x, y


def test_the_kernel_step_converges_and_a_step_past_the_bound_is_flagged():
    model, x, y = _linear_problem()
    lam = top_eigenvalue(model, x, rtol=1e-12, iters=2000)
    # a linear model's NTK is X X^T + 1 (weights and bias)
    assert lam == pytest.approx(float(torch.linalg.eigvalsh(x @ x.T + 1.0)[-1]), rel=1e-8)
    h = train_gd(model, x, y, lr=stable_lr(lam, fraction=0.9), steps=200, progress=False)
    check = check_loss_curve(h.loss)
    assert check.ok and check.n_rises == 0 and check.final_ratio < 1.0
    model, x, y = _linear_problem()
    h = train_gd(model, x, y, lr=2.2 / lam, steps=200, progress=False)
    check = check_loss_curve(h.loss)
    assert check.diverged and not check.ok and check.peak_ratio > 2.0


def test_check_loss_curve_oscillation_and_nonfinite():
    down = np.geomspace(10.0, 1.0, 50)
    assert check_loss_curve(down).ok
    zigzag = down.copy()
    zigzag[1::2] *= 1.2  # the loss rises on every other step while the trend falls
    c = check_loss_curve(zigzag)
    assert c.oscillating and not c.diverged and c.n_rises > 20
    assert check_loss_curve(down).max_rebound == 0.0
    # zigzag[2k+1] = 1.2 down[2k+1] against the running minimum down[2k]: the largest ratio is at the start
    assert c.max_rebound == pytest.approx(1.2 * down[1] / down[0] - 1.0)
    assert check_loss_curve([4.0, 1.0, 1.5, 0.5]).max_rebound == pytest.approx(0.5)
    c = check_loss_curve([1.0, 0.5, math.inf, math.nan])
    assert c.diverged and c.peak_ratio == math.inf
    assert check_loss_curve([1.0, 0.9, 1.1]).diverged  # ends above its start
    assert check_loss_curve([1.0, 3.0, 0.5]).diverged  # peak beyond 2x the start
    with pytest.raises(ValueError, match="at least 2"):
        check_loss_curve([1.0])
    with pytest.raises(ValueError, match="max_rise_fraction"):
        check_loss_curve(down, max_rise_fraction=1.5)


def test_cross_entropy_gd_learns_a_separable_problem():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(60) % 3
    means = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    x = means[labels] + 0.5 * torch.randn(60, 2, generator=g)
    net = MLP(2, 64, 3, 3, bias_var=0.1, seed=0)
    lam = top_eigenvalue(net, x)
    run = train_gd_cross_entropy(net, x, labels, lr=stable_lr(lam, loss="cross_entropy"), steps=100, x_test=x)
    assert not run.diverged and run.loss.shape == (101,)
    assert check_loss_curve(run.loss).ok
    assert run.loss[-1] < 0.2 * run.loss[0]
    assert float((run.test_logits.argmax(1) == labels).float().mean()) > 0.95
    np.testing.assert_allclose(run.eval_loss, run.loss)  # deterministic model: the same curve
    with pytest.raises(ValueError, match="labels must lie"):
        train_gd_cross_entropy(net, x, labels + 3, lr=0.1, steps=1)
    with pytest.raises(TypeError, match="labels"):
        train_gd_cross_entropy(net, x, labels.float() + 0.5, lr=0.1, steps=1)  # fractional: not class indices
