r"""Full-batch gradient descent on the summed softmax cross-entropy, for classifiers.

.. math::

   \mathcal L(\theta) = \sum_{i=1}^n \Big(\log\sum_c e^{f_c(x_i;\theta)} - f_{y_i}(x_i;\theta)\Big),
   \qquad \theta_{k+1} = \theta_k - \eta\,\nabla\mathcal L(\theta_k).

The counterpart of :func:`ntk_lib.training.train_gd` (squared loss) for classification; with the step
from :func:`ntk_lib.stability.stable_lr` (``loss="cross_entropy"``) it is stable for the linearized model.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from ._validate import as_labels, as_tensor, check_model_input
from .training import gradient_step, training_call

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

    Every argument is checked before the first step, as in :func:`ntk_lib.training.train_gd`: ``steps``
    is an integer (NumPy integers accepted), ``labels`` are class indices in ``[0, k)`` of any integer
    dtype (tensor, array or list; :func:`ntk_lib._validate.as_labels`), and ``x_test`` must have the
    shape of ``x``'s rows and be accepted by the model (one eval-mode forward pass of one row), so that
    a bad ``x_test`` fails before training changes the parameters.
    """
    lr, steps, params, x = training_call(model, x, lr, steps)
    dev, dt = x.device, x.dtype
    if x.ndim < 2:
        raise ValueError(f"x must be a batch [n, *in_shape], got shape {tuple(x.shape)}")
    xt = None
    if x_test is not None:
        xt = as_tensor(x_test, "x_test", dtype=dt, device=dev)
        if xt.shape[1:] != x.shape[1:]:
            raise ValueError(f"x_test must have the shape of x's rows, {tuple(x.shape[1:])}, got {tuple(xt.shape)}")
    check_model_input(model, x, "x")
    if xt is not None:
        check_model_input(model, xt, "x_test")
    with torch.no_grad():
        out = model(x)
    if out.ndim != 2 or out.shape[1] < 2:
        raise ValueError(f"model must output [n, k] logits with k >= 2, got shape {tuple(out.shape)}")
    labels = as_labels(labels, "labels", x.shape[0], out.shape[1], dev)
    stochastic = any(
        isinstance(m, torch.nn.modules.dropout._DropoutNd) or getattr(m, "is_stochastic", False) for m in model.modules()
    )
    was = model.training
    try:
        return _train(model, x, labels, xt, lr, steps, params, stochastic, was)
    finally:
        model.train(was)  # also when training fails: the model keeps the mode it came in


def _train(model, x, labels, xt, lr, steps, params, stochastic, was) -> CrossEntropyRun:
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
        gradient_step(loss, params, lr)
    test_logits = None
    if xt is not None and not diverged:
        model.eval()
        with torch.no_grad():
            test_logits = model(xt).detach().clone()
    model.train(was)
    return CrossEntropyRun(lr, np.asarray(losses), np.asarray(eval_losses), test_logits, diverged)
