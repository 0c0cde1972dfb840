"""ntk_lib.correlations and ntk_lib.sphere: correlations, eta kernels, depth scale, projection operator, collision bounds."""

import gzip
import math

import numpy as np
import pytest
import torch
from scipy import integrate

from ntk_lib.analytic import h, relu_kernel_layers, relu_ntk, theta_bar_recurrence
from ntk_lib.correlations import depth_scale, eta_fixed_point, eta_recurrence, relu_correlations
from ntk_lib.data import load_digits_sphere, load_mnist, sphere, to_sphere
from ntk_lib.dynamics import gradient_flow, projection_operator
from ntk_lib.sphere import cai_constant, cap_probability, collision_bound_prop7, collision_union_bound


def test_correlations_match_kernel_layers_and_lemma1():
    x = sphere(6, 5, seed=1)
    lay = relu_kernel_layers(x, depth=40)
    rho1 = (x @ x.T).clamp(-1, 1)
    rho, err = relu_correlations(rho1, 40)
    assert torch.allclose(rho, lay.rho, atol=1e-14)
    assert torch.allclose(err, 1 - rho, atol=1e-15)
    off = ~torch.eye(6, dtype=torch.bool)
    assert bool((torch.diff(rho[:, off], dim=0) >= 0).all())  # h(z) >= z: increasing in depth
    # e_L = O(1/L^2): L^2 e_L stays bounded (and approaches a constant) at large depth
    rho_deep, err_deep = relu_correlations(torch.tensor([0.3], dtype=torch.float64), 4000)
    scaled = (torch.arange(1, 4001, dtype=torch.float64) ** 2) * err_deep[:, 0]
    assert float(scaled[-1]) == pytest.approx(float(scaled[-500]), rel=0.02)


def test_eta_kernels_converge_to_fixed_point():
    beta = eta_fixed_point()
    assert beta == pytest.approx(1 / (1 + math.exp(-beta)) ** 2, abs=1e-14)
    z = torch.linspace(-1, 1, 9, dtype=torch.float64)
    eta = eta_recurrence(z, 60)
    assert torch.allclose(eta[-1], torch.full_like(z, beta), atol=1e-12)
    assert torch.equal(eta[0], z)
    assert bool((eta[1] == torch.sigmoid(z) ** 2).all())


def test_depth_scale_is_max_over_pairs():
    x = sphere(7, 4, seed=2)
    c = (x @ x.T).clamp(-1, 1)
    off = ~torch.eye(7, dtype=torch.bool)
    expected = float((1 / torch.sqrt(1 - h(c[off]))).max())
    assert depth_scale(x) == pytest.approx(expected, rel=1e-10)
    close = torch.tensor([[1.0, 0.0], [math.cos(1e-6), math.sin(1e-6)]], dtype=torch.float64)
    # 1 - h(1 - u) ~ u for small u = 1 - cos, so the scale is ~ 1/sqrt(u) = sqrt(2)/angle
    assert depth_scale(close) == pytest.approx(math.sqrt(2) / 1e-6, rel=1e-4)
    with pytest.raises(ValueError, match="identical directions"):
        depth_scale(torch.tensor([[1.0, 0.0], [2.0, 0.0]]))


def test_projection_operator_is_the_test_flow():
    x = sphere(12, 5, seed=3)
    k = relu_ntk(x[:9], depth=4, normalized=True)
    kx = relu_ntk(x[9:], x[:9], depth=4, normalized=True)
    y = torch.randn(9, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    f0, f0x = torch.zeros(9, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    ts = [0.0, 0.5, 4.0]
    proj = projection_operator(k, kx, ts)
    flow = gradient_flow(k, y, t=ts, f0_train=f0, k_test_train=kx, f0_test=f0x)
    for i in range(3):
        assert torch.allclose(f0x + proj[i] @ (f0 - y), flow.test[i], atol=1e-12)
    ref = kx @ torch.linalg.solve(k, torch.linalg.matrix_exp(-4.0 * k) - torch.eye(9, dtype=torch.float64))
    assert torch.allclose(proj[2], ref, atol=1e-10)


@pytest.mark.parametrize("n0", [3, 5, 20])
def test_cap_probability_against_integration(n0):
    const = math.gamma(n0 / 2) / (math.sqrt(math.pi) * math.gamma((n0 - 1) / 2))
    for a in (0.1, 0.7, 1.5, 2.5):
        exact, _ = integrate.quad(lambda t: const * math.sin(t) ** (n0 - 2), 0, a)
        assert cap_probability(n0, a) == pytest.approx(exact, rel=1e-9, abs=1e-15)
    assert cap_probability(n0, math.pi) == pytest.approx(1.0)


def test_cap_probability_against_monte_carlo():
    x = sphere(4000, 6, seed=4)
    ang = torch.acos((x[:2000] * x[2000:]).sum(1).clamp(-1, 1))
    emp = float((ang <= 1.0).double().mean())
    assert emp == pytest.approx(cap_probability(6, 1.0), abs=0.03)


def test_prop7_bound_dominates_exact_union_bound():
    # Prop. 7's closed form is an upper bound on the exact union bound for the same angle
    for n, n0, d in ((100, 10, 0.3), (2**30, 128, 0.72), (50, 3, 0.5)):
        assert collision_bound_prop7(n, n0, d) >= collision_union_bound(n, n0, d)
    assert cai_constant(128) == pytest.approx(math.gamma(64) / math.gamma(64.5) / (4 * math.sqrt(math.pi)), rel=1e-12)


def test_data_helpers(tmp_path):
    x, y = load_digits_sphere()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    assert torch.allclose(x.norm(dim=1), torch.ones(1797, dtype=torch.float64))
    with pytest.raises(ValueError, match="all-zero row"):
        to_sphere(torch.zeros(2, 3))
    # a tiny MNIST-format cache made here: the loader parses it without network
    root = tmp_path / "mnist"
    root.mkdir()
    imgs = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    header = bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
    (root / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + imgs.tobytes()))
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(bytes([0, 0, 8, 1]) + (2).to_bytes(4, "big") + bytes([3, 7]))
    )
    images, labels = load_mnist("test", cache_dir=tmp_path, download=False)
    assert images.shape == (2, 784) and labels.tolist() == [3, 7]
    assert float(images[0, 1]) == pytest.approx(1 / 255)
    with pytest.raises(RuntimeError, match="not in the cache"):
        load_mnist("train", cache_dir=tmp_path, download=False)
    with pytest.raises(RuntimeError, match="could not download MNIST"):
        load_mnist("train", cache_dir=tmp_path, base_url="file:///nonexistent/")
    with pytest.raises(ValueError, match="split"):
        load_mnist("valid", cache_dir=tmp_path)


def test_theta_bar_recurrence_consistent_with_correlations():
    rho1 = torch.tensor([0.1, 0.5], dtype=torch.float64)
    tb = theta_bar_recurrence(rho1, 10)
    rho, _ = relu_correlations(rho1, 10)
    # Prop. 5 by hand from the correlations
    manual = rho1.clone()
    for layer in range(1, 10):
        hp = 0.5 + torch.asin(rho[layer - 1]) / math.pi
        manual = layer / (layer + 1) * hp * manual + rho[layer] / (layer + 1)
    assert torch.allclose(tb[-1], manual, atol=1e-14)
