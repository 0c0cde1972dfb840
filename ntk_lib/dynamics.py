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
import numbers
from typing import NamedTuple

import torch

from ._validate import as_tensor, check_positive, check_square_symmetric

__all__ = ["Flow", "gradient_flow", "gradient_descent", "kernel_regression", "null_tolerance", "projection_operator"]


class Flow(NamedTuple):
    """Predictions along the flow: ``train`` is ``[T, n(, k)]``, ``test`` is ``[T, m(, k)]`` or None."""

    train: torch.Tensor
    test: torch.Tensor | None


def null_tolerance(eigenvalues: torch.Tensor, n: int) -> float:
    """Eigenvalues with :math:`|\\lambda| \\le n\\,\\epsilon\\,\\lambda_{max}` count as zero."""
    lam_max = float(eigenvalues.abs().max()) if eigenvalues.numel() else 0.0
    return n * torch.finfo(eigenvalues.dtype).eps * max(lam_max, torch.finfo(eigenvalues.dtype).tiny)


def _times(t, device) -> torch.Tensor:
    if isinstance(t, (numbers.Real,)) and not isinstance(t, bool):
        t = [float(t)]
    try:
        tt = torch.as_tensor(t, dtype=torch.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise TypeError(f"t must be a number or a 1-D sequence of numbers, got {type(t).__name__}") from err
    if torch.is_tensor(t) and t.ndim > 1:
        raise ValueError(f"t must be a scalar or 1-D, got shape {tuple(t.shape)}")
    if tt.numel() == 0:
        raise ValueError("t is empty")
    if bool(torch.isnan(tt).any()):
        raise ValueError("t contains NaN")
    if bool((tt < 0).any()):
        raise ValueError(f"t must be >= 0, got min {float(tt.min())}")
    return tt.to(device)


def _check_targets(y, name: str, n: int, device) -> torch.Tensor:
    y = as_tensor(y, name, ndim=(1, 2), device=device).to(torch.float64)
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} rows but the kernel has size {n}")
    return y


def _eigh(k: torch.Tensor):
    lam, vec = torch.linalg.eigh(k)
    tol = null_tolerance(lam, k.shape[0])
    if float(lam.min()) < -max(tol, 1e-8 * float(lam.abs().max())):
        raise ValueError(f"k_train must be positive semi-definite: smallest eigenvalue {float(lam.min()):.3g}")
    return lam, vec, tol


def _prepare(k_train, y_train, f0_train, k_test_train, f0_test, lr):
    k = as_tensor(k_train, "k_train", ndim=2)
    device = k.device
    k = k.to(torch.float64)
    check_square_symmetric(k, "k_train")
    n = k.shape[0]
    lr = check_positive(lr, "lr")
    y = _check_targets(y_train, "y_train", n, device)
    f0 = torch.zeros_like(y) if f0_train is None else _check_targets(f0_train, "f0_train", n, device)
    if f0.shape != y.shape:
        raise ValueError(f"f0_train has shape {tuple(f0.shape)} but y_train has {tuple(y.shape)}")
    kxt = f0t = None
    if k_test_train is not None:
        kxt = as_tensor(k_test_train, "k_test_train", ndim=2, device=device).to(torch.float64)
        if kxt.shape[1] != n:
            raise ValueError(f"k_test_train has {kxt.shape[1]} columns but k_train has size {n}")
        m = kxt.shape[0]
        if f0_test is None:
            f0t = torch.zeros((m, *y.shape[1:]), dtype=torch.float64, device=device)
        else:
            f0t = as_tensor(f0_test, "f0_test", ndim=(1, 2), device=device).to(torch.float64)
            if f0t.shape != (m, *y.shape[1:]):
                raise ValueError(
                    f"f0_test has shape {tuple(f0t.shape)}, expected {(m, *y.shape[1:])} "
                    "(one row per k_test_train row, columns as y_train)"
                )
    elif f0_test is not None:
        raise ValueError("f0_test was given without k_test_train")
    lam, vec, tol = _eigh(k)
    lam = torch.where(lam.abs() <= tol, torch.zeros_like(lam), lam)
    r0 = f0 - y
    coef = vec.T @ (r0 if r0.ndim == 2 else r0[:, None])  # residual in the eigenbasis, [n, k]
    return lr, y, f0, kxt, f0t, lam, vec, coef


def _assemble(learned, gain, y, f0, kxt, f0t, vec, coef) -> Flow:
    """train = f0 - V diag(learned) V^T (f0 - y); test = f0(x) - K(x,X) V diag(gain) V^T (f0 - y)."""
    T = learned.shape[0]
    train = f0 - torch.einsum("ij,tj,jk->tik", vec, learned, coef).reshape(T, *y.shape)
    test = None
    if kxt is not None:
        proj = kxt @ vec
        test = f0t - torch.einsum("mj,tj,jk->tmk", proj, gain, coef).reshape(T, *f0t.shape)
    return Flow(train, test)


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
        t: a time or a 1-D sequence of times :math:`\ge 0` (``inf`` allowed).
        f0_train: predictions at :math:`t=0` on ``X`` (default zeros), shaped like ``y_train``.
        k_test_train: :math:`K(x, X)`, ``[m, n]``, to also predict at test points.
        f0_test: test predictions at :math:`t=0`, ``[m]`` or ``[m, k]`` (default zeros).
        lr: learning rate :math:`\eta > 0` multiplying the kernel.

    Returns:
        :class:`Flow` with ``train`` ``[T, n(, k)]`` and ``test`` ``[T, m(, k)]`` (or None), float64,
        on ``k_train``'s device.
    """
    lr, y, f0, kxt, f0t, lam, vec, coef = _prepare(k_train, y_train, f0_train, k_test_train, f0_test, lr)
    ts = _times(t, lam.device)
    null = lam == 0
    x = lr * ts[:, None] * lam[None, :]  # [T, n]
    # 1 - exp(-x) via expm1: exact f0 at t = 0 and no cancellation for small eta*t*lambda
    learned = -torch.expm1(-x)
    learned = torch.where(null[None, :] | torch.isnan(learned), torch.zeros_like(learned), learned)
    safe = torch.where(null, torch.ones_like(lam), lam)
    gain = learned / safe[None, :]
    finite_t = torch.isfinite(ts)[:, None]
    null_gain = torch.where(finite_t, lr * ts[:, None], torch.zeros_like(ts[:, None]))
    gain = torch.where(null[None, :], null_gain.expand_as(gain), gain)
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
    limit of the linear model. ``steps`` is an integer or a 1-D sequence of integers.
    """
    lr, y, f0, kxt, f0t, lam, vec, coef = _prepare(k_train, y_train, f0_train, k_test_train, f0_test, lr)
    ks = _times(steps, lam.device)
    if bool((ks != torch.round(ks)).any()) or not bool(torch.isfinite(ks).all()):
        raise ValueError("steps must be non-negative integers")
    null = lam == 0
    factor = (1 - lr * lam)[None, :] ** ks[:, None]  # [T, n]
    learned = torch.where(null[None, :], torch.zeros_like(factor), 1 - factor)
    safe = torch.where(null, torch.ones_like(lam), lam)
    gain = torch.where(null[None, :], (lr * ks[:, None]).expand_as(factor), learned / safe[None, :])
    return _assemble(learned, gain, y, f0, kxt, f0t, vec, coef)


def kernel_regression(k_train, y_train, *, k_test_train=None, f0_train=None, f0_test=None) -> Flow:
    r"""The :math:`t\to\infty` limit of :func:`gradient_flow` (St-Arnaud et al. Prop. 3):
    :math:`f_\infty(x) = f_0(x) + K(x,X)K^{+}(y - f_0(X))`, with the pseudo-inverse on a singular
    kernel. Returns a :class:`Flow` whose arrays have a leading time axis of length 1."""
    return gradient_flow(k_train, y_train, t=math.inf, f0_train=f0_train, k_test_train=k_test_train, f0_test=f0_test)


def projection_operator(k_train, k_test_train, t) -> torch.Tensor:
    r"""Prop. 6's projection operator :math:`K(x,X)\,K^{-1}\big(e^{-tK}-I\big)` for every time in ``t``:
    ``[T, m, n]``. Computed as :math:`K(x,X)\,V\operatorname{diag}\big((e^{-t\lambda_i}-1)/\lambda_i\big)V^\top`
    (limit :math:`-t` for :math:`\lambda_i = 0`), so it is finite even for a singular kernel."""
    k = as_tensor(k_train, "k_train", ndim=2).to(torch.float64)
    kx = as_tensor(k_test_train, "k_test_train", ndim=2, device=k.device).to(torch.float64)
    if kx.shape[1] != k.shape[0]:
        raise ValueError(f"k_test_train has {kx.shape[1]} columns but k_train has size {k.shape[0]}")
    lam, vec, tol = _eigh(k)
    ts = _times(t, k.device)
    null = lam.abs() <= tol
    safe = torch.where(null, torch.ones_like(lam), lam)
    gain = torch.expm1(-ts[:, None] * lam[None, :]) / safe[None, :]
    gain = torch.where(null[None, :], -ts[:, None].expand_as(gain), gain)
    return torch.einsum("mj,tj,nj->tmn", kx @ vec, gain, vec)
