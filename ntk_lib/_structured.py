r"""The per-layer ("structured") form of the empirical NTK for linear layers.

A linear layer :math:`u = c_w\, a W^\top + c_b\, \beta` applied to rows :math:`a` contributes

.. math::

   \Theta_{W,\beta}(x, x')_{ij} = \sum_{t, s}
   \big(c_w^2\, a_t(x)\cdot a_s(x') + c_b^2\big)\, \big(\delta_{t,i}(x)\cdot\delta_{s,j}(x')\big),
   \qquad \delta_{t,i}(x) = \partial f_i(x) / \partial u_t(x),

where :math:`t, s` run over the rows the layer sees for one sample (one row per call for a batch
``[n, d]``; the positions of a batch ``[n, s, d]``; several calls when the layer is reused). With one
row per sample this is the Hadamard form :math:`(c_w^2 A A'^\top + c_b^2) \odot (\Delta\Delta'^\top)`
of Novak et al. (2022). :math:`a` comes from forward hooks and :math:`\delta` from one backward pass
per output of the summed batch output, which gives per-sample gradients because samples do not
interact in the forward pass.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import torch
from torch.autograd.graph import get_gradient_edge
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves


@dataclass
class LinearForm:
    """A module computing ``(x @ weight.T) * c_w + bias * c_b`` over the last axis of its input."""

    module: torch.nn.Module
    weight: torch.nn.Parameter | None  # None when frozen
    bias: torch.nn.Parameter | None  # None when absent or frozen
    c_w: float
    c_b: float
    n_in: int
    n_out: int

    @property
    def params(self) -> list[torch.nn.Parameter]:
        return [p for p in (self.weight, self.bias) if p is not None]


def _scaled_linear_classes() -> list[type]:
    """ntk_lib's own NTK-parameterized linear layers (looked up lazily: ``models`` imports this package)."""
    from . import _modules, models

    found = (getattr(models, "_ScaledLinear", None), getattr(_modules, "ScaledLinear", None))
    return [cls for cls in dict.fromkeys(found) if cls is not None]


def linear_form(m: torch.nn.Module) -> tuple | None:
    """``(weight, c_w, bias, c_b)`` when ``m`` is a recognised linear layer with its own forward, else None.

    Recognised: ``torch.nn.Linear`` and ntk_lib's scaled linear layer, including subclasses that keep
    the forward. Weights that are computed (``torch.nn.utils.parametrize``, weight norm) are not
    parameters of the module and are not recognised.
    """
    if isinstance(m, torch.nn.Linear) and type(m).forward is torch.nn.Linear.forward:
        c_w, c_b = 1.0, 1.0
    else:
        for cls in _scaled_linear_classes():
            if isinstance(m, cls) and type(m).forward is cls.forward:
                c_w, c_b = float(m.mult_w), float(m.mult_b)
                break
        else:
            return None
    w = m._parameters.get("weight")
    b = m._parameters.get("bias")
    if w is None or w.ndim != 2 or (b is not None and b.shape != (w.shape[0],)):
        return None
    if len([p for p in m._parameters.values() if p is not None]) != (1 if b is None else 2):
        return None
    return w, c_w, b, c_b


def linear_forms(model: torch.nn.Module) -> list[LinearForm]:
    """The recognised linear layers of ``model`` with at least one trainable parameter not shared elsewhere."""
    counts = Counter(id(p) for _, p in model.named_parameters(remove_duplicate=False))
    forms = []
    for m in model.modules():
        found = linear_form(m)
        if found is None:
            continue
        w, c_w, b, c_b = found
        w = w if w.requires_grad else None
        b = b if (b is not None and b.requires_grad) else None
        if w is None and b is None:
            continue
        # a parameter tied to another module gets cross terms this form does not see
        if any(counts[id(p)] > 1 for p in (w, b) if p is not None):
            continue
        forms.append(LinearForm(m, w, b, c_w, c_b, found[0].shape[1], found[0].shape[0]))
    return forms


_METADATA_ATTRS = frozenset({"shape", "dtype", "device", "ndim", "requires_grad", "is_leaf", "layout", "is_cuda"})
_METADATA_METHODS = frozenset({"size", "dim", "is_floating_point", "is_complex", "numel", "get_device"})


def _is_metadata(func) -> bool:
    """Whether ``func`` only reads a tensor's metadata (a property getter such as ``.shape``, or ``size()``)."""
    if getattr(func, "__name__", None) == "__get__":
        return getattr(getattr(func, "__self__", None), "__name__", None) in _METADATA_ATTRS
    return getattr(func, "__name__", None) in _METADATA_METHODS


class _UseWatch(TorchFunctionMode):
    """Flags forms whose parameters enter an operation outside their module's own forward."""

    def __init__(self, owner_of: dict[int, int]):
        super().__init__()
        self.owner_of = owner_of
        self.active: list[int] = []
        self.outside: set[int] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _is_metadata(func):  # reading a parameter's shape or dtype (an input check) is not a use
            return func(*args, **kwargs)
        for leaf in tree_leaves((args, kwargs)):
            if isinstance(leaf, torch.Tensor):
                owner = self.owner_of.get(id(leaf))
                if owner is not None and (not self.active or self.active[-1] != owner):
                    self.outside.add(owner)
        return func(*args, **kwargs)


@dataclass
class Features:
    """Per-layer rows of one block of ``b`` samples: ``A[l]`` ``[b*T, in]``, ``D[l]`` ``[b*T, k, out]``."""

    b: int
    k: int
    T: list[int] = field(default_factory=list)
    A: list[torch.Tensor | None] = field(default_factory=list)
    D: list[torch.Tensor | None] = field(default_factory=list)

    def rows(self, s0: int, s1: int) -> Features:
        """The samples ``s0:s1`` (rows ``s0*T:s1*T`` of each layer, since rows are sample-major)."""
        return Features(
            b=s1 - s0,
            k=self.k,
            T=list(self.T),
            A=[None if a is None else a[s0 * t : s1 * t] for a, t in zip(self.A, self.T)],
            D=[None if d is None else d[s0 * t : s1 * t] for d, t in zip(self.D, self.T)],
        )


@dataclass
class Pass:
    """What one hooked forward/backward saw: features of the usable forms and the forms found unusable."""

    features: Features
    unusable: set[int]
    rows: dict[int, int]


def _single_input(args, kwargs):
    if len(args) == 1 and not kwargs:
        return args[0]
    if not args and len(kwargs) == 1:
        return next(iter(kwargs.values()))
    return None


def structured_pass(model, forms: list[LinearForm], x: torch.Tensor, skip: set[int]) -> Pass:
    """Forward ``x`` (a block of ``b`` samples) with hooks on ``forms``, then one backward per output.

    Forms in ``skip`` are not hooked. A form is *unusable* (its parameters need another method) if
    one of its calls does not have the samples on the first axis of input and output, or its
    parameters are used outside its forward (weight tying through a functional call).
    """
    b = x.shape[0]
    live = [i for i in range(len(forms)) if i not in skip]
    owner_of = {id(p): i for i in live for p in forms[i].params}
    watch = _UseWatch(owner_of)
    calls: dict[int, list] = {i: [] for i in live}

    def run(clone_inputs: bool):
        handles = []

        def pre_hook(i):
            def hook(mod, args):
                watch.active.append(i)

            return hook

        def post_hook(i):
            def hook(mod, args, kwargs, output):
                watch.active.pop()
                a = _single_input(args, kwargs)
                if not isinstance(a, torch.Tensor) or not isinstance(output, torch.Tensor):
                    calls[i].append(None)
                    return None
                ad = a.detach()
                if clone_inputs:
                    ad = ad.clone()
                # The gradient edge (not the tensor) survives in-place ops applied to the output later
                # on, unless the output is a view (F.linear on [n, s, d]): an in-place op then rebases
                # the view's history, so the layer hands on a copy instead.
                replaced = output.clone() if output._is_view() and output.requires_grad else None
                edge = get_gradient_edge(output) if output.requires_grad else None
                calls[i].append((ad, ad._version, tuple(output.shape), edge))
                return replaced

            return hook

        try:
            for i in live:
                m = forms[i].module
                handles.append(m.register_forward_pre_hook(pre_hook(i)))
                handles.append(m.register_forward_hook(post_hook(i), with_kwargs=True))
            with torch.enable_grad(), watch:
                out = model(x)
        finally:
            for h in handles:
                h.remove()
        return out

    out = run(clone_inputs=False)
    if any(c is not None and c[0]._version != c[1] for cs in calls.values() for c in cs):
        # a layer input was modified in place after the layer read it: redo with copies
        for cs in calls.values():
            cs.clear()
        watch.outside.clear()
        out = run(clone_inputs=True)
    if not isinstance(out, torch.Tensor) or out.ndim == 0 or out.shape[0] != b:
        raise ValueError(f"model must map a batch [b, ...] to [b, ...], got output {getattr(out, 'shape', type(out))}")
    with torch.enable_grad():
        out = out.reshape(b, -1)
    k = out.shape[1]

    unusable = set(watch.outside)
    rows = {}
    for i in live:
        if i in unusable:
            continue
        t_total = 0
        for c in calls[i]:
            ok = c is not None
            if ok:
                a, _, oshape, _ = c
                ok = a.ndim >= 2 and a.shape[0] == b and len(oshape) == a.ndim and oshape[:-1] == a.shape[:-1]
            if not ok:
                unusable.add(i)
                break
            t_total += a[0].numel() // a.shape[-1]
        else:
            rows[i] = t_total

    edges, edge_index = [], {}
    for i in rows:
        for n, c in enumerate(calls[i]):
            if c[3] is not None:
                edge_index[i, n] = len(edges)
                edges.append(c[3])
    deltas = [[] for _ in edges]  # per edge, per output: [b, ..., out]
    if edges and out.requires_grad:
        for j in range(k):
            with torch.enable_grad():
                total = out[:, j].sum()
            grads = torch.autograd.grad(total, edges, retain_graph=j < k - 1, allow_unused=True)
            for e, g in enumerate(grads):
                deltas[e].append(g)
    del out

    feats = Features(b=b, k=k)
    for i in range(len(forms)):
        if i not in rows or rows[i] == 0:
            feats.T.append(0)
            feats.A.append(None)
            feats.D.append(None)
            continue
        f = forms[i]
        a_parts, d_parts = [], []
        for n, (a, _, oshape, _) in enumerate(calls[i]):
            a_parts.append(a.reshape(b, -1, a.shape[-1]))
            shape = (b, a_parts[-1].shape[1], oshape[-1])
            grads = (deltas[edge_index[i, n]] if (i, n) in edge_index else None) or [None] * k
            if k == 1 and grads[0] is not None:
                d_parts.append(grads[0].reshape(b, 1, *shape[1:]))
                continue
            # no gradient: the output does not depend on this call
            zero = a.new_zeros(shape) if any(g is None for g in grads) else None
            d_parts.append(
                torch.stack([zero if g is None else g.reshape(shape) for g in grads], dim=1)
            )  # [b, k, S, out]
        A = torch.cat(a_parts, dim=1) if len(a_parts) > 1 else a_parts[0]  # [b, T, in]
        D = torch.cat(d_parts, dim=2) if len(d_parts) > 1 else d_parts[0]  # [b, k, T, out]
        T = A.shape[1]
        feats.T.append(T)
        feats.A.append(A.reshape(b * T, A.shape[-1]) if f.weight is not None else None)
        feats.D.append(D.transpose(1, 2).reshape(b * T, k, D.shape[-1]))
    return Pass(features=feats, unusable=unusable, rows=rows)


_SYM_PIECES = 8  # a symmetric block is computed as 8 x 8 pieces of samples, upper ones only


def contract(
    forms: list[LinearForm], f1: Features, f2: Features, mode: str, like: torch.Tensor, *, symmetric: bool = False
) -> torch.Tensor:
    """:math:`\\sum_l` of the per-layer Gram products between two blocks (see :func:`_contract`); when
    ``symmetric`` (``f1 is f2``) only the pieces on and above the diagonal are computed and mirrored."""
    b = f1.b
    if not symmetric or b < 2 * _SYM_PIECES:
        return _contract(forms, f1, f2, mode, like)
    k = f1.k
    acc = like.new_empty({"full": (b, k, b, k), "trace": (b, b), "diagonal": (k, b, b)}[mode])
    step = -(-b // _SYM_PIECES)
    for s0 in range(0, b, step):
        s1 = min(b, s0 + step)
        piece = _contract(forms, f1.rows(s0, s1), f1.rows(s0, b), mode, like)
        if mode == "full":
            acc[s0:s1, :, s0:] = piece
            acc[s1:, :, s0:s1] = piece[:, :, s1 - s0 :].permute(2, 3, 0, 1)
        elif mode == "trace":
            acc[s0:s1, s0:] = piece
            acc[s1:, s0:s1] = piece[:, s1 - s0 :].T
        else:
            acc[:, s0:s1, s0:] = piece
            acc[:, s1:, s0:s1] = piece[:, :, s1 - s0 :].transpose(1, 2)
    return acc


def _contract(forms: list[LinearForm], f1: Features, f2: Features, mode: str, like: torch.Tensor) -> torch.Tensor:
    """:math:`\\sum_l` of the per-layer Gram products between two blocks, in the layout of ``mode``:
    ``"full"`` ``[b1, k, b2, k]``, ``"trace"`` ``[b1, b2]``, ``"diagonal"`` ``[k, b1, b2]``, with the dtype
    and device of ``like``."""
    b1, b2, k = f1.b, f2.b, f1.k
    acc = None
    for i, form in enumerate(forms):
        t1, t2 = (f1.T[i] if i < len(f1.T) else 0), (f2.T[i] if i < len(f2.T) else 0)
        if t1 == 0 or t2 == 0:
            continue
        D1, D2 = f1.D[i], f2.D[i]
        # weight and bias factor [b1*t1, b2*t2] (or a scalar when the weight is frozen)
        if form.weight is not None:
            w = f1.A[i] @ f2.A[i].T
            w.mul_(form.c_w**2)
            if form.bias is not None:
                w.add_(form.c_b**2)
        else:
            w = form.c_b**2
        r1, r2, o = b1 * t1, b2 * t2, D1.shape[-1]
        if mode == "full":
            g = (D1.reshape(r1 * k, o) @ D2.reshape(r2 * k, o).T).view(r1, k, r2, k)
            g.mul_(w[:, None, :, None] if isinstance(w, torch.Tensor) else w)
            if t1 > 1 or t2 > 1:
                g = g.view(b1, t1, k, b2, t2, k).sum(dim=(1, 4))
        elif mode == "trace":
            g = D1.reshape(r1, k * o) @ D2.reshape(r2, k * o).T
            g.mul_(w)
            if t1 > 1 or t2 > 1:
                g = g.view(b1, t1, b2, t2).sum(dim=(1, 3))
        else:
            g = torch.bmm(D1.permute(1, 0, 2), D2.permute(1, 2, 0))  # [k, r1, r2]
            g.mul_(w)
            if t1 > 1 or t2 > 1:
                g = g.view(k, b1, t1, b2, t2).sum(dim=(2, 4))
        if acc is None:
            acc = g
        else:
            acc.add_(g)
    if acc is None:
        shape = {"full": (b1, k, b2, k), "trace": (b1, b2), "diagonal": (k, b1, b2)}[mode]
        return like.new_zeros(shape)
    return acc
