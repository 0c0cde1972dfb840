r"""Step sizes that are stable by construction, and checks of loss curves for divergence and oscillation.

Gradient descent with step :math:`\eta` on the summed squared loss
:math:`\tfrac12\sum_i\lVert f(x_i)-y_i\rVert^2` moves the training residual of the linearized network as
:math:`r_{t+1} = (I - \eta\Theta)\,r_t`, with :math:`\Theta` the empirical NTK on the *training set*
(all outputs: an :math:`nk\times nk` matrix). It converges iff :math:`\eta\,\lambda_{\max}(\Theta) < 2`.
For the mean loss (a factor :math:`1/n`) the bound is :math:`\eta\lambda_{\max} < 2n`; for the softmax
cross-entropy the Hessian with respect to the logits is :math:`\mathrm{diag}(p) - pp^\top \preceq \tfrac12 I`,
so :math:`\eta\lambda_{\max} < 4` (summed) suffices for the linearized model. :func:`stable_lr` returns a
fraction of that bound; :func:`top_eigenvalue` computes :math:`\lambda_{\max}(\Theta)` on the whole training
set without forming :math:`\Theta` (power iteration on :math:`JJ^\top` with Jacobian-vector products);
:func:`check_loss_curve` says whether a run diverged or oscillated.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch.func import functional_call, jvp, vjp

from ._validate import as_tensor, check_int, check_model_input, check_positive

__all__ = ["top_eigenvalue", "stable_lr", "CurveCheck", "check_loss_curve", "LOSS_CURVATURE"]

#: Largest curvature of the loss with respect to one output vector (summed reduction).
LOSS_CURVATURE = {"squared": 1.0, "cross_entropy": 0.5}


def _ntk_products(model: torch.nn.Module, x):
    r"""The pieces of the empirical NTK as an operator, :math:`\hat\Theta = JJ^\top` never formed:
    ``(f, params, out, pullback)`` with ``f(p)`` the model's output on ``x`` as a function of its
    trainable parameters ``params`` (frozen parameters and buffers held fixed), ``out = f(params)``
    and ``pullback(u) = (J^\top u,)``; ``jvp(f, (params,), (v,))[1]`` is :math:`Jv`. ``x`` is cast to the
    parameters' dtype and device and checked against the model (a named ``ValueError``)."""
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    if not params:
        raise ValueError("model has no trainable parameters: its NTK is identically zero")
    first = next(iter(params.values()))
    x = as_tensor(x, "x", dtype=first.dtype, device=first.device)
    check_model_input(model, x, "x")
    frozen = {k: v.detach() for k, v in model.named_parameters() if not v.requires_grad}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def f(p):
        return functional_call(model, (p, frozen, buffers), (x,))

    out, pullback = vjp(f, params)
    return f, params, out, pullback


def top_eigenvalue(model: torch.nn.Module, x, *, iters: int = 100, rtol: float = 1e-4, seed: int = 0) -> float:
    r""":math:`\lambda_{\max}` of the empirical NTK :math:`\Theta = JJ^\top` of ``model`` on the batch ``x``.

    :math:`J = \partial\,\mathrm{vec} f(x;\theta)/\partial\theta` over the trainable parameters, all outputs
    together, so for ``k`` outputs this is the top eigenvalue of the :math:`nk\times nk` kernel. Power
    iteration on :math:`J^\top J` (same nonzero spectrum), one Jacobian-vector and one vector-Jacobian
    product per iteration; stops when the Rayleigh quotient changes by less than ``rtol``. The model is
    evaluated in eval mode (dropout and stochastic depth at their expectation; batch normalization with
    its running statistics) and is not modified.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    iters = check_int(iters, "iters", minimum=1)
    rtol = check_positive(rtol, "rtol")
    flags = [m.training for m in model.modules()]
    model.eval()
    try:
        f, params, out, pullback = _ntk_products(model, x)
        g = torch.Generator(device="cpu").manual_seed(check_int(seed, "seed", minimum=0))
        u = torch.randn(out.shape, generator=g, dtype=out.dtype).to(out.device)
        lam = 0.0
        for _ in range(iters):
            u = u / u.norm()
            (v,) = pullback(u)  # J^T u
            _, ju = jvp(f, (params,), (v,))  # J J^T u
            new = float((u * ju).sum())
            u = ju
            if abs(new - lam) <= rtol * abs(new):
                lam = new
                break
            lam = new
    finally:
        for m, f in zip(model.modules(), flags):
            m.training = f
    return lam


def stable_lr(lam_max: float, *, fraction: float = 0.5, loss: str = "squared", reduction: str = "sum", n: int | None = None) -> float:
    r"""A step size ``fraction`` times the linearized stability bound.

    .. math::

       \eta = \text{fraction}\times\frac{2}{c\,\lambda_{\max}(\Theta)}\times(n \text{ if mean reduction}),

    with :math:`c` the loss curvature (1 for the squared loss :math:`\tfrac12\lVert f-y\rVert^2`, 1/2 for the
    softmax cross-entropy). ``lam_max`` must come from the kernel on the training set actually used.
    ``fraction=0.5`` on the summed squared loss gives :math:`\eta = 1/\lambda_{\max}`.
    """
    lam_max = check_positive(lam_max, "lam_max")
    fraction = check_positive(fraction, "fraction")
    if fraction >= 1.0:
        raise ValueError(f"fraction must be < 1 (1 is the edge of stability), got {fraction!r}")
    if loss not in LOSS_CURVATURE:
        raise ValueError(f"loss must be one of {tuple(LOSS_CURVATURE)}, got {loss!r}")
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    scale = 1.0
    if reduction == "mean":
        if n is None:
            raise ValueError("n must be the number of training points for reduction='mean', got None")
        scale = float(check_int(n, "n", minimum=1))
    return fraction * 2.0 / (LOSS_CURVATURE[loss] * lam_max) * scale


class CurveCheck(NamedTuple):
    """What :func:`check_loss_curve` found."""

    diverged: bool  #: non-finite loss, or a loss above ``blowup`` times the first, or a final loss not below the first
    oscillating: bool  #: more than ``max_rise_fraction`` of the steps raise the loss
    n_rises: int  #: steps :math:`k` with loss[k+1] > loss[k] (beyond the relative tolerance)
    n_steps: int  #: number of steps (len(losses) - 1)
    peak_ratio: float  #: max loss / first loss
    final_ratio: float  #: last loss / first loss
    #: largest excursion above the lowest loss reached so far, :math:`\max_k L_k/\min_{j\le k}L_j - 1`
    #: (0 for a monotone curve): how large the rises are, where ``n_rises`` says how many
    max_rebound: float = 0.0

    @property
    def ok(self) -> bool:
        """Neither diverged nor oscillating."""
        return not (self.diverged or self.oscillating)


def check_loss_curve(losses, *, blowup: float = 2.0, max_rise_fraction: float = 0.05, rtol: float = 1e-6) -> CurveCheck:
    r"""Flag a training loss curve that diverged or oscillated.

    * **diverged**: a non-finite value; or :math:`\max_k L_k > \text{blowup}\cdot L_0`; or :math:`L_T \ge L_0`.
    * **oscillating**: the loss rises, :math:`L_{k+1} > (1+\text{rtol})L_k`, on more than
      ``max_rise_fraction`` of the steps. Gradient descent on a quadratic with :math:`\eta\lambda_{\max}<2`
      never raises the loss, so rises come from the nonlinearity, the step size or noise.

    A curve cut short by non-finite values (as :func:`ntk_lib.training.train_gd` does) should be passed
    with its ``History.diverged`` flag checked too.
    """
    v = as_tensor(losses, "losses", ndim=1, dtype=torch.float64, allow_empty=True, finite=False).cpu().numpy()
    if v.size < 2:
        raise ValueError(f"losses needs at least 2 values, got {v.size}")
    blowup = check_positive(blowup, "blowup")
    if not 0.0 <= float(max_rise_fraction) < 1.0:
        raise ValueError(f"max_rise_fraction must lie in [0, 1), got {max_rise_fraction!r}")
    rtol = check_positive(rtol, "rtol")
    if not math.isfinite(v[0]) or v[0] < 0:
        raise ValueError(f"losses[0] must be finite and >= 0, got {v[0]!r}")
    finite = np.all(np.isfinite(v))
    l0 = max(v[0], np.finfo(float).tiny)
    if not finite:
        cut = int(np.argmax(~np.isfinite(v)))
        w = v[:cut]
        rises = int(np.sum(w[1:] > w[:-1] * (1 + rtol)))
        return CurveCheck(True, rises > max_rise_fraction * max(v.size - 1, 1), rises, v.size - 1, math.inf, math.inf, math.inf)
    rises = int(np.sum(v[1:] > v[:-1] * (1 + rtol)))
    peak, final = float(v.max() / l0), float(v[-1] / l0)
    low = np.maximum(np.minimum.accumulate(v), np.finfo(float).tiny)
    rebound = float(np.max(v / low) - 1.0)
    diverged = bool(peak > blowup or final >= 1.0)
    return CurveCheck(diverged, bool(rises > max_rise_fraction * (v.size - 1)), rises, v.size - 1, peak, final, rebound)
