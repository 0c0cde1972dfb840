r"""Layer-to-layer correlation maps of deep infinite-width networks on the sphere.

For ReLU, :math:`\rho^{(l+1)} = h(\rho^{(l)})` (St-Arnaud et al. 2025, Definition 5 and Lemma 1),
with the error :math:`e_l = 1-\rho^{(l)}` tracked without cancellation; the :math:`\eta` kernels of
their Prop. 8 and the depth scale :math:`\max_{i\ne j} 1/\sqrt{1-h(x_i^\top x_j)}` of Thm 3 and
Figs 6 and 8. The maps :math:`h` and :math:`h'` themselves live in :mod:`ntk_lib.analytic`.
"""

from __future__ import annotations

import math

import torch

from ._validate import as_tensor, check_depth, check_int, check_positive, check_real, row_norms, to_float64
from .analytic import _check_unit_interval, _input_cosines, _relu_step, _unit_rows

__all__ = [
    "relu_correlations",
    "eta_recurrence",
    "eta_fixed_point",
    "depth_scale",
    "THETA_BAR_LOG_COEFFICIENT",
    "theta_bar_deviation",
    "theta_bar_deviations",
    "eta_circle_eigenvalues",
    "depth_offset",
    "sigmoid_squared_taylor",
]


def relu_correlations(rho1, depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Layer correlations on the sphere, :math:`\rho^{(l+1)} = h(\rho^{(l)})` (Lemma 1), and their
    errors :math:`e_l = 1 - \rho^{(l)}` computed without cancellation. Both ``[depth, *shape]``."""
    depth = check_depth(depth)
    rho = to_float64(_check_unit_interval(rho1, "rho1"))
    u = (1 - rho).clamp(0.0, 2.0)
    rhos = torch.empty((depth, *rho.shape), dtype=torch.float64, device=rho.device)
    errs = torch.empty_like(rhos)
    rhos[0], errs[0] = rho, u
    for layer in range(1, depth):
        rho, u, _ = _relu_step(rho, u)
        rhos[layer], errs[layer] = rho, u
    return rhos, errs


def _sigmoid_squared(z):
    return torch.sigmoid(z) ** 2


def eta_recurrence(z1, depth: int) -> torch.Tensor:
    r"""Prop. 8's kernels: :math:`\eta^{(1)} = x^\top x'`, :math:`\eta^{(L+1)} = (1+e^{-\eta^{(L)}})^{-2}`.
    ``z1`` holds inner products in :math:`[-1, 1]`; returns ``[depth, *z1.shape]``."""
    depth = check_depth(depth)
    z = to_float64(_check_unit_interval(z1, "z1"))
    out = torch.empty((depth, *z.shape), dtype=torch.float64, device=z.device)
    out[0] = z
    for layer in range(1, depth):
        z = _sigmoid_squared(z)
        out[layer] = z
    return out


def eta_fixed_point(tol: float = 1e-15) -> float:
    r"""The unique :math:`\beta` with :math:`\beta = (1+e^{-\beta})^{-2}` (the limit in Prop. 8), by bisection
    to an interval of width ``tol`` > 0 (at most 64 halvings: below float64 spacing nothing changes)."""
    tol = check_positive(tol, "tol")
    lo, hi = 0.0, 1.0  # g(z) = sigmoid(z)^2 - z is > 0 at 0 and < 0 at 1
    for _ in range(64):
        if hi - lo <= tol:
            break
        mid = 0.5 * (lo + hi)
        if 1.0 / (1.0 + math.exp(-mid)) ** 2 > mid:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def depth_scale(x) -> float:
    r""":math:`\max_{i\ne j} 1/\sqrt{1-h(x_i^\top x_j)} = \max_{i\ne j} 1/\sqrt{1-\rho^{(2)}(x_i,x_j)}`
    for the rows of ``x`` projected to the sphere: the depth of Thm 3, Corollary 1 and Figs 6, 8.
    ``1 - h`` is computed without cancellation, so nearly colinear rows give large, exact values.
    Rows of any magnitude are scaled before normalizing; an all-zero row (no direction) is refused."""
    x = to_float64(as_tensor(x, "x", ndim=2))
    if x.shape[0] < 2:
        raise ValueError(f"x needs at least two rows, got {x.shape[0]}")
    scale, _ = row_norms(x)
    if bool((scale == 0).any()):
        raise ValueError(f"x has an all-zero row (row {int(torch.argmin(scale))}), which has no direction on the sphere")
    xh = _unit_rows(x)
    cos, one_minus = _input_cosines(xh, xh)
    _, omh, _ = _relu_step(cos, one_minus)
    omh.fill_diagonal_(float("inf"))
    smallest = float(omh.min())
    if smallest <= 0:
        raise ValueError("x has two identical directions: the depth scale is infinite")
    return 1.0 / math.sqrt(smallest)


# --------------------------------------------------------------------------- large-depth asymptotics

#: :math:`\kappa` in :math:`\bar\Theta^{(L)} - \frac14 = \kappa\frac{\ln L}{L} + \frac{\mu(\rho)}{L} + o(1/L)`
#: (see :func:`theta_bar_deviation`); exact, the same for every input correlation.
THETA_BAR_LOG_COEFFICIENT = 3 / 8


def _sin_minus_t_cos_scalar(theta: float, u: float) -> float:
    # sin t - t cos t with cos t = 1 - u; its Taylor series below 0.1, where the difference cancels
    if theta < 0.1:
        t2 = theta * theta
        return theta * t2 * (1 / 3 + t2 * (-1 / 30 + t2 * (1 / 840 + t2 * (-1 / 45360 + t2 / 3991680))))
    return math.sqrt(u * (2 - u)) - theta * (1 - u)


def _depth_list(depths, name: str = "depths") -> list[int]:
    """A non-empty list of depths >= 1; a single integer (Python, NumPy or 0-d tensor) is one depth."""
    if isinstance(depths, (str, bytes)) or (torch.is_tensor(depths) and depths.ndim == 0):
        return [check_depth(depths, name)]
    try:
        items = list(depths)
    except TypeError:  # not iterable: it must be one integer depth
        return [check_depth(depths, name)]
    if not items:
        raise ValueError(f"{name} must not be empty")
    return [check_depth(d, name) for d in items]


def theta_bar_deviation(rho1: float, depths) -> tuple[list[float], list[float]]:
    r"""The correlation error :math:`e_L = 1-\rho^{(L)}` and the scaled deviation
    :math:`D_L = L\,(\bar\Theta^{(L)} - \frac14)` at the requested depths, free of cancellation.

    With :math:`q_L = 1 - h'(\rho^{(L)}) = \theta_L/\pi` (:math:`\cos\theta_L = \rho^{(L)}`),
    Proposition 5 multiplied by :math:`L+1` becomes

    .. math::

       D_{L+1} = (1-q_L)\,D_L + \frac{3 - L\,q_L}{4} - e_{L+1}, \qquad D_1 = \rho^{(1)} - \tfrac14,

    and :math:`e_{L+1} = e_L - (\sin\theta_L - \theta_L\cos\theta_L)/\pi` with the sine difference from
    its Taylor series when :math:`\theta_L` is small. Neither :math:`\bar\Theta - \frac14` nor
    :math:`1-\rho` is ever formed as a difference of nearly equal numbers, so float64 keeps about ten
    significant digits of :math:`D_L` at :math:`L = 10^7` (a plain loop over scalars: about 1 s per
    :math:`10^6` layers).

    Parameters
    ----------
    rho1 : float
        Input correlation :math:`x^\top x'` in :math:`[-1, 1)`.
    depths : int or list of int
        Depths :math:`L \ge 1` at which to report :math:`e_L` and :math:`D_L` (a single integer is
        one depth).

    Returns
    -------
    (list of float, list of float)
        :math:`e_L` and :math:`D_L`, in the order of ``depths``.
    """
    rho1 = check_real(rho1, "rho1")
    if not (-1.0 <= rho1 < 1.0):
        raise ValueError(f"rho1 must lie in [-1, 1), got {rho1}")
    wanted = _depth_list(depths)
    targets = set(wanted)
    u, dev, found = 1.0 - float(rho1), float(rho1) - 0.25, {}
    if 1 in targets:
        found[1] = (u, dev)
    for layer in range(1, max(wanted)):
        theta = 2.0 * math.asin(math.sqrt(0.5 * u))
        u_next = u - _sin_minus_t_cos_scalar(theta, u) / math.pi
        q = theta / math.pi
        dev = (1.0 - q) * dev + (3.0 - layer * q) / 4.0 - u_next
        u = u_next
        if layer + 1 in targets:
            found[layer + 1] = (u, dev)
    return [found[d][0] for d in wanted], [found[d][1] for d in wanted]


def theta_bar_deviations(rho1, depths) -> tuple[torch.Tensor, torch.Tensor]:
    r""":func:`theta_bar_deviation` for every entry of an array of input correlations, e.g. a Gram
    matrix :math:`XX^\top` of points on the sphere or the vector :math:`Xx` of Theorem 3.

    Entries equal to 1 (the diagonal) give :math:`e_L = 0` and :math:`D_L = \frac34 L` exactly
    (:math:`\bar\Theta^{(L)}(x,x) = 1`); each distinct value is run once through the scalar
    recurrence, so the cost is about one second per :math:`10^6` layers per distinct value.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        :math:`e_L` and :math:`D_L = L(\bar\Theta^{(L)}-\frac14)`, float64, shape
        ``[len(depths), *rho1.shape]``; :math:`\bar\Theta^{(L)} = \frac14 + D_L/L` entry by entry.
    """
    r = to_float64(_check_unit_interval(rho1, "rho1"))
    wanted = _depth_list(depths)
    values, inverse = torch.unique(r.reshape(-1).cpu(), return_inverse=True)
    e_out = torch.empty((len(wanted), len(values)), dtype=torch.float64)
    d_out = torch.empty_like(e_out)
    for k, v in enumerate(values.tolist()):
        if v == 1.0:
            e_out[:, k] = 0.0
            d_out[:, k] = torch.tensor([0.75 * L for L in wanted], dtype=torch.float64)
        else:
            e_k, d_k = theta_bar_deviation(v, wanted)
            e_out[:, k] = torch.tensor(e_k, dtype=torch.float64)
            d_out[:, k] = torch.tensor(d_k, dtype=torch.float64)
    shape = (len(wanted), *r.shape)
    return e_out[:, inverse].reshape(shape).to(r.device), d_out[:, inverse].reshape(shape).to(r.device)


def depth_offset(errors, depths) -> torch.Tensor:
    r""":math:`\nu_L = \frac{3\pi}{\sqrt2}\,e_L^{-1/2} - L - \frac32\ln L`, which tends to a constant
    :math:`\nu(\rho^{(1)})`: :math:`e_L = \frac{9\pi^2}{2\,(L + \frac32\ln L + \nu + o(1))^2}`; and
    :math:`L(\bar\Theta^{(L)}-\frac14) - \frac38\ln L \to \nu/4 - \frac18`."""
    e = as_tensor(errors, "errors", dtype=torch.float64)
    L = as_tensor(depths, "depths", dtype=torch.float64)
    if e.shape != L.shape:
        raise ValueError(f"errors and depths must have the same shape, got {tuple(e.shape)} and {tuple(L.shape)}")
    if bool((e <= 0).any()) or bool((L < 1).any()):
        raise ValueError("errors must be > 0 and depths >= 1")
    return 3 * math.pi / math.sqrt(2) / e.sqrt() - L - 1.5 * L.log()


def sigmoid_squared_taylor(order: int) -> list:
    r"""Exact Maclaurin coefficients :math:`c_0, \dots, c_{\text{order}}` of :math:`(1+e^{-z})^{-2}`,
    the map of Prop. 8, as ``fractions.Fraction`` (:math:`\frac14, \frac14, \frac1{16}, -\frac1{48}, \dots`).

    By power-series division: :math:`\sigma = 1/(1+e^{-z})`, then :math:`\sigma^2` by Cauchy product.
    """
    from fractions import Fraction

    order = check_int(order, "order", minimum=0)
    den = [Fraction(2)] + [Fraction((-1) ** k, math.factorial(k)) for k in range(1, order + 1)]
    sig = [Fraction(0)] * (order + 1)
    for k in range(order + 1):  # den * sig = 1
        acc = Fraction(int(k == 0)) - sum((den[j] * sig[k - j] for j in range(1, k + 1)), Fraction(0))
        sig[k] = acc / den[0]
    return [sum((sig[j] * sig[k - j] for j in range(k + 1)), Fraction(0)) for k in range(order + 1)]


def eta_circle_eigenvalues(n_points: int, depths, *, digits: int | None = None) -> torch.Tensor:
    r"""Eigenvalues of the Gram matrix :math:`\eta^{(L)}(XX^\top)` of Prop. 8 for ``n_points``
    equally spaced points :math:`x_j = (\cos\frac{2\pi j}N, \sin\frac{2\pi j}N)` on :math:`S^1`,
    free of round-off.

    The Gram matrix is circulant, :math:`G_{jk} = \eta^{(L)}(\cos\frac{2\pi(j-k)}N)`, so its eigenvalues
    are the discrete cosine coefficients of its first row,

    .. math:: \lambda_m = \sum_{j=0}^{N-1}\eta^{(L)}\big(\cos\tfrac{2\pi j}N\big)\cos\tfrac{2\pi mj}N,
       \qquad m = 0, \dots, \lfloor N/2\rfloor,

    with eigenvectors :math:`\cos`, :math:`\sin(2\pi mj/N)` (multiplicity 2 for :math:`0 < m < N/2`).
    As :math:`L` grows, :math:`\eta^{(L)}` is within :math:`\sim 0.28^L` of the constant :math:`\beta`,
    and a float64 Gram matrix resolves nothing below :math:`10^{-16}\lambda_0`. Here the values
    :math:`\eta^{(L)}` are iterated in ``digits``-digit arithmetic (mpmath; default
    :math:`30 + \lceil 0.6 L_{\max}\rceil`, enough for the :math:`0.28^L` spread), their deviations
    from the value at :math:`x_{N/2}` are rounded to float64 (full relative precision), and the
    :math:`m \ge 1` sums taken over the deviations (a constant row adds only to :math:`\lambda_0`).

    Returns
    -------
    torch.Tensor
        float64, shape ``[len(depths), N // 2 + 1]``: column ``m`` is :math:`\lambda_m` at each depth.
    """
    import mpmath

    n = check_int(n_points, "n_points", minimum=3)
    wanted = _depth_list(depths)
    deepest = max(wanted)
    dps = 30 + math.ceil(0.6 * deepest) if digits is None else check_int(digits, "digits", minimum=20)
    half = n // 2
    weights = torch.tensor([1.0 if j in (0, n - j) else 2.0 for j in range(half + 1)], dtype=torch.float64)
    j = torch.arange(half + 1, dtype=torch.float64)
    cosines = torch.cos(2 * math.pi * torch.outer(j, j) / n)  # [m, j]
    out = torch.empty((len(wanted), half + 1), dtype=torch.float64)
    targets = {L: i for i, L in enumerate(wanted)}
    with mpmath.workdps(dps):
        vals = [mpmath.cos(2 * mpmath.pi * k / n) for k in range(half + 1)]  # eta^(1) = x^T x'
        for layer in range(1, deepest + 1):
            if layer > 1:
                vals = [1 / (1 + mpmath.exp(-v)) ** 2 for v in vals]
            if layer in targets:
                ref = vals[half]
                dev = torch.tensor([float(v - ref) for v in vals], dtype=torch.float64)
                lam = cosines @ (weights * dev)
                lam[0] = float(n * ref + mpmath.fsum(w * (v - ref) for w, v in zip(weights.tolist(), vals)))
                for i in [i for L, i in targets.items() if L == layer]:
                    out[i] = lam
    return out
