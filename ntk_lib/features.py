r"""How far a hidden layer moves during training: the drift metrics of St-Arnaud et al., Table 1.

For a feature map :math:`h_t(x) \in \mathbb R^{n}` (e.g. the last hidden layer at step :math:`t`),
per input :math:`x`:

.. math::

   \text{layer drift } \lVert h_t(x) - h_0(x)\rVert_2, \qquad
   \text{neuron drift } \max_i |h_{t,i}(x) - h_{0,i}(x)|,

and their ratio. If each of :math:`n` neurons moves by about :math:`\delta`, the layer moves by
about :math:`\sqrt n\,\delta` and the ratio is about :math:`\sqrt n` (less when a few neurons move
much more than the rest): per-neuron changes can vanish with width while the layer's does not.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ._validate import as_tensor, check_bool, row_norms, same_shape

__all__ = ["layer_drift", "neuron_drift", "DriftStats", "drift_stats", "gram", "gram_change"]


def _pair(h0, ht) -> tuple[torch.Tensor, torch.Tensor]:
    return same_shape(h0, ht, "h0", "ht", ndim=2)


def layer_drift(h0, ht) -> torch.Tensor:
    r""":math:`\lVert h_t(x) - h_0(x)\rVert_2` for each input (row): ``[m]`` (rows scaled before the
    norm: no overflow or underflow for any finite features)."""
    h0, ht = _pair(h0, ht)
    scale, rest = row_norms(ht - h0)
    return scale * rest


def neuron_drift(h0, ht) -> torch.Tensor:
    r""":math:`\max_i |h_{t,i}(x) - h_{0,i}(x)|` for each input (row): ``[m]``."""
    h0, ht = _pair(h0, ht)
    return (ht - h0).abs().amax(dim=1)


class DriftStats(NamedTuple):
    """Means and standard deviations over inputs of the three rows of Table 1."""

    layer_mean: float
    layer_sd: float
    neuron_mean: float
    neuron_sd: float
    ratio_mean: float
    ratio_sd: float


def drift_stats(h0, ht) -> DriftStats:
    """Table 1's three measures, averaged over inputs (rows); the ratio is taken input by input."""
    h0, ht = _pair(h0, ht)
    diff = ht - h0
    linf, rest = row_norms(diff)  # the largest entry and the norm in its units: ratio without overflow
    if bool((linf == 0).any()):
        raise ValueError("some input's features did not move at all (ht == h0 on a row); the ratio is undefined")
    l2 = (linf * rest).cpu().numpy()
    ratio = rest.cpu().numpy()
    linf = linf.cpu().numpy()
    def sd(a):  # scaled first: the squares of 1e200-sized drifts must not overflow
        top = float(abs(a).max())
        return float((a / top).std(ddof=1)) * top if a.size > 1 and top > 0 else 0.0

    return DriftStats(float(l2.mean()), sd(l2), float(linf.mean()), sd(linf), float(ratio.mean()), sd(ratio))


def gram(h, *, normalized: bool = False) -> torch.Tensor:
    r"""Feature Gram matrix :math:`G(x, x') = \langle h(x), h(x')\rangle` (``[m, m]``), or :math:`G/n`
    (``normalized=True``), the convention in which :math:`G_0 \to \Sigma^{(L-1)}` as the width :math:`n\to\infty`.

    ``h`` is divided by its largest magnitude :math:`s` before the products are formed and the result
    multiplied back by :math:`s^2` (float64), so any finite features whose Gram entries are representable
    give them (``1e150``-sized features with ``normalized=True`` included); features whose Gram matrix
    overflows float64, or whose non-zero rows would get a zero (underflowed) diagonal, raise a
    ``ValueError`` instead of returning inf, NaN or 0."""
    h = as_tensor(h, "h", ndim=2, dtype=torch.float64)
    normalized = check_bool(normalized, "normalized")
    top = float(h.abs().max())
    if top == 0:
        return torch.zeros(h.shape[0], h.shape[0], dtype=h.dtype, device=h.device)
    s = math.ldexp(1.0, math.frexp(top)[1] - 1)  # a power of two: the scaling is exact (same digits as h @ h.T)
    hs = h / s
    g = hs @ hs.T
    if normalized:
        g = g / h.shape[1]
    g = g * s * s  # two factors: s^2 alone may overflow where the entries do not
    if not bool(torch.isfinite(g).all()):
        raise ValueError(
            f"h is too large: its Gram matrix overflows float64 (|h| up to {s:.3g}); rescale h (the relative "
            "Gram change, gram_change, is scale-free)"
        )
    if bool(((g.diagonal() == 0) & (hs.abs().amax(dim=1) > 0)).any()):
        raise ValueError(f"h is too small: the squared norm of a non-zero row underflows float64 (|h| up to {s:.3g}); rescale h")
    return g


def gram_change(h0, ht) -> float:
    r"""Relative change of the feature Gram matrix, :math:`\lVert G_t - G_0\rVert_F / \lVert G_0\rVert_F`
    (Proposition 4 of St-Arnaud et al.: :math:`\langle h_t(x), h_t(x')\rangle` varies with :math:`t`)."""
    h0, ht = _pair(h0, ht)
    s = float(torch.maximum(h0.abs().max(), ht.abs().max()))
    if s == 0:
        raise ValueError("h0 is all zeros: its Gram matrix is 0 and the relative change undefined")
    h0, ht = h0 / s, ht / s  # the ratio is scale-free; scaling keeps the Gram entries in range
    g0 = h0 @ h0.T
    norm0 = float(g0.norm())
    if norm0 == 0:
        raise ValueError("the Gram matrix of h0 is 0 (h0 has no non-zero row): the relative change is undefined")
    return float((ht @ ht.T - g0).norm()) / norm0
