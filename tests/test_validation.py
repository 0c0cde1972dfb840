"""Every public function rejects bad input with an error naming the argument."""

import math

import numpy as np
import pytest
import torch

from ntk_lib import correlations, data, dynamics, features, metrics, spectral, sphere, training
from ntk_lib._validate import as_tensor, as_times, check_int, psd_tolerance, row_norms, symmetry_rtol, unit_rows
from ntk_lib.analytic import h, nngp_ntk, relu_kernel_layers, relu_nngp, relu_ntk, theta_bar_recurrence
from ntk_lib.models import MLP

KERNELS = [relu_ntk, relu_nngp, relu_kernel_layers, nngp_ntk]


@pytest.mark.parametrize("fn", KERNELS)
def test_kernel_bad_inputs(fn):
    x = torch.randn(4, 3)
    cases = [
        (dict(x1=torch.randn(4), depth=2), ValueError, "x1 must have 2 dimensions"),
        (dict(x1=torch.tensor([[1.0, float("nan"), 0.0]]), depth=2), ValueError, "x1 contains NaN"),
        (dict(x1=x, x2=torch.randn(2, 5), depth=2), ValueError, "x2 has 5 features but x1 has 3"),
        (dict(x1=x, depth=0), ValueError, "depth must be >= 1"),
        (dict(x1=x, depth=2.5), TypeError, "depth must be an integer"),
        (dict(x1=x, depth=True), TypeError, "depth must be an integer"),
        (dict(x1=x, depth=2, weight_var=-1.0), ValueError, "weight_var must be > 0"),
        (dict(x1=x, depth=2, bias_var=-0.1), ValueError, "bias_var must be >= 0"),
        (dict(x1=x, depth=2, bias_var=float("inf")), ValueError, "bias_var must be finite"),
        (dict(x1="abc", depth=2), TypeError, "x1 must be"),
        (dict(x1=torch.zeros(0, 3), depth=2), ValueError, "x1 is empty"),
    ]
    for kwargs, err, msg in cases:
        x1 = kwargs.pop("x1")
        with pytest.raises(err, match=msg):
            fn(x1, **kwargs)


def test_zero_row_without_bias():
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="x1 has an all-zero row"):
        relu_ntk(x, depth=3)
    k = relu_ntk(x, depth=3, bias_var=0.5)
    assert bool(torch.isfinite(k).all())


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="rho1 must lie in"):
        theta_bar_recurrence(torch.tensor([1.2]), 3)
    with pytest.raises(ValueError, match="parameterization"):
        MLP(3, 8, 2, parameterization="mup?")
    with pytest.raises(ValueError, match="width must be a positive integer"):
        MLP(3, 0, 2)
    with pytest.raises(ValueError, match="activation must be"):
        nngp_ntk(torch.randn(2, 2), depth=2, activation="sigmoidal?")
    with pytest.raises(TypeError, match="dtype must be a floating"):
        relu_ntk(torch.randn(2, 2), depth=2, dtype=torch.int64)
    with pytest.raises(ValueError, match="block_elems"):
        relu_ntk(torch.randn(2, 2), depth=2, block_elems=0)


# --------------------------------------------------------------------------- failure families
# Each block below is one family of the review of bad and edge inputs, tried on every public
# function it can reach. Sizes are tiny: these tests check rules, not numerics at scale.



def _sphere(n=6, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    return x / x.norm(dim=1, keepdim=True)


def _psd(n=6, rank=None, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, rank or n, generator=g, dtype=torch.float64)
    return (a @ a.T).to(dtype)


def test_check_int_rules():
    assert check_int(np.int64(3), "k") == 3 and check_int(np.uint8(2), "k") == 2
    assert check_int(4.0, "k") == 4 and check_int(torch.tensor(5), "k") == 5
    for bad in (True, np.bool_(False), 2.5, float("inf"), "3", torch.tensor([1, 2])):
        with pytest.raises(TypeError, match="k must be an integer"):
            check_int(bad, "k")
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        check_int(0, "k", minimum=1)


def test_one_time_rule():
    assert as_times(2, "t").tolist() == [2.0]
    assert as_times(np.array([0.0, math.inf]), "t").tolist() == [0.0, math.inf]
    assert as_times(torch.tensor([1, 2]), "steps", integer=True).tolist() == [1.0, 2.0]
    for bad, err in ((True, TypeError), ([1.0, False], TypeError), (np.array([True]), TypeError),
                     ([[1.0, 2.0]], ValueError), ([-1.0], ValueError), ([math.nan], ValueError), ("1", TypeError)):
        with pytest.raises(err, match="t"):
            as_times(bad, "t")
    with pytest.raises(ValueError, match="steps must be non-negative integers"):
        as_times([1.5], "steps", integer=True)


TIME_FUNCTIONS = {
    "gradient_flow": lambda t: dynamics.gradient_flow(_psd(4), torch.ones(4), t=t).train,
    "gradient_descent": lambda t: dynamics.gradient_descent(_psd(4), torch.ones(4), steps=t, lr=1e-3).train,
    "projection_operator": lambda t: dynamics.projection_operator(_psd(4), _psd(4)[:2], t),
    "mode_decay": lambda t: spectral.mode_decay(torch.tensor([2.0, 0.0]), t),
    "spectral_filter": lambda t: spectral.spectral_filter(torch.tensor([2.0, 0.0]), t),
    "flow_factors": lambda t: spectral.flow_factors(torch.tensor([2.0, 0.0]), t)[1],
    "expected_risk": lambda t: spectral.expected_risk(
        torch.tensor([2.0, 0.0]), torch.eye(2, dtype=torch.float64), torch.ones(2), noise_std=0.1, t=t
    ),
}


@pytest.mark.parametrize("name", sorted(TIME_FUNCTIONS))
def test_times_same_rule_everywhere(name):
    fn = TIME_FUNCTIONS[name]
    arg = "steps" if name == "gradient_descent" else "t"
    out = fn([0, 1, math.inf])  # inf accepted everywhere, and finite
    assert out.shape[0] == 3 and bool(torch.isfinite(out).all())
    assert fn(np.int64(2)).shape[0] == 1  # numpy scalars are numbers
    with pytest.raises(TypeError, match=arg):
        fn(True)
    with pytest.raises(ValueError, match=f"{arg} must be a scalar or 1-D"):
        fn([[1.0, 2.0]])
    with pytest.raises(ValueError, match=arg):
        fn([-1.0])


def test_t_inf_meaning():
    lam = torch.tensor([2.0, 0.0], dtype=torch.float64)
    assert spectral.spectral_filter(lam, math.inf).tolist() == [[1.0, 0.0]]  # null mode never learned
    assert spectral.mode_decay(lam, math.inf).tolist() == [[0.0, 1.0]]
    k = _psd(5, rank=3)
    y = torch.randn(5, dtype=torch.float64)
    flow = dynamics.gradient_flow(k, y, t=[1e12, math.inf])
    projector = k @ torch.linalg.pinv(k, hermitian=True, rtol=1e-10)  # onto the range of k
    assert torch.allclose(flow.train[1], projector @ y, atol=1e-8)  # the minimum-norm interpolant
    gd = dynamics.gradient_descent(k, y, steps=[math.inf], lr=1.0 / float(torch.linalg.eigvalsh(k)[-1]))
    assert torch.allclose(gd.train[0], flow.train[1], atol=1e-8)


# --- silent wrong answers ---------------------------------------------------------------


def _kernel_with_roundoff_negatives(n=6, rank=3):
    k = _psd(n, rank)
    lam, vec = torch.linalg.eigh(k)
    lam[:n - rank] = -1e-13 * float(lam[-1])  # what round-off leaves where 0 belongs
    return (vec * lam) @ vec.T


def test_roundoff_negative_eigenvalues_keep_t_inf_finite():
    k = _kernel_with_roundoff_negatives()
    k = (k + k.T) / 2
    y = torch.randn(6, dtype=torch.float64)
    kx = k[:2]
    for out in (
        dynamics.gradient_flow(k, y, t=[1.0, math.inf], k_test_train=kx).test,
        dynamics.kernel_regression(k, y, k_test_train=kx).test,
        dynamics.projection_operator(k, kx, [math.inf]),
    ):
        assert bool(torch.isfinite(out).all()) and float(out.abs().max()) < 1e6
    lam = torch.linalg.eigvalsh(k)
    assert float(lam.min()) < 0
    assert int(torch.isinf(spectral.time_to_fit(lam)).sum()) == 3  # null modes never fit, the others do
    phi = spectral.spectral_filter(lam, math.inf)
    assert bool(torch.isfinite(phi).all()) and int((phi == 0).sum()) == 3
    risk = spectral.expected_risk(lam, torch.linalg.eigh(k)[1], y, noise_std=0.1, t=[math.inf])
    assert bool(torch.isfinite(risk).all())
    with pytest.raises(ValueError, match="lam must be >= 0"):
        spectral.spectral_filter(torch.tensor([1.0, -0.1]), 1.0)
    with pytest.raises(ValueError, match="k_train must be positive semi-definite"):
        dynamics.gradient_flow(-_psd(4), torch.ones(4), t=1.0)


@pytest.mark.parametrize("scale", [1e-200, 1e-30, 1e30, 1e200])
def test_norms_do_not_overflow_or_underflow(scale):
    x = _sphere(5, 3)
    xs = x * scale
    ref = relu_ntk(x, depth=4, bias_var=0.0, normalized=True)
    assert torch.allclose(relu_ntk(xs, depth=4, normalized=True), ref, rtol=1e-13, atol=1e-14)
    assert torch.allclose(data.to_sphere(xs), x, rtol=1e-14, atol=1e-15)
    assert torch.allclose(unit_rows(xs), x, rtol=1e-14, atol=1e-15)
    s, r = row_norms(xs)
    assert torch.allclose(s * r, torch.full((5,), scale, dtype=torch.float64), rtol=1e-14)
    assert correlations.depth_scale(xs) == pytest.approx(correlations.depth_scale(x), rel=1e-12)
    h0, ht = xs, 2 * xs
    assert torch.allclose(features.layer_drift(h0, ht) / scale, torch.ones(5, dtype=torch.float64), rtol=1e-13)
    assert features.gram_change(h0, ht) == pytest.approx(3.0, rel=1e-12)
    assert features.drift_stats(h0, ht).ratio_mean == pytest.approx(features.drift_stats(x, 2 * x).ratio_mean)
    if 1e-150 < scale < 1e150:  # the mean square itself is representable
        assert metrics.mse(xs, 0 * xs) / scale**2 == pytest.approx(1 / 3, rel=1e-12)  # unit rows, 3 columns
    assert metrics.r2_score(xs[:, 0], xs[:, 0]) == 1.0
    if scale < 1:  # raw NTK ~ scale^2 underflows at 1e-200: a clear error, not zeros
        with pytest.raises(ValueError, match="underflows"):
            relu_ntk(x * 1e-200, depth=4)
    else:
        raw = relu_ntk(x * 1e100, depth=4)
        assert torch.allclose(raw / 1e200, relu_ntk(x, depth=4), rtol=1e-13)


def test_huge_inputs_in_low_precision():
    xh = (torch.randn(4, 3, generator=torch.Generator().manual_seed(0)) * 3e4).clamp(-6e4, 6e4).half()
    assert bool(torch.isfinite(data.to_sphere(xh)).all())
    assert torch.allclose(data.to_sphere(xh).double(), data.to_sphere(xh.double()), atol=1e-6)
    assert bool(torch.isfinite(relu_ntk(xh, depth=3, normalized=True)).all())
    with pytest.raises(ValueError, match="overflows torch.float16"):
        relu_ntk(xh, depth=3, dtype=torch.float16)  # ~1e8 does not fit float16
    zh = torch.tensor([0.5, -1.0, 1.0], dtype=torch.float16)
    assert h(zh).dtype == torch.float32 and torch.allclose(h(zh).double(), h(zh.double()), atol=1e-7)
    assert spectral.eigh_descending(_psd(4).half().float().half())[0].dtype == torch.float64
    assert metrics.mse(torch.tensor([6e4], dtype=torch.float16), torch.tensor([-6e4], dtype=torch.float16)) == pytest.approx(
        (12e4) ** 2, rel=1e-3
    )


def test_raw_kernel_underflow_is_an_error_pointing_to_normalized():
    x = _sphere(4, 3)
    for fn in (relu_ntk, relu_nngp, relu_kernel_layers):
        with pytest.raises(ValueError, match="normalized=True"):
            fn(x, depth=1200)
    with pytest.raises(ValueError, match="normalized=True"):
        nngp_ntk(x, depth=1200)
    assert bool(torch.isfinite(relu_ntk(x, depth=1200, normalized=True)).all())
    with pytest.raises(ValueError, match="overflows"):
        relu_ntk(x, depth=600, weight_var=8.0)


def test_gradient_descent_past_the_stable_step():
    k = _psd(5)
    lam_max = float(torch.linalg.eigvalsh(k)[-1])
    y = torch.randn(5, dtype=torch.float64)
    ok = dynamics.gradient_descent(k, y, steps=[10], lr=1.0 / lam_max)
    assert not ok.diverged
    bad = dynamics.gradient_descent(k, y, steps=[5], lr=2.5 / lam_max)
    assert bad.diverged and bool(torch.isfinite(bad.train).all())  # exact, flagged
    with pytest.raises(ValueError, match="lr = .* past the stable step"):
        dynamics.gradient_descent(k, y, steps=[100000], lr=2.5 / lam_max)
    with pytest.raises(ValueError, match="steps=inf has no limit"):
        dynamics.gradient_descent(k, y, steps=[math.inf], lr=2.5 / lam_max)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8])
def test_integer_inputs_are_promoted_not_truncated(dtype):
    xi = torch.tensor([[1, 2, 0], [3, 1, 1], [0, 1, 2]], dtype=dtype)
    xf = xi.double()
    assert torch.equal(relu_ntk(xi, depth=3), relu_ntk(xf, depth=3))
    assert torch.equal(relu_nngp(xi, depth=3, bias_var=0.1), relu_nngp(xf, depth=3, bias_var=0.1))
    assert torch.equal(nngp_ntk(xi, depth=2)[1], nngp_ntk(xf, depth=2)[1])
    assert torch.equal(data.to_sphere(xi), data.to_sphere(xf))
    ki = (xi.long() @ xi.long().T).to(dtype) if dtype != torch.uint8 else (xi @ xi.T)
    kf = ki.double()
    yi = torch.tensor([1, 0, 2], dtype=dtype)
    assert torch.equal(dynamics.gradient_flow(ki, yi, t=0.5).train, dynamics.gradient_flow(kf, yi.double(), t=0.5).train)
    assert torch.equal(spectral.eigh_descending(ki)[0], spectral.eigh_descending(kf)[0])
    assert torch.equal(spectral.spectral_filter(yi, 1.0), spectral.spectral_filter(yi.double(), 1.0))
    assert metrics.mse(yi, yi.flip(0)) == metrics.mse(yi.double(), yi.double().flip(0)) > 0
    assert features.gram_change(xi, 2 * xi) == pytest.approx(3.0)
    assert torch.equal(features.layer_drift(xi, 0 * xi), features.layer_drift(xf, 0 * xf))


def test_bool_and_complex_refused():
    xb = torch.ones(3, 2, dtype=torch.bool)
    xc = torch.ones(3, 2, dtype=torch.complex64)
    for fn, kw in ((relu_ntk, {"depth": 2}), (nngp_ntk, {"depth": 2}), (data.to_sphere, {}), (features.gram, {})):
        for bad in (xb, xc):
            with pytest.raises(TypeError, match="real-valued"):
                fn(bad, **kw)
    with pytest.raises(TypeError, match="k_train"):
        dynamics.gradient_flow(torch.eye(2, dtype=torch.bool), torch.ones(2), t=1.0)
    with pytest.raises(TypeError, match="labels"):
        metrics.accuracy(torch.randn(3, 2), torch.tensor([True, False, True]))


def test_depth_helpers_refuse_nonsymmetric_kernels_and_zero_rows():
    k = _psd(4)
    asym = k.clone()
    asym[0, 1] += 0.5
    with pytest.raises(ValueError, match="k_train must be symmetric"):
        dynamics.projection_operator(asym, k[:2], 1.0)
    with pytest.raises(ValueError, match="x has an all-zero row"):
        correlations.depth_scale(torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="x has an all-zero row"):
        data.to_sphere(torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="h0 .*relative change is undefined"):
        features.gram_change(torch.zeros(2, 3), torch.ones(2, 3))
    with pytest.raises(ValueError, match="first kernel"):
        training.kernel_log({0: torch.zeros(2, 2), 1: torch.eye(2)})
    with pytest.raises(ValueError, match="tol must be > 0"):
        correlations.eta_fixed_point(0.0)


# --- valid input accepted ---------------------------------------------------------------


def test_float32_kernels_judged_with_float32_tolerances():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(40, 300, generator=g)  # float32
    k = a @ a.T  # float32 products: asymmetric and indefinite at float32 rounding only
    k = k + 3e-6 * float(k.abs().max()) * torch.triu(torch.ones_like(k), 1)  # ~ 25 eps32 asymmetry
    assert symmetry_rtol(torch.float32, 40) > 3e-6 > symmetry_rtol(torch.float64, 40)
    y = torch.randn(40, generator=g)
    assert bool(torch.isfinite(dynamics.gradient_flow(k, y, t=[1.0, math.inf]).train).all())
    spectral.eigh_descending(k)
    dynamics.projection_operator(k, k[:3], [1.0])
    with pytest.raises(ValueError, match="k_train must be symmetric"):
        dynamics.gradient_flow(k.double(), y, t=1.0)  # the same numbers claimed as float64 are not
    assert psd_tolerance(torch.float32, 40) > psd_tolerance(torch.float64, 40)
    lam32 = torch.tensor([1.0, 1e-3, -1e-6])  # float32 eigenvalues: -1e-6 is round-off
    assert spectral.spectral_filter(lam32, 1.0)[0, 2] == 0.0


def test_tiny_norm_rows_are_not_zero_rows():
    x = _sphere(4, 3) * 1e-250
    relu_ntk(x, depth=3, normalized=True)
    assert bool(torch.isfinite(relu_ntk(x, depth=3, bias_var=0.1)).all())
    data.to_sphere(x)
    correlations.depth_scale(x)


def test_numpy_integers_accepted_wherever_python_ints_are():
    i = np.int64
    x = _sphere(5, 3)
    assert torch.equal(relu_ntk(x, depth=i(3)), relu_ntk(x, depth=3))
    assert torch.equal(relu_ntk(x, depth=3, block_elems=i(7)), relu_ntk(x, depth=3, block_elems=7))
    assert torch.equal(theta_bar_recurrence(torch.tensor(0.3), np.int32(4)), theta_bar_recurrence(torch.tensor(0.3), 4))
    assert correlations.relu_correlations(torch.tensor(0.3), i(3))[0].shape[0] == 3
    assert correlations.eta_recurrence(torch.tensor(0.3), i(3)).shape[0] == 3
    assert sphere.cap_probability(i(5), 0.3) == sphere.cap_probability(5, 0.3)
    assert sphere.collision_union_bound(i(10), i(5), 0.3) == sphere.collision_union_bound(10, 5, 0.3)
    assert sphere.collision_bound_prop7(i(10), i(5), 0.3) == sphere.collision_bound_prop7(10, 5, 0.3)
    assert sphere.cai_constant(i(5)) == sphere.cai_constant(5)
    v = torch.randn(16, dtype=torch.float64)
    assert torch.equal(spectral.band_power(v, i(1), i(3)), spectral.band_power(v, 1, 3))
    assert training.log_spaced_steps(i(100), i(10)) == training.log_spaced_steps(100, 10)
    assert torch.equal(data.sphere(i(4), i(3), seed=i(2)), data.sphere(4, 3, seed=2))
    assert data.unit_interval(i(4)).shape == (4, 1)
    k = _psd(4)
    assert torch.equal(dynamics.gradient_descent(k, torch.ones(4), steps=i(3), lr=0.01).train,
                       dynamics.gradient_descent(k, torch.ones(4), steps=3, lr=0.01).train)
    assert metrics.accuracy(torch.eye(3), np.array([0, 1, 2])) == 1.0
    assert metrics.accuracy(torch.eye(3), [0, 1, 1]) == pytest.approx(2 / 3)


def test_bools_refused_where_integers_are_expected():
    x = _sphere(3, 2)
    cases = [
        (lambda: relu_ntk(x, depth=True), "depth"),
        (lambda: relu_ntk(x, depth=2, block_elems=True), "block_elems"),
        (lambda: sphere.cap_probability(True, 0.3), "n0"),
        (lambda: sphere.cap_probability(5, True), "angle"),
        (lambda: sphere.collision_union_bound(True, 5, 0.3), "n"),
        (lambda: spectral.band_power(torch.randn(8), True), "kmin"),
        (lambda: training.log_spaced_steps(True), "steps"),
        (lambda: data.sphere(True, 3), "n"),
        (lambda: data.sphere(3, 3, seed=True), "seed"),
        (lambda: relu_ntk(x, depth=2, weight_var=True), "weight_var"),
    ]
    for call, name in cases:
        with pytest.raises(TypeError, match=name):
            call()


# --- clear errors -----------------------------------------------------------------------


def test_requires_grad_inputs_work():
    x = _sphere(4, 3).requires_grad_()
    relu_ntk(x, depth=3, bias_var=0.1)
    relu_kernel_layers(x, depth=3)
    nngp_ntk(x, depth=2)
    data.to_sphere(x)
    k = _psd(4).requires_grad_()
    dynamics.gradient_flow(k, torch.ones(4, requires_grad=True), t=1.0)
    spectral.eigh_descending(k)
    features.layer_drift(x, x * 2)
    metrics.mse(x, x)


def test_errors_name_the_callers_argument():
    k = _psd(4)
    with pytest.raises(ValueError, match="steps"):
        dynamics.gradient_descent(k, torch.ones(4), steps=[1.5], lr=0.1)
    with pytest.raises(TypeError, match="steps"):
        dynamics.gradient_descent(k, torch.ones(4), steps=True, lr=0.1)
    with pytest.raises(ValueError, match="f0_test"):
        dynamics.gradient_flow(k, torch.ones(4), t=1.0, k_test_train=k[:2], f0_test=torch.zeros(3))
    with pytest.raises(ValueError, match="f_star"):
        spectral.expected_risk(torch.ones(2), torch.eye(2), torch.ones(3), noise_std=0.1, t=1.0)
    with pytest.raises(ValueError, match="times"):
        spectral.first_crossing([0.0, 0.0], [1.0, 0.5], 0.7)
    with pytest.raises(ValueError, match="pred and target must have the same shape"):
        metrics.mse(torch.ones(3), torch.ones(4))
    with pytest.raises(ValueError, match="labels must lie in"):
        metrics.cross_entropy(torch.randn(3, 2), torch.tensor([0, 1, 2]))


def test_train_gd_checks_everything_before_training():
    model = MLP(3, 16, 2, seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    x, y = torch.randn(8, 3), torch.randn(8)
    cases = [
        (dict(x=torch.randn(8, 4)), ValueError, "model cannot be applied to x of shape"),
        (dict(x_test=torch.randn(2, 5)), ValueError, "x_test"),
        (dict(ntk_x=torch.randn(2, 5), ntk_at=[0]), ValueError, "ntk_x"),
        (dict(record=[1.5]), TypeError, "record"),
        (dict(ntk_at=[True]), TypeError, "ntk_at"),
        (dict(steps=2.5), TypeError, "steps"),
        (dict(ntk_batch_size=0), ValueError, "ntk_batch_size"),
        (dict(y=torch.randn(8, 2)), ValueError, "y has shape"),
    ]
    for kw, err, msg in cases:
        args = dict(x=x, y=y, lr=0.01, steps=3, progress=False) | kw
        with pytest.raises(err, match=msg):
            training.train_gd(model, **args)
    for p, q in zip(model.parameters(), before):
        assert torch.equal(p.detach(), q)  # nothing trained before the error
    hist = training.train_gd(model, x.numpy(), y.numpy().astype(np.float64), lr=0.01, steps=np.int64(2),
                             record=np.array([0, 2]), progress=False)
    assert hist.steps == [0, 2]


def test_train_gd_past_the_stable_step_is_flagged():
    model = MLP(3, 16, 2, seed=0)
    hist = training.train_gd(model, torch.randn(8, 3), 100 * torch.randn(8), lr=1e3, steps=200, progress=False)
    assert hist.diverged and bool(np.isfinite(hist.loss).all())


def test_as_tensor_dtype_policy():
    assert as_tensor([1, 2], "v").dtype == torch.float64
    assert as_tensor(np.array([1, 2], dtype=np.int8), "v").dtype == torch.float64
    assert as_tensor(torch.ones(2, dtype=torch.float16), "v").dtype == torch.float16  # kept; callers widen
    with pytest.raises(TypeError, match="v must be numeric"):
        as_tensor(np.array(["a"]), "v")
    with pytest.raises(TypeError, match="v must be numeric"):
        as_tensor([object()], "v")
