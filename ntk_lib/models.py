r"""Finite-width networks whose infinite-width limits are the kernels of :mod:`ntk_lib.analytic`.

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
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from ._validate import check_depth, check_int, check_nonnegative, check_positive
from .activations import get_activation

__all__ = ["MLP", "FourierFeatures", "NTKECRN", "ALPHA_SCHEDULES", "PARAMETERIZATIONS"]

PARAMETERIZATIONS = ("ntk", "standard", "mup")


class _ScaledLinear(nn.Module):
    def __init__(self, n_in, n_out, *, weight_var, bias_var, parameterization, generator, dtype):
        super().__init__()
        w_scale = math.sqrt(weight_var / n_in)
        b_scale = math.sqrt(bias_var)
        nt_form = parameterization != "standard"  # "ntk" and "mup": N(0, 1) weights, scale in the forward pass
        std_w = 1.0 if nt_form else w_scale
        std_b = 1.0 if nt_form else b_scale
        self.weight = nn.Parameter(torch.randn(n_out, n_in, generator=generator, dtype=dtype) * std_w)
        self.bias = nn.Parameter(torch.randn(n_out, generator=generator, dtype=dtype) * std_b) if bias_var > 0 else None
        self.mult_w = w_scale if nt_form else 1.0
        self.mult_b = b_scale if nt_form else 1.0

    def forward(self, x):
        out = (x @ self.weight.T) * self.mult_w
        if self.bias is not None:
            out = out + self.bias * self.mult_b
        return out


class MLP(nn.Module):
    """Fully-connected network with ``depth`` linear layers (``depth - 1`` hidden layers of ``width``).

    Args:
        in_features, width, out_features: layer sizes.
        depth: number of linear layers (the analytic convention), ``>= 1``.
        activation: ``"relu"``, ``"erf"``, ``"tanh"`` or a callable.
        parameterization: ``"ntk"``, ``"standard"`` or ``"mup"`` (module docstring).
        weight_var, bias_var: :math:`w > 0`, :math:`b \\ge 0` (no bias parameters when 0).
        seed: seeds a private generator, so construction does not touch the global RNG.
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
        for name, val in (("in_features", in_features), ("width", width), ("out_features", out_features)):
            if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < 1:
                raise ValueError(f"{name} must be a positive integer, got {val!r}")
        self.depth = check_depth(depth)
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {parameterization!r}")
        weight_var = check_positive(weight_var, "weight_var")
        bias_var = check_nonnegative(bias_var, "bias_var")
        self.activation = get_activation(activation)
        self.parameterization = parameterization
        gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0)) if seed is not None else None
        sizes = [in_features] + [width] * (depth - 1) + [out_features]
        self.layers = nn.ModuleList(
            _ScaledLinear(
                a,
                b,
                weight_var=weight_var,
                bias_var=bias_var,
                parameterization=parameterization,
                generator=gen,
                dtype=dtype,
            )
            for a, b in zip(sizes[:-1], sizes[1:])
        )
        #: factor by which a training loop should multiply a width-independent base learning rate
        self.lr_multiplier = 1.0
        if parameterization == "mup" and depth > 1:
            self.layers[-1].mult_w = math.sqrt(weight_var) / width
            self.lr_multiplier = float(width)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer :math:`a^{(L-1)}` (the input itself when ``depth == 1``)."""
        for layer in self.layers[:-1]:
            x = self.activation.fn(layer(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:math:`f(x) = z^{(L)}`: ``[n]`` for one output, ``[n, k]`` for ``k`` outputs."""
        out = self.layers[-1](self.features(x))
        return out.squeeze(-1) if out.shape[-1] == 1 else out


class FourierFeatures(nn.Module):
    r"""Random Fourier features :math:`\varphi(x) = [\sin(2\pi Bx), \cos(2\pi Bx)]` (Tancik et al.; the
    embedding of NTK-ECRN), with a fixed :math:`B \in \mathbb R^{m\times d}`, :math:`B_{ij}\sim\mathcal N(0,\sigma^2)`.

    Maps ``[n, in_features]`` to ``[n, 2 * n_features]``. ``B`` is a buffer, not a parameter: it is
    not trained and does not enter the NTK. A larger ``sigma`` puts higher frequencies into the
    features, which flattens the NTK's spectrum of the network stacked on top.
    """

    def __init__(
        self,
        in_features: int,
        n_features: int,
        sigma: float,
        *,
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        for name, val in (("in_features", in_features), ("n_features", n_features)):
            if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < 1:
                raise ValueError(f"{name} must be a positive integer, got {val!r}")
        self.sigma = check_positive(sigma, "sigma")
        gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0)) if seed is not None else None
        self.register_buffer("B", torch.randn(n_features, in_features, generator=gen, dtype=dtype) * self.sigma)

    @property
    def out_features(self) -> int:
        return 2 * self.B.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:math:`\\varphi(x)` for ``x`` ``[n, in_features]``: ``[n, 2 * n_features]``."""
        if x.ndim != 2 or x.shape[1] != self.B.shape[1]:
            raise ValueError(f"x must be [n, {self.B.shape[1]}], got shape {tuple(x.shape)}")
        z = 2 * math.pi * (x @ self.B.T)
        return torch.cat([torch.sin(z), torch.cos(z)], dim=1)


ALPHA_SCHEDULES = ("constant", "1/L", "1/sqrt(L)")


class NTKECRN(nn.Module):
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
        for name, val in (("in_features", in_features), ("width", width), ("out_features", out_features), ("n_blocks", n_blocks)):
            if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < 1:
                raise ValueError(f"{name} must be a positive integer, got {val!r}")
        if parameterization not in ("ntk", "standard"):
            raise ValueError(f"parameterization must be 'ntk' or 'standard', got {parameterization!r}")
        if alpha_schedule not in ALPHA_SCHEDULES:
            raise ValueError(f"alpha_schedule must be one of {ALPHA_SCHEDULES}, got {alpha_schedule!r}")
        alpha = check_positive(alpha, "alpha")
        bias_var = check_nonnegative(bias_var, "bias_var")
        probs = [drop_prob] * n_blocks if isinstance(drop_prob, numbers.Real) else list(drop_prob)
        if len(probs) != n_blocks:
            raise ValueError(f"drop_prob must be a number or one value per block ({n_blocks}), got {len(probs)}")
        for q in probs:
            if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0.0 <= float(q) < 1.0:
                raise ValueError(f"drop_prob values must lie in [0, 1), got {q!r}")
        self.n_blocks = int(n_blocks)
        self.activation = get_activation(activation)
        scale = {"constant": 1.0, "1/L": 1.0 / n_blocks, "1/sqrt(L)": 1.0 / math.sqrt(n_blocks)}[alpha_schedule]
        self._alphas = [alpha * scale] * n_blocks
        self._keep = [1.0 - float(q) for q in probs]
        gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0)) if seed is not None else None
        # a private generator for the masks, so that training is reproducible from ``seed`` alone
        self._mask_gen = torch.Generator().manual_seed((seed or 0) + 1)
        self.fourier = None
        n_in = in_features
        if fourier_sigma is not None:
            fourier_features = check_int(fourier_features, "fourier_features", minimum=1)
            self.fourier = FourierFeatures(in_features, fourier_features, fourier_sigma, seed=seed, dtype=dtype)
            n_in = self.fourier.out_features

        def linear(a, b, bv):
            return _ScaledLinear(a, b, weight_var=1.0, bias_var=bv, parameterization=parameterization, generator=gen, dtype=dtype)

        self.input = linear(n_in, width, 0.0)
        self.blocks = nn.ModuleList(linear(width, width, bias_var) for _ in range(n_blocks))
        self.readout = linear(width, out_features, 0.0)

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
