r"""Full-batch gradient descent on the summed softmax cross-entropy, for classifiers.

.. math::

   \mathcal L(\theta) = \sum_{i=1}^n \Big(\log\sum_c e^{f_c(x_i;\theta)} - f_{y_i}(x_i;\theta)\Big),
   \qquad \theta_{k+1} = \theta_k - \eta\,\nabla\mathcal L(\theta_k).

The counterpart of :func:`ntk_lib.training.train_gd` (squared loss) for classification; with the step
from :func:`ntk_lib.stability.stable_lr` (``loss="cross_entropy"``) it is stable for the linearized model.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np
import torch

from ._validate import as_tensor, check_model_input, check_positive

__all__ = ["CrossEntropyRun", "train_gd_cross_entropy"]


class CrossEntropyRun(NamedTuple):
    """What :func:`train_gd_cross_entropy` saw."""

    lr: float  #: the step size
    loss: np.ndarray  #: summed cross-entropy at each step, in training mode (dropout/masks drawn)
    eval_loss: np.ndarray  #: the same in eval mode (stochastic layers at their expectation)
    test_logits: torch.Tensor | None  #: eval-mode logits on ``x_test`` after training
    diverged: bool  #: the loss became non-finite (training stopped)


def train_gd_cross_entropy(model: torch.nn.Module, x, labels, *, lr: float, steps: int, x_test=None) -> CrossEntropyRun:
    """Train ``model`` (``[n, ...] -> [n, k]`` logits) in place on integer ``labels`` ``[n]``.

    ``eval_loss`` is recorded at every step (one extra forward pass per step for models with dropout or
    stochastic depth), so that a loss curve can be checked without the noise of the drawn masks.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    lr = check_positive(lr, "lr")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    dev, dt = params[0].device, params[0].dtype
    x = as_tensor(x, "x", dtype=dt, device=dev)
    if not isinstance(labels, torch.Tensor) or labels.dtype not in (torch.int64, torch.int32):
        raise TypeError("labels must be an integer torch.Tensor of class indices")
    labels = labels.to(dev, torch.long)
    if labels.ndim != 1 or labels.shape[0] != x.shape[0]:
        raise ValueError(f"labels must be [n] with n = {x.shape[0]}, got shape {tuple(labels.shape)}")
    xt = None if x_test is None else as_tensor(x_test, "x_test", ndim=x.ndim, dtype=dt, device=dev)
    check_model_input(model, x, "x")
    with torch.no_grad():
        out = model(x)
    if out.ndim != 2 or out.shape[1] < 2:
        raise ValueError(f"model must output [n, k] logits with k >= 2, got shape {tuple(out.shape)}")
    if int(labels.min()) < 0 or int(labels.max()) >= out.shape[1]:
        raise ValueError(f"labels must lie in [0, {out.shape[1] - 1}]")
    stochastic = any(
        isinstance(m, torch.nn.modules.dropout._DropoutNd) or getattr(m, "is_stochastic", False) for m in model.modules()
    )
    was = model.training
    losses, eval_losses, diverged = [], [], False
    for k in range(steps + 1):
        model.train(was)
        loss = torch.nn.functional.cross_entropy(model(x), labels, reduction="sum")
        lv = float(loss.detach())
        if not math.isfinite(lv):
            diverged = True
            break
        losses.append(lv)
        if stochastic:
            model.eval()
            with torch.no_grad():
                eval_losses.append(float(torch.nn.functional.cross_entropy(model(x), labels, reduction="sum")))
            model.train(was)
        else:
            eval_losses.append(lv)
        if k == steps:
            break
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        with torch.no_grad():
            for p, g in zip(params, grads):
                if g is not None:
                    p.sub_(g, alpha=lr)
    test_logits = None
    if xt is not None and not diverged:
        model.eval()
        with torch.no_grad():
            test_logits = model(xt).detach().clone()
    model.train(was)
    return CrossEntropyRun(lr, np.asarray(losses), np.asarray(eval_losses), test_logits, diverged)
