"""Data: points on circles and spheres, synthetic regression targets, and loaders with a cache."""

from __future__ import annotations

import math
import numbers

import torch

__all__ = [
    "sphere",
    "circle",
    "circle_points",
    "to_sphere",
    "unit_interval",
    "sum_of_sines",
    "load_digits_sphere",
    "load_mnist",
]


def _check_n(n, name="n"):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def sphere(n: int, dim: int, *, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``n`` points drawn uniformly on the unit sphere :math:`S^{dim-1}` (normalized Gaussians)."""
    n, dim = _check_n(n), _check_n(dim, "dim")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)
    return (x / x.norm(dim=1, keepdim=True)).to(dtype)


def circle_points(angles: torch.Tensor) -> torch.Tensor:
    """Points :math:`(\\cos\\theta, \\sin\\theta)` for angles ``[n]``: ``[n, 2]``."""
    return torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def circle(
    n: int, *, random: bool = True, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """Angles in :math:`[0, 2\\pi)`, sorted (uniform random, or an even grid) and their points."""
    n = _check_n(n)
    if random:
        g = torch.Generator().manual_seed(seed)
        angles = torch.sort(torch.rand(n, generator=g, dtype=torch.float64) * 2 * math.pi).values
    else:
        angles = torch.arange(n, dtype=torch.float64) * (2 * math.pi / n)
    return angles.to(dtype), circle_points(angles).to(dtype)


def to_sphere(x) -> torch.Tensor:
    """Project the rows of ``x`` onto the unit sphere (the canonical projection of SCF §4, case b)."""
    from ._validate import as_tensor

    x = as_tensor(x, "x", ndim=2)
    norms = x.norm(dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise ValueError("x has an all-zero row, which has no direction on the sphere")
    return x / norms


def unit_interval(n: int, *, random: bool = False, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``n`` points of :math:`[0, 1)` as a column ``[n, 1]``: the even grid :math:`j/n`, or sorted uniform draws."""
    n = _check_n(n)
    if random:
        g = torch.Generator().manual_seed(seed)
        x = torch.sort(torch.rand(n, generator=g, dtype=torch.float64)).values
    else:
        x = torch.arange(n, dtype=torch.float64) / n
    return x[:, None].to(dtype)


def sum_of_sines(x, freqs, amps=None, phases=None) -> torch.Tensor:
    r""":math:`y(x) = \sum_j a_j \sin(2\pi k_j x + p_j)` for 1-D inputs ``x`` (``[n]`` or ``[n, 1]``): ``[n]``.

    ``freqs`` are the :math:`k_j` (cycles per unit length); ``amps`` default to 1, ``phases`` to 0.
    """
    from ._validate import as_tensor

    x = as_tensor(x, "x", ndim=(1, 2))
    if x.ndim == 2:
        if x.shape[1] != 1:
            raise ValueError(f"x must be [n] or [n, 1] (one input dimension), got shape {tuple(x.shape)}")
        x = x[:, 0]
    k = as_tensor(freqs, "freqs", ndim=1, dtype=x.dtype, device=x.device)
    a = torch.ones_like(k) if amps is None else as_tensor(amps, "amps", ndim=1, dtype=x.dtype, device=x.device)
    p = torch.zeros_like(k) if phases is None else as_tensor(phases, "phases", ndim=1, dtype=x.dtype, device=x.device)
    if not (a.shape == p.shape == k.shape):
        raise ValueError(f"freqs, amps and phases must have equal lengths, got {k.numel()}, {a.numel()}, {p.numel()}")
    return (a[None, :] * torch.sin(2 * math.pi * x[:, None] * k[None, :] + p[None, :])).sum(1)


def load_digits_sphere(*, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's shipped 8x8 digits (1,797 images, 64 pixels), rows projected to :math:`S^{63}`;
    returns ``(x, labels)``. Needs no network: the data ship with scikit-learn."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.as_tensor(d.data, dtype=torch.float64)
    return to_sphere(x).to(dtype), torch.as_tensor(d.target, dtype=torch.long)


MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_MNIST_FILES = {
    ("train", "images"): "train-images-idx3-ubyte.gz",
    ("train", "labels"): "train-labels-idx1-ubyte.gz",
    ("test", "images"): "t10k-images-idx3-ubyte.gz",
    ("test", "labels"): "t10k-labels-idx1-ubyte.gz",
}


def _read_idx(path) -> torch.Tensor:
    import gzip

    import numpy as np

    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != math.prod(dims):
        raise ValueError(f"{path} is truncated: expected {math.prod(dims)} values, found {data.size}")
    return torch.from_numpy(data.reshape(dims).copy())


def load_mnist(
    split: str = "train", *, cache_dir=None, download: bool = True, base_url: str = MNIST_URL
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as ``(images [N, 784] float64 in [0, 1], labels [N])``, from a local cache.

    Files are looked for in ``cache_dir`` (default ``$NTK_DATA`` or ``~/.cache/ntk_lib``) and, when
    missing and ``download`` is true, fetched from ``base_url`` once. Without the files and without
    network this raises a ``RuntimeError`` saying what to do, instead of a socket traceback.
    """
    import os
    import urllib.error
    import urllib.request
    from pathlib import Path

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(cache_dir or os.environ.get("NTK_DATA") or Path.home() / ".cache" / "ntk_lib") / "mnist"
    paths = {}
    for kind in ("images", "labels"):
        name = _MNIST_FILES[(split, kind)]
        path = root / name
        if not path.exists():
            if not download:
                raise RuntimeError(f"MNIST file {path} is not in the cache and download=False")
            root.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            try:
                urllib.request.urlretrieve(base_url + name, tmp)
            except (urllib.error.URLError, OSError) as err:
                tmp.unlink(missing_ok=True)
                raise RuntimeError(
                    f"could not download MNIST ({base_url + name}): {err}. Without network, put the four "
                    f"MNIST .gz files in {root} (or set NTK_DATA), or use load_digits_sphere() instead."
                ) from None
            tmp.rename(path)
        paths[kind] = path
    images = _read_idx(paths["images"]).reshape(-1, 28 * 28).to(torch.float64) / 255.0
    labels = _read_idx(paths["labels"]).to(torch.long)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"MNIST {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels
