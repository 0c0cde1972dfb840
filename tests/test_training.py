import math

import numpy as np
import pytest
import torch

from ntk_lib.dynamics import gradient_flow
from ntk_lib.empirical import empirical_ntk
from ntk_lib.models import MLP
from ntk_lib.training import log_spaced_steps, progress_enabled, train_gd


def test_one_step_is_a_gradient_step():
    model = MLP(2, 8, 2, seed=0, dtype=torch.float64)
    x = torch.randn(4, 2, dtype=torch.float64)
    y = torch.randn(4, dtype=torch.float64)
    ref = MLP(2, 8, 2, seed=0, dtype=torch.float64)
    loss = 0.5 * ((ref(x) - y) ** 2).sum()
    loss.backward()
    expected = [p.detach() - 0.1 * p.grad for p in ref.parameters()]
    hist = train_gd(model, x, y, lr=0.1, steps=1, progress=False)
    for p, e in zip(model.parameters(), expected):
        assert torch.allclose(p, e, rtol=1e-14)
    assert hist.steps == [0, 1]
    assert hist.loss[0] == pytest.approx(float(loss.detach()))


def test_wide_net_follows_its_kernel_flow():
    """Small steps on a wide NTK-parameterized net track gradient flow with its initial NTK."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, generator=g, dtype=torch.float64)
    y = torch.randn(6, generator=g, dtype=torch.float64)
    model = MLP(3, 2048, 3, seed=1, dtype=torch.float64)
    k0 = empirical_ntk(model, x)
    with torch.no_grad():
        f0 = model(x)
    hist = train_gd(model, x, y, lr=0.05, steps=200, record=[0, 100, 200], ntk_at=[200], progress=False)
    flow = gradient_flow(k0, y, t=hist.times, f0_train=f0)
    err = float((hist.train_pred - flow.train).abs().max())
    assert err < 0.05 * float(y.abs().max())
    moved = float((hist.ntk[200] - k0).norm() / k0.norm())
    assert 0 < moved < 0.05
    assert hist.loss[-1] < hist.loss[0]


def test_divergence_is_reported_not_raised():
    # tanh keeps the features alive, so an oversized step must blow up the readout
    model = MLP(2, 32, 3, activation="tanh", seed=0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 2, generator=g)
    y = torch.randn(5, generator=g)
    hist = train_gd(model, x, y, lr=50.0, steps=2000, progress=False)
    assert hist.diverged
    assert len(hist.loss) < 501
    assert all(math.isfinite(v) for v in hist.loss)


def test_records_and_errors(monkeypatch):
    assert log_spaced_steps(100, 10)[0] == 0 and log_spaced_steps(100, 10)[-1] == 100
    assert np.all(np.diff(log_spaced_steps(1000)) > 0)
    monkeypatch.setenv("NTK_PROGRESS", "0")
    assert not progress_enabled()
    assert progress_enabled(True)
    model = MLP(2, 8, 2, seed=0)
    x, y = torch.randn(3, 2), torch.randn(3)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train_gd(model, x, y, lr=-1.0, steps=3)
    with pytest.raises(ValueError, match="y has 2 rows"):
        train_gd(model, x, y[:2], lr=0.1, steps=3)
    with pytest.raises(ValueError, match="record steps must lie in"):
        train_gd(model, x, y, lr=0.1, steps=3, record=[5])
    with pytest.raises(ValueError, match="y has shape"):
        train_gd(model, x, y[:, None].repeat(1, 2), lr=0.1, steps=3)


def test_progress_respects_environment(monkeypatch):
    from ntk_lib.training import progress_bar as progress

    monkeypatch.setenv("NTK_PROGRESS", "0")
    assert progress(range(3)).disable
    assert not progress(range(3), enabled=True).disable
    assert list(progress(range(3))) == [0, 1, 2]
