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

**Drift of the last hidden layer.** With :math:`f = \sqrt{w/n}\, W a`, :math:`a = \sigma(z)` and
:math:`z = z^{(L-1)}`, the lazy dynamics move neuron :math:`i` by
:math:`\Delta z_i(x) = -\sqrt{w/n}\sum_{x'}\Theta^{(L-1)}(x,x')\,\sigma'(z_i(x'))\,(W^\top A(x'))_i`,
each :math:`O(n^{-1/2})`. Summed over the :math:`n` neurons (law of large numbers; :math:`W` is
independent of :math:`z` at initialization),

.. math::

   \lVert \Delta a(x)\rVert_2^2 \to w \sum_{x', x''} \Theta^{(L-1)}(x,x')\,\Theta^{(L-1)}(x,x'')\,
   P_3(x, x', x'')\,\langle A(x'), A(x'')\rangle ,

with :math:`P_3` the probability that the three jointly Gaussian pre-activations
:math:`z(x), z(x'), z(x'') \sim \mathcal N(0, \Sigma^{(L-1)})` are all positive,
:math:`P_3 = \tfrac18 + \tfrac1{4\pi}(\arcsin\rho_{12} + \arcsin\rho_{13} + \arcsin\rho_{23})`
(Sheppard's orthant formula); for the pre-activations :math:`\Delta z` the same sum holds with
:math:`P_2(x', x'') = \tfrac14 + \tfrac{1}{2\pi}\arcsin\rho(x',x'')`. The layer drift is :math:`O(1)`
although every neuron's is :math:`O(n^{-1/2})`, and relative to :math:`\lVert a_0(x)\rVert \approx
\sqrt{n\,\Sigma^{(L-1)}(x,x)/2}` it falls like :math:`n^{-1/2}`.
"""

from __future__ import annotations

import math

import torch

from ._validate import as_tensor, check_depth, check_positive
from .analytic import relu_kernel_layers

__all__ = [
    "ntk_layer_split",
    "cumulative_residual",
    "orthant_probability",
    "lazy_layer_drift",
    "last_hidden",
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


def orthant_probability(c12, c13=None, c23=None) -> torch.Tensor:
    r"""Probability that zero-mean jointly Gaussian variables with unit variances and correlations
    ``c12`` (and ``c13``, ``c23``) are all positive: :math:`\tfrac14 + \arcsin(\rho_{12})/2\pi` for two,
    :math:`\tfrac18 + (\arcsin\rho_{12} + \arcsin\rho_{13} + \arcsin\rho_{23})/4\pi` for three
    (Sheppard 1899). Correlations must lie in :math:`[-1, 1]` (broadcast together)."""
    cs = [c for c in (c12, c13, c23) if c is not None]
    if len(cs) not in (1, 3):
        raise ValueError("give one correlation (two variables) or three (three variables)")
    ts = [as_tensor(c, f"c{i}", dtype=torch.float64, allow_empty=True) for i, c in enumerate(cs)]
    for t in ts:
        if bool(((t < -1 - 1e-12) | (t > 1 + 1e-12)).any()):
            raise ValueError("correlations must lie in [-1, 1]")
    asin = [torch.arcsin(t.clamp(-1.0, 1.0)) for t in ts]
    if len(ts) == 1:
        return 0.25 + asin[0] / (2 * math.pi)
    return 0.125 + (asin[0] + asin[1] + asin[2]) / (4 * math.pi)


def lazy_layer_drift(theta_prev, sigma_prev, a, *, weight_var: float = 1.0, pre_activation: bool = False) -> torch.Tensor:
    r"""Infinite-width lazy prediction of the last hidden layer's drift :math:`\lVert\Delta a(x)\rVert_2`
    (or :math:`\lVert\Delta z(x)\rVert_2` with ``pre_activation=True``) at each training input
    (module docstring). ReLU activation, readout :math:`\sqrt{w/n}\,W a`.

    Args:
        theta_prev: :math:`\Theta^{(L-1)}_\infty(X, X)`, ``[n, n]``, the NTK of the network up to
            the last hidden pre-activation.
        sigma_prev: :math:`\Sigma^{(L-1)}(X, X)`, ``[n, n]``, the covariance of that pre-activation.
        a: cumulative residual :math:`A` (:func:`cumulative_residual`), ``[n]`` or ``[n, c]``.
        weight_var: the readout's :math:`w`.

    Returns:
        ``[n]`` float64: the :math:`O(1)` limit of :math:`\lVert\Delta a(x)\rVert_2` as the width grows.
    """
    th = as_tensor(theta_prev, "theta_prev", dtype=torch.float64, ndim=2)
    sg = as_tensor(sigma_prev, "sigma_prev", dtype=torch.float64, ndim=2, device=th.device)
    aa = as_tensor(a, "a", dtype=torch.float64, device=th.device)
    n = th.shape[0]
    if th.shape != (n, n) or sg.shape != (n, n):
        raise ValueError(f"theta_prev and sigma_prev must both be [n, n], got {tuple(th.shape)} and {tuple(sg.shape)}")
    if aa.ndim == 1:
        aa = aa[:, None]
    if aa.ndim != 2 or aa.shape[0] != n:
        raise ValueError(f"a must be [n] or [n, c] with n = {n}, got shape {tuple(aa.shape)}")
    w = check_positive(weight_var, "weight_var")
    d = sg.diagonal()
    if bool((d <= 0).any()):
        raise ValueError("sigma_prev must have a positive diagonal")
    rho = (sg / torch.sqrt(d[:, None] * d[None, :])).clamp(-1.0, 1.0)
    gram_a = aa @ aa.T  # <A(x'), A(x'')>
    if pre_activation:
        p2 = orthant_probability(rho)
        sq = torch.einsum("xi,xj,ij->x", th, th, p2 * gram_a)
    else:
        sq = torch.empty(n, dtype=torch.float64, device=th.device)
        for i in range(n):  # [n, n] work per input keeps memory at O(n^2)
            p3 = orthant_probability(rho[i][:, None], rho[i][None, :], rho)
            sq[i] = th[i] @ (p3 * gram_a) @ th[i]
    return torch.sqrt(w * sq.clamp_min(0.0))


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

