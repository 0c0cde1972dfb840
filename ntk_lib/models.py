r"""Finite-width networks whose infinite-width limits are the kernels of :mod:`ntk_lib.layers` and
:mod:`ntk_lib.analytic`.

:class:`MLP` and :class:`NTKECRN` are named :func:`ntk_lib.layers.serial` architectures: each holds its
description as ``architecture`` (a :class:`ntk_lib.layers.Serial`), builds its modules from it (same
parameter draws as ``architecture.build(in_features, seed)``) and gives its infinite-width kernel by
``kernel(x1, x2)``, so the network a chapter trains and the kernel it plots are one definition.

An :class:`MLP` of ``depth`` linear layers computes, with :math:`a^{(0)} = x`,

.. math::

   z^{(l)} = \sqrt{\tfrac{w}{n_{l-1}}}\, W^{(l)} a^{(l-1)} + \sqrt b\, \beta^{(l)}, \qquad
   a^{(l)} = \sigma(z^{(l)}), \qquad f(x) = z^{(L)},

* ``"ntk"`` parameterization (Jacot et al.): :math:`W_{ij}, \beta_i \sim \mathcal N(0, 1)` and the
  scale factors sit in the forward pass, so its empirical NTK tends to ``relu_ntk`` as widths grow;
* ``"standard"``: the same function at initialization, but the factors are folded into the
  initial weights (:math:`W \sim \mathcal N(0, w/n_{l-1})`), so gradients, and the NTK, scale
  differently with width;
* ``"mup"`` (maximal update parameterization, Yang & Hu 2021, written in the NTK form through
  their abc-symmetry): as ``"ntk"`` except that the readout is multiplied by :math:`\sqrt w/n_{L-1}`
  instead of :math:`\sqrt{w/n_{L-1}}`, and the learning rate is multiplied by the width
  (``MLP.lr_multiplier``). The output starts at :math:`O(n^{-1/2})` and every neuron moves by
  :math:`O(1)` during training (feature learning), where in ``"ntk"`` it moves by :math:`O(n^{-1/2})`.

``ResNet18`` (the CIFAR ResNet of ``ntk_lib.resnet``) is re-exported here.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import nn

from . import layers as L
from ._modules import PARAMETERIZATIONS, FourierFeatures, ScaledLinear, check_forward_input
from ._validate import check_count, check_depth, check_nonnegative, check_positive, check_real
from .activations import get_activation
from .resnet import ResNet18

__all__ = ["MLP", "FourierFeatures", "NTKECRN", "ResNet18", "ALPHA_SCHEDULES", "PARAMETERIZATIONS"]

# the name the structured empirical NTK (:mod:`ntk_lib._structured`) looks up for scaled linear layers
_ScaledLinear = ScaledLinear


def _check_sizes(**sizes) -> dict[str, int]:
    """Layer sizes through :func:`ntk_lib._validate.check_int` (positive integers, NumPy integers and 0-d
    integer tensors accepted); returns them as Python ints."""
    return {name: check_count(val, name, minimum=1) for name, val in sizes.items()}


def _resolve_seed(seed) -> int:
    """``seed``, or one drawn from torch's global generator when ``None`` (so that
    :func:`ntk_lib.device.seed_everything` still makes construction reproducible)."""
    if seed is None:
        return int(torch.randint(0, 2**62, ()))
    return check_count(seed, "seed", minimum=0)


def _drop_probs(drop_prob, n_blocks: int) -> list[float]:
    """``drop_prob`` as one probability in [0, 1) per block: a number (Python/NumPy/0-d tensor) or a
    sequence, array or 1-D tensor of ``n_blocks`` of them."""
    if isinstance(drop_prob, (str, bytes)):
        raise TypeError(f"drop_prob must be a number or one number per block, got {drop_prob!r}")
    scalar = isinstance(drop_prob, numbers.Number) or isinstance(drop_prob, np.generic) or (
        torch.is_tensor(drop_prob) and drop_prob.ndim == 0
    )
    if scalar:
        probs = [drop_prob] * n_blocks
    else:
        try:
            probs = list(drop_prob.tolist() if hasattr(drop_prob, "tolist") else drop_prob)
        except TypeError as err:
            raise TypeError(f"drop_prob must be a number or one number per block, got {drop_prob!r}") from err
        if len(probs) != n_blocks:
            raise ValueError(f"drop_prob must be a number or one value per block ({n_blocks}), got {len(probs)}")
    out = []
    for q in probs:
        v = check_real(q, "drop_prob")
        if not 0.0 <= v < 1.0:
            raise ValueError(f"drop_prob values must lie in [0, 1), got {q!r}")
        out.append(v)
    return out


def _linears(module: nn.Module) -> list[ScaledLinear]:
    return [m for m in module.modules() if isinstance(m, ScaledLinear)]


class _KernelMixin:
    def kernel(self, x1, x2=None, **kwargs) -> L.Kernel:
        """The infinite-width NNGP and NTK of this network's architecture (NTK parameterization):
        ``self.architecture.kernel(x1, x2, **kwargs)``, see :meth:`ntk_lib.layers.Layer.kernel`."""
        return self.architecture.kernel(x1, x2, **kwargs)


class MLP(_KernelMixin, nn.Module):
    """Fully-connected network with ``depth`` linear layers (``depth - 1`` hidden layers of ``width``).

    The architecture ``serial(Dense(width, w, b), act, ..., Dense(out_features, w, b))``
    (:mod:`ntk_lib.layers`); ``kernel(x1, x2)`` is its infinite-width limit, which for ReLU equals
    :func:`ntk_lib.analytic.relu_ntk` with ``depth``.

    Args:
        in_features, width, out_features: layer sizes.
        depth: number of linear layers (the analytic convention), ``>= 1``.
        activation: ``"relu"``, ``"erf"``, ``"tanh"`` or a callable.
        parameterization: ``"ntk"``, ``"standard"`` or ``"mup"`` (module docstring).
        weight_var, bias_var: :math:`w > 0`, :math:`b \\ge 0` (no bias parameters when 0).
        seed: seeds a private generator, so construction does not touch the global RNG (``None``: a
            seed drawn from the global RNG).
        dtype: parameter dtype (default float32).
    """

    def __init__(
        self,
        in_features: int,
        width: int,
        depth: int,
        out_features: int = 1,
        *,
        activation="relu",
        parameterization: str = "ntk",
        weight_var: float = 1.0,
        bias_var: float = 0.0,
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        sizes = _check_sizes(in_features=in_features, width=width, out_features=out_features)
        in_features, width, out_features = sizes["in_features"], sizes["width"], sizes["out_features"]
        self.depth = check_depth(depth)
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {parameterization!r}")
        weight_var = check_positive(weight_var, "weight_var")
        bias_var = check_nonnegative(bias_var, "bias_var")
        self.activation = get_activation(activation)
        self.parameterization = parameterization
        hidden_param = "standard" if parameterization == "standard" else "ntk"
        # muP changes the readout only (and only when there is a hidden layer to read)
        readout_param = "mup" if parameterization == "mup" and depth > 1 else hidden_param
        hidden = []
        for _ in range(depth - 1):
            hidden += [L.Dense(width, weight_var, bias_var, hidden_param), L.Activation(self.activation)]
        #: the architecture (:mod:`ntk_lib.layers`) this network is built from
        self.architecture = L.serial(*hidden, L.Dense(out_features, weight_var, bias_var, readout_param))
        built = self.architecture.build(in_features, _resolve_seed(seed), dtype=dtype)
        self.layers = nn.ModuleList(_linears(built))
        #: factor by which a training loop should multiply a width-independent base learning rate
        self.lr_multiplier = built.lr_multiplier

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer :math:`a^{(L-1)}` (the input itself when ``depth == 1``)."""
        first = self.layers[0].weight
        check_forward_input(x, first.shape[1], first.dtype, "the MLP")
        for layer in self.layers[:-1]:
            x = self.activation.fn(layer(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:math:`f(x) = z^{(L)}`: ``[n]`` for one output, ``[n, k]`` for ``k`` outputs."""
        out = self.layers[-1](self.features(x))
        return out.squeeze(-1) if out.shape[-1] == 1 else out


ALPHA_SCHEDULES = ("constant", "1/L", "1/sqrt(L)")


class NTKECRN(_KernelMixin, nn.Module):
    r"""NTK-Eigenvalue-Controlled Residual Network (arXiv:2512.08264), as specified there and, where it
    is silent, with the defaults stated here.

    .. math::

       \varphi(x) = [\sin 2\pi Bx, \cos 2\pi Bx], \quad
       h_0 = \tfrac{1}{\sqrt{2m}} W_{in}\varphi(x), \quad
       h_{l+1} = h_l + m_l\,\alpha_l\,\sigma\!\big(\tfrac{1}{\sqrt n} W_l h_l + b_l\big), \quad
       f(x) = \tfrac{1}{\sqrt n} W_{out} h_L,

    for :math:`l = 0..L-1`, with all weights :math:`\mathcal N(0, 1)` and the :math:`1/\sqrt{\text{fan-in}}`
    factors in the forward pass (NTK parameterization; ``parameterization="standard"`` folds them into the
    initial weights). The paper does not say how :math:`\varphi(x)` (dimension :math:`2m`) reaches the
    width :math:`n` of the tower: here a linear input layer :math:`W_{in}` does.

    * ``alpha`` and ``alpha_schedule`` give the layer scales: :math:`\alpha_l = \alpha` (``"constant"``),
      :math:`\alpha/L` (``"1/L"``) or :math:`\alpha/\sqrt L` (``"1/sqrt(L)"``).
    * ``drop_prob`` :math:`p` (a number, or one per block): in training mode each block is kept with
      probability :math:`1-p_l`, one mask per block and forward pass (stochastic depth, shared by the
      batch); in eval mode the block is multiplied by its expectation :math:`1-p_l`.
    * ``fourier_sigma=None`` removes the embedding (the input goes straight to :math:`W_{in}`), for ablations;
      ``alpha=1, drop_prob=0, fourier_sigma=None`` is a plain residual MLP (the "ResNet-style" baseline).

    The architecture is ``serial(FourierFeatures(m, sigma, seed), Dense(n), Residual(serial(Dense(n,
    bias_var=b), act), alpha_l, p_l) × L, Dense(out_features))`` (:mod:`ntk_lib.layers`), held as
    ``architecture``; ``kernel(x1, x2)`` is its infinite-width NNGP/NTK (eval mode, or
    ``expectation="masks"`` for the average over stochastic-depth masks), by the exact rule for residual
    branches that end in an activation (:mod:`ntk_lib.layers`).
    """

    def __init__(
        self,
        in_features: int,
        width: int,
        n_blocks: int,
        out_features: int = 1,
        *,
        fourier_features: int = 64,
        fourier_sigma: float | None = 1.0,
        alpha: float = 1.0,
        alpha_schedule: str = "constant",
        drop_prob=0.0,
        activation="relu",
        bias_var: float = 0.1,
        parameterization: str = "ntk",
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        sizes = _check_sizes(in_features=in_features, width=width, out_features=out_features, n_blocks=n_blocks)
        in_features, width, out_features, n_blocks = (sizes[k] for k in ("in_features", "width", "out_features", "n_blocks"))
        if parameterization not in ("ntk", "standard"):
            raise ValueError(f"parameterization must be 'ntk' or 'standard', got {parameterization!r}")
        if alpha_schedule not in ALPHA_SCHEDULES:
            raise ValueError(f"alpha_schedule must be one of {ALPHA_SCHEDULES}, got {alpha_schedule!r}")
        alpha = check_positive(alpha, "alpha")
        bias_var = check_nonnegative(bias_var, "bias_var")
        probs = _drop_probs(drop_prob, n_blocks)
        if fourier_sigma is not None:
            # checked here, so that an error names the arguments the caller passed (not the layer's own)
            fourier_features = _check_sizes(fourier_features=fourier_features)["fourier_features"]
            fourier_sigma = check_positive(fourier_sigma, "fourier_sigma")
        self.n_blocks = int(n_blocks)
        self.activation = get_activation(activation)
        scale = {"constant": 1.0, "1/L": 1.0 / n_blocks, "1/sqrt(L)": 1.0 / math.sqrt(n_blocks)}[alpha_schedule]
        self._alphas = [alpha * scale] * n_blocks
        self._keep = [1.0 - float(q) for q in probs]
        seed = _resolve_seed(seed)
        # a private generator for the masks, so that training is reproducible from ``seed`` alone
        self._mask_gen = torch.Generator().manual_seed(seed + 1)
        embed = [] if fourier_sigma is None else [L.FourierFeatures(fourier_features, fourier_sigma, seed=seed)]
        blocks = [
            L.Residual(
                L.serial(L.Dense(width, 1.0, bias_var, parameterization), L.Activation(self.activation)),
                alpha=a,
                drop_prob=float(q),
            )
            for a, q in zip(self._alphas, probs)
        ]
        #: the architecture (:mod:`ntk_lib.layers`) this network is built from
        self.architecture = L.serial(
            *embed,
            L.Dense(width, 1.0, 0.0, parameterization),
            *blocks,
            L.Dense(out_features, 1.0, 0.0, parameterization),
        )
        built = self.architecture.build(in_features, seed, dtype=dtype)
        mods = list(built.layers)
        self.fourier = mods.pop(0) if fourier_sigma is not None else None
        linears = _linears(nn.Sequential(*mods))
        self.input = linears[0]
        self.blocks = nn.ModuleList(linears[1:-1])
        self.readout = linears[-1]

    def masks(self) -> list[float]:
        """The block multipliers :math:`m_l` of one forward pass: Bernoulli draws in training mode, their
        expectations :math:`1 - p_l` in eval mode. (Compute kernels in eval mode: a draw inside
        ``torch.func.vmap`` is an error.)"""
        keep = self._keep
        if not self.training or all(k == 1.0 for k in keep):
            return list(keep)
        draw = torch.rand(self.n_blocks, generator=self._mask_gen, dtype=torch.float64).tolist()
        return [1.0 if d < k else 0.0 for d, k in zip(draw, keep)]

    @property
    def alphas(self) -> list[float]:
        """The layer scales :math:`\\alpha_l`."""
        return list(self._alphas)

    @property
    def keep_probs(self) -> list[float]:
        """:math:`1 - p_l` for each block."""
        return list(self._keep)

    @property
    def is_stochastic(self) -> bool:
        """Whether training mode draws block masks (some :math:`p_l > 0`)."""
        return any(k < 1.0 for k in self._keep)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last residual state :math:`h_L`."""
        first = self.fourier.B if self.fourier is not None else self.input.weight
        check_forward_input(x, first.shape[1], first.dtype, "the NTK-ECRN")
        if self.fourier is not None:
            x = self.fourier(x)
        h = self.input(x)
        for m, a, block in zip(self.masks(), self._alphas, self.blocks):
            if m != 0.0:  # a dropped block costs nothing
                h = h + (m * a) * self.activation.fn(block(h))
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:math:`f(x)`: ``[n]`` for one output, ``[n, k]`` for ``k`` outputs."""
        out = self.readout(self.features(x))
        return out.squeeze(-1) if out.shape[-1] == 1 else out
