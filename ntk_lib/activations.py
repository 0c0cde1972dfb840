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

__all__ = ["Activation", "relu", "erf", "from_function", "get_activation"]

DualFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class Activation:
    """An activation together with its Gaussian dual ``dual(q1, q2, c) -> (V, V_dot)``.

    ``q1``, ``q2`` and ``c`` broadcast against each other; ``fn`` is the activation itself
    (used by the finite-width models so that both sides of a comparison share one definition).
    """

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    dual: DualFn


def _relu_dual(q1, q2, c):
    norm = torch.sqrt(q1 * q2)
    rho = torch.where(norm > 0, c / torch.where(norm > 0, norm, 1.0), 0.0).clamp(-1.0, 1.0)
    theta = torch.acos(rho)
    v = norm * (torch.sin(theta) + (math.pi - theta) * rho) / (2 * math.pi)
    vdot = (math.pi - theta) / (2 * math.pi)
    return v, vdot


def _erf_dual(q1, q2, c):
    a1, a2 = 1 + 2 * q1, 1 + 2 * q2
    v = (2 / math.pi) * torch.asin((2 * c / torch.sqrt(a1 * a2)).clamp(-1.0, 1.0))
    vdot = (4 / math.pi) / torch.sqrt(a1 * a2 - 4 * c * c)
    return v, vdot


def relu() -> Activation:
    r"""ReLU with the arc-cosine dual: :math:`V=\frac{\sqrt{qq'}}{2\pi}(\sin\theta+(\pi-\theta)\cos\theta)`,
    :math:`\dot V=\frac{\pi-\theta}{2\pi}`, :math:`\cos\theta=c/\sqrt{qq'}`."""
    return Activation("relu", torch.relu, _relu_dual)


def erf() -> Activation:
    r"""erf with Williams' dual: :math:`V=\frac2\pi\arcsin\frac{2c}{\sqrt{(1+2q)(1+2q')}}`,
    :math:`\dot V=\frac4\pi\big((1+2q)(1+2q')-4c^2\big)^{-1/2}`."""
    return Activation("erf", torch.erf, _erf_dual)


def from_function(
    fn: Callable[[torch.Tensor], torch.Tensor],
    *,
    name: str | None = None,
    num_points: int = 64,
    max_block: int = 4096,
) -> Activation:
    r"""Dual of any elementwise ``fn`` by Gauss–Hermite quadrature.

    With probabilists' nodes :math:`z_a` and weights :math:`w_a` (``numpy.polynomial.hermite.hermgauss``
    rescaled), :math:`u=\sqrt q\,z_a`, :math:`u'=\sqrt{q'}(\rho z_a+\sqrt{1-\rho^2}z_b)` and
    :math:`V\approx\sum_{ab}w_aw_b\,\sigma(u)\sigma(u')`. The derivative comes from autograd, so
    ``fn`` must be differentiable almost everywhere. Exact for polynomials of degree
    < ``2*num_points``; smooth activations converge exponentially, kinked ones (ReLU) slowly.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(num_points, bool) or not isinstance(num_points, int) or num_points < 2:
        raise ValueError(f"num_points must be an integer >= 2, got {num_points!r}")
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
            u = torch.sqrt(a)[:, None, None] * z[None, :, None]
            up = torch.sqrt(b)[:, None, None] * (
                rho[:, None, None] * z[None, :, None] + torch.sqrt(1 - rho * rho)[:, None, None] * z[None, None, :]
            )
            fu, gu = value_and_grad(u)
            fup, gup = value_and_grad(up)
            v_out[s : s + step] = (fu * fup * w2).sum((1, 2))
            d_out[s : s + step] = (gu * gup * w2).sum((1, 2))
        return v_out.reshape(shape), d_out.reshape(shape)

    return Activation(name or getattr(fn, "__name__", "custom"), fn, dual)


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
