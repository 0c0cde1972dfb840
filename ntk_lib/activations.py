r"""Gaussian dual functions of activations.

For a pre-activation pair :math:`(u, u') \sim \mathcal N\!\big(0, \begin{psmallmatrix} q & c\\ c & q'\end{psmallmatrix}\big)`
the infinite-width recursion needs two expectations,

.. math::

   V_\sigma(q, q', c) = \mathbb E[\sigma(u)\sigma(u')], \qquad
   \dot V_\sigma(q, q', c) = \mathbb E[\sigma'(u)\sigma'(u')].

ReLU (Cho & Saul 2009, arc-cosine kernel of order 1 and 0) and erf (Williams 1997) have
closed forms; any other elementwise activation is integrated numerically by
:func:`from_function`: an adaptive quadrature in polar coordinates, graded to the variance, with a
per-pair convergence check (accurate at large variances and for kinked activations, where a fixed
Gauss–Hermite rule is not; it raises rather than return an unconverged value).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ._validate import as_tensor, check_int, check_positive

__all__ = ["Activation", "relu", "erf", "from_function", "get_activation", "relu_pair"]

DualFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class Activation:
    r"""An activation together with its Gaussian dual ``dual(q1, q2, c) -> (V, V_dot)``.

    ``q1``, ``q2`` and ``c`` broadcast against each other; ``fn`` is the activation itself
    (used by the finite-width models so that both sides of a comparison share one definition).
    ``mean(q)`` is :math:`\mathbb E[\sigma(u)]` for :math:`u\sim\mathcal N(0, q)` (needed where a
    residual stream carries the activation's output, ``ntk_lib.layers``); ``None`` means "compute
    it by the quadrature of :func:`from_function`".
    """

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    dual: DualFn
    mean: Callable[[torch.Tensor], torch.Tensor] | None = None

    def mean_value(self, q: torch.Tensor) -> torch.Tensor:
        r""":math:`\mathbb E[\sigma(u)]`, :math:`u\sim\mathcal N(0, q)`, elementwise in ``q``."""
        if self.mean is not None:
            return self.mean(q)
        return from_function(self.fn).mean(q)


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

    Arguments broadcast against each other and go through the library's array rules (lists and
    arrays accepted, float64 results; NaN/inf, empty, ``bool`` and complex refused); ``q1``, ``q2``
    must be :math:`\ge 0`, ``u`` in :math:`[0, 2]`, and :math:`|c| \le \sqrt{q_1q_2}` up to rounding.
    The kernel recursions call the unchecked inner map directly.
    """
    q1 = as_tensor(q1, "q1", dtype=torch.float64)
    q2 = as_tensor(q2, "q2", dtype=torch.float64, device=q1.device)
    c = as_tensor(c, "c", dtype=torch.float64, device=q1.device)
    for name, q in (("q1", q1), ("q2", q2)):
        if bool((q < 0).any()):
            raise ValueError(f"{name} must be >= 0 (a variance), got min {float(q.min()):.3g}")
    try:
        q1b, q2b, cb = torch.broadcast_tensors(q1, q2, c)
    except RuntimeError as err:
        raise ValueError(
            f"q1, q2 and c must broadcast against each other, got shapes {tuple(q1.shape)}, {tuple(q2.shape)}, "
            f"{tuple(c.shape)}"
        ) from err
    bound = torch.sqrt(q1b) * torch.sqrt(q2b)
    if bool((cb.abs() > bound * (1 + 1e-12)).any()):
        raise ValueError("c must satisfy |c| <= sqrt(q1 q2) (a covariance of the two variances)")
    if u is not None:
        u = as_tensor(u, "u", dtype=torch.float64, device=q1.device)
        if bool((u < 0).any()) or bool((u > 2).any()):
            raise ValueError(f"u must lie in [0, 2] (it is 1 - rho), got [{float(u.min()):.3g}, {float(u.max()):.3g}]")
    return _relu_pair(q1, q2, c, u)


def _relu_pair(q1, q2, c, u=None):
    """:func:`relu_pair` on already-checked float tensors (the recursions' inner loop)."""
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
    v, vdot, _ = _relu_pair(q1, q2, c)
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


#: Gauss–Legendre nodes per half arc (angle) and along the radius at quadrature level 0; level
#: ``l`` uses ``2**l`` times as many in each direction
_ANGULAR_NODES = 12
_RADIAL_NODES = 24
_MAX_LEVEL = 4  # levels 0..4 are computed; a value is accepted at level l when levels l and l + 1 agree
_RADIUS = 10.0  # r e^{-r^2/2} below 2e-20 beyond (the Gaussian tail; activations of polynomial growth)


@functools.cache
def _legendre(n: int):
    """Gauss–Legendre nodes and weights on [0, 1] (no endpoint nodes: a kink at an end is never sampled)."""
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2


def _graded(n: int, length: torch.Tensor, eps: torch.Tensor):
    r"""Nodes and weights of :math:`\int_0^{length} dx` on ``[P]`` intervals, graded towards 0 at the scale
    ``eps`` (:math:`x = \epsilon\sinh s`, Gauss–Legendre in :math:`s`): a feature of width ~``eps`` at 0
    and the rest of the interval are both resolved. Returns ``[P, n]`` nodes and weights."""
    x, w = _legendre(n)
    x = torch.as_tensor(x, dtype=length.dtype, device=length.device)
    w = torch.as_tensor(w, dtype=length.dtype, device=length.device)
    smax = torch.asinh(length / eps)
    s = smax[:, None] * x
    return eps[:, None] * torch.sinh(s), (eps * smax)[:, None] * torch.cosh(s) * w


def _value_and_grad(fn, u: torch.Tensor):
    u = u.detach().requires_grad_(True)
    with torch.enable_grad():
        y = fn(u)
        if not (torch.is_tensor(y) and y.shape == u.shape):
            raise TypeError("fn must map a tensor to a tensor of the same shape (an elementwise activation)")
        if not y.requires_grad:
            raise TypeError(
                "fn's output is not connected to its input in torch autograd (a constant, or computed outside "
                "torch): fn must be differentiable by autograd, its derivative gives the NTK"
            )
        (g,) = torch.autograd.grad(y.sum(), u, allow_unused=True)
    if g is None:
        g = torch.zeros_like(u)
    return y.detach(), g.detach()


def _scale(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """The grading scale of a pair: ``1 / sqrt(max(q1, q2))`` (a feature of the activation at u ~ 1), at most 1."""
    top = torch.sqrt(torch.maximum(q1, q2))
    return torch.where(top > 1, 1 / torch.where(top > 1, top, 1.0), torch.ones_like(top))


def _pair_expectations(fn, q1, q2, c, level: int):
    r""":math:`\mathbb E[\sigma(u)\sigma(u')]`, :math:`\mathbb E[\sigma'(u)\sigma'(u')]` and the integrals of
    their absolute integrands, for flat ``[P]`` pairs, by the polar rule of :func:`from_function` at ``level``."""
    na, nr = _ANGULAR_NODES << level, _RADIAL_NODES << level
    r1, r2 = torch.sqrt(q1), torch.sqrt(q2)
    prod = q1 * q2  # sqrt(q q) is exactly q (rho = 1 on the diagonal); r1 r2 where the product leaves the range
    norm = torch.where(torch.isfinite(prod) & (prod >= torch.finfo(prod.dtype).tiny), torch.sqrt(prod), r1 * r2)
    pos = norm > 0
    rho = torch.where(pos, c / torch.where(pos, norm, 1.0), 0.0).clamp(-1.0, 1.0)
    beta = torch.atan2(torch.sqrt((1 - rho) / 2), torch.sqrt((1 + rho) / 2))  # half the angle theta
    eps = _scale(q1, q2)
    half_pi = math.pi / 2
    # four arcs between the angles where u or u' changes sign; each split in two halves, graded
    # towards its end (where u or u' is small and the activation's features sit at large variance)
    lo = torch.stack([half_pi - beta, half_pi + beta, 3 * half_pi - beta, beta - half_pi], 1)  # [P, 4]
    half = torch.stack([beta, half_pi - beta, beta, half_pi - beta], 1)
    P = q1.shape[0]
    ea = torch.where(half > 0, torch.minimum(eps[:, None].expand(P, 4), half), torch.ones_like(half))
    d, wd = _graded(na, half.reshape(-1), ea.reshape(-1))
    d, wd = d.reshape(P, 4, na), wd.reshape(P, 4, na)
    end = lo + 2 * half
    phi = torch.cat([lo[..., None] + d, end[..., None] - d], -1).reshape(P, -1)  # [P, 8 na]
    w_phi = torch.cat([wd, wd], -1).reshape(P, -1) / (2 * math.pi)
    a = r1[:, None] * torch.cos(phi - beta[:, None])
    b = r2[:, None] * torch.cos(phi + beta[:, None])
    r, w_r = _graded(nr, torch.full_like(q1, _RADIUS), eps)
    w_r = w_r * r * torch.exp(-r * r / 2)
    fu, gu = _value_and_grad(fn, a[:, :, None] * r[:, None, :])
    fv, gv = _value_and_grad(fn, b[:, :, None] * r[:, None, :])
    out = []
    for f, g in ((fu, fv), (gu, gv)):
        prod = f.mul_(g)
        out.append(torch.einsum("pmr,pm,pr->p", prod, w_phi, w_r))
        out.append(torch.einsum("pmr,pm,pr->p", prod.abs_(), w_phi, w_r))
    # a non-finite sample makes the sum of absolute values non-finite (cheaper than checking every sample)
    if not (bool(torch.isfinite(out[1]).all()) and bool(torch.isfinite(out[3]).all())):
        raise ValueError(
            "fn returned non-finite values (or derivatives) on Gaussian samples: the activation must be "
            "finite, with at most polynomial growth"
        )
    return out  # V, |V|, Vdot, |Vdot|


def _mean_expectation(fn, q, level: int):
    r""":math:`\mathbb E[\sigma(\sqrt q z)] = \int_0^\infty \phi(r)(\sigma(\sqrt q r) + \sigma(-\sqrt q r))dr` and
    the integral of its absolute integrand, graded radial rule, flat ``[P]``."""
    nr = (2 * _RADIAL_NODES) << level
    r, w_r = _graded(nr, torch.full_like(q, _RADIUS), _scale(q, q))
    w_r = w_r * torch.exp(-r * r / 2) / math.sqrt(2 * math.pi)
    u = torch.sqrt(q)[:, None] * r
    with torch.no_grad():
        f = fn(torch.cat([u, -u], 1))
    w = torch.cat([w_r, w_r], 1)
    total = (f.abs() * w).sum(1)
    if not bool(torch.isfinite(total).all()):
        raise ValueError("fn returned non-finite values on Gaussian samples: the activation must be finite")
    return (f * w).sum(1), total


def _adaptive(compute, args, rtol: float, what: str, max_block: int, points_per_item: int):
    """Run ``compute(*args_block, level)`` on flat ``[P]`` arguments, level by level, pair by pair: a
    pair is done at level ``l`` when every output of levels ``l`` and ``l + 1`` differs by at most
    ``rtol`` times the integral of the absolute integrand; its level-``l + 1`` values are returned."""
    P = args[0].shape[0]
    n_out = None
    results = None
    todo = torch.arange(P, device=args[0].device)
    prev = None
    for level in range(_MAX_LEVEL):
        step = max(1, (max_block * 64) // (points_per_item << (2 * (level + 1))))
        sub = [a[todo] for a in args]
        if prev is None:
            prev = _blocked(compute, sub, level, step)
        nxt = _blocked(compute, sub, level + 1, step)
        if results is None:
            n_out = len(nxt)
            results = [torch.empty(P, dtype=args[0].dtype, device=args[0].device) for _ in range(n_out)]
        ok = torch.ones(todo.shape[0], dtype=torch.bool, device=todo.device)
        for j in range(0, n_out, 2):
            ok &= (prev[j] - nxt[j]).abs() <= rtol * nxt[j + 1]
        for j in range(n_out):
            results[j][todo[ok]] = nxt[j][ok]
        todo = todo[~ok]
        if todo.numel() == 0:
            return results
        prev = [v[~ok] for v in nxt]
    bad = int(todo[0])
    raise ValueError(
        f"the Gaussian expectations of {what} did not converge to rtol={rtol:g} (e.g. at "
        + ", ".join(f"{v:.4g}" for v in (float(a[bad]) for a in args))
        + "): the activation oscillates, has kinks away from 0, or grows too fast for the quadrature; "
        "pass a larger rtol, or use a closed-form activation (Relu, Erf)"
    )


def _blocked(compute, args, level, step):
    parts = [compute(*(a[s : s + step] for a in args), level) for s in range(0, args[0].shape[0], step)]
    if not parts:
        return [args[0][:0] for _ in range(4 if len(args) == 3 else 2)]
    return [torch.cat([p[j] for p in parts]) for j in range(len(parts[0]))]


def from_function(
    fn: Callable[[torch.Tensor], torch.Tensor],
    *,
    name: str | None = None,
    rtol: float = 1e-9,
    num_points: int | None = None,
    max_block: int = 4096,
) -> Activation:
    r"""Gaussian dual of any elementwise ``fn``, by adaptive quadrature with a convergence check.

    **Rule.** Write :math:`(u, u') = (\sqrt q\,r\cos(\varphi-\beta), \sqrt{q'}\,r\cos(\varphi+\beta))` with
    :math:`\beta = \tfrac12\arccos\rho` and :math:`(r, \varphi)` polar coordinates of a standard 2-D normal
    (density :math:`r e^{-r^2/2}/2\pi`). The angular integral is split at the four angles where
    :math:`u` or :math:`u'` changes sign, so an activation with a kink at 0 (ReLU, leaky ReLU, abs) is
    smooth on every piece, and no node falls on a kink. Activations have their features near
    :math:`u = 0` on a scale ~1; at a large variance :math:`q` those sit at :math:`r \sim 1/\sqrt q` and
    within :math:`\sim 1/\sqrt q` of the arcs' ends, so both directions use Gauss–Legendre nodes graded
    towards 0 at the scale :math:`1/\sqrt{\max(q, q')}` (:math:`x = \epsilon\sinh s`). This keeps the rule
    accurate from :math:`q \ll 1` to :math:`q \sim 10^4` with the same node count (Gauss–Hermite in
    :math:`(z_a, z_b)` needs a number of nodes growing like :math:`q`, and converges slowly at kinks). The
    derivative comes from autograd, so ``fn`` must be differentiable almost everywhere.

    **Convergence check.** Level :math:`l` uses :math:`2^l` times ``12`` angular nodes per half arc and
    ``24`` radial ones. Each pair is computed at levels 0 and 1; where :math:`V` or :math:`\dot V` of the
    two levels differ by more than ``rtol`` times the integral of the absolute integrand
    (:math:`\mathbb E|\sigma(u)\sigma(u')|`), the pair goes on to levels 2, 3, 4, and a ``ValueError`` is
    raised if levels 3 and 4 still disagree (an activation that oscillates, has kinks away from 0, or
    grows too fast). The value of the finer of the two agreeing levels is returned, so its error is
    typically far below ``rtol``; each pair's value depends on that pair only (not on the batch).
    ``mean(q)`` (:math:`\mathbb E\,\sigma(\sqrt q z)`) is computed the same way in one dimension.

    Args:
        rtol: tolerance of the convergence check (above).
        num_points: instead of the adaptive rule, a fixed tensor-product Gauss–Hermite rule with this
            many nodes per direction and no accuracy check (the rule of earlier versions, kept for
            comparisons: it is inaccurate for variances above ~1 and for kinked activations).
        max_block: bounds the quadrature grid held at once to about ``64 * max_block`` points.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    max_block = check_int(max_block, "max_block", minimum=1)
    act_name = name or getattr(fn, "__name__", "custom")
    if num_points is not None:
        return _gauss_hermite(fn, act_name, check_int(num_points, "num_points", minimum=2), max_block)
    rtol = check_positive(rtol, "rtol")
    what = f"fn={act_name!r} (at q1, q2, c)"

    def dual(q1, q2, c):
        q1, q2, c = torch.broadcast_tensors(q1, q2, c)
        shape = q1.shape
        flat = [t.reshape(-1) for t in (q1, q2, c)]
        v, _, vdot, _ = _adaptive(
            lambda a, b, cc, level: _pair_expectations(fn, a, b, cc, level), flat, rtol, what, max_block,
            8 * _ANGULAR_NODES * _RADIAL_NODES,
        )
        return v.reshape(shape), vdot.reshape(shape)

    def mean(q):
        m, _ = _adaptive(
            lambda qq, level: _mean_expectation(fn, qq, level), [q.reshape(-1)], rtol, f"fn={act_name!r} (at q)",
            max_block, 4 * _RADIAL_NODES,
        )
        return m.reshape(q.shape)

    return Activation(act_name, fn, dual, mean)


def _gauss_hermite(fn, name: str, num_points: int, max_block: int) -> Activation:
    r"""Fixed tensor-product Gauss–Hermite rule (probabilists' nodes :math:`z_a`, weights :math:`w_a`):
    :math:`u=\sqrt q\,(sz_a+tz_b)`, :math:`u'=\sqrt{q'}(sz_a-tz_b)`, :math:`s=\sqrt{(1+\rho)/2}`,
    :math:`t=\sqrt{(1-\rho)/2}`, :math:`V\approx\sum_{ab}w_aw_b\,\sigma(u)\sigma(u')`. No accuracy check."""
    nodes, weights = np.polynomial.hermite.hermgauss(num_points)
    nodes_np = nodes * math.sqrt(2.0)
    weights_np = weights / math.sqrt(math.pi)

    def dual(q1, q2, c):
        q1, q2, c = torch.broadcast_tensors(q1, q2, c)
        shape = q1.shape
        q1, q2, c = q1.reshape(-1), q2.reshape(-1), c.reshape(-1)
        z = torch.as_tensor(nodes_np, dtype=q1.dtype, device=q1.device)
        wt = torch.as_tensor(weights_np, dtype=q1.dtype, device=q1.device)
        w2 = wt[:, None] * wt[None, :]
        v_out = torch.empty_like(q1)
        d_out = torch.empty_like(q1)
        step = max(1, max_block * 64 // (num_points * num_points))
        for s in range(0, q1.numel(), step):
            a, b, cc = q1[s : s + step], q2[s : s + step], c[s : s + step]
            norm = torch.sqrt(a * b)
            rho = torch.where(norm > 0, cc / torch.where(norm > 0, norm, 1.0), 0.0).clamp(-1, 1)
            s_ = torch.sqrt((1 + rho) / 2)[:, None, None]
            t_ = torch.sqrt((1 - rho) / 2)[:, None, None]
            za, zb = s_ * z[None, :, None], t_ * z[None, None, :]
            fu, gu = _value_and_grad(fn, torch.sqrt(a)[:, None, None] * (za + zb))
            fup, gup = _value_and_grad(fn, torch.sqrt(b)[:, None, None] * (za - zb))
            v_out[s : s + step] = (fu * fup * w2).sum((1, 2))
            d_out[s : s + step] = (gu * gup * w2).sum((1, 2))
        return v_out.reshape(shape), d_out.reshape(shape)

    def mean(q):
        zz = torch.as_tensor(nodes_np, dtype=q.dtype, device=q.device)
        wt = torch.as_tensor(weights_np, dtype=q.dtype, device=q.device)
        with torch.no_grad():
            vals = fn(torch.sqrt(q)[..., None] * zz)
        return (vals * wt).sum(-1)

    return Activation(name, fn, dual, mean)


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
