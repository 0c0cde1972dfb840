"""Data: points on circles and spheres, synthetic regression targets, and loaders with a cache."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ._validate import as_tensor, check_bool, check_int, check_positive, check_real, row_norms, unit_rows

__all__ = [
    "sphere",
    "circle",
    "circle_points",
    "to_sphere",
    "unit_interval",
    "sum_of_sines",
    "load_digits_sphere",
    "load_mnist",
    "load_text8",
    "Task",
    "gaussian_mixture",
    "benchmark_task",
    "synthetic_corpus",
    "context_distributions",
]


def _check_n(n, name="n"):
    n = check_int(n, name)
    if n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return n


def _generator(seed) -> torch.Generator:
    return torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))


def _check_dtype(dtype) -> torch.dtype:
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    return dtype


def sphere(n: int, dim: int, *, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``n`` points drawn uniformly on the unit sphere :math:`S^{dim-1}` (normalized Gaussians)."""
    n, dim = _check_n(n), _check_n(dim, "dim")
    dtype = _check_dtype(dtype)
    g = _generator(seed)
    x = torch.randn(n, dim, generator=g, dtype=torch.float64)
    return (x / x.norm(dim=1, keepdim=True)).to(dtype)


def circle_points(angles: torch.Tensor) -> torch.Tensor:
    """Points :math:`(\\cos\\theta, \\sin\\theta)` for angles ``[n]``: ``[n, 2]`` (float64 for
    integer or list input, float32 for float16/bfloat16)."""
    angles = as_tensor(angles, "angles", ndim=1)
    if angles.dtype in (torch.float16, torch.bfloat16):
        angles = angles.float()
    return torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def circle(
    n: int, *, random: bool = True, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """Angles in :math:`[0, 2\\pi)`, sorted (uniform random, or an even grid) and their points."""
    n = _check_n(n)
    dtype = _check_dtype(dtype)
    if check_bool(random, "random"):
        g = _generator(seed)
        angles = torch.sort(torch.rand(n, generator=g, dtype=torch.float64) * 2 * math.pi).values
    else:
        angles = torch.arange(n, dtype=torch.float64) * (2 * math.pi / n)
    return angles.to(dtype), circle_points(angles).to(dtype)


def to_sphere(x) -> torch.Tensor:
    """Project the rows of ``x`` onto the unit sphere (the canonical projection of SCF §4, case b).

    Rows are scaled before their norms are taken, so any magnitude (``1e-200`` to ``1e200``, or
    large float16 values) projects exactly; float16/bfloat16 input is returned as float32,
    integers as float64."""
    x = as_tensor(x, "x", ndim=2)
    scale, _ = row_norms(x)
    if bool((scale == 0).any()):
        raise ValueError(f"x has an all-zero row (row {int(torch.argmin(scale))}), which has no direction on the sphere")
    return unit_rows(x)


def unit_interval(n: int, *, random: bool = False, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``n`` points of :math:`[0, 1)` as a column ``[n, 1]``: the even grid :math:`j/n`, or sorted uniform draws."""
    n = _check_n(n)
    dtype = _check_dtype(dtype)
    g = _generator(seed)  # checked even when unused: a bad seed is a caller's mistake either way
    if check_bool(random, "random"):
        x = torch.sort(torch.rand(n, generator=g, dtype=torch.float64)).values
    else:
        x = torch.arange(n, dtype=torch.float64) / n
    return x[:, None].to(dtype)


def sum_of_sines(x, freqs, amps=None, phases=None) -> torch.Tensor:
    r""":math:`y(x) = \sum_j a_j \sin(2\pi k_j x + p_j)` for 1-D inputs ``x`` (``[n]`` or ``[n, 1]``): ``[n]``.

    ``freqs`` are the :math:`k_j` (cycles per unit length); ``amps`` default to 1, ``phases`` to 0.
    """
    x = as_tensor(x, "x", ndim=(1, 2))
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
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
    returns ``(x, labels)``. Needs no network: the data ship with scikit-learn. ``dtype`` must be a
    floating dtype (as for :func:`sphere`): unit vectors in an integer dtype would be zeros."""
    dtype = _check_dtype(dtype)
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


def _cache_root(cache_dir):
    import os
    from pathlib import Path

    return Path(cache_dir or os.environ.get("NTK_DATA") or Path.home() / ".cache" / "ntk_lib")


def _fetch(url: str, path, *, what: str, download: bool, hint: str):
    """Download ``url`` to ``path`` once (via a ``.part`` file); a clear ``RuntimeError`` when it cannot."""
    download = check_bool(download, "download")
    import urllib.error
    import urllib.request

    if path.exists():
        return path
    if not download:
        raise RuntimeError(f"{what} file {path} is not in the cache and download=False. {hint}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    try:
        urllib.request.urlretrieve(url, tmp)
    except (urllib.error.URLError, OSError) as err:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"could not download {what} ({url}): {err}. {hint}") from None
    tmp.rename(path)
    return path


def load_mnist(
    split: str = "train", *, cache_dir=None, download: bool = True, base_url: str = MNIST_URL
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as ``(images [N, 784] float64 in [0, 1], labels [N])``, from a local cache.

    Files are looked for in ``cache_dir`` (default ``$NTK_DATA`` or ``~/.cache/ntk_lib``) and, when
    missing and ``download`` is true, fetched from ``base_url`` once. Without the files and without
    network this raises a ``RuntimeError`` saying what to do, instead of a socket traceback.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = _cache_root(cache_dir) / "mnist"
    hint = (
        f"Without network, put the four MNIST .gz files in {root} (or set NTK_DATA), "
        "or use load_digits_sphere() instead."
    )
    paths = {}
    for kind in ("images", "labels"):
        name = _MNIST_FILES[(split, kind)]
        paths[kind] = _fetch(base_url + name, root / name, what="MNIST", download=download, hint=hint)
    images = _read_idx(paths["images"]).reshape(-1, 28 * 28).to(torch.float64) / 255.0
    labels = _read_idx(paths["labels"]).to(torch.long)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"MNIST {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels


TEXT8_URL = "http://mattmahoney.net/dc/text8.zip"


def load_text8(*, cache_dir=None, download: bool = False, max_tokens: int | None = None, url: str = TEXT8_URL) -> list[str]:
    """The text8 corpus (the first 10^8 characters of English Wikipedia, lower-cased) as a list of words.

    Read from ``cache_dir/text8/text8.zip`` (default cache ``$NTK_DATA`` or ``~/.cache/ntk_lib``);
    fetched from ``url`` only when ``download=True`` (about 31 MB). Without the file, and without
    network or permission to download, raises a ``RuntimeError`` that says how to proceed (e.g.
    :func:`synthetic_corpus` offline).
    """
    import zipfile

    root = _cache_root(cache_dir) / "text8"
    hint = (
        f"Put text8.zip in {root} (or set NTK_DATA), call load_text8(download=True) with network, "
        "or use synthetic_corpus() offline."
    )
    path = _fetch(url, root / "text8.zip", what="text8", download=download, hint=hint)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        if not names:
            raise ValueError(f"{path} is an empty zip archive")
        with zf.open(names[0]) as fh:
            if max_tokens is None:
                return fh.read().decode("ascii", errors="ignore").split()
            max_tokens = _check_n(max_tokens, "max_tokens")
            words: list[str] = []
            tail = ""
            while len(words) < max_tokens:
                chunk = fh.read(1 << 20)
                if not chunk:
                    words.extend(tail.split())
                    break
                text = tail + chunk.decode("ascii", errors="ignore")
                cut = text.rfind(" ")
                words.extend(text[:cut].split())
                tail = text[cut:]
            return words[:max_tokens]


def synthetic_corpus(
    n_tokens: int, *, vocab_size: int = 500, n_topics: int = 10, sentence_length: int = 12, seed: int = 0
) -> list[str]:
    """A generated stand-in for text8 with the statistics a word2vec-style task needs.

    Words ``w0 .. w{vocab_size-1}`` have Zipf frequencies; each word belongs to one of ``n_topics``
    topics; each sentence picks a topic and draws its words from that topic (70%) or from the
    whole vocabulary (30%). Words of a topic therefore share contexts, as related words do in text.
    """
    n_tokens = _check_n(n_tokens, "n_tokens")
    vocab_size = _check_n(vocab_size, "vocab_size")
    n_topics = _check_n(n_topics, "n_topics")
    sentence_length = _check_n(sentence_length, "sentence_length")
    if n_topics > vocab_size:
        raise ValueError(f"n_topics ({n_topics}) cannot exceed vocab_size ({vocab_size})")
    g = _generator(seed)
    zipf = 1.0 / torch.arange(1, vocab_size + 1, dtype=torch.float64)
    topic = torch.arange(vocab_size) % n_topics
    in_topic = [zipf * (topic == k) for k in range(n_topics)]
    n_sent = -(-n_tokens // sentence_length)
    topics = torch.randint(n_topics, (n_sent,), generator=g)
    from_topic = torch.rand(n_sent, sentence_length, generator=g) < 0.7
    words = torch.empty(n_sent, sentence_length, dtype=torch.long)
    for k in range(n_topics):
        rows = topics == k
        m = int(rows.sum())
        if m:
            words[rows] = torch.multinomial(in_topic[k], m * sentence_length, replacement=True, generator=g).view(m, -1)
    background = torch.multinomial(zipf, n_sent * sentence_length, replacement=True, generator=g).view(n_sent, -1)
    words = torch.where(from_topic, words, background).reshape(-1)[:n_tokens]
    return [f"w{i}" for i in words.tolist()]


def context_distributions(tokens: list[str], vocab_size: int, *, window: int = 2) -> tuple[list[str], torch.Tensor]:
    """Skip-gram statistics: the ``vocab_size`` most frequent words, and for each of them the
    distribution of the words within ``window`` positions of it (among those same words).

    Returns ``(vocab, P)`` with ``P [V, V]`` row-stochastic: ``P[i, j]`` estimates p(context j | word i),
    the target a word2vec model learns to predict from the one-hot code of word ``i``.
    """
    from collections import Counter

    if not isinstance(tokens, (list, tuple)) or not all(isinstance(t, str) for t in tokens[:100]):
        raise TypeError("tokens must be a list of strings")
    vocab_size = _check_n(vocab_size, "vocab_size")
    window = _check_n(window, "window")
    counts = Counter(tokens)
    if len(counts) < vocab_size:
        raise ValueError(f"the corpus has only {len(counts)} distinct words, fewer than vocab_size={vocab_size}")
    vocab = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:vocab_size]]
    index = {w: i for i, w in enumerate(vocab)}
    ids = torch.tensor([index.get(t, -1) for t in tokens], dtype=torch.long)
    co = torch.zeros(vocab_size * vocab_size, dtype=torch.float64)
    for off in range(1, window + 1):
        a, b = ids[:-off], ids[off:]
        keep = (a >= 0) & (b >= 0)
        pairs = torch.cat([a[keep] * vocab_size + b[keep], b[keep] * vocab_size + a[keep]])
        co += torch.bincount(pairs, minlength=vocab_size * vocab_size).to(torch.float64)
    co = co.view(vocab_size, vocab_size)
    rows = co.sum(1, keepdim=True)
    if bool((rows == 0).any()):
        raise ValueError("some vocabulary word has no context inside the vocabulary; use a longer corpus or a larger window")
    return vocab, co / rows


class Task(NamedTuple):
    """A supervised task split into train and test, features standardized with the training statistics.

    Regression targets ``y`` are ``[n]`` (standardized); classification targets are class indices ``[n]``.
    """

    name: str
    kind: str  # "regression" or "classification"
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int = 0


def gaussian_mixture(n: int, *, classes: int = 5, dim: int = 2, spread: float = 1.0, seed: int = 0):
    """``n`` points of ``classes`` isotropic Gaussians (standard deviation ``spread``) whose means are
    drawn from :math:`\\mathcal N(0, 4I)`; returns ``(x [n, dim], labels [n])``."""
    n, classes, dim = _check_n(n), _check_n(classes, "classes"), _check_n(dim, "dim")
    spread = check_positive(spread, "spread")
    g = _generator(seed)
    means = 2.0 * torch.randn(classes, dim, generator=g, dtype=torch.float64)
    labels = torch.randint(classes, (n,), generator=g)
    x = means[labels] + spread * torch.randn(n, dim, generator=g, dtype=torch.float64)
    return x, labels


BENCHMARKS = ("sines", "mixture", "iris", "wine", "diabetes", "boston")


def _split(x, y, test_fraction, seed):
    g = _generator(seed)
    perm = torch.randperm(x.shape[0], generator=g)
    n_test = max(1, int(round(test_fraction * x.shape[0])))
    return perm[n_test:], perm[:n_test]


def benchmark_task(name: str, *, seed: int = 0, test_fraction: float = 0.3, n: int = 400, cache_dir=None) -> Task:
    """The tasks of the NTK-ECRN comparison, split (by ``seed``) and standardized.

    ``"sines"`` (1-D sum of sines, ``n`` points), ``"mixture"`` (5-class Gaussian mixture in 2-D, ``n``
    points), ``"iris"``, ``"wine"`` and ``"diabetes"`` (scikit-learn's shipped copies: no network),
    ``"boston"`` (Boston housing, fetched from OpenML into the cache: needs network once; scikit-learn
    no longer ships it).
    """
    if name not in BENCHMARKS:
        raise ValueError(f"name must be one of {BENCHMARKS}, got {name!r}")
    test_fraction = check_real(test_fraction, "test_fraction")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    seed = check_int(seed, "seed", minimum=0)
    n = _check_n(n)
    kind, n_classes = "regression", 0
    if name == "sines":
        x = torch.rand(n, 1, generator=_generator(seed), dtype=torch.float64)
        y = sum_of_sines(x, [1, 3, 7, 12])
    elif name == "mixture":
        x, y = gaussian_mixture(n, seed=seed)
        kind, n_classes = "classification", 5
    elif name in ("iris", "wine", "diabetes"):
        from sklearn import datasets

        d = getattr(datasets, f"load_{name}")()
        x = torch.as_tensor(d.data, dtype=torch.float64)
        y = torch.as_tensor(d.target)
        if name != "diabetes":
            kind, n_classes = "classification", int(y.max()) + 1
        y = y.to(torch.long) if kind == "classification" else y.to(torch.float64)
    else:
        from sklearn.datasets import fetch_openml

        try:
            d = fetch_openml(name="boston", version=1, as_frame=False, data_home=str(_cache_root(cache_dir) / "openml"))
        except Exception as err:  # sklearn raises several network errors
            raise RuntimeError(
                f"could not fetch Boston housing from OpenML ({type(err).__name__}: {err}). It needs network once; "
                "offline, use benchmark_task('diabetes'), a regression set scikit-learn ships."
            ) from None
        x = torch.as_tensor(d.data.astype("float64"))
        y = torch.as_tensor(d.target.astype("float64"))
    tr, te = _split(x, y, test_fraction, seed + 1)
    mu, sd = x[tr].mean(0), x[tr].std(0).clamp_min(1e-12)
    if name == "sines":
        mu, sd = torch.zeros_like(mu), torch.ones_like(sd)  # keep x in [0, 1): the frequencies are in its units
    x = (x - mu) / sd
    if kind == "regression" and name != "sines":
        y = (y - y[tr].mean()) / y[tr].std()
    return Task(name, kind, x[tr], y[tr], x[te], y[te], n_classes)


CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_CIFAR10_DIR = "cifar-10-batches-py"


def load_cifar10(
    n: int | None = 5000, *, seed: int = 0, split: str = "train", cache_dir=None, download: bool = False, url: str = CIFAR10_URL
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random subset of CIFAR-10 as ``(images [n, 3, 32, 32] float32 in [0, 1], labels [n] long)``.

    Read from the python-format tarball ``cifar-10-python.tar.gz`` in ``cache_dir/cifar10`` (default
    cache ``$NTK_DATA`` or ``~/.cache/ntk_lib``), fetched from ``url`` (about 163 MB, through a ``.part``
    file) only when ``download=True``. ``split="train"`` draws from the 50,000 training images
    (``data_batch_1..5``), ``"test"`` from the 10,000 test images; the subset is ``n`` indices drawn
    without replacement by ``seed`` (``n=None``: the whole split, in file order). The batches are
    pickles: load only a tarball you trust (the official one).
    """
    import pickle
    import tarfile

    import numpy as np

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if n is not None:
        n = _check_n(n)
    seed = check_int(seed, "seed")
    root = _cache_root(cache_dir) / "cifar10"
    hint = (
        f"Without network, put cifar-10-python.tar.gz (the python version from {url}) in {root} "
        "(or set NTK_DATA), or call load_cifar10(..., download=True) where there is network."
    )
    path = _fetch(url, root / "cifar-10-python.tar.gz", what="CIFAR-10", download=download, hint=hint)
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    images, labels = [], []
    try:
        with tarfile.open(path, "r:gz") as tar:
            for name in names:
                member = tar.extractfile(f"{_CIFAR10_DIR}/{name}")
                if member is None:
                    raise KeyError(name)
                batch = pickle.load(member, encoding="bytes")
                images.append(np.asarray(batch[b"data"], dtype=np.uint8))
                labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
    except (KeyError, tarfile.TarError, pickle.UnpicklingError, EOFError) as err:
        raise ValueError(f"{path} is not a CIFAR-10 python-format tarball ({type(err).__name__}: {err})") from None
    data, lab = np.concatenate(images), np.concatenate(labels)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.shape[0] != lab.shape[0]:
        raise ValueError(f"{path}: expected [N, 3072] images and N labels, got {data.shape} and {lab.shape}")
    if n is not None:
        if n > data.shape[0]:
            raise ValueError(f"n must be at most {data.shape[0]} for split {split!r}, got {n}")
        idx = torch.randperm(data.shape[0], generator=torch.Generator().manual_seed(int(seed)))[:n].numpy()
        data, lab = data[idx], lab[idx]
    x = torch.from_numpy(data.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)
    return x, torch.from_numpy(lab)


def write_cifar10_like(path, *, n_train: int = 50, n_test: int = 20, classes: int = 10, seed: int = 0):
    """Write a small tarball in the CIFAR-10 python format (five training batches and a test batch) with
    synthetic images: class ``c`` has its own mean colour pattern plus noise, so that it can be learned.
    For tests and for running the CIFAR-10 code path offline; ``path`` is the ``.tar.gz`` to create."""
    import io
    import pickle
    import tarfile
    from pathlib import Path

    import numpy as np

    n_train, n_test, classes = _check_n(n_train, "n_train"), _check_n(n_test, "n_test"), _check_n(classes, "classes")
    rng = np.random.default_rng(seed)
    patterns = rng.uniform(0.2, 0.8, size=(classes, 3072))

    def batch(m):
        lab = rng.integers(0, classes, size=m)
        img = np.clip(patterns[lab] + 0.15 * rng.standard_normal((m, 3072)), 0.0, 1.0)
        return {b"data": (255 * img).astype(np.uint8), b"labels": [int(v) for v in lab]}

    sizes = [n_train // 5 + (1 if i < n_train % 5 else 0) for i in range(5)]
    members = {f"data_batch_{i + 1}": batch(s) for i, s in enumerate(sizes)}
    members["test_batch"] = batch(n_test)
    members["batches.meta"] = {b"label_names": [f"class{c}".encode() for c in range(classes)]}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in members.items():
            raw = pickle.dumps(obj)
            info = tarfile.TarInfo(f"{_CIFAR10_DIR}/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path
