r"""The ``torch.nn`` modules that :meth:`ntk_lib.layers.Layer.build` assembles.

Kept apart from :mod:`ntk_lib.layers` (the architecture descriptions and their kernel rules) so that
:mod:`ntk_lib.models` can reuse them without a circular import.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import check_count, check_positive

PARAMETERIZATIONS = ("ntk", "standard", "mup")


def check_size(value, name: str) -> int:
    """A layer size: a positive integer (:func:`ntk_lib._validate.check_int`: NumPy integers and 0-d integer
    tensors accepted, bools and fractions refused)."""
    return check_count(value, name, minimum=1)


def check_forward_input(x, in_features: int, dtype: torch.dtype, what: str) -> None:
    """The cheap checks of a forward pass, before torch's matrix product fails with a message about
    ``mat1``/``mat2``: ``x`` must be a floating ``[n, in_features]`` tensor of the parameters' dtype."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor [n, {in_features}] for {what}, got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != in_features:
        raise ValueError(
            f"x must be [n, in_features={in_features}] for {what} (the in_features it was built for), "
            f"got shape {tuple(x.shape)}"
        )
    if x.dtype != dtype:
        if not x.is_floating_point():
            raise TypeError(f"x must be a floating tensor of the parameters' dtype {dtype}, got {x.dtype} (x.to({dtype}))")
        raise TypeError(
            f"x has dtype {x.dtype} but {what} has {dtype} parameters: convert the input (x.to({dtype})) or the "
            f"model (model.to({x.dtype}))"
        )


class ScaledLinear(nn.Module):
    r"""A linear layer :math:`z = \sqrt{w/n_{in}}\,Wa + \sqrt b\,\beta` with the scale factors placed
    according to the parameterization (see :mod:`ntk_lib.models`): in the forward pass for ``"ntk"``
    (weights :math:`\mathcal N(0,1)`), folded into the initial weights for ``"standard"``; ``"mup"`` is
    ``"ntk"`` with the readout multiplier :math:`\sqrt w/n_{in}`."""

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
        if parameterization == "mup":
            self.mult_w = math.sqrt(weight_var) / n_in

    def forward(self, x):
        out = (x @ self.weight.T) * self.mult_w
        if self.bias is not None:
            out = out + self.bias * self.mult_b
        return out


class Elementwise(nn.Module):
    """An elementwise activation ``fn`` as a module."""

    def __init__(self, fn, name: str):
        super().__init__()
        self.fn = fn
        self.name = name

    def forward(self, x):
        return self.fn(x)

    def extra_repr(self) -> str:
        return self.name


def draw_fourier_matrix(n_features: int, in_features: int, sigma: float, seed: int) -> torch.Tensor:
    r""":math:`B\in\mathbb R^{m\times d}`, :math:`B_{ij}\sim\mathcal N(0,\sigma^2)`, drawn in float32
    from ``seed`` and returned in float64, which holds those numbers exactly: a model of any floating
    dtype at least as precise as float32 holds the same :math:`B`, and the kernel is exact for it (float32
    is also the dtype these matrices have always been drawn in, so seeds keep their matrices)."""
    gen = torch.Generator().manual_seed(int(seed))
    return (torch.randn(n_features, in_features, generator=gen, dtype=torch.float32) * float(sigma)).double()


def fourier_embedding(x: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    r""":math:`\varphi(x) = [\sin(2\pi Bx), \cos(2\pi Bx)]`, ``[n, 2m]``."""
    z = 2 * math.pi * (x @ B.T)
    return torch.cat([torch.sin(z), torch.cos(z)], dim=-1)


class FourierFeatures(nn.Module):
    r"""Random Fourier features :math:`\varphi(x) = [\sin(2\pi Bx), \cos(2\pi Bx)]` (Tancik et al.; the
    embedding of NTK-ECRN), with a fixed :math:`B \in \mathbb R^{m\times d}`, :math:`B_{ij}\sim\mathcal N(0,\sigma^2)`.

    Maps ``[n, in_features]`` to ``[n, 2 * n_features]``. :math:`\varphi(x)^\top\varphi(x')/m` (``m`` =
    ``n_features``) tends to the Gaussian kernel :math:`e^{-2\pi^2\sigma^2\lVert x-x'\rVert^2}` as
    :math:`m\to\infty`; the per-coordinate kernel :math:`\varphi(x)^\top\varphi(x')/2m` that a following
    linear layer sees (fan-in :math:`2m`) is half of it. ``B`` is a buffer, not a parameter: it is
    not trained and does not enter the NTK. It is drawn in float32 from ``seed`` (exactly representable
    in float64), so models of different dtypes share it. A larger ``sigma`` puts higher frequencies into
    the features, which flattens the NTK's spectrum of the network stacked on top. Its kernel is
    :class:`ntk_lib.layers.FourierFeatures`.
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
        in_features = check_size(in_features, "in_features")
        n_features = check_size(n_features, "n_features")
        self.sigma = check_positive(sigma, "sigma")
        seed = int(torch.randint(0, 2**62, ())) if seed is None else check_count(seed, "seed", minimum=0)
        self.register_buffer("B", draw_fourier_matrix(n_features, in_features, self.sigma, seed).to(dtype))

    @property
    def out_features(self) -> int:
        return 2 * self.B.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:math:`\\varphi(x)` for ``x`` ``[n, in_features]``: ``[n, 2 * n_features]``."""
        check_forward_input(x, self.B.shape[1], self.B.dtype, "FourierFeatures")
        return fourier_embedding(x, self.B)


class ResidualBlock(nn.Module):
    r""":math:`h \mapsto h + m\,\alpha\,g(h)` with :math:`g` = ``branch`` and the stochastic-depth mask
    :math:`m`: a Bernoulli(:math:`1-p`) draw per forward pass in training mode (shared by the batch,
    from ``generator``), its expectation :math:`1-p` in eval mode. Setting ``mask`` to a number
    overrides both (used to enumerate mask patterns)."""

    def __init__(self, branch: nn.Module, alpha: float, drop_prob: float, generator: torch.Generator):
        super().__init__()
        self.branch = branch
        self.alpha = float(alpha)
        self.keep = 1.0 - float(drop_prob)
        self.generator = generator
        #: a fixed mask (0 or 1, or any multiplier) that replaces the draw; ``None``: draw / expectation
        self.mask: float | None = None

    @property
    def is_stochastic(self) -> bool:
        """Whether training mode draws masks (``drop_prob > 0``)."""
        return self.keep < 1.0

    def current_mask(self) -> float:
        if self.mask is not None:
            return float(self.mask)
        if not self.training or self.keep == 1.0:
            return self.keep
        return 1.0 if float(torch.rand((), generator=self.generator, dtype=torch.float64)) < self.keep else 0.0

    def forward(self, h: torch.Tensor, mask: float | None = None) -> torch.Tensor:
        m = self.current_mask() if mask is None else float(mask)
        if m == 0.0:  # a dropped block costs nothing
            return h
        return h + (m * self.alpha) * self.branch(h)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, drop_prob={1 - self.keep:g}"


class Sequence(nn.Sequential):
    """Layers applied in order (a :func:`ntk_lib.layers.serial` block inside a network)."""


class Network(nn.Module):
    r"""A network built by :meth:`ntk_lib.layers.Layer.build`: ``layers`` applied in order.

    Checks that its input has ``in_features`` columns, and returns ``[n]`` when the last layer has
    one output (as the empirical NTK and the training loop expect), ``[n, k]`` otherwise.
    """

    def __init__(self, layers: nn.Sequential, in_features: int, out_features: int, lr_multiplier: float = 1.0):
        super().__init__()
        self.layers = layers
        self.in_features = in_features
        self.out_features = out_features
        #: factor by which a training loop should multiply a width-independent base learning rate
        #: (the width for a ``"mup"`` readout, else 1)
        self.lr_multiplier = lr_multiplier

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the first parameter or buffer (what the input must have)."""
        for t in self.parameters():
            return t.dtype
        for t in self.buffers():
            return t.dtype
        return torch.get_default_dtype()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_forward_input(x, self.in_features, self.dtype, "the network")
        out = self.layers(x)
        return out.squeeze(-1) if out.shape[-1] == 1 else out
