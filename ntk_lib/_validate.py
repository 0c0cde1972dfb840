r"""Argument checks shared by the public functions: one place for every rule.

Every public function of ``ntk_lib`` funnels its inputs through these helpers, before doing any
work, so that bad input fails early with an error naming the argument the caller passed, instead
of surfacing later as a NaN, a zero, or a shape error deep inside a kernel recursion.

.. rubric:: Rules

* **Integers** (:func:`check_int`): Python and NumPy integers, 0-d integer tensors and integral
  floats such as ``3.0`` are accepted; ``bool`` and non-integral numbers are refused.
* **Reals** (:func:`check_real`): Python/NumPy reals and 0-d tensors; ``bool``, NaN and inf refused.
* **Arrays and dtypes** (:func:`as_tensor`, :func:`compute_dtype`): ``bool`` and complex arrays are
  refused; integer arrays are promoted to float64 (never truncated, never refused); float16 and
  bfloat16 are computed in float32 (functions that return their own dtype) or float64 (analytic
  kernels, dynamics), so their limited range cannot overflow a sum or a norm.
* **Times** (:func:`as_times`): a real number or a 1-D sequence of reals :math:`\ge 0`; ``t = inf``
  means the limit :math:`t\to\infty` everywhere it is accepted (for gradient flow: the minimum-norm
  interpolant; for a spectral filter: every mode with :math:`\lambda>0` fully learned, null modes
  untouched). ``bool`` values and arrays of more than one dimension are refused.
* **Kernel matrices** (:func:`as_kernel`): square, symmetric and positive semi-definite up to the
  rounding of the dtype the caller passed (a float32 kernel gets float32 tolerances, see
  :func:`symmetry_rtol` and :func:`psd_tolerance`).
* **Null modes** (:func:`null_rtol`): an eigenvalue counts as zero only within round-off of zero,
  :math:`|\\lambda| \\le n\\,\\epsilon\\,\\lambda_{max}`, in the dynamics and the spectral helpers alike.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch

__all__ = [
    "as_tensor",
    "as_kernel",
    "as_times",
    "check_depth",
    "check_int",
    "check_count",
    "check_bool",
    "check_real",
    "check_nonnegative",
    "check_positive",
    "check_square_symmetric",
    "float64_device",
    "compute_dtype",
    "psd_tolerance",
    "null_rtol",
    "symmetry_rtol",
    "row_norms",
    "to_float64",
    "unit_rows",
    "same_shape",
    "as_labels",
    "check_model_input",
]

_LOW_PRECISION = (torch.float16, torch.bfloat16)


def _is_bool(x) -> bool:
    return isinstance(x, (bool, np.bool_)) or (torch.is_tensor(x) and x.dtype == torch.bool)


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """An integer argument: Python/NumPy integers, 0-d integer tensors and integral floats.

    Refuses ``bool`` (``True`` is not a count) and non-integral or non-finite numbers; with
    ``minimum``, values below it. Returns a Python ``int``.
    """
    if _is_bool(value):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if torch.is_tensor(value):
        if value.ndim != 0 or value.is_complex():
            raise TypeError(f"{name} must be an integer, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
        out = int(value)
    else:
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {out}")
    return out


def check_count(value, name: str, *, minimum: int = 1) -> int:
    """:func:`check_int` with ``minimum`` 0 or 1, whose errors say "a non-negative integer" or "a positive
    integer" (sizes and seeds): ``TypeError`` for a non-integer, ``ValueError`` below the minimum."""
    want = "a positive integer" if minimum == 1 else "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
    try:
        return check_int(value, name, minimum=minimum)
    except TypeError:
        raise TypeError(f"{name} must be {want}, got {value!r}") from None
    except ValueError:
        raise ValueError(f"{name} must be {want}, got {value!r}") from None


def check_bool(value, name: str) -> bool:
    """A flag: ``True``/``False`` (Python or NumPy ``bool``); anything else (``"yes"``, ``1``, ``None``) is a
    ``TypeError`` rather than a truthiness guess."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def check_depth(depth, name: str = "depth") -> int:
    """``depth`` must be an integer >= 1 (it counts linear layers)."""
    depth = check_int(depth, name)
    if depth < 1:
        raise ValueError(f"{name} must be >= 1 (it counts linear layers), got {depth}")
    return depth


def check_real(value, name: str) -> float:
    """A finite real number (Python/NumPy scalar or 0-d tensor); ``bool`` refused."""
    if _is_bool(value):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if torch.is_tensor(value):
        if value.ndim != 0 or value.is_complex():
            raise TypeError(f"{name} must be a real number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


_check_real = check_real


def check_nonnegative(value, name: str) -> float:
    value = check_real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_positive(value, name: str) -> float:
    value = check_real(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def compute_dtype(dtype: torch.dtype, *, wide: bool = False) -> torch.dtype:
    """The floating dtype a computation on ``dtype`` data runs in.

    float64 stays float64; float32 stays float32 (float64 with ``wide=True``); float16/bfloat16
    go to float32 (float64 with ``wide``); integers go to float64.
    """
    if dtype == torch.float64 or not dtype.is_floating_point:
        return torch.float64
    if wide:
        return torch.float64
    return torch.float32


def float64_device(device) -> torch.device:
    """Where float64 work on data from ``device`` runs: the CPU for Apple MPS (which has no
    float64 and no ``eigh``), the device itself otherwise. See :mod:`ntk_lib.device`."""
    device = torch.device(device)
    return torch.device("cpu") if device.type == "mps" else device


def to_float64(t: torch.Tensor) -> torch.Tensor:
    """``t`` as float64, moved to the CPU first when it lives on MPS (the MPS policy)."""
    if t.device.type == "mps":
        t = t.cpu()
    return t.to(torch.float64)


def as_tensor(
    x,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    allow_empty: bool = False,
    finite: bool = True,
) -> torch.Tensor:
    """Convert ``x`` to a floating tensor and check its rank and finiteness.

    ``bool`` and complex inputs are refused; integer inputs become float64 (or ``dtype``). Without
    ``dtype`` a floating input keeps its dtype (callers widen it with :func:`compute_dtype`).
    """
    if isinstance(x, torch.Tensor):
        t = x.detach()
    elif isinstance(x, (np.ndarray, np.generic, numbers.Number, list, tuple)):
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be numeric array-like, got {type(x).__name__}") from err
        if arr.dtype == object or arr.dtype.kind in "USV":
            raise TypeError(f"{name} must be numeric array-like, got {type(x).__name__} of {arr.dtype}")
        try:
            t = torch.as_tensor(arr)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be numeric array-like, got {type(x).__name__} of {arr.dtype}") from err
    else:
        raise TypeError(f"{name} must be a torch.Tensor or array-like, got {type(x).__name__}")
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name} must be real-valued, got dtype {t.dtype}")
    if device is not None:
        device = torch.device(device)
        if dtype == torch.float64 or (dtype is None and not t.is_floating_point()):
            device = float64_device(device)
    source = t
    if dtype == torch.float64 or (dtype is None and not t.is_floating_point()):
        t = to_float64(t)
    elif dtype is not None:
        t = t.to(dtype)
    if device is not None:
        t = t.to(device)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if t.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(t.shape)}")
    if not allow_empty and t.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)})")
    if finite and not bool(torch.isfinite(t).all()):
        if t.dtype != source.dtype and t.is_floating_point() and bool(torch.isfinite(source).all()):
            top = float(source.detach().abs().max())
            raise ValueError(
                f"{name} overflows {t.dtype}: its largest magnitude {top:.3g} exceeds {torch.finfo(t.dtype).max:.3g}, "
                f"the largest {t.dtype} (rescale {name}, or use a model of a wider dtype)"
            )
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


def as_times(t, name: str = "t", *, device=None, integer: bool = False) -> torch.Tensor:
    r"""Times (or step counts with ``integer=True``) as a 1-D float64 tensor.

    A real number or a 1-D sequence/array/tensor of reals :math:`\ge 0`. ``inf`` is accepted and
    means the limit :math:`t\to\infty` (see the module docstring); NaN, negative values, ``bool``
    and arrays with more than one dimension are refused. With ``integer``, finite entries must be
    whole numbers.
    """
    if _is_bool(t) or (isinstance(t, (list, tuple)) and any(_is_bool(v) for v in t)):
        raise TypeError(f"{name} must be a number or a 1-D sequence of numbers, not bool")
    if isinstance(t, np.ndarray) and t.dtype == np.bool_:
        raise TypeError(f"{name} must be a number or a 1-D sequence of numbers, not bool")
    tt = as_tensor(t, name, dtype=torch.float64 if not torch.is_tensor(t) or not t.dtype.is_floating_point else None,
                   finite=False)
    if tt.ndim > 1:
        raise ValueError(f"{name} must be a scalar or 1-D, got shape {tuple(tt.shape)}")
    tt = tt.to(torch.float64).reshape(-1)
    if device is not None:
        tt = tt.to(device)
    if bool(torch.isnan(tt).any()):
        raise ValueError(f"{name} contains NaN")
    if bool((tt < 0).any()):
        raise ValueError(f"{name} must be >= 0, got min {float(tt.min())}")
    if integer:
        fin = tt[torch.isfinite(tt)]
        if bool((fin != torch.round(fin)).any()):
            raise ValueError(f"{name} must be non-negative integers (or inf)")
    return tt


def symmetry_rtol(dtype: torch.dtype, n: int) -> float:
    """Relative asymmetry :math:`\\max|K-K^\\top|/\\max|K|` tolerated for an ``n x n`` kernel of ``dtype``:
    :math:`\\max(10^3, 10n)\\,\\epsilon` (rounding of a dot product of length ~n), at most 5%."""
    eps = torch.finfo(dtype).eps if dtype.is_floating_point else torch.finfo(torch.float64).eps
    return min(0.05, max(1e3, 10 * n) * eps)


def psd_tolerance(dtype: torch.dtype, n: int) -> float:
    """Relative size :math:`|\\lambda|/\\lambda_{max}` below which an eigenvalue of an ``n x n`` kernel
    of ``dtype`` is round-off: :math:`\\max(n, 64)\\,\\epsilon`, and at least :math:`10^{-8}` (a
    float64 kernel assembled from float32 parts or by Monte Carlo carries that much noise)."""
    eps = torch.finfo(dtype).eps if dtype.is_floating_point else torch.finfo(torch.float64).eps
    return max(1e-8, max(n, 64) * eps)


def null_rtol(dtype: torch.dtype, n: int) -> float:
    """Relative size :math:`|\\lambda|/\\lambda_{max}` at or below which an eigenvalue of an ``n x n`` kernel of
    ``dtype`` counts as an exact zero (a null mode): :math:`n\\,\\epsilon`, the round-off of an
    eigendecomposition. The one rule of :mod:`ntk_lib.dynamics` and :mod:`ntk_lib.spectral`: an eigenvalue
    above it is a real mode, however small (:math:`10^{-9}\\lambda_{max}` is learned at
    :math:`t\\sim10^9/\\lambda_{max}`). Not to be confused with :func:`psd_tolerance`, the larger margin
    below 0 that negative round-off may reach before a kernel is refused as not PSD."""
    eps = torch.finfo(dtype).eps if dtype.is_floating_point else torch.finfo(torch.float64).eps
    return n * eps


def check_square_symmetric(k: torch.Tensor, name: str, *, rtol: float | None = None, dtype=None) -> None:
    """A kernel matrix must be square and symmetric up to rounding of ``dtype`` (default: ``k``'s)."""
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"{name} must be a square [n, n] matrix, got shape {tuple(k.shape)}")
    if rtol is None:
        rtol = symmetry_rtol(dtype or k.dtype, k.shape[0])
    scale = float(k.abs().max())
    asym = float((k - k.T).abs().max())
    if asym > rtol * scale:
        raise ValueError(
            f"{name} must be symmetric: max |K - K^T| = {asym:.3g} exceeds {rtol:.1g} x max |K| = {scale:.3g}"
        )


def as_kernel(k, name: str) -> tuple[torch.Tensor, torch.dtype]:
    """A square symmetric kernel as float64, checked with the tolerance of the dtype it came in;
    returns ``(kernel, input_dtype)``."""
    k = as_tensor(k, name, ndim=2)
    in_dtype = k.dtype
    k = to_float64(k)
    check_square_symmetric(k, name, dtype=in_dtype)
    return k, in_dtype


def row_norms(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Euclidean norms of the rows of ``x`` without overflow or underflow, as ``(scale, norm / scale)``.

    Each row is divided by its largest absolute entry ``scale`` first, so ``norm = scale * rest``
    for any magnitude from the smallest subnormal to the largest float (``1e-300`` and ``1e300``
    alike); ``scale = 0`` marks an all-zero row (``rest`` is then 1, never 0/0). Computed in
    ``x``'s dtype widened by :func:`compute_dtype`.
    """
    x = x.to(compute_dtype(x.dtype))
    scale = x.abs().amax(dim=1)
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    rest = torch.linalg.vector_norm(x / safe[:, None], dim=1)
    rest = torch.where(scale > 0, rest, torch.ones_like(rest))
    return scale, rest


def unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` divided by their norms (scaled first, see :func:`row_norms`); zero rows stay 0."""
    x = x.to(compute_dtype(x.dtype))
    scale, rest = row_norms(x)
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    return (x / safe[:, None]) / rest[:, None]


def same_shape(a, b, name_a: str, name_b: str, *, ndim=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Two arrays of one shape, as float64 tensors on ``a``'s device (the pairs of metrics and drifts)."""
    a = as_tensor(a, name_a, ndim=ndim, dtype=torch.float64)
    b = as_tensor(b, name_b, ndim=ndim, dtype=torch.float64, device=a.device)
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return a, b


def as_labels(labels, name: str, n: int, n_classes: int, device) -> torch.Tensor:
    """Class indices ``[n]`` in ``[0, n_classes)``: integer tensors, arrays or lists (any integer
    dtype); ``bool`` and fractional values refused."""
    if torch.is_tensor(labels):
        t = labels.detach()
    else:
        try:
            arr = np.asarray(labels)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be integer class indices") from err
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be integer class indices, got dtype {arr.dtype}")
        t = torch.as_tensor(arr)
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name} must be integer class indices, got dtype {t.dtype}")
    if t.is_floating_point():
        if not bool(torch.isfinite(t).all()) or bool((t != torch.round(t)).any()):
            raise TypeError(f"{name} must be integer class indices, got non-integral values")
    t = t.to(torch.long)
    if t.shape != (n,):
        raise ValueError(f"{name} must be [{n}], got shape {tuple(t.shape)}")
    if int(t.min()) < 0 or int(t.max()) >= n_classes:
        raise ValueError(f"{name} must lie in [0, {n_classes}), got range [{int(t.min())}, {int(t.max())}]")
    return t.to(device)


def check_model_input(model: torch.nn.Module, x: torch.Tensor, name: str) -> None:
    """One forward pass of ``model`` on the first row of ``x`` (eval mode, no gradients, every
    module's mode restored): a feature-size or dtype mismatch fails here, naming ``name``, instead
    of as a matrix-product error deep inside a kernel or a training loop."""
    flags = [m.training for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            model(x[:1])
    except (RuntimeError, ValueError, TypeError, IndexError) as err:
        raise ValueError(
            f"the model cannot be applied to {name} of shape {tuple(x.shape)} and dtype {x.dtype}: {err}"
        ) from err
    finally:
        for m, flag in zip(model.modules(), flags):
            m.training = flag
