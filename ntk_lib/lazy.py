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

**What the hidden layer does meanwhile.** The linearized network moves its parameters by
:math:`\delta\theta_k = -J_f(X)^\top A_k` (:math:`J_f` the Jacobian of the outputs on the training
inputs) and any function :math:`g` of the parameters, such as the last hidden layer
:math:`z^{(L-1)}(x)` or :math:`a^{(L-1)}(x) = \sigma(z^{(L-1)}(x))`, by its first-order change

.. math::

   \delta g(x) = J_g(x)\,\delta\theta_k = -J_g(x) J_f(X)^\top A_k ,

one vector-Jacobian product (for :math:`J_f^\top A_k`) and one Jacobian-vector product, at the width
and initialization of the network at hand (:func:`linearized_change`). Every coordinate of
:math:`\delta a` is :math:`O(n^{-1/2})` and :math:`\lVert\delta a(x)\rVert_2` is :math:`O(1)`: the
:math:`O(n^{-1/2})` off-diagonal entries of :math:`J_z J_z^\top` add up, over the :math:`n` neurons, to a
contribution of the same order as its diagonal :math:`\Theta^{(L-1)}`, so the layer's drift is not a
function of the infinite-width kernels alone and is measured here rather than given in closed form.
"""

from __future__ import annotations

import torch
from torch.func import functional_call, jvp

from ._validate import as_tensor, check_depth, check_positive
from .analytic import relu_kernel_layers

__all__ = [
    "ntk_layer_split",
    "cumulative_residual",
    "last_hidden",
    "linearized_change",
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


def _eig(k: torch.Tensor, name: str):
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"{name} must be a square [n, n] matrix, got shape {tuple(k.shape)}")
    if not torch.allclose(k, k.T, rtol=1e-8, atol=1e-10 * float(k.abs().max().clamp_min(1e-300))):
        raise ValueError(f"{name} must be symmetric")
    return torch.linalg.eigh(k)


def cumulative_residual(k_train, r0, *, steps, lr: float) -> torch.Tensor:
    r""":math:`A_k = \eta\sum_{j<k} r_j` of lazy gradient descent (module docstring) for each ``k`` in
    ``steps``: ``[T, n(, c)]`` float64. The output has then moved by :math:`-K A_k`, layer
    :math:`l`'s share of it is :math:`-\Theta_l A_k`, and the residual is :math:`r_0 - K A_k`.

    Args:
        k_train: constant kernel :math:`K(X, X)`, symmetric ``[n, n]``.
        r0: initial residual :math:`f_0(X) - y`, ``[n]`` or ``[n, c]``.
        steps: non-negative integers (a list or 1-D tensor).
        lr: step size :math:`\eta > 0`. Modes with :math:`\eta\lambda > 2` grow (no error is raised:
            the returned values show the divergence).
    """
    k = as_tensor(k_train, "k_train", dtype=torch.float64, ndim=2)
    r = as_tensor(r0, "r0", dtype=torch.float64, device=k.device)
    if r.ndim not in (1, 2) or r.shape[0] != k.shape[0]:
        raise ValueError(f"r0 must be [n] or [n, c] with n = {k.shape[0]}, got shape {tuple(r.shape)}")
    lr = check_positive(lr, "lr")
    ks = torch.as_tensor(steps, dtype=torch.float64, device=k.device).reshape(-1)
    if ks.numel() == 0 or bool((ks < 0).any()) or bool((ks != torch.round(ks)).any()):
        raise ValueError("steps must be a non-empty sequence of non-negative integers")
    lam, vec = _eig(k, "k_train")
    coef = vec.T @ (r if r.ndim == 2 else r[:, None])  # [n, c]
    factor = (1 - lr * lam)[None, :] ** ks[:, None]  # [T, n]
    small = lam.abs() <= 1e-12 * lam.abs().max()
    safe = torch.where(small, torch.ones_like(lam), lam)
    gain = torch.where(small[None, :], lr * ks[:, None], (1 - factor) / safe[None, :])
    a = torch.einsum("ij,tj,jc->tic", vec, gain, coef)
    return a if r.ndim == 2 else a[..., 0]


def last_hidden(model, x) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Pre- and post-activation :math:`(z^{(L-1)}(x), a^{(L-1)}(x))` of the last hidden layer of a
    :class:`ntk_lib.models.MLP` (``depth >= 2``), each ``[m, width]``."""
    layers = getattr(model, "layers", None)
    if layers is None or not hasattr(model, "activation") or len(layers) < 2:
        raise TypeError("model must be an ntk_lib.models.MLP with depth >= 2")
    h = x
    for layer in layers[:-2]:
        h = model.activation.fn(layer(h))
    z = layers[-2](h)
    return z, model.activation.fn(z)


class _LastHiddenAndOutput(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        z, a = last_hidden(self.model, x)
        return z, a, self.model(x)


def linearized_change(model, x, a) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""First-order change :math:`-J_g(x)\,J_f(x)^\top A` (module docstring) of the last hidden layer's
    pre- and post-activations and of the output of an :class:`ntk_lib.models.MLP`, when its parameters
    move by :math:`\delta\theta = -J_f(x)^\top A`: the lazy (linearized) dynamics at this width and
    initialization, with :math:`A` the cumulative residual of the training inputs ``x``
    (:func:`cumulative_residual` times the step size, and times ``model.lr_multiplier`` where the
    training loop applies one).

    Args:
        model: an :class:`ntk_lib.models.MLP` with ``depth >= 2``; left unchanged.
        x: training inputs ``[m, in_features]``.
        a: :math:`A`, shaped like ``model(x)``.

    Returns:
        ``(dz, da, df)``: ``[m, width]``, ``[m, width]`` and the shape of ``model(x)``, in the model's dtype.
    """
    last_hidden(model, x[:1])  # type check
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
