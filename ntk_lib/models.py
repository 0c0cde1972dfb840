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

from ._validate import check_depth, check_nonnegative, check_positive
from .activations import get_activation

__all__ = ["MLP", "FourierFeatures", "PARAMETERIZATIONS"]

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
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
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
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.register_buffer("B", torch.randn(n_features, in_features, generator=gen, dtype=dtype) * self.sigma)

    @property
    def out_features(self) -> int:
        return 2 * self.B.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.B.shape[1]:
            raise ValueError(f"x must be [n, {self.B.shape[1]}], got shape {tuple(x.shape)}")
        z = 2 * math.pi * (x @ self.B.T)
        return torch.cat([torch.sin(z), torch.cos(z)], dim=1)
