import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ntk_lib.analytic import relu_ntk
from ntk_lib.periodic import alias_fraction, alias_grid, fourier_coefficients, oracle_filter_risk
from ntk_lib.spectral import circulant_eigenvalues, expected_risk


def test_fourier_coefficients_of_a_sine():
    m = 64
    x = (torch.arange(m, dtype=torch.float64) + 0.5) / m
    v = 0.7 * torch.sin(2 * math.pi * 5 * x + 0.3) + 2.0
    c = fourier_coefficients(v, [0, 5, 6])
    assert abs(float(c[0].real) - 2.0) < 1e-12
    assert abs(2 * float(c[1].abs()) - 0.7) < 1e-12
    assert float(c[2].abs()) < 1e-12


def test_fourier_coefficients_rejects_bad_frequency():
    with pytest.raises(ValueError, match="freqs"):
        fourier_coefficients(torch.zeros(8), [4])
    with pytest.raises(ValueError, match="freqs"):
        fourier_coefficients(torch.zeros(8), [-1])


def _gaussian_row(n, width):
    d = torch.arange(n, dtype=torch.float64) / n
    d = torch.minimum(d, 1 - d)
    return sum(torch.exp(-((d + j) ** 2) / (2 * width**2)) for j in (-1, 0, 1))


def test_alias_fraction_matches_kernel_regression_interpolant():
    """Interpolate a harmonic from N grid points with a stationary kernel; measure on a fine grid how
    much of its coefficient lands on the right frequency."""
    fine, n_train, k = 512, 16, 3
    row = _gaussian_row(fine, 0.02)
    mu = circulant_eigenvalues(row) / fine
    xs = torch.arange(fine, dtype=torch.float64) / fine
    idx = torch.arange(0, fine, fine // n_train)
    kmat = torch.stack([torch.roll(row, int(i)) for i in range(fine)])  # full circulant matrix
    y = torch.cos(2 * math.pi * k * xs[idx])
    pred = kmat[:, idx] @ torch.linalg.solve(kmat[idx][:, idx], y)
    kept = 2 * float(fourier_coefficients(pred, [k])[0].abs())
    assert abs((1 - kept) - alias_fraction(mu, n_train, k)) < 1e-8


def test_alias_fraction_zero_without_aliases_and_validation():
    mu = torch.zeros(40, dtype=torch.float64)
    mu[:8] = 1.0
    assert alias_fraction(mu, 32, 3) == 0.0
    with pytest.raises(ValueError, match="k"):
        alias_fraction(mu, 32, 50)
    with pytest.raises(ValueError, match="n_train"):
        alias_fraction(mu, 0, 3)
    with pytest.raises(ValueError, match="mu"):
        alias_fraction(-mu, 32, 3)


def _fourier_feature_spectrum(freqs, grid):
    """Eigenvalues by frequency of a depth-3 ReLU NTK on integer Fourier features, from ``grid`` points."""
    x = torch.arange(grid, dtype=torch.float64) / grid
    z = 2 * math.pi * x[:, None] * freqs[None, :]
    phi = torch.cat([torch.sin(z), torch.cos(z)], dim=1)
    return circulant_eigenvalues(relu_ntk(phi[:1], phi, depth=3, bias_var=1.0)[0]) / grid


def test_alias_grid_resolves_a_relu_ntk_on_fourier_features():
    """On the grid alias_grid chooses, the alias fraction is within 1e-4 of its value on a 16 times finer
    grid; a grid of only 8 times the top feature frequency is visibly off (it folds the kernel's tail)."""
    g = torch.Generator().manual_seed(0)
    freqs = torch.round(40.0 * torch.randn(32, generator=g, dtype=torch.float64))
    n_train, top = 64, int(freqs.abs().max())
    grid = alias_grid(top, n_train)
    assert grid >= 64 * max(top, n_train) and grid & (grid - 1) == 0
    fine = _fourier_feature_spectrum(freqs, 16 * grid)
    ref = max(alias_fraction(fine, n_train, k) for k in (1, 3, 7, 12))
    got = max(alias_fraction(_fourier_feature_spectrum(freqs, grid), n_train, k) for k in (1, 3, 7, 12))
    assert abs(got - ref) < 1e-4
    coarse_grid = 1 << (8 * top - 1).bit_length()
    coarse = max(alias_fraction(_fourier_feature_spectrum(freqs, coarse_grid), n_train, k) for k in (1, 3, 7, 12))
    assert abs(coarse - ref) > 10 * abs(got - ref)


def test_alias_grid_validation():
    assert alias_grid(0, 16) == 1024
    assert alias_grid(3, 16, oversample=2) == 32
    with pytest.raises(ValueError, match="max_freq"):
        alias_grid(-1, 16)
    with pytest.raises(ValueError, match="n_train"):
        alias_grid(5, 0)
    with pytest.raises(ValueError, match="oversample"):
        alias_grid(5, 16, oversample=1)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.05, 2.0))
def test_oracle_is_below_every_early_stopping_time(seed, s):
    g = torch.Generator().manual_seed(seed)
    n = 12
    vec, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    lam = torch.rand(n, generator=g, dtype=torch.float64) + 1e-3
    f = torch.randn(n, generator=g, dtype=torch.float64)
    oracle = oracle_filter_risk(vec.T @ f, s)
    risk = expected_risk(lam, vec, f, noise_std=s, t=torch.logspace(-3, 4, 200, dtype=torch.float64))
    assert oracle <= float(risk.min()) + 1e-12
    # and the oracle's gains attain it: per-mode minimum of (1-g)^2 c^2 + g^2 s^2
    c2 = (vec.T @ f) ** 2
    gains = c2 / (c2 + s**2)
    direct = float((((1 - gains) ** 2) * c2 + gains**2 * s**2).mean())
    assert abs(direct - oracle) < 1e-12
