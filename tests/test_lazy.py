"""ntk_lib.lazy: layer split of the ReLU NTK, lazy gradient descent and the linearized change of the
last hidden layer, against closed forms, explicit loops, finite differences and trained networks."""

import math

import pytest
import torch

from ntk_lib.analytic import relu_kernel_layers, relu_ntk
from ntk_lib.empirical import empirical_ntk
from ntk_lib.lazy import cumulative_residual, last_hidden, linearized_change, ntk_layer_split
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


def _f64_net(n_in=4, width=64, out=2, seed=0, param="ntk"):
    return MLP(n_in, width, 3, out_features=out, parameterization=param, seed=seed, dtype=torch.float64)


@pytest.mark.parametrize("param", ["ntk", "standard", "mup"])
def test_linearized_change_is_the_derivative_along_the_gradient(param):
    net = _f64_net(param=param)
    x = _inputs(n=5, d=4, seed=7)
    a = torch.randn(5, 2, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    dz, dh, df = linearized_change(net, x, a)
    # finite difference along delta theta = -J_f^T A
    loss = (net(x) * a).sum()
    grads = torch.autograd.grad(loss, list(net.parameters()))
    eps = 1e-6
    with torch.no_grad():
        z0, h0 = last_hidden(net, x)
        f0 = net(x)
        for p, g in zip(net.parameters(), grads):
            p -= eps * g
        z1, h1 = last_hidden(net, x)
        f1 = net(x)
    torch.testing.assert_close(dz, (z1 - z0) / eps, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(dh, (h1 - h0) / eps, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(df, (f1 - f0) / eps, rtol=1e-4, atol=1e-7)


def test_linearized_output_change_is_minus_the_empirical_ntk_times_a():
    net = _f64_net(out=1)
    x = _inputs(n=6, d=4, seed=9)
    a = torch.randn(6, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    _, _, df = linearized_change(net, x, a)
    k = empirical_ntk(net, x, method="jacobian")
    torch.testing.assert_close(df, -k @ a, rtol=1e-10, atol=1e-10)
    # the model is left unchanged
    assert all(p.grad is None for p in net.parameters())


def test_a_wide_network_trained_lazily_follows_the_linearized_change():
    n_in, m, width, steps = 5, 4, 4096, 30
    x = _inputs(n=m, d=n_in, seed=5)
    x = x / x.norm(dim=1, keepdim=True) * math.sqrt(n_in)
    y = torch.randn(m, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    net = MLP(n_in, width, 3, seed=1, dtype=torch.float64)
    theta = relu_ntk(x, depth=3)
    lr = 1.0 / float(torch.linalg.eigvalsh(theta)[-1])
    with torch.no_grad():
        z0, h0 = last_hidden(net, x)
        f0 = net(x)
    a = cumulative_residual(theta, f0 - y, steps=[steps], lr=lr)[0]
    dz, dh, df = linearized_change(net, x, a)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * ((net(x) - y) ** 2).sum()).backward()
        opt.step()
    with torch.no_grad():
        zt, ht = last_hidden(net, x)
        ft = net(x)
    for pred, meas in ((dz, zt - z0), (dh, ht - h0)):
        rel = (meas.norm(dim=1) / pred.norm(dim=1) - 1).abs()
        assert bool((rel < 0.1).all()), rel
        # the direction too, not only the size
        cos = (meas * pred).sum(1) / (meas.norm(dim=1) * pred.norm(dim=1))
        assert bool((cos > 0.95).all()), cos
    assert float((ft - f0 - df).norm() / df.norm()) < 0.1


def test_linearized_change_and_last_hidden_reject_bad_input():
    with pytest.raises(TypeError, match="MLP"):
        last_hidden(torch.nn.Linear(2, 2), torch.ones(1, 2))
    with pytest.raises(TypeError, match="MLP"):
        linearized_change(torch.nn.Linear(2, 2), torch.ones(1, 2), torch.ones(1, 2))
    net = MLP(3, 16, 3, out_features=2, seed=0)
    with pytest.raises(ValueError, match="shape of model"):
        linearized_change(net, torch.ones(4, 3), torch.ones(4))
    z, h = last_hidden(net, torch.ones(2, 3))
    assert z.shape == h.shape == (2, 16)
    torch.testing.assert_close(h, torch.relu(z))
