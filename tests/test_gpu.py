"""Device-following checks that need a CUDA GPU (skipped elsewhere): results computed where the
inputs live and equal to the CPU results."""

import pytest
import torch

from ntk_lib.analytic import relu_nngp, relu_ntk, theta_bar_recurrence
from ntk_lib.dynamics import gradient_flow
from ntk_lib.models import MLP
from ntk_lib.training import train_gd

pytestmark = pytest.mark.gpu


def test_analytic_kernels_follow_the_device():
    x = torch.randn(300, 7, dtype=torch.float64)
    for fn, kw in ((relu_ntk, {}), (relu_ntk, {"normalized": True}), (relu_nngp, {})):
        cpu = fn(x, depth=6, bias_var=0.1, **kw)
        gpu = fn(x.cuda(), depth=6, bias_var=0.1, **kw)
        assert gpu.device.type == "cuda"
        assert torch.allclose(gpu.cpu(), cpu, rtol=1e-12, atol=1e-15)
    rho = torch.linspace(-1, 1, 11, dtype=torch.float64)
    assert torch.allclose(theta_bar_recurrence(rho.cuda(), 50).cpu(), theta_bar_recurrence(rho, 50), rtol=1e-12)


def test_flow_and_training_follow_the_device():
    x = torch.randn(40, 3, dtype=torch.float64)
    k = relu_ntk(x, depth=3)
    y = torch.randn(40, dtype=torch.float64)
    cpu = gradient_flow(k, y, t=[0.5, 5.0])
    gpu = gradient_flow(k.cuda(), y.cuda(), t=[0.5, 5.0])
    assert gpu.train.device.type == "cuda"
    assert torch.allclose(gpu.train.cpu(), cpu.train, atol=1e-10)
    model = MLP(3, 256, 3, seed=0).cuda()
    hist = train_gd(model, x.float(), y.float(), lr=0.05, steps=20, progress=False)
    assert hist.train_pred.device.type == "cuda"
    assert hist.loss[-1] < hist.loss[0]
