r"""Architectures written once: each layer gives both a ``torch.nn`` module and its infinite-width kernel.

.. code-block:: python

   from ntk_lib import layers as L
   net = L.serial(L.Dense(512, weight_var=2.0, bias_var=0.05), L.Relu(),
                  L.Residual(L.serial(L.Dense(512, bias_var=0.05), L.Relu()), alpha=0.5),
                  L.Dense(1))
   k = net.kernel(x1, x2)                  # k.nngp, k.ntk: [n1, n2] float64, infinite width
   model = net.build(in_features=5, seed=0)  # the same architecture, NTK parameterization

In the manner of neural-tangents' ``stax``. Conventions are those of :func:`ntk_lib.analytic.relu_ntk`:
a :class:`Dense` layer with :math:`w` = ``weight_var`` and :math:`b` = ``bias_var`` computes
:math:`z = \sqrt{w/n_{in}}\,Wa + \sqrt b\,\beta` with :math:`W_{ij},\beta_i\sim\mathcal N(0,1)`, so the
first one gives :math:`\Sigma^{(1)} = w\,x^\top x'/n_0 + b`, and
``serial(Dense(n, w, b), Relu(), ..., Dense(1, w, b))`` with :math:`L` Dense layers has the kernel
``relu_ntk(x, depth=L, weight_var=w, bias_var=b)`` (the tests check this to 1e-12).

**What the kernel tracks.** At infinite width the coordinates :math:`z_i(\cdot)` of every hidden
representation are i.i.d. copies of one random function :math:`Z(\cdot)` (Yang's Tensor Programs), and
each parameter's gradient decouples across coordinates. For a representation the recursion carries,
over the pairs :math:`(x, x')`,

* the second moment :math:`K(x,x') = \lim \frac1n\sum_i z_i(x)z_i(x') = \mathbb E[Z(x)Z(x')]`
  (``nngp``; it is *not* a covariance when :math:`Z` has a mean),
* the correlation gap :math:`u(x,x') = 1 - K(x,x')/\sqrt{K(x,x)K(x',x')}`, propagated on its own by
  rules free of cancellation (as :math:`u = 1-\rho` in :mod:`ntk_lib.analytic`), so that nearly colinear
  pairs and pairs of very different norms keep full relative precision (below),
* the mean :math:`m(x) = \mathbb E[Z(x)]`,
* the tangent kernel :math:`T(x,x') = \lim\frac1n\sum_i \nabla_\theta z_i(x)\cdot\nabla_\theta z_i(x')`
  (``ntk``), over all parameters before the representation,
* whether :math:`Z` is a centred Gaussian process (after a :class:`Dense`), or a general one.

The network's input, and :class:`FourierFeatures` of it, are deterministic: there the features
themselves are carried, and activations act on them exactly.

**Rules.**

* :class:`Dense` (fresh :math:`W` independent of its input :math:`a`): the output is a centred Gaussian
  process with :math:`\Sigma = wK_a + b`, and
  :math:`\Theta = \Sigma + wT_a` (gradients of :math:`W,\beta` give :math:`wK_a+b`; those of earlier
  parameters reach :math:`z_i` through :math:`\sum_j W_{ij}\nabla a_j`, whose cross terms
  :math:`j\ne j'` vanish). With :math:`T_a = \dot V\Theta_{prev}` after an activation this is
  :math:`\Theta^{(l+1)} = \Sigma^{(l+1)} + \dot\Sigma^{(l+1)}\Theta^{(l)}`, Jacot et al.'s recursion.
* An activation :math:`\sigma` of a centred Gaussian :math:`u\sim\mathcal{GP}(0,\Sigma)`:
  :math:`K = V_\sigma(\Sigma)`, :math:`T = \dot V_\sigma(\Sigma)\,\Theta_u`,
  :math:`m(x) = \mathbb E\,\sigma(u(x))` (:mod:`ntk_lib.activations`; ReLU by the arc-cosine map of
  ``ntk_lib.activations.relu_pair``). An activation of a non-Gaussian representation (e.g. two in a
  row, or one right after a residual block whose branch ends in an activation) has no closed form here
  and is refused.
* :class:`Residual`, :math:`h' = h + a\,g(h)` with :math:`a = \alpha\cdot` mask, and a branch :math:`g`
  that starts with a :class:`Dense` layer (required). This is the case where the stream is not
  centred (NTK-ECRN, :math:`g = \sigma(W\cdot+b)`), derived below.

**The correlation gap.** :math:`1-\rho` computed as ``1 - K / sqrt(q q')`` loses its relative precision
exactly where ReLU needs it (:math:`\dot V = \tfrac12(1-\theta/\pi)` with
:math:`\theta\approx\sqrt{2(1-\rho)}`: an absolute error :math:`\epsilon` in :math:`1-\rho` moves
:math:`\dot V` by :math:`\sqrt\epsilon\approx10^{-8}` for colinear inputs such as :math:`x, 2x`), and the
formula :math:`(D-(\sqrt q-\sqrt{q'})^2)/2\sqrt{qq'}` from the distance cancels when the norms differ a
lot. Instead :math:`u` is carried and each rule updates it in a form with no cancellation: the input's
from its unit rows (:math:`2\sin^2(\theta/2)` with the angle from
:math:`2\,\mathrm{atan2}(\lVert\hat x-\hat x'\rVert, \lVert\hat x+\hat x'\rVert)` for nearly colinear
pairs); a Dense layer, with :math:`\alpha = \sqrt{wq/(wq+b)}`, :math:`\beta = \sqrt{b/(wq+b)}` per point,
:math:`u_\Sigma = \alpha\alpha'u + \tfrac12[(\alpha-\alpha')^2 + (\beta-\beta')^2]`; ReLU,
:math:`u' = 1-h(\rho)` by the cancellation-free step of :mod:`ntk_lib.analytic`; a residual block
:math:`v = H + aG` (:math:`N = \sqrt{K_v(x,x)}`), from :math:`2u_v = \mathbb E\lVert v(x)/N - v(x')/N'\rVert^2`,

.. math::

   2u_v = \Big(\tfrac{\sqrt{q_h}}{N}-\tfrac{\sqrt{q_h'}}{N'}\Big)^2 + \tfrac{2\sqrt{q_hq_h'}}{NN'}u_h
        + a^2\Big[\Big(\tfrac{\sqrt{q_g}}{N}-\tfrac{\sqrt{q_g'}}{N'}\Big)^2 + \tfrac{2\sqrt{q_gq_g'}}{NN'}u_g\Big]
        + 2a\Big(\tfrac{m_h}{N}-\tfrac{m_h'}{N'}\Big)\Big(\tfrac{m_g}{N}-\tfrac{m_g'}{N'}\Big)

(every term but the last is non-negative; for colinear inputs of a positively homogeneous network all
vanish exactly). Other activations use :math:`u' = 1 - V/\sqrt{pp'}` (their maps are smooth at
:math:`\rho = 1`). A point whose representation has zero variance gets :math:`\rho = 0`, :math:`u = 1`.

**The residual rule.** Write the stream coordinate :math:`H = Z^{h}` and the branch coordinate
:math:`G = Z^{g(h)}`. The branch's first layer multiplies :math:`h` by a fresh matrix :math:`W`, so its
pre-activation :math:`U = Z^{Wh}` is a Gaussian process with covariance :math:`wK_h + b` that is
*independent of* :math:`H` (in the Tensor-Programs limit a fresh matrix's output is a new Gaussian,
independent of all earlier :math:`Z`\ s; at finite width :math:`\frac1n\sum_i h_i(x)u_i(x')` has mean 0
and fluctuation :math:`O(n^{-1/2})`). Everything after it in the branch is a function of :math:`U`
(and of further fresh matrices), so :math:`G` is independent of :math:`H` as a process. Hence

.. math::

   K_{h'}(x,x') &= \mathbb E[(H+aG)(x)\,(H+aG)(x')]
     = K_h + a\,\big(m_h(x)\,m_g(x') + m_g(x)\,m_h(x')\big) + a^2K_g, \\
   m_{h'} &= m_h + a\,m_g, \\
   T_{h'} &= T_h + a^2\,T_g .

The cross terms of :math:`K` are products of *means*, not zero: after a ReLU the coordinates have
:math:`m_g(x) = \sqrt{\Sigma_U(x,x)/2\pi} > 0`, and over blocks the stream's mean accumulates,
:math:`m_{h_L} = a\sum_l m_{g_l}` (the first stream, a Dense output, is centred). The naive rule
:math:`K_{h'} = K_h + a^2K_g` (exact only for centred branches, e.g. one that ends in a Dense layer,
where :math:`m_g = 0`) drops them. For the tangent kernel, the identity path contributes :math:`T_h`; the
branch's own parameters and the earlier parameters seen through the branch contribute
:math:`a^2T_g` (:math:`T_g` already contains :math:`wT_h` from the branch's first Dense); the cross
term :math:`\nabla H\cdot\nabla G` vanishes at infinite width, since :math:`\nabla G` reaches the earlier
parameters only through :math:`\sum_j W_{ij}\nabla h_j` with zero-mean :math:`W` independent of
:math:`\nabla H`. So for NTK-ECRN, :math:`h_{l+1} = h_l + \alpha\,\mathrm{relu}(\sqrt{w/n}W_lh_l + \sqrt b\beta_l)`:

.. math::

   \Sigma_l &= wK_l + b, \qquad \Theta_{U,l} = \Sigma_l + wT_l, \\
   K_{l+1} &= K_l + \alpha\,(m_l\,\mu_l'^{\!\top} + \mu_l\,m_l'^{\!\top}) + \tfrac{\alpha^2}{2}\sqrt{\Sigma_l(x,x)\Sigma_l(x',x')}\,h(\rho_l), \\
   T_{l+1} &= T_l + \tfrac{\alpha^2}{2}\,h'(\rho_l)\,\Theta_{U,l}, \qquad
   m_{l+1} = m_l + \alpha\,\mu_l, \quad \mu_l(x) = \sqrt{\Sigma_l(x,x)/2\pi},

and a readout :class:`Dense` gives :math:`\Theta = wK_L + b + wT_L`. The tests check every rule against
wide built networks (errors fall as width\ :sup:`-1/2`).

**Stochastic depth.** With ``drop_prob`` :math:`p`, a block is multiplied by a mask :math:`m\in\{0,1\}`,
:math:`P(m=1)=1-p`, drawn once per forward pass in training mode and replaced by :math:`1-p` in eval
mode. ``kernel()`` is the kernel of the eval-mode network (:math:`a = \alpha(1-p)`).
``kernel(..., expectation="masks")`` is :math:`\mathbb E_{\text{masks}}` of the kernels of the
training-mode networks (one mask pattern shared by :math:`x` and :math:`x'`, as in a batch): exact
enumeration of all :math:`2^B` patterns of the :math:`B` stochastic blocks while
:math:`2^B \le` ``MAX_MASK_PATTERNS``; beyond, a Monte Carlo average over ``mask_samples`` patterns
whose standard errors are returned (``nngp_se``, ``ntk_se``), or a ``ValueError`` if ``mask_samples``
is not given. When the stochastic blocks are layers of the outermost ``serial`` (as in NTK-ECRN), the
enumeration walks the patterns depth-first, so patterns that agree on their first blocks share that
computation (and a dropped block costs nothing): about :math:`2^B` block evaluations rather than
:math:`B\,2^B`. The expectation is not the eval-mode kernel: masks enter the kernel non-linearly (through
:math:`a^2`, the mean cross terms and every later activation), so :math:`\mathbb E_m K(m) \ne K(\mathbb E m)`.

**Parameterizations.** ``kernel()`` is the NTK-parameterization limit. A ``"standard"`` Dense layer
computes the same function at initialization (same NNGP); its NTK at width :math:`n` is that limit only
after each layer's gradient is rescaled by its fan-in (``kernel()`` returns the NTK-parameterization
value). A ``"mup"`` Dense layer (the :math:`\mu`\ P readout, :mod:`ntk_lib.models`) has no kernel limit
(its output vanishes and its features move): ``kernel()`` refuses it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import torch
from torch import nn

from . import activations as _act
from ._modules import (
    PARAMETERIZATIONS,
    Elementwise,
    Network,
    ResidualBlock,
    ScaledLinear,
    Sequence,
    check_size,
    draw_fourier_matrix,
    fourier_embedding,
)
from ._modules import FourierFeatures as _FourierModule
from ._validate import as_tensor, check_count, check_int, check_nonnegative, check_positive, check_real, unit_rows

__all__ = [
    "Layer",
    "Kernel",
    "serial",
    "Serial",
    "Dense",
    "Relu",
    "Erf",
    "Activation",
    "FourierFeatures",
    "Residual",
    "MAX_MASK_PATTERNS",
]

#: stochastic-depth mask patterns enumerated exactly by ``kernel(..., expectation="masks")``
MAX_MASK_PATTERNS = 1024
_ROW_BLOCK_ELEMS = 1 << 17  # pairs per row block of kernel(): a layer's temporaries stay in cache


class Kernel(NamedTuple):
    """Infinite-width kernels of a network, ``[n1, n2]`` float64 each.

    ``nngp`` is :math:`\\mathbb E[Z(x)Z(x')]` of one output coordinate, ``ntk`` its tangent kernel.
    ``nngp_se``/``ntk_se`` are the Monte Carlo standard errors of a sampled expectation over
    stochastic-depth masks, ``None`` when the result is exact.
    """

    nngp: torch.Tensor
    ntk: torch.Tensor
    nngp_se: torch.Tensor | None = None
    ntk_se: torch.Tensor | None = None


# --------------------------------------------------------------------------- kernel state


@dataclass(frozen=True)
class _State:
    """The recursion's state for one representation (module docstring)."""

    kind: str  # "features" (deterministic), "gaussian" (centred GP) or "general"
    f1: torch.Tensor | None = None  # features, kind "features"
    f2: torch.Tensor | None = None
    k: torch.Tensor | None = None  # [n1, n2] second moment
    u: torch.Tensor | None = None  # [n1, n2] correlation gap 1 - k / sqrt(q1 q2) (1 where a variance is 0)
    q1: torch.Tensor | None = None  # [n1] K(x, x)
    q2: torch.Tensor | None = None  # [n2]
    m1: torch.Tensor | None = None  # [n1] mean
    m2: torch.Tensor | None = None  # [n2]
    t: torch.Tensor | None = None  # [n1, n2] tangent kernel
    sym: bool = False  # x2 is x1


class _Ctx(NamedTuple):
    masks: dict | None  # id(Residual) -> mask value; None: eval mode (expected masks)


def _moments(s: _State):
    """(K, u, q1, q2, T) of a state; for deterministic features, :math:`K = f f'^\\top/p` and ``u`` from
    the angle between the feature rows (accurate for nearly colinear rows, exactly 0 for ``x`` and ``c x``)."""
    if s.kind != "features":
        return s.k, s.u, s.q1, s.q2, s.t
    from .analytic import _input_cosines

    f1, f2 = s.f1, s.f2
    p = f1.shape[1]
    q1 = (f1 * f1).sum(1)
    q2 = q1 if s.sym else (f2 * f2).sum(1)
    k = f1 @ f2.T
    h1 = unit_rows(f1)
    _, u = _input_cosines(h1, h1 if s.sym else unit_rows(f2))
    u = u.clamp_(0.0, 2.0)
    if s.sym:
        k = (k + k.T) / 2
        k.diagonal().copy_(q1)
        u = (u + u.T) / 2
        u.diagonal().copy_(torch.where(q1 > 0, 0.0, 1.0))
    return k / p, u, q1 / p, q2 / p, torch.zeros_like(k)


def _unit_gap(u: torch.Tensor, q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """``u`` with the convention for zero variances (rho = 0, u = 1) applied where ``q1`` or ``q2`` is 0."""
    z1, z2 = q1 <= 0, q2 <= 0
    if bool(z1.any()) or bool(z2.any()):
        u = torch.where(z1[:, None] | z2[None, :], torch.ones_like(u), u)
    return u


def _symmetrize(a: torch.Tensor | None) -> torch.Tensor | None:
    return None if a is None else (a + a.T) / 2


# --------------------------------------------------------------------------- layers


class Layer:
    """A layer, or a composition of layers: ``kernel`` gives its infinite-width kernel, ``build`` a
    ``torch.nn.Module`` computing it."""

    # ---- what subclasses provide
    def _kernel(self, s: _State, ctx: _Ctx) -> _State:  # pragma: no cover - abstract
        raise NotImplementedError

    def _module(self, n_in: int, b: _Build) -> tuple[nn.Module, int]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _children(self) -> tuple[Layer, ...]:
        return ()

    def _width(self, n_in: int) -> int:
        """The number of features this layer returns on ``n_in`` (a residual branch's width is checked here)."""
        return n_in

    def _starts_with_dense(self) -> bool:
        return False

    # ---- shared
    def _walk(self):
        yield self
        for c in self._children():
            yield from c._walk()

    def _stochastic_blocks(self) -> list[Residual]:
        return [layer for layer in self._walk() if isinstance(layer, Residual) and layer.drop_prob > 0]

    def kernel(
        self,
        x1,
        x2=None,
        *,
        expectation: str | None = None,
        mask_samples: int | None = None,
        seed: int = 0,
    ) -> Kernel:
        r"""Infinite-width NNGP and NTK of this architecture between ``x1`` ``[n1, d]`` and ``x2``
        ``[n2, d]`` (``None``: ``x1``), as a :class:`Kernel` of float64 ``[n1, n2]`` tensors on ``x1``'s
        device.

        Args:
            expectation: ``None`` (or ``"eval"``): the eval-mode network, each stochastic block scaled
                by :math:`1-p`. ``"masks"``: the expectation over stochastic-depth mask patterns of the
                training-mode kernels (exact enumeration up to ``MAX_MASK_PATTERNS`` patterns).
            mask_samples: with ``"masks"`` and more patterns than ``MAX_MASK_PATTERNS``, average this many
                patterns drawn from ``seed`` instead (standard errors in ``nngp_se``/``ntk_se``).
            seed: seed of the sampled mask patterns.
        """
        if expectation not in (None, "eval", "masks"):
            raise ValueError(f"expectation must be None, 'eval' or 'masks', got {expectation!r}")
        for layer in self._walk():
            if isinstance(layer, Dense) and layer.parameterization == "mup":
                raise ValueError(
                    "parameterization='mup' has no infinite-width kernel (its readout vanishes and its "
                    "features move): kernel() is defined for 'ntk' and 'standard' Dense layers"
                )
        x1 = as_tensor(x1, "x1", ndim=2).to(torch.float64)
        sym = x2 is None
        if sym:
            x2 = x1
        else:
            x2 = as_tensor(x2, "x2", ndim=2).to(torch.float64)
            if x2.shape[1] != x1.shape[1]:
                raise ValueError(
                    f"x2 has {x2.shape[1]} features but x1 has {x1.shape[1]}: feature dimensions must match"
                )
            if x2.device != x1.device:
                raise ValueError(f"x1 is on {x1.device} but x2 is on {x2.device}")
        for name, x in (("x1", x1), ("x2", x2)):
            _check_input_range(x, name)
        self._width(x1.shape[1])  # a residual branch that changes the width is refused, as by build()
        blocks = self._stochastic_blocks() if expectation == "masks" else []
        n_patterns = 2 ** len(blocks)
        if blocks and n_patterns > MAX_MASK_PATTERNS:
            if mask_samples is None:
                raise ValueError(
                    f"{len(blocks)} stochastic blocks give {n_patterns} mask patterns, more than "
                    f"MAX_MASK_PATTERNS={MAX_MASK_PATTERNS} enumerated exactly: pass mask_samples=N for a Monte "
                    "Carlo average (its standard errors are returned as nngp_se, ntk_se)"
                )
            mask_samples = check_int(mask_samples, "mask_samples", minimum=2)
            seed = check_int(seed, "seed")
        # every rule is pairwise given per-point statistics, so rows are processed in blocks small enough
        # for the temporaries of a layer to stay in cache (the per-point work is repeated per block)
        rows = max(1, _ROW_BLOCK_ELEMS // max(x2.shape[0], 1))
        if x1.shape[0] <= rows:
            out = self._kernel_rows(x1, x2, sym, blocks, mask_samples, seed)
        else:
            parts = [
                self._kernel_rows(x1[i : i + rows], x2, False, blocks, mask_samples, seed)
                for i in range(0, x1.shape[0], rows)
            ]
            out = Kernel(*(None if parts[0][j] is None else torch.cat([p[j] for p in parts]) for j in range(4)))
        out = _finish(out, sym)
        _check_output_range(out, x1, x2, sym)
        if not sym and x1.shape[0] and x2.shape[0]:
            row = int(torch.argmax(x1.abs().amax(dim=1)))
            self.kernel(x1[row : row + 1], expectation=expectation, mask_samples=mask_samples, seed=seed)
        return out

    def _kernel_rows(self, x1, x2, sym, blocks, mask_samples, seed) -> Kernel:
        """:meth:`kernel` for the rows ``x1`` against ``x2`` (not symmetrized)."""
        start = _State("features", f1=x1, f2=x2, sym=sym)

        def run(masks):
            out = self._kernel(start, _Ctx(masks))
            k, _, _, _, t = _moments(out)
            return k, t

        if not blocks:
            return Kernel(*run(None))
        if 2 ** len(blocks) <= MAX_MASK_PATTERNS:
            tree = self._mask_tree(start, blocks)
            if tree is not None:
                return Kernel(*tree)
            k_sum = t_sum = 0.0
            for pattern in itertools.product((0.0, 1.0), repeat=len(blocks)):
                weight = math.prod(1 - r.drop_prob if m else r.drop_prob for r, m in zip(blocks, pattern))
                k, t = run({id(r): m for r, m in zip(blocks, pattern)})
                k_sum = k_sum + weight * k
                t_sum = t_sum + weight * t
            return Kernel(k_sum, t_sum)
        # the same patterns for every row block (one generator per block, same seed)
        gen = torch.Generator().manual_seed(int(seed))
        keep = torch.tensor([1 - r.drop_prob for r in blocks], dtype=torch.float64)
        n = int(mask_samples)
        mean = [0.0, 0.0]
        m2 = [0.0, 0.0]  # Welford's running sums of squared deviations
        for i in range(n):
            draw = (torch.rand(len(blocks), generator=gen, dtype=torch.float64) < keep).tolist()
            for a, value in enumerate(run({id(r): float(m) for r, m in zip(blocks, draw)})):
                delta = value - mean[a]
                mean[a] = mean[a] + delta / (i + 1)
                m2[a] = m2[a] + delta * (value - mean[a])
        # standard errors of the means: sample variance (n - 1 denominator) over n
        k_mean, t_mean = mean
        k_se, t_se = ((v / ((n - 1) * n)).sqrt() for v in m2)
        return Kernel(k_mean, t_mean, k_se, t_se)

    def _mask_tree(self, start: _State, blocks: list[Residual]):
        r"""The sum over mask patterns when every stochastic block is a top-level layer: patterns that
        agree on the first blocks share the computation up to there (a depth-first walk, about
        :math:`2^B` block evaluations in all instead of :math:`B\,2^B`). ``None`` otherwise."""
        layers = self.layers if isinstance(self, Serial) else (self,)
        stochastic = {id(r) for r in blocks}
        if not stochastic <= {id(layer) for layer in layers}:
            return None
        plain = _Ctx({})
        acc = [0.0, 0.0]

        def walk(i, s, weight):
            while i < len(layers):
                layer = layers[i]
                if id(layer) in stochastic:
                    p = layer.drop_prob
                    for m, w in ((0.0, p), (1.0, 1.0 - p)):
                        walk(i + 1, layer._kernel(s, _Ctx({id(layer): m})), weight * w)
                    return
                s = layer._kernel(s, plain)
                i += 1
            k, _, _, _, t = _moments(s)
            acc[0] = acc[0] + weight * k
            acc[1] = acc[1] + weight * t

        walk(0, start, 1.0)
        return acc[0], acc[1]

    def build(self, in_features: int, seed: int = 0, *, dtype: torch.dtype = torch.float32) -> nn.Module:
        """A ``torch.nn.Module`` computing this architecture on ``[n, in_features]`` inputs: weights
        :math:`\\mathcal N(0, 1)` drawn from ``seed`` in layer order (NTK parameterization unless a
        Dense layer says otherwise), stochastic-depth masks from a generator seeded ``seed + 1``.
        Train mode draws masks; eval mode uses their expectations."""
        in_features = check_size(in_features, "in_features")
        seed = check_count(seed, "seed", minimum=0)
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        b = _Build(torch.Generator().manual_seed(int(seed)), torch.Generator().manual_seed(int(seed) + 1), dtype)
        module, n_out = self._module(in_features, b)
        seq = module if isinstance(module, nn.Sequential) else Sequence(module)
        return Network(seq, in_features, n_out, b.lr_multiplier)

    def __call__(self, *args, **kwargs):
        raise TypeError(
            f"{type(self).__name__} describes an architecture: call .kernel(x1, x2) for its kernel or "
            ".build(in_features, seed) for a network"
        )


def _check_input_range(x: torch.Tensor, name: str) -> None:
    """Squared row norms must be representable: the first layer's variance is built from them."""
    if x.numel() == 0:
        return
    big = x.abs().amax(dim=1)
    limit = math.sqrt(torch.finfo(torch.float64).max / x.shape[1])
    if bool((big > limit).any()):
        raise ValueError(f"{name} is too large: |x|^2 overflows float64 (rescale the inputs)")
    sq = (x * x).sum(dim=1)
    if bool(((big > 0) & (sq < torch.finfo(torch.float64).tiny)).any()):
        raise ValueError(f"{name} has a non-zero row whose squared norm underflows float64 (rescale the inputs)")


def _check_output_range(k: Kernel, x1: torch.Tensor, x2: torch.Tensor, sym: bool) -> None:
    """Refuse a kernel that overflowed, or underflowed to zero on non-zero inputs, rather than return it."""
    for what, mat in (("NNGP", k.nngp), ("NTK", k.ntk)):
        if not bool(torch.isfinite(mat).all()):
            raise ValueError(
                f"the {what} overflows float64 for these inputs and this architecture (rescale the inputs or "
                "the layers' weight_var)"
            )
    if not sym:
        return  # the caller checks the diagonal of one row instead (a cross kernel may vanish exactly)
    # the output variance of a non-zero input is positive for every architecture built from Dense layers
    # (weight_var > 0) and non-zero activations, so a zero diagonal there is float64 running out of range
    nonzero = x1.abs().amax(dim=1) > 0
    if bool((nonzero & (k.nngp.diagonal().abs() < torch.finfo(torch.float64).tiny)).any()):
        raise ValueError(
            "the kernel underflows float64 for these inputs and this architecture (at large depth a weight_var "
            "below the critical value shrinks it geometrically): rescale the inputs or weight_var"
        )


def _finish(k: Kernel, sym: bool) -> Kernel:
    if not sym:
        return k
    return Kernel(*(_symmetrize(a) for a in k))


@dataclass
class _Build:
    gen: torch.Generator
    mask_gen: torch.Generator
    dtype: torch.dtype
    lr_multiplier: float = 1.0


def _check_layer(layer, name: str) -> Layer:
    if not isinstance(layer, Layer):
        raise TypeError(
            f"{name} must be a layer of ntk_lib.layers (Dense, Relu, Erf, Activation, FourierFeatures, "
            f"Residual, serial), got {type(layer).__name__}"
        )
    return layer


class Serial(Layer):
    """Layers applied in order (made by :func:`serial`)."""

    def __init__(self, *layers: Layer):
        if not layers:
            raise ValueError("serial() needs at least one layer, got none")
        self.layers = tuple(_check_layer(layer, f"layers[{i}]") for i, layer in enumerate(layers))

    def _children(self):
        return self.layers

    def _starts_with_dense(self) -> bool:
        return self.layers[0]._starts_with_dense()

    def _kernel(self, s, ctx):
        for layer in self.layers:
            s = layer._kernel(s, ctx)
        return s

    def _width(self, n_in):
        for layer in self.layers:
            n_in = layer._width(n_in)
        return n_in

    def _module(self, n_in, b):
        mods = []
        n = n_in
        for layer in self.layers:
            mod, n = layer._module(n, b)
            mods.append(mod)
        return Sequence(*mods), n

    def __repr__(self) -> str:
        return "serial(" + ", ".join(map(repr, self.layers)) + ")"


def serial(*layers: Layer) -> Serial:
    """Compose layers: ``serial(Dense(512), Relu(), Dense(1))``."""
    return Serial(*layers)


class Dense(Layer):
    r"""Linear layer :math:`z = \sqrt{w/n_{in}}\,Wa + \sqrt b\,\beta` (:math:`n_{in}` = its fan-in).

    Kernel: :math:`\Sigma = wK_a + b`, :math:`\Theta = \Sigma + wT_a`. ``parameterization``: ``"ntk"``
    (default), ``"standard"`` (factors folded into the initial weights; same ``kernel()``) or ``"mup"``
    (readout multiplier :math:`\sqrt w/n_{in}`, learning rate times :math:`n_{in}`; no ``kernel()``).
    """

    def __init__(
        self, out_features: int, weight_var: float = 1.0, bias_var: float = 0.0, parameterization: str = "ntk"
    ):
        self.out_features = check_size(out_features, "out_features")
        self.weight_var = check_positive(weight_var, "weight_var")
        self.bias_var = check_nonnegative(bias_var, "bias_var")
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {parameterization!r}")
        self.parameterization = parameterization

    def _starts_with_dense(self) -> bool:
        return True

    def _width(self, n_in):
        return self.out_features

    def _kernel(self, s, ctx):
        k, u, q1, q2, t = _moments(s)
        w, b = self.weight_var, self.bias_var
        sigma = w * k + b
        n1 = w * q1 + b
        n2 = n1 if s.sym else w * q2 + b
        if b > 0:
            # rho' = alpha alpha' rho + beta beta' with alpha^2 + beta^2 = 1 per point, so
            # u' = alpha alpha' u + ((alpha - alpha')^2 + (beta - beta')^2) / 2: no cancellation
            (a1, b1), (a2, b2) = _shares(w * q1, n1, b), _shares(w * q2, n2, b)
            aa = a1[:, None] * a2[None, :]
            da = a1[:, None] - a2[None, :]
            db = b1[:, None] - b2[None, :]
            u = aa * u + 0.5 * (da * da + db * db)
            if s.sym:
                u.diagonal().zero_()
        u = _unit_gap(u, n1, n2)
        zero1 = torch.zeros_like(q1)
        zero2 = zero1 if s.sym else torch.zeros_like(q2)
        return _State(
            "gaussian",
            k=sigma,
            u=u,
            q1=n1,
            q2=n2,
            m1=zero1,
            m2=zero2,
            t=sigma + w * t,
            sym=s.sym,
        )

    def _module(self, n_in, b):
        if self.parameterization == "mup":
            b.lr_multiplier = float(n_in)
        mod = ScaledLinear(
            n_in,
            self.out_features,
            weight_var=self.weight_var,
            bias_var=self.bias_var,
            parameterization=self.parameterization,
            generator=b.gen,
            dtype=b.dtype,
        )
        return mod, self.out_features

    def __repr__(self) -> str:
        extra = "" if self.parameterization == "ntk" else f", parameterization={self.parameterization!r}"
        return f"Dense({self.out_features}, weight_var={self.weight_var:g}, bias_var={self.bias_var:g}{extra})"


class Activation(Layer):
    r"""Elementwise activation :math:`\sigma` (``fn``: a callable, ``"relu"``, ``"erf"``, ``"tanh"`` or an
    :class:`ntk_lib.activations.Activation`). Its kernel on a centred Gaussian input uses the Gaussian
    dual: closed forms for ReLU and erf, otherwise an adaptive quadrature with a convergence check
    (:func:`ntk_lib.activations.from_function`). On the network's (deterministic) input it acts exactly."""

    def __init__(self, fn):
        self.act = _act.get_activation(fn)

    def _kernel(self, s, ctx):
        if s.kind == "features":
            f1 = self.act.fn(s.f1)
            return replace(s, f1=f1, f2=f1 if s.sym else self.act.fn(s.f2))
        if s.kind != "gaussian":
            raise ValueError(
                f"{self!r} acts on a representation that is not Gaussian (the output of an activation, or of "
                "a residual block whose branch ends in one): its kernel has no closed form here; put a Dense "
                "layer before the activation"
            )
        if self.act.dual is _act._relu_dual:
            return _relu_gaussian(s)
        k, q1, q2, t = s.k, s.q1, s.q2, s.t
        v, vdot = self.act.dual(q1[:, None], q2[None, :], k)
        p1 = self.act.dual(q1, q1, q1)[0]
        p2 = p1 if s.sym else self.act.dual(q2, q2, q2)[0]
        # a smooth map: 1 - V / sqrt(p p') (ReLU, whose map has a square-root cusp at rho = 1, is above)
        r1, r2 = p1.clamp(min=0.0).sqrt(), p2.clamp(min=0.0).sqrt()
        norm = r1[:, None] * r2[None, :]
        u = (1 - v / torch.where(norm > 0, norm, 1.0)).clamp_(0.0, 2.0)
        if s.sym:
            u.diagonal().zero_()
        u = _unit_gap(u, p1, p2)
        m1 = self.act.mean_value(q1)
        m2 = m1 if s.sym else self.act.mean_value(q2)
        return _State("general", k=v, u=u, q1=p1, q2=p2, m1=m1, m2=m2, t=vdot * t, sym=s.sym)

    def _module(self, n_in, b):
        return Elementwise(self.act.fn, self.act.name), n_in

    def __repr__(self) -> str:
        return f"Activation({self.act.name!r})"


def _shares(wq: torch.Tensor, n: torch.Tensor, b: float):
    r"""Per point, the weight and bias shares :math:`\alpha = \sqrt{wq/n}`, :math:`\beta = \sqrt{b/n}` of the
    new variance :math:`n = wq + b` (0 where n is 0)."""
    pos = n > 0
    safe = torch.where(pos, n, 1.0)
    return torch.where(pos, (wq / safe).sqrt(), 0.0), torch.where(pos, (b / safe) ** 0.5, 0.0)


def _relu_gaussian(s: _State) -> _State:
    r"""ReLU of a centred Gaussian representation, on fresh buffers with in-place updates (the inputs are
    not modified): the arc-cosine step of :mod:`ntk_lib.analytic` on :math:`\rho = K/\sqrt{qq'}` and the
    carried :math:`u = 1-\rho`, then :math:`V = \tfrac12\sqrt{qq'}\,h(\rho)`, :math:`u' = 1-h(\rho)`,
    :math:`T' = \tfrac12 h'(\rho)\,T` with :math:`h'(\rho) = 1-\theta/\pi`. A zero variance gives
    :math:`\rho = 0` (and :math:`V = 0`)."""
    from .analytic import _relu_map_, _Work

    r1, r2 = s.q1.sqrt(), s.q2.sqrt()
    inv1 = torch.where(r1 > 0, 1 / torch.where(r1 > 0, r1, 1.0), 0.0)
    inv2 = torch.where(r2 > 0, 1 / torch.where(r2 > 0, r2, 1.0), 0.0)
    rho = torch.mul(s.k, inv1[:, None]).mul_(inv2[None, :]).clamp_(-1.0, 1.0)
    u = s.u.clone()
    work = _Work(rho)
    _relu_map_(rho, u, work)  # rho <- h(rho), u <- 1 - h(rho), work.half <- theta / 2
    v = rho.mul_(0.5 * r1[:, None]).mul_(r2[None, :])
    t = torch.mul(s.t, 0.5).addcmul_(s.t, work.half, value=-1 / math.pi)
    p1 = s.q1 / 2
    p2 = p1 if s.sym else s.q2 / 2
    u = _unit_gap(u, p1, p2)
    m1 = _act._relu_mean(s.q1)
    m2 = m1 if s.sym else _act._relu_mean(s.q2)
    return _State("general", k=v, u=u, q1=p1, q2=p2, m1=m1, m2=m2, t=t, sym=s.sym)


class Relu(Activation):
    r"""ReLU: :math:`V = \tfrac12\sqrt{qq'}\,h(\rho)`, :math:`\dot V = \tfrac12h'(\rho)`,
    :math:`\mathbb E\,\mathrm{relu}(u) = \sqrt{q/2\pi}` (``ntk_lib.activations.relu_pair``)."""

    def __init__(self):
        super().__init__("relu")

    def __repr__(self) -> str:
        return "Relu()"


class Erf(Activation):
    r"""erf: Williams' dual :math:`V = \frac2\pi\arcsin\frac{2c}{\sqrt{(1+2q)(1+2q')}}`; mean 0."""

    def __init__(self):
        super().__init__("erf")

    def __repr__(self) -> str:
        return "Erf()"


class FourierFeatures(Layer):
    r"""Fixed random Fourier features :math:`\varphi(x) = [\sin(2\pi Bx), \cos(2\pi Bx)]` of the network's
    input, ``2 * n_features`` outputs, :math:`B_{ij}\sim\mathcal N(0,\sigma^2)` drawn from ``seed``
    in float32 and kept in float64 (the module :class:`ntk_lib.models.FourierFeatures` with the same
    ``seed`` holds the same :math:`B`). Not trained.

    **Two kernels, a factor 2 apart.** With :math:`m` = ``n_features``:

    * the random-feature estimate of the Gaussian kernel is :math:`\varphi(x)^\top\varphi(x')/m`:

      .. math::

         \frac{\varphi(x)^\top\varphi(x')}{m} = \frac1m\sum_{k=1}^m\cos 2\pi b_k^\top(x-x')
         \;\xrightarrow[m\to\infty]{}\; e^{-2\pi^2\sigma^2\lVert x-x'\rVert^2}

      (at rate :math:`m^{-1/2}`; it equals 1 at :math:`x = x'` for every :math:`m`);
    * the kernel this layer passes on, :math:`K_\varphi`, is per coordinate, as for every layer here: a
      following :class:`Dense` sees :math:`n_0 = 2m` features and computes
      :math:`\Sigma = w\,\varphi(x)^\top\varphi(x')/n_0 + b`, so

      .. math::

         K_\varphi(x,x') = \frac{\varphi(x)^\top\varphi(x')}{2m}
         \;\xrightarrow[m\to\infty]{}\; \tfrac12\,e^{-2\pi^2\sigma^2\lVert x-x'\rVert^2},

      half of the Gaussian kernel (each of the :math:`2m` coordinates has second moment
      :math:`\tfrac12`, since :math:`\sin^2+\cos^2 = 1` is shared by two coordinates).

    ``kernel()`` uses :math:`K_\varphi` exactly for the drawn :math:`B` (no limit taken). Its NTK is 0
    (:math:`B` is not trained). It must act on the input (or on deterministic functions of it), not on a
    hidden layer.
    """

    def __init__(self, n_features: int, sigma: float, seed: int | None = 0):
        self.n_features = check_size(n_features, "n_features")
        self.sigma = check_positive(sigma, "sigma")
        if seed is None:
            seed = int(torch.randint(0, 2**62, ()))
        self.seed = check_count(seed, "seed", minimum=0)
        self._cache: dict[int, torch.Tensor] = {}

    def matrix(self, in_features: int) -> torch.Tensor:
        """The frequency matrix :math:`B`, ``[n_features, in_features]`` float64."""
        in_features = check_size(in_features, "in_features")
        if in_features not in self._cache:
            self._cache[in_features] = draw_fourier_matrix(self.n_features, in_features, self.sigma, self.seed)
        return self._cache[in_features]

    def _width(self, n_in):
        return 2 * self.n_features

    def _kernel(self, s, ctx):
        if s.kind != "features":
            raise ValueError(
                "FourierFeatures is a fixed embedding of the network's input: it cannot act on a random "
                "hidden representation (put it first)"
            )
        B = self.matrix(s.f1.shape[1]).to(s.f1.device)
        f1 = fourier_embedding(s.f1, B)
        return replace(s, f1=f1, f2=f1 if s.sym else fourier_embedding(s.f2, B))

    def _module(self, n_in, b):
        return _FourierModule(n_in, self.n_features, self.sigma, seed=self.seed, dtype=b.dtype), 2 * self.n_features

    def __repr__(self) -> str:
        return f"FourierFeatures({self.n_features}, sigma={self.sigma:g}, seed={self.seed})"


def _branch_width_message(n_in: int, n_out: int) -> str:
    return (
        f"the residual branch maps {n_in} features to {n_out}: a branch must return as many features as it "
        "receives (its Dense layers' out_features must match the stream's width)"
    )


class Residual(Layer):
    r"""Residual block :math:`h \mapsto h + \alpha\,m\,g(h)`, :math:`g` = ``branch`` (which must start with a
    :class:`Dense` layer and return as many features as it receives), :math:`\alpha\ge0` = ``alpha`` and
    stochastic depth with ``drop_prob`` :math:`p\in[0,1)` (module docstring).

    Kernel (derived in the module docstring), with :math:`a = \alpha(1-p)` in eval mode:
    :math:`K' = K + a(m\,m_g'^\top + m_g m'^\top) + a^2K_g`, :math:`T' = T + a^2T_g`, :math:`m' = m + a\,m_g`.
    """

    def __init__(self, branch: Layer, alpha: float = 1.0, drop_prob: float = 0.0):
        self.branch = _check_layer(branch, "branch")
        if not self.branch._starts_with_dense():
            raise ValueError(
                f"the branch of a Residual must start with a Dense layer (its kernel rule needs the branch "
                f"to read the stream through a fresh weight matrix), got {branch!r}"
            )
        self.alpha = check_nonnegative(alpha, "alpha")
        drop_prob = check_real(drop_prob, "drop_prob")
        if not 0.0 <= drop_prob < 1.0:
            raise ValueError(f"drop_prob must lie in [0, 1), got {drop_prob!r}")
        self.drop_prob = drop_prob

    def _children(self):
        return (self.branch,)

    def _width(self, n_in):
        n_out = self.branch._width(n_in)
        if n_out != n_in:
            raise ValueError(_branch_width_message(n_in, n_out))
        return n_in

    def _kernel(self, s, ctx):
        if s.kind == "features":
            raise ValueError(
                "a Residual block needs a wide random stream to add to (put a Dense layer before it), "
                "not the network's input"
            )
        mask = (1.0 - self.drop_prob) if ctx.masks is None else ctx.masks.get(id(self), 1.0 - self.drop_prob)
        a = self.alpha * mask
        if a == 0.0:
            return s
        g = self.branch._kernel(s, ctx)
        gk, gu, gq1, gq2, gt = _moments(g)
        m1, m2 = s.m1, s.m2
        g1, g2 = g.m1, g.m2
        k = s.k + a * (m1[:, None] * g2[None, :] + g1[:, None] * m2[None, :]) + (a * a) * gk
        q1 = s.q1 + (2 * a) * m1 * g1 + (a * a) * gq1
        q2 = q1 if s.sym else s.q2 + (2 * a) * m2 * g2 + (a * a) * gq2
        # u of h + a g from 2u = E|v(x)/N - v(x')/N'|^2 (module docstring): a sum of squares and
        # non-negative gap terms, plus the product of the two streams' mean differences
        inv1 = torch.where(q1 > 0, q1.rsqrt(), 0.0)
        inv2 = inv1 if s.sym else torch.where(q2 > 0, q2.rsqrt(), 0.0)
        h1, h2 = s.q1.clamp(min=0.0).sqrt() * inv1, s.q2.clamp(min=0.0).sqrt() * inv2
        e1, e2 = gq1.clamp(min=0.0).sqrt() * inv1, gq2.clamp(min=0.0).sqrt() * inv2
        dh = h1[:, None] - h2[None, :]
        de = e1[:, None] - e2[None, :]
        dm = (m1 * inv1)[:, None] - (m2 * inv2)[None, :]
        dg = (g1 * inv1)[:, None] - (g2 * inv2)[None, :]
        u = (
            0.5 * (dh * dh + (a * a) * (de * de))
            + (h1[:, None] * h2[None, :]) * s.u
            + (a * a) * (e1[:, None] * e2[None, :]) * gu
            + a * (dm * dg)
        ).clamp_(0.0, 2.0)
        if s.sym:
            u.diagonal().zero_()
        u = _unit_gap(u, q1, q2)
        n1 = m1 + a * g1
        n2 = n1 if s.sym else m2 + a * g2
        kind = "gaussian" if s.kind == "gaussian" and g.kind == "gaussian" else "general"
        return _State(kind, k=k, u=u, q1=q1, q2=q2, m1=n1, m2=n2, t=s.t + (a * a) * gt, sym=s.sym)

    def _module(self, n_in, b):
        mod, n_out = self.branch._module(n_in, b)
        if n_out != n_in:
            raise ValueError(_branch_width_message(n_in, n_out))
        return ResidualBlock(mod, self.alpha, self.drop_prob, b.mask_gen), n_in

    def __repr__(self) -> str:
        return f"Residual({self.branch!r}, alpha={self.alpha:g}, drop_prob={self.drop_prob:g})"
