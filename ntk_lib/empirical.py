r"""Empirical NTK of a finite network, via ``torch.func``.

.. math::

   \Theta_\theta(x, x')_{ab} = \sum_p \frac{\partial f_a(x;\theta)}{\partial\theta_p}
   \frac{\partial f_b(x';\theta)}{\partial\theta_p}

(St-Arnaud et al. Def. 2). Per-sample Jacobians come from ``vmap(jacrev(f))`` over a
``functional_call`` of the module, so any ``torch.nn.Module`` whose forward treats samples
independently works. The contraction is one matrix product per parameter tensor, accumulated
into the output block: no ``[n, P]`` Jacobian is ever concatenated, and with ``batch_size``
only ``batch_size`` samples' Jacobians are alive at once.
"""

from __future__ import annotations

import numbers

import torch
from torch.func import functional_call, jacrev, vmap

from ._validate import as_tensor

__all__ = ["empirical_ntk"]


def _model_device_dtype(model: torch.nn.Module):
    for p in model.parameters():
        return p.device, p.dtype
    raise ValueError("model has no parameters: its NTK is identically zero")


_SYM_PIECES = 8  # a symmetric block is contracted as 8 row pieces, upper ones only (~56% of the flops)


def _contract(j1: list[torch.Tensor], j2: list[torch.Tensor], *, symmetric: bool) -> torch.Tensor:
    """sum_p J1_p J2_p^T over parameter tensors: [b1, k, P_p] x [b2, k, P_p] -> [b1, b2, k, k].

    One GEMM per parameter tensor, accumulated in place. When ``j1 is j2`` only the row pieces on
    and above the diagonal are multiplied and the rest is mirrored, since the flops of J J^T
    (n^2 P) dominate the whole computation.
    """
    ba, k = j1[0].shape[0], j1[0].shape[1]
    bb = j2[0].shape[0]
    rows_a, rows_b = ba * k, bb * k
    out = torch.zeros(rows_a, rows_b, dtype=j1[0].dtype, device=j1[0].device)
    if symmetric and ba >= 2 * _SYM_PIECES:
        step = -(-ba // _SYM_PIECES) * k
        for r0 in range(0, rows_a, step):
            r1 = min(rows_a, r0 + step)
            for ja in j1:
                flat = ja.reshape(rows_a, -1)
                out[r0:r1, r0:].addmm_(flat[r0:r1], flat[r0:].T)
            out[r1:, r0:r1] = out[r0:r1, r1:].T
    else:
        for ja, jb in zip(j1, j2):
            out.addmm_(ja.reshape(rows_a, -1), jb.reshape(rows_b, -1).T)
    return out.reshape(ba, k, bb, k).permute(0, 2, 1, 3)


def empirical_ntk(model: torch.nn.Module, x1, x2=None, *, batch_size: int | None = None) -> torch.Tensor:
    r"""Empirical NTK :math:`J(x_1)J(x_2)^\top` of ``model`` at its current parameters.

    Args:
        model: any ``torch.nn.Module`` mapping a batch ``[b, *in_shape]`` to ``[b]``, ``[b, 1]``
            or ``[b, k]``. It is not modified: no ``.grad`` is written, parameters are unchanged.
            Only parameters with ``requires_grad=True`` count.
        x1: inputs ``[n1, *in_shape]``, moved to the model's device and dtype.
        x2: inputs ``[n2, *in_shape]``; ``None`` means ``x1`` (upper blocks only, mirrored).
        batch_size: at most this many samples' Jacobians are held at once (``None``: all).

    Returns:
        ``[n1, n2]`` for one output, ``[n1, n2, k, k]`` for ``k`` outputs (entry ``[i, j, a, b]``
        pairs output ``a`` at ``x1[i]`` with output ``b`` at ``x2[j]``), on the model's device.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    device, dtype = _model_device_dtype(model)
    x1 = as_tensor(x1, "x1", dtype=dtype, device=device)
    if x1.ndim < 2:
        raise ValueError(f"x1 must be a batch [n, *in_shape], got shape {tuple(x1.shape)}")
    sym = x2 is None
    if sym:
        x2 = x1
    else:
        x2 = as_tensor(x2, "x2", dtype=dtype, device=device)
        if x2.shape[1:] != x1.shape[1:]:
            raise ValueError(f"x2 samples have shape {tuple(x2.shape[1:])} but x1 samples have {tuple(x1.shape[1:])}")

    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    if not params:
        raise ValueError("model has no trainable parameters: its NTK is identically zero")
    frozen = {k: v.detach() for k, v in model.named_parameters() if not v.requires_grad}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def f_single(p, x):
        out = functional_call(model, (p, frozen, buffers), (x.unsqueeze(0),))
        return out.reshape(-1)

    jac_fn = vmap(jacrev(f_single), in_dims=(None, 0))

    def jacobians(x):
        # [b, k, P_tensor] per parameter tensor
        with torch.no_grad():
            jac = jac_fn(params, x)
        return [j.reshape(j.shape[0], j.shape[1], -1) for j in jac.values()]

    n1, n2 = x1.shape[0], x2.shape[0]
    bs = batch_size or max(n1, n2)
    blocks1 = [(s, min(s + bs, n1)) for s in range(0, n1, bs)]
    blocks2 = blocks1 if sym else [(s, min(s + bs, n2)) for s in range(0, n2, bs)]
    out = None
    cache2 = None
    for i, (a0, a1) in enumerate(blocks1):
        j1 = jacobians(x1[a0:a1])
        for j, (b0, b1) in enumerate(blocks2):
            if sym and j < i:
                continue
            if sym and j == i:
                j2 = j1
            elif len(blocks2) == 1 and cache2 is not None:
                j2 = cache2
            else:
                j2 = jacobians(x2[b0:b1])
                if len(blocks2) == 1:
                    cache2 = j2
            blk = _contract(j1, j2, symmetric=sym and i == j)
            k = blk.shape[2]
            if out is None:
                out = torch.empty(n1, n2, k, k, dtype=blk.dtype, device=blk.device)
            out[a0:a1, b0:b1] = blk
            if sym and j > i:
                out[b0:b1, a0:a1] = blk.permute(1, 0, 3, 2)
        del j1
    if out.shape[-1] == 1:
        return out[..., 0, 0]
    return out
