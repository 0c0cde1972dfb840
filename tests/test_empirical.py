"""ntk_lib.empirical: against hand-built Jacobians, batching, and the infinite-width limit."""

import numpy as np
import pytest
import torch

from ntk_lib.analytic import relu_ntk
from ntk_lib.empirical import empirical_ntk
from ntk_lib.models import MLP


def hand_jacobian_ntk(model, x1, x2):
    """Per-sample gradients with plain autograd, one output at a time."""

    def jac(x):
        rows = []
        for i in range(x.shape[0]):
            out = model(x[i : i + 1]).reshape(-1)
            per_out = []
            for a in range(out.shape[0]):
                grads = torch.autograd.grad(out[a], list(model.parameters()), retain_graph=True)
                per_out.append(torch.cat([g.reshape(-1) for g in grads]))
            rows.append(torch.stack(per_out))
        return torch.stack(rows)  # [n, k, P]

    j1, j2 = jac(x1), jac(x2)
    return torch.einsum("ikp,jlp->ijkl", j1, j2)


def test_matches_hand_built_jacobians_single_and_multi_output():
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(5, 3, generator=g, dtype=torch.float64)
    x2 = torch.randn(4, 3, generator=g, dtype=torch.float64)
    for k in (1, 3):
        model = MLP(3, 16, 3, out_features=k, bias_var=0.1, seed=1, dtype=torch.float64)
        ref = hand_jacobian_ntk(model, x1, x2)
        ours = empirical_ntk(model, x1, x2)
        if k == 1:
            assert ours.shape == (5, 4)
            ref = ref[..., 0, 0]
        else:
            assert ours.shape == (5, 4, 3, 3)
        assert torch.allclose(ours, ref, rtol=1e-12, atol=1e-14)


def test_batch_size_invariance_and_symmetry():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(37, 4, generator=g, dtype=torch.float64)
    model = MLP(4, 32, 3, out_features=2, seed=2, dtype=torch.float64)
    full = empirical_ntk(model, x)
    for bs in (1, 5, 16, 37, 50):
        assert torch.allclose(empirical_ntk(model, x, batch_size=bs), full, rtol=1e-12, atol=1e-14)
    assert torch.allclose(full, full.permute(1, 0, 3, 2))
    y = x[:7].clone()
    assert torch.allclose(empirical_ntk(model, x, y, batch_size=4), full[:, :7], rtol=1e-12, atol=1e-14)


def test_works_for_arbitrary_modules_and_leaves_them_untouched():
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Conv1d(1, 4, 3), torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.Linear(16, 2))
    x = torch.randn(6, 1, 6)
    before = [p.detach().clone() for p in model.parameters()]
    k = empirical_ntk(model, x)
    assert k.shape == (6, 6, 2, 2)
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    lam = torch.linalg.eigvalsh(k.permute(0, 2, 1, 3).reshape(12, 12).double())
    assert float(lam.min()) > -1e-5 * float(lam.max())


def test_frozen_parameters_do_not_count():
    model = MLP(3, 8, 2, seed=0, dtype=torch.float64)
    x = torch.randn(4, 3, dtype=torch.float64)
    full = empirical_ntk(model, x)
    model.layers[0].weight.requires_grad_(False)
    readout_only = empirical_ntk(model, x)
    feats = model.features(x).detach() * model.layers[-1].mult_w
    assert torch.allclose(readout_only, feats @ feats.T, rtol=1e-12)
    assert not torch.allclose(full, readout_only)


def test_converges_to_infinite_width_at_rate_one_over_sqrt_width():
    """The headline test: RMS relative error of the empirical NTK of NTK-parameterized ReLU MLPs
    against relu_ntk falls like width^(-1/2) over widths 256..4096."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 6, generator=g, dtype=torch.float64)
    exact = relu_ntk(x, depth=3, bias_var=0.1)
    widths = [256, 512, 1024, 2048, 4096]
    rms = []
    for width in widths:
        sq = []
        for seed in range(10):
            model = MLP(6, width, 3, bias_var=0.1, seed=seed)
            k = empirical_ntk(model, x, batch_size=4).double()
            sq.append(float((k - exact).norm() / exact.norm()) ** 2)
        rms.append(np.sqrt(np.mean(sq)))
    slope = np.polyfit(np.log(widths), np.log(rms), 1)[0]
    assert -0.65 <= slope <= -0.35, (slope, rms)
    assert rms[-1] < 0.05


def test_bad_inputs():
    model = MLP(3, 8, 2, seed=0)
    with pytest.raises(TypeError, match="model"):
        empirical_ntk(lambda x: x, torch.randn(2, 3))
    with pytest.raises(ValueError, match="x1 contains NaN"):
        empirical_ntk(model, torch.tensor([[1.0, float("nan"), 0.0]]))
    with pytest.raises(ValueError, match="x2 samples have shape"):
        empirical_ntk(model, torch.randn(2, 3), torch.randn(2, 4))
    with pytest.raises(ValueError, match="batch_size"):
        empirical_ntk(model, torch.randn(2, 3), batch_size=0)
    with pytest.raises(ValueError, match="x1 must be a batch"):
        empirical_ntk(model, torch.randn(3))
    with pytest.raises(ValueError, match="no parameters"):
        empirical_ntk(torch.nn.ReLU(), torch.randn(2, 3))


@pytest.mark.gpu
def test_runs_on_the_models_device():
    model = MLP(3, 64, 3, seed=0).cuda()
    x = torch.randn(5, 3)
    k = empirical_ntk(model, x)
    assert k.device.type == "cuda"
    cpu = empirical_ntk(model.cpu(), x)
    assert torch.allclose(k.cpu(), cpu, rtol=1e-4, atol=1e-5)
