r"""Full-batch gradient descent on the squared loss, with a record of the function it learns.

Loss :math:`\mathcal L(\theta) = \tfrac12\sum_i \lVert f(x_i;\theta) - y_i\rVert^2` (a sum, no
:math:`1/n`, the convention of :func:`ntk_lib.dynamics.gradient_flow`), update
:math:`\theta_{k+1} = \theta_k - \eta\nabla\mathcal L(\theta_k)`. Step :math:`k` corresponds to
gradient-flow time :math:`t = k\eta` with ``lr=1`` in :func:`~ntk_lib.dynamics.gradient_flow`
(or time :math:`k` with ``lr=eta``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch

from ._validate import as_tensor, check_int, check_positive
from .empirical import empirical_ntk

__all__ = ["History", "KernelLog", "kernel_log", "train_gd", "log_spaced_steps", "progress_enabled", "progress_bar"]


def progress_enabled(progress: bool | None = None) -> bool:
    """Progress bars are on unless ``progress=False`` or the environment sets ``NTK_PROGRESS=0``
    (automated runs: the book build and the notebook tests, whose outputs must be deterministic)."""
    if progress is not None:
        return bool(progress)
    return os.environ.get("NTK_PROGRESS", "1") != "0"


def progress_bar(iterable=None, **kwargs):
    """A tqdm progress bar: the notebook widget where ipywidgets is installed (Colab), plain text
    otherwise (no warning about missing widgets), disabled when :func:`progress_enabled` says so."""
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm import tqdm
    kwargs.setdefault("disable", not progress_enabled(kwargs.pop("enabled", None)))
    return tqdm(iterable, **kwargs)


def log_spaced_steps(steps: int, num: int = 40) -> list[int]:
    """About ``num`` integers from 0 to ``steps``, log-spaced (0 and ``steps`` included)."""
    steps = check_int(steps, "steps", minimum=0)
    num = check_int(num, "num", minimum=1)
    if steps == 0:
        return [0]
    grid = np.unique(np.round(np.geomspace(1, steps, max(num - 1, 1))).astype(int))
    return [0, *[int(s) for s in grid if s > 0]]


class KernelLog(NamedTuple):
    """The empirical NTK's extreme eigenvalues and its relative movement at each logged step."""

    steps: np.ndarray
    lam_max: np.ndarray
    lam_min: np.ndarray
    rel_change: np.ndarray  # ||Theta_t - Theta_0||_F / ||Theta_0||_F, Theta_0 the first logged kernel


def _as_matrix(k: torch.Tensor) -> torch.Tensor:
    if k.ndim == 2:
        return k
    if k.ndim == 4:  # [n, n, c, c] -> [n c, n c]
        n, c = k.shape[0], k.shape[2]
        return k.permute(0, 2, 1, 3).reshape(n * c, n * c)
    raise ValueError(f"a kernel must be [n, n] or [n, n, k, k], got shape {tuple(k.shape)}")


def kernel_log(ntks: dict[int, torch.Tensor]) -> KernelLog:
    r""":math:`\lambda_{max}(\Theta_t)`, :math:`\lambda_{min}(\Theta_t)` and :math:`\lVert\Theta_t-\Theta_0\rVert_F/\lVert\Theta_0\rVert_F`
    for kernels keyed by step (``History.ntk``); a multi-output kernel counts as one :math:`nk\times nk` matrix."""
    if not isinstance(ntks, dict):
        raise TypeError(f"ntks must be a dict mapping step to kernel, got {type(ntks).__name__}")
    if not ntks:
        raise ValueError("ntks is empty: train with ntk_at=[...] to log kernels")
    steps = sorted(check_int(s, "ntks key") for s in ntks)
    mats = [_as_matrix(as_tensor(v, f"ntks[{k}]", ndim=(2, 4), dtype=torch.float64)) for k, v in sorted(ntks.items())]
    for s, m in zip(steps, mats):
        if m.shape != mats[0].shape or m.shape[0] != m.shape[1]:
            raise ValueError(f"ntks[{s}] has shape {tuple(m.shape)}: kernels must be square and of one size")
    k0 = mats[0]
    if float(k0.norm()) == 0:
        raise ValueError(f"ntks[{steps[0]}] (the first kernel) is zero: the relative change is undefined")
    lam = [torch.linalg.eigvalsh(m) for m in mats]
    return KernelLog(
        steps=np.asarray(steps),
        lam_max=np.array([float(v[-1]) for v in lam]),
        lam_min=np.array([float(v[0]) for v in lam]),
        rel_change=np.array([float((m - k0).norm() / k0.norm()) for m in mats]),
    )


@contextmanager
def _eval_mode(model: torch.nn.Module):
    """Evaluate a model with stochastic layers (dropout, stochastic depth) at their expectation."""
    was = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was)


def _mode_dependent(model: torch.nn.Module) -> bool:
    """Whether the model computes something else in training mode (dropout, stochastic depth)."""
    return any(
        isinstance(m, torch.nn.modules.dropout._DropoutNd) or getattr(m, "is_stochastic", False) for m in model.modules()
    )


def _int_steps(values, name: str) -> list[int]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be an iterable of integer steps, got {type(values).__name__}")
    if torch.is_tensor(values) or isinstance(values, np.ndarray):
        values = values.tolist()
    return [check_int(v, f"{name} entries") for v in values]


def _probe(model: torch.nn.Module, x: torch.Tensor, name: str) -> torch.Tensor:
    """One forward pass; a model that cannot take ``x`` fails here, naming the argument."""
    try:
        return model(x)
    except (RuntimeError, ValueError, TypeError, IndexError) as err:
        raise ValueError(f"the model cannot be applied to {name} of shape {tuple(x.shape)} and dtype {x.dtype}: {err}") from err


@dataclass
class History:
    """What :func:`train_gd` saw. ``steps[r]`` is the step of record ``r``; ``times = steps * lr``.

    ``loss`` has one entry per step actually taken (``loss[k]`` at parameters of step ``k``, in
    training mode); ``train_pred``/``test_pred`` are ``[R, n(, k)]``/``[R, m(, k)]`` and ``ntk`` maps step
    to the empirical NTK on ``ntk_x``, both in eval mode (stochastic layers at their expectation);
    ``diverged`` says the loss became non-finite (training stopped).
    """

    steps: list[int]
    lr: float
    loss: np.ndarray
    train_pred: torch.Tensor
    test_pred: torch.Tensor | None = None
    ntk: dict[int, torch.Tensor] = field(default_factory=dict)
    diverged: bool = False

    @property
    def times(self) -> np.ndarray:
        return np.asarray(self.steps, dtype=float) * self.lr

    @property
    def kernel(self) -> KernelLog:
        """:func:`kernel_log` of the recorded kernels."""
        return kernel_log(self.ntk)


def training_call(model, x, lr, steps) -> tuple[float, int, list[torch.Tensor], torch.Tensor]:
    """The checks every training loop makes before its first step: ``model`` a module with trainable
    parameters, ``lr > 0``, ``steps`` a non-negative integer, ``x`` cast to the parameters' dtype and
    device. Returns ``(lr, steps, params, x)``."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    lr = check_positive(lr, "lr")
    steps = check_int(steps, "steps", minimum=0)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    x = as_tensor(x, "x", dtype=params[0].dtype, device=params[0].device)
    return lr, steps, params, x


def gradient_step(loss: torch.Tensor, params: list[torch.Tensor], lr: float) -> None:
    r"""One step :math:`\theta \leftarrow \theta - \eta\,\nabla_\theta \mathcal L` in place.

    Parameters that take no part in ``loss`` (a block skipped by stochastic depth) are left as they are.
    """
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    with torch.no_grad():
        for p, g in zip(params, grads):
            if g is not None:
                p.sub_(g, alpha=lr)


def train_gd(
    model: torch.nn.Module,
    x,
    y,
    *,
    lr: float,
    steps: int,
    record: Iterable[int] | None = None,
    x_test=None,
    ntk_at: Iterable[int] = (),
    ntk_x=None,
    ntk_batch_size: int | None = None,
    progress: bool | None = None,
    desc: str = "gradient descent",
) -> History:
    """Train ``model`` in place by full-batch gradient descent on the summed squared loss.

    Args:
        model: maps ``[n, ...]`` to ``[n]`` or ``[n, k]``.
        x, y: training inputs and targets (targets shaped like the model's output).
        lr: step size :math:`\\eta > 0`.
        steps: number of updates.
        record: steps at which predictions are stored (default: ~40 log-spaced steps).
        x_test: also store predictions on these inputs.
        ntk_at: steps at which to compute the empirical NTK on ``ntk_x`` (default ``x``).
        progress: tqdm bar (default on, off when ``NTK_PROGRESS=0``).

    Divergence rule: a loss that turns non-finite stops training and sets ``diverged``; no exception
    is raised, so a notebook can show what a too-large step size does (the records stop there).

    Every argument is checked before the first step: integer arguments accept NumPy integers and
    refuse ``bool`` and fractions; inputs of another dtype are cast to the model's (integers
    included); an input the model cannot take raises a ``ValueError`` naming it.
    """
    lr, steps, params, x = training_call(model, x, lr, steps)
    dev, dt = x.device, x.dtype
    if ntk_batch_size is not None:
        ntk_batch_size = check_int(ntk_batch_size, "ntk_batch_size", minimum=1)
    y = as_tensor(y, "y", dtype=dt, device=dev)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y has {y.shape[0]} rows but x has {x.shape[0]}")
    xt = None if x_test is None else as_tensor(x_test, "x_test", dtype=dt, device=dev)
    nx = x if ntk_x is None else as_tensor(ntk_x, "ntk_x", dtype=dt, device=dev)
    for name, other in (("x_test", xt), ("ntk_x", None if ntk_x is None else nx)):
        if other is not None and other.shape[1:] != x.shape[1:]:
            raise ValueError(
                f"{name} must have the shape of x's rows, {tuple(x.shape[1:])}, got {tuple(other.shape)}"
            )
    rec = set(log_spaced_steps(steps) if record is None else _int_steps(record, "record"))
    ntk_steps = set(_int_steps(ntk_at, "ntk_at"))
    for name, chosen in (("record", rec), ("ntk_at", ntk_steps)):
        bad = [s for s in chosen if s < 0 or s > steps]
        if bad:
            raise ValueError(f"{name} steps must lie in [0, {steps}], got {sorted(bad)[:3]}")
    with torch.no_grad():
        out_shape = _probe(model, x, "x").shape
        if out_shape != y.shape:
            raise ValueError(f"y has shape {tuple(y.shape)} but the model outputs {tuple(out_shape)}")
        with _eval_mode(model):  # eval: no running-statistics update, no random draw
            if xt is not None:
                _probe(model, xt[:1], "x_test")
            if ntk_x is not None:
                _probe(model, nx[:1], "ntk_x")

    stochastic = model.training and _mode_dependent(model)
    losses, rec_steps, train_pred, test_pred, ntks = [], [], [], [], {}
    diverged = False
    bar = progress_bar(total=steps, desc=desc, enabled=progress, leave=False)
    for k in range(steps + 1):
        if k in ntk_steps:
            with _eval_mode(model):
                ntks[k] = empirical_ntk(model, nx, batch_size=ntk_batch_size)
        out = model(x)
        loss = 0.5 * ((out - y) ** 2).sum()
        lv = float(loss.detach())
        if not math.isfinite(lv):
            diverged = True
            break
        losses.append(lv)
        if k in rec:
            rec_steps.append(k)
            if stochastic:  # the training forward drew masks: record the expectation instead
                with torch.no_grad(), _eval_mode(model):
                    train_pred.append(model(x).clone())
            else:
                train_pred.append(out.detach().clone())
            if xt is not None:
                with torch.no_grad(), _eval_mode(model):
                    test_pred.append(model(xt).clone())
        if k == steps:
            break
        gradient_step(loss, params, lr)
        bar.update(1)
    bar.close()
    empty = torch.empty((0, *y.shape), dtype=dt, device=dev)
    return History(
        steps=rec_steps,
        lr=lr,
        loss=np.asarray(losses),
        train_pred=torch.stack(train_pred) if train_pred else empty,
        test_pred=(torch.stack(test_pred) if test_pred else None) if xt is not None else None,
        ntk=ntks,
        diverged=diverged,
    )
