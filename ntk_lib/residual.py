r"""Residual towers with explicit layer scales and stochastic-depth masks, and kernels over masks.

For an :class:`ntk_lib.models.NTKECRN` with blocks :math:`h_{l+1} = h_l + m_l\alpha_l\sigma(W_lh_l/\sqrt n + b_l)`:

* :func:`with_masks` gives the same network (same parameter tensors, shared) with chosen masks
  :math:`m_l` and scales :math:`\alpha_l`, e.g. one configuration :math:`m\in\{0,1\}^L` of stochastic
  depth, or one block's :math:`\alpha_l` changed;
* :func:`mask_configurations` lists the :math:`2^L` configurations with their probabilities
  :math:`P(m) = \prod_l (1-p_l)^{m_l}p_l^{1-m_l}`;
* :func:`mask_expected_ntk` is the expectation over masks of the empirical NTK at fixed parameters,

  .. math::

     \mathbb E_m[\Theta_\theta] = \sum_{m\in\{0,1\}^L} P(m)\,J_m(x)J_m(x')^\top,

  by exact enumeration. It is *not* the kernel of the eval-mode network, which replaces :math:`m_l` by its
  mean :math:`1-p_l` inside the network and is therefore the network with scales :math:`\alpha_l(1-p_l)`;
* :func:`ecrn_kernel` is the infinite-width NNGP and NTK of the model's architecture (its Fourier
  matrix, scales, drop probabilities, bias variance and activation), from :mod:`ntk_lib.layers`;
* :func:`partial_ntk` is the contribution of a subset of parameters (e.g. one block's :math:`W_l, b_l`),
  :math:`\Theta^{(S)} = \sum_{p\in S}\partial_p f\,\partial_p f^\top`; the contributions of a partition of
  the parameters add up to the NTK.
"""

from __future__ import annotations

import itertools
import math
import numbers

import torch
from torch import nn

from . import layers as _layers
from ._modules import check_forward_input, fourier_embedding
from ._validate import as_tensor, check_int
from .empirical import empirical_ntk

__all__ = [
    "with_masks",
    "MaskedResidual",
    "mask_configurations",
    "mask_expected_ntk",
    "partial_ntk",
    "block_parameters",
    "ecrn_architecture",
    "ecrn_kernel",
]

_MAX_ENUM_BLOCKS = 16


class MaskedResidual(nn.Module):
    """A view of an NTK-ECRN with fixed masks :math:`m_l` and scales :math:`\\alpha_l` (see :func:`with_masks`).

    Its parameters *are* the wrapped model's (training it trains the model). Deterministic in both modes.
    """

    def __init__(self, model: nn.Module, masks, alphas):
        super().__init__()
        self._model = (model,)  # a reference, not a submodule
        # the model's layers, not the model itself, are registered: the model draws masks in training
        # mode, its view never does (so empirical_ntk accepts the view in either mode)
        self.fourier = model.fourier
        self.input = model.input
        self.blocks = model.blocks
        self.readout = model.readout
        self.activation = model.activation
        self.masks = [float(m) for m in masks]
        self.alphas = [float(a) for a in alphas]

    @property
    def net(self) -> nn.Module:
        """The wrapped NTK-ECRN."""
        return self._model[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = self.fourier.B if self.fourier is not None else self.input.weight
        check_forward_input(x, first.shape[1], first.dtype, "the NTK-ECRN")
        if self.fourier is not None:
            x = self.fourier(x)
        h = self.input(x)
        for m, a, block in zip(self.masks, self.alphas, self.blocks):
            if m != 0.0:
                h = h + (m * a) * self.activation.fn(block(h))
        out = self.readout(h)
        return out.squeeze(-1) if out.shape[-1] == 1 else out


def _check_model(model):
    needed = ("fourier", "input", "blocks", "readout", "activation", "alphas", "keep_probs")
    if not isinstance(model, nn.Module) or any(not hasattr(model, a) for a in needed):
        raise TypeError(f"model must be an ntk_lib.models.NTKECRN, got {type(model).__name__}")


def _per_block(values, n_blocks, name, *, low=None):
    raw = values.tolist() if hasattr(values, "tolist") else values
    if isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__"):
        raise TypeError(f"{name} must be a sequence with one value per block, got {values!r}")
    vals = list(raw)
    if n_blocks is not None and len(vals) != n_blocks:
        raise ValueError(f"{name} must have one value per block ({n_blocks}), got {len(vals)}")
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
            raise ValueError(f"{name} values must be finite real numbers, got {v!r}")
        if low is not None and float(v) < low:
            raise ValueError(f"{name} values must be >= {low}, got {v!r}")
    return [float(v) for v in vals]


def with_masks(model: nn.Module, masks=None, alphas=None) -> MaskedResidual:
    r"""The network ``model`` (an :class:`ntk_lib.models.NTKECRN`) with masks :math:`m_l` (default: every
    block kept, :math:`m_l = 1`) and layer scales :math:`\alpha_l` (default: the model's), sharing its
    parameters. ``with_masks(net, masks=net.keep_probs)`` computes what ``net`` computes in eval mode."""
    _check_model(model)
    L = len(model.blocks)
    masks = [1.0] * L if masks is None else _per_block(masks, L, "masks", low=0.0)
    alphas = model.alphas if alphas is None else _per_block(alphas, L, "alphas", low=0.0)
    return MaskedResidual(model, masks, alphas)


def mask_configurations(keep_probs) -> list[tuple[tuple[int, ...], float]]:
    r"""All :math:`m\in\{0,1\}^L` with :math:`P(m) = \prod_l q_l^{m_l}(1-q_l)^{1-m_l}`, :math:`q_l` the keep
    probabilities; configurations of probability zero are left out. The probabilities sum to 1."""
    q = _per_block(keep_probs, None, "keep_probs", low=0.0)
    if not q:
        raise ValueError("keep_probs must hold at least one block")
    if any(v > 1.0 for v in q):
        raise ValueError(f"keep_probs must lie in [0, 1], got {q}")
    if len(q) > _MAX_ENUM_BLOCKS:
        raise ValueError(f"exact enumeration of 2^L masks is limited to L <= {_MAX_ENUM_BLOCKS} blocks, got {len(q)}")
    out = []
    for m in itertools.product((0, 1), repeat=len(q)):
        prob = math.prod(v if b else 1.0 - v for b, v in zip(m, q))
        if prob > 0.0:
            out.append((m, prob))
    return out


def mask_expected_ntk(model: nn.Module, x1, x2=None, *, keep_probs=None, alphas=None, batch_size=None) -> torch.Tensor:
    r""":math:`\mathbb E_m[\Theta]` at the model's current parameters, over the :math:`2^L` stochastic-depth
    masks (keep probabilities ``keep_probs``, default the model's :math:`1-p_l`), by exact enumeration.

    Shapes as :func:`ntk_lib.empirical.empirical_ntk`; computed in float64 accumulation."""
    _check_model(model)
    n_blocks = len(model.blocks)
    q = model.keep_probs if keep_probs is None else _per_block(keep_probs, n_blocks, "keep_probs", low=0.0)
    if alphas is not None:
        alphas = _per_block(alphas, n_blocks, "alphas", low=0.0)
    total = None
    for m, prob in mask_configurations(q):
        k = empirical_ntk(with_masks(model, m, alphas), x1, x2, batch_size=batch_size).double() * prob
        total = k if total is None else total + k
    return total


def block_parameters(model: nn.Module, block: int) -> list[nn.Parameter]:
    """The parameters (:math:`W_l`, :math:`b_l`) of residual block ``block`` (0-based) of an NTK-ECRN."""
    _check_model(model)
    block = check_int(block, "block", minimum=0)
    if block >= len(model.blocks):
        raise ValueError(f"block must be an integer in [0, {len(model.blocks) - 1}], got {block!r}")
    return list(model.blocks[block].parameters())


def partial_ntk(model: nn.Module, x1, x2=None, *, params, batch_size=None) -> torch.Tensor:
    r"""The contribution :math:`\Theta^{(S)}` of the parameters ``params`` (a subset of
    ``model.parameters()``) to the empirical NTK: gradients with respect to the others are left out.
    The model's ``requires_grad`` flags are restored afterwards."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    chosen = {id(p) for p in params}
    if not chosen:
        raise ValueError("params must hold at least one parameter")
    all_params = list(model.parameters())
    if not chosen <= {id(p) for p in all_params}:
        raise ValueError("params must be parameters of model")
    flags = [p.requires_grad for p in all_params]
    try:
        for p in all_params:
            p.requires_grad_(id(p) in chosen)
        return empirical_ntk(model, x1, x2, batch_size=batch_size)
    finally:
        for p, f in zip(all_params, flags):
            p.requires_grad_(f)


def ecrn_architecture(model: nn.Module, alphas=None) -> _layers.Serial:
    r"""The :mod:`ntk_lib.layers` architecture of an NTK-ECRN ``model`` *after* its Fourier embedding:
    ``serial(Dense(n, 1, 0), Residual(serial(Dense(n, 1, b), Activation(sigma)), alpha_l, p_l) x L,
    Dense(k, 1, 0))``, with the model's :math:`b`, :math:`\sigma`, :math:`p_l` and scales :math:`\alpha_l`
    (or ``alphas``). Its input is :math:`\varphi(x)` (``model.fourier(x)``, or :math:`x` without Fourier
    features): the first Dense then gives :math:`\Sigma^{(0)} = \varphi(x)^\top\varphi(x')/2m`, the
    model's :math:`h_0 = W_{in}\varphi(x)/\sqrt{2m}`. NTK parameterization only."""
    _check_model(model)
    L = len(model.blocks)
    alphas = model.alphas if alphas is None else _per_block(alphas, L, "alphas", low=0.0)
    width = model.input.weight.shape[0]
    if model.input.mult_w == 1.0 and model.input.weight.shape[1] > 1:
        raise ValueError("ecrn_architecture needs a model in the NTK parameterization (parameterization='ntk')")
    blocks = []
    for a, q, blk in zip(alphas, model.keep_probs, model.blocks):
        bias_var = 0.0 if blk.bias is None else blk.mult_b**2
        branch = _layers.serial(_layers.Dense(width, 1.0, bias_var), _layers.Activation(model.activation))
        blocks.append(_layers.Residual(branch, alpha=a, drop_prob=1.0 - q))
    out = model.readout.weight.shape[0]
    return _layers.serial(_layers.Dense(width, 1.0, 0.0), *blocks, _layers.Dense(out, 1.0, 0.0))


def ecrn_kernel(model: nn.Module, x1, x2=None, *, alphas=None, expectation: str | None = None) -> _layers.Kernel:
    r"""Infinite-width NNGP and NTK (float64, :class:`ntk_lib.layers.Kernel`) of the architecture of the
    NTK-ECRN ``model``, with the model's own Fourier matrix :math:`B` (:func:`ecrn_architecture`). For
    blocks :math:`h_{l+1} = h_l + a_l\sigma(u_l)` it runs :math:`T_{l+1} = T_l + a_l^2\dot V(\Sigma_l)\Theta_{u,l}`
    (the :mod:`ntk_lib.layers` residual rule); :math:`a_l = \alpha_l(1-p_l)` for ``expectation=None``
    (the eval-mode network), the exact average over the :math:`2^L` mask patterns for
    ``expectation="masks"``."""
    arch = ecrn_architecture(model, alphas)

    def embed(x):
        if x is None:
            return None
        if model.fourier is None:
            return x.double()
        return fourier_embedding(x.double(), model.fourier.B.to(device=x.device, dtype=torch.float64))

    x1 = as_tensor(x1, "x1", ndim=2, dtype=torch.float64)
    d = model.fourier.B.shape[1] if model.fourier is not None else model.input.weight.shape[1]
    if x1.shape[1] != d:
        raise ValueError(f"x1 has {x1.shape[1]} features but the model takes {d}")
    if x2 is not None:
        x2 = as_tensor(x2, "x2", ndim=2, dtype=torch.float64, device=x1.device)
        if x2.shape[1] != d:
            raise ValueError(f"x2 has {x2.shape[1]} features but the model takes {d}")
    return arch.kernel(embed(x1), embed(x2), expectation=expectation)
