"""ntk_lib.lazy: layer split of the ReLU NTK, lazy gradient descent, the linearized network and the
linearized change of the last hidden layer, against closed forms, explicit loops, an explicit Jacobian,
finite differences and trained networks."""

import math
import warnings

import numpy as np
import pytest
import torch
from torch.func import functional_call, jacrev

from ntk_lib.analytic import relu_kernel_layers, relu_ntk
from ntk_lib.dynamics import gradient_descent
from ntk_lib.empirical import empirical_ntk
from ntk_lib.lazy import (
    cumulative_residual,
    last_hidden,
    linearized_change,
    linearized_descent,
    ntk_layer_split,
    ntk_top_eigenvalue,
)
from ntk_lib.models import MLP


def _inputs(n=6, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64)

def _sgd(net, x, y, lr, steps):
    """Full-batch gradient descent on 1/2 ||f(x) - y||^2 with torch's own optimizer, as a reference
    independent of ntk_lib.training."""
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * ((net(x) - y) ** 2).sum()).backward()
        opt.step()



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


def test_cumulative_residual_is_the_gain_of_gradient_descent():
    # A_k = V diag(g) V^T r0 with gradient_descent's gain: its test prediction with K(x, X) = I is f0 - A_k
    g = torch.Generator().manual_seed(3)
    b = torch.randn(6, 4, generator=g, dtype=torch.float64)
    k = b @ b.T  # rank 4: two null modes at round-off
    r0 = torch.randn(6, generator=g, dtype=torch.float64)
    lr = 1.0 / float(torch.linalg.eigvalsh(k)[-1])
    steps = [0, 2, 30, math.inf]
    a = cumulative_residual(k, r0, steps=steps, lr=lr)
    eye = torch.eye(6, dtype=torch.float64)
    flow = gradient_descent(k, -r0, steps=steps, lr=lr, k_test_train=eye)
    torch.testing.assert_close(a, -flow.test, rtol=1e-10, atol=1e-12)
    # steps = inf: the minimum-norm limit K^+ r0, finite although two eigenvalues are round-off
    torch.testing.assert_close(a[-1], torch.linalg.pinv(k, hermitian=True) @ r0, rtol=1e-8, atol=1e-10)
    # the null modes (shared rule of ntk_lib.dynamics) grow as lr * k at finite k
    lam, vec = torch.linalg.eigh(k)
    null = vec[:, :2]
    torch.testing.assert_close(null.T @ a[2], lr * 30 * (null.T @ r0), rtol=1e-8, atol=1e-10)


def test_cumulative_residual_accepts_a_float32_kernel_asymmetric_at_round_off():
    g = torch.Generator().manual_seed(4)
    b = torch.randn(40, 60, generator=g)
    k32 = b @ b.T / 60  # float32
    k32 = k32 + 1e-6 * float(k32.abs().max()) * torch.triu(torch.ones(40, 40), 1)  # asymmetric at float32 round-off
    assert not torch.equal(k32, k32.T)
    r0 = torch.randn(40, generator=g)
    lr = 0.5 / float(torch.linalg.eigvalsh(k32.double())[-1])
    a = cumulative_residual(k32, r0, steps=[5], lr=lr)
    assert a.dtype == torch.float64 and bool(torch.isfinite(a).all())
    # float64 data with the same asymmetry is refused
    with pytest.raises(ValueError, match="symmetric"):
        cumulative_residual(k32.double(), r0, steps=[5], lr=lr)


def test_cumulative_residual_null_modes_of_a_float32_kernel_follow_the_shared_rule():
    # a rank-3 float32 kernel: its five null eigenvalues are float32 round-off, not modes to learn
    g = torch.Generator().manual_seed(5)
    b = torch.randn(8, 3, generator=g)
    k32 = b @ b.T
    lam64 = torch.linalg.eigvalsh(k32.double())
    assert float(lam64[:5].abs().max()) > 1e-12 * float(lam64[-1])  # not zero in float64 arithmetic
    r0 = torch.randn(8, generator=g, dtype=torch.float64)
    lr = 1.0 / float(lam64[-1])
    a = cumulative_residual(k32, r0, steps=[math.inf], lr=lr)[0]
    lam, vec = torch.linalg.eigh(k32.double())
    top = vec[:, -3:]
    want = top @ torch.diag(1 / lam[-3:]) @ top.T @ r0  # the pseudo-inverse on the three real modes only
    torch.testing.assert_close(a, want, rtol=1e-6, atol=1e-8)


def test_cumulative_residual_reports_divergence():
    k = torch.diag(torch.tensor([4.0, 1.0], dtype=torch.float64))
    with pytest.warns(RuntimeWarning, match="lr"):
        a = cumulative_residual(k, torch.ones(2), steps=[3], lr=1.0)  # 1 - 4 = -3: grows, still finite
    assert bool(torch.isfinite(a).all())
    with pytest.raises(ValueError, match="lr"):
        cumulative_residual(k, torch.ones(2), steps=[10_000], lr=1.0)  # overflows float64: no NaN returned
    with pytest.raises(ValueError, match="steps=inf"):
        cumulative_residual(k, torch.ones(2), steps=[math.inf], lr=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cumulative_residual(k, torch.ones(2), steps=[10_000, math.inf], lr=0.4)  # stable: no warning


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
    _sgd(net, x, y, lr, steps)
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


def _explicit(net, x):
    """Explicit Jacobians of (z, a, f) with respect to the flattened parameters, and the flattening."""
    names = [k for k, _ in net.named_parameters()]
    shapes = [p.shape for _, p in net.named_parameters()]
    sizes = [p.numel() for _, p in net.named_parameters()]
    theta0 = torch.cat([p.detach().reshape(-1) for _, p in net.named_parameters()])

    def unflat(v):
        return {k: c.reshape(s) for k, c, s in zip(names, torch.split(v, sizes), shapes)}

    def outs(v):
        p = unflat(v)
        z, h = last_hidden_f(p)
        return torch.cat([z.reshape(-1), h.reshape(-1), functional_call(net, p, (x,)).reshape(-1)])

    def last_hidden_f(p):
        h = x
        for i, layer in enumerate(net.layers[:-1]):
            z = (h @ p[f"layers.{i}.weight"].T) * layer.mult_w
            h = torch.relu(z)
        return z, h

    return theta0, jacrev(outs)(theta0), unflat


@pytest.mark.parametrize("param", ["ntk", "standard"])
def test_linearized_descent_is_gradient_descent_on_the_explicit_linear_model(param):
    net = _f64_net(width=24, param=param)
    x = _inputs(n=5, d=4, seed=11)
    y = torch.randn(5, 2, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    theta0, jac, unflat = _explicit(net, x)  # [5*24 + 5*24 + 5*2, P]
    mz = 5 * 24
    jz, ja, jf = jac[:mz], jac[mz : 2 * mz], jac[2 * mz :]
    with torch.no_grad():
        f0 = net(x).reshape(-1)
    lam = float(torch.linalg.eigvalsh(jf @ jf.T)[-1])
    lr, steps = 1.0 / lam, 25
    res = linearized_descent(net, x, y, lr=lr, steps=steps, record=[7, steps])
    # the explicit loop: f_lin = f0 + J d, d <- d - lr J^T (f_lin - y)
    d = torch.zeros_like(theta0)
    want_loss, want = [], {}
    for k in range(steps + 1):
        r = f0 + jf @ d - y.reshape(-1)
        want_loss.append(0.5 * float(r @ r))
        if k in (7, steps):
            want[k] = (jz @ d, ja @ d, jf @ d)
        d = d - lr * jf.T @ r if k < steps else d
    np.testing.assert_allclose(res.loss, want_loss, rtol=1e-10)
    for k, (dz, da, df) in want.items():
        got = res.records[k]
        torch.testing.assert_close(got[0].reshape(-1), dz, rtol=1e-9, atol=1e-11)
        torch.testing.assert_close(got[1].reshape(-1), da, rtol=1e-9, atol=1e-11)
        torch.testing.assert_close(got[2].reshape(-1), df, rtol=1e-9, atol=1e-11)
    for name, v in unflat(d).items():
        torch.testing.assert_close(res.delta[name], v, rtol=1e-9, atol=1e-11)
    # delta theta = -J^T A: the cumulative residual of the network's own empirical kernel
    torch.testing.assert_close(-(jf.T @ res.a.reshape(-1)), d, rtol=1e-9, atol=1e-11)
    a_emp = cumulative_residual(jf @ jf.T, f0 - y.reshape(-1), steps=[steps], lr=lr)[0]
    torch.testing.assert_close(res.a.reshape(-1), a_emp, rtol=1e-9, atol=1e-11)
    assert res.steps == steps and not res.diverged and not res.reached
    assert all(p.grad is None for p in net.parameters())


def test_linearized_descent_stops_observes_and_reports_divergence():
    net = _f64_net(width=32)
    x = _inputs(n=6, d=4, seed=13)
    y = torch.randn(6, 2, generator=torch.Generator().manual_seed(14), dtype=torch.float64)
    lam = ntk_top_eigenvalue(net, x, iters=12)
    seen = []
    res = linearized_descent(net, x, y, lr=1.0 / lam, steps=500, stop_fraction=0.05,
                             observe=lambda k, dz, da, df: seen.append(k) or float(da.norm()))
    assert res.reached and res.loss[-1] <= 0.05 * res.loss[0] and bool((res.loss[1:-1] > 0.05 * res.loss[0]).all())
    assert seen == list(range(res.steps + 1)) and res.observed[0] == 0.0 and len(res.observed) == res.steps + 1
    # eta * lambda_max = 1: the loss of the linear model never rises
    assert bool((np.diff(res.loss) <= 1e-12 * res.loss[0]).all())
    # past the stability limit the loss grows until it overflows; the run stops with diverged set
    net32 = MLP(4, 32, 3, out_features=2, seed=0)
    bad = linearized_descent(net32, x.float(), y.float(), lr=3.0 / lam, steps=2000)
    assert bad.diverged and bad.steps < 2000 and bool(np.isfinite(bad.loss).all())
    assert bad.loss[-1] > 1e6 * bad.loss[0]


def test_ntk_top_eigenvalue_is_the_top_of_the_explicit_kernel():
    net = _f64_net(width=16, out=3)
    x = _inputs(n=4, d=4, seed=15)
    k = empirical_ntk(net, x, method="jacobian").permute(0, 2, 1, 3).reshape(12, 12)
    top = float(torch.linalg.eigvalsh(k)[-1])
    assert ntk_top_eigenvalue(net, x, iters=12) == pytest.approx(top, rel=1e-10)
    few = [ntk_top_eigenvalue(net, x, iters=i, tol=0) for i in (1, 2, 4)]
    assert all(a <= b * (1 + 1e-12) for a, b in zip(few, few[1:])) and few[-1] <= top * (1 + 1e-12)
    assert all(p.grad is None for p in net.parameters())


def test_ntk_top_eigenvalue_runs_to_convergence_on_a_clustered_spectrum():
    # one-hot inputs and as many outputs: the top of the empirical NTK is a cluster of near-equal
    # eigenvalues, on which a fixed few Lanczos iterations stall well below lambda_max
    v = 12
    net = MLP(v, 32, 3, out_features=v, seed=0, dtype=torch.float64)
    x = torch.eye(v, dtype=torch.float64) * math.sqrt(v)
    k = empirical_ntk(net, x, method="jacobian").permute(0, 2, 1, 3).reshape(v * v, v * v)
    top = float(torch.linalg.eigvalsh(k)[-1])
    assert ntk_top_eigenvalue(net, x, iters=5, tol=0) < 0.99 * top  # a fixed small count is not enough
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default converges within its iterations: no warning
        assert ntk_top_eigenvalue(net, x) == pytest.approx(top, rel=1e-8)
        assert ntk_top_eigenvalue(net, x, seed=3) == pytest.approx(top, rel=1e-8)
    with pytest.warns(RuntimeWarning, match="not converged after 5 iterations"):
        low = ntk_top_eigenvalue(net, x, iters=5)
    assert low < top


def _trained_vs_linearized(width, steps=5):
    n_in, m = 5, 4
    x = _inputs(n=m, d=n_in, seed=5)
    x = x / x.norm(dim=1, keepdim=True) * math.sqrt(n_in)
    y = torch.randn(m, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    net = MLP(n_in, width, 3, seed=1, dtype=torch.float64)
    lr = 1.0 / ntk_top_eigenvalue(net, x, iters=m)
    lin = linearized_descent(net, x, y, lr=lr, steps=steps, record=[steps])
    with torch.no_grad():
        _, h0 = last_hidden(net, x)
    _sgd(net, x, y, lr, steps)
    with torch.no_grad():
        dh = last_hidden(net, x)[1] - h0
        loss = 0.5 * float(((net(x) - y) ** 2).sum())
    pred = lin.records[steps][1]
    cos = float((dh * pred).sum() / (dh.norm() * pred.norm()))
    return float((dh - pred).norm() / pred.norm()), cos, loss / lin.loss[-1]


def test_a_wide_network_follows_its_true_linearization_closer_as_width_grows():
    gap_small, _, _ = _trained_vs_linearized(512)
    gap, cos, loss_ratio = _trained_vs_linearized(2048)
    assert gap < 0.25 and cos > 0.97 and abs(loss_ratio - 1) < 0.15, (gap, cos, loss_ratio)
    assert gap < 0.75 * gap_small


def test_linearized_descent_and_top_eigenvalue_reject_bad_input():
    net = MLP(3, 16, 3, out_features=2, seed=0)
    x, y = torch.ones(4, 3), torch.ones(4, 2)
    with pytest.raises(TypeError, match="MLP"):
        linearized_descent(torch.nn.Linear(3, 2), x, y, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="y must have the shape"):
        linearized_descent(net, x, torch.ones(4), lr=0.1, steps=1)
    with pytest.raises(ValueError, match="lr"):
        linearized_descent(net, x, y, lr=0.0, steps=1)
    with pytest.raises(TypeError, match="steps"):
        linearized_descent(net, x, y, lr=0.1, steps=1.5)
    with pytest.raises(ValueError, match="stop_fraction"):
        linearized_descent(net, x, y, lr=0.1, steps=1, stop_fraction=-1.0)
    with pytest.raises(TypeError, match="observe"):
        linearized_descent(net, x, y, lr=0.1, steps=1, observe=3)
    with pytest.raises(ValueError, match="x"):
        ntk_top_eigenvalue(net, torch.ones(4, 5))
    with pytest.raises(ValueError, match="iters"):
        ntk_top_eigenvalue(net, x, iters=0)
    with pytest.raises(ValueError, match="tol"):
        ntk_top_eigenvalue(net, x, tol=-1e-3)
    with pytest.raises(TypeError, match="tol"):
        ntk_top_eigenvalue(net, x, tol="a")
