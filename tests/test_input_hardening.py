"""Referee findings on bad and edge input: each a named error before any work, or the right number.

Spectral round-off rule, half-precision empirical kernels, model forwards, late checks in training,
integer dtypes, errors naming the caller's argument, overflow in Gram matrices and intervals, integer
and flag checks through ntk_lib._validate.
"""

import math

import numpy as np
import pytest
import torch

from ntk_lib import activations, data, device, dynamics, features, fit, layers, models, residual, spectral
from ntk_lib.analytic import relu_ntk
from ntk_lib.cross_entropy import train_gd_cross_entropy
from ntk_lib.empirical import empirical_ntk

F64 = torch.float64


def _x(n, d, seed=0, dtype=F64):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --------------------------------------------------------------------------- 3. eigenvalues within round-off of zero


def test_small_real_eigenvalues_are_modes_not_zeros():
    lam = torch.tensor([1.0, 1e-9], dtype=F64)
    assert torch.allclose(spectral.spectral_filter(lam, 1e10)[0], torch.tensor([1.0, -math.expm1(-10.0)], dtype=F64))
    assert torch.allclose(spectral.time_to_fit(lam), math.log(10) / lam, rtol=1e-14)
    risk = spectral.expected_risk(lam, torch.eye(2, dtype=F64), torch.ones(2, dtype=F64), noise_std=0.0, t=1e10)
    assert torch.allclose(risk, torch.tensor([math.exp(-20.0) / 2], dtype=F64), rtol=1e-12)
    assert float(spectral.mode_decay(lam, 1e10)[0, 1]) == pytest.approx(math.exp(-10.0), rel=1e-12)
    learned, gain = spectral.flow_factors(lam, 1e10)
    assert float(gain[0, 1]) == pytest.approx(-math.expm1(-10.0) / 1e-9, rel=1e-12)


def test_spectral_helpers_follow_the_gradient_flow_rule():
    """gradient_flow on diag(1, 1e-9) learns the small mode; the spectral filter must say the same."""
    k = torch.diag(torch.tensor([1.0, 1e-9], dtype=F64))
    flow = dynamics.gradient_flow(k, torch.ones(2, dtype=F64), t=1e10)
    filt = spectral.spectral_filter(torch.tensor([1.0, 1e-9], dtype=F64), 1e10)[0]
    assert torch.allclose(flow.train[0], filt, rtol=1e-12)
    # round-off of an eigendecomposition (below n eps lambda_max, negative ones included) is still a null mode
    lam = torch.tensor([1.0, 1e-17, -1e-17], dtype=F64)
    assert spectral.spectral_filter(lam, math.inf)[0].tolist() == [1.0, 0.0, 0.0]
    assert spectral.time_to_fit(lam)[1:].tolist() == [math.inf, math.inf]
    with pytest.raises(ValueError, match="lam must be >= 0"):
        spectral.spectral_filter(torch.tensor([1.0, -1e-3], dtype=F64), 1.0)


# --------------------------------------------------------------------------- 4. half-precision empirical kernels


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_models_get_a_finite_float32_kernel(dtype):
    mlp = models.MLP(5, 64, 3, seed=0, dtype=dtype)
    seq = torch.nn.Sequential(torch.nn.Linear(4, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1)).to(dtype)
    for model, x in ((mlp, 80 * _x(6, 5, 1)), (seq, 60 * _x(6, 4, 2))):
        assert bool(torch.isfinite(model(x.to(dtype))).all())
        ref_model = __import__("copy").deepcopy(model).double()
        ref = empirical_ntk(ref_model, x)
        for method in ("structured", "jacobian"):
            k = empirical_ntk(model, x, method=method)
            assert k.dtype == torch.float32 and bool(torch.isfinite(k).all())
            assert float((k.double() - ref).abs().max()) < 5e-2 * float(ref.abs().max())  # the inputs are rounded to float16
        assert next(model.parameters()).dtype == dtype  # the model itself is left as it is


# --------------------------------------------------------------------------- 5. model forwards


@pytest.mark.parametrize(
    "make,in_features",
    [
        (lambda: models.MLP(4, 16, 2, seed=0), 4),
        (lambda: models.NTKECRN(4, 8, 2, fourier_features=4, seed=0), 4),
        (lambda: models.NTKECRN(4, 8, 2, fourier_sigma=None, seed=0), 4),
        (lambda: models.FourierFeatures(4, 8, 1.0, seed=0), 4),
        (lambda: layers.serial(layers.Dense(8), layers.Relu(), layers.Dense(1)).build(4, seed=0), 4),
        (lambda: residual.with_masks(models.NTKECRN(4, 8, 2, fourier_features=4, seed=0)), 4),
    ],
)
def test_model_forwards_name_dtype_and_feature_mismatches(make, in_features):
    model = make()
    x = _x(3, in_features, dtype=torch.float32)
    model(x)  # the right input works
    with pytest.raises(TypeError, match="x has dtype torch.float64"):
        model(x.double())
    with pytest.raises(TypeError, match="x must be a floating tensor"):
        model(x.long())
    with pytest.raises(ValueError, match=f"in_features={in_features}"):
        model(_x(3, in_features + 1, dtype=torch.float32))
    with pytest.raises(ValueError, match=f"in_features={in_features}"):
        model(x[0])


# --------------------------------------------------------------------------- 6. train_gd_cross_entropy


def _classifier():
    return models.MLP(4, 16, 2, 3, seed=0)


def test_cross_entropy_checks_x_test_before_training():
    model = _classifier()
    model.train()
    before = [p.detach().clone() for p in model.parameters()]
    x, labels = _x(6, 4, dtype=torch.float32), torch.tensor([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="x_test"):
        train_gd_cross_entropy(model, x, labels, lr=0.1, steps=200, x_test=_x(2, 5, dtype=torch.float32))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # no step was taken
    assert model.training  # and the mode is the caller's
    with pytest.raises(TypeError, match="steps must be an integer"):
        train_gd_cross_entropy(model, x, labels, lr=0.1, steps=2.5)


@pytest.mark.parametrize(
    "labels",
    [np.array([0, 1, 2, 0, 1, 2]), [0, 1, 2, 0, 1, 2], torch.tensor([0, 1, 2, 0, 1, 2], dtype=torch.int16),
     torch.tensor([0, 1, 2, 0, 1, 2], dtype=torch.uint8), np.array([0, 1, 2, 0, 1, 2], dtype=np.uint8)],
)
def test_cross_entropy_takes_any_integer_labels(labels):
    x = _x(6, 4, dtype=torch.float32)
    ref = train_gd_cross_entropy(_classifier(), x, torch.tensor([0, 1, 2, 0, 1, 2]), lr=0.1, steps=3)
    run = train_gd_cross_entropy(_classifier(), x, labels, lr=0.1, steps=3)
    assert np.array_equal(run.loss, ref.loss)
    with pytest.raises(TypeError, match="labels"):
        train_gd_cross_entropy(_classifier(), x, [0.5] * 6, lr=0.1, steps=3)
    with pytest.raises(ValueError, match="labels"):
        train_gd_cross_entropy(_classifier(), x, [0, 1, 2, 0, 1, 3], lr=0.1, steps=3)


# --------------------------------------------------------------------------- 7. integer dtypes for unit vectors


def test_load_digits_sphere_refuses_integer_dtypes():
    pytest.importorskip("sklearn")
    with pytest.raises(TypeError, match="dtype must be a floating"):
        data.load_digits_sphere(dtype=torch.int64)
    with pytest.raises(TypeError, match="dtype must be a floating"):
        data.sphere(3, 2, dtype=torch.int64)


# --------------------------------------------------------------------------- 8. errors name the caller's argument


def test_errors_name_the_argument_passed():
    with pytest.raises(ValueError, match="fourier_sigma must be > 0"):
        models.NTKECRN(4, 8, 2, fourier_sigma=0)
    with pytest.raises(TypeError, match="fourier_features must be a positive integer"):
        models.NTKECRN(4, 8, 2, fourier_features=2.5)
    net = models.NTKECRN(3, 8, 3, fourier_features=4, seed=0, dtype=F64).eval()
    x = _x(4, 3)
    with pytest.raises(ValueError, match="keep_probs must have one value per block"):
        residual.mask_expected_ntk(net, x, keep_probs=[1, 1])
    with pytest.raises(ValueError, match="alphas must have one value per block"):
        residual.mask_expected_ntk(net, x, alphas=[1.0])
    with pytest.raises(TypeError, match="keep_probs"):
        residual.mask_configurations(0.5)


# --------------------------------------------------------------------------- 9. overflow in Gram matrices and intervals


def test_gram_scales_before_the_products():
    h = _x(4, 6, 3)
    for normalized in (False, True):
        ref = features.gram(h, normalized=normalized)
        assert torch.equal(features.gram(2.0**500 * h, normalized=normalized), 2.0**1000 * ref)
    big = features.gram(1e152 * h, normalized=True)  # entries ~1e304: representable, but h @ h.T is not
    assert bool(torch.isfinite(big).all())
    assert torch.allclose(big, 1e304 * features.gram(h, normalized=True), rtol=1e-13)
    with pytest.raises(ValueError, match="overflows float64"):
        features.gram(1e200 * h, normalized=True)
    with pytest.raises(ValueError, match="underflows float64"):
        features.gram(1e-200 * h)
    with pytest.raises(TypeError, match="normalized must be True or False"):
        features.gram(h, normalized="yes")


def test_mean_interval_near_the_float_range():
    iv = fit.mean_interval([1e200, -1e200, 1e200])
    ref = fit.mean_interval([1.0, -1.0, 1.0])
    for a, b in zip(iv[:4], ref[:4]):
        assert a == pytest.approx(1e200 * b, rel=1e-14)
    with pytest.raises(ValueError, match="overflows float64"):
        fit.mean_interval([1e308, 1.7e308])
    top = fit.mean_interval([1e308, 1.1e308, 1.2e308, 1.05e308, 1.15e308])
    assert all(math.isfinite(v) for v in top[:4]) and top.mean == pytest.approx(1.1e308, rel=1e-14)
    small = fit.mean_interval([0.1, 0.2, 0.4])  # the scaling is by a power of two: unchanged digits
    v = np.array([0.1, 0.2, 0.4])
    assert small.mean == float(v.mean()) and small.sd == float(v.std(ddof=1))


# --------------------------------------------------------------------------- 12. integers and flags


def test_integer_checks_accept_integer_tensors_and_name_bad_values():
    a = models.NTKECRN(3, 8, 2, fourier_features=4, drop_prob=torch.tensor(0.1, dtype=F64), seed=0)
    b = models.NTKECRN(3, 8, 2, fourier_features=4, drop_prob=0.1, seed=0)
    assert a.keep_probs == b.keep_probs
    c = models.NTKECRN(3, 8, 2, fourier_features=4, drop_prob=np.array([0.1, 0.2]), seed=0)
    assert c.keep_probs == pytest.approx([0.9, 0.8])
    with pytest.raises(ValueError, match="drop_prob values must lie in"):
        models.NTKECRN(3, 8, 2, drop_prob=torch.tensor(1.5))
    with pytest.raises(TypeError, match="drop_prob"):
        models.NTKECRN(3, 8, 2, drop_prob="0.1")
    m = models.MLP(np.int64(3), torch.tensor(8), 2, seed=np.int32(0))
    assert m.layers[0].weight.shape == (8, 3)
    with pytest.raises(TypeError, match="width must be a positive integer"):
        models.MLP(3, True, 2)
    with pytest.raises(ValueError, match="device must be a torch.device"):
        device.memory_budget_bytes("foo")
    with pytest.raises(TypeError, match="normalized must be True or False"):
        relu_ntk(_x(3, 2), depth=2, normalized="yes")
    with pytest.raises(TypeError, match="random must be True or False"):
        data.circle(4, random=1)


# --------------------------------------------------------------------------- 13. minor


def test_float32_model_input_that_overflows_float32_is_named_as_such():
    model = models.MLP(3, 8, 2, seed=0)
    x = _x(4, 3)
    x[1, 2] = 1e39  # finite in float64
    with pytest.raises(ValueError, match="x1 overflows torch.float32"):
        empirical_ntk(model, x)
    x[1, 2] = math.inf
    with pytest.raises(ValueError, match="x1 contains NaN or infinite values"):
        empirical_ntk(model, x)


class _ViewInplace(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2 = torch.nn.Linear(16, 16), torch.nn.Linear(16, 1)

    def forward(self, x):
        h = self.l1(x.view(x.shape[0], 2, 16))
        h.mul_(2.0)  # in place, under vmap of a forward-mode pass
        return self.l2(torch.relu_(h).sum(1))


class _Attention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = torch.nn.Linear(4, 8)
        self.att = torch.nn.MultiheadAttention(8, 2, batch_first=True)
        self.out = torch.nn.Linear(8, 1)

    def forward(self, x):
        h = self.inp(x.view(x.shape[0], 3, 4))
        a, _ = self.att(h, h, h, need_weights=False)
        return self.out(a.mean(1))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("make,d", [(_ViewInplace, 32), (_Attention, 12)])
def test_ntk_vp_failure_is_a_named_error(make, d):
    """torch.func's forward mode cannot run these models: a ValueError pointing to 'jacobian', which can."""
    torch.manual_seed(0)
    model = make().double().eval()
    x = _x(4, d)
    ref = empirical_ntk(model, x, method="jacobian")
    assert bool(torch.isfinite(ref).all())
    try:
        k = empirical_ntk(model, x, method="ntk_vp")
    except ValueError as err:
        assert "method='jacobian'" in str(err)
    else:  # a torch version whose forward mode handles it: then the answer must be right
        assert torch.allclose(k, ref, rtol=1e-10)


def test_relu_pair_checks_its_arrays():
    q = torch.tensor([1.0, 2.0], dtype=F64)
    v, vd, omh = activations.relu_pair(q, q, 0.5 * q)
    v2, vd2, omh2 = activations.relu_pair(q.tolist(), np.array([1.0, 2.0]), [0.5, 1.0])
    assert torch.equal(v, v2) and torch.equal(vd, vd2) and torch.equal(omh, omh2)
    with pytest.raises(ValueError, match="q1 must be >= 0"):
        activations.relu_pair(-q, q, 0 * q)
    with pytest.raises(ValueError, match="c must satisfy"):
        activations.relu_pair(q, q, 3 * q)
    with pytest.raises(ValueError, match="c contains NaN"):
        activations.relu_pair(q, q, torch.tensor([0.1, math.nan], dtype=F64))
    with pytest.raises(ValueError, match="u must lie in"):
        activations.relu_pair(q, q, 0.5 * q, u=torch.tensor([3.0, 0.5], dtype=F64))
