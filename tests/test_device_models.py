import math

import pytest
import torch

from ntk_lib import device as dev
from ntk_lib.models import MLP


def test_default_device_honours_env(monkeypatch):
    monkeypatch.setenv("NTK_DEVICE", "cpu")
    assert dev.default_device() == torch.device("cpu")
    monkeypatch.delenv("NTK_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert dev.default_device().type == expected
    assert dev.resolve_device("auto") == dev.default_device()
    with pytest.raises(ValueError, match="not a valid torch device"):
        dev.resolve_device("nonsense:7")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_request_without_cuda():
    with pytest.raises(ValueError, match="CUDA is not available"):
        dev.resolve_device("cuda")


def test_seed_everything_is_reproducible():
    dev.seed_everything(5)
    a = torch.randn(3)
    dev.seed_everything(5)
    assert torch.equal(a, torch.randn(3))
    with pytest.raises(ValueError, match="seed"):
        dev.seed_everything(-1)


def test_chunk_rows():
    assert dev.chunk_rows(100, 10, budget_bytes=55) == 5
    assert dev.chunk_rows(100, 10, budget_bytes=1) == 1
    assert dev.chunk_rows(3, 10, budget_bytes=10**9) == 3
    assert dev.memory_budget_bytes() > 0


@pytest.mark.parametrize("param", ["ntk", "standard"])
def test_mlp_output_variance_matches_nngp(param):
    """Both parameterizations have the same function at initialization: output variance
    w * |x|^2 / n0 for depth 1, and half of it per ReLU layer (b = 0)."""
    x = torch.ones(1, 4, dtype=torch.float64)
    outs = torch.stack([MLP(4, 256, 3, parameterization=param, seed=s, dtype=torch.float64)(x) for s in range(600)])
    var = float(outs.detach().var())
    assert var == pytest.approx(1 / 4, rel=0.15)


def test_parameterizations_differ_in_gradient_scale():
    x = torch.ones(1, 4)
    grads = {}
    for param in ("ntk", "standard"):
        m = MLP(4, 1024, 2, parameterization=param, seed=0)
        m(x).sum().backward()
        grads[param] = float(m.layers[1].weight.grad.norm())
    # d f / d W_readout is a / sqrt(n) in NTK parameterization, a in standard
    assert grads["standard"] / grads["ntk"] == pytest.approx(math.sqrt(1024), rel=1e-4)


def test_mlp_shapes_and_features():
    m = MLP(3, 10, 4, out_features=2, seed=0)
    x = torch.randn(7, 3)
    assert m(x).shape == (7, 2)
    assert m.features(x).shape == (7, 10)
    assert MLP(3, 10, 1, seed=0)(x).shape == (7,)


def test_precise_dtype_is_float64_except_on_mps():
    from ntk_lib.device import precise_dtype

    assert precise_dtype("cpu") == torch.float64
    assert precise_dtype(torch.device("cuda", 0)) == torch.float64  # the type alone decides; no GPU needed
    assert precise_dtype("mps") == torch.float32
    with pytest.raises(ValueError, match="device"):
        precise_dtype("not-a-device")
