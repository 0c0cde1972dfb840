r"""The lazy regime of a ReLU MLP at infinite width: which layer carries the output's change, and
how far the last hidden layer moves.

**Layer split of** :math:`\Theta_\infty`. Unrolling the recursion of :mod:`ntk_lib.analytic`,
:math:`\Theta^{(L)} = \dot\Sigma^{(L)}\Theta^{(L-1)} + \Sigma^{(L)}`, gives

.. math::

   \Theta^{(L)} = \sum_{l=1}^{L} \Theta_l, \qquad
   \Theta_l = \Sigma^{(l)} \prod_{m=l+1}^{L} \dot\Sigma^{(m)},

where :math:`\Theta_l` is the limit of :math:`\sum_{p \in \text{layer } l} \partial_p f(x)\,\partial_p f(x')`
(weights and biases of linear layer :math:`l`). :math:`\Theta_L = \Sigma^{(L)}` is the readout's part
and :math:`\sum_{l<L}\Theta_l = \dot\Sigma^{(L)}\Theta^{(L-1)}` the part of everything below it.

**Lazy gradient descent.** On the summed squared loss with step :math:`\eta` and a constant kernel
:math:`K`, the residual is :math:`r_k = (I - \eta K)^k r_0` and the output moves by
:math:`f_k - f_0 = -K A_k`, with the *cumulative residual*

.. math::

   A_k = \eta \sum_{j<k} r_j = V \operatorname{diag}\Big(\frac{1 - (1-\eta\lambda_i)^k}{\lambda_i}\Big) V^\top r_0 .

**The linearized network.** The network's own first-order model around its initialization,
:math:`f^{\rm lin}_\theta(x) = f_0(x) + J_f(x)(\theta - \theta_0)`, trained by gradient descent on the
same loss with the same step, is :math:`\delta\theta_{k+1} = \delta\theta_k - \eta J_f(X)^\top r_k`,
:math:`r_k = f_0(X) + J_f(X)\delta\theta_k - y` (:func:`linearized_descent`: one Jacobian-vector and
one vector-Jacobian product per step, never forming :math:`J`). Its outputs follow lazy gradient
descent with the *empirical* kernel :math:`\hat\Theta_0 = J_fJ_f^\top` of this network, so
:math:`\delta\theta_k = -J_f^\top A_k` with :math:`A_k` the cumulative residual of
:math:`\hat\Theta_0` (not of :math:`\Theta_\infty`), and it is stable iff
:math:`\eta\lambda_{\max}(\hat\Theta_0) < 2` (:func:`ntk_top_eigenvalue`).

**What the hidden layer does meanwhile.** Any function :math:`g` of the parameters, such as the last
hidden layer :math:`z^{(L-1)}(x)` or :math:`a^{(L-1)}(x) = \sigma(z^{(L-1)}(x))`, moves in the
linearized network by its first-order change

.. math::

   \delta g(x) = J_g(x)\,\delta\theta_k = -J_g(x) J_f(X)^\top A_k ,

one vector-Jacobian product (for :math:`J_f^\top A_k`) and one Jacobian-vector product
(:func:`linearized_change` for a given :math:`A`; :func:`linearized_descent` records it along the
way). Every coordinate of :math:`\delta a` is :math:`O(n^{-1/2})` and :math:`\lVert\delta a(x)\rVert_2` is
:math:`O(1)`: the :math:`O(n^{-1/2})` off-diagonal entries of :math:`J_z J_z^\top` add up, over the
:math:`n` neurons, to a contribution of the same order as its diagonal :math:`\Theta^{(L-1)}`, so the
layer's drift is not a function of the infinite-width kernels alone and is measured rather than
given in closed form.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.func import functional_call, jvp, vjp

from ._validate import (
    as_kernel,
    as_tensor,
    as_times,
    check_depth,
    check_int,
    check_model_input,
    check_nonnegative,
    check_positive,
)
from .analytic import relu_kernel_layers
from .dynamics import _eigh
from .stability import _ntk_products

__all__ = [
    "ntk_layer_split",
    "cumulative_residual",
    "last_hidden",
    "linearized_change",
    "LinearizedDescent",
    "linearized_descent",
    "ntk_top_eigenvalue",
]


def ntk_layer_split(x1, x2=None, *, depth: int, weight_var: float = 1.0, bias_var: float = 0.0) -> torch.Tensor:
    r"""The contributions :math:`\Theta_l = \Sigma^{(l)}\prod_{m>l}\dot\Sigma^{(m)}` of each linear layer
    :math:`l = 1..L` to the ReLU NTK :math:`\Theta^{(L)}` (module docstring), ``[depth, n1, n2]``
    float64; they sum to :func:`ntk_lib.analytic.relu_ntk`. Index ``-1`` is the readout."""
    depth = check_depth(depth)
    kl = relu_kernel_layers(x1, x2, depth=depth, weight_var=weight_var, bias_var=bias_var)
    parts = torch.empty_like(kl.sigma)
    tail = torch.ones_like(kl.sigma[0])
    for layer in range(depth - 1, -1, -1):
        parts[layer] = kl.sigma[layer] * tail
        tail = tail * kl.sigma_dot[layer]
    return parts


def cumulative_residual(k_train, r0, *, steps, lr: float) -> torch.Tensor:
    r""":math:`A_k = \eta\sum_{j<k} r_j` of lazy gradient descent (module docstring) for each ``k`` in
    ``steps``: ``[T, n(, c)]`` float64. The output has then moved by :math:`-K A_k`, layer
    :math:`l`'s share of it is :math:`-\Theta_l A_k`, and the residual is :math:`r_0 - K A_k`.
    :math:`A_k = V\operatorname{diag}(g_i)V^\top r_0` with the gain :math:`g_i` of
    :func:`ntk_lib.dynamics.gradient_descent`, so that the test prediction there is
    :math:`f_0(x) - K(x, X) A_k`.

    Args:
        k_train: constant kernel :math:`K(X, X)`, symmetric and positive semi-definite ``[n, n]``, judged
            with the tolerances of its own dtype (a float32 kernel may be asymmetric at float32 round-off).
        r0: initial residual :math:`f_0(X) - y`, ``[n]`` or ``[n, c]``.
        steps: a non-negative integer or a 1-D sequence of them; ``inf`` is the limit
            :math:`A_\infty = K^{+} r_0` (as in :func:`ntk_lib.dynamics.gradient_descent`).
        lr: step size :math:`\eta > 0`.

    Null modes follow the shared rule (:func:`ntk_lib._validate.null_rtol`, as in
    :mod:`ntk_lib.dynamics`: eigenvalues within round-off of zero, for the dtype the kernel came in,
    count as zero): the output never moves along them, and their part of :math:`A_k` grows as
    :math:`\eta k` (0 at ``k = inf``, the minimum-norm limit).

    Divergence rule (that of :func:`ntk_lib.dynamics.gradient_descent`): with
    :math:`\eta\lambda_{\max} > 2` the modes past the limit grow as :math:`|1-\eta\lambda|^k`; the values
    are returned as computed with a ``RuntimeWarning`` naming ``lr`` and the stable limit, and a
    ``ValueError`` is raised instead when they overflow float64 or when ``inf`` steps are asked for.
    """
    k, in_dtype = as_kernel(k_train, "k_train")
    r = as_tensor(r0, "r0", dtype=torch.float64, device=k.device)
    if r.ndim not in (1, 2) or r.shape[0] != k.shape[0]:
        raise ValueError(f"r0 must be [n] or [n, c] with n = {k.shape[0]}, got shape {tuple(r.shape)}")
    lr = check_positive(lr, "lr")
    ks = as_times(steps, "steps", device=k.device, integer=True)
    lam, vec = _eigh(k, in_dtype, "k_train")  # PSD check; round-off eigenvalues set to exactly 0
    lam_max = float(lam.max())
    diverged = lr * lam_max > 2
    limit = f"lr = {lr:.4g} is past the stable step 2 / lambda_max = {2 / lam_max:.4g}" if lam_max > 0 else ""
    if diverged and bool(torch.isinf(ks).any()):
        raise ValueError(f"steps=inf has no limit: {limit} (lazy gradient descent diverges)")
    coef = vec.T @ (r if r.ndim == 2 else r[:, None])  # [n, c]
    null1 = lam == 0
    null = null1[None, :]
    finite = torch.isfinite(ks)[:, None]
    kk = torch.where(torch.isfinite(ks), ks, torch.zeros_like(ks))[:, None]
    factor = torch.where(finite, (1 - lr * lam)[None, :] ** kk, torch.zeros_like(kk))  # [T, n]
    safe = torch.where(null1, torch.ones_like(lam), lam)[None, :]
    gain = torch.where(null, torch.where(finite, lr * kk, torch.zeros_like(kk)), (1 - factor) / safe)
    a = torch.einsum("ij,tj,jc->tic", vec, gain, coef)
    if not bool(torch.isfinite(a).all()):
        raise ValueError(f"lazy gradient descent diverged: {limit}; A_k overflows float64 by step {int(ks.max())}")
    if diverged:
        warnings.warn(f"lazy gradient descent diverges: {limit}; the returned A_k grow like |1 - lr lambda|^k",
                      RuntimeWarning, stacklevel=2)
    return a if r.ndim == 2 else a[..., 0]


def last_hidden(model, x) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Pre- and post-activation :math:`(z^{(L-1)}(x), a^{(L-1)}(x))` of the last hidden layer of a
    :class:`ntk_lib.models.MLP` (``depth >= 2``), each ``[m, width]``."""
    layers = getattr(model, "layers", None)
    if layers is None or not hasattr(model, "activation") or len(layers) < 2:
        raise TypeError("model must be an ntk_lib.models.MLP with depth >= 2")
    h = _model_input(model, x)
    for layer in layers[:-2]:
        h = model.activation.fn(layer(h))
    z = layers[-2](h)
    return z, model.activation.fn(z)


def _model_input(model, x) -> torch.Tensor:
    """``x`` as a finite, non-empty ``[m, in_features]`` tensor in the model's dtype and device."""
    p = next(model.parameters())
    x = as_tensor(x, "x", dtype=p.dtype, device=p.device, ndim=2)
    check_model_input(model, x, "x")
    return x


class _LastHiddenAndOutput(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        z, a = last_hidden(self.model, x)
        out = self.model.layers[-1](a)  # the model's forward, without recomputing the hidden layers
        return z, a, (out.squeeze(-1) if out.shape[-1] == 1 else out)


def linearized_change(model, x, a) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""First-order change :math:`-J_g(x)\,J_f(x)^\top A` (module docstring) of the last hidden layer's
    pre- and post-activations and of the output of an :class:`ntk_lib.models.MLP`, when its parameters
    move by :math:`\delta\theta = -J_f(x)^\top A`, with :math:`A` a cumulative residual of the training
    inputs ``x`` (times ``model.lr_multiplier`` where the training loop applies one). With the
    cumulative residual of the network's own empirical kernel (``LinearizedDescent.a`` of
    :func:`linearized_descent`, or :func:`cumulative_residual` of :math:`\hat\Theta_0`) this is the
    change of its true linearization; with that of :math:`\Theta_\infty` it is only an infinite-width
    approximation of it, since the output then follows another kernel than the network's own.

    Args:
        model: an :class:`ntk_lib.models.MLP` with ``depth >= 2``; left unchanged.
        x: training inputs ``[m, in_features]``.
        a: :math:`A`, shaped like ``model(x)``.

    Returns:
        ``(dz, da, df)``: ``[m, width]``, ``[m, width]`` and the shape of ``model(x)``, in the model's dtype.
    """
    last_hidden(model, x[:1] if torch.is_tensor(x) else x)  # type check
    x = _model_input(model, x)
    params = {k: v.detach() for k, v in model.named_parameters()}
    with torch.enable_grad():
        live = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        out = functional_call(model, live, (x,))
        aa = as_tensor(a, "a", dtype=out.dtype, device=out.device)
        if aa.shape != out.shape:
            raise ValueError(f"a must have the shape of model(x), {tuple(out.shape)}, got {tuple(aa.shape)}")
        grads = torch.autograd.grad((out * aa).sum(), list(live.values()), allow_unused=True)
    tangent = {k: (-g if g is not None else torch.zeros_like(params[k])) for k, g in zip(live, grads)}
    wrapper = _LastHiddenAndOutput(model)

    def fn(p):
        return functional_call(wrapper, {"model." + k: v for k, v in p.items()}, (x,))

    _, (dz, da, df) = jvp(fn, (params,), (tangent,))
    return dz, da, df


def ntk_top_eigenvalue(model, x, *, iters: int = 300, tol: float = 1e-6, seed: int = 0) -> float:
    r""":math:`\lambda_{\max}` of the empirical NTK :math:`\hat\Theta_0 = J_f(X)J_f(X)^\top` of ``model`` on
    ``x``, all outputs together (an :math:`mk\times mk` matrix for ``k`` outputs), without forming it.

    Lanczos with full re-orthogonalization (in float64) from a seeded random start, one
    vector-Jacobian and one Jacobian-vector product per iteration, run until the top Ritz pair
    :math:`(\theta, u)` has converged: until its residual :math:`\lVert\hat\Theta_0 u - \theta u\rVert_2`
    (:math:`\beta_k` times the last component of the Ritz vector, free to compute) is at most
    ``tol`` :math:`\cdot\,\theta`, or the Krylov space is exhausted (then the Ritz values are exact).
    :math:`\theta` is a lower bound on :math:`\lambda_{\max}` that increases with the iterations, and
    some eigenvalue lies within the residual of it, so the default returns :math:`\lambda_{\max}` to
    about ``tol`` relative. A fixed, small number of iterations is *not* enough for a network with
    many outputs: the top eigenvalues form a near-degenerate cluster and the Ritz value can stall
    below it for tens of iterations (a width-2048 MLP with 100 one-hot inputs and 100 outputs needs
    about 50; after 20 it is still 2 % low). Power iteration
    (:func:`ntk_lib.stability.top_eigenvalue`) converges more slowly still on such a cluster.
    :math:`\eta = 1/\lambda_{\max}` is half the stability limit of the linearized network
    (:func:`linearized_descent`).

    Args:
        model: a ``torch.nn.Module`` without random layers; left unchanged.
        x: inputs ``[m, ...]``.
        iters: the most Lanczos iterations (matrix-vector products) to run, ``>= 1``. A
            ``RuntimeWarning`` says when they end before the residual reaches ``tol``.
        tol: relative residual at which to stop, ``>= 0``; ``0`` runs all ``iters`` iterations
            (unless the Krylov space is exhausted) and never warns.
        seed: seed of the start vector.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    iters = check_int(iters, "iters", minimum=1)
    tol = check_nonnegative(tol, "tol")
    seed = check_int(seed, "seed", minimum=0)
    f, params, out, pullback = _ntk_products(model, x)
    dim = out.numel()
    g = torch.Generator(device="cpu").manual_seed(seed)
    q = torch.randn(dim, generator=g, dtype=torch.float64)
    basis = [q / q.norm()]
    alpha: list[float] = []
    beta: list[float] = []
    top, resid = 0.0, math.inf
    for _ in range(min(iters, dim)):
        (v,) = pullback(basis[-1].to(out.dtype).to(out.device).reshape(out.shape))  # J^T q
        _, w = jvp(f, (params,), (v,))  # J J^T q
        w = w.reshape(-1).to(torch.float64).cpu()
        alpha.append(float(w @ basis[-1]))
        qm = torch.stack(basis, 1)
        for _ in range(2):  # full re-orthogonalization, twice is enough
            w = w - qm @ (qm.T @ w)
        t = torch.diag(torch.tensor(alpha, dtype=torch.float64))
        if beta:
            b = torch.tensor(beta, dtype=torch.float64)
            t = t + torch.diag(b, 1) + torch.diag(b, -1)
        evals, evecs = torch.linalg.eigh(t)
        top = float(evals[-1])
        nb = float(w.norm())
        if nb <= 1e-12 * max(abs(top), 1e-300):  # the Krylov space is invariant: the Ritz values are exact
            return top
        resid = nb * abs(float(evecs[-1, -1]))  # |Theta u - top u| for the top Ritz vector u
        if resid <= tol * abs(top):
            return top
        beta.append(nb)
        basis.append(w / nb)
    if tol > 0 and len(alpha) < dim:
        warnings.warn(f"ntk_top_eigenvalue: not converged after {iters} iterations (relative residual "
                      f"{resid / max(abs(top), 1e-300):.1e} > tol = {tol:g}); the value is a lower bound",
                      RuntimeWarning, stacklevel=2)
    return top


class LinearizedDescent(NamedTuple):
    r"""What :func:`linearized_descent` computed. ``loss[k]`` is :math:`\tfrac12\lVert f^{\rm lin}_k(X) - y\rVert^2`
    for :math:`k = 0..K` (float64), ``K = len(loss) - 1`` the steps taken."""

    loss: np.ndarray  #: [K+1] loss of the linearized network after each step
    delta: dict  #: :math:`\delta\theta_K = \theta_K - \theta_0`, by parameter name
    a: torch.Tensor  #: cumulative residual :math:`A_K = \eta\sum_{j<K} r_j`, shaped like ``model(x)``
    records: dict  #: step -> ``(dz, da, df)`` at the steps in ``record``
    observed: list  #: ``observe(k, dz, da, df)`` for ``k = 0..K`` (empty without ``observe``)
    diverged: bool  #: the loss became non-finite (the run stopped there)
    reached: bool  #: the loss reached ``stop_fraction`` of its initial value

    @property
    def steps(self) -> int:
        return len(self.loss) - 1


def linearized_descent(
    model,
    x,
    y,
    *,
    lr: float,
    steps: int,
    stop_fraction: float | None = None,
    record: Iterable[int] = (),
    observe: Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor], Any] | None = None,
) -> LinearizedDescent:
    r"""Full-batch gradient descent on the summed squared loss of the *linearized* network
    :math:`f_0 + J_f(\theta - \theta_0)` of an :class:`ntk_lib.models.MLP` (module docstring), with its own
    Jacobian at initialization: the lazy prediction at this width and initialization.

    Each step takes one Jacobian-vector product, which gives the change of the last hidden layer's pre-
    and post-activations and of the output, :math:`(\delta z, \delta a, \delta f) = J_{(z, a, f)}\,\delta\theta_k`,
    and one vector-Jacobian product, :math:`\delta\theta_{k+1} = \delta\theta_k - \eta J_f^\top r_k`; the
    Jacobian is never formed.

    Args:
        model: an :class:`ntk_lib.models.MLP` with ``depth >= 2``; left unchanged.
        x, y: training inputs ``[m, in_features]`` and targets shaped like ``model(x)``.
        lr: the step :math:`\eta > 0` applied to every parameter (pass ``lr * model.lr_multiplier``
            where the training loop applies a multiplier). Stable iff :math:`\eta\lambda_{\max} < 2`
            (:func:`ntk_top_eigenvalue`).
        steps: the most steps to take (integer ``>= 0``).
        stop_fraction: stop at the first step :math:`k \ge 1` whose loss is at most this fraction of the
            initial loss (the rule of a training loop that stops at a fixed fraction).
        record: steps at which ``(dz, da, df)`` are kept (``LinearizedDescent.records``).
        observe: called as ``observe(k, dz, da, df)`` at every step ``k = 0..K`` (zeros at ``k = 0``);
            its return values are collected in ``LinearizedDescent.observed``, so that a quantity can
            be followed at every step without storing the hidden layers.

    Divergence rule (that of :func:`ntk_lib.training.train_gd`): a loss that turns non-finite stops the
    run and sets ``diverged``; no exception is raised.
    """
    last_hidden(model, x[:1] if torch.is_tensor(x) else x)  # type check
    x = _model_input(model, x)
    lr = check_positive(lr, "lr")
    steps = check_int(steps, "steps", minimum=0)
    if stop_fraction is not None:
        stop_fraction = check_positive(stop_fraction, "stop_fraction")
    if isinstance(record, (str, bytes)) or not isinstance(record, Iterable):
        raise TypeError(f"record must be an iterable of integer steps, got {type(record).__name__}")
    if torch.is_tensor(record) or isinstance(record, np.ndarray):
        record = record.tolist()
    rec = {check_int(r, "record entries", minimum=0) for r in record}
    if observe is not None and not callable(observe):
        raise TypeError(f"observe must be callable, got {type(observe).__name__}")
    params = {k: v.detach() for k, v in model.named_parameters()}
    wrapper = _LastHiddenAndOutput(model)

    def fn(p):
        return functional_call(wrapper, {"model." + k: v for k, v in p.items()}, (x,))

    def f_out(p):
        return functional_call(model, p, (x,))

    with torch.enable_grad():
        f0, pullback = vjp(f_out, params)
    f0 = f0.detach()
    yy = as_tensor(y, "y", dtype=f0.dtype, device=f0.device)
    if yy.shape != f0.shape:
        raise ValueError(f"y must have the shape of model(x), {tuple(f0.shape)}, got {tuple(yy.shape)}")
    with torch.no_grad():
        z0, _ = last_hidden(model, x)
    delta = {k: torch.zeros_like(v) for k, v in params.items()}
    a = torch.zeros_like(f0)
    losses: list[float] = []
    records: dict = {}
    observed: list = []
    diverged = reached = False
    for k in range(steps + 1):
        if k == 0:
            dz, da, df = torch.zeros_like(z0), torch.zeros_like(z0), torch.zeros_like(f0)
        else:
            _, (dz, da, df) = jvp(fn, (params,), (delta,))
        r = f0 + df - yy
        lv = 0.5 * float((r.to(torch.float64) ** 2).sum())
        if not math.isfinite(lv):
            diverged = True
            break
        losses.append(lv)
        if k in rec:
            records[k] = (dz, da, df)
        if observe is not None:
            observed.append(observe(k, dz, da, df))
        if k > 0 and stop_fraction is not None and lv <= stop_fraction * losses[0]:
            reached = True
            break
        if k == steps:
            break
        (grad,) = pullback(r)
        delta = {name: delta[name] - lr * grad[name] for name in delta}
        a = a + lr * r
    return LinearizedDescent(np.asarray(losses), delta, a, records, observed, diverged, reached)
