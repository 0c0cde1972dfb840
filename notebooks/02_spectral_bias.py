# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["remove-cell"]
# colab-install: on Colab, install the course library (URL set once, in _config.yml).
import sys

if "google.colab" in sys.modules:
    import subprocess

    NTK_LIB = "ntk_lib @ git+https://github.com/ntk-course/ntk-course@main"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", NTK_LIB], capture_output=True, text=True)
    if pip.returncode != 0:
        print("\n".join(pip.stderr.strip().splitlines()[-5:]))
        raise SystemExit(
            f"Could not install the course library from {NTK_LIB.split(' @ ', 1)[1]}. If the course lives "
            "elsewhere, put its repository URL in place of that one in this cell (authors: repository.url "
            "in _config.yml, then make sync-url) and run the cell again."
        )

# %% [markdown]
# # 2. Spectral bias: every mode learns at its own rate
#
# Chapter 1 solved the gradient-flow ODE $\dot f = -\Theta(f - y)$ in the eigenbasis of the kernel:
# the component of the residual along the eigenvector $v_i$ decays like $e^{-\lambda_i t}$. This
# chapter takes that sentence seriously. The EE-556 note {cite}`ee556ntk` states it for any kernel, in terms
# of eigenvalues only: directions with large eigenvalues are learned fast, those with small ones are "effectively
# not learned within a finite training budget", and the NTK "performs spectral filtering". It says nothing about
# frequencies. On the circle the eigenvectors of the NTK are Fourier harmonics and the eigenvalues fall with
# frequency {cite}`basri2019convergence`, so a network learns low frequencies first: **spectral bias**
# {cite}`rahaman2019spectral`. We
#
# 1. compute the NTK's spectrum on the circle and how fast it decays with frequency and depth;
# 2. measure how long a real network takes to fit $\sin k\vartheta$ and compare with $1/\lambda_k$;
# 3. read early stopping as a filter on the spectrum, and find the best stopping time from it;
# 4. move the spectrum with random Fourier features {cite}`tancik2020fourier`, the embedding used by
#    NTK-ECRN {cite}`ntkecrn2025`, and find both of its failure modes.

# %% tags=["parameters"]
SCALE = "book"  # "smoke": seconds (CI) | "book": what this page shows, CPU | "paper": Colab GPU
SEED = 0
DEVICE = "auto"  # "auto" picks CUDA, then MPS, then CPU

# %% tags=["hide-input"]
import copy
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from ntk_lib import layers as nl
from ntk_lib.analytic import relu_nngp, relu_ntk
from ntk_lib.data import circle, sum_of_sines, unit_interval
from ntk_lib.device import precise_dtype
from ntk_lib.dynamics import gradient_descent, gradient_flow, kernel_regression
from ntk_lib.empirical import empirical_ntk
from ntk_lib.fit import geometric_interval, loglog_slope, mean_interval, paired_interval, ratio_interval, slope_interval
from ntk_lib.models import MLP, FourierFeatures
from ntk_lib.notebook import glue, setup
from ntk_lib.periodic import alias_fraction, alias_grid, fourier_coefficients, oracle_filter_risk
from ntk_lib.plotting import COLORS
from ntk_lib.spectral import (
    band_power,
    circulant_eigenvalues,
    dominant_frequency,
    eigh_descending,
    expected_risk,
    first_crossing,
    mode_coefficients,
    spectral_filter,
    time_to_fit,
)
from ntk_lib.training import log_spaced_steps, progress_bar, train_gd

run = setup(SCALE, SEED, DEVICE)
dev = run.device
DT = precise_dtype(dev)  # float64 (float32 on MPS): printed digits that do not depend on the CPU
cfg = run.pick(
    {
        "smoke": dict(grid=64, depths=[2, 3], n_circle=16, width=128, fit_width=128, fit_seeds=2, K=3, amps=[1.0], noise_n=24, draws=20, noise_steps=200, ff_width=64, ff_steps=150, sigmas=[1.0, 8.0, 64.0], ff_seeds=2),
        "book": dict(grid=256, depths=[2, 3, 4, 6], n_circle=32, width=1024, fit_width=512, fit_seeds=3, K=6, amps=[1.0, 0.1], noise_n=64, draws=400, noise_steps=1500, ff_width=256, ff_steps=1500, sigmas=[0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0], ff_seeds=4),
        "paper": dict(grid=1024, depths=[2, 3, 4, 6, 10], n_circle=64, width=8192, fit_width=8192, fit_seeds=8, K=12, amps=[1.0, 0.1, 0.01], noise_n=128, draws=2000, noise_steps=6000, ff_width=2048, ff_steps=4000, sigmas=[0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0], ff_seeds=8),
    }
)
print(f"scale {run.scale}: circle grid {cfg['n_circle']}, width {cfg['width']}, frequencies 1..{cfg['K']}")


def positive_summary(values):
    """Non-negative values, one per seed: the geometric-mean interval when all are positive, else the values."""
    v = np.asarray(values, dtype=float)
    return str(geometric_interval(v)) if bool((v > 0).all()) else "per seed " + ", ".join(f"{x:#.3g}" for x in v)


# %% [markdown]
# ## 2.1 The NTK's modes on the circle are Fourier harmonics
#
# Take inputs on the unit circle, $x = (\cos\vartheta, \sin\vartheta)$. The analytic NTK of a
# bias-free ReLU network depends on two inputs only through $x^\top x' = \cos(\vartheta - \vartheta')$,
# so it is a function of the angle between them, $\Theta_\infty(x, x') = \kappa(\vartheta - \vartheta')$.
# On an even grid $\vartheta_j = 2\pi j/n$ the kernel matrix $K_{ij} = \kappa(2\pi(i-j)/n)$ is
# therefore **circulant**, and every circulant matrix is diagonalized by the discrete Fourier basis:
#
# $$
# K\cos(k\vartheta) = \lambda_k\cos(k\vartheta),\quad K\sin(k\vartheta) = \lambda_k\sin(k\vartheta),\qquad
# \lambda_k = \sum_{j=0}^{n-1}\kappa(2\pi j/n)\cos(2\pi jk/n).
# $$
#
# So the eigenvectors are the harmonics $\cos k\vartheta, \sin k\vartheta$ (a pair for each
# frequency $k$), and $\lambda_k/n$ approximates the eigenvalue $\mu_k$ of the kernel's integral
# operator, the $k$-th Fourier coefficient of $\kappa$. For a random (not gridded) sample the
# eigenvectors are only *close* to harmonics. {func}`ntk_lib.spectral.circulant_eigenvalues` computes
# $\lambda_k$ from one row; we check it against a full eigendecomposition and read off each
# eigenvector's frequency.

# %%
theta_grid, x_grid = circle(cfg["grid"], random=False)
mu = {}  # operator eigenvalue mu_k = lambda_k / n, k = 0 .. grid/2
for L in cfg["depths"]:
    row = relu_ntk(x_grid[:1], x_grid, depth=L)[0]
    mu[L] = circulant_eigenvalues(row) / cfg["grid"]

# the same numbers from a dense eigendecomposition on the smaller training grid
theta_c, x_c = circle(cfg["n_circle"], random=False)
k_circle = relu_ntk(x_c, depth=3)
lam_dense, vec_dense = eigh_descending(k_circle)
lam_circ = circulant_eigenvalues(k_circle[0])
freq_of_vec = dominant_frequency(vec_dense)
eig_err = float((lam_dense - lam_circ[freq_of_vec]).abs().max() / lam_dense[0])
TOL = 1e-12  # "agree" below means: to better than this, relative to the largest eigenvalue (round-off is ~1e-16)
glue("ch2_eig_ok", eig_err < TOL)
print(f"eigh eigenvalues equal the DFT eigenvalue of their harmonic to better than {TOL:.0e} of lambda_max: {eig_err < TOL}")
print("frequency of the top 9 eigenvectors:", freq_of_vec[:9].tolist())

ks = np.arange(len(mu[cfg["depths"][0]]))
even = (ks >= 4) & (ks <= cfg["grid"] // 8) & (ks % 2 == 0)
slopes = {L: loglog_slope(ks[even], mu[L].numpy()[even])[0] for L in cfg["depths"]}
# the integral operator's eigenvalues, from a grid fine enough that aliases k + m*FINE are negligible
FINE = 8192
_, x_fine = circle(FINE, random=False)
op_depths = sorted(set(cfg["depths"]) | {2, 3, 4, 6})  # the text names depths 2, 3, 4, 6 at every scale
mu_op = {L: circulant_eigenvalues(relu_ntk(x_fine[:1], x_fine, depth=L)[0]) / FINE for L in op_depths}
kf = np.arange(len(mu_op[cfg["depths"][0]]))
small_k = (kf >= 4) & (kf <= cfg["grid"] // 8) & (kf % 2 == 0)
large_k = (kf >= 64) & (kf <= 256) & (kf % 2 == 0)
slopes_op_small = {L: loglog_slope(kf[small_k], mu_op[L].numpy()[small_k])[0] for L in op_depths}
slopes_op_large = {L: loglog_slope(kf[large_k], mu_op[L].numpy()[large_k])[0] for L in op_depths}
odd_d2 = float(np.abs(mu[2].numpy()[3::2]).max() / float(mu[2][1]))  # odd k >= 3 at depth 2
# parity at depth >= 3: odd frequencies against the trend of their even neighbours, and against the next even one
kpar = cfg["grid"] // 8
odd_k = np.arange(3, kpar, 2)
mo = {L: mu_op[L].numpy() for L in cfg["depths"]}
odd_trend = {L: float(max(mo[L][k] / math.sqrt(mo[L][k - 1] * mo[L][k + 1]) for k in odd_k)) for L in cfg["depths"][1:]}
odd_above_next = {L: [int(k) for k in odd_k if mo[L][k] > mo[L][k + 1]] for L in cfg["depths"][1:]}
monotone = [L for L in cfg["depths"][1:] if bool(np.all(np.diff(mo[L][1 : kpar + 1]) < 0))]
for L in op_depths:
    glue(f"ch2_decay_op_small_L{L}", slopes_op_small[L])
    glue(f"ch2_decay_op_large_L{L}", slopes_op_large[L])
    glue(f"ch2_mu1_mu10_L{L}", float(mu_op[L][1] / mu_op[L][10]))
for L in cfg["depths"]:
    glue(f"ch2_decay_L{L}", slopes[L])
    print(f"depth {L}: slope over even k in [4, {cfg['grid'] // 8}]: grid of {cfg['grid']} {slopes[L]:.2f}, operator {slopes_op_small[L]:.2f};"
          f" operator over even k in [64, 256] {slopes_op_large[L]:.3f}; mu_1/mu_10 = {float(mu_op[L][1] / mu_op[L][10]):.0f}")
glue("ch2_odd_d2_ok", odd_d2 < TOL)
glue("ch2_depth_factor", float(mu_op[2][1] / mu_op[2][10]) / float(mu_op[cfg["depths"][-1]][1] / mu_op[cfg["depths"][-1]][10]))
glue("ch2_kfit", cfg["grid"] // 8)
glue("ch2_grid", cfg["grid"])
glue("ch2_n_circle", cfg["n_circle"])
glue("ch2_depth_last", cfg["depths"][-1])
print(f"depth 2: every odd mu_k, k >= 3, is below {TOL:.0e} mu_1: {odd_d2 < TOL}")
L3, Ll = cfg["depths"][1], cfg["depths"][-1]
all_below = all(v < 1 for v in odd_trend.values())
glue("ch2_odd_trend_L3", odd_trend[L3])
glue("ch2_odd_trend_Llast", odd_trend[Ll])
glue("ch2_odd_below_trend", "at every depth from 3 on" if all_below else "not at every depth")
glue("ch2_mu5_mu6_L3", float(mu_op[L3][5] / mu_op[L3][6]))
glue("ch2_mu5_mu6_Llast", float(mu_op[Ll][5] / mu_op[Ll][6]))
glue("ch2_monotone_depths", ", ".join(str(L) for L in monotone) if monotone else "none of these depths")
n_not = len(odd_k) - len(odd_above_next[L3])
glue("ch2_odd_below_next_L3", f"{n_not} of the {len(odd_k)} odd frequencies" if n_not else "none of the odd frequencies")
for L in cfg["depths"][1:]:
    print(f"depth {L}: max over odd k in [3, {kpar}) of mu_k / sqrt(mu_(k-1) mu_(k+1)) = {odd_trend[L]:.3f};"
          f" mu_5/mu_6 = {float(mu_op[L][5] / mu_op[L][6]):.3f}; odd k with mu_k > mu_(k+1): {len(odd_above_next[L])} of {len(odd_k)}")

# a bias fills the odd zeros (Basri et al.): depth 2 with bias variance 0.1
mu_bias = circulant_eigenvalues(relu_ntk(x_fine[:1], x_fine, depth=2, bias_var=0.1)[0]) / FINE
glue("ch2_bias_mu3", float(mu_bias[3] / mu_bias[1]))
glue("ch2_bias_mu5", float(mu_bias[5] / mu_bias[1]))
print(f"depth 2, bias variance 0.1: mu_3/mu_1 = {float(mu_bias[3] / mu_bias[1]):.3f}, mu_5/mu_1 = {float(mu_bias[5] / mu_bias[1]):.4f}")

# at depth 2 the zero eigenvalue is shared by every odd harmonic k >= 3: eigh returns some basis of that space
k_d2 = relu_ntk(x_c, depth=2)
lam_d2, vec_d2 = eigh_descending(k_d2)
zero = lam_d2 < 1e-10 * lam_d2[0]
odd_power = torch.fft.rfft(vec_d2[:, zero], dim=0).abs() ** 2
odd_ks = list(range(3, cfg["n_circle"] // 2, 2))
n_odd = len(odd_ks)
in_odd = float((odd_power[3::2].sum(0) / odd_power.sum(0)).min()) if bool(zero.any()) else float("nan")
# any mixture of odd harmonics is an eigenvector with eigenvalue 0: a random one
g_mix = torch.Generator().manual_seed(SEED)
mix = sum(a * torch.cos(k * theta_c) + b * torch.sin(k * theta_c) for k, (a, b) in zip(odd_ks, torch.randn(n_odd, 2, generator=g_mix, dtype=torch.float64)))
mix_ok = float((k_d2 @ mix).norm() / mix.norm() / lam_d2[0]) < TOL
glue("ch2_zero_dim", int(zero.sum()))
glue("ch2_zero_expected", 2 * n_odd)
glue("ch2_zero_in_odd_ok", 1 - in_odd < TOL)
glue("ch2_zero_mix_ok", mix_ok)
print(f"depth 2 on {cfg['n_circle']} points: {int(zero.sum())} zero eigenvalues (2 x {n_odd} odd harmonics k >= 3);"
      f" eigh's vectors for them lie in the odd harmonics to better than {TOL:.0e}: {1 - in_odd < TOL};"
      f" a random mixture of odd harmonics has |K v| below {TOL:.0e} lambda_max |v|: {mix_ok}")

# %% mystnb={"figure": {"caption": "Eigenvalues mu_k of the analytic NTK's integral operator on the circle against frequency, for several depths (log-log), computed on 8192 equally spaced points, where aliasing is negligible (section 2.1's last bullet gives the grid's values). Filled markers: even frequencies, open markers: odd ones (markers drawn up to k = 32; beyond, the line joins the even frequencies). The dashed line has slope -2 (drawn below the curves, so that none is hidden). At depth 2 the odd frequencies k >= 3 have eigenvalue zero (not drawn).", "name": "fig-ch2-spectrum"}} tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6.4, 4.0))
cmap = plt.get_cmap("viridis")
kmax = 256  # the operator's values (8192-point grid), up to the end of the large-k fit range
for i, L in enumerate(cfg["depths"]):
    c = cmap(i / max(len(cfg["depths"]) - 1, 1))
    m = mu_op[L].numpy()
    sel_e = (kf >= 1) & (kf <= kmax) & (kf % 2 == 0)
    sel_o = (kf >= 1) & (kf <= 32) & (kf % 2 == 1) & (m > 1e-12 * m[1])  # odd markers only where they can be told apart
    ax.loglog(kf[sel_e], m[sel_e], "o-", ms=3, lw=1, color=c, markevery=list(np.flatnonzero(kf[sel_e] <= 32)), label=f"depth {L}")
    ax.loglog(kf[sel_o], m[sel_o], "o", ms=4, mfc="none", color=c)
ref = 0.3 * min(mu_op[L].numpy()[2] for L in cfg["depths"]) * (kf[2 : kmax + 1] / 2.0) ** -2.0  # below every curve
ax.loglog(kf[2 : kmax + 1], ref, "k--", lw=1, label=r"$\propto k^{-2}$ (offset)")
ax.set_xlabel("frequency $k$")
ax.set_ylabel(r"operator eigenvalue $\mu_k$ of $\Theta_\infty$")
ax.set_title("the NTK's spectrum on the circle")
ax.legend()
plt.show()

# %% [markdown]
# The dense eigendecomposition and the Fourier formula agree to better than $10^{-12}$ relative to
# $\lambda_{\max}$ (checked: {glue:text}`ch2_eig_ok`), and every eigenvector is a single harmonic. This is the set-up of
# Basri et al. {cite}`basri2019convergence,basri2020frequency`, who derived the NTK's eigenvalues on the
# circle and measured time to fit growing like $k^2$; the following re-derives their observations (section 2.2
# shows that the small $k$ a network is trained on here are not yet in the $k^2$ regime).
#
# * **The eigenvalues fall like a power of the frequency.** The operator's eigenvalues (computed on a grid
#   of 8192 points, where aliasing is negligible) fall over even $k$ from 64 to 256 with exponent
#   {glue:text}`ch2_decay_op_large_L2:.3f` at depth 2 and {glue:text}`ch2_decay_op_large_L3:.3f` at depth 3
#   ({glue:text}`ch2_decay_op_large_L6:.3f` at depth 6): the $k^{-d}$ law for ReLU NTKs on $S^{d-1}$ with
#   $d = 2$ {cite}`bietti2019inductive`. A frequency-10 harmonic is learned $\mu_1/\mu_{10} =$
#   {glue:text}`ch2_mu1_mu10_L2:.0f`, {glue:text}`ch2_mu1_mu10_L3:.0f`, {glue:text}`ch2_mu1_mu10_L4:.0f` and
#   {glue:text}`ch2_mu1_mu10_L6:.0f` times more slowly than a frequency-1 one at depths 2, 3, 4 and 6.
# * **Parity.** At depth 2 without bias the odd frequencies $k \ge 3$ have eigenvalue zero (every one below
#   $10^{-12}\mu_1$, i.e. rounding: {glue:text}`ch2_odd_d2_ok`; {numref}`ex-ch2-parity` proves it): they are never
#   learned. A bias fills them in {cite}`basri2019convergence`: with bias variance 0.1 at depth 2,
#   $\mu_3/\mu_1 =$ {glue:text}`ch2_bias_mu3:.3f` and $\mu_5/\mu_1 =$ {glue:text}`ch2_bias_mu5:.4f`. Depth
#   fills them too, and they stay below the trend of the even frequencies ({glue:text}`ch2_odd_below_trend`):
#   over odd $k$ below {glue:text}`ch2_kfit` the ratio $\mu_k/\sqrt{\mu_{k-1}\mu_{k+1}}$ is at most
#   {glue:text}`ch2_odd_trend_L3:.2f` at depth 3 and {glue:text}`ch2_odd_trend_Llast:.2f` at depth
#   {glue:text}`ch2_depth_last`. They do not stay below their *next* even neighbour: $\mu_5/\mu_6 =$
#   {glue:text}`ch2_mu5_mu6_L3:.2f` at depth 3 and {glue:text}`ch2_mu5_mu6_Llast:.2f` at depth
#   {glue:text}`ch2_depth_last`. At depth 3, {glue:text}`ch2_odd_below_next_L3` (in that range) fall below the
#   next even one; the spectrum decreases monotonically in $k$ up to {glue:text}`ch2_kfit` at depth(s)
#   {glue:text}`ch2_monotone_depths`.
# * **The zero eigenspace is degenerate.** On the {glue:text}`ch2_n_circle`-point grid the depth-2 kernel has
#   {glue:text}`ch2_zero_dim` zero eigenvalues, one for each $\cos k\vartheta$ and $\sin k\vartheta$ with odd
#   $k\ge 3$ ({glue:text}`ch2_zero_expected` of them). Any orthonormal basis of that space is an eigenbasis: a
#   random mixture of odd harmonics is an eigenvector with eigenvalue 0 (checked: {glue:text}`ch2_zero_mix_ok`),
#   and `eigh` returns some mixtures of odd harmonics (they lie in the odd harmonics: {glue:text}`ch2_zero_in_odd_ok`),
#   which ones depending on the LAPACK build. "The eigenvector's frequency" is not defined there, only the space is.
# * **Depth flattens the spectrum only at small $k$.** Over even $k$ from 4 to {glue:text}`ch2_kfit` the
#   operator's exponent is {glue:text}`ch2_decay_op_small_L2:.2f` at depth 2 and
#   {glue:text}`ch2_decay_op_small_L6:.2f` at depth 6, but asymptotically every depth decays like $k^{-2}$ (the
#   exponents over $k\in[64, 256]$ above): depth changes the constants, not the rate, as Bietti & Bach
#   {cite}`bietti2021deep` prove for ReLU NTKs. The curves are normalized differently, since
#   $\Theta^{(L)}(x,x) = L/(n_0 2^{L-1})$; compare slopes, not heights. This tests a sentence of EE-556
#   {cite}`ee556ntk`: "In the infinite-width limit, the NTK kernel is the same regardless of depth (for
#   appropriate initialization) [...] NTK theory predicts no benefit to depth." As a kernel, this is false as stated:
#   the ratio $\mu_1/\mu_{10}$ above changes by a factor {glue:text}`ch2_depth_factor:.2g` between depths 2 and
#   {glue:text}`ch2_depth_last`. What depth
#   leaves unchanged is the asymptotic decay, and with it the function space (the RKHS), as Bietti & Bach show;
#   whether depth helps generalization is not tested here.
# * **Aliasing.** On the grid of {glue:text}`ch2_grid` points the eigenvalue at frequency $k$ is the sum of
#   the operator's eigenvalues at $k, k\pm{}$ {glue:text}`ch2_grid`, $\dots$ (the grid cannot tell them apart),
#   so the grid's exponent over the same $k$ range, {glue:text}`ch2_decay_L2:.2f` at depth 2 and
#   {glue:text}`ch2_decay_L3:.2f` at depth 3, is shallower than the operator's.
#
# ## 2.2 Spectral bias, measured on a network
#
# The prediction: fit $y = A\sin k\vartheta$ on the grid. Since $\sin k\vartheta$ is an eigenvector
# with eigenvalue $\lambda_k$, the residual along it decays like $(1-\eta\lambda_k)^{s}$ after $s$
# gradient steps of size $\eta$ (like $e^{-\lambda_k t}$ in flow time $t = s\eta$); it reaches 10% of its
# initial value at $t_k = \eta\ln 10/(-\ln(1-\eta\lambda_k)) \approx \ln 10/\lambda_k$
# ({func}`ntk_lib.spectral.time_to_fit`). We train width-{glue:text}`ch2_fit_width` ReLU networks
# (three linear layers, NTK parameterization, summed loss, $\eta = 1/\lambda_{\max}(\Theta_\infty)$),
# one per frequency, amplitude and seed ({glue:text}`ch2_fit_seeds` seeds, the same initializations for
# both amplitudes), and record the component of the residual along $\sin k\vartheta$, relative to its
# initial value. The theory does not depend on the amplitude $A$ (the linear model is linear); the network
# might. Intervals are 95 % intervals over seeds (Student $t$); for ratios of times, which are positive, the
# geometric mean over seeds with the interval taken on the log scale.

# %%
glue("ch2_width", cfg["width"])
glue("ch2_fit_width", cfg["fit_width"])
Xc = x_c.to(dev, DT)
eta = 1.0 / float(lam_circ.max())
freqs = list(range(1, cfg["K"] + 1))
t_pred = time_to_fit(lam_circ[freqs], 0.1, step=eta)
steps_fit = int(math.ceil(3.0 * float(t_pred.max()) / eta))
stride = max(1, steps_fit // 300)
record = list(range(0, steps_fit + 1, stride))
ntk_steps = log_spaced_steps(steps_fit, 10)

fits = {}  # (amp, k, seed) -> (times, residual fraction, kernel Rayleigh quotients over time)
jobs = [(a, k, r) for a in cfg["amps"] for k in freqs for r in range(cfg["fit_seeds"])]
for amp, k, r in progress_bar(jobs, desc="one network per frequency and seed"):
    y = amp * torch.sin(k * theta_c)
    u = y / y.norm()
    net = MLP(2, cfg["fit_width"], 3, seed=SEED + k + 100 * r).to(dev, DT)  # same seeds for both amplitudes: paired
    hist = train_gd(net, Xc, y.to(dev, DT), lr=eta, steps=steps_fit, record=record, ntk_at=ntk_steps, progress=False)
    resid = (hist.train_pred.double().cpu() - y) @ u
    frac = (resid / resid[0]).abs().clamp_min(1e-12).numpy()
    rq = [float(u @ hist.ntk[s].double().cpu() @ u) for s in ntk_steps]  # the eigenvalue along u, over time
    fits[(amp, k, r)] = (hist.times, frac, rq)

seeds_fit = range(cfg["fit_seeds"])
# [seeds, frequencies]: flow time at which the residual along sin(k theta) first drops below 10 %
t_meas = {a: np.array([[first_crossing(fits[(a, k, r)][0], fits[(a, k, r)][1], 0.1) for k in freqs] for r in seeds_fit]) for a in cfg["amps"]}
ratio = {a: t_meas[a] / t_pred.numpy()[None, :] for a in cfg["amps"]}
for a in cfg["amps"]:
    print(f"amplitude {a}: measured / predicted time to 10% for k = {freqs} (mean over {cfg['fit_seeds']} seeds):", np.round(ratio[a].mean(0), 2).tolist())
a_big, a_small = cfg["amps"][0], cfg["amps"][-1]
kk = cfg["K"]
glue("ch2_fit_seeds", cfg["fit_seeds"])
r_hi_big, r_hi_small, r_lo_big = geometric_interval(ratio[a_big][:, -1]), geometric_interval(ratio[a_small][:, -1]), geometric_interval(ratio[a_big][:, 1])
r_hi_pair = ratio_interval(ratio[a_big][:, -1], ratio[a_small][:, -1])  # paired: same initializations for both amplitudes
glue("ch2_ratio_hi_big", str(r_hi_big))
glue("ch2_ratio_hi_small", str(r_hi_small))
glue("ch2_ratio_lo_big", str(r_lo_big))
glue("ch2_ratio_hi_pair", str(r_hi_pair))
glue("ch2_K", kk)
glue("ch2_amp_small", a_small)
slower_hi = r_hi_small.low > 1 and r_hi_big.low > 1
amp_effect = r_hi_pair.low > 1
glue("ch2_bias_conclusion", ("In these runs spectral bias in the finite network is stronger than its kernel predicts at the highest frequency"
     + (", and more so for the larger target." if amp_effect else "; these seeds do not resolve a difference between the amplitudes.")) if slower_hi
     else "These seeds do not show the network slower than its kernel at every amplitude.")
glue("ch2_slower_sentence", "at both amplitudes the interval lies above 1" if slower_hi else "the interval does not exclude 1 at every amplitude")
# largest dip of the eigenvalue along sin(K theta) during training, per seed
rq_drop = {a: np.array([1 - min(fits[(a, kk, r)][2]) / fits[(a, kk, r)][2][0] for r in seeds_fit]) for a in cfg["amps"]}
dip_pair = paired_interval(rq_drop[a_big], rq_drop[a_small])
glue("ch2_rq_drop_big", positive_summary(rq_drop[a_big]))
glue("ch2_rq_drop_small", positive_summary(rq_drop[a_small]))
glue("ch2_rq_drop_pair", str(dip_pair))
dip_resolved = dip_pair.low > 0
glue("ch2_dip_sentence", "excludes zero: the dip is larger for the larger target, as the hypothesis expects (which does not show that the dip causes the slower fit)" if dip_resolved
     else "contains zero: these seeds do not resolve an effect of the amplitude on the dip")
# the linearized model's trip length, E ||theta_inf - theta_0||^2 = y^T Theta^-1 y + tr(Theta^-1 Sigma) (f0 ~ GP(0, Sigma))
trip_f0 = float(torch.trace(torch.linalg.solve(k_circle, relu_nngp(x_c, depth=3))))
trip = {a: a**2 * float(torch.sin(kk * theta_c).norm() ** 2) / float(lam_circ[kk]) + trip_f0 for a in cfg["amps"]}
glue("ch2_trip_big", trip[a_big])
glue("ch2_trip_small", trip[a_small])
glue("ch2_trip_f0", trip_f0)
# the predicted exponent, taken apart: eigenvalue slope over the fitted range, the discrete step, odd vs even k
kfit_range = np.array(freqs[1:], float)
pred_slope = loglog_slope(kfit_range, t_pred.numpy()[1:])[0]
lam_slope = loglog_slope(kfit_range, lam_circ[freqs[1:]].numpy())[0]
even_fit = [k for k in freqs[1:] if k % 2 == 0]
pred_slope_even = loglog_slope(np.array(even_fit, float), t_pred.numpy()[[k - 1 for k in even_fit]])[0] if len(even_fit) >= 2 else float("nan")
meas_slope = slope_interval(kfit_range, t_meas[a_small][:, 1:])
glue("ch2_tslope_pred", pred_slope)
glue("ch2_tslope_meas", str(meas_slope))
glue("ch2_lam_slope_fit", lam_slope)
glue("ch2_tslope_step", pred_slope + lam_slope)
glue("ch2_tslope_even", pred_slope_even)
glue("ch2_tslope_vs2", "excludes" if meas_slope.low > 2 or meas_slope.high < 2 else "contains")
glue("ch2_tslope_phrase", "the network's time to fit grows faster than k²" if meas_slope.low > 2
     else ("the network's time to fit grows more slowly than k²" if meas_slope.high < 2 else "the network's exponent is not resolved from 2"))
glue("ch2_tslope_cmp", "steeper than predicted (the interval lies above it)" if meas_slope.low > pred_slope
     else ("shallower than predicted" if meas_slope.high < pred_slope else "consistent with the prediction (the interval contains it)"))
# the kernel's own order on the grid: the closest pair of neighbouring frequencies
nb_ratio = [float(lam_circ[k] / lam_circ[k + 1]) for k in freqs[:-1]]
j_tie = int(np.argmin(nb_ratio))
glue("ch2_kernel_order", "falls with every step in k" if min(nb_ratio) > 1 else "does not fall at every step in k")
glue("ch2_tie_k", freqs[j_tie])
glue("ch2_tie_k1", freqs[j_tie] + 1)
glue("ch2_tie_ratio", nb_ratio[j_tie])
print(f"grid eigenvalue ratios lambda_k / lambda_(k+1), k = {freqs[:-1]}:", np.round(nb_ratio, 3).tolist())
print(f"time to fit / predicted at k = {kk} (geometric mean [95% interval]): A={a_big} {str(r_hi_big)}, A={a_small} {str(r_hi_small)}; paired ratio {str(r_hi_pair)}")
print(f"largest dip of the eigenvalue along sin({kk} theta) during training: {positive_summary(rq_drop[a_big])} (A={a_big}), {positive_summary(rq_drop[a_small])} (A={a_small}); paired difference {str(dip_pair)}")
print(f"linearized trip E|theta_inf - theta_0|^2: {trip[a_big]:.3g} (A={a_big}), {trip[a_small]:.3g} (A={a_small}); of which tr(Theta^-1 Sigma) from f0: {trip_f0:.3g}")
print(f"time-to-fit growth over k = {freqs[1]}..{kk}: predicted k^{pred_slope:.2f} (grid eigenvalues k^{lam_slope:.2f}; even k only k^{pred_slope_even:.2f}), measured (A={a_small}) exponent {meas_slope}")

# %% mystnb={"figure": {"caption": "Left: the residual along sin(k theta), relative to its start, for each frequency (solid: network with the smallest amplitude; dashed: the kernel's prediction). Right: time to fit to 10%, measured on the network against the kernel's prediction, for two target amplitudes; the diagonal is perfect agreement.", "name": "fig-ch2-bias"}} tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.0), layout="constrained")
cm = plt.get_cmap("plasma")
for i, k in enumerate(freqs):
    c = cm(i / max(len(freqs) - 1, 1) * 0.85)
    tt, frac, _ = fits[(a_small, k, 0)]
    axes[0].semilogy(tt, frac, color=c, label=f"k = {k}")
    s_grid = np.asarray(tt) / eta
    axes[0].semilogy(tt, np.abs(1 - eta * float(lam_circ[k])) ** s_grid, "--", color=c, lw=1)
axes[0].axhline(0.1, color="gray", lw=0.8)
axes[0].set_ylim(1e-3, 1.5)
axes[0].set_xlabel(r"time $t = s\eta$")
axes[0].set_ylabel(r"residual along $\sin k\vartheta$ (relative)")
axes[0].set_title(f"amplitude A = {a_small}")
axes[0].legend(ncol=2)
lims = [0.5 * float(t_pred.min()), 2.5 * float(np.nanmax([np.nanmax(t_meas[a]) for a in cfg["amps"]]))]
axes[1].loglog(lims, lims, "k:", lw=1)
for a, mk in zip(cfg["amps"], ["o", "s", "^"]):
    line = axes[1].loglog(t_pred.numpy(), np.exp(np.log(t_meas[a]).mean(0)), mk + "-", label=f"network, A = {a}")[0]
    axes[1].fill_between(t_pred.numpy(), t_meas[a].min(0), t_meas[a].max(0), color=line.get_color(), alpha=0.2)
for k, tp in zip(freqs, t_pred.numpy()):
    axes[1].annotate(str(k), (tp, tp), textcoords="offset points", xytext=(4, -10), fontsize=7)
axes[1].set_xlabel(r"predicted $t_k$ from $\lambda_k(\Theta_\infty)$")
axes[1].set_ylabel("measured time to 10%")
axes[1].set_title("time to fit $\\sin k\\vartheta$")
axes[1].legend()
plt.show()

# %% [markdown]
# **What it shows.** Low frequencies are fitted first, in the kernel's order. On the
# {glue:text}`ch2_n_circle`-point grid at depth 3 the eigenvalue {glue:text}`ch2_kernel_order` up to
# {glue:text}`ch2_K`, but not evenly: the closest neighbours are $\lambda_{k}/\lambda_{k+1} =$
# {glue:text}`ch2_tie_ratio:.3f` at $k =$ {glue:text}`ch2_tie_k` (odd frequencies lie below the even trend,
# section 2.1), a near-tie that a network can swap. Fitted as powers of $k$ over $k = 2, \dots,$
# {glue:text}`ch2_K`, the measured times grow with exponent {glue:text}`ch2_tslope_meas` (amplitude
# {glue:text}`ch2_amp_small`; 95 % interval over seeds, Student $t$), the predicted ones with
# {glue:text}`ch2_tslope_pred:.2f`: the measured exponent is {glue:text}`ch2_tslope_cmp`, and its interval
# {glue:text}`ch2_tslope_vs2` the exponent 2 of Basri et al.'s $k^2$. The predicted exponent is steeper than
# the $k^{2}$ one would read off the asymptotic $\mu_k\propto k^{-2}$ of section 2.1, and this is not a
# contradiction: $k^2$ is the large-$k$ asymptote, and these $k$ are small. Over the fitted range itself the
# grid's eigenvalues fall with exponent {glue:text}`ch2_lam_slope_fit:.2f` (steeper than the operator's
# asymptote at these small $k$), and the time $\ln 10/\lambda_k$ inherits that exponent with the sign flipped;
# the discrete-step formula adds {glue:text}`ch2_tslope_step:.2f`, and fitting the even frequencies only gives
# {glue:text}`ch2_tslope_even:.2f`, so the odd frequencies move the exponent little. The predicted times are
# $\ln 10/\lambda_k$ by construction; only the network's times are data, and no network is trained at the
# large $k$ where $k^2$ would apply. And the network is **slower than its
# kernel at high frequency**: at $k =$ {glue:text}`ch2_K` it needs {glue:text}`ch2_ratio_hi_big` times the
# predicted time with $A = 1$ and {glue:text}`ch2_ratio_hi_small` times with the smaller amplitude (geometric
# means over seeds with 95 % intervals; {glue:text}`ch2_slower_sentence`), while at $k=2$ the ratio is
# {glue:text}`ch2_ratio_lo_big` with $A = 1$. Paired over the same initializations, the ratio of the two
# amplitudes' times at $k =$ {glue:text}`ch2_K` is {glue:text}`ch2_ratio_hi_pair`.
#
# Why is the network slower? A **hypothesis**, not a measurement: the linearized model travels
# $\lVert\theta_\infty - \theta_0\rVert^2 = r_0^\top\Theta^{-1}r_0$ in parameter space, $r_0 = y - f_0(X)$,
# whose expectation over the random $f_0\sim\mathcal N(0, \Sigma)$ ($\Sigma$ the NNGP kernel) is
# $A^2\lVert\sin k\vartheta\rVert^2/\lambda_k + \operatorname{tr}(\Theta^{-1}\Sigma)$: here
# {glue:text}`ch2_trip_big:.3g` with $A = 1$ and {glue:text}`ch2_trip_small:.3g` with the smaller amplitude, of
# which {glue:text}`ch2_trip_f0:.3g` is $f_0$'s share. Fitting a weakly represented (small-$\lambda$) function
# needs a long trip, and the kernel may move along the way. What we can measure is the eigenvalue along
# $u = \sin(k\vartheta)/\lVert\cdot\rVert$ itself, $u^\top\Theta_t u$ (checked at ten times during training,
# $k =$ {glue:text}`ch2_K`): its largest dip, as a fraction of its initial value (geometric mean over seeds), is {glue:text}`ch2_rq_drop_big` with
# $A = 1$ and {glue:text}`ch2_rq_drop_small` with the smaller amplitude; the paired difference,
# {glue:text}`ch2_rq_drop_pair`, {glue:text}`ch2_dip_sentence`. The NTK's constancy is a statement
# about $\lVert\Theta_t - \Theta_0\rVert$ relative to $\lVert\Theta_0\rVert$, which is dominated by the
# largest eigenvalues; the small eigenvalues, which set the slow modes, can move by a large
# *relative* amount at widths where the kernel as a whole barely moves. {glue:text}`ch2_bias_conclusion`
#
# ## 2.3 Early stopping is a spectral filter
#
# Started from $f_0 = 0$, gradient flow gives $f_t(X) = \sum_i \varphi_i(t)\,(v_i^\top y)\,v_i$ with the
# **filter** $\varphi_i(t) = 1 - e^{-\lambda_i t}$ ({func}`ntk_lib.spectral.spectral_filter`): modes with
# $\lambda_i t \gg 1$ are fitted, modes with $\lambda_i t \ll 1$ are not yet touched. Stopping at
# $t$ is a soft low-pass filter with cut-off $\lambda \approx 1/t$: the "spectral filtering" of EE-556
# {cite}`ee556ntk`, which states it without working out its bias and variance or a best stopping time. With noisy labels
# $y = f^*(X) + \varepsilon$, $\varepsilon\sim\mathcal N(0, s^2 I)$, the expected in-sample error
# splits over the modes into bias and variance ({func}`ntk_lib.spectral.expected_risk`):
#
# $$
# \frac1n\mathbb E\lVert f_t(X) - f^*(X)\rVert^2 = \frac1n\sum_i\Big[\big(1-\varphi_i(t)\big)^2 c_i^2 + \varphi_i(t)^2 s^2\Big],
# \qquad c_i = v_i^\top f^*(X).
# $$
#
# A mode is worth learning when its signal $c_i^2$ exceeds the noise $s^2$; since the signal of a
# smooth target sits in the top modes, the best stopping time lets those through and stops before the
# noise-dominated small-$\lambda$ modes are fitted. Interpolation ($t = \infty$) fits them all.

# %%
noise_std = 0.5
ang_n, x_n = circle(cfg["noise_n"], seed=SEED + 1)
_, x_dense = circle(512, random=False)
theta_dense = torch.arange(512, dtype=torch.float64) * 2 * math.pi / 512


def f_star(a):
    return torch.sin(a) + 0.6 * torch.cos(2 * a) + 0.3 * torch.sin(4 * a)


fs_train, fs_dense = f_star(ang_n), f_star(theta_dense)
k_n = relu_ntk(x_n, depth=3)
k_dn = relu_ntk(x_dense, x_n, depth=3)
lam_n, vec_n = eigh_descending(k_n)
lam_n = lam_n.clamp_min(0)
times_n = torch.cat([torch.zeros(1, dtype=torch.float64), torch.logspace(-1, 6, 120, dtype=torch.float64)])
risk_formula = expected_risk(lam_n, vec_n, fs_train, noise_std=noise_std, t=times_n)

g = torch.Generator().manual_seed(SEED + 2)
noise = noise_std * torch.randn(cfg["noise_n"], cfg["draws"], generator=g, dtype=torch.float64)
y_noisy = fs_train[:, None] + noise
flow_n = gradient_flow(k_n, y_noisy, t=times_n, k_test_train=k_dn)
risk_mc = ((flow_n.train - fs_train[None, :, None]) ** 2).mean(dim=(1, 2))
test_mc = ((flow_n.test - fs_dense[None, :, None]) ** 2).mean(dim=(1, 2))
interp = kernel_regression(k_n, y_noisy, k_test_train=k_dn)
test_interp = float(((interp.test[0] - fs_dense[:, None]) ** 2).mean())

i_star = int(risk_formula.argmin())
t_star = float(times_n[i_star])
j_star = int(test_mc.argmin())
signal = mode_coefficients(vec_n, fs_train) ** 2
is_signal = signal > noise_std**2  # more signal than noise: the oracle's gain c^2/(c^2+s^2) exceeds 1/2
worth = int(is_signal.sum())
# the filter is soft: report each mode's factor phi_i = 1 - exp(-lambda_i t*), not a count of lambda_i t* > 1
phi_star = spectral_filter(lam_n, t_star)[0]
gain = signal / (signal + noise_std**2)  # the oracle filter's factor for each mode
mc_err = float(((risk_mc - risk_formula).abs() / risk_formula).max())
glue("ch2_noise_std", noise_std)
glue("ch2_noise_n", cfg["noise_n"])
glue("ch2_draws", cfg["draws"])
glue("ch2_mc_err", mc_err)
glue("ch2_t_star", t_star)
glue("ch2_t_star_test", float(times_n[j_star]))
glue("ch2_test_star", float(test_mc[j_star]))
glue("ch2_test_interp", test_interp)
glue("ch2_worth", worth)
glue("ch2_noise_var", noise_std**2)
sig_idx, noise_idx = torch.nonzero(is_signal).flatten(), torch.nonzero(~is_signal).flatten()
i_weak = int(sig_idx[int(phi_star[sig_idx].argmin())])  # the signal mode the filter passes least
i_noisy = int(noise_idx[int(phi_star[noise_idx].argmax())])  # the noise-dominated mode it passes most
i_short = int(sig_idx[int((gain - phi_star)[sig_idx].argmax())])  # the signal mode furthest below its oracle gain
glue("ch2_phi_sig_min", float(phi_star[i_weak]))
glue("ch2_phi_sig_max", float(phi_star[sig_idx].max()))
glue("ch2_phi_weak_c2", float(signal[i_weak]))
glue("ch2_phi_weak_gain", float(gain[i_weak]))
glue("ch2_phi_half", "more than half of it is fitted" if float(phi_star[i_weak]) > 0.5 else "less than half of it is fitted")
glue("ch2_phi_noise_max", float(phi_star[i_noisy]))
glue("ch2_phi_noise_gain", float(gain[i_noisy]))
glue("ch2_phi_short", float(phi_star[i_short]))
glue("ch2_phi_short_gain", float(gain[i_short]))
glue("ch2_phi_short_c2", float(signal[i_short]))
mixed = float(phi_star[i_noisy]) > float(phi_star[i_weak])
glue("ch2_order_sentence", "The filter orders modes by eigenvalue alone, and the signal does not quite: a noise-dominated mode gets a larger factor than a signal mode."
     if mixed else "The filter orders modes by eigenvalue alone, and here every signal mode gets a larger factor than every noise-dominated one.")
glue("ch2_short_phrase", "the signal mode that early stopping shortchanges most" if float(gain[i_short] - phi_star[i_short]) > 0
     else "every signal mode gets at least its oracle gain; the closest")
oracle = oracle_filter_risk(mode_coefficients(vec_n, fs_train), noise_std)
glue("ch2_risk_es", float(risk_formula.min()))
glue("ch2_risk_oracle", oracle)
glue("ch2_risk_interp", float(risk_formula[-1]))
glue("ch2_es_share", (float(risk_formula[-1]) - float(risk_formula.min())) / (float(risk_formula[-1]) - oracle))
print(f"in-sample risk: best early stopping {float(risk_formula.min()):.4f}, oracle filter c^2/(c^2+s^2) {oracle:.4f}, t = {float(times_n[-1]):.0e}: {float(risk_formula[-1]):.4f}")
print(f"formula vs Monte Carlo ({cfg['draws']} noise draws): max relative gap {mc_err:.3f}")
print(f"best stopping time: t* = {t_star:.3g} (in-sample formula), {float(times_n[j_star]):.3g} (test error, Monte Carlo)")
print(f"test MSE at the best time {float(test_mc[j_star]):.4f} vs at interpolation {test_interp:.4f}")
print(f"modes with signal c_i^2 > s^2 = {noise_std**2:g}: {worth}; the top modes at t*:")
print(" mode   lambda_i t*   filter phi_i   signal c_i^2   oracle gain c^2/(c^2+s^2)")
for i in range(min(10, cfg["noise_n"])):
    print(f"{i:5d}   {float(lam_n[i] * t_star):#10.3g}   {float(phi_star[i]):12.3f}   {float(signal[i]):#12.3g}   {float(gain[i]):12.3f}"
          + ("   (signal)" if bool(is_signal[i]) else ""))

# %% [markdown]
# A real network on one noisy draw, against the closed-form flow with its own $f_0$ and the
# analytic kernel: do both test curves turn up at the same time?

# %%
Xn = x_n.to(dev, DT)
Xd = x_dense.to(dev, DT)
y_one = y_noisy[:, 0]
net_n = MLP(2, cfg["width"], 3, seed=SEED + 3).to(dev, DT)
with torch.no_grad():
    f0_n, f0_d = net_n(Xn).double().cpu(), net_n(Xd).double().cpu()
eta_n = 1.0 / float(lam_n[0])
hist_n = train_gd(net_n, Xn, y_one.to(dev, DT), lr=eta_n, steps=cfg["noise_steps"], x_test=Xd, desc="noisy labels")
net_test_err = ((hist_n.test_pred.double().cpu() - fs_dense) ** 2).mean(1).numpy()
flow_one = gradient_flow(k_n, y_one, t=hist_n.times, f0_train=f0_n, k_test_train=k_dn, f0_test=f0_d)
flow_one_err = ((flow_one.test - fs_dense) ** 2).mean(1).numpy()
# the network's test curve is flat near its minimum (neighbouring recorded times differ by ~1e-4 relative), so its
# argmin is not printed: only whether it comes before or after the flow's (sharp) optimum
i_net, i_flow = int(np.argmin(net_test_err)), int(np.argmin(flow_one_err))
t_flow = float(hist_n.times[i_flow])
glue("ch2_t_flow_one", t_flow)
glue("ch2_flow_best", float(flow_one_err[i_flow]))
glue("ch2_net_at_flow", float(net_test_err[i_flow]))
glue("ch2_net_best", float(net_test_err[i_net]))
glue("ch2_net_end", float(net_test_err[-1]))
net_when = "later" if i_net > i_flow + 1 else ("earlier" if i_net < i_flow - 1 else "at about the same time")
glue("ch2_net_when", net_when)
print(f"flow with Theta_inf from the network's f0: best test MSE {flow_one_err[i_flow]:.4f} at t = {t_flow:.3g}")
print(f"network: test MSE {net_test_err[i_flow]:.4f} at that time; its minimum {net_test_err[i_net]:.4f} comes {net_when};"
      f" at the end (t = {hist_n.times[-1]:.3g}) {net_test_err[-1]:.4f}")

# %% mystnb={"figure": {"caption": "Left: the filter 1 - exp(-lambda t) against the eigenvalue at four times; dots mark the eigenvalues of the training kernel, dark ones where the target's signal exceeds the noise. Right: error against the clean target over training time; the formula (line) and Monte Carlo over noise draws (dots) for the in-sample error; the test error averaged over draws; one network and its kernel flow.", "name": "fig-ch2-filter"}} tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.0), layout="constrained")
lam_axis = torch.logspace(math.log10(max(float(lam_n[-1]), 1e-8)), math.log10(float(lam_n[0])) + 0.3, 300, dtype=torch.float64)
for tt, ls in zip([0.1 * t_star, t_star, 10 * t_star, 1000 * t_star], [":", "-", "--", "-."]):
    axes[0].semilogx(lam_axis.numpy(), spectral_filter(lam_axis, tt)[0].numpy(), ls, color=COLORS["net"], label=f"t = {tt:.3g}")
strong = (signal > noise_std**2).numpy()
axes[0].plot(lam_n.numpy()[strong], np.full(strong.sum(), -0.05), "o", color=COLORS["data"], ms=4, label=r"modes with $c_i^2 > s^2$")
axes[0].plot(lam_n.numpy()[~strong], np.full((~strong).sum(), -0.05), "o", color="0.7", ms=3)
axes[0].set_xlabel(r"eigenvalue $\lambda$")
axes[0].set_ylabel(r"$\varphi(t) = 1 - e^{-\lambda t}$")
axes[0].set_title("early stopping keeps the large eigenvalues")
axes[0].legend(loc="center left")
tn = times_n.numpy()
axes[1].loglog(tn[1:], risk_formula.numpy()[1:], color=COLORS["inf"], label="in-sample, formula")
axes[1].loglog(tn[1::6], risk_mc.numpy()[1::6], "o", ms=3, color=COLORS["inf"], label="in-sample, Monte Carlo")
axes[1].loglog(tn[1:], test_mc.numpy()[1:], color=COLORS["emp"], label="test, Monte Carlo")
keep = hist_n.times > 0
axes[1].loglog(hist_n.times[keep], net_test_err[keep], color=COLORS["net"], lw=2, label=f"test, network (width {cfg['width']})")
axes[1].loglog(hist_n.times[keep], flow_one_err[keep], "--", color=COLORS["extra"], label=r"test, its flow with $\Theta_\infty$")
axes[1].axvline(t_star, color="gray", lw=0.8)
axes[1].set_xlabel("time $t$")
axes[1].set_ylabel(r"mean squared error to $f^*$")
axes[1].set_title(f"noisy labels, s = {noise_std}")
axes[1].legend(fontsize=7)
plt.show()

# %% [markdown]
# **What it shows.** The bias-variance formula and {glue:text}`ch2_draws` simulated noise draws agree
# (largest relative gap {glue:text}`ch2_mc_err:.3f`). The in-sample error is smallest at
# $t^* =$ {glue:text}`ch2_t_star:.3g` and the test error at {glue:text}`ch2_t_star_test:.3g`;
# stopping there gives a test MSE of {glue:text}`ch2_test_star:.4f` against
# {glue:text}`ch2_test_interp:.4f` for the interpolating solution. Early stopping is a filter with one
# knob, $t$; the best filter on the same eigenbasis, which knows the signal, uses the gains
# $g_i = c_i^2/(c_i^2+s^2)$ ({func}`ntk_lib.periodic.oracle_filter_risk`): its in-sample risk is
# {glue:text}`ch2_risk_oracle:.4f` against {glue:text}`ch2_risk_es:.4f` for the best stopping time and
# {glue:text}`ch2_risk_interp:.4f` at the last time on the grid, so the one-knob filter reaches a fraction
# {glue:text}`ch2_es_share:.2f` of the oracle's gain over interpolation.
#
# The spectrum explains the stopping time, approximately, and not as a sharp cut-off: the filter is soft. The
# table printed under the bias-variance computation above gives each top mode's factor
# $\varphi_i = 1-e^{-\lambda_i t^*}$ next to its gain $g_i$. Of the {glue:text}`ch2_noise_n` modes,
# {glue:text}`ch2_worth` carry more signal than noise ($c_i^2 > s^2$, i.e. $g_i > \tfrac12$); at $t^*$ they pass
# with factors from {glue:text}`ch2_phi_sig_min:.2f` to {glue:text}`ch2_phi_sig_max:.3f`, the noise-dominated
# ones with at most {glue:text}`ch2_phi_noise_max:.2f`. The signal mode passed least has $c^2 =$
# {glue:text}`ch2_phi_weak_c2:.3f` against $s^2 =$ {glue:text}`ch2_noise_var` (gain
# {glue:text}`ch2_phi_weak_gain:.2f`) and factor {glue:text}`ch2_phi_sig_min:.2f`: {glue:text}`ch2_phi_half`.
# {glue:text}`ch2_order_sentence` The noise-dominated mode with the largest factor would get
# {glue:text}`ch2_phi_noise_gain:.2f` from the oracle, and {glue:text}`ch2_short_phrase` has
# $\varphi =$ {glue:text}`ch2_phi_short:.2f` against the oracle's {glue:text}`ch2_phi_short_gain:.2f`
# ($c^2 =$ {glue:text}`ch2_phi_short_c2:.2f`).
#
# The single network (one seed, one noise draw) shows the same rise of the test error, but not at the
# same time as its kernel flow. The flow with $\Theta_\infty$ from the same $f_0$ is best at
# $t=$ {glue:text}`ch2_t_flow_one:.3g` (test MSE {glue:text}`ch2_flow_best:.4f`); there the network's test MSE is
# {glue:text}`ch2_net_at_flow:.4f`, and its own minimum, {glue:text}`ch2_net_best:.4f`, comes
# {glue:text}`ch2_net_when` (the network's curve is too flat near its minimum to name one recorded time). By the
# end of training its test MSE has risen to {glue:text}`ch2_net_end:.4f` as it fits the noise. The kernel
# predicts the shape of the curve; the network at this width is slower on the small-eigenvalue modes
# (section 2.2), which shifts its optimum.
#
# ## 2.4 Fourier features move the spectrum
#
# Section 2.1 makes high frequencies slow because the kernel's eigenvalues decay. Tancik et al.
# {cite}`tancik2020fourier` change the kernel instead of the optimizer: feed the network
#
# $$
# \varphi(x) = \big[\sin(2\pi Bx),\ \cos(2\pi Bx)\big],\qquad B\in\mathbb R^{m\times d},
# $$
#
# ({class}`ntk_lib.models.FourierFeatures`, $B_{ij}\sim\mathcal N(0,\sigma^2)$). Then
# $\varphi(x)^\top\varphi(x') = \sum_j \cos(2\pi b_j^\top(x - x'))$, a random-feature estimate of a Gaussian
# kernel $m\,e^{-2\pi^2\sigma^2\lVert x-x'\rVert^2}$ of bandwidth (standard deviation) $1/(2\pi\sigma)$. Two facts
# make the kernel of a network on $\varphi(x)$ exactly computable: $\lVert\varphi(x)\rVert^2 = m$ for every $x$,
# and $\varphi(x)^\top\varphi(x')$ depends only on $x - x'$. The infinite-width NTK of an MLP depends on its
# inputs only through their norms and inner products, so for a *fixed* $B$ (not trained) the NTK of the
# composed network is `relu_ntk` of the embedded points, and it is **stationary**: a function of $x - x'$.
#
# The summary `000` of NTK-ECRN {cite}`ntkecrn2025` names this embedding as its Mechanism 1 ("enriches the
# NTK spectrum"; if $B$ is "poorly scaled (frequencies too high or low), the embedding becomes effectively noise
# or redundant") and suggests, among its "first experiments", an ablation with and without $\varphi$ on a
# sum of sines, measuring "the MSE gap on high-frequency components". It gives no frequencies, sample sizes
# or scales: the set-up below is ours. To measure high-frequency error where it means something we make the
# problem **periodic**: $x\in[0,1)$, the target $y(x) = \sum_j \sin(2\pi k_j x)$ with integer
# $k_j \in \{1, 3, 7, 12\}$, 64 evenly spaced training points, and integer frequencies $B_{ij}$ (rounded
# Gaussian draws), so that $\varphi$ and hence the network are 1-periodic. Test points are 512 points of the
# same period, between the training points; nothing is extrapolated. The baseline is the same MLP (three
# linear layers, bias variance 1) on the circle embedding $[\sin 2\pi x, \cos 2\pi x]$, i.e. $B = (1)$: the
# network of section 2.1 with biases added (section 2.1's is bias-free). Each net is trained with $\eta = 1/\lambda_{\max}$ of its exact kernel on the
# training points, for the same number of steps, over several seeds; we report the test MSE on the band
# $k\ge 5$ (by Parseval, exact on a periodic grid) and the error of each target coefficient.

# %%
N_TR, M_TEST, M_FEAT = 64, 512, 128
SIGMA_DEMO = 8.0
rec_ff = list(range(0, cfg["ff_steps"] + 1, max(1, cfg["ff_steps"] // 100)))  # recorded steps of the two runs shown in the figure
x_ff = unit_interval(N_TR)
x_ff_test = (torch.arange(M_TEST, dtype=torch.float64)[:, None] + 0.5) / M_TEST
ff_freqs = [1, 3, 7, 12]
K_HIGH = 5
y_ff, y_ff_test = sum_of_sines(x_ff, ff_freqs), sum_of_sines(x_ff_test, ff_freqs)
Xf, Xft, Yf = (t.to(dev, DT) for t in (x_ff, x_ff_test, y_ff))


def embedding(sigma, seed):
    """Integer-frequency Fourier features (1-periodic); sigma=None is the circle embedding B = (1)."""
    ff = FourierFeatures(1, 1 if sigma is None else M_FEAT, 1.0 if sigma is None else sigma, seed=seed)
    with torch.no_grad():
        ff.B.copy_(torch.ones_like(ff.B) if sigma is None else torch.round(ff.B))
    return ff


def exact_ntk(ff, xa, xb=None):
    """Infinite-width NTK of the MLP on top of the fixed embedding: relu_ntk of the embedded points."""
    phi = copy.deepcopy(ff).double()
    return relu_ntk(phi(xa), None if xb is None else phi(xb), depth=3, bias_var=1.0)


def alias_of(ff, grid):
    """Largest alias fraction over the target frequencies, from the exact kernel sampled on ``grid`` points."""
    xg = unit_interval(grid)
    mu_g = circulant_eigenvalues(exact_ntk(ff, xg[:1], xg)[0]) / grid
    return float(max(alias_fraction(mu_g, N_TR, k) for k in ff_freqs))


def off_target_power(err):
    """Mean square of the part of ``err`` (one period, even grid) off the target frequencies (Parseval)."""
    c2 = (torch.fft.fft(err) / err.shape[0]).abs() ** 2
    keep = torch.ones_like(c2, dtype=torch.bool)
    for k in ff_freqs:
        keep[k] = keep[-k] = False
    return float(c2[keep].sum())


_ff_runs = {}


def train_ff(sigma, seed):
    """Train one network on the embedding (sigma=None: circle) and collect the exact kernel's predictions."""
    if (sigma, seed) in _ff_runs:
        return _ff_runs[(sigma, seed)]
    ff = embedding(sigma, seed)
    net = torch.nn.Sequential(ff, MLP(ff.out_features, cfg["ff_width"], 3, bias_var=1.0, seed=seed)).to(dev, DT)
    k_ex, k_ex_test = exact_ntk(ff, x_ff), exact_ntk(ff, x_ff_test, x_ff)
    lam_ex = eigh_descending(k_ex)[0]
    k_emp_all = empirical_ntk(net, torch.cat([Xf, Xft])).double().cpu()  # init kernel on training and test points
    k_emp, k_emp_test = k_emp_all[:N_TR, :N_TR], k_emp_all[N_TR:, :N_TR]
    with torch.no_grad():
        f0, f0t = net(Xf).double().cpu(), net(Xft).double().cpu()
    lr_ff = 1.0 / float(lam_ex[0])
    T = cfg["ff_steps"]
    record = rec_ff if seed == SEED and sigma in (None, SIGMA_DEMO) else [T]  # curves only for the figure's two runs
    hist = train_gd(net, Xf, Yf, lr=lr_ff, steps=T, record=record, x_test=Xft, progress=False)
    k_emp_end = empirical_ntk(net, Xf).double().cpu()
    err = hist.test_pred.double().cpu() - y_ff_test  # [R, m]
    # the kernel's own predictions after the same steps: the linearized infinite-width net from f0 = 0, the same
    # from the network's own f0, and the linearized finite net (empirical kernel at initialization) from its f0
    lin = gradient_descent(k_ex, y_ff, steps=[T], lr=lr_ff, k_test_train=k_ex_test)
    lin_f0 = gradient_descent(k_ex, y_ff, steps=[T], lr=lr_ff, k_test_train=k_ex_test, f0_train=f0, f0_test=f0t)
    lin_emp = gradient_descent(k_emp, y_ff, steps=[T], lr=lr_ff, k_test_train=k_emp_test, f0_train=f0, f0_test=f0t)
    lam_grid = circulant_eigenvalues(k_ex[0])  # eigenvalue of each frequency on the 64 training points
    grid = alias_grid(int(ff.B.abs().max()), N_TR, oversample=32)  # fine enough that folding above it is negligible
    coef_err = 2 * fourier_coefficients(err[-1], ff_freqs).abs()  # amplitude of the error at each target frequency

    def mse(pred):
        return float(((pred - y_ff_test) ** 2).mean())

    return _ff_runs.setdefault((sigma, seed), dict(
        ff=ff, grid=grid, lam=lam_ex, lam_emp=eigh_descending(k_emp)[0], hist=hist, err=err,
        emp_vs_exact=float((k_emp - k_ex).norm() / k_ex.norm()),
        eta_lmax_emp=lr_ff * float(eigh_descending(k_emp)[0][0]), eta_lmax_end=lr_ff * float(eigh_descending(k_emp_end)[0][0]),
        move=float(torch.linalg.matrix_norm(k_emp_end - k_emp, ord=2)) / float(lam_ex[0]),  # kernel movement / lambda_max
        lam_target=float(max(lam_grid[k] for k in ff_freqs if k >= 3)) / float(lam_ex[0]),  # largest target eigenvalue k >= 3
        stationary=float((k_ex - torch.stack([torch.roll(k_ex[0], i) for i in range(N_TR)])).abs().max() / k_ex.abs().max()),
        train=float(((hist.train_pred[-1].double().cpu() - y_ff) ** 2).mean()), test=mse(err[-1] + y_ff_test),
        high=float(band_power(err[-1], K_HIGH)), coef_err=coef_err.numpy(), off_target=off_target_power(err[-1]),
        f0_size=float((f0t**2).mean()),
        kernel_test=mse(lin.test[-1]), kernel_test_f0=mse(lin_f0.test[-1]), lin_emp_test=mse(lin_emp.test[-1]),
        coef_err_lin_f0=(2 * fourier_coefficients(lin_f0.test[-1] - y_ff_test, ff_freqs).abs()).numpy(),
        unlearned=float(max(abs(1 - lr_ff * float(lam_grid[k])) ** T for k in ff_freqs)),
        aliased=alias_of(ff, grid),
    ))


base = train_ff(None, SEED)
four = train_ff(SIGMA_DEMO, SEED)
glue("ch2_ff_sigma", SIGMA_DEMO)
glue("ch2_ff_stationary_ok", max(base["stationary"], four["stationary"]) < TOL)
glue("ch2_ff_emp_exact_base", base["emp_vs_exact"])
glue("ch2_ff_emp_exact_ff", four["emp_vs_exact"])
glue("ch2_ff_width", cfg["ff_width"])
glue("ch2_ff_cond_base", float(base["lam"][0] / base["lam"][31]))
glue("ch2_ff_cond_ff", float(four["lam"][0] / four["lam"][31]))
# the same composition written with ntk_lib.layers, for a Gaussian (not rounded) B: its exact kernel
# must equal relu_ntk of the embedded points
ff_layer = nl.FourierFeatures(M_FEAT, SIGMA_DEMO, seed=SEED)
arch = nl.serial(ff_layer, nl.Dense(cfg["ff_width"], 1.0, 1.0), nl.Relu(), nl.Dense(cfg["ff_width"], 1.0, 1.0), nl.Relu(), nl.Dense(1, 1.0, 1.0))
ff_gauss = FourierFeatures(1, M_FEAT, SIGMA_DEMO, dtype=torch.float64)
with torch.no_grad():
    ff_gauss.B.copy_(ff_layer.matrix(1))
k_layers = arch.kernel(x_ff).ntk
k_composed = relu_ntk(ff_gauss(x_ff), depth=3, bias_var=1.0)
layers_err = float((k_layers - k_composed).abs().max() / k_layers.abs().max())
glue("ch2_ff_layers_ok", layers_err < TOL)
print(f"ntk_lib.layers kernel equals relu_ntk of the embedded points (Gaussian B) to better than {TOL:.0e} relative: {layers_err < TOL}")
print(f"exact kernels are circulant to better than {TOL:.0e} relative: {max(base['stationary'], four['stationary']) < TOL}")
print(f"empirical vs exact NTK at width {cfg['ff_width']} (relative Frobenius): circle embedding {base['emp_vs_exact']:.3f}, Fourier features {four['emp_vs_exact']:.3f}")
print(f"lambda_1 / lambda_32 of the exact NTK: circle {float(base['lam'][0] / base['lam'][31]):.3g}, Fourier features {float(four['lam'][0] / four['lam'][31]):.3g}")

# %% mystnb={"figure": {"caption": "Left: eigenvalues of the exact NTK (lines) and of the empirical NTK at initialization (dots) on the 64 training points, normalized by the largest, for the MLP on the circle embedding and on Fourier features. Middle: the high-frequency (k >= 5) part of the test error during training. Right: the amplitude of the test error at each target frequency at the end of training.", "name": "fig-ch2-fourier"}} tags=["hide-input"]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
idx = np.arange(1, N_TR + 1)
for r, name, c in ((base, "circle $[\\sin 2\\pi x, \\cos 2\\pi x]$", COLORS["net"]), (four, rf"Fourier, $\sigma={SIGMA_DEMO:g}$", COLORS["emp"])):
    axes[0].semilogy(idx, (r["lam"] / r["lam"][0]).clamp_min(1e-16).numpy(), "-", color=c, label=f"{name}, exact")
    axes[0].semilogy(idx, (r["lam_emp"] / r["lam_emp"][0]).clamp_min(1e-16).numpy(), "o", ms=3, color=c, label="empirical")
    axes[1].semilogy(r["hist"].steps, band_power(r["err"].T, K_HIGH).numpy(), color=c, label=name)
axes[0].set_xlabel("index $i$")
axes[0].set_ylabel(r"$\lambda_i/\lambda_1$")
axes[0].set_title("NTK spectrum at initialization")
axes[0].legend(fontsize=7)
axes[1].set_xlabel("gradient step")
axes[1].set_ylabel(f"test MSE on $k \\geq {K_HIGH}$")
axes[1].set_title("high-frequency error")
axes[1].legend(fontsize=7)
wbar = 0.38
pos = np.arange(len(ff_freqs))
axes[2].bar(pos - wbar / 2, base["coef_err"], wbar, color=COLORS["net"], label="circle embedding")
axes[2].bar(pos + wbar / 2, four["coef_err"], wbar, color=COLORS["emp"], label=rf"Fourier, $\sigma={SIGMA_DEMO:g}$")
axes[2].set_xticks(pos, [str(k) for k in ff_freqs])
axes[2].set_yscale("log")
axes[2].set_xlabel("target frequency $k$")
axes[2].set_ylabel("amplitude of the test error at $k$")
axes[2].set_title(f"per target coefficient, after {cfg['ff_steps']} steps")
axes[2].legend(fontsize=7)
plt.show()

# %% [markdown]
# Written with {mod}`ntk_lib.layers` (`FourierFeatures` followed by the same dense and ReLU layers) the exact
# kernel of the composed network, for a Gaussian $B$, equals `relu_ntk` of the embedded points to better than
# $10^{-12}$ (checked: {glue:text}`ch2_ff_layers_ok`): the two routes are the same formula. The exact kernels
# are circulant on the training grid to better than $10^{-12}$ ({glue:text}`ch2_ff_stationary_ok`; stationarity),
# and the empirical NTKs at width {glue:text}`ch2_ff_width` are within {glue:text}`ch2_ff_emp_exact_base:.3f` and
# {glue:text}`ch2_ff_emp_exact_ff:.3f` of them (relative Frobenius). With the embedding the spectrum is far
# flatter ($\lambda_1/\lambda_{32}$ falls from {glue:text}`ch2_ff_cond_base:.3g` to {glue:text}`ch2_ff_cond_ff:.3g`),
# so the same number of steps reaches much further down it. The printout below the next cell gives the errors over seeds.
#
# ### Both failure modes: sweeping $\sigma$
#
# For each $\sigma$ and seed the exact kernel predicts where training will fail, with no training at all:
#
# * **too small $\sigma$: under-training.** On the training grid the kernel is circulant, each target
#   frequency $k$ is an eigenvector, and after $T$ steps the fraction $\lvert 1-\eta\lambda_k\rvert^T$ of it is
#   still unlearned; we report the largest over the four target frequencies;
# * **too large $\sigma$: aliasing.** On 64 equally spaced points frequencies $k$ and $k\pm64$ coincide. Kernel
#   regression with a stationary kernel spreads a harmonic over its aliases in proportion to the kernel's
#   eigenvalues $\mu_{k+64m}$, so the fraction $1-\mu_k/\sum_m\mu_{k+64m}$ of each target coefficient lands on the
#   wrong frequencies between the samples ({func}`ntk_lib.periodic.alias_fraction`, with $\mu$ from a grid
#   chosen by {func}`ntk_lib.periodic.alias_grid` fine enough for the embedding's frequencies); we report the
#   largest over the targets. This describes the *interpolant*, the end point of training: it says nothing
#   about a network that has not converged.
#
# Both are set by the kernel's bandwidth $1/(2\pi\sigma)$ against the grid spacing $1/N$, $N = 64$: a kernel
# much wider than the spacing makes the high target frequencies tiny eigenvalues, one much narrower than the
# spacing has its power above the grid's Nyquist frequency $N/2$. The two are equal at
# $\sigma_c = N/(2\pi)$.

# %%
sweep = {s: [train_ff(s, SEED + i) for i in range(cfg["ff_seeds"])] for s in progress_bar(cfg["sigmas"], desc="sigma sweep")}
base_runs = [train_ff(None, SEED + i) for i in range(cfg["ff_seeds"])]
sig = np.array(cfg["sigmas"])
nseed = cfg["ff_seeds"]


def vals(key, runs):
    return np.array([r[key] for r in runs])


# every quantity here is positive: geometric means over seeds, intervals on the log scale
stats = {key: [geometric_interval(vals(key, sweep[s])) for s in cfg["sigmas"]]
         for key in ("train", "test", "high", "kernel_test", "kernel_test_f0", "lin_emp_test", "unlearned", "aliased")}
gm = {key: np.array([v.mean for v in stats[key]]) for key in stats}
best = int(np.argmin(gm["test"]))
glue("ch2_ff_seeds", nseed)
glue("ch2_sigma_best", float(sig[best]))
glue("ch2_sigma_best_test", str(stats["test"][best]))
glue("ch2_sigma_lo", float(sig[0]))
glue("ch2_sigma_lo_train", str(stats["train"][0]))
glue("ch2_sigma_lo_unlearned", str(stats["unlearned"][0]))
glue("ch2_sigma_hi", float(sig[-1]))
glue("ch2_sigma_hi_train", str(stats["train"][-1]))
glue("ch2_sigma_hi_test", str(stats["test"][-1]))
glue("ch2_sigma_hi_aliased", str(stats["aliased"][-1]))
learn_ok = [s for s, u in zip(sig, gm["unlearned"]) if u < 0.1]
glue("ch2_sigma_learn_start", float(min(learn_ok)) if learn_ok else float("nan"))

# the bandwidth 1/(2 pi sigma) equals the grid spacing 1/N at sigma_c
sigma_c = N_TR / (2 * math.pi)
below, above = sig < sigma_c, sig > sigma_c
base_alias = geometric_interval(vals("aliased", base_runs))
glue("ch2_sigma_c", sigma_c)
glue("ch2_alias_base", base_alias.mean)  # the same kernel for every seed
glue("ch2_alias_lo", float(gm["aliased"][0]))
glue("ch2_alias_below_max", float(gm["aliased"][below].max()) if below.any() else float("nan"))
glue("ch2_alias_above_min", float(gm["aliased"][above].min()) if above.any() else float("nan"))
glue("ch2_alias_above_sigma", float(sig[above].min()) if above.any() else float("nan"))
alias_split = bool(below.any() and above.any() and gm["aliased"][above].min() > max(gm["aliased"][below].max(), base_alias.mean))
glue("ch2_alias_split", "above every value below it and above the circle embedding's" if alias_split else "not cleanly separated from the values below it")
in_window = bool(learn_ok) and min(learn_ok) <= sig[best] < sigma_c
glue("ch2_window_sentence", "inside that window" if in_window else "not inside that window")
# the fine grid is fine enough: doubling it leaves the alias fraction of the largest sigma unchanged
r_hi = sweep[sig[-1]][0]
alias_2g = alias_of(r_hi["ff"], 2 * r_hi["grid"])
glue("ch2_alias_grid", r_hi["grid"])
glue("ch2_alias_grid_ok", abs(alias_2g - r_hi["aliased"]) < 1e-3)

# small sigma: the network against its linearizations from the same f0
lo = sweep[sig[0]]
j3 = ff_freqs.index(3)
ce_net_lo, ce_lin_lo = vals("coef_err", lo), vals("coef_err_lin_f0", lo)
glue("ch2_lo_f0_min", float(vals("f0_size", lo).min()))
glue("ch2_lo_f0_max", float(vals("f0_size", lo).max()))
for key in ("kernel_test_f0", "lin_emp_test", "move", "lam_target", "test", "kernel_test"):
    glue(f"ch2_lo_{key}", str(geometric_interval(vals(key, lo))))
    glue(f"ch2_base_{key}", str(geometric_interval(vals(key, base_runs))))
for j, k in enumerate(ff_freqs):
    glue(f"ch2_lo_coef_net_k{k}", str(geometric_interval(ce_net_lo[:, j])))
    glue(f"ch2_lo_coef_lin_k{k}", str(geometric_interval(ce_lin_lo[:, j])))
slower_lo = bool((ce_net_lo[:, j3:] > ce_lin_lo[:, j3:]).all())
glue("ch2_lo_slower", "at every seed and every target frequency from 3 on" if slower_lo else "not at every seed and target frequency")
glue("ch2_ff_eta_lmax_emp", max(r["eta_lmax_emp"] for runs in (*sweep.values(), base_runs) for r in runs))
glue("ch2_ff_eta_lmax_end", max(r["eta_lmax_end"] for runs in (*sweep.values(), base_runs) for r in runs))

# where the kernel says training converged, how far apart are the network and the kernel?
conv = np.array([s in learn_ok for s in sig])
ratio_nk = gm["test"] / gm["kernel_test"]
glue("ch2_nk_ratio_min", float(ratio_nk[conv].min()) if conv.any() else float("nan"))
glue("ch2_nk_ratio_max", float(ratio_nk[conv].max()) if conv.any() else float("nan"))
same_best = int(np.argmin(gm["kernel_test"])) == best
glue("ch2_same_best", "at the same sigma as the network's" if same_best else "at a different sigma from the network's")

# the demonstration sigma, per seed: which seed is the outlier, and does the kernel predict it?
demo = sweep.get(SIGMA_DEMO) or sweep[sig[best]]
t_demo, u_demo = vals("test", demo), vals("unlearned", demo)
ce_demo = vals("coef_err", demo)
worst = int(np.argmax(t_demo))
others = [i for i in range(nseed) if i != worst]
glue("ch2_out_seed", worst)
glue("ch2_out_test", float(t_demo[worst]))
glue("ch2_out_k12", float(ce_demo[worst, -1]))
glue("ch2_out_unlearned", float(u_demo[worst]))
glue("ch2_others_test_max", float(t_demo[others].max()))
glue("ch2_others_k12_max", float(ce_demo[others, -1].max()))
glue("ch2_others_unlearned_max", float(u_demo[others].max()))
out_pred = bool(u_demo[worst] > u_demo[others].max())
glue("ch2_out_predicted", "the kernel predicts it: that seed's" if out_pred else "the kernel does not single it out: that seed's")
glue("ch2_out_short", "the worst seed is the one whose kernel leaves the most unlearned" if out_pred else "the worst seed is not the one the kernel singles out")

ce_b = vals("coef_err", base_runs)
for key in ("high", "test", "off_target"):
    glue(f"ch2_ff_{key}_base", str(geometric_interval(vals(key, base_runs))))
    glue(f"ch2_ff_{key}_ff", str(geometric_interval(vals(key, demo))))
glue("ch2_ff_high_gain", str(mean_interval([np.log10(b["high"] / f["high"]) for b, f in zip(base_runs, demo)])))
for j, k in enumerate(ff_freqs):
    glue(f"ch2_ff_coef_base_k{k}", str(geometric_interval(ce_b[:, j])))
    glue(f"ch2_ff_coef_ff_k{k}", str(geometric_interval(ce_demo[:, j])))
print(f"circle embedding vs Fourier features (sigma = {SIGMA_DEMO:g}), geometric mean [95% interval] over {nseed} seeds:")
for key in ("test", "high", "off_target"):
    print(f"  test MSE {key:11s}: circle {str(geometric_interval(vals(key, base_runs)))}, Fourier {str(geometric_interval(vals(key, demo)))}")
for j, k in enumerate(ff_freqs):
    print(f"  amplitude of the error at k = {k:2d}: circle {str(geometric_interval(ce_b[:, j]))}, Fourier {str(geometric_interval(ce_demo[:, j]))}")
print(f"per seed at sigma = {SIGMA_DEMO:g}: test MSE", np.round(t_demo, 4).tolist(), "| error at k = 12", np.round(ce_demo[:, -1], 3).tolist(),
      "| unlearned (kernel)", np.round(u_demo, 3).tolist())
print(f"smallest sigma = {sig[0]:g}, geometric means: network test MSE {str(stats['test'][0])}; linearized from the network's f0: exact kernel "
      f"{str(stats['kernel_test_f0'][0])}, empirical kernel at init {str(stats['lin_emp_test'][0])}; exact kernel from f0 = 0 {str(stats['kernel_test'][0])}")
print(f"  error at k = 3: network {str(geometric_interval(ce_net_lo[:, j3]))}, linearized (exact kernel, same f0) {str(geometric_interval(ce_lin_lo[:, j3]))}")
print(f"alias fraction of the largest sigma on {r_hi['grid']} and {2 * r_hi['grid']} grid points agrees to 1e-3: {abs(alias_2g - r_hi['aliased']) < 1e-3}")
print(f"sigma_c = N/(2 pi) = {sigma_c:.2f}; geometric means over seeds:")
print("sigma   train MSE   test MSE (network)   test MSE (kernel, f0=0)   (kernel, network's f0)   unlearned (kernel)   aliased (kernel)")
for i, s in enumerate(sig):
    print(f"{s:6.2f}  {gm['train'][i]:9.2e}   {gm['test'][i]:9.2e}            {gm['kernel_test'][i]:9.2e}                 {gm['kernel_test_f0'][i]:9.2e}"
          f"                {gm['unlearned'][i]:9.2e}            {gm['aliased'][i]:9.2e}")
print(f"circle  {geometric_interval(vals('train', base_runs)).mean:9.2e}   {geometric_interval(vals('test', base_runs)).mean:9.2e}            "
      f"{geometric_interval(vals('kernel_test', base_runs)).mean:9.2e}                 {geometric_interval(vals('kernel_test_f0', base_runs)).mean:9.2e}"
      f"                {geometric_interval(vals('unlearned', base_runs)).mean:9.2e}            {base_alias.mean:9.2e}")

# %% mystnb={"figure": {"caption": "Left: train and test MSE of the network after a fixed number of steps against the scale sigma of the Fourier features (geometric mean over seeds, band: 95% interval on the log scale), with the test MSE the exact kernel predicts (linearized infinite-width net from f0 = 0, and from the network's own f0); dotted horizontal line: the circle embedding. Right: the kernel's two diagnostics, the largest unlearned fraction of a target frequency at the end of training (under-training, small sigma) and the largest fraction of a target coefficient that kernel regression puts on aliases (large sigma; meaningful only where training converges). Vertical line: sigma_c, where the bandwidth 1/(2 pi sigma) equals the grid spacing.", "name": "fig-ch2-sigma"}} tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.0), layout="constrained")


def band(ax, key, fmt, color, label):
    ax.loglog(sig, gm[key], fmt, color=color, label=label)
    ax.fill_between(sig, [v.low for v in stats[key]], [v.high for v in stats[key]], color=color, alpha=0.2)


band(axes[0], "train", "o-", COLORS["inf"], "train MSE, network")
band(axes[0], "test", "s-", COLORS["emp"], "test MSE, network")
band(axes[0], "kernel_test", "x--", COLORS["extra"], "test MSE, kernel from $f_0 = 0$")
band(axes[0], "kernel_test_f0", "+:", COLORS["data"], "test MSE, kernel from the net's $f_0$")
axes[0].axhline(geometric_interval(vals("test", base_runs)).mean, color=COLORS["net"], ls=":", label="circle embedding, test MSE")
axes[0].set_xlabel(r"Fourier scale $\sigma$")
axes[0].set_ylabel("MSE")
axes[0].set_title("the two failure modes of Fourier features")
axes[0].legend(fontsize=7)
band(axes[1], "unlearned", "o-", COLORS["inf"], r"unlearned: $\max_k |1-\eta\lambda_k|^T$")
band(axes[1], "aliased", "s-", COLORS["emp"], r"aliased: $\max_k 1-\mu_k/\sum_m \mu_{k+64m}$")
axes[1].set_xlabel(r"Fourier scale $\sigma$")
axes[1].set_ylabel("fraction of a target coefficient")
axes[1].set_title("where the exact kernel places them")
for ax in axes:
    ax.axvline(sigma_c, color="gray", lw=0.8, ls="-.")
axes[1].legend(fontsize=7)
plt.show()

# %% [markdown]
# **What it shows.** Over {glue:text}`ch2_ff_seeds` seeds (geometric means, with 95 % intervals on the log
# scale), the test MSE on the band $k\ge5$ is {glue:text}`ch2_ff_high_base` with the circle embedding and
# {glue:text}`ch2_ff_high_ff` with Fourier features ($\sigma =$ {glue:text}`ch2_ff_sigma`; the paired difference of
# $\log_{10}$ is {glue:text}`ch2_ff_high_gain`). Per target coefficient, the amplitude of the error at
# $k = 1, 3, 7, 12$ is {glue:text}`ch2_ff_coef_base_k1`, {glue:text}`ch2_ff_coef_base_k3`,
# {glue:text}`ch2_ff_coef_base_k7`, {glue:text}`ch2_ff_coef_base_k12` on the circle embedding and
# {glue:text}`ch2_ff_coef_ff_k1`, {glue:text}`ch2_ff_coef_ff_k3`, {glue:text}`ch2_ff_coef_ff_k7`,
# {glue:text}`ch2_ff_coef_ff_k12` with Fourier features: the embedding's gain is in learning the high target
# frequencies. Of its remaining test MSE, {glue:text}`ch2_ff_test_ff`, the part off the target frequencies is
# {glue:text}`ch2_ff_off_target_ff`; the rest is what is still unlearned of the target coefficients.
# The seeds are not alike: seed {glue:text}`ch2_out_seed` has test MSE {glue:text}`ch2_out_test:.3g` and an error
# of amplitude {glue:text}`ch2_out_k12:.3g` at $k = 12$, the others at most {glue:text}`ch2_others_test_max:.3g`
# and {glue:text}`ch2_others_k12_max:.3g`; {glue:text}`ch2_out_predicted` exact kernel leaves a fraction
# {glue:text}`ch2_out_unlearned:.3g` of a target coefficient unlearned, the others' at most
# {glue:text}`ch2_others_unlearned_max:.3g`. Which integer frequencies a draw of $B$ contains decides how large
# the kernel's eigenvalue at $k = 12$ is.
#
# In the $\sigma$ sweep the largest $\eta\lambda_{\max}$ of any empirical kernel is
# {glue:text}`ch2_ff_eta_lmax_emp:.2f` at initialization and {glue:text}`ch2_ff_eta_lmax_end:.2f` at the end of
# training, inside the stable range ($<2$).
#
# **Too small $\sigma$: under-training.** With $\sigma =$ {glue:text}`ch2_sigma_lo` the features hardly vary,
# the target's high frequencies sit in tiny eigenvalues, and the kernel predicts that a fraction
# {glue:text}`ch2_sigma_lo_unlearned` of some target coefficient is still unlearned at the end: the net is
# **under-trained**, not "redundant" (train MSE {glue:text}`ch2_sigma_lo_train`). The unlearned fraction drops
# below 0.1 from $\sigma =$ {glue:text}`ch2_sigma_learn_start`. Here the network does worse than its kernel: test
# MSE {glue:text}`ch2_lo_test` against {glue:text}`ch2_lo_kernel_test` for the kernel's prediction from
# $f_0 = 0$. The network's random start $f_0$ does not explain the gap. Its size varies between seeds (mean
# square on the test points from {glue:text}`ch2_lo_f0_min:.3g` to {glue:text}`ch2_lo_f0_max:.3g`), but the linearized model
# started from the network's own $f_0$ gives {glue:text}`ch2_lo_kernel_test_f0` with the exact kernel (what
# $f_0$ adds is trained away along the large eigenvalues) and {glue:text}`ch2_lo_lin_emp_test` with the network's empirical kernel at initialization
# (circle embedding: network {glue:text}`ch2_base_test`, linearized from its $f_0$
# {glue:text}`ch2_base_kernel_test_f0` and {glue:text}`ch2_base_lin_emp_test`). The extra error sits on the target
# coefficients: at $k = 3$ the network's error has amplitude {glue:text}`ch2_lo_coef_net_k3` against
# {glue:text}`ch2_lo_coef_lin_k3` for its linearization, at $k = 7$ {glue:text}`ch2_lo_coef_net_k7` against
# {glue:text}`ch2_lo_coef_lin_k7` (larger for the network {glue:text}`ch2_lo_slower`). So the network learns
# the target modes more slowly than its kernel, as in section 2.2. These modes have eigenvalues of at most
# {glue:text}`ch2_lo_lam_target` $\lambda_{\max}$, while the empirical kernel moves during training by
# {glue:text}`ch2_lo_move` $\lambda_{\max}$ (operator norm), far more than their eigenvalues: nothing guarantees
# that the constant-kernel prediction holds for these modes at this width (section 2.2). Which change of the
# kernel slows them is not measured here.
#
# **Too large $\sigma$: aliasing.** The bandwidth equals the grid spacing at $\sigma_c =$
# {glue:text}`ch2_sigma_c:.1f`. The kernel's alias fraction (on a grid of {glue:text}`ch2_alias_grid` points for
# the largest $\sigma$, unchanged to $10^{-3}$ on twice as many: {glue:text}`ch2_alias_grid_ok`) is
# {glue:text}`ch2_alias_base:.3f` for the circle embedding and at most {glue:text}`ch2_alias_below_max:.3f` for
# $\sigma < \sigma_c$ (it is {glue:text}`ch2_alias_lo:.3f` at $\sigma =$ {glue:text}`ch2_sigma_lo`, where it means
# nothing, since the network is far from its interpolant); beyond $\sigma_c$, from $\sigma =$
# {glue:text}`ch2_alias_above_sigma`, it is at least {glue:text}`ch2_alias_above_min:.3f`,
# {glue:text}`ch2_alias_split`, and reaches {glue:text}`ch2_sigma_hi_aliased` at $\sigma =$
# {glue:text}`ch2_sigma_hi`: the training points are fitted (train MSE {glue:text}`ch2_sigma_hi_train`) but the
# test MSE is {glue:text}`ch2_sigma_hi_test`. The failure at large $\sigma$ is aliasing: the kernel has so much
# power above the grid's Nyquist frequency that its interpolant between samples is made of the wrong
# frequencies.
#
# So the kernel places the useful range between $\sigma =$ {glue:text}`ch2_sigma_learn_start` (training converges
# on the targets) and $\sigma_c$ (aliasing starts), and the best $\sigma$ of the sweep, {glue:text}`ch2_sigma_best`
# (test MSE {glue:text}`ch2_sigma_best_test`), is {glue:text}`ch2_window_sentence`. The kernel's predicted test
# MSE is lowest {glue:text}`ch2_same_best`, and where the kernel says training has converged the network's test
# MSE is between {glue:text}`ch2_nk_ratio_min:.2f` and {glue:text}`ch2_nk_ratio_max:.2f` times the kernel's:
# the same order and the same shape, not the same values. Both failure modes are properties of the kernel.
#
# ## 2.5 The papers' claims, checked
#
# | claim | source | here | verdict |
# |---|---|---|---|
# | each eigen-direction of the residual decays at its own rate $\lambda_i$; small-eigenvalue directions are "effectively not learned within a finite training budget" | EE-556 {cite}`ee556ntk` (stated for any kernel; the note does not mention frequencies) | §2.2 (network vs. the kernel's mode-by-mode prediction), §2.4 (small $\sigma$) | **refined**: the network fits modes in the kernel's order but more slowly than its kernel on small-$\lambda$ modes (§2.2 ratio {glue:text}`ch2_ratio_hi_big` at $k =$ {glue:text}`ch2_K`); at small $\sigma$ the linearization from the network's own $f_0$ learns the target modes faster than the network |
# | on the circle the NTK's eigenvectors are harmonics and its eigenvalues decay with frequency; time to fit grows like $k^2$; a bias removes the odd zeros | Basri et al. {cite}`basri2019convergence,basri2020frequency` | §2.1 (operator exponent {glue:text}`ch2_decay_op_large_L3:.3f` for $k\in[64,256]$; odd zeros at depth 2, filled by a bias), §2.2 (networks, $k = 2, \dots,$ {glue:text}`ch2_K`) | **refined** (regime): harmonics, decay and the odd zeros as stated; $k^2$ is the large-$k$ asymptote of the time to fit; at the small $k$ tested {glue:text}`ch2_tslope_phrase`: exponent {glue:text}`ch2_tslope_meas` (95 % interval over seeds), predicted {glue:text}`ch2_tslope_pred:.2f` from the grid's spectrum, which is steeper there than $k^{-2}$ (exponent {glue:text}`ch2_lam_slope_fit:.2f`); networks at large $k$ not tested |
# | "the NTK kernel is the same regardless of depth (for appropriate initialization) [...] NTK theory predicts no benefit to depth" | EE-556 | §2.1 (spectra at depths 2 to {glue:text}`ch2_depth_last`) | **false (as stated)** for the kernel, which changes with depth ($\mu_1/\mu_{10}$ from {glue:text}`ch2_mu1_mu10_L2:.0f` at depth 2 to {glue:text}`ch2_mu1_mu10_L6:.0f` at depth 6: depth flattens the spectrum at small $k$); what holds: the asymptotic decay $k^{-2}$, hence the RKHS, is the same at every depth {cite}`bietti2021deep`; "no benefit to depth" (generalization) is not tested here, so it gets no verdict |
# | after training for time $t$ the NTK "performs spectral filtering" and "implicitly regularizes" | EE-556 | §2.3 (filter $1-e^{-\lambda t}$; formula vs. Monte Carlo; best stopping time; oracle filter) | confirmed; the best stopping time reaches risk {glue:text}`ch2_risk_es:.4f` against the oracle filter's {glue:text}`ch2_risk_oracle:.4f`; a soft filter, not a cut-off: it passes the modes with more signal than noise with factors $1-e^{-\lambda_i t^*}$ from {glue:text}`ch2_phi_sig_min:.2f` to {glue:text}`ch2_phi_sig_max:.3f`, the noise-dominated ones with at most {glue:text}`ch2_phi_noise_max:.2f` |
# | Fourier features "enrich the NTK spectrum" and reduce spectral bias | summary `000` of {cite}`ntkecrn2025`, Mechanism 1 (the summary suggests the sum-of-sines ablation; frequencies and sizes here are ours) | §2.4, periodic set-up, exact and empirical kernels, {glue:text}`ch2_ff_seeds` seeds | confirmed: high-band test MSE {glue:text}`ch2_ff_high_base` vs {glue:text}`ch2_ff_high_ff` (geometric means), gain at the high target frequencies; {glue:text}`ch2_out_short` |
# | badly scaled $B$ fails: too low is redundant, too high is noise | summary `000`, Mechanism 1 break condition | §2.4 $\sigma$ sweep over seeds, with the exact kernel's diagnostics | **refined**: too low is under-training (small eigenvalues at the target frequencies), too high is aliasing, past $\sigma_c = N/(2\pi) =$ {glue:text}`ch2_sigma_c:.1f` where the bandwidth $1/(2\pi\sigma)$ equals the grid spacing; both placed by the kernel |
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch2-parity
# Show that the two-layer ($L = 2$) bias-free ReLU NTK on the circle has zero eigenvalue for every odd
# frequency $k \ge 3$. Hint: write $\Theta^{(2)}$ with the closed forms of Chapter 1 §1.4 as a function
# of $\rho = \cos(\vartheta-\vartheta')$, using $\pi - \arccos\rho = \tfrac\pi2 + \arcsin\rho$.
# ```
#
# ````{solution} ex-ch2-parity
# :class: dropdown
# With $\rho = \cos\delta$, $\delta = \vartheta - \vartheta'$, $n_0 = 2$, $w = 1$, $b = 0$:
# $\Sigma^{(1)} = \Theta^{(1)} = \rho/2$, $\dot\Sigma^{(2)} = (\pi - \arccos\rho)/(2\pi)$ and
# $\Sigma^{(2)} = \big(\sqrt{1-\rho^2} + (\pi - \arccos\rho)\rho\big)/(4\pi)$, so
#
# $$
# \Theta^{(2)} = \dot\Sigma^{(2)}\Theta^{(1)} + \Sigma^{(2)} = \frac\rho4 + \frac{2\rho\arcsin\rho + \sqrt{1-\rho^2}}{4\pi}.
# $$
#
# (At $\rho = 1$ this is $\tfrac12 = L/(n_0 2^{L-1})$, as it should be.) The first term is $\cos\delta/4$:
# frequency 1 only. The second is an even function of $\rho$, hence unchanged by $\delta\mapsto\delta+\pi$
# (which maps $\rho\mapsto-\rho$): it is $\pi$-periodic and its Fourier series has only even
# frequencies. So every odd coefficient from $k = 3$ on vanishes. Check:
#
# ```python
# print(mu[2][1:12])   # every odd entry from k = 3 on is zero up to rounding
# ```
# ````
#
# ```{exercise}
# :label: ex-ch2-tstar
# In section 2.3 the best stopping time falls as the noise grows. Recompute $t^*$ with
# `expected_risk` for $s \in \{0.1, 0.25, 0.5, 1\}$ and explain the trend with the filter.
# ```
#
# ````{solution} ex-ch2-tstar
# :class: dropdown
# ```python
# for s in (0.1, 0.25, 0.5, 1.0):
#     r = expected_risk(lam_n, vec_n, fs_train, noise_std=s, t=times_n)
#     print(s, float(times_n[int(r.argmin())]))
# ```
# More noise means fewer modes with $c_i^2 > s^2$, so the cut-off eigenvalue $\approx 1/t^*$ must rise:
# the filter should close earlier.
# ````
#
# ```{exercise}
# :label: ex-ch2-bandwidth
# For the Fourier features with $\sigma$, show that $\mathbb E_B[\varphi(x)^\top\varphi(x')] =
# m\,e^{-2\pi^2\sigma^2\lVert x - x'\rVert^2}$, and use it to explain why $\sigma$ far above the sampling
# rate makes the kernel matrix nearly diagonal.
# ```
#
# ````{solution} ex-ch2-bandwidth
# :class: dropdown
# $\sin a\sin a' + \cos a\cos a' = \cos(a - a')$ with $a - a' = 2\pi b^\top(x-x')$, and for
# $b\sim\mathcal N(0,\sigma^2 I)$, $\mathbb E\cos(2\pi b^\top\delta) = e^{-2\pi^2\sigma^2\lVert\delta\rVert^2}$ (the
# characteristic function of a Gaussian). Neighbouring training points are $1/64$ apart; for
# $\sigma = 128$ the factor is $e^{-2\pi^2 \cdot 4} \approx 10^{-34}$: the embedded points are
# orthogonal, the network's kernel is nearly $cI$ plus a constant, and between training points it
# predicts little more than the mean.
# ````
