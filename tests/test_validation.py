"""Every public function rejects bad input with an error naming the argument."""

import pytest
import torch

from ntk_lib.analytic import nngp_ntk, relu_kernel_layers, relu_nngp, relu_ntk, theta_bar_recurrence
from ntk_lib.models import MLP

KERNELS = [relu_ntk, relu_nngp, relu_kernel_layers, nngp_ntk]


@pytest.mark.parametrize("fn", KERNELS)
def test_kernel_bad_inputs(fn):
    x = torch.randn(4, 3)
    cases = [
        (dict(x1=torch.randn(4), depth=2), ValueError, "x1 must have 2 dimensions"),
        (dict(x1=torch.tensor([[1.0, float("nan"), 0.0]]), depth=2), ValueError, "x1 contains NaN"),
        (dict(x1=x, x2=torch.randn(2, 5), depth=2), ValueError, "x2 has 5 features but x1 has 3"),
        (dict(x1=x, depth=0), ValueError, "depth must be >= 1"),
        (dict(x1=x, depth=2.5), TypeError, "depth must be an integer"),
        (dict(x1=x, depth=True), TypeError, "depth must be an integer"),
        (dict(x1=x, depth=2, weight_var=-1.0), ValueError, "weight_var must be > 0"),
        (dict(x1=x, depth=2, bias_var=-0.1), ValueError, "bias_var must be >= 0"),
        (dict(x1=x, depth=2, bias_var=float("inf")), ValueError, "bias_var must be finite"),
        (dict(x1="abc", depth=2), TypeError, "x1 must be"),
        (dict(x1=torch.zeros(0, 3), depth=2), ValueError, "x1 is empty"),
    ]
    for kwargs, err, msg in cases:
        x1 = kwargs.pop("x1")
        with pytest.raises(err, match=msg):
            fn(x1, **kwargs)


def test_zero_row_without_bias():
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="x1 has an all-zero row"):
        relu_ntk(x, depth=3)
    k = relu_ntk(x, depth=3, bias_var=0.5)
    assert bool(torch.isfinite(k).all())


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="rho1 must lie in"):
        theta_bar_recurrence(torch.tensor([1.2]), 3)
    with pytest.raises(ValueError, match="parameterization"):
        MLP(3, 8, 2, parameterization="mup?")
    with pytest.raises(ValueError, match="width must be a positive integer"):
        MLP(3, 0, 2)
    with pytest.raises(ValueError, match="activation must be"):
        nngp_ntk(torch.randn(2, 2), depth=2, activation="sigmoidal?")
    with pytest.raises(TypeError, match="dtype must be a floating"):
        relu_ntk(torch.randn(2, 2), depth=2, dtype=torch.int64)
    with pytest.raises(ValueError, match="block_elems"):
        relu_ntk(torch.randn(2, 2), depth=2, block_elems=0)
