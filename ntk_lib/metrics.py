r"""Scores for the benchmark tables: :math:`R^2`, accuracy and cross-entropy."""

from __future__ import annotations

import torch

from ._validate import as_labels, as_tensor, same_shape

__all__ = ["mse", "r2_score", "accuracy", "cross_entropy"]


def _scaled_pair(pred, target):
    """pred / s and target / s with s = max |value|: squares and differences cannot overflow or
    underflow for any finite input (the scale is put back in log-free products)."""
    pred, target = same_shape(pred, target, "pred", "target")
    s = float(torch.maximum(pred.abs().max(), target.abs().max()))
    if s == 0:
        s = 1.0
    return pred / s, target / s, s


def mse(pred, target) -> float:
    """Mean squared error (float64; values are scaled first, so huge or tiny errors stay exact)."""
    pred, target, s = _scaled_pair(pred, target)
    return float(((pred - target) ** 2).mean()) * s * s


def r2_score(pred, target) -> float:
    r""":math:`R^2 = 1 - \sum (y - \hat y)^2 / \sum (y - \bar y)^2` (1 is perfect, 0 is the mean predictor)."""
    pred, target, _ = _scaled_pair(pred, target)
    ss_tot = float(((target - target.mean()) ** 2).sum())
    if ss_tot == 0:
        raise ValueError("target is constant: R^2 is undefined")
    return 1.0 - float(((pred - target) ** 2).sum()) / ss_tot


def _logits_labels(logits, labels):
    logits = as_tensor(logits, "logits", ndim=2, dtype=torch.float64)
    labels = as_labels(labels, "labels", logits.shape[0], logits.shape[1], logits.device)
    return logits, labels


def accuracy(logits, labels) -> float:
    """Fraction of rows whose largest score is the label's (labels: integer tensor, array or list)."""
    logits, labels = _logits_labels(logits, labels)
    return float((logits.argmax(1) == labels).double().mean())


def cross_entropy(logits, labels) -> float:
    r"""Mean :math:`-\log \mathrm{softmax}(s)_y` of the scores ``logits`` ``[n, c]`` (float64)."""
    logits, labels = _logits_labels(logits, labels)
    return float(torch.nn.functional.cross_entropy(logits, labels))
