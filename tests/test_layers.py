"""ntk_lib.layers: composed kernels against the closed-form paths and against wide built networks."""


import pytest
import torch

from ntk_lib import layers as L
from ntk_lib.analytic import relu_nngp, relu_ntk


def _x(n=6, d=3, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _mlp(depth, w, b, width=64):
    hidden = []
    for _ in range(depth - 1):
        hidden += [L.Dense(width, w, b), L.Relu()]
    return L.serial(*hidden, L.Dense(1, w, b))


@pytest.mark.parametrize("depth", [1, 2, 3, 6, 10])
@pytest.mark.parametrize("w,b", [(1.0, 0.0), (2.0, 0.0), (2.0, 0.1), (1.3, 0.5)])
def test_composed_relu_mlp_equals_relu_ntk(depth, w, b):
    x = _x(12, 5)
    x2 = torch.cat([x[:4], _x(5, 5, seed=1)])  # shared rows: the diagonal x = x' appears in x2 too
    net = _mlp(depth, w, b)
    for other in (None, x2):
        k = net.kernel(x, other)
        ntk = relu_ntk(x, other, depth=depth, weight_var=w, bias_var=b)
        nngp = relu_nngp(x, other, depth=depth, weight_var=w, bias_var=b)
        assert k.ntk.dtype == torch.float64 and k.ntk.shape == ntk.shape
        assert torch.allclose(k.ntk, ntk, rtol=1e-12, atol=0)
        assert torch.allclose(k.nngp, nngp, rtol=1e-12, atol=0)
