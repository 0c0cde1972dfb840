r"""Gaussian dual functions of activations.

For a pre-activation pair :math:`(u, u') \sim \mathcal N\!\big(0, \begin{psmallmatrix} q & c\\ c & q'\end{psmallmatrix}\big)`
the infinite-width recursion needs two expectations,

.. math::

   V_\sigma(q, q', c) = \mathbb E[\sigma(u)\sigma(u')], \qquad
   \dot V_\sigma(q, q', c) = \mathbb E[\sigma'(u)\sigma'(u')].

ReLU (Cho & Saul 2009, arc-cosine kernel of order 1 and 0) and erf (Williams 1997) have
closed forms; any other elementwise activation is integrated by tensor-product
Gauss–Hermite quadrature.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ._validate import check_int

__all__ = ["Activation", "relu", "erf", "from_function", "get_activation", "relu_pair"]

DualFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class Activation:
    r"""An activation together with its Gaussian dual ``dual(q1, q2, c) -> (V, V_dot)``.

    ``q1``, ``q2`` and ``c`` broadcast against each other; ``fn`` is the activation itself
    (used by the finite-width models so that both sides of a comparison share one definition).
    ``mean(q)`` is :math:`\mathbb E[\sigma(u)]` for :math:`u\sim\mathcal N(0, q)` (needed where a
    residual stream carries the activation's output, ``ntk_lib.layers``); ``None`` means "compute
    it by Gauss–Hermite quadrature of ``fn``".
    """

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    dual: DualFn
    mean: Callable[[torch.Tensor], torch.Tensor] | None = None

    def mean_value(self, q: torch.Tensor) -> torch.Tensor:
        r""":math:`\mathbb E[\sigma(u)]`, :math:`u\sim\mathcal N(0, q)`, elementwise in ``q``."""
        if self.mean is not None:
            return self.mean(q)
        return _gauss_hermite_mean(self.fn, q)


def relu_pair(q1, q2, c, u=None):
    r"""The ReLU arc-cosine map on a pair, the one implementation the library uses.

    For :math:`(u_1, u_2)` centred Gaussian with variances ``q1``, ``q2`` and covariance ``c``,
    :math:`\rho = c/\sqrt{q_1q_2}` and :math:`h` of :func:`ntk_lib.analytic.h`, returns

    .. math::

       V = \tfrac12\sqrt{q_1q_2}\,h(\rho), \qquad \dot V = \tfrac12 h'(\rho), \qquad
       1 - h(\rho),

    so that :math:`\mathbb E[(\sigma(u_1)-\sigma(u_2))^2] = \tfrac12(\sqrt{q_1}-\sqrt{q_2})^2
    + \sqrt{q_1q_2}\,(1-h(\rho))`. ``u`` is :math:`1-\rho` when the caller knows it more
    accurately than ``1 - c/sqrt(q1 q2)`` (nearly colinear pairs); the step itself is the
    cancellation-free one of :mod:`ntk_lib.analytic`. Pairs with a zero variance get :math:`\rho = 0`.
    """
    # imported here: analytic imports this module
    from .analytic import _relu_step

    q1, q2, c = torch.broadcast_tensors(q1, q2, c)
    norm = torch.sqrt(q1 * q2)
    pos = norm > 0
    safe = torch.where(pos, norm, 1.0)
    rho = torch.where(pos, c / safe, 0.0).clamp(-1.0, 1.0)
    u = 1 - rho if u is None else torch.where(pos, u, 1.0)
    hval, omh, hp = _relu_step(rho, u)
    return norm * hval / 2, hp / 2, omh


def _relu_dual(q1, q2, c):
    v, vdot, _ = relu_pair(q1, q2, c)
    return v, vdot


def _relu_mean(q):
    return torch.sqrt(q / (2 * math.pi))


def _zero_mean(q):
    return torch.zeros_like(q)


def _erf_dual(q1, q2, c):
    a1, a2 = 1 + 2 * q1, 1 + 2 * q2
    v = (2 / math.pi) * torch.asin((2 * c / torch.sqrt(a1 * a2)).clamp(-1.0, 1.0))
    vdot = (4 / math.pi) / torch.sqrt(a1 * a2 - 4 * c * c)
    return v, vdot


def relu() -> Activation:
    r"""ReLU with the arc-cosine dual: :math:`V=\frac{\sqrt{qq'}}{2\pi}(\sin\theta+(\pi-\theta)\cos\theta)`,
    :math:`\dot V=\frac{\pi-\theta}{2\pi}`, :math:`\cos\theta=c/\sqrt{qq'}`."""
    return Activation("relu", torch.relu, _relu_dual, _relu_mean)


def erf() -> Activation:
    r"""erf with Williams' dual: :math:`V=\frac2\pi\arcsin\frac{2c}{\sqrt{(1+2q)(1+2q')}}`,
    :math:`\dot V=\frac4\pi\big((1+2q)(1+2q')-4c^2\big)^{-1/2}`."""
    return Activation("erf", torch.erf, _erf_dual, _zero_mean)


def from_function(
    fn: Callable[[torch.Tensor], torch.Tensor],
    *,
    name: str | None = None,
    num_points: int = 64,
    max_block: int = 4096,
) -> Activation:
    r"""Dual of any elementwise ``fn`` by Gauss–Hermite quadrature.

    With probabilists' nodes :math:`z_a` and weights :math:`w_a` (``numpy.polynomial.hermite.hermgauss``
    rescaled), :math:`u=\sqrt q\,(sz_a+tz_b)`, :math:`u'=\sqrt{q'}(sz_a-tz_b)` with :math:`s=\sqrt{(1+\rho)/2}`,
    :math:`t=\sqrt{(1-\rho)/2}` (symmetric in the two inputs) and
    :math:`V\approx\sum_{ab}w_aw_b\,\sigma(u)\sigma(u')`. The derivative comes from autograd, so
    ``fn`` must be differentiable almost everywhere. Exact for polynomials of degree
    < ``2*num_points``; smooth activations converge exponentially, kinked ones (ReLU) slowly.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    num_points, max_block = check_int(num_points, "num_points", minimum=2), check_int(max_block, "max_block", minimum=1)
    nodes, weights = np.polynomial.hermite.hermgauss(num_points)
    nodes_np = nodes * math.sqrt(2.0)
    weights_np = weights / math.sqrt(math.pi)

    def value_and_grad(u):
        u = u.detach().requires_grad_(True)
        with torch.enable_grad():
            y = fn(u)
            (g,) = torch.autograd.grad(y.sum(), u)
        return y.detach(), g.detach()

    def dual(q1, q2, c):
        q1, q2, c = torch.broadcast_tensors(q1, q2, c)
        shape = q1.shape
        q1, q2, c = q1.reshape(-1), q2.reshape(-1), c.reshape(-1)
        z = torch.as_tensor(nodes_np, dtype=q1.dtype, device=q1.device)
        wt = torch.as_tensor(weights_np, dtype=q1.dtype, device=q1.device)
        w2 = wt[:, None] * wt[None, :]
        v_out = torch.empty_like(q1)
        d_out = torch.empty_like(q1)
        # Blocks keep the [pairs, m, m] quadrature grid within a few tens of MB.
        step = max(1, max_block * 64 // (num_points * num_points))
        for s in range(0, q1.numel(), step):
            a, b, cc = q1[s : s + step], q2[s : s + step], c[s : s + step]
            norm = torch.sqrt(a * b)
            rho = torch.where(norm > 0, cc / torch.where(norm > 0, norm, 1.0), 0.0).clamp(-1, 1)
            # (u/sqrt q, u'/sqrt q') = (s z_a + t z_b, s z_a - t z_b), s^2 - t^2 = rho: swapping the two
            # inputs maps z_b to -z_b, a symmetry of the nodes, so V(q, q', c) = V(q', q, c) to round-off
            s_ = torch.sqrt((1 + rho) / 2)[:, None, None]
            t_ = torch.sqrt((1 - rho) / 2)[:, None, None]
            za, zb = s_ * z[None, :, None], t_ * z[None, None, :]
            u = torch.sqrt(a)[:, None, None] * (za + zb)
            up = torch.sqrt(b)[:, None, None] * (za - zb)
            fu, gu = value_and_grad(u)
            fup, gup = value_and_grad(up)
            v_out[s : s + step] = (fu * fup * w2).sum((1, 2))
            d_out[s : s + step] = (gu * gup * w2).sum((1, 2))
        return v_out.reshape(shape), d_out.reshape(shape)

    def mean(q):
        return _gauss_hermite_mean(fn, q, num_points=num_points)

    return Activation(name or getattr(fn, "__name__", "custom"), fn, dual, mean)


def _gauss_hermite_mean(fn, q, num_points: int = 64) -> torch.Tensor:
    r""":math:`\mathbb E[\sigma(\sqrt q z)] \approx \sum_a w_a\,\sigma(\sqrt q z_a)` (probabilists' nodes)."""
    nodes, weights = np.polynomial.hermite.hermgauss(num_points)
    z = torch.as_tensor(nodes * math.sqrt(2.0), dtype=q.dtype, device=q.device)
    wt = torch.as_tensor(weights / math.sqrt(math.pi), dtype=q.dtype, device=q.device)
    with torch.no_grad():
        vals = fn(torch.sqrt(q)[..., None] * z)
    return (vals * wt).sum(-1)


def get_activation(activation) -> Activation:
    """Resolve ``"relu"``, ``"erf"``, ``"tanh"``, an :class:`Activation` or a callable."""
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        key = activation.lower()
        if key == "relu":
            return relu()
        if key == "erf":
            return erf()
        if key == "tanh":
            return from_function(torch.tanh, name="tanh")
        raise ValueError(f"activation must be 'relu', 'erf', 'tanh' or a callable, got {activation!r}")
    if callable(activation):
        return from_function(activation)
    raise TypeError(f"activation must be a string, an Activation or a callable, got {type(activation).__name__}")
