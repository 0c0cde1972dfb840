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

from ._validate import (
    as_tensor,
    check_bool,
    check_depth,
    check_int,
    check_nonnegative,
    check_positive,
    compute_dtype,
    row_norms,
    to_float64,
    unit_rows,
)
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
#: pairs per block of the blocked ReLU recursion on the CPU: about ten float64 work arrays of this
#: size (~10 MiB in all) live at once, on top of the output, and stay in cache. On a GPU the block
#: is sized from :func:`ntk_lib.device.memory_budget_bytes` instead.
DEFAULT_BLOCK_ELEMS = 1 << 17
_WORK_ARRAYS = 12  # float64 arrays of one block alive at once (state, scratch, cosines)


# --------------------------------------------------------------------------- h and h'


def _check_unit_interval(z, name: str) -> torch.Tensor:
    z = as_tensor(z, name, allow_empty=True)
    z = z.to(compute_dtype(z.dtype))
    tol = 8 * torch.finfo(z.dtype).eps
    if z.numel() and (float(z.min()) < -1 - tol or float(z.max()) > 1 + tol):
        raise ValueError(f"{name} must lie in [-1, 1], got values in [{float(z.min())}, {float(z.max())}]")
    return z.clamp(-1.0, 1.0)


def h(z) -> torch.Tensor:
    r"""Definition 5 of St-Arnaud et al.: :math:`h(z) = \frac{z\arcsin z}{\pi} + \frac{\sqrt{1-z^2}}{\pi} + \frac z2`.

    For ReLU on the sphere, :math:`\rho^{(l+1)} = h(\rho^{(l)})`; :math:`h` is increasing on
    :math:`[-1,1]` with :math:`h(-1)=0`, :math:`h(1)=1` and :math:`h(z)\ge z`. Lists, arrays and
    integer inputs give float64; float16/bfloat16 tensors are computed and returned in float32.
    """
    z = _check_unit_interval(z, "z")
    return z * torch.asin(z) / _PI + torch.sqrt((1 - z) * (1 + z)) / _PI + z / 2


def h_prime(z) -> torch.Tensor:
    r""":math:`h'(z) = \frac12 + \frac{\arcsin z}{\pi}`; for ReLU :math:`\dot\Sigma^{(l+1)} = \frac w2 h'(\rho^{(l)})`.
    Input dtypes as in :func:`h`."""
    z = _check_unit_interval(z, "z")
    return 0.5 + torch.asin(z) / _PI


def _series(t: torch.Tensor) -> torch.Tensor:
    # sin t - t cos t = sum_k (-1)^(k+1) 2k t^(2k+1) / (2k+1)!, to t^11 (exact to rounding for t < 0.1)
    t2 = t * t
    return t * t2 * (1 / 3 + t2 * (-1 / 30 + t2 * (1 / 840 + t2 * (-1 / 45360 + t2 / 3991680))))


def _series_fix(half: torch.Tensor, s: torch.Tensor, diag_cols: int = 0) -> None:
    """Overwrite s = sin(t) - t cos(t) by its Taylor series where t = 2 * half is small (in place).

    On a GPU (or for small tensors) a dense ``where``: no host synchronization inside the layer
    loop. On the CPU, where reading a value costs nothing, the series is evaluated only where some
    angle is small: in a symmetric block the first ``diag_cols`` columns (the square holding the
    diagonal, whose angles are 0) are patched densely, the rest only when its smallest angle asks for it.
    """
    cut = _SERIES_CUT / 2
    if half.device.type != "cpu" or half.numel() <= 1 << 14:
        torch.where(half < cut, _series(2 * half), s, out=s)
        return
    if diag_cols:
        hd, sd = half[:, :diag_cols], s[:, :diag_cols]
        sd.copy_(torch.where(hd < cut, _series(2 * hd), sd))
        half, s = half[:, diag_cols:], s[:, diag_cols:]
        if half.numel() == 0:
            return
    if float(half.amin()) >= cut:
        return
    small = half < cut
    if int(small.sum()) * 8 > half.numel():
        s.copy_(torch.where(small, _series(2 * half), s))
    else:
        s[small] = _series(2 * half[small])


class _Work:
    """Scratch arrays of one block, allocated once and reused by every layer."""

    def __init__(self, like: torch.Tensor, diag_cols: int = 0):
        self.diag_cols = diag_cols  # symmetric block: leading columns holding the diagonal
        self.half = torch.empty_like(like)
        self.sin = torch.empty_like(like)
        self.s = torch.empty_like(like)


def _relu_map_(rho: torch.Tensor, u: torch.Tensor, work: _Work) -> None:
    r"""One ReLU layer in place: (rho, u = 1 - rho) -> (h(rho), 1 - h(rho)); ``work.half`` keeps
    the half angle :math:`\theta/2 = \arcsin\sqrt{u/2}`, so :math:`h'(\rho) = 1 - \theta/\pi`.

    With :math:`s = \sin\theta - \theta\cos\theta`: :math:`h = \rho + s/\pi` and
    :math:`1 - h = u - s/\pi`, both free of cancellation when :math:`\rho\to1` (series for small s).
    Three transcendental calls per pair (two square roots, one arcsine), everything else fused
    into in-place multiply-adds on preallocated buffers.
    """
    half, sin, s = work.half, work.sin, work.s
    torch.mul(u, 0.5, out=half).sqrt_().asin_()
    torch.sub(2.0, u, out=sin).mul_(u).sqrt_()
    torch.addcmul(sin, half, rho, value=-2.0, out=s)
    _series_fix(half, s, work.diag_cols)
    rho.add_(s, alpha=1 / _PI)
    u.sub_(s, alpha=1 / _PI)


def _theta_bar_decay_(tb: torch.Tensor, half: torch.Tensor, k1) -> None:
    r"""First half of the normalized NTK update, in place: :math:`\bar\Theta \leftarrow k_1 (1-\theta/\pi)\bar\Theta`
    (``half`` holds :math:`\theta/2`). ``k1`` is a scalar (unit sphere, no bias: :math:`L/(L+1)`, Prop. 5)
    or a ``(column, row)`` pair of per-point factors."""
    tb.addcmul_(tb, half, value=-2 / _PI)
    if isinstance(k1, tuple):
        tb.mul_(k1[0]).mul_(k1[1])
    else:
        tb.mul_(k1)


def _theta_bar_add_(tb: torch.Tensor, rho: torch.Tensor, k2, scratch: torch.Tensor) -> None:
    r"""Second half, in place: :math:`\bar\Theta \leftarrow \bar\Theta + k_2\,\rho^{(L+1)}`, so that altogether
    :math:`\bar\Theta^{(L+1)} = k_1 h'(\rho^{(L)})\bar\Theta^{(L)} + k_2\rho^{(L+1)}` (:math:`k_2 = 1/(L+1)`
    in Prop. 5)."""
    if isinstance(k2, tuple):
        tb.addcmul_(rho, torch.mul(k2[0], k2[1], out=scratch))
    else:
        tb.add_(rho, alpha=k2)


def _relu_step(rho: torch.Tensor, u: torch.Tensor):
    """Out-of-place :func:`_relu_map_`: returns (h(rho), 1 - h(rho), h'(rho))."""
    rho, u = rho.clone(), u.clone()
    work = _Work(rho)
    _relu_map_(rho, u, work)
    return rho, u, 1 - work.half * (2 / _PI)


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
    rho = to_float64(_check_unit_interval(rho1, "rho1")).clone()
    u = (1 - rho).clamp(0.0, 2.0)
    tb = rho.clone()
    out = torch.empty((depth, *rho.shape), dtype=torch.float64, device=rho.device)
    out[0] = tb
    work = _Work(rho)
    for layer in range(1, depth):
        _relu_map_(rho, u, work)
        _theta_bar_decay_(tb, work.half, layer / (layer + 1))
        _theta_bar_add_(tb, rho, 1 / (layer + 1), work.s)
        out[layer] = tb
    return out


# --------------------------------------------------------------------------- inputs


def _inputs(x1, x2):
    x1 = to_float64(as_tensor(x1, "x1", ndim=2))
    sym = x2 is None
    if sym:
        x2 = x1
    else:
        x2 = as_tensor(x2, "x2", ndim=2)
        if x2.shape[1] != x1.shape[1]:
            raise ValueError(f"x2 has {x2.shape[1]} features but x1 has {x1.shape[1]}: feature dimensions must match")
        x2 = to_float64(x2)
        if x2.device != x1.device:
            raise ValueError(f"x1 is on {x1.device} but x2 is on {x2.device}")
    return x1, x2, sym


def _check_var(weight_var, bias_var):
    return check_positive(weight_var, "weight_var"), check_nonnegative(bias_var, "bias_var")


class _PointStats(NamedTuple):
    """Per-point, per-layer quantities of the ReLU recursion, each [depth, n] (float64)."""

    alpha: torch.Tensor  # sqrt((w/2) q^{l-1} / q^l): weight share of the new covariance
    beta: torch.Tensor  # sqrt(b / q^l): bias share (alpha^2 + beta^2 = 1)
    c1: torch.Tensor  # sqrt(T^{l-1} / T^l)
    c2: torch.Tensor  # sqrt(q^l / T^l)
    log_q: torch.Tensor  # log Sigma^{(l)}(x, x)
    log_t: torch.Tensor  # log Theta^{(l)}(x, x)


def _log_sq_norms(x: torch.Tensor, name: str, b: float) -> torch.Tensor:
    """log |x_i|^2 without overflow or underflow (rows scaled first); -inf for an all-zero row."""
    scale, rest = row_norms(x)
    if b == 0 and bool((scale == 0).any()):
        row = int(torch.argmin(scale))
        raise ValueError(
            f"{name} has an all-zero row (row {row}); with bias_var=0 its kernel is identically 0 "
            "and its correlations undefined: drop it or use bias_var > 0"
        )
    return 2 * (torch.log(scale) + torch.log(rest))


def _point_stats(x: torch.Tensor, depth: int, w: float, b: float, name: str) -> _PointStats:
    n0 = x.shape[1]
    log_b = math.log(b) if b > 0 else -math.inf
    log_half_w = math.log(w / 2)
    log_a = math.log(w / n0) + _log_sq_norms(x, name, b)
    n = x.shape[0]
    if b == 0:
        # closed forms: q^l = q^1 (w/2)^(l-1), T^l = l q^l, so every ratio is a scalar per layer
        layers = torch.arange(depth, dtype=torch.float64, device=x.device)[:, None]
        log_q = log_a[None, :] + layers * log_half_w
        log_t = log_q + torch.log1p(layers)
        ones = torch.ones_like(log_q)
        c1 = torch.sqrt(layers / (layers + 1)) / math.sqrt(w / 2) * ones
        c2 = torch.sqrt(1 / (layers + 1)) * ones
        zeros = torch.zeros_like(ones)
        return _PointStats(ones, zeros, c1, c2, log_q, log_t)
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
    r"""cos and 1 - cos of the angle between unit rows, accurate for nearly colinear pairs.

    One index lookup per block (not per layer): the few nearly colinear pairs get their angle
    from :math:`2\,\mathrm{atan2}(\lVert a-c\rVert, \lVert a+c\rVert)`.
    """
    cos = (xh1 @ xh2.T).clamp_(-1.0, 1.0)
    one_minus = torch.sub(1.0, cos)
    near = torch.nonzero(one_minus < _COLINEAR_CUT, as_tuple=True)
    if near[0].numel():
        a, c = xh1[near[0]], xh2[near[1]]
        theta = 2 * torch.atan2(torch.linalg.vector_norm(a - c, dim=1), torch.linalg.vector_norm(a + c, dim=1))
        s = torch.sin(theta / 2)
        one_minus[near] = 2 * s * s
        cos[near] = 1 - one_minus[near]
    return cos, one_minus


_unit_rows = unit_rows


def _affine_(rho, u, work: _Work, s1: _PointStats, s2: _PointStats, layer: int) -> None:
    r"""The bias step in the normalized domain, in place: :math:`\rho \leftarrow \alpha\alpha'\rho + \beta\beta'`,
    :math:`u \leftarrow \alpha\alpha' u + \tfrac12[(\alpha-\alpha')^2 + (\beta-\beta')^2]`
    (:math:`= 1-\alpha\alpha'-\beta\beta'` as :math:`\alpha^2+\beta^2=1`: no cancellation for similar points)."""
    a1, a2 = s1.alpha[layer][:, None], s2.alpha[layer][None, :]
    b1, b2 = s1.beta[layer][:, None], s2.beta[layer][None, :]
    aa, diff = work.half, work.sin  # both free between layers
    torch.mul(a1, a2, out=aa)
    rho.mul_(aa).addcmul_(b1, b2)
    u.mul_(aa)
    torch.sub(a1, a2, out=diff)
    u.addcmul_(diff, diff, value=0.5)
    torch.sub(b1, b2, out=diff)
    u.addcmul_(diff, diff, value=0.5)


def _block_recursion(cos, one_minus, s1: _PointStats, s2: _PointStats, w: float, b: float, want: str, diag_cols=0):
    r"""Run the ReLU recursion over all layers on one block of pairs, in place on the block's
    buffers (no allocation inside the layer loop); return the wanted kernel.

    State per pair: :math:`\rho`, :math:`u = 1-\rho` and :math:`\bar\Theta`. Per layer: the ReLU map
    (:func:`_relu_map_`), the bias step (:func:`_affine_`, skipped when ``b = 0``) and the
    :math:`\bar\Theta` update (:func:`_theta_bar_decay_`, :func:`_theta_bar_add_`).
    """
    depth = s1.alpha.shape[0]
    rho, u = cos, one_minus.clamp_(0.0, 2.0)  # later layers keep 0 <= u <= 1 by construction
    work = _Work(rho, diag_cols)
    if b > 0:
        _affine_(rho, u, work, s1, s2, 0)
    tb = rho.clone() if want != "nngp" else None
    for layer in range(1, depth):
        _relu_map_(rho, u, work)
        if tb is not None:
            if b > 0:
                k1 = ((s1.c1[layer] * (w / 2))[:, None], s2.c1[layer][None, :])
                k2 = (s1.c2[layer][:, None], s2.c2[layer][None, :])
            else:
                k1, k2 = layer / (layer + 1), 1 / (layer + 1)
            _theta_bar_decay_(tb, work.half, k1)
        if b > 0:
            _affine_(rho, u, work, s1, s2, layer)
        if tb is not None:
            _theta_bar_add_(tb, rho, k2, work.s)
    out = rho if want == "nngp" else tb
    if want == "normalized":
        return out
    if want == "ntk":
        return _rescale_(out, s1.log_t[-1], s2.log_t[-1])
    return _rescale_(out, s1.log_q[-1], s2.log_q[-1])


def _rescale_(v: torch.Tensor, log1: torch.Tensor, log2: torch.Tensor) -> torch.Tensor:
    """v * sqrt(d1 d2^T) from per-point log-diagonals, in place: back from the normalized domain."""
    return v.mul_(torch.exp(log1 / 2)[:, None]).mul_(torch.exp(log2 / 2)[None, :])


def _check_range(logs: list[torch.Tensor], dtype: torch.dtype, what: str, depth: int) -> None:
    """The raw kernel's diagonal must be a normal number of ``dtype``; otherwise say what to do."""
    info = torch.finfo(dtype)
    lo = min(float(v.min()) for v in logs)
    hi = max(float(v.max()) for v in logs)
    if lo < math.log(info.tiny):
        raise ValueError(
            f"the raw {what} at depth={depth} underflows {dtype} (its diagonal reaches e^{lo:.4g}, below "
            f"{info.tiny:.3g}); use normalized=True, which is exact at any depth (the raw kernel is the "
            "normalized one times sqrt(K(x,x) K(x',x')))"
        )
    if hi > math.log(info.max):
        raise ValueError(
            f"the raw {what} at depth={depth} overflows {dtype} (its diagonal reaches e^{hi:.4g}); use "
            "normalized=True, a smaller weight_var or smaller inputs, or a wider dtype"
        )


def _block_rows(n1: int, n2: int, block_elems, device: torch.device) -> int:
    if block_elems is None:
        if device.type == "cpu":
            block_elems = DEFAULT_BLOCK_ELEMS
        else:
            from .device import memory_budget_bytes

            block_elems = max(DEFAULT_BLOCK_ELEMS, memory_budget_bytes(device) // (8 * _WORK_ARRAYS))
    else:
        block_elems = check_int(block_elems, "block_elems")
        if block_elems < 1:
            raise ValueError(f"block_elems must be a positive integer, got {block_elems!r}")
    return max(1, min(n1, block_elems // max(n2, 1)))


def _out_dtype(dtype) -> torch.dtype:
    out_dtype = torch.float64 if dtype is None else dtype
    if not (isinstance(out_dtype, torch.dtype) and out_dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    return out_dtype


def _relu_kernel(x1, x2, *, depth, weight_var, bias_var, want, dtype, block_elems):
    depth = check_depth(depth)
    w, b = _check_var(weight_var, bias_var)
    out_dtype = _out_dtype(dtype)
    x1, x2, sym = _inputs(x1, x2)
    n1, n2 = x1.shape[0], x2.shape[0]
    rows = _block_rows(n1, n2, block_elems, x1.device)
    s1 = _point_stats(x1, depth, w, b, "x1")
    s2 = s1 if sym else _point_stats(x2, depth, w, b, "x2")
    if want != "normalized":
        key = "log_t" if want == "ntk" else "log_q"
        what = "NTK" if want == "ntk" else "NNGP kernel"
        _check_range([getattr(s1, key)[-1], getattr(s2, key)[-1]], out_dtype, what, depth)
    xh1 = _unit_rows(x1)
    xh2 = xh1 if sym else _unit_rows(x2)
    out = torch.empty(n1, n2, dtype=out_dtype, device=x1.device)
    for r0 in range(0, n1, rows):
        r1 = min(n1, r0 + rows)
        c0 = r0 if sym else 0  # symmetric: upper triangle only, mirrored below
        cos, one_minus = _input_cosines(xh1[r0:r1], xh2[c0:])
        blk = _block_recursion(
            cos, one_minus, _slice_stats(s1, r0, r1), _slice_stats(s2, c0, n2), w, b, want, r1 - r0 if sym else 0
        )
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
    block_elems: int | None = None,
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
        block_elems: pairs per block; extra memory is about ``100 * block_elems`` bytes. Default:
            ``DEFAULT_BLOCK_ELEMS`` on the CPU (cache-sized), on a GPU a quarter of the free
            memory (:func:`ntk_lib.device.memory_budget_bytes`).

    Raises:
        ValueError: when the raw kernel (``normalized=False``) would underflow or overflow the output
            dtype, as at depth in the thousands, where :math:`\Theta \sim 2^{-L}`: the error points to
            ``normalized=True``, which is exact at any depth. Inputs of any magnitude (``1e-200`` to
            ``1e200``) are scaled before their norms are taken.

    Returns:
        ``[n1, n2]`` tensor on ``x1``'s device.
    """
    want = "normalized" if check_bool(normalized, "normalized") else "ntk"
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
    block_elems: int | None = None,
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
    float64 tensors (same recursion and precision as :func:`relu_ntk`; memory grows with depth).

    Raises ``ValueError`` when a raw layer kernel would underflow or overflow float64 (depth in the
    thousands): use :func:`relu_ntk` with ``normalized=True`` or :func:`theta_bar_recurrence` there."""
    depth = check_depth(depth)
    w, b = _check_var(weight_var, bias_var)
    x1, x2, sym = _inputs(x1, x2)
    s1 = _point_stats(x1, depth, w, b, "x1")
    s2 = s1 if sym else _point_stats(x2, depth, w, b, "x2")
    _check_range([s1.log_q, s2.log_q, s1.log_t, s2.log_t], torch.float64, "kernel", depth)
    xh1 = _unit_rows(x1)
    rho, u = _input_cosines(xh1, xh1 if sym else _unit_rows(x2))
    n1, n2 = x1.shape[0], x2.shape[0]
    shape = (depth, n1, n2)
    sigma = torch.empty(shape, dtype=torch.float64, device=x1.device)
    sigma_dot, theta, rho_all, tbar = (torch.empty_like(sigma) for _ in range(4))
    work = _Work(rho)
    _affine_(rho, u, work, s1, s2, 0)
    tb = rho.clone()
    sigma_dot[0] = 0.0
    for layer in range(depth):
        if layer:
            _relu_map_(rho, u, work)
            torch.sub(1.0, work.half, alpha=2 / _PI, out=sigma_dot[layer]).mul_(w / 2)
            _theta_bar_decay_(tb, work.half, ((s1.c1[layer] * (w / 2))[:, None], s2.c1[layer][None, :]))
            _affine_(rho, u, work, s1, s2, layer)
            _theta_bar_add_(tb, rho, (s1.c2[layer][:, None], s2.c2[layer][None, :]), work.s)
        rho_all[layer] = rho
        tbar[layer] = tb
        _rescale_(sigma[layer].copy_(rho), s1.log_q[layer], s2.log_q[layer])
        _rescale_(theta[layer].copy_(tb), s1.log_t[layer], s2.log_t[layer])
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
    (:mod:`ntk_lib.activations`): closed forms for ``"relu"`` and ``"erf"``, adaptive
    quadrature for ``"tanh"`` or any callable. Raw (not normalized) domain, float64: use
    :func:`relu_ntk` for deep ReLU networks. Returns ``(nngp, ntk)``, each ``[n1, n2]``.
    """
    depth = check_depth(depth)
    w, b = _check_var(weight_var, bias_var)
    act = get_activation(activation)
    x1, x2, sym = _inputs(x1, x2)
    n0 = x1.shape[1]
    info = torch.finfo(torch.float64)
    for name, x in (("x1", x1), ("x2", x2)):
        log_a = math.log(w / n0) + _log_sq_norms(x, name, 1.0)
        if float(log_a.max()) > math.log(info.max) - 1:
            raise ValueError(f"{name} is too large: w |x|^2 / n0 overflows float64 (rescale the inputs)")
        if b == 0 and float(log_a.min()) < math.log(info.tiny):
            raise ValueError(
                f"{name} has a row whose first-layer variance w |x|^2 / n0 is zero or underflows float64; "
                "drop it, rescale the inputs or use bias_var > 0"
            )
    sigma = w * (x1 @ x2.T) / n0 + b
    q1 = w * (x1 * x1).sum(1) / n0 + b
    q2 = q1 if sym else w * (x2 * x2).sum(1) / n0 + b
    if sym:
        # x1 @ x1.T and the row sums may round differently: a diagonal correlation of 1 - 2^-52 costs
        # ReLU's derivative map sqrt(2^-52) ~ 1e-8 relative, so the diagonal is the exact variance
        sigma.diagonal().copy_(q1)
    theta = sigma.clone()
    for _ in range(1, depth):
        v, vdot = act.dual(q1[:, None], q2[None, :], sigma)
        d1, _ = act.dual(q1, q1, q1)
        d2 = d1 if sym else act.dual(q2, q2, q2)[0]
        sigma = w * v + b
        theta = w * vdot * theta + sigma
        q1, q2 = w * d1 + b, w * d2 + b
        if sym:
            sigma.diagonal().copy_(q1)
    if not (torch.isfinite(sigma).all() and torch.isfinite(theta).all()):
        raise ValueError("the kernel overflowed or became undefined; reduce depth or weight_var")
    if float(torch.minimum(q1.min(), q2.min())) < info.tiny:
        raise ValueError(
            f"the raw kernel at depth={depth} underflows float64 (a diagonal entry fell below {info.tiny:.3g}); "
            "for ReLU use relu_ntk(..., normalized=True), exact at any depth"
        )
    return sigma, theta
