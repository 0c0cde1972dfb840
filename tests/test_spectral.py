import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ntk_lib.analytic import relu_ntk
from ntk_lib.data import circle, sum_of_sines, unit_interval
from ntk_lib.dynamics import gradient_flow
from ntk_lib.empirical import empirical_ntk
from ntk_lib.models import MLP, FourierFeatures
from ntk_lib.spectral import (
    band_power,
    circulant_eigenvalues,
    dominant_frequency,
    eigh_descending,
    expected_risk,
    first_crossing,
    mode_coefficients,
    mode_decay,
    spectral_filter,
    time_to_fit,
)


def _random_psd(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, n, generator=g, dtype=torch.float64)
    return a @ a.T / n


def test_eigh_descending_reconstructs_and_sorts():
    k = _random_psd(7)
    lam, vec = eigh_descending(k)
    assert bool((lam[:-1] >= lam[1:]).all())
    assert torch.allclose(vec @ torch.diag(lam) @ vec.T, k, atol=1e-12)
    assert torch.allclose(vec.T @ vec, torch.eye(7, dtype=torch.float64), atol=1e-12)


def test_mode_decay_is_the_flow_in_the_eigenbasis():
    """gradient_flow's residual, projected on each eigenvector, is e^{-lr lam t} times the initial one."""
    k = _random_psd(6, seed=1)
    y = torch.randn(6, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    t = torch.tensor([0.0, 0.3, 2.0, 10.0], dtype=torch.float64)
    flow = gradient_flow(k, y, t=t, lr=0.7)
    lam, vec = eigh_descending(k)
    coef = mode_coefficients(vec, (flow.train - y).T)  # [n, T]
    expected = mode_decay(lam, t, lr=0.7).T * mode_coefficients(vec, -y)[:, None]
    assert torch.allclose(coef, expected, atol=1e-10)
    assert torch.allclose(spectral_filter(lam, t, lr=0.7), 1 - mode_decay(lam, t, lr=0.7), atol=1e-15)


def test_time_to_fit_inverts_the_decay():
    lam = torch.tensor([2.0, 0.5, 0.01], dtype=torch.float64)
    t = time_to_fit(lam, 0.1, lr=2.0)
    decay = torch.exp(-2.0 * lam * t)
    assert torch.allclose(decay, torch.full_like(decay, 0.1), rtol=1e-12)
    assert math.isinf(float(time_to_fit(torch.tensor([0.0]))[0]))


def test_discrete_time_to_fit_matches_gradient_descent():
    from ntk_lib.dynamics import gradient_descent

    lam = torch.tensor([3.0, 0.4, 0.05], dtype=torch.float64)
    k = torch.diag(lam)
    y = torch.ones(3, dtype=torch.float64)
    step = 0.3
    t = time_to_fit(lam, 0.1, step=step)
    steps = torch.arange(0, 400)
    res = (gradient_descent(k, y, steps=steps, lr=step).train - y).abs()  # [T, 3]
    for i in range(3):
        measured = first_crossing(steps.numpy() * step, res[:, i].clamp_min(1e-300).numpy(), 0.1)
        # interpolation between steps of a geometric sequence is exact in log space
        assert measured == pytest.approx(float(t[i]), rel=1e-9)
    assert float(t[2]) == pytest.approx(math.log(10) / 0.05, rel=0.01)  # small steps: the flow
    assert math.isinf(float(time_to_fit(torch.tensor([10.0]), 0.1, step=0.25)[0]))


def test_band_power_parseval_and_bands():
    m = 64
    x = (torch.arange(m, dtype=torch.float64) + 0.5) / m
    v = 0.5 + 2 * torch.sin(2 * math.pi * 3 * x) + torch.cos(2 * math.pi * 10 * x)
    assert float(band_power(v, 0)) == pytest.approx(float((v**2).mean()), rel=1e-12)
    assert float(band_power(v, 0, 0)) == pytest.approx(0.25, rel=1e-12)
    assert float(band_power(v, 1, 5)) == pytest.approx(2.0, rel=1e-12)
    assert float(band_power(v, 6)) == pytest.approx(0.5, rel=1e-12)
    both = band_power(torch.stack([v, 2 * v], 1), 6)
    assert torch.allclose(both, torch.tensor([0.5, 2.0], dtype=torch.float64), rtol=1e-12)
    with pytest.raises(ValueError, match="kmax"):
        band_power(v, 5, 2)


def test_first_crossing_exact_for_exponentials():
    t = np.linspace(0, 5, 11)
    v = np.exp(-1.3 * t)
    assert first_crossing(t, v, 0.1) == pytest.approx(math.log(10) / 1.3, rel=1e-12)
    assert first_crossing(t, v, 2.0) == 0.0
    assert math.isnan(first_crossing(t, v, 1e-9))


def test_circle_grid_kernel_is_circulant_with_harmonic_eigenvectors():
    """On an even grid the analytic NTK's eigenvalues are the DFT of a row and its eigenvectors are harmonics."""
    n = 32
    _, x = circle(n, random=False)
    k = relu_ntk(x, depth=3)
    lam_dft = circulant_eigenvalues(k[0])
    # each frequency 0 < f < n/2 appears twice among the matrix eigenvalues
    mult = torch.tensor([1] + [2] * (n // 2 - 1) + [1])
    expected = torch.sort(torch.repeat_interleave(lam_dft, mult), descending=True).values
    lam, vec = eigh_descending(k)
    assert torch.allclose(lam, expected, atol=1e-12)
    # eigenvectors of distinct eigenvalues are pure harmonics of their own frequency
    freq = dominant_frequency(vec)
    for i in range(6):
        assert float(lam_dft[freq[i]]) == pytest.approx(float(lam[i]), rel=1e-10)


def test_dominant_frequency_of_harmonics():
    theta = torch.arange(16, dtype=torch.float64) * 2 * math.pi / 16
    v = torch.stack([torch.cos(3 * theta), torch.sin(5 * theta), torch.ones(16, dtype=torch.float64)], 1)
    assert dominant_frequency(v).tolist() == [3, 5, 0]


def test_circulant_rejects_a_non_circulant_row():
    with pytest.raises(ValueError, match="first_row"):
        circulant_eigenvalues(torch.tensor([1.0, 0.5, 0.2, 0.1]))


def test_expected_risk_matches_monte_carlo():
    """The bias-variance formula against an average over noise draws of the closed-form flow."""
    n, s = 12, 0.4
    k = _random_psd(n, seed=3)
    g = torch.Generator().manual_seed(4)
    f_star = torch.randn(n, generator=g, dtype=torch.float64)
    t = torch.tensor([0.0, 0.5, 3.0, 50.0], dtype=torch.float64)
    lam, vec = eigh_descending(k)
    predicted = expected_risk(lam.clamp_min(0), vec, f_star, noise_std=s, t=t)
    draws = 4000
    noise = torch.randn(n, draws, generator=g, dtype=torch.float64) * s
    flow = gradient_flow(k, f_star[:, None] + noise, t=t)
    measured = ((flow.train - f_star[None, :, None]) ** 2).sum(1).mean(1) / n
    assert torch.allclose(measured, predicted, rtol=0.06)
    assert float(predicted[0]) == pytest.approx(float((f_star**2).mean()), rel=1e-12)


@given(st.integers(2, 9), st.floats(0.0, 20.0))
def test_property_filter_in_unit_interval_and_monotone(n, t):
    lam, _ = eigh_descending(_random_psd(n, seed=n))
    lam = lam.clamp_min(0)
    phi = spectral_filter(lam, [t, t + 1.0])
    assert bool(((phi >= 0) & (phi <= 1)).all())
    assert bool((phi[1] >= phi[0]).all())
    # larger eigenvalues are learned at least as much
    assert bool((phi[0][:-1] >= phi[0][1:] - 1e-15).all())


def test_bad_inputs():
    with pytest.raises(ValueError, match="lam"):
        spectral_filter(torch.tensor([1.0, -0.5]), 1.0)
    with pytest.raises(ValueError, match="t must be >= 0"):
        mode_decay(torch.tensor([1.0]), -1.0)
    with pytest.raises(ValueError, match="fraction"):
        time_to_fit(torch.tensor([1.0]), 1.5)
    with pytest.raises(ValueError, match="rows"):
        mode_coefficients(torch.eye(3), torch.ones(4))
    with pytest.raises(ValueError, match="values"):
        first_crossing([0, 1], [1.0, 0.0], 0.5)
    with pytest.raises(ValueError, match="k must"):
        eigh_descending(torch.ones(2, 3))


def test_sum_of_sines_and_grid():
    x = unit_interval(8)
    assert x.shape == (8, 1) and float(x[1, 0]) == 0.125
    y = sum_of_sines(x, [1, 2], amps=[1.0, 0.5], phases=[0.0, math.pi / 2])
    expected = torch.sin(2 * math.pi * x[:, 0]) + 0.5 * torch.cos(4 * math.pi * x[:, 0])
    assert torch.allclose(y, expected, atol=1e-14)
    with pytest.raises(ValueError, match="one input dimension"):
        sum_of_sines(torch.zeros(3, 2), [1])
    with pytest.raises(ValueError, match="equal lengths"):
        sum_of_sines(x, [1, 2], amps=[1.0])


def test_fourier_features_shape_frequencies_and_ntk():
    ff = FourierFeatures(1, 16, sigma=3.0, seed=0, dtype=torch.float64)
    x = unit_interval(10)
    phi = ff(x)
    assert phi.shape == (10, 32)
    # sin^2 + cos^2 = 1 for each frequency
    assert torch.allclose((phi**2).sum(1), torch.full((10,), 16.0, dtype=torch.float64))
    assert list(ff.parameters()) == []  # B is fixed
    assert float(ff.B.std()) == pytest.approx(3.0, rel=0.5)
    net = torch.nn.Sequential(ff, MLP(ff.out_features, 64, 2, seed=1, dtype=torch.float64))
    k = empirical_ntk(net, x)
    assert k.shape == (10, 10) and torch.allclose(k, k.T, atol=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        FourierFeatures(1, 4, sigma=0.0)
    with pytest.raises(ValueError, match="x must be"):
        ff(torch.zeros(3, 2, dtype=torch.float64))
