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

from typing import NamedTuple

import numpy as np
import torch

from ._validate import as_tensor

__all__ = ["layer_drift", "neuron_drift", "DriftStats", "drift_stats", "gram", "gram_change"]


def _pair(h0, ht) -> tuple[torch.Tensor, torch.Tensor]:
    h0 = as_tensor(h0, "h0", ndim=2)
    ht = as_tensor(ht, "ht", ndim=2, device=h0.device)
    if h0.shape != ht.shape:
        raise ValueError(f"h0 and ht must have the same shape [inputs, neurons], got {tuple(h0.shape)} and {tuple(ht.shape)}")
    return h0.to(torch.float64), ht.to(torch.float64)


def layer_drift(h0, ht) -> torch.Tensor:
    r""":math:`\lVert h_t(x) - h_0(x)\rVert_2` for each input (row): ``[m]``."""
    h0, ht = _pair(h0, ht)
    return (ht - h0).norm(dim=1)


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
    l2 = layer_drift(h0, ht).cpu().numpy()
    linf = neuron_drift(h0, ht).cpu().numpy()
    if np.any(linf == 0):
        raise ValueError("some input's features did not move at all (ht == h0 on a row); the ratio is undefined")
    ratio = l2 / linf
    sd = (lambda a: float(a.std(ddof=1)) if a.size > 1 else 0.0)  # noqa: E731
    return DriftStats(float(l2.mean()), sd(l2), float(linf.mean()), sd(linf), float(ratio.mean()), sd(ratio))


def gram(h, *, normalized: bool = False) -> torch.Tensor:
    r"""Feature Gram matrix :math:`G(x, x') = \langle h(x), h(x')\rangle` (``[m, m]``), or :math:`G/n`
    (``normalized=True``), the convention in which :math:`G_0 \to \Sigma^{(L-1)}` as the width :math:`n\to\infty`."""
    h = as_tensor(h, "h", ndim=2).to(torch.float64)
    g = h @ h.T
    return g / h.shape[1] if normalized else g


def gram_change(h0, ht) -> float:
    r"""Relative change of the feature Gram matrix, :math:`\lVert G_t - G_0\rVert_F / \lVert G_0\rVert_F`
    (Proposition 4 of St-Arnaud et al.: :math:`\langle h_t(x), h_t(x')\rangle` varies with :math:`t`)."""
    h0, ht = _pair(h0, ht)
    g0 = gram(h0)
    return float((gram(ht) - g0).norm() / g0.norm())
