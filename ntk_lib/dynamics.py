r"""Closed-form MSE gradient flow in function space.

Gradient flow on :math:`\tfrac12\lVert f(X)-y\rVert^2` with a constant kernel :math:`K` and learning
rate :math:`\eta` gives :math:`\dot f_t(X) = -\eta K (f_t(X) - y)`, hence (St-Arnaud et al. Prop. 6,
no :math:`1/n` factor; Jacot et al.)

.. math::

   f_t(X) &= y + e^{-\eta t K}(f_0(X) - y), \\
   f_t(x) &= f_0(x) - K(x, X)\, V \operatorname{diag}\!\Big(\frac{1-e^{-\eta t\lambda_i}}{\lambda_i}\Big) V^\top (f_0(X) - y),

with :math:`K = V\operatorname{diag}(\lambda)V^\top`. One eigendecomposition serves every time.
A mode with :math:`\lambda_i \approx 0` takes the limit :math:`(1-e^{-\eta t\lambda})/\lambda \to \eta t`;
at :math:`t=\infty` such modes are dropped (the minimum-norm interpolant), which is
:func:`kernel_regression`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ._validate import as_kernel, as_tensor, as_times, check_int, check_positive, null_rtol, psd_tolerance
from .spectral import _flow_factors

__all__ = ["Flow", "gradient_flow", "gradient_descent", "kernel_regression", "null_tolerance", "projection_operator"]


class Flow(NamedTuple):
    r"""Predictions along the flow: ``train`` is ``[T, n(, k)]``, ``test`` is ``[T, m(, k)]`` or None.

    ``diverged`` (only :func:`gradient_descent` sets it) is True when the step size is past the
    stable limit :math:`\eta < 2/\lambda_{max}`, so that some mode grows as :math:`|1-\eta\lambda|^k`.
    """

    train: torch.Tensor
    test: torch.Tensor | None
    diverged: bool = False


def null_tolerance(eigenvalues: torch.Tensor, n: int, dtype: torch.dtype | None = None) -> float:
    r"""Eigenvalues with :math:`|\lambda| \le n\,\epsilon\,\lambda_{max}` count as zero, :math:`\epsilon`
    the machine precision of ``dtype`` (the dtype the kernel came in; default that of ``eigenvalues``):
    :func:`ntk_lib._validate.null_rtol`, the rule the spectral helpers share."""
    lam = as_tensor(eigenvalues, "eigenvalues", ndim=1)
    n = check_int(n, "n", minimum=1)
    dtype = lam.dtype if dtype is None else dtype
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype, got {dtype!r}")
    lam_max = float(lam.abs().max()) if lam.numel() else 0.0
    return null_rtol(dtype, n) * lam_max


def _check_targets(y, name: str, n: int, device) -> torch.Tensor:
    y = as_tensor(y, name, ndim=(1, 2), dtype=torch.float64, device=device)
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} rows but the kernel has size {n}")
    return y


def _eigh(k: torch.Tensor, in_dtype: torch.dtype, name: str = "k_train"):
    r"""Eigen-decomposition of a PSD kernel with round-off eigenvalues set to exactly 0.

    Eigenvalues below :math:`-\tau\lambda_{max}` (:math:`\tau` = :func:`~ntk_lib._validate.psd_tolerance`
    of the input dtype) mean the kernel is not PSD; every eigenvalue at or below the null tolerance
    (:func:`null_tolerance`), including the small negative ones rounding leaves, becomes 0, so that
    no mode has a gain :math:`(1-e^{-\eta t\lambda})/\lambda` that blows up as :math:`t\to\infty`.
    """
    lam, vec = torch.linalg.eigh(k)
    n = k.shape[0]
    top = float(lam.abs().max())
    if float(lam.min()) < -psd_tolerance(in_dtype, n) * top:
        raise ValueError(f"{name} must be positive semi-definite: smallest eigenvalue {float(lam.min()):.3g}")
    tol = null_tolerance(lam, n, in_dtype)
    lam = torch.where(lam <= tol, torch.zeros_like(lam), lam)
    return lam, vec


def _prepare(k_train, y_train, f0_train, k_test_train, f0_test, lr):
    k, in_dtype = as_kernel(k_train, "k_train")
    device = k.device
    n = k.shape[0]
    lr = check_positive(lr, "lr")
    y = _check_targets(y_train, "y_train", n, device)
    f0 = torch.zeros_like(y) if f0_train is None else _check_targets(f0_train, "f0_train", n, device)
    if f0.shape != y.shape:
        raise ValueError(f"f0_train has shape {tuple(f0.shape)} but y_train has {tuple(y.shape)}")
    kxt = f0t = None
    if k_test_train is not None:
        kxt = as_tensor(k_test_train, "k_test_train", ndim=2, dtype=torch.float64, device=device)
        if kxt.shape[1] != n:
            raise ValueError(f"k_test_train has {kxt.shape[1]} columns but k_train has size {n}")
        m = kxt.shape[0]
        if f0_test is None:
            f0t = torch.zeros((m, *y.shape[1:]), dtype=torch.float64, device=device)
        else:
            f0t = as_tensor(f0_test, "f0_test", ndim=(1, 2), dtype=torch.float64, device=device)
            if f0t.shape != (m, *y.shape[1:]):
                raise ValueError(
                    f"f0_test has shape {tuple(f0t.shape)}, expected {(m, *y.shape[1:])} "
                    "(one row per k_test_train row, columns as y_train)"
                )
    elif f0_test is not None:
        raise ValueError("f0_test was given without k_test_train")
    return lr, k, in_dtype, y, f0, kxt, f0t


def _decompose(k, in_dtype, y, f0):
    lam, vec = _eigh(k, in_dtype)
    r0 = f0 - y
    coef = vec.T @ (r0 if r0.ndim == 2 else r0[:, None])  # residual in the eigenbasis, [n, k]
    return lam, vec, coef


def _assemble(learned, gain, y, f0, kxt, f0t, vec, coef, diverged=False) -> Flow:
    """train = f0 - V diag(learned) V^T (f0 - y); test = f0(x) - K(x,X) V diag(gain) V^T (f0 - y)."""
    T = learned.shape[0]
    train = f0 - torch.einsum("ij,tj,jk->tik", vec, learned, coef).reshape(T, *y.shape)
    test = None
    if kxt is not None:
        proj = kxt @ vec
        test = f0t - torch.einsum("mj,tj,jk->tmk", proj, gain, coef).reshape(T, *f0t.shape)
    return Flow(train, test, diverged)


def gradient_flow(
    k_train,
    y_train,
    *,
    t,
    f0_train=None,
    k_test_train=None,
    f0_test=None,
    lr: float = 1.0,
) -> Flow:
    r"""Train (and test) predictions of kernel gradient flow at every time in ``t``.

    Args:
        k_train: symmetric PSD kernel :math:`K(X, X)`, ``[n, n]``.
        y_train: targets ``[n]`` or ``[n, k]``.
        t: a time or a 1-D sequence of times :math:`\ge 0`; ``inf`` means the limit
            :math:`t\to\infty` (the minimum-norm interpolant, :func:`kernel_regression`).
        f0_train: predictions at :math:`t=0` on ``X`` (default zeros), shaped like ``y_train``.
        k_test_train: :math:`K(x, X)`, ``[m, n]``, to also predict at test points.
        f0_test: test predictions at :math:`t=0`, ``[m]`` or ``[m, k]`` (default zeros).
        lr: learning rate :math:`\eta > 0` multiplying the kernel.

    Returns:
        :class:`Flow` with ``train`` ``[T, n(, k)]`` and ``test`` ``[T, m(, k)]`` (or None), float64,
        on ``k_train``'s device (the CPU for an MPS kernel, see :mod:`ntk_lib.device`).

    Eigenvalues within round-off of zero (:func:`null_tolerance` of ``k_train``'s dtype, including
    the small negative ones) are null modes: never learned, so the prediction stays finite at
    ``t = inf``. ``k_train`` is judged symmetric and PSD with the tolerances of its own dtype.
    """
    lr, k, in_dtype, y, f0, kxt, f0t = _prepare(k_train, y_train, f0_train, k_test_train, f0_test, lr)
    ts = as_times(t, "t", device=k.device)
    lam, vec, coef = _decompose(k, in_dtype, y, f0)
    learned, gain = _flow_factors(lam, ts, lr)
    return _assemble(learned, gain, y, f0, kxt, f0t, vec, coef)


def gradient_descent(
    k_train,
    y_train,
    *,
    steps,
    lr: float,
    f0_train=None,
    k_test_train=None,
    f0_test=None,
) -> Flow:
    r"""Discrete-time counterpart of :func:`gradient_flow`: full-batch gradient descent on the
    linearized model, :math:`f_{k+1}(X) = f_k(X) - \eta K (f_k(X) - y)`, hence

    .. math::

       f_k(X) = y + (I - \eta K)^k (f_0(X) - y), \qquad
       f_k(x) = f_0(x) - K(x,X)\,V\operatorname{diag}\!\Big(\frac{1-(1-\eta\lambda_i)^k}{\lambda_i}\Big)V^\top(f_0(X)-y).

    A mode with :math:`|1-\eta\lambda_i| > 1` (:math:`\eta > 2/\lambda_i`) grows: the step-size
    limit of the linear model. ``steps`` is an integer or a 1-D sequence of integers (``inf``: the
    limit, which for a stable step is :func:`kernel_regression`).

    Divergence rule: with :math:`\eta\lambda_{max} > 2` the result is returned exactly as the linear
    model computes it, with ``Flow.diverged = True``; if some prediction then overflows float64 (or
    ``inf`` steps are asked for), a ``ValueError`` naming ``lr`` and the stable limit is raised instead
    of returning NaN or inf.
    """
    lr, k, in_dtype, y, f0, kxt, f0t = _prepare(k_train, y_train, f0_train, k_test_train, f0_test, lr)
    ks = as_times(steps, "steps", device=k.device, integer=True)
    lam, vec, coef = _decompose(k, in_dtype, y, f0)
    lam_max = float(lam.max())
    diverged = lr * lam_max > 2
    limit = f"lr = {lr:.4g} is past the stable step 2 / lambda_max = {2 / lam_max:.4g}" if lam_max > 0 else ""
    if diverged and bool(torch.isinf(ks).any()):
        raise ValueError(f"steps=inf has no limit: {limit} (gradient descent diverges)")
    null1 = lam == 0
    null = null1[None, :]
    finite = torch.isfinite(ks)[:, None]
    kk = torch.where(torch.isfinite(ks), ks, torch.zeros_like(ks))[:, None]
    factor = torch.where(finite, (1 - lr * lam)[None, :] ** kk, torch.zeros_like(kk))  # [T, n]
    learned = torch.where(null, torch.zeros_like(factor), 1 - factor)
    safe = torch.where(null1, torch.ones_like(lam), lam)[None, :]
    gain = torch.where(null, torch.where(finite, lr * kk, torch.zeros_like(kk)), learned / safe)
    flow = _assemble(learned, gain, y, f0, kxt, f0t, vec, coef, diverged)
    bad = not bool(torch.isfinite(flow.train).all()) or (flow.test is not None and not bool(torch.isfinite(flow.test).all()))
    if bad:
        raise ValueError(f"gradient descent diverged: {limit}; the predictions overflow float64 by step {int(ks.max())}")
    return flow


def kernel_regression(k_train, y_train, *, k_test_train=None, f0_train=None, f0_test=None) -> Flow:
    r"""The :math:`t\to\infty` limit of :func:`gradient_flow` (St-Arnaud et al. Prop. 3):
    :math:`f_\infty(x) = f_0(x) + K(x,X)K^{+}(y - f_0(X))`, with the pseudo-inverse on a singular
    kernel. Returns a :class:`Flow` whose arrays have a leading time axis of length 1."""
    return gradient_flow(k_train, y_train, t=math.inf, f0_train=f0_train, k_test_train=k_test_train, f0_test=f0_test)


def projection_operator(k_train, k_test_train, t) -> torch.Tensor:
    r"""Prop. 6's projection operator :math:`K(x,X)\,K^{-1}\big(e^{-tK}-I\big)` for every time in ``t``:
    ``[T, m, n]``. Computed as :math:`K(x,X)\,V\operatorname{diag}\big((e^{-t\lambda_i}-1)/\lambda_i\big)V^\top`
    (limit :math:`-t` for :math:`\lambda_i = 0`), so it is finite even for a singular kernel. ``t = inf``
    gives :math:`-K(x,X)K^{+}`; eigenvalues within round-off of 0 count as 0."""
    k, in_dtype = as_kernel(k_train, "k_train")
    kx = as_tensor(k_test_train, "k_test_train", ndim=2, dtype=torch.float64, device=k.device)
    if kx.shape[1] != k.shape[0]:
        raise ValueError(f"k_test_train has {kx.shape[1]} columns but k_train has size {k.shape[0]}")
    ts = as_times(t, "t", device=k.device)
    lam, vec = _eigh(k, in_dtype)
    _, gain = _flow_factors(lam, ts, 1.0)
    return -torch.einsum("mj,tj,nj->tmn", kx @ vec, gain, vec)
