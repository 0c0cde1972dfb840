r"""Stationary kernels on a periodic grid: Fourier coefficients, aliasing, and the oracle filter.

A kernel on :math:`[0, 1)` that depends only on :math:`x - x'` (mod 1) has the Fourier modes
:math:`e^{2\pi i k x}` as eigenfunctions, with eigenvalues :math:`\mu_k` (the Fourier coefficients of
the kernel). Sampled on :math:`N` equally spaced training points, frequencies :math:`k` and
:math:`k + mN` agree on the grid (*aliasing*), so kernel regression that interpolates a harmonic
:math:`e^{2\pi i k x}` from the grid returns

.. math::

   \hat f(x) = \sum_{m\in\mathbb Z} \frac{\mu_{k+mN}}{\sum_{m'}\mu_{k+m'N}}\, e^{2\pi i (k+mN) x},

which puts the fraction :math:`1 - \mu_k / \sum_m \mu_{k+mN}` of the harmonic's coefficient on the
wrong frequencies (:func:`alias_fraction`). The eigenvalues :math:`\mu_k` come from the kernel sampled on a
finer even grid of :math:`G` points, which itself folds every frequency above :math:`G/2` onto a lower one;
:func:`alias_grid` chooses :math:`G` from the frequencies involved so that this folding is negligible.

:func:`oracle_filter_risk` is the smallest in-sample risk any linear filter on a fixed eigenbasis can
reach, with per-mode gains :math:`c_i^2/(c_i^2+s^2)` that require the unknown signal :math:`c_i`.
"""

from __future__ import annotations

import numbers

import torch

from ._validate import as_tensor, check_nonnegative

__all__ = ["fourier_coefficients", "alias_fraction", "alias_grid", "oracle_filter_risk"]


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def fourier_coefficients(values, freqs) -> torch.Tensor:
    r"""Complex Fourier coefficients :math:`\hat v_k = \frac1m\sum_j v_j e^{-2\pi i k j/m}` of samples
    ``values`` (``[m]`` or ``[m, c]``, along dim 0) on an even grid of one period, at the integer
    frequencies ``freqs`` (each :math:`0 \le k < m/2`). For :math:`v(x) = a\sin(2\pi k x + \psi)`
    sampled at :math:`x_j = x_0 + j/m`, :math:`2\lvert\hat v_k\rvert = \lvert a\rvert`.
    Returns ``[len(freqs)]`` or ``[len(freqs), c]`` (complex128).
    """
    v = as_tensor(values, "values", ndim=(1, 2)).to(torch.float64)
    m = v.shape[0]
    ks = [_check_int(k, "freqs", 0) for k in freqs]
    if not ks:
        raise ValueError("freqs must not be empty")
    if max(ks) >= (m + 1) // 2:
        raise ValueError(f"freqs must be < m/2 = {m / 2} for a grid of {m} points, got {max(ks)}")
    coef = torch.fft.fft(v, dim=0) / m
    return coef[ks]


def alias_fraction(mu, n_train: int, k: int) -> float:
    r"""Fraction :math:`1 - \mu_k/\sum_{m}\mu_{k+mN}` of a harmonic of frequency ``k`` that kernel
    regression on ``n_train`` = :math:`N` equally spaced points puts on its aliases :math:`k + mN`,
    :math:`m \ne 0`.

    ``mu`` holds the kernel's eigenvalues :math:`\mu_0, \mu_1, \dots, \mu_K` by frequency (e.g.
    :func:`ntk_lib.spectral.circulant_eigenvalues` of one row on a fine grid; :math:`\mu_{-k} = \mu_k`);
    aliases beyond :math:`K` are ignored, so ``mu`` should reach far above ``n_train``.
    """
    mu = as_tensor(mu, "mu", ndim=1).to(torch.float64)
    n_train = _check_int(n_train, "n_train", 1)
    k = _check_int(k, "k", 0)
    kmax = mu.shape[0] - 1
    if k > kmax:
        raise ValueError(f"k = {k} is beyond the last frequency {kmax} of mu")
    if bool((mu < -1e-12 * mu.abs().max()).any()):
        raise ValueError("mu must be non-negative (a positive semi-definite kernel)")
    mu = mu.clamp_min(0)
    f = torch.arange(-kmax, kmax + 1)
    total = float(mu[f[(f - k) % n_train == 0].abs()].sum())
    if total == 0.0:
        raise ValueError(f"the kernel has no power on frequency {k} or its aliases")
    return 1.0 - float(mu[k]) / total


def alias_grid(max_freq: int, n_train: int, *, oversample: int = 64) -> int:
    r"""Number of points :math:`G` (a power of two) of the even grid on which to sample a stationary kernel
    for :func:`alias_fraction`: the smallest power of two
    :math:`G \ge s\max(f, n)` with :math:`s` = ``oversample``, :math:`f` = ``max_freq``, :math:`n` = ``n_train``.

    ``max_freq`` is the highest frequency the kernel is built from (for a network on Fourier features
    :math:`[\sin 2\pi Bx, \cos 2\pi Bx]`, :math:`\max\lvert B_{ij}\rvert`). A kernel composed with a
    nonlinearity (an MLP's NTK) also has power above ``max_freq``, falling off with frequency; the grid must
    reach far above it, since sampling on :math:`G` points folds frequency :math:`G - j` onto :math:`j`. A fixed
    grid does not do: with frequencies up to a few hundred, a 512-point grid folds the kernel's power onto
    the aliases it is meant to count. The default margin keeps the alias fraction of a ReLU NTK on
    Fourier features within about :math:`10^{-4}` of its limit (``tests/test_periodic.py``).
    """
    max_freq = _check_int(max_freq, "max_freq", 0)
    n_train = _check_int(n_train, "n_train", 1)
    oversample = _check_int(oversample, "oversample", 2)
    need = oversample * max(max_freq, n_train)
    return 1 << (need - 1).bit_length()


def oracle_filter_risk(coefficients, noise_std: float) -> float:
    r"""In-sample risk :math:`\frac1n\sum_i \frac{c_i^2 s^2}{c_i^2 + s^2}` of the oracle filter with
    gains :math:`c_i^2/(c_i^2+s^2)` on an orthonormal basis of :math:`\mathbb R^n`: the minimum over
    all per-mode gains of :math:`\frac1n\sum_i[(1-g_i)^2c_i^2 + g_i^2 s^2]` (the risk of
    :func:`ntk_lib.spectral.expected_risk` with :math:`\varphi_i` replaced by :math:`g_i`).

    ``coefficients`` are the :math:`n` signal components :math:`c_i = v_i^\top f^*(X)`.
    """
    c = as_tensor(coefficients, "coefficients", ndim=1).to(torch.float64)
    s2 = check_nonnegative(noise_std, "noise_std") ** 2
    c2 = c**2
    per_mode = torch.where(c2 + s2 > 0, c2 * s2 / (c2 + s2).clamp_min(torch.finfo(torch.float64).tiny), torch.zeros_like(c2))
    return float(per_mode.sum() / c.shape[0])
