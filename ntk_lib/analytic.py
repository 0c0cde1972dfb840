r"""Infinite-width kernels of fully-connected networks.

Convention (Jacot et al. 2018, as in St-Arnaud et al. 2025, Thm 1): ``depth`` :math:`L` counts
linear layers, so a depth-:math:`L` network has :math:`L-1` activations. With
:math:`w` = ``weight_var`` and :math:`b` = ``bias_var``,

.. math::

   \Sigma^{(1)}(x,x') &= w\,\frac{x^\top x'}{n_0} + b, \\
   \Sigma^{(l+1)}(x,x') &= w\,\mathbb E_{u\sim\mathcal N(0,\Sigma^{(l)})}[\sigma(u(x))\sigma(u(x'))] + b, \\
   \dot\Sigma^{(l+1)}(x,x') &= w\,\mathbb E_{u\sim\mathcal N(0,\Sigma^{(l)})}[\sigma'(u(x))\sigma'(u(x'))], \\
   \Theta^{(1)} &= \Sigma^{(1)}, \qquad \Theta^{(l+1)} = \dot\Sigma^{(l+1)}\Theta^{(l)} + \Sigma^{(l+1)}.

For ReLU, with :math:`\rho^{(l)} = \Sigma^{(l)}(x,x')/\sqrt{\Sigma^{(l)}(x,x)\Sigma^{(l)}(x',x')}`
and :math:`h` of Definition 5,

.. math::

   \Sigma^{(l+1)} = \tfrac w2\sqrt{q q'}\,h(\rho^{(l)}) + b, \qquad
   \dot\Sigma^{(l+1)} = \tfrac w2\,h'(\rho^{(l)}).

How the ReLU kernels are computed, and why:

* The recursion runs in the *normalized* domain: each pair carries :math:`\rho`, :math:`u=1-\rho`
  and :math:`\bar\Theta=\Theta/\sqrt{\Theta(x,x)\Theta(x',x')}`, each point carries
  :math:`\log\Sigma(x,x)` and :math:`\log\Theta(x,x)`. Raw kernels decay like :math:`2^{-L}` and
  underflow near :math:`L\approx 1000`; the normalized ones stay exact at any depth.
* :math:`u = 1-\rho` is updated directly (never as ``1 - rho``), and the input angle of nearly
  colinear pairs is taken from :math:`2\,\mathrm{atan2}(\lVert\hat x-\hat x'\rVert, \lVert\hat x+\hat x'\rVert)`,
  so nearly colinear inputs keep full relative precision and :math:`x = x'` gives angle 0 exactly.
* Pairs are processed in row blocks, all layers at once per block, so the working set stays in
  cache and extra memory is bounded by ``block_elems`` (see :func:`relu_ntk`); the symmetric case
  ``x2=None`` computes only the upper triangle.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ._validate import as_tensor, check_depth, check_nonnegative, check_positive
from .activations import get_activation

__all__ = [
    "h",
    "h_prime",
    "theta_bar_recurrence",
    "relu_nngp",
    "relu_ntk",
    "relu_kernel_layers",
    "KernelLayers",
    "nngp_ntk",
    "DEFAULT_BLOCK_ELEMS",
]

_PI = math.pi
_SERIES_CUT = 0.1  # below this angle sin(t) - t cos(t) is summed as a series
_COLINEAR_CUT = 1e-3  # |1 - cos| below this: recompute the input angle from differences
#: pairs per block of the blocked ReLU recursion: about a dozen float64 work arrays of this size
#: (~12 MiB in all) live at once, on top of the output.
DEFAULT_BLOCK_ELEMS = 1 << 17


# --------------------------------------------------------------------------- h and h'


def _check_unit_interval(z, name: str) -> torch.Tensor:
    z = as_tensor(z, name, dtype=torch.float64 if not torch.is_tensor(z) else None, allow_empty=True)
    if not z.is_floating_point():
        z = z.to(torch.float64)
    tol = 8 * torch.finfo(z.dtype).eps
    if z.numel() and (float(z.min()) < -1 - tol or float(z.max()) > 1 + tol):
        raise ValueError(f"{name} must lie in [-1, 1], got values in [{float(z.min())}, {float(z.max())}]")
    return z.clamp(-1.0, 1.0)


def h(z) -> torch.Tensor:
    r"""Definition 5 of St-Arnaud et al.: :math:`h(z) = \frac{z\arcsin z}{\pi} + \frac{\sqrt{1-z^2}}{\pi} + \frac z2`.

    For ReLU on the sphere, :math:`\rho^{(l+1)} = h(\rho^{(l)})`; :math:`h` is increasing on
    :math:`[-1,1]` with :math:`h(-1)=0`, :math:`h(1)=1` and :math:`h(z)\ge z`.
    """
    z = _check_unit_interval(z, "z")
    return z * torch.asin(z) / _PI + torch.sqrt((1 - z) * (1 + z)) / _PI + z / 2


def h_prime(z) -> torch.Tensor:
    r""":math:`h'(z) = \frac12 + \frac{\arcsin z}{\pi}`; for ReLU :math:`\dot\Sigma^{(l+1)} = \frac w2 h'(\rho^{(l)})`."""
    z = _check_unit_interval(z, "z")
    return 0.5 + torch.asin(z) / _PI


def _series(t: torch.Tensor) -> torch.Tensor:
    # sin t - t cos t = sum_k (-1)^(k+1) 2k t^(2k+1) / (2k+1)!, to t^11 (exact to rounding for t < 0.1)
    t2 = t * t
    return t * t2 * (1 / 3 + t2 * (-1 / 30 + t2 * (1 / 840 + t2 * (-1 / 45360 + t2 / 3991680))))


def _series_fix(theta: torch.Tensor, s: torch.Tensor) -> None:
    """Overwrite s = sin(t) - t cos(t) by its Taylor series where t is small (in place).

    Small tensors (or tensors where most angles are small, as at large depth) take a dense
    ``where``; large ones with few small angles are patched through a mask.
    """
    small = theta < _SERIES_CUT
    if theta.numel() <= 1 << 14:
        torch.where(small, _series(theta), s, out=s)
        return
    count = int(small.sum())
    if count == 0:
        return
    if count * 8 > theta.numel():
        torch.where(small, _series(theta), s, out=s)
    else:
        s[small] = _series(theta[small])


def _sin_minus_t_cos(theta: torch.Tensor, sin: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    """sin(t) - t cos(t), with the Taylor series where direct evaluation cancels (t small)."""
    s = sin - theta * rho
    _series_fix(theta, s)
    return s


def _relu_step(rho: torch.Tensor, u: torch.Tensor):
    r"""One ReLU layer on a pair: from (rho, u = 1 - rho) to (h(rho), 1 - h(rho), h'(rho)).

    Uses :math:`\theta = 2\arcsin\sqrt{u/2}` and :math:`1-h = u - (\sin\theta-\theta\cos\theta)/\pi`,
    both free of cancellation when :math:`\rho\to1`.
    """
    u = u.clamp(0.0, 2.0)
    sin = torch.sqrt(u * (2 - u))
    theta = 2 * torch.asin(torch.sqrt(0.5 * u))
    hp = 1 - theta / _PI
    hval = (sin + (_PI - theta) * rho) / _PI
    omh = u - _sin_minus_t_cos(theta, sin, rho) / _PI
    return hval, omh, hp


def theta_bar_recurrence(rho1, depth: int) -> torch.Tensor:
    r"""Proposition 5 of St-Arnaud et al.: the normalized NTK on the sphere for every depth.

    .. math::

       \bar\Theta^{(1)} = \rho^{(1)}, \qquad
       \bar\Theta^{(L+1)} = \frac{L}{L+1}\,h'(\rho^{(L)})\,\bar\Theta^{(L)} + \frac1{L+1}\,h(\rho^{(L)}),
       \qquad \rho^{(L+1)} = h(\rho^{(L)}).

    ``rho1`` holds input correlations :math:`x^\top x'` of unit vectors (any shape). Returns a
    float64 tensor of shape ``[depth, *rho1.shape]`` whose row ``L-1`` is :math:`\bar\Theta^{(L)}`
    (Definition 4: :math:`n_0 2^{L-1}\Theta^{(L)}/L`). Exact for depth in the thousands.
    """
    depth = check_depth(depth)
    rho = _check_unit_interval(rho1, "rho1").to(torch.float64)
    u = (1 - rho).clamp(0.0, 2.0)
    tb = rho.clone()
    out = torch.empty((depth, *rho.shape), dtype=torch.float64, device=rho.device)
    out[0] = tb
    for layer in range(1, depth):
        hval, omh, hp = _relu_step(rho, u)
        tb = (layer / (layer + 1)) * hp * tb + hval / (layer + 1)
        rho, u = hval, omh
        out[layer] = tb
    return out


# --------------------------------------------------------------------------- inputs


def _inputs(x1, x2):
    x1 = as_tensor(x1, "x1", ndim=2)
    sym = x2 is None
    if sym:
        x2 = x1
    else:
        x2 = as_tensor(x2, "x2", ndim=2)
        if x2.shape[1] != x1.shape[1]:
            raise ValueError(f"x2 has {x2.shape[1]} features but x1 has {x1.shape[1]}: feature dimensions must match")
        if x2.device != x1.device:
            raise ValueError(f"x1 is on {x1.device} but x2 is on {x2.device}")
    return x1.to(torch.float64), x2.to(torch.float64), sym


def _check_var(weight_var, bias_var):
    return check_positive(weight_var, "weight_var"), check_nonnegative(bias_var, "bias_var")


class _PointStats(NamedTuple):
    """Per-point, per-layer quantities of the ReLU recursion, each [depth, n] (float64)."""

    alpha: torch.Tensor  # sqrt((w/2) q^{l-1} / q^l): weight share of the new covariance
    beta: torch.Tensor  # sqrt(b / q^l): bias share
    c1: torch.Tensor  # sqrt(T^{l-1} / T^l)
    c2: torch.Tensor  # sqrt(q^l / T^l)
    log_q: torch.Tensor  # log Sigma^{(l)}(x, x)
    log_t: torch.Tensor  # log Theta^{(l)}(x, x)


def _point_stats(x: torch.Tensor, depth: int, w: float, b: float, name: str) -> _PointStats:
    n0 = x.shape[1]
    sq = (x * x).sum(1)
    if b == 0 and bool((sq == 0).any()):
        row = int(torch.nonzero(sq == 0)[0])
        raise ValueError(
            f"{name} has an all-zero row (row {row}); with bias_var=0 its kernel is identically 0 "
            "and its correlations undefined: drop it or use bias_var > 0"
        )
    log_b = math.log(b) if b > 0 else -math.inf
    log_half_w = math.log(w / 2)
    log_a = torch.log(w * sq / n0)
    n = x.shape[0]
    if b == 0:
        # closed forms: q^l = q^1 (w/2)^(l-1), T^l = l q^l, so every ratio is a scalar per layer
        layers = torch.arange(depth, dtype=torch.float64, device=x.device)[:, None]
        log_q = log_a[None, :] + layers * log_half_w
        log_t = log_q + torch.log1p(layers)
        ones = torch.ones_like(log_q)
        c1 = torch.sqrt(layers / (layers + 1)) / math.sqrt(w / 2) * ones
        c2 = torch.sqrt(1 / (layers + 1)) * ones
        return _PointStats(ones, torch.zeros_like(ones), c1, c2, log_q, log_t)
    alpha = torch.empty(depth, n, dtype=torch.float64, device=x.device)
    beta, c1, c2, log_q, log_t = (torch.empty_like(alpha) for _ in range(5))
    lb = torch.full_like(log_a, log_b)
    lq = torch.logaddexp(log_a, lb)
    alpha[0] = torch.exp((log_a - lq) / 2)
    beta[0] = torch.exp((lb - lq) / 2)
    c1[0] = 0.0
    c2[0] = 1.0
    log_q[0] = lq
    log_t[0] = lq
    for layer in range(1, depth):
        la = log_half_w + log_q[layer - 1]
        lq = torch.logaddexp(la, lb)
        lt = torch.logaddexp(log_half_w + log_t[layer - 1], lq)
        alpha[layer] = torch.exp((la - lq) / 2)
        beta[layer] = torch.exp((lb - lq) / 2)
        c1[layer] = torch.exp((log_t[layer - 1] - lt) / 2)
        c2[layer] = torch.exp((lq - lt) / 2)
        log_q[layer] = lq
        log_t[layer] = lt
    return _PointStats(alpha, beta, c1, c2, log_q, log_t)


def _input_cosines(xh1: torch.Tensor, xh2: torch.Tensor):
    """cos and 1 - cos of the angle between unit rows, accurate for nearly colinear pairs."""
    cos = (xh1 @ xh2.T).clamp_(-1.0, 1.0)
    one_minus = 1 - cos
    near = torch.nonzero(one_minus < _COLINEAR_CUT, as_tuple=True)
    if near[0].numel():
        a, c = xh1[near[0]], xh2[near[1]]
        theta = 2 * torch.atan2(torch.linalg.vector_norm(a - c, dim=1), torch.linalg.vector_norm(a + c, dim=1))
        s = torch.sin(theta / 2)
        one_minus[near] = 2 * s * s
        cos[near] = 1 - one_minus[near]
    return cos, one_minus


def _unit_rows(x: torch.Tensor) -> torch.Tensor:
    norm = torch.linalg.vector_norm(x, dim=1, keepdim=True)
    return torch.where(norm > 0, x / torch.where(norm > 0, norm, 1.0), 0.0)


def _block_recursion_no_bias(cos, one_minus, depth: int, want: str):
    """The b = 0 recursion, in place on preallocated buffers (no page faults, few passes).

    State per pair: u = 1 - rho and the normalized kernel tb. Per layer, with
    theta = 2 asin(sqrt(u/2)): s = sin(theta) - theta (1 - u), 1 - h = u - s/pi,
    tb <- L/(L+1) (1 - theta/pi) tb + h/(L+1)   (Prop. 5).
    """
    u = one_minus
    tb = cos if want != "nngp" else None
    theta = torch.empty_like(u)
    sin = torch.empty_like(u)
    s = torch.empty_like(u)
    for layer in range(1, depth):
        torch.mul(u, 0.5, out=theta).sqrt_().asin_().mul_(2.0)
        torch.sub(2.0, u, out=sin).mul_(u).sqrt_()
        # s = sin - theta + theta * u
        torch.addcmul(sin, theta, u, out=s).sub_(theta)
        _series_fix(theta, s)
        u.sub_(s, alpha=1 / _PI)  # u <- 1 - h(rho)
        if tb is not None:
            # tb <- c (1 - theta/pi) tb + (1 - u_new)/(L+1), c = L/(L+1)
            c = layer / (layer + 1)
            tb.addcmul_(tb, theta, value=-1 / _PI).mul_(c)
            tb.sub_(u, alpha=1 / (layer + 1)).add_(1 / (layer + 1))
    if tb is not None:
        return tb
    return torch.sub(1.0, u)  # rho^(L)


def _outer(v1: torch.Tensor, v2: torch.Tensor) -> torch.Tensor:
    return v1[:, None] * v2[None, :]


def _rescale(v: torch.Tensor, log1: torch.Tensor, log2: torch.Tensor) -> torch.Tensor:
    """v * sqrt(d1 d2^T) from per-point log-diagonals: back from the normalized domain."""
    return v * torch.exp((log1[:, None] + log2[None, :]) / 2)


def _first_layer(cos, one_minus, s1: _PointStats, s2: _PointStats):
    """rho and u = 1 - rho of Sigma^(1) with bias: u = |(alpha, beta) - (alpha', beta')|^2 / 2 + alpha alpha' (1 - cos)."""
    a1, a2, be1, be2 = s1.alpha[0], s2.alpha[0], s1.beta[0], s2.beta[0]
    aa = _outer(a1, a2)
    rho = aa * cos + _outer(be1, be2)
    u = 0.5 * ((a1[:, None] - a2) ** 2 + (be1[:, None] - be2) ** 2) + aa * one_minus
    return rho, u


def _bias_layer(rho, u, tb, s1: _PointStats, s2: _PointStats, layer: int, w: float):
    """One layer of the general (w, b) recursion in the normalized domain: new (rho, u, tb, h')."""
    hval, omh, hp = _relu_step(rho, u)
    a1, a2, be1, be2 = s1.alpha[layer], s2.alpha[layer], s1.beta[layer], s2.beta[layer]
    aa = _outer(a1, a2)
    new_rho = aa * hval + _outer(be1, be2)
    new_u = 0.5 * ((a1[:, None] - a2) ** 2 + (be1[:, None] - be2) ** 2) + aa * omh
    if tb is not None:
        tb = (w / 2) * hp * tb * _outer(s1.c1[layer], s2.c1[layer]) + new_rho * _outer(s1.c2[layer], s2.c2[layer])
    return new_rho, new_u, tb, hp


def _block_recursion(cos, one_minus, s1: _PointStats, s2: _PointStats, w: float, b: float, want: str):
    """Run the ReLU recursion over all layers on one block of pairs; return the wanted kernel."""
    depth = s1.alpha.shape[0]
    if b == 0:
        out = _block_recursion_no_bias(cos, one_minus, depth, want)
    else:
        rho, u = _first_layer(cos, one_minus, s1, s2)
        tb = rho.clone() if want != "nngp" else None
        for layer in range(1, depth):
            rho, u, tb, _ = _bias_layer(rho, u, tb, s1, s2, layer, w)
        out = rho if want == "nngp" else tb
    if want == "normalized":
        return out
    if want == "ntk":
        return _rescale(out, s1.log_t[-1], s2.log_t[-1])
    return _rescale(out, s1.log_q[-1], s2.log_q[-1])


def _relu_kernel(x1, x2, *, depth, weight_var, bias_var, want, dtype, block_elems):
    depth = check_depth(depth)
    w, b = _check_var(weight_var, bias_var)
    x1, x2, sym = _inputs(x1, x2)
    out_dtype = torch.float64 if dtype is None else dtype
    if not (isinstance(out_dtype, torch.dtype) and out_dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    if isinstance(block_elems, bool) or not isinstance(block_elems, int) or block_elems < 1:
        raise ValueError(f"block_elems must be a positive integer, got {block_elems!r}")
    s1 = _point_stats(x1, depth, w, b, "x1")
    s2 = s1 if sym else _point_stats(x2, depth, w, b, "x2")
    xh1 = _unit_rows(x1)
    xh2 = xh1 if sym else _unit_rows(x2)
    n1, n2 = x1.shape[0], x2.shape[0]
    out = torch.empty(n1, n2, dtype=out_dtype, device=x1.device)
    rows = max(1, min(n1, block_elems // max(n2, 1)))
    for r0 in range(0, n1, rows):
        r1 = min(n1, r0 + rows)
        c0 = r0 if sym else 0  # symmetric: upper triangle only, mirrored below
        cos, one_minus = _input_cosines(xh1[r0:r1], xh2[c0:])
        blk = _block_recursion(cos, one_minus, _slice_stats(s1, r0, r1), _slice_stats(s2, c0, n2), w, b, want)
        if sym:
            diag = blk[:, : r1 - r0]
            diag = torch.triu(diag) + torch.triu(diag, 1).T
            out[r0:r1, r0:r1] = diag
            out[r0:r1, r1:] = blk[:, r1 - r0 :]
            out[r1:, r0:r1] = blk[:, r1 - r0 :].T
        else:
            out[r0:r1] = blk
    return out


def _slice_stats(s: _PointStats, i0: int, i1: int) -> _PointStats:
    return _PointStats(*(v[:, i0:i1] for v in s))


def relu_ntk(
    x1,
    x2=None,
    *,
    depth: int,
    weight_var: float = 1.0,
    bias_var: float = 0.0,
    normalized: bool = False,
    dtype: torch.dtype | None = None,
    block_elems: int = DEFAULT_BLOCK_ELEMS,
) -> torch.Tensor:
    r"""Infinite-width NTK :math:`\Theta^{(L)}_\infty(x_1, x_2)` of a ReLU MLP with ``depth`` linear layers.

    Jacot et al. Thm 1 with the ReLU closed forms of Prop. 2 (Arora et al. 2019):
    :math:`\Theta^{(l+1)} = \frac w2 h'(\rho^{(l)})\Theta^{(l)} + \Sigma^{(l+1)}`. On the unit sphere
    with :math:`w=1, b=0` the diagonal is :math:`L/(n_0 2^{L-1})` (Prop. 1).

    Args:
        x1: inputs ``[n1, n0]``.
        x2: inputs ``[n2, n0]``; ``None`` means ``x1`` (only the upper triangle is computed).
        depth: number of linear layers :math:`L \ge 1`.
        weight_var, bias_var: :math:`w > 0`, :math:`b \ge 0`.
        normalized: return :math:`\Theta(x,x')/\sqrt{\Theta(x,x)\Theta(x',x')}`, which on the sphere
            is Definition 4's :math:`\bar\Theta^{(L)} = n_0 2^{L-1}\Theta^{(L)}/L`; computed in the
            normalized domain, so it is finite and exact for any depth.
        dtype: output dtype (default float64; the recursion always runs in float64).
        block_elems: pairs per block; extra memory is about ``100 * block_elems`` bytes.

    Returns:
        ``[n1, n2]`` tensor on ``x1``'s device.
    """
    want = "normalized" if normalized else "ntk"
    return _relu_kernel(
        x1,
        x2,
        depth=depth,
        weight_var=weight_var,
        bias_var=bias_var,
        want=want,
        dtype=dtype,
        block_elems=block_elems,
    )


def relu_nngp(
    x1,
    x2=None,
    *,
    depth: int,
    weight_var: float = 1.0,
    bias_var: float = 0.0,
    dtype: torch.dtype | None = None,
    block_elems: int = DEFAULT_BLOCK_ELEMS,
) -> torch.Tensor:
    r"""NNGP kernel :math:`\Sigma^{(L)}(x_1, x_2)`: the covariance of the output of a depth-``depth``
    ReLU MLP at initialization, :math:`\Sigma^{(l+1)} = \frac w2\sqrt{qq'}\,h(\rho^{(l)}) + b`
    (Def. 1 with Prop. 2). Arguments as in :func:`relu_ntk`. Returns ``[n1, n2]``."""
    return _relu_kernel(
        x1,
        x2,
        depth=depth,
        weight_var=weight_var,
        bias_var=bias_var,
        want="nngp",
        dtype=dtype,
        block_elems=block_elems,
    )


class KernelLayers(NamedTuple):
    """Every layer of the ReLU recursion, each ``[depth, n1, n2]``; index ``l-1`` is layer ``l``.

    ``sigma_dot[0]`` is 0 by convention (layer 1 has no activation: :math:`\\Theta^{(1)}=\\Sigma^{(1)}`,
    i.e. the recursion with :math:`\\Theta^{(0)}=0`).
    """

    sigma: torch.Tensor
    sigma_dot: torch.Tensor
    theta: torch.Tensor
    rho: torch.Tensor
    theta_bar: torch.Tensor


def relu_kernel_layers(
    x1,
    x2=None,
    *,
    depth: int,
    weight_var: float = 1.0,
    bias_var: float = 0.0,
) -> KernelLayers:
    r"""All layers' :math:`\Sigma^{(l)}`, :math:`\dot\Sigma^{(l)}`, :math:`\Theta^{(l)}`,
    :math:`\rho^{(l)}` and normalized :math:`\bar\Theta^{(l)}`, :math:`l = 1..L`, as ``[depth, n1, n2]``
    float64 tensors (same recursion and precision as :func:`relu_ntk`; memory grows with depth)."""
    depth = check_depth(depth)
    w, b = _check_var(weight_var, bias_var)
    x1, x2, sym = _inputs(x1, x2)
    s1 = _point_stats(x1, depth, w, b, "x1")
    s2 = s1 if sym else _point_stats(x2, depth, w, b, "x2")
    xh1 = _unit_rows(x1)
    cos, one_minus = _input_cosines(xh1, xh1 if sym else _unit_rows(x2))
    n1, n2 = x1.shape[0], x2.shape[0]
    shape = (depth, n1, n2)
    sigma = torch.empty(shape, dtype=torch.float64, device=x1.device)
    sigma_dot, theta, rho_all, tbar = (torch.empty_like(sigma) for _ in range(4))

    rho, u = _first_layer(cos, one_minus, s1, s2)
    tb = rho.clone()
    sigma_dot[0] = 0.0
    for layer in range(depth):
        if layer:
            rho, u, tb, hp = _bias_layer(rho, u, tb, s1, s2, layer, w)
            sigma_dot[layer] = (w / 2) * hp
        rho_all[layer] = rho
        tbar[layer] = tb
        sigma[layer] = _rescale(rho, s1.log_q[layer], s2.log_q[layer])
        theta[layer] = _rescale(tb, s1.log_t[layer], s2.log_t[layer])
    return KernelLayers(sigma, sigma_dot, theta, rho_all, tbar)


# --------------------------------------------------------------------------- any activation


def nngp_ntk(
    x1,
    x2=None,
    *,
    depth: int,
    activation="relu",
    weight_var: float = 1.0,
    bias_var: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""NNGP :math:`\Sigma^{(L)}` and NTK :math:`\Theta^{(L)}` for any elementwise activation.

    The plain Jacot recursion (module docstring) with the activation's Gaussian dual
    (:mod:`ntk_lib.activations`): closed forms for ``"relu"`` and ``"erf"``, Gauss–Hermite
    quadrature for ``"tanh"`` or any callable. Raw (not normalized) domain, float64: use
    :func:`relu_ntk` for deep ReLU networks. Returns ``(nngp, ntk)``, each ``[n1, n2]``.
    """
    depth = check_depth(depth)
    w, b = _check_var(weight_var, bias_var)
    act = get_activation(activation)
    x1, x2, sym = _inputs(x1, x2)
    n0 = x1.shape[1]
    sigma = w * (x1 @ x2.T) / n0 + b
    q1 = w * (x1 * x1).sum(1) / n0 + b
    q2 = q1 if sym else w * (x2 * x2).sum(1) / n0 + b
    theta = sigma.clone()
    for _ in range(1, depth):
        v, vdot = act.dual(q1[:, None], q2[None, :], sigma)
        d1, _ = act.dual(q1, q1, q1)
        d2 = d1 if sym else act.dual(q2, q2, q2)[0]
        sigma = w * v + b
        theta = w * vdot * theta + sigma
        q1, q2 = w * d1 + b, w * d2 + b
    if not (torch.isfinite(sigma).all() and torch.isfinite(theta).all()):
        raise ValueError("the kernel overflowed or became undefined; reduce depth or weight_var")
    return sigma, theta
