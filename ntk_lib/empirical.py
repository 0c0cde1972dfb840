r"""Empirical NTK of a finite network.

.. math::

   \Theta_\theta(x, x')_{ab} = \sum_p \frac{\partial f_a(x;\theta)}{\partial\theta_p}
   \frac{\partial f_b(x';\theta)}{\partial\theta_p}

(St-Arnaud et al. Def. 2), computed by one of three exact methods:

* ``"structured"`` (Novak et al. 2022, "Fast finite width neural tangent kernel"): a linear layer
  :math:`u = c_w\,aW^\top + c_b\,\beta` contributes
  :math:`(c_w^2\, A A'^\top + c_b^2) \odot (\Delta_a \Delta_b'^\top)`, with :math:`A` the layer's
  inputs and :math:`\Delta_a = \partial f_a/\partial u` the output's gradients with respect to its
  outputs, one row per sample. It needs ``n`` × width numbers per layer, never ``n`` × (number of
  parameters). Parameters outside recognised linear layers (convolutions, normalisation affines,
  custom parameters) are added by Jacobian contraction, for those parameters only.
* ``"jacobian"``: per-sample Jacobians from ``vmap(jacrev(f))`` over a ``functional_call``, one
  matrix product per parameter tensor.
* ``"ntk_vp"``: NTK-vector products (the ``torch.func`` NTK tutorial): for each sample :math:`x_i` and
  output :math:`a`, the vector-Jacobian product :math:`g = J(x_i)^\top e_a` is pushed forward through a
  block of second inputs by a Jacobian-vector product, :math:`\Theta(x_i, X')e_a = J(X')g`; the
  Jacobian of the second argument is never formed.
"""

from __future__ import annotations

import copy

import torch
from torch.func import functional_call, jacrev, jvp, vjp, vmap

from . import _structured
from ._validate import as_tensor, check_int, check_model_input

__all__ = ["empirical_ntk", "METHODS", "MODES"]

METHODS = ("auto", "structured", "jacobian", "ntk_vp")
MODES = ("full", "trace", "diagonal")

_SYM_PIECES = 8  # a symmetric block is contracted as 8 row pieces, upper ones only (~56% of the flops)


_LOW_PRECISION = (torch.float16, torch.bfloat16)


def _model_device_dtype(model: torch.nn.Module):
    for p in model.parameters():
        return p.device, p.dtype
    raise ValueError("model has no parameters: its NTK is identically zero")


def _widened(model: torch.nn.Module) -> torch.nn.Module:
    """``model``, or a copy of it whose float16/bfloat16 parameters and buffers are float32 (exactly the same
    numbers): the NTK sums squared gradients over every parameter, which overflows float16's range (6.5e4)
    long before the network's outputs do."""
    tensors = list(model.parameters()) + list(model.buffers())
    if not any(t.dtype in _LOW_PRECISION for t in tensors):
        return model
    wide = copy.deepcopy(model)
    for t in list(wide.parameters()) + list(wide.buffers()):
        if t.dtype in _LOW_PRECISION:
            t.data = t.data.to(torch.float32)
    return wide


def _randomness(m: torch.nn.Module, name: str) -> str | None:
    """Why layer ``m`` is random or couples the samples of a batch in its current mode, or None."""
    if not m.training:
        return None
    where = f"layer {name!r}" if name else "the model"
    if isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.p > 0:
        return (
            f"model is in training mode and {where} is dropout (random): call model.eval() to get "
            "the NTK of the network at its expectation"
        )
    if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
        return (
            f"model is in training mode and {where} is batch normalization, which couples the samples "
            "of a batch: call model.eval() to use its running statistics"
        )
    if getattr(m, "is_stochastic", False):
        return (
            f"model is in training mode and {where} draws random masks (stochastic depth): "
            "call model.eval() to get the NTK of the network at its expectation"
        )
    return None


class _Refused(Exception):
    pass


def _check_deterministic(model: torch.nn.Module, x: torch.Tensor) -> None:
    """Refuse layers whose training-mode forward is random or couples the samples of a batch.

    Only layers that the forward pass calls count (a wrapper may run the parts of a stochastic
    model without its random forward): a forward pass of one sample with pre-hooks on the suspects
    finds them before they run."""
    suspects = {}
    for name, m in model.named_modules():
        why = _randomness(m, name)
        if why is not None:
            suspects[m] = why
    if not suspects:
        return

    def refuse(mod, args):
        raise _Refused(suspects[mod])

    handles = [m.register_forward_pre_hook(refuse) for m in suspects]
    try:
        with torch.no_grad():
            model(x[:1])
    except _Refused as err:
        raise ValueError(str(err)) from None
    finally:
        for h in handles:
            h.remove()


# --- layouts -----------------------------------------------------------------------------------
# Blocks are accumulated as "full" [b1, k, b2, k], "trace" [b1, b2], "diagonal" [k, b1, b2] and
# turned into [b1, b2, k, k], [b1, b2], [b1, b2, k] once per block.


def _finish(blk: torch.Tensor, mode: str) -> torch.Tensor:
    if mode == "full":
        return blk.permute(0, 2, 1, 3)
    if mode == "diagonal":
        return blk.permute(1, 2, 0)
    return blk


def _mirror(blk: torch.Tensor, mode: str) -> torch.Tensor:
    """The block of (x2, x1) from that of (x1, x2), in the returned layout."""
    if mode == "full":
        return blk.permute(1, 0, 3, 2)
    if mode == "diagonal":
        return blk.permute(1, 0, 2)
    return blk.T


# --- Jacobian contraction ----------------------------------------------------------------------


def _gemm_sum(f1: list[torch.Tensor], f2: list[torch.Tensor], *, symmetric: bool, per_sample: int) -> torch.Tensor:
    """:math:`\\sum_p F1_p F2_p^\\top` for 2-D row blocks.

    One GEMM per parameter tensor, accumulated in place. When ``symmetric`` (``f1 is f2``) only the
    row pieces on and above the diagonal are multiplied and the rest is mirrored, since the flops of
    J J^T dominate the whole computation; pieces are whole samples (``per_sample`` rows each).
    """
    rows_a, rows_b = f1[0].shape[0], f2[0].shape[0]
    out = torch.zeros(rows_a, rows_b, dtype=f1[0].dtype, device=f1[0].device)
    n_samples = rows_a // per_sample
    if symmetric and n_samples >= 2 * _SYM_PIECES:
        step = -(-n_samples // _SYM_PIECES) * per_sample
        for r0 in range(0, rows_a, step):
            r1 = min(rows_a, r0 + step)
            for fa in f1:
                out[r0:r1, r0:].addmm_(fa[r0:r1], fa[r0:].T)
            out[r1:, r0:r1] = out[r0:r1, r1:].T
    else:
        for fa, fb in zip(f1, f2):
            out.addmm_(fa, fb.T)
    return out


def _jacobian_contract(j1: list[torch.Tensor], j2: list[torch.Tensor], mode: str, *, symmetric: bool) -> torch.Tensor:
    """Per-sample Jacobians ``[b, k, P_p]`` of two blocks -> the block in the accumulation layout."""
    b1, k = j1[0].shape[0], j1[0].shape[1]
    b2 = j2[0].shape[0]
    if mode == "full":
        out = _gemm_sum(
            [j.reshape(b1 * k, -1) for j in j1], [j.reshape(b2 * k, -1) for j in j2], symmetric=symmetric, per_sample=k
        )
        return out.view(b1, k, b2, k)
    if mode == "trace":
        return _gemm_sum(
            [j.reshape(b1, -1) for j in j1], [j.reshape(b2, -1) for j in j2], symmetric=symmetric, per_sample=1
        )
    out = torch.zeros(k, b1, b2, dtype=j1[0].dtype, device=j1[0].device)
    for ja, jb in zip(j1, j2):
        out.baddbmm_(ja.transpose(0, 1), jb.permute(1, 2, 0))
    return out


class _Net:
    """``model`` as a function of a subset of its parameters, the rest (and the buffers) held fixed."""

    def __init__(self, model: torch.nn.Module, names: set[str]):
        self.model = model
        named = dict(model.named_parameters())
        self.params = {k: v.detach() for k, v in named.items() if k in names}
        self.fixed = {k: v.detach() for k, v in named.items() if k not in names}
        self.fixed.update({k: v.detach() for k, v in model.named_buffers()})
        self._jac = vmap(jacrev(self.single), in_dims=(None, 0))

    def batch(self, p, x):
        out = functional_call(self.model, (p, self.fixed), (x,))
        return out.reshape(x.shape[0], -1)

    def single(self, p, x):
        return self.batch(p, x.unsqueeze(0))[0]

    def jacobians(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``[b, k, P_p]`` per parameter tensor."""
        with torch.no_grad():
            jac = self._jac(self.params, x)
        return [j.reshape(j.shape[0], j.shape[1], -1) for j in jac.values()]

    def ntk_vp(self, x1: torch.Tensor, x2: torch.Tensor, k: int, mode: str) -> torch.Tensor:
        """The block of ``(x1, x2)`` from NTK-vector products, in the accumulation layout."""
        params = self.params
        basis = torch.eye(k, dtype=x1.dtype, device=x1.device)

        def row(xi):
            _, pullback = vjp(lambda p: self.single(p, xi), params)

            def column(e):
                (g,) = pullback(e)
                return jvp(lambda p: self.batch(p, x2), (params,), (g,))[1]  # [b2, k]

            return vmap(column)(basis)  # [k, b2, k]

        with torch.no_grad():
            # chunks bound the forward-mode passes alive at once to about 32 blocks of x2
            full = vmap(row, chunk_size=max(1, 32 // k))(x1)  # [b1, k, b2, k]
        if mode == "full":
            return full
        diag = torch.diagonal(full, dim1=1, dim2=3)  # [b1, b2, k]
        return diag.sum(-1) if mode == "trace" else diag.permute(2, 0, 1).contiguous()


def _check_batch_size(batch_size):
    return None if batch_size is None else check_int(batch_size, "batch_size", minimum=1)


def empirical_ntk(
    model: torch.nn.Module,
    x1,
    x2=None,
    *,
    batch_size: int | None = None,
    method: str = "auto",
    mode: str = "full",
) -> torch.Tensor:
    r"""Empirical NTK :math:`J(x_1)J(x_2)^\top` of ``model`` at its current parameters.

    Args:
        model: any ``torch.nn.Module`` mapping a batch ``[b, *in_shape]`` to ``[b]``, ``[b, 1]``
            or ``[b, k]`` (any ``[b, ...]`` is flattened to ``k`` outputs) and treating the samples of a
            batch independently. It is not modified: no ``.grad`` is written, parameters are unchanged.
            Only parameters with ``requires_grad=True`` count. Layers that are random or couple the
            samples in training mode (dropout with ``p > 0``, batch normalization, ntk_lib's stochastic
            depth) must be in eval mode when the forward pass calls them, else ``ValueError``.
        x1: inputs ``[n1, *in_shape]``, moved to the model's device and dtype (detached).
        x2: inputs ``[n2, *in_shape]``; ``None`` means ``x1`` (upper blocks only, mirrored).
        batch_size: samples per block (``None``: all). At most this many samples go through one
            forward/backward pass and each block of the output is ``batch_size`` × ``batch_size``. The
            Jacobian method holds ``batch_size`` samples' Jacobians at once; the structured method
            keeps each recognised layer's inputs and output gradients for all samples
            (``n`` × (fan-in + ``k`` × fan-out) numbers per layer and use).
        method: ``"structured"``, ``"jacobian"``, ``"ntk_vp"`` (module docstring) or ``"auto"``.
            ``"ntk_vp"`` runs forward-mode AD (``torch.func.jvp``) through the model, so it inherits
            torch.func's limits: models with in-place operations on views, data-dependent control flow,
            fused attention kernels (``scaled_dot_product_attention`` on some backends) or custom
            autograd functions without a forward-mode rule fail there; such a failure is reported as a
            ``ValueError`` pointing to ``"jacobian"`` (reverse mode only), which covers them.
            *Recognised linear layers* are ``torch.nn.Linear`` and ntk_lib's NTK-parameterized
            linear layers (those of ``models.MLP``, ``models.NTKECRN`` and ``layers.Dense`` builds),
            with their own forward and their own, untied parameters. ``"structured"`` uses the per-layer form for the trainable parameters
            of these layers and the Jacobian for all others; it raises ``ValueError`` when no
            trainable parameter lies in a recognised linear layer. A recognised layer also falls back
            to the Jacobian when, in the first block, one of its calls does not have the samples on
            the first axis of its input and output, or its parameters enter an operation outside its
            forward, or it sees :math:`T > 1` rows per sample (positions ``[n, s, d]`` or repeated
            calls) with :math:`T^2(d_{in} + d_{out}) > d_{in} d_{out}` (the double sum over rows
            would cost more than the Jacobian). ``"auto"`` is ``"structured"`` when at least one trainable parameter lies in a recognised
            linear layer and ``"jacobian"`` otherwise; it never picks ``"ntk_vp"``.
        mode: ``"full"`` (every output pair), ``"trace"`` (:math:`\sum_a \Theta_{aa}`) or
            ``"diagonal"`` (:math:`\Theta_{aa}` for each output ``a``); the last two never form the
            ``k`` × ``k`` blocks except in ``"ntk_vp"``, which forms them one block at a time.

    Returns:
        ``"full"``: ``[n1, n2, k, k]`` (entry ``[i, j, a, b]`` pairs output ``a`` at ``x1[i]`` with
        output ``b`` at ``x2[j]``); ``"diagonal"``: ``[n1, n2, k]``; ``"trace"``: ``[n1, n2]``. With one
        output all three modes return the same ``[n1, n2]`` kernel. On the model's device, in the model's
        dtype, except for float16/bfloat16 models: their kernel is computed on a float32 copy of the model
        (the same parameter values) and returned in **float32**, since a sum of squared gradients over all
        parameters overflows half precision (max 6.5e4) long before the outputs do; inputs are then
        cast to float32 too.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    batch_size = _check_batch_size(batch_size)
    _model_device_dtype(model)  # a model without parameters has no NTK
    model = _widened(model)
    device, dtype = _model_device_dtype(model)
    x1 = as_tensor(x1, "x1", dtype=dtype, device=device).detach()
    if x1.ndim < 2:
        raise ValueError(f"x1 must be a batch [n, *in_shape], got shape {tuple(x1.shape)}")
    sym = x2 is None
    if sym:
        x2 = x1
    else:
        x2 = as_tensor(x2, "x2", dtype=dtype, device=device).detach()
        if x2.shape[1:] != x1.shape[1:]:
            raise ValueError(f"x2 samples have shape {tuple(x2.shape[1:])} but x1 samples have {tuple(x1.shape[1:])}")
    check_model_input(model, x1, "x1")  # x2's rows have x1's shape
    trainable = {k for k, v in model.named_parameters() if v.requires_grad}
    if not trainable:
        raise ValueError("model has no trainable parameters: its NTK is identically zero")
    _check_deterministic(model, x1)

    forms = _structured.linear_forms(model) if method in ("auto", "structured") else []
    if method == "structured" and not forms:
        raise ValueError(
            "method='structured' covers no trainable parameter of this model (none lies in a "
            "torch.nn.Linear or an ntk_lib linear layer): use method='jacobian' or method='ntk_vp'"
        )
    if method == "auto":
        method = "structured" if forms else "jacobian"

    n1, n2 = x1.shape[0], x2.shape[0]
    bs = batch_size or max(n1, n2)
    blocks1 = [(s, min(s + bs, n1)) for s in range(0, n1, bs)]
    blocks2 = blocks1 if sym else [(s, min(s + bs, n2)) for s in range(0, n2, bs)]
    xs = (x1, x2)
    blocks = (blocks1, blocks2)

    if method == "structured":
        get, pair = _structured_runner(model, forms, trainable, xs, blocks, mode, sym)
    elif method == "jacobian":
        net = _Net(model, trainable)
        one_block2 = len(blocks2) == 1
        cache: dict = {}

        def get(side, j):
            if side == 1 and one_block2 and (1, 0) in cache:
                return cache[1, 0]
            a0, a1 = blocks[side][j]
            jac = net.jacobians(xs[side][a0:a1])
            if side == 1 and one_block2:
                cache[1, 0] = jac
            return jac

        def pair(f1, f2, same):
            return _jacobian_contract(f1, f2, mode, symmetric=same)
    else:
        net = _Net(model, trainable)
        with torch.no_grad():
            k_out = net.batch(net.params, x1[:1]).shape[1]

        def get(side, j):
            a0, a1 = blocks[side][j]
            return xs[side][a0:a1]

        def pair(f1, f2, same):
            try:
                return net.ntk_vp(f1, f2, k_out, mode)
            except (RuntimeError, NotImplementedError) as err:
                raise ValueError(
                    "method='ntk_vp' cannot differentiate this model in forward mode (torch.func.jvp: in-place "
                    "operations on views, fused attention or custom autograd functions are not supported there); "
                    f"use method='jacobian' or method='structured'. torch said: {err}"
                ) from err

    out = None
    for i, (a0, a1) in enumerate(blocks1):
        f1 = get(0, i)
        for j, (b0, b1) in enumerate(blocks2):
            if sym and j < i:
                continue
            same = sym and j == i
            f2 = f1 if same else get(1 if not sym else 0, j)
            with torch.no_grad():
                blk = _finish(pair(f1, f2, same), mode)
                if same:  # symmetric up to rounding; make it exactly so
                    blk = 0.5 * (blk + _mirror(blk, mode))
            if out is None:
                out = blk.new_empty((n1, n2, *blk.shape[2:]))
            out[a0:a1, b0:b1] = blk
            if sym and j > i:
                out[b0:b1, a0:a1] = _mirror(blk, mode)
        del f1
    if mode != "trace" and out.shape[-1] == 1:
        return out[..., 0, 0] if mode == "full" else out[..., 0]
    return out


def _structured_runner(model, forms, trainable, xs, blocks, mode, sym):
    """Block getter and pair contraction of the structured method (with its Jacobian fallback)."""
    state: dict = {"skip": None, "net": None}
    features: dict = {}
    jac_cache: dict = {}

    def plan(passed):
        # layers that cannot use the per-layer form go to the Jacobian, decided on the first block
        skip = set(passed.unusable)
        for i, t in passed.rows.items():
            f = forms[i]
            if t > 1 and t * t * (f.n_in + f.n_out) > f.n_in * f.n_out:
                skip.add(i)
        state["skip"] = skip
        covered = {id(p) for i, f in enumerate(forms) if i not in skip for p in f.params}
        named = dict(model.named_parameters())
        rest = {k for k in trainable if id(named[k]) not in covered}
        state["net"] = _Net(model, rest) if rest else None

    def structured(side, j):
        key = (side, j)
        if key not in features:
            a0, a1 = blocks[side][j]
            first = state["skip"] is None
            passed = _structured.structured_pass(model, forms, xs[side][a0:a1], set() if first else state["skip"])
            if first:
                plan(passed)
            elif passed.unusable - state["skip"]:
                raise RuntimeError(
                    "the model's layers were used differently on another block of inputs; use method='jacobian'"
                )
            feats = passed.features
            for i in state["skip"]:
                if i < len(feats.T):
                    feats.T[i], feats.A[i], feats.D[i] = 0, None, None
            features[key] = feats
        return features[key]

    def get(side, j):
        feats = structured(side, j)
        net = state["net"]
        if net is None:
            return feats, None
        if side == 1 and len(blocks[1]) == 1:
            if 0 not in jac_cache:
                jac_cache[0] = net.jacobians(xs[1][slice(*blocks[1][0])])
            return feats, jac_cache[0]
        a0, a1 = blocks[side][j]
        return feats, net.jacobians(xs[side][a0:a1])

    def pair(f1, f2, same):
        (s1, j1), (s2, j2) = f1, f2
        like = xs[0]
        blk = _structured.contract(forms, s1, s2, mode, like, symmetric=same)
        if j1 is not None:
            blk.add_(_jacobian_contract(j1, j2, mode, symmetric=same))
        return blk

    del sym
    return get, pair
