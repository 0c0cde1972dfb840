"""The Apple MPS policy of :mod:`ntk_lib.device`: float64 work leaves MPS for the CPU and comes back
as CPU float64; models, empirical kernels and training stay on MPS in float32.

The first tests check the rule itself and run everywhere (a ``torch.device("mps")`` is only a
name); the rest need an MPS device and are skipped elsewhere.
"""

import math

import pytest
import torch

from ntk_lib import device, dynamics, features, metrics, spectral
from ntk_lib._validate import as_tensor, float64_device
from ntk_lib.analytic import relu_ntk
from ntk_lib.empirical import empirical_ntk
from ntk_lib.models import MLP
from ntk_lib.training import train_gd

HAS_MPS = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
needs_mps = pytest.mark.skipif(not HAS_MPS, reason="no Apple MPS device here")


def test_float64_work_is_routed_off_mps():
    assert float64_device("mps") == torch.device("cpu")
    assert float64_device(torch.device("mps")) == torch.device("cpu")
    assert float64_device("cuda:1") == torch.device("cuda:1")  # CUDA keeps float64 work
    assert float64_device("cpu") == torch.device("cpu")
    # a float64 request for MPS lands on the CPU; integers (promoted to float64) too
    x = as_tensor([[1.0, 2.0]], "x", dtype=torch.float64, device="mps")
    assert x.device.type == "cpu" and x.dtype == torch.float64
    xi = as_tensor([[1, 2]], "x", device="mps")
    assert xi.device.type == "cpu" and xi.dtype == torch.float64


def test_default_device_can_be_forced_to_cpu(monkeypatch):
    monkeypatch.setenv("NTK_DEVICE", "cpu")
    assert device.default_device() == torch.device("cpu")
    monkeypatch.setenv("NTK_DEVICE", "auto")
    assert device.resolve_device("cpu") == torch.device("cpu")
    if not HAS_MPS:
        with pytest.raises(ValueError, match="mps"):
            device.resolve_device("mps")


def test_policy_is_written_in_the_device_module():
    doc = device.__doc__
    assert "MPS" in doc and "float64" in doc and "eigh" in doc and "NTK_DEVICE" in doc


@needs_mps
def test_analytic_kernels_from_mps_inputs_are_exact_cpu_float64():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, generator=g, dtype=torch.float64)
    ref = relu_ntk(x, depth=4, bias_var=0.1)
    out = relu_ntk(x.float().to("mps"), depth=4, bias_var=0.1)
    assert out.device.type == "cpu" and out.dtype == torch.float64
    assert torch.allclose(out, relu_ntk(x.float(), depth=4, bias_var=0.1), rtol=1e-14, atol=0)
    assert torch.allclose(out, ref, rtol=1e-6)


@needs_mps
def test_dynamics_spectral_metrics_accept_mps_tensors():
    g = torch.Generator().manual_seed(1)
    a = torch.randn(5, 7, generator=g)
    k = (a @ a.T).to("mps")
    y = torch.randn(5, generator=g).to("mps")
    flow = dynamics.gradient_flow(k, y, t=[1.0, math.inf])
    assert flow.train.device.type == "cpu" and bool(torch.isfinite(flow.train).all())
    lam, vec = spectral.eigh_descending(k)
    assert lam.device.type == "cpu" and lam.dtype == torch.float64
    assert metrics.mse(y, y) == 0.0
    assert features.gram_change(a.to("mps"), 2 * a.to("mps")) == pytest.approx(3.0, rel=1e-6)


@needs_mps
def test_models_train_and_empirical_kernels_run_on_mps_in_float32():
    model = MLP(3, 16, 2, seed=0).to("mps")
    g = torch.Generator().manual_seed(2)
    x = torch.randn(6, 3, generator=g)
    y = torch.randn(6, generator=g)
    k = empirical_ntk(model, x.to("mps"))
    assert k.device.type == "mps" and k.dtype == torch.float32
    k_cpu = empirical_ntk(MLP(3, 16, 2, seed=0), x)
    assert torch.allclose(k.cpu(), k_cpu, rtol=1e-4, atol=1e-5)
    hist = train_gd(model, x.to("mps"), y.to("mps"), lr=0.01, steps=3, progress=False)
    assert not hist.diverged and bool(torch.isfinite(hist.train_pred).all())
    with pytest.raises((TypeError, RuntimeError, ValueError)):
        MLP(3, 4, 2, seed=0, dtype=torch.float64).to("mps")  # PyTorch refuses float64 on MPS
