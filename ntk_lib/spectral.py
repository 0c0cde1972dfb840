r"""The NTK's spectrum and what gradient flow does to each of its modes.

With :math:`\Theta = \sum_i \lambda_i v_i v_i^\top` (:math:`\lambda_1 \ge \lambda_2 \ge \dots`), gradient
flow with step :math:`\eta` on :math:`\tfrac12\lVert f(X)-y\rVert^2` gives, mode by mode,

.. math::

   v_i^\top\big(f_t(X) - y\big) = e^{-\eta\lambda_i t}\, v_i^\top\big(f_0(X) - y\big),

so a mode is *learned* with the factor :math:`\varphi_i(t) = 1 - e^{-\eta\lambda_i t}` (the spectral
filter of early stopping) and reaches a fraction :math:`\epsilon` of its initial residual at
:math:`t_i = \ln(1/\epsilon)/(\eta\lambda_i)`.

On an even grid of the circle a rotation-invariant kernel matrix is circulant: its eigenvectors are
exactly the Fourier harmonics and its eigenvalues the discrete Fourier transform of one row
(:func:`circulant_eigenvalues`).
"""

from __future__ import annotations

import math

import torch

from ._validate import (
    as_kernel,
    as_tensor,
    as_times,
    check_int,
    check_nonnegative,
    check_positive,
    null_rtol,
    psd_tolerance,
)

__all__ = [
    "eigh_descending",
    "mode_coefficients",
    "mode_decay",
    "spectral_filter",
    "time_to_fit",
    "first_crossing",
    "band_power",
    "circulant_eigenvalues",
    "dominant_frequency",
    "expected_risk",
    "flow_factors",
]


def eigh_descending(k) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (largest first) and unit eigenvectors (columns) of a symmetric kernel matrix, float64."""
    k, _ = as_kernel(k, "k")
    lam, vec = torch.linalg.eigh(k)
    return lam.flip(0), vec.flip(1)


def mode_coefficients(vectors, r) -> torch.Tensor:
    r""":math:`V^\top r`: the components of ``r`` (``[n]`` or ``[n, k]``) along the columns of ``vectors`` ``[n, m]``."""
    vectors = as_tensor(vectors, "vectors", ndim=2, dtype=torch.float64)
    r = as_tensor(r, "r", ndim=(1, 2), dtype=torch.float64, device=vectors.device)
    if r.shape[0] != vectors.shape[0]:
        raise ValueError(f"r has {r.shape[0]} rows but vectors has {vectors.shape[0]}")
    return vectors.T @ r


def _eigenvalues(lam, name: str = "lam") -> torch.Tensor:
    """Eigenvalues of a PSD kernel, float64, by the rule of :func:`ntk_lib.dynamics.gradient_flow`: values
    within round-off of zero, :math:`|\\lambda| \\le n\\,\\epsilon\\,\\lambda_{max}`
    (:func:`~ntk_lib._validate.null_rtol` of the dtype passed, including small negative ones), become
    exactly 0; every larger one is a real mode, however small. Values below
    :math:`-\\tau\\lambda_{max}` (:func:`~ntk_lib._validate.psd_tolerance`) are refused: not a PSD spectrum."""
    lam = as_tensor(lam, name, ndim=1)
    n, in_dtype = lam.shape[0], lam.dtype
    lam = as_tensor(lam, name, dtype=torch.float64)
    top = float(lam.abs().max())
    if float(lam.min()) < -psd_tolerance(in_dtype, n) * top:
        raise ValueError(f"{name} must be >= 0 (a PSD kernel's eigenvalues), got min {float(lam.min()):.3g}")
    return torch.where(lam <= null_rtol(in_dtype, n) * top, torch.zeros_like(lam), lam)


def flow_factors(lam, t, *, lr: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    r"""How gradient flow treats each mode: the learned fraction and the gain, both ``[T, n]``,

    .. math::

       \varphi_i(t) = 1 - e^{-\eta\lambda_i t}, \qquad g_i(t) = \frac{1 - e^{-\eta\lambda_i t}}{\lambda_i},

    with the limits for a null mode (:math:`\lambda_i = 0`): :math:`\varphi = 0`, :math:`g = \eta t`
    for finite :math:`t` and :math:`g = 0` at :math:`t=\infty` (the minimum-norm interpolant: a null
    mode is never learned). Computed with ``expm1`` (exact at :math:`t=0`, no cancellation for small
    :math:`\eta t\lambda`). ``lam`` goes through the same round-off rule as every spectral function.
    """
    lam = _eigenvalues(lam)
    lr = check_positive(lr, "lr")
    ts = as_times(t, "t", device=lam.device)
    return _flow_factors(lam, ts, lr)


def _flow_factors(lam: torch.Tensor, ts: torch.Tensor, lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    null1 = lam == 0
    null = null1[None, :]
    safe = torch.where(null1, torch.ones_like(lam), lam)[None, :]
    x = lr * ts[:, None] * safe  # inf * 0 never happens: null modes are masked below
    learned = torch.where(null, torch.zeros_like(x), -torch.expm1(-x))
    finite = torch.isfinite(ts)[:, None]
    null_gain = torch.where(finite, lr * ts[:, None], torch.zeros_like(ts[:, None]))
    gain = torch.where(null, null_gain, learned / safe)
    return learned, gain


def mode_decay(lam, t, *, lr: float = 1.0) -> torch.Tensor:
    r""":math:`e^{-\eta\lambda_i t}`, the fraction of each mode's residual left at each time: ``[T, n]``.
    At ``t = inf`` it is 0 for :math:`\lambda_i > 0` and 1 for a null mode."""
    lam = _eigenvalues(lam)
    lr = check_positive(lr, "lr")
    ts = as_times(t, "t", device=lam.device)
    return 1 - _flow_factors(lam, ts, lr)[0]


def spectral_filter(lam, t, *, lr: float = 1.0) -> torch.Tensor:
    r""":math:`\varphi_i(t) = 1 - e^{-\eta\lambda_i t}`, how much of mode :math:`i` is learned by time ``t``: ``[T, n]``.

    Early stopping at :math:`t` keeps modes with :math:`\lambda_i \gg 1/(\eta t)` and drops those with
    :math:`\lambda_i \ll 1/(\eta t)`: a soft low-pass filter in the kernel's eigenbasis.
    """
    lam = _eigenvalues(lam)
    lr = check_positive(lr, "lr")
    ts = as_times(t, "t", device=lam.device)
    return _flow_factors(lam, ts, lr)[0]


def time_to_fit(lam, fraction: float = 0.1, *, lr: float = 1.0, step: float | None = None) -> torch.Tensor:
    r""":math:`t = \ln(1/\epsilon)/(\eta\lambda)`: when a mode's residual has fallen to ``fraction`` :math:`=\epsilon`
    of its initial value under gradient flow (``inf`` for :math:`\lambda = 0`).

    With ``step`` :math:`=s`, the same for gradient descent with that step size, where the mode shrinks by
    :math:`|1 - s\lambda|` per step: the time :math:`ks` at which :math:`|1-s\lambda|^k = \epsilon`
    (``inf`` for a mode that does not shrink, :math:`s\lambda \ge 2` or :math:`\lambda = 0`).
    """
    lam = _eigenvalues(lam)
    fraction = check_positive(fraction, "fraction")
    if fraction >= 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    lr = check_positive(lr, "lr")
    if step is None:
        return math.log(1 / fraction) / (lr * lam)  # inf where lam == 0
    step = check_positive(step, "step")
    shrink = torch.log((1 - step * lam).abs())  # log of the per-step factor, < 0 for a decaying mode
    t = math.log(fraction) / shrink * step
    return torch.where(shrink < 0, t, torch.full_like(t, math.inf))


def first_crossing(times, values, level: float) -> float:
    """The first time a curve falls to ``level``, interpolating linearly in ``log(values)`` between records.

    ``nan`` if it never does; ``times[0]`` if it starts at or below ``level``. ``values`` must be > 0.
    """
    t = as_tensor(times, "times", ndim=1, dtype=torch.float64, finite=False)
    v = as_tensor(values, "values", ndim=1, dtype=torch.float64, device=t.device, finite=False)
    if t.shape != v.shape:
        raise ValueError(f"times and values must be 1-D of equal length, got {t.numel()} and {v.numel()}")
    if not bool(torch.isfinite(t).all()) or bool((torch.diff(t) <= 0).any()):
        raise ValueError("times must be finite and strictly increasing")
    if not bool(torch.isfinite(v).all()) or bool((v <= 0).any()):
        raise ValueError("values must be finite and > 0")
    level = check_positive(level, "level")
    below = torch.nonzero(v <= level)
    if below.numel() == 0:
        return float("nan")
    j = int(below[0, 0])
    if j == 0:
        return float(t[0])
    la, lb, ll = math.log(float(v[j - 1])), math.log(float(v[j])), math.log(level)
    t0, t1 = float(t[j - 1]), float(t[j])
    return t0 + (t1 - t0) * (la - ll) / (la - lb)


def circulant_eigenvalues(first_row) -> torch.Tensor:
    r"""Eigenvalues of a symmetric circulant matrix from its first row ``[n]``, by frequency
    :math:`k = 0, \dots, \lfloor n/2\rfloor`:

    .. math:: \lambda_k = \sum_{j=0}^{n-1} K_{0j}\cos(2\pi jk/n).

    Frequencies :math:`0 < k < n/2` are eigenvalues of multiplicity two (eigenvectors
    :math:`\cos k\vartheta_j` and :math:`\sin k\vartheta_j` on the grid :math:`\vartheta_j = 2\pi j/n`).
    A kernel matrix of a rotation-invariant kernel on that grid is such a matrix.
    """
    row = as_tensor(first_row, "first_row", ndim=1)
    rtol = max(1e-10, 1e3 * torch.finfo(row.dtype).eps)
    row = as_tensor(row, "first_row", dtype=torch.float64)
    n = row.shape[0]
    if n > 2 and not torch.allclose(row[1:], row[1:].flip(0), rtol=rtol, atol=rtol * float(row.abs().max())):
        raise ValueError("first_row is not that of a symmetric circulant matrix (row[j] != row[n-j])")
    return torch.fft.rfft(row).real


def band_power(values, kmin: int, kmax: int | None = None) -> torch.Tensor:
    r"""Mean square of the part of ``values`` with frequencies :math:`k_{min} \le k \le k_{max}`.

    ``values`` (``[m]`` or ``[m, c]``, along dim 0) are samples of a function on an even grid of one
    period (e.g. :math:`x_j = (j + \tfrac12)/m` on :math:`[0,1)`). By Parseval the band powers of all
    frequencies add up to the mean square :math:`\tfrac1m\sum_j v_j^2`; applied to an error it gives
    the MSE on the chosen frequency band. Returns a scalar, or ``[c]``.
    """
    v = as_tensor(values, "values", ndim=(1, 2), dtype=torch.float64)
    m = v.shape[0]
    kmin = check_int(kmin, "kmin", minimum=0)
    kmax = m // 2 if kmax is None else check_int(kmax, "kmax")
    if kmax < kmin:
        raise ValueError(f"kmax must be an integer >= kmin, got {kmax!r}")
    coef = torch.fft.rfft(v, dim=0) / m
    power = 2 * coef.abs() ** 2
    power[0] = power[0] / 2
    if m % 2 == 0:
        power[-1] = power[-1] / 2  # the Nyquist term appears once
    return power[kmin : kmax + 1].sum(0)


def dominant_frequency(vectors) -> torch.Tensor:
    """For vectors sampled on an even grid of the circle (columns of ``[n, m]``), the frequency
    :math:`k \\in \\{0,\\dots,n/2\\}` that carries most of each column's energy: ``[m]`` (long)."""
    vectors = as_tensor(vectors, "vectors", ndim=2, dtype=torch.float64)
    power = torch.fft.rfft(vectors, dim=0).abs() ** 2
    return power.argmax(dim=0)


def expected_risk(lam, vectors, f_star, *, noise_std: float, t, f0=None, lr: float = 1.0) -> torch.Tensor:
    r"""Expected in-sample risk :math:`\tfrac1n\mathbb E\lVert f_t(X) - f^*(X)\rVert^2` of gradient flow
    trained on :math:`y = f^*(X) + \varepsilon`, :math:`\varepsilon\sim\mathcal N(0, s^2 I)`:

    .. math::

       \frac1n\sum_i \Big[(1-\varphi_i(t))^2\, c_i^2 + \varphi_i(t)^2\, s^2\Big],
       \qquad c = V^\top\big(f^*(X) - f_0(X)\big),\quad \varphi_i(t) = 1 - e^{-\eta\lambda_i t}.

    Bias (unlearned signal) falls with :math:`t`, variance (learned noise) rises: the mode :math:`i`
    is worth learning while :math:`c_i^2 > s^2`. Returns ``[T]``.
    """
    lam = _eigenvalues(lam)
    vectors = as_tensor(vectors, "vectors", ndim=2, dtype=torch.float64, device=lam.device)
    if vectors.shape[1] != lam.shape[0]:
        raise ValueError(f"vectors has {vectors.shape[1]} columns but lam has {lam.shape[0]} entries")
    s = check_nonnegative(noise_std, "noise_std")
    f_star = as_tensor(f_star, "f_star", ndim=1, dtype=torch.float64, device=lam.device)
    if f_star.shape[0] != vectors.shape[0]:
        raise ValueError(f"f_star has {f_star.shape[0]} entries but vectors has {vectors.shape[0]} rows")
    base = f_star
    if f0 is not None:
        f0 = as_tensor(f0, "f0", ndim=1, dtype=torch.float64, device=lam.device)
        if f0.shape != f_star.shape:
            raise ValueError(f"f0 has {f0.shape[0]} entries but f_star has {f_star.shape[0]}")
        base = f_star - f0
    lr = check_positive(lr, "lr")
    ts = as_times(t, "t", device=lam.device)
    c = vectors.T @ base
    phi = _flow_factors(lam, ts, lr)[0]
    return (((1 - phi) ** 2) * c[None, :] ** 2 + phi**2 * s**2).sum(1) / vectors.shape[0]
