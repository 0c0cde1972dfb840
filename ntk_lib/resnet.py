r"""Residual networks used as baselines: the CIFAR ResNet-18 and the tabular ResNet.

* :class:`ResNet18` (He et al. 2016, in the CIFAR variant): a :math:`3\times 3` stem convolution with
  64 channels and no max-pooling, four stages of two basic blocks each with 64, 128, 256 and 512
  channels (stride 1, 2, 2, 2), global average pooling and a linear classifier. A basic block is

  .. math::

     y = \mathrm{ReLU}\big(\mathrm{BN}(\mathrm{conv}(\mathrm{ReLU}(\mathrm{BN}(\mathrm{conv}(x))))) + s(x)\big),

  with :math:`s` the identity, or a strided :math:`1\times 1` convolution and batch normalization where
  the shape changes. With 10 classes it has 11,173,962 parameters. Plain torch (no torchvision).
* :class:`TabularResNet` (Gorishniy et al. 2021, "Revisiting deep learning models for tabular data"):

  .. math::

     h_0 = \mathrm{Linear}(x),\quad
     h_{l+1} = h_l + \mathrm{Dropout}\big(\mathrm{Linear}(\mathrm{Dropout}(\mathrm{ReLU}(\mathrm{Linear}(\mathrm{Norm}(h_l)))))\big),\quad
     f(x) = \mathrm{Linear}(\mathrm{ReLU}(\mathrm{Norm}(h_L))).

Both use PyTorch's default initialization (standard parameterization).
"""

from __future__ import annotations

import torch
from torch import nn

from ._validate import check_int, check_positive, check_real

__all__ = ["BasicBlock", "ResNet18", "TabularResNet"]


def _check_int(value, name, low=1):
    return check_int(value, name, minimum=low)


class BasicBlock(nn.Module):
    """Two :math:`3\\times 3` convolutions with batch normalization and a skip connection."""

    def __init__(self, in_channels: int, channels: int, stride: int = 1):
        super().__init__()
        in_channels, channels, stride = (_check_int(v, k) for v, k in ((in_channels, "in_channels"), (channels, "channels"), (stride, "stride")))
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False), nn.BatchNorm2d(channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 for :math:`32\\times 32` images (CIFAR variant: :math:`3\\times 3` stem, no max-pool).

    Args:
        num_classes: outputs of the final linear layer (10 for CIFAR-10: 11,173,962 parameters).
        in_channels: image channels (3).

    Input ``[n, in_channels, H, W]`` (any :math:`H, W \\ge 8`), output logits ``[n, num_classes]``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3):
        super().__init__()
        num_classes = _check_int(num_classes, "num_classes")
        in_channels = _check_int(in_channels, "in_channels")
        self.in_channels = in_channels
        self.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        stages, c_in = [], 64
        for channels, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            stages.append(nn.Sequential(BasicBlock(c_in, channels, stride), BasicBlock(channels, channels, 1)))
            c_in = channels
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must be [n, {self.in_channels}, H, W], got shape {tuple(x.shape)}")
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = torch.flatten(nn.functional.adaptive_avg_pool2d(out, 1), 1)
        return self.linear(out)


class TabularResNet(nn.Module):
    r"""The ResNet baseline for tabular data of Gorishniy et al. (2021).

    Args:
        in_features: input dimension.
        width: :math:`d`, the width of the residual stream.
        n_blocks: number of residual blocks.
        out_features: outputs (``1`` gives ``[n]``, ``k > 1`` gives ``[n, k]``).
        hidden_factor: each block's hidden layer has ``hidden_factor * width`` units.
        hidden_dropout, residual_dropout: dropout probabilities inside the block and on its output.
        norm: ``"batch"`` (the paper's choice) or ``"layer"`` (a per-sample function, so that the
            empirical NTK and a per-sample kernel step size are defined).
        seed: seeds the initialization (``None``: the global generator).
    """

    def __init__(
        self,
        in_features: int,
        width: int,
        n_blocks: int,
        out_features: int = 1,
        *,
        hidden_factor: float = 2.0,
        hidden_dropout: float = 0.1,
        residual_dropout: float = 0.0,
        norm: str = "batch",
        seed: int | None = None,
    ):
        super().__init__()
        in_features = _check_int(in_features, "in_features")
        width = _check_int(width, "width")
        n_blocks = _check_int(n_blocks, "n_blocks")
        out_features = _check_int(out_features, "out_features")
        hidden_factor = check_positive(hidden_factor, "hidden_factor")
        for name, q in (("hidden_dropout", hidden_dropout), ("residual_dropout", residual_dropout)):
            if not 0.0 <= check_real(q, name) < 1.0:
                raise ValueError(f"{name} must lie in [0, 1), got {q!r}")
        if norm not in ("batch", "layer"):
            raise ValueError(f"norm must be 'batch' or 'layer', got {norm!r}")
        hidden = max(1, int(round(hidden_factor * width)))

        def make_norm():
            return nn.BatchNorm1d(width) if norm == "batch" else nn.LayerNorm(width)

        if seed is not None:
            state = torch.random.get_rng_state()
            torch.manual_seed(seed)
        try:
            self.first = nn.Linear(in_features, width)
            self.blocks = nn.ModuleList(
                nn.Sequential(
                    make_norm(),
                    nn.Linear(width, hidden),
                    nn.ReLU(),
                    nn.Dropout(hidden_dropout),
                    nn.Linear(hidden, width),
                    nn.Dropout(residual_dropout),
                )
                for _ in range(n_blocks)
            )
            self.head = nn.Sequential(make_norm(), nn.ReLU(), nn.Linear(width, out_features))
        finally:
            if seed is not None:
                torch.random.set_rng_state(state)
        self.in_features = in_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:math:`f(x)`: ``[n]`` for one output, ``[n, k]`` for ``k`` outputs."""
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x must be [n, {self.in_features}], got shape {tuple(x.shape)}")
        h = self.first(x)
        for block in self.blocks:
            h = h + block(h)
        out = self.head(h)
        return out.squeeze(-1) if out.shape[-1] == 1 else out
