"""ntk_lib.lazy: layer split of the ReLU NTK, lazy gradient descent, orthant probabilities and the
infinite-width drift of the last hidden layer, against closed forms, explicit loops and Monte Carlo."""

import math

import numpy as np
import pytest
import torch

from ntk_lib.analytic import relu_kernel_layers, relu_ntk
from ntk_lib.lazy import cumulative_residual, last_hidden, lazy_layer_drift, ntk_layer_split, orthant_probability
from ntk_lib.models import MLP


def _inputs(n=6, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("depth,bias_var", [(1, 0.0), (3, 0.0), (4, 0.3)])
def test_layer_split_sums_to_the_ntk(depth, bias_var):
    x = _inputs()
    parts = ntk_layer_split(x, depth=depth, weight_var=1.7, bias_var=bias_var)
    assert parts.shape == (depth, 6, 6)
    full = relu_ntk(x, depth=depth, weight_var=1.7, bias_var=bias_var)
    torch.testing.assert_close(parts.sum(0), full, rtol=1e-10, atol=1e-12)
    # the readout's part is Sigma^(L)
    kl = relu_kernel_layers(x, depth=depth, weight_var=1.7, bias_var=bias_var)
    torch.testing.assert_close(parts[-1], kl.sigma[-1], rtol=1e-12, atol=1e-14)


def test_layer_split_matches_the_empirical_per_layer_kernel():
    # Theta_l is the limit of sum over layer l's weights of df/dp(x) df/dp(x'): check at width 4096
    x = _inputs(n=4, d=3, seed=2)
    x = x / x.norm(dim=1, keepdim=True) * math.sqrt(3)
    parts = ntk_layer_split(x, depth=3)
    net = MLP(3, 4096, 3, seed=0, dtype=torch.float64)
    per_layer = []
    for layer in net.layers:
        rows = []
        for i in range(4):
            g = torch.autograd.grad(net(x[i : i + 1]).sum(), layer.weight)[0]
            rows.append(g.reshape(-1))
        j = torch.stack(rows)
        per_layer.append(j @ j.T)
    emp = torch.stack(per_layer)
    rel = (emp - parts).norm(dim=(1, 2)) / parts.norm(dim=(1, 2))
    assert bool((rel < 0.08).all()), rel


def test_cumulative_residual_matches_an_explicit_gradient_descent_loop():
    g = torch.Generator().manual_seed(1)
    b = torch.randn(7, 7, generator=g, dtype=torch.float64)
    k = b @ b.T + 0.1 * torch.eye(7, dtype=torch.float64)
    r0 = torch.randn(7, 2, generator=g, dtype=torch.float64)
    lr = 1.0 / float(torch.linalg.eigvalsh(k)[-1])
    steps = [0, 1, 5, 40]
    a = cumulative_residual(k, r0, steps=steps, lr=lr)
    r, acc = r0.clone(), torch.zeros_like(r0)
    want, resid = {}, {}
    for t in range(41):
        if t in steps:
            want[t], resid[t] = acc.clone(), r.clone()
        acc += lr * r
        r = r - lr * k @ r
    for i, t in enumerate(steps):
        torch.testing.assert_close(a[i], want[t], rtol=1e-10, atol=1e-12)
        # the residual it implies, r_0 - K A_t, is the loop's r_t
        torch.testing.assert_close(r0 - k @ a[i], resid[t], rtol=1e-10, atol=1e-12)
    # 1-D residuals keep their shape
    assert cumulative_residual(k, r0[:, 0], steps=[3], lr=lr).shape == (1, 7)


def test_cumulative_residual_with_a_zero_mode_grows_linearly():
    k = torch.diag(torch.tensor([2.0, 0.0], dtype=torch.float64))
    a = cumulative_residual(k, torch.tensor([1.0, 1.0]), steps=[10], lr=0.1)
    assert float(a[0, 1]) == pytest.approx(1.0, abs=1e-12)  # lr * steps * r0
    assert float(a[0, 0]) == pytest.approx((1 - 0.8**10) / 2.0, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(k_train=torch.ones(2, 3), r0=torch.ones(2), steps=[1], lr=0.1), "square"),
        (dict(k_train=torch.tensor([[1.0, 2.0], [0.0, 1.0]]), r0=torch.ones(2), steps=[1], lr=0.1), "symmetric"),
        (dict(k_train=torch.eye(2), r0=torch.ones(3), steps=[1], lr=0.1), "r0"),
        (dict(k_train=torch.eye(2), r0=torch.ones(2), steps=[1.5], lr=0.1), "steps"),
        (dict(k_train=torch.eye(2), r0=torch.ones(2), steps=[-1], lr=0.1), "steps"),
        (dict(k_train=torch.eye(2), r0=torch.ones(2), steps=[1], lr=0.0), "lr"),
    ],
)
def test_cumulative_residual_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cumulative_residual(**kwargs)


def test_orthant_probability_closed_forms_and_monte_carlo():
    assert float(orthant_probability(0.0)) == pytest.approx(0.25)
    assert float(orthant_probability(1.0)) == pytest.approx(0.5)
    assert float(orthant_probability(-1.0)) == pytest.approx(0.0, abs=1e-15)
    assert float(orthant_probability(0.0, 0.0, 0.0)) == pytest.approx(0.125)
    rng = np.random.default_rng(0)
    c = np.array([[1.0, 0.3, -0.2], [0.3, 1.0, 0.5], [-0.2, 0.5, 1.0]])
    z = rng.multivariate_normal(np.zeros(3), c, size=400_000)
    mc = float(np.mean((z > 0).all(axis=1)))
    assert float(orthant_probability(0.3, -0.2, 0.5)) == pytest.approx(mc, abs=3e-3)
    with pytest.raises(ValueError, match="correlations"):
        orthant_probability(1.5)
    with pytest.raises(ValueError, match="one correlation"):
        orthant_probability(0.1, 0.2)


@pytest.mark.parametrize("pre_activation", [False, True])
def test_lazy_layer_drift_matches_a_monte_carlo_over_neurons(pre_activation):
    # the formula is the n -> infinity limit of sum_i dz_i(x)^2 (or da_i^2) with
    # dz_i(x) = -sqrt(w/n) sum_x' Theta(x,x') 1[z_i(x') > 0] (W^T A(x'))_i, z_i ~ N(0, Sigma), W ~ N(0, 1)
    x = _inputs(n=4, d=3, seed=3)
    kl = relu_kernel_layers(x, depth=3)
    th, sg = kl.theta[1], kl.sigma[1]
    g = torch.Generator().manual_seed(4)
    a = torch.randn(4, 2, generator=g, dtype=torch.float64)
    w, n = 1.3, 400_000
    z = torch.distributions.MultivariateNormal(torch.zeros(4, dtype=torch.float64), covariance_matrix=sg).sample((n,))  # [n, 4]
    wt = torch.randn(2, n, generator=g, dtype=torch.float64)
    back = (a @ wt).T  # [n, x'] = (W^T A(x'))_i
    dz = -math.sqrt(w / n) * ((z > 0).double() * back) @ th.T  # [n, x]
    dd = dz if pre_activation else (z > 0).double() * dz
    mc = dd.norm(dim=0)
    pred = lazy_layer_drift(th, sg, a, weight_var=w, pre_activation=pre_activation)
    torch.testing.assert_close(pred, mc, rtol=0.02, atol=0.0)


def test_lazy_layer_drift_predicts_a_wide_network_trained_lazily():
    torch.manual_seed(0)
    n_in, m, depth, width = 5, 4, 3, 8192
    x = _inputs(n=m, d=n_in, seed=5)
    x = x / x.norm(dim=1, keepdim=True) * math.sqrt(n_in)
    y = torch.randn(m, 1, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    net = MLP(n_in, width, depth, seed=1, dtype=torch.float64)
    kl = relu_kernel_layers(x, depth=depth)
    theta = kl.theta[-1]
    lr = 1.0 / float(torch.linalg.eigvalsh(theta)[-1])
    with torch.no_grad():
        z0, h0 = last_hidden(net, x)
        f0 = net(x)[:, None]
    steps = 30
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * ((net(x)[:, None] - y) ** 2).sum()).backward()
        opt.step()
    with torch.no_grad():
        zt, ht = last_hidden(net, x)
    a = cumulative_residual(theta, (f0 - y), steps=[steps], lr=lr)[0]
    for pre, (u0, ut) in ((False, (h0, ht)), (True, (z0, zt))):
        pred = lazy_layer_drift(kl.theta[-2], kl.sigma[-2], a, pre_activation=pre)
        meas = (ut - u0).norm(dim=1)
        rel = (meas / pred - 1).abs()
        assert bool((rel < 0.15).all()), (pre, meas, pred)


def test_lazy_layer_drift_and_last_hidden_reject_bad_input():
    th = torch.eye(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="theta_prev and sigma_prev"):
        lazy_layer_drift(th, torch.eye(2, dtype=torch.float64), torch.ones(3))
    with pytest.raises(ValueError, match="a must be"):
        lazy_layer_drift(th, th, torch.ones(2))
    with pytest.raises(ValueError, match="positive diagonal"):
        lazy_layer_drift(th, torch.zeros(3, 3, dtype=torch.float64), torch.ones(3))
    with pytest.raises(TypeError, match="MLP"):
        last_hidden(torch.nn.Linear(2, 2), torch.ones(1, 2))
    net = MLP(3, 16, 3, seed=0)
    z, h = last_hidden(net, torch.ones(2, 3))
    assert z.shape == h.shape == (2, 16)
    torch.testing.assert_close(h, torch.relu(z))
