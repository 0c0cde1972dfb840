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


def test_theta_bar_deviation_matches_recurrence_and_high_precision():
    from ntk_lib.correlations import theta_bar_deviation

    rho1 = 0.3
    tb = theta_bar_recurrence(torch.tensor([rho1], dtype=torch.float64), 400)[:, 0]
    rho, err = relu_correlations(torch.tensor([rho1], dtype=torch.float64), 400)
    depths = [1, 2, 7, 50, 400]
    e, d = theta_bar_deviation(rho1, depths)
    for L, eL, dL in zip(depths, e, d):
        assert dL == pytest.approx(L * (float(tb[L - 1]) - 0.25), rel=1e-10, abs=1e-12)
        assert eL == pytest.approx(float(err[L - 1, 0]), rel=1e-12)
    # against 40-digit arithmetic on the plain Prop. 5 recurrence, where the float64 form would cancel
    import mpmath

    with mpmath.workdps(40):
        r, tbm = mpmath.mpf(rho1), mpmath.mpf(rho1)
        for layer in range(1, 3000):
            hp = mpmath.mpf(1) / 2 + mpmath.asin(r) / mpmath.pi
            hv = (r * mpmath.asin(r) + mpmath.sqrt(1 - r * r)) / mpmath.pi + r / 2
            tbm = (mpmath.mpf(layer) / (layer + 1)) * hp * tbm + hv / (layer + 1)
            r = hv
        exact_d, exact_e = float(3000 * (tbm - mpmath.mpf(1) / 4)), float(1 - r)
    e, d = theta_bar_deviation(rho1, [3000])
    assert d[0] == pytest.approx(exact_d, rel=1e-11)
    assert e[0] == pytest.approx(exact_e, rel=1e-11)


def test_theta_bar_log_rate_and_constant():
    from ntk_lib.correlations import THETA_BAR_LOG_COEFFICIENT, depth_offset, theta_bar_deviation

    depths = [10**3, 10**4, 10**5]
    for rho1 in (-0.5, 0.0, 0.9):
        e, d = theta_bar_deviation(rho1, depths)
        nu = depth_offset(e, depths).numpy()
        gap = np.array(d) - THETA_BAR_LOG_COEFFICIENT * np.log(depths) - (nu / 4 - 1 / 8)
        # the predicted constant nu/4 - 1/8 is approached at rate log L / L
        assert abs(gap[-1]) < 2e-3
        assert abs(gap[-1]) < abs(gap[-2]) < abs(gap[-3])
        assert abs(nu[-1] - nu[-2]) < abs(nu[-2] - nu[-3])
        # and L^2 e_L -> 9 pi^2 / 2
        assert depths[-1] ** 2 * e[-1] == pytest.approx(9 * math.pi**2 / 2, rel=1e-3)
    with pytest.raises(ValueError, match="rho1"):
        theta_bar_deviation(1.0, [3])
    with pytest.raises(TypeError, match="rho1"):
        theta_bar_deviation("0.3", [3])
    with pytest.raises(ValueError, match="depths"):
        theta_bar_deviation(0.3, [0])
    with pytest.raises(ValueError, match="errors"):
        depth_offset([0.0], [1])


def test_sigmoid_squared_taylor_exact():
    import mpmath

    from ntk_lib.correlations import sigmoid_squared_taylor

    coeffs = sigmoid_squared_taylor(12)
    ref = mpmath.taylor(lambda z: 1 / (1 + mpmath.exp(-z)) ** 2, 0, 12)
    for c, r in zip(coeffs, ref):
        assert float(c) == pytest.approx(float(r), abs=1e-15)
    assert [str(c) for c in coeffs[:4]] == ["1/4", "1/4", "1/16", "-1/48"]
    with pytest.raises(ValueError, match="order"):
        sigmoid_squared_taylor(-1)


def test_close_pair_bounds_against_monte_carlo_and_cai_limit():
    from ntk_lib.sphere import close_pair_probability_bounds, min_angle_expectation_bounds, min_angle_limit_cdf

    n, n0, angle, trials = 25, 4, 0.35, 4000
    gen = torch.Generator().manual_seed(3)
    pts = torch.randn(trials, n, n0, generator=gen, dtype=torch.float64)
    pts = pts / pts.norm(dim=2, keepdim=True)
    g = pts @ pts.transpose(1, 2)
    g = g - 3 * torch.eye(n, dtype=torch.float64)
    min_angle = torch.acos(g.amax(dim=(1, 2)).clamp(-1, 1))
    freq = float((min_angle <= angle).double().mean())
    lo, hi = close_pair_probability_bounds(n, n0, angle)
    tol = 3 * math.sqrt(freq * (1 - freq) / trials)
    assert lo - tol <= freq <= hi + tol
    e_lo, e_hi = min_angle_expectation_bounds(n, n0)
    assert e_lo - 0.01 <= float(min_angle.mean()) <= e_hi + 0.01
    # Cai et al.'s K belongs to the angle event: E[#pairs within angle x n^(-2/(n0-1))] -> K x^(n0-1)
    big, x = 10**9, 1.3
    a = x * big ** (-2 / (n0 - 1))
    assert collision_union_bound(big, n0, a) == pytest.approx(cai_constant(n0) * x ** (n0 - 1), rel=1e-3)
    assert min_angle_limit_cdf(big, n0, a) == pytest.approx(1 - math.exp(-cai_constant(n0) * x ** (n0 - 1)), rel=1e-12)
    with pytest.raises(ValueError, match="angle"):
        min_angle_limit_cdf(10, 3, -0.1)
    with pytest.raises(ValueError, match="grid"):
        min_angle_expectation_bounds(10, 3, grid=2)


def test_theta_bar_deviation_validates_depths():
    from ntk_lib.correlations import theta_bar_deviation

    # a single integer is one depth (Python, NumPy or 0-d tensor), the same as a one-element list
    assert theta_bar_deviation(0.5, 3) == theta_bar_deviation(0.5, [3])
    assert theta_bar_deviation(0.5, np.int64(3)) == theta_bar_deviation(0.5, [3])
    assert theta_bar_deviation(0.5, torch.tensor(3)) == theta_bar_deviation(0.5, [3])
    for bad in (2.5, "3", True, None):
        with pytest.raises(TypeError, match="depths"):
            theta_bar_deviation(0.5, bad)
    with pytest.raises(ValueError, match="depths"):
        theta_bar_deviation(0.5, [])
    with pytest.raises(ValueError, match="depths"):
        theta_bar_deviation(0.5, 0)


def test_theta_bar_deviations_entrywise_and_diagonal():
    from ntk_lib.correlations import theta_bar_deviation, theta_bar_deviations

    x = sphere(4, 6, seed=5)
    g = (x @ x.T).clamp(-1, 1)
    g.fill_diagonal_(1.0)
    depths = [1, 3, 40]
    e, d = theta_bar_deviations(g, depths)
    assert e.shape == d.shape == (3, 4, 4) and e.dtype == torch.float64
    for i, j in ((0, 1), (2, 3), (3, 0)):
        e_ij, d_ij = theta_bar_deviation(float(g[i, j]), depths)
        assert torch.allclose(d[:, i, j], torch.tensor(d_ij, dtype=torch.float64), rtol=0, atol=0)
        assert torch.allclose(e[:, i, j], torch.tensor(e_ij, dtype=torch.float64), rtol=0, atol=0)
    # the diagonal: Theta-bar(x, x) = 1, so D_L = 3L/4 and e_L = 0
    assert torch.equal(d[:, 1, 1], torch.tensor([0.75, 2.25, 30.0], dtype=torch.float64))
    assert torch.equal(e[:, 2, 2], torch.zeros(3, dtype=torch.float64))
    # 1/4 + D/L is the normalized kernel itself
    tb = theta_bar_recurrence(g, 40)
    assert torch.allclose(0.25 + d[-1] / 40, tb[-1], atol=1e-13)
    with pytest.raises(ValueError, match="rho1"):
        theta_bar_deviations([0.5, 1.5], [3])
    with pytest.raises(TypeError, match="depths"):
        theta_bar_deviations([0.5], 2.5)


def test_theorem3_projection_rate_survives_the_log_term():
    # the ln L / L part of Theta-bar - 1/4 is the same for every pair, a multiple of 11^T - I, so the top
    # eigenprojection of Theta-bar(XX^T) approaches 11^T/n at rate 1/L although every entry converges at ln L / L
    from ntk_lib.correlations import theta_bar_deviations

    n = 4
    x = sphere(n + 1, 16, seed=6)
    g = (x[:n] @ x[:n].T).clamp(-1, 1)
    g.fill_diagonal_(1.0)
    depths = [10**3, 10**4]
    _, d = theta_bar_deviations(g, depths)
    _, dx = theta_bar_deviations((x[:n] @ x[n]).clamp(-1, 1), depths)
    j = torch.full((n, n), 1 / n, dtype=torch.float64)
    scaled = []
    for i, L in enumerate(depths):
        v = torch.linalg.eigh(0.25 + d[i] / L).eigenvectors[:, -1]
        scaled.append(L * float(torch.linalg.matrix_norm(torch.outer(v, v) - j)))
    assert scaled[1] == pytest.approx(scaled[0], rel=0.05)  # L |P_1 - J| levels off
    growth = float(dx[1].abs().max() - dx[0].abs().max())  # L max_i |Theta-bar(x, x_i) - 1/4| keeps growing
    assert growth == pytest.approx(3 / 8 * math.log(10), rel=0.05)  # 3/8 ln 10 per decade, not 0


def test_eta_circle_eigenvalues_exact_spectrum():
    from ntk_lib.correlations import eta_circle_eigenvalues

    n = 32
    pts = torch.stack([torch.cos(2 * math.pi * torch.arange(n, dtype=torch.float64) / n),
                       torch.sin(2 * math.pi * torch.arange(n, dtype=torch.float64) / n)], dim=1)
    eta = eta_recurrence((pts @ pts.T).clamp(-1, 1), 5)
    lam = eta_circle_eigenvalues(n, [1, 2, 3, 5])
    assert lam.shape == (4, n // 2 + 1) and lam.dtype == torch.float64
    # with multiplicities (2 for 0 < m < n/2) they are the float64 eigenvalues where those are resolved
    for row, L in zip(lam, [1, 2, 3, 5]):
        full = torch.sort(torch.cat([row, row[1 : n // 2]])).values
        assert torch.allclose(full, torch.linalg.eigvalsh(eta[L - 1]), atol=1e-12)
    assert float(lam[0, 1]) == pytest.approx(n / 2, rel=1e-14)  # eta^(1) = x.x': only m = 1
    # deep: far below float64 resolution, yet the same with more digits, and the m = 3 eigenvalue stays negative
    deep = eta_circle_eigenvalues(n, [20, 30])
    more = eta_circle_eigenvalues(n, [20, 30], digits=90)
    assert torch.allclose(deep[:, 1:], more[:, 1:], rtol=1e-12, atol=0)
    assert bool((deep[:, 3] < 0).all()) and float(deep[1, 3]) > -1e-15
    ratio = deep[:, 3] / deep[:, 1]
    assert float(ratio[1]) == pytest.approx(float(ratio[0]), rel=1e-8)  # the sign pattern is frozen
    with pytest.raises(ValueError, match="n_points"):
        eta_circle_eigenvalues(2, [3])
    with pytest.raises(TypeError, match="depths"):
        eta_circle_eigenvalues(8, [2.5])
    with pytest.raises(ValueError, match="digits"):
        eta_circle_eigenvalues(8, [3], digits=5)
