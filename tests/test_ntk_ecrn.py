import math

import numpy as np
import pytest
import torch

from ntk_lib.data import benchmark_task, gaussian_mixture
from ntk_lib.empirical import empirical_ntk
from ntk_lib.metrics import accuracy, cross_entropy, mse, r2_score
from ntk_lib.models import NTKECRN
from ntk_lib.training import kernel_log, train_gd


def _x(n=6, d=3, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_shapes_and_schedules():
    x = _x()
    assert NTKECRN(3, 16, 2, seed=0, dtype=torch.float64)(x).shape == (6,)
    assert NTKECRN(3, 16, 2, 4, seed=0, dtype=torch.float64)(x).shape == (6, 4)
    assert NTKECRN(3, 16, 2, fourier_sigma=None, seed=0, dtype=torch.float64)(x).shape == (6,)
    assert NTKECRN(3, 8, 4, alpha=2.0).alphas == [2.0] * 4
    assert NTKECRN(3, 8, 4, alpha=2.0, alpha_schedule="1/L").alphas == [0.5] * 4
    assert NTKECRN(3, 8, 4, alpha=2.0, alpha_schedule="1/sqrt(L)").alphas == [1.0] * 4


def test_forward_matches_the_written_equations():
    """h0 = W_in phi / sqrt(2m); h_{l+1} = h_l + alpha relu(W_l h_l / sqrt(n) + sqrt(b) beta_l); f = W_out h_L / sqrt(n)."""
    net = NTKECRN(2, 8, 2, fourier_features=4, fourier_sigma=1.5, alpha=0.3, bias_var=0.1, seed=1, dtype=torch.float64)
    x = _x(5, 2)
    z = 2 * math.pi * x @ net.fourier.B.T
    phi = torch.cat([torch.sin(z), torch.cos(z)], 1)
    h = phi @ net.input.weight.T / math.sqrt(8)
    for blk in net.blocks:
        h = h + 0.3 * torch.relu(h @ blk.weight.T / math.sqrt(8) + math.sqrt(0.1) * blk.bias)
    f = (h @ net.readout.weight.T / math.sqrt(8)).squeeze(-1)
    assert torch.allclose(net(x), f, atol=1e-12)


def test_masks_random_in_training_expectation_in_eval():
    net = NTKECRN(3, 8, 50, drop_prob=0.4, seed=0, dtype=torch.float64)
    draws = np.array([net.masks() for _ in range(200)])
    assert set(np.unique(draws)) == {0.0, 1.0}
    assert draws.mean() == pytest.approx(0.6, abs=0.02)
    net.eval()
    assert net.masks() == pytest.approx([0.6] * 50)
    x = _x()
    assert torch.equal(net(x), net(x))  # deterministic in eval mode


def test_eval_mode_is_the_expectation_for_a_linear_block():
    """With the identity activation the output is linear in each mask, so E_masks[f] = f(eval)."""
    net = NTKECRN(3, 8, 2, drop_prob=[0.3, 0.6], activation=lambda u: u, seed=2, dtype=torch.float64)
    x = _x()
    with torch.no_grad():
        net.eval()
        expected = net(x)
        net.train()
        outs = []
        for m1 in (0.0, 1.0):
            for m2 in (0.0, 1.0):
                net.masks = lambda m1=m1, m2=m2: [m1, m2]  # enumerate the four mask patterns
                w = (0.7 if m1 else 0.3) * (0.4 if m2 else 0.6)
                outs.append(w * net(x))
    assert torch.allclose(sum(outs), expected, atol=1e-12)


def test_residual_contribution_to_ntk_scales_with_alpha_squared():
    """Derivatives through a block's own weights carry its factor alpha, so that block's part of the NTK
    (the sum over its parameters) scales exactly as alpha^2 when alpha only enters that block."""
    x = _x()
    parts = {}
    for a in (0.5, 1.0, 2.0):
        net = NTKECRN(3, 16, 1, alpha=a, seed=3, dtype=torch.float64)
        for p in (*net.input.parameters(), *net.readout.parameters()):
            p.requires_grad_(False)  # keep only the residual block's parameters
        parts[a] = empirical_ntk(net, x)
    assert torch.allclose(parts[2.0], 4 * parts[1.0], rtol=1e-10)
    assert torch.allclose(parts[0.5], parts[1.0] / 4, rtol=1e-10)


def test_kernel_logging_matches_empirical_ntk():
    x = _x(8)
    y = torch.sin(x.sum(1))
    net = NTKECRN(3, 32, 2, drop_prob=0.2, seed=4, dtype=torch.float64)
    hist = train_gd(net, x, y, lr=0.01, steps=5, ntk_at=[0, 5], progress=False)
    assert net.training  # kernels are taken in eval mode, and the mode is restored
    assert net.is_stochastic and not NTKECRN(3, 8, 2).is_stochastic
    net.eval()
    k5 = empirical_ntk(net, x)
    assert torch.allclose(hist.ntk[5], k5, atol=1e-12)
    log = hist.kernel
    lam = torch.linalg.eigvalsh(k5)
    assert log.lam_max[-1] == pytest.approx(float(lam[-1]), rel=1e-12)
    assert log.lam_min[-1] == pytest.approx(float(lam[0]), rel=1e-9, abs=1e-12)
    assert log.rel_change[0] == 0.0
    assert log.rel_change[-1] == pytest.approx(float((k5 - hist.ntk[0]).norm() / hist.ntk[0].norm()), rel=1e-12)


def test_kernel_log_multi_output_and_errors():
    k = torch.zeros(3, 3, 2, 2, dtype=torch.float64)
    k[..., 0, 0] = torch.eye(3)
    k[..., 1, 1] = 2 * torch.eye(3)
    log = kernel_log({0: k})
    assert log.lam_max[0] == 2.0 and log.lam_min[0] == 1.0
    with pytest.raises(ValueError, match="empty"):
        kernel_log({})


def test_recorded_predictions_are_the_eval_mode_expectation():
    x = _x(10)
    y = torch.cos(x[:, 0])
    net = NTKECRN(3, 16, 6, drop_prob=0.5, seed=6, dtype=torch.float64)
    hist = train_gd(net, x, y, lr=0.01, steps=3, record=[3], progress=False)
    net.eval()
    with torch.no_grad():
        assert torch.allclose(hist.train_pred[-1], net(x), atol=1e-12)


def test_stochastic_depth_training_runs_and_is_reproducible():
    x = _x(10)
    y = torch.cos(x[:, 0])
    losses = []
    for _ in range(2):
        net = NTKECRN(3, 16, 6, drop_prob=0.5, seed=5, dtype=torch.float64)
        losses.append(train_gd(net, x, y, lr=0.01, steps=20, progress=False).loss)
    assert np.array_equal(losses[0], losses[1])
    assert losses[0][-1] < losses[0][0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="alpha_schedule"):
        NTKECRN(3, 8, 2, alpha_schedule="linear")
    with pytest.raises(ValueError, match="drop_prob"):
        NTKECRN(3, 8, 2, drop_prob=1.0)
    with pytest.raises(ValueError, match="drop_prob"):
        NTKECRN(3, 8, 2, drop_prob=[0.1])
    with pytest.raises(ValueError, match="alpha"):
        NTKECRN(3, 8, 2, alpha=-1.0)
    with pytest.raises(ValueError, match="n_blocks"):
        NTKECRN(3, 8, 0)


def test_metrics_hand_cases():
    assert mse(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 1.0])) == 2.0
    assert r2_score(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0])) == 1.0
    assert r2_score(torch.full((3,), 2.0), torch.tensor([1.0, 2.0, 3.0])) == 0.0
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 0])
    assert accuracy(logits, labels) == 0.5
    expected = (-math.log(math.exp(2) / (math.exp(2) + 1)) - math.log(1 / (1 + math.e))) / 2
    assert cross_entropy(logits, labels) == pytest.approx(expected)
    with pytest.raises(ValueError, match="labels"):
        accuracy(logits, torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="constant"):
        r2_score(torch.ones(3), torch.ones(3))


def test_benchmark_tasks_offline():
    for name, kind in (("sines", "regression"), ("mixture", "classification"), ("iris", "classification"), ("wine", "classification"), ("diabetes", "regression")):
        t = benchmark_task(name, seed=1)
        assert t.kind == kind
        assert t.x_train.shape[0] + t.x_test.shape[0] in (400, 150, 178, 442)
        if name not in ("sines",):
            assert torch.allclose(t.x_train.mean(0), torch.zeros(t.x_train.shape[1], dtype=torch.float64), atol=1e-10)
    a, b = benchmark_task("iris", seed=1), benchmark_task("iris", seed=2)
    assert not torch.equal(a.y_test, b.y_test)
    x, lab = gaussian_mixture(500, classes=5, seed=0)
    assert x.shape == (500, 2) and set(lab.tolist()) == set(range(5))
    with pytest.raises(ValueError, match="name"):
        benchmark_task("mnist")
