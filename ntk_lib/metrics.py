r"""Scores for the benchmark tables: :math:`R^2`, accuracy and cross-entropy."""

from __future__ import annotations

import torch

from ._validate import as_tensor

__all__ = ["mse", "r2_score", "accuracy", "cross_entropy"]


def _pair(pred, target, name="pred"):
    pred = as_tensor(pred, name).to(torch.float64)
    target = as_tensor(target, "target", device=pred.device).to(torch.float64)
    if pred.shape != target.shape:
        raise ValueError(f"{name} has shape {tuple(pred.shape)} but target has {tuple(target.shape)}")
    return pred, target


def mse(pred, target) -> float:
    """Mean squared error."""
    pred, target = _pair(pred, target)
    return float(((pred - target) ** 2).mean())


def r2_score(pred, target) -> float:
    r""":math:`R^2 = 1 - \sum (y - \hat y)^2 / \sum (y - \bar y)^2` (1 is perfect, 0 is the mean predictor)."""
    pred, target = _pair(pred, target)
    ss_tot = float(((target - target.mean()) ** 2).sum())
    if ss_tot == 0:
        raise ValueError("target is constant: R^2 is undefined")
    return 1.0 - float(((pred - target) ** 2).sum()) / ss_tot


def _logits_labels(logits, labels):
    logits = as_tensor(logits, "logits", ndim=2).to(torch.float64)
    if not isinstance(labels, torch.Tensor) or labels.dtype not in (torch.int64, torch.int32):
        raise TypeError("labels must be an integer tensor of class indices")
    if labels.shape != (logits.shape[0],):
        raise ValueError(f"labels must be [{logits.shape[0]}], got shape {tuple(labels.shape)}")
    if int(labels.min()) < 0 or int(labels.max()) >= logits.shape[1]:
        raise ValueError(f"labels must lie in [0, {logits.shape[1]}), got range [{int(labels.min())}, {int(labels.max())}]")
    return logits, labels.to(logits.device)


def accuracy(logits, labels) -> float:
    """Fraction of rows whose largest score is the label's."""
    logits, labels = _logits_labels(logits, labels)
    return float((logits.argmax(1) == labels).double().mean())


def cross_entropy(logits, labels) -> float:
    r"""Mean :math:`-\log \mathrm{softmax}(s)_y` of the scores ``logits`` ``[n, c]``."""
    logits, labels = _logits_labels(logits, labels)
    return float(torch.nn.functional.cross_entropy(logits, labels))
