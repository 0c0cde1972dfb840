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

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "ntk_lib @ git+https://github.com/ntk-course/ntk-course@main"], check=True)

# %% [markdown]
# # 2. Spectral bias: every mode learns at its own rate
#
# Chapter 1 solved the gradient-flow ODE $\dot f = -\Theta(f - y)$ in the eigenbasis of the kernel:
# the component of the residual along the eigenvector $v_i$ decays like $e^{-\lambda_i t}$. This
# chapter takes that sentence seriously. On the circle the eigenvectors of the NTK are Fourier
# harmonics and the eigenvalues fall with frequency, so a network learns low frequencies first:
# **spectral bias** {cite}`ee556ntk`. We
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
from ntk_lib.analytic import relu_ntk
from ntk_lib.data import circle, sum_of_sines, unit_interval
from ntk_lib.dynamics import gradient_descent, gradient_flow, kernel_regression
from ntk_lib.empirical import empirical_ntk
from ntk_lib.fit import loglog_slope, mean_interval, paired_interval, slope_interval
from ntk_lib.models import MLP, FourierFeatures
from ntk_lib.notebook import glue, setup
from ntk_lib.periodic import alias_fraction, fourier_coefficients, oracle_filter_risk
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
cfg = run.pick(
    {
        "smoke": dict(grid=64, depths=[2, 3], n_circle=16, width=128, fit_width=128, fit_seeds=2, K=3, amps=[1.0], noise_n=24, draws=20, noise_steps=200, ff_width=64, ff_steps=150, sigmas=[1.0, 8.0, 64.0], ff_seeds=2),
        "book": dict(grid=256, depths=[2, 3, 4, 6], n_circle=32, width=1024, fit_width=512, fit_seeds=3, K=6, amps=[1.0, 0.1], noise_n=64, draws=400, noise_steps=1500, ff_width=256, ff_steps=1500, sigmas=[0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0], ff_seeds=4),
        "paper": dict(grid=1024, depths=[2, 3, 4, 6, 10], n_circle=64, width=8192, fit_width=8192, fit_seeds=8, K=12, amps=[1.0, 0.1, 0.01], noise_n=128, draws=2000, noise_steps=6000, ff_width=2048, ff_steps=4000, sigmas=[0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0], ff_seeds=8),
    }
)
print(f"scale {run.scale}: circle grid {cfg['n_circle']}, width {cfg['width']}, frequencies 1..{cfg['K']}")

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
glue("ch2_eig_err", eig_err)
print(f"max |eigh eigenvalue - DFT eigenvalue of its harmonic| / lambda_max: {eig_err:.1e}")
print("frequency of the top 9 eigenvectors:", freq_of_vec[:9].tolist())

ks = np.arange(len(mu[cfg["depths"][0]]))
even = (ks >= 4) & (ks <= cfg["grid"] // 8) & (ks % 2 == 0)
slopes = {L: loglog_slope(ks[even], mu[L].numpy()[even])[0] for L in cfg["depths"]}
# the integral operator's eigenvalues, from a grid fine enough that aliases k + m*FINE are negligible
FINE = 8192
_, x_fine = circle(FINE, random=False)
mu_op = {L: circulant_eigenvalues(relu_ntk(x_fine[:1], x_fine, depth=L)[0]) / FINE for L in cfg["depths"]}
kf = np.arange(len(mu_op[cfg["depths"][0]]))
small_k = (kf >= 4) & (kf <= cfg["grid"] // 8) & (kf % 2 == 0)
large_k = (kf >= 64) & (kf <= 256) & (kf % 2 == 0)
slopes_op_small = {L: loglog_slope(kf[small_k], mu_op[L].numpy()[small_k])[0] for L in cfg["depths"]}
slopes_op_large = {L: loglog_slope(kf[large_k], mu_op[L].numpy()[large_k])[0] for L in cfg["depths"]}
odd_d2 = float(np.abs(mu[2].numpy()[3::2]).max() / float(mu[2][1]))  # odd k >= 3 at depth 2
for L in cfg["depths"]:
    glue(f"ch2_decay_L{L}", slopes[L])
    glue(f"ch2_decay_op_small_L{L}", slopes_op_small[L])
    glue(f"ch2_decay_op_large_L{L}", slopes_op_large[L])
    glue(f"ch2_mu1_mu10_L{L}", float(mu_op[L][1] / mu_op[L][10]))
    print(f"depth {L}: slope over even k in [4, {cfg['grid'] // 8}]: grid of {cfg['grid']} {slopes[L]:.2f}, operator {slopes_op_small[L]:.2f};"
          f" operator over even k in [64, 256] {slopes_op_large[L]:.3f}; mu_1/mu_10 = {float(mu_op[L][1] / mu_op[L][10]):.0f}")
glue("ch2_odd_d2", odd_d2)
glue("ch2_kfit", cfg["grid"] // 8)
glue("ch2_grid", cfg["grid"])
glue("ch2_n_circle", cfg["n_circle"])
glue("ch2_depth_last", cfg["depths"][-1])
print(f"depth 2: largest |mu_k| over odd k >= 3, relative to mu_1: {odd_d2:.1e}")

# a bias fills the odd zeros (Basri et al.): depth 2 with bias variance 0.1
mu_bias = circulant_eigenvalues(relu_ntk(x_fine[:1], x_fine, depth=2, bias_var=0.1)[0]) / FINE
glue("ch2_bias_mu3", float(mu_bias[3] / mu_bias[1]))
glue("ch2_bias_mu5", float(mu_bias[5] / mu_bias[1]))
print(f"depth 2, bias variance 0.1: mu_3/mu_1 = {float(mu_bias[3] / mu_bias[1]):.3f}, mu_5/mu_1 = {float(mu_bias[5] / mu_bias[1]):.4f}")

# at depth 2 the zero eigenvalue is shared by every odd harmonic k >= 3: eigh returns some basis of that space
lam_d2, vec_d2 = eigh_descending(relu_ntk(x_c, depth=2))
zero = lam_d2 < 1e-10 * lam_d2[0]
odd_power = torch.fft.rfft(vec_d2[:, zero], dim=0).abs() ** 2
n_odd = len(range(3, cfg["n_circle"] // 2, 2))
in_odd = float((odd_power[3::2].sum(0) / odd_power.sum(0)).min()) if bool(zero.any()) else float("nan")
spread = float((odd_power.max(0).values / odd_power.sum(0)).min()) if bool(zero.any()) else float("nan")
glue("ch2_zero_dim", int(zero.sum()))
glue("ch2_zero_expected", 2 * n_odd)
glue("ch2_zero_in_odd", in_odd)
glue("ch2_zero_spread", spread)
print(f"depth 2 on {cfg['n_circle']} points: {int(zero.sum())} zero eigenvalues (2 x {n_odd} odd harmonics k >= 3);"
      f" their eigenvectors lie in the odd harmonics to {1 - in_odd:.1e}; the least concentrated puts {spread:.2f} of its energy on one frequency")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Eigenvalues of the analytic NTK on the circle against frequency, for several depths (log-log). Filled markers: even frequencies, open markers: odd ones. The dashed line has slope -2. At depth 2 the odd frequencies k >= 3 have eigenvalue zero (not drawn).", "name": "fig-ch2-spectrum"}}
fig, ax = plt.subplots(figsize=(6.4, 4.0))
cmap = plt.get_cmap("viridis")
kmax = cfg["grid"] // 4
for i, L in enumerate(cfg["depths"]):
    c = cmap(i / max(len(cfg["depths"]) - 1, 1))
    m = mu[L].numpy()
    sel_e = (ks >= 1) & (ks <= kmax) & (ks % 2 == 0)
    sel_o = (ks >= 1) & (ks <= kmax) & (ks % 2 == 1) & (m > 1e-12 * m[1])
    ax.loglog(ks[sel_e], m[sel_e], "o-", ms=3, lw=1, color=c, label=f"depth {L}")
    ax.loglog(ks[sel_o], m[sel_o], "o", ms=4, mfc="none", color=c)
ref = mu[cfg["depths"][-1]].numpy()[2] * (ks[2 : kmax + 1] / 2.0) ** -2.0
ax.loglog(ks[2 : kmax + 1], ref, "k--", lw=1, label=r"$\propto k^{-2}$")
ax.set_xlabel("frequency $k$")
ax.set_ylabel(r"eigenvalue $\mu_k$ of $\Theta_\infty$")
ax.set_title("the NTK's spectrum on the circle")
ax.legend()
plt.show()

# %% [markdown]
# The dense eigendecomposition and the Fourier formula agree to {glue:text}`ch2_eig_err:.1e`
# (relative to $\lambda_{\max}$), and every eigenvector is a single harmonic. This is the set-up of
# Basri et al. {cite}`basri2019convergence,basri2020frequency`, who derived the NTK's eigenvalues on the
# circle and measured time to fit growing like $k^2$; the following re-derives their observations.
#
# * **The eigenvalues fall like a power of the frequency.** The operator's eigenvalues (computed on a grid
#   of 8192 points, where aliasing is negligible) fall over even $k$ from 64 to 256 with exponent
#   {glue:text}`ch2_decay_op_large_L2:.3f` at depth 2 and {glue:text}`ch2_decay_op_large_L3:.3f` at depth 3
#   ({glue:text}`ch2_decay_op_large_L6:.3f` at depth 6): the $k^{-d}$ law for ReLU NTKs on $S^{d-1}$ with
#   $d = 2$ {cite}`bietti2019inductive`. A frequency-10 harmonic is learned $\mu_1/\mu_{10} =$
#   {glue:text}`ch2_mu1_mu10_L2:.0f`, {glue:text}`ch2_mu1_mu10_L3:.0f`, {glue:text}`ch2_mu1_mu10_L4:.0f` and
#   {glue:text}`ch2_mu1_mu10_L6:.0f` times more slowly than a frequency-1 one at depths 2, 3, 4 and 6.
# * **Parity.** At depth 2 without bias the odd frequencies $k \ge 3$ have eigenvalue zero (largest
#   relative value {glue:text}`ch2_odd_d2:.1e`, rounding; {numref}`ex-ch2-parity` proves it): they are never
#   learned. A bias fills them in {cite}`basri2019convergence`: with bias variance 0.1 at depth 2,
#   $\mu_3/\mu_1 =$ {glue:text}`ch2_bias_mu3:.3f` and $\mu_5/\mu_1 =$ {glue:text}`ch2_bias_mu5:.4f`. Depth
#   fills them too, but the odd frequencies stay below their even neighbours.
# * **The zero eigenspace is degenerate.** On the {glue:text}`ch2_n_circle`-point grid the depth-2 kernel has
#   {glue:text}`ch2_zero_dim` zero eigenvalues, one for each $\cos k\vartheta$ and $\sin k\vartheta$ with odd
#   $k\ge 3$ ({glue:text}`ch2_zero_expected` of them). Any orthonormal basis of that space is an eigenbasis, and
#   `eigh` returns arbitrary mixtures of odd harmonics (the least concentrated of its vectors has only
#   {glue:text}`ch2_zero_spread:.2f` of its energy on one frequency): "the eigenvector's frequency" is not
#   defined there, only the space is.
# * **Depth flattens the spectrum only at small $k$.** Over even $k$ from 4 to {glue:text}`ch2_kfit` the
#   operator's exponent is {glue:text}`ch2_decay_op_small_L2:.2f` at depth 2 and
#   {glue:text}`ch2_decay_op_small_L6:.2f` at depth 6, but asymptotically every depth decays like $k^{-2}$ (the
#   exponents over $k\in[64, 256]$ above): depth changes the constants, not the rate, as Bietti & Bach
#   {cite}`bietti2021deep` prove for ReLU NTKs. The curves are normalized differently, since
#   $\Theta^{(L)}(x,x) = L/(n_0 2^{L-1})$; compare slopes, not heights.
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
# might. Intervals are 95 % intervals over seeds.

# %%
glue("ch2_width", cfg["width"])
glue("ch2_fit_width", cfg["fit_width"])
Xc = x_c.to(dev, torch.float32)
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
    net = MLP(2, cfg["fit_width"], 3, seed=SEED + k + 100 * r).to(dev)  # same seeds for both amplitudes: paired
    hist = train_gd(net, Xc, y.to(dev, torch.float32), lr=eta, steps=steps_fit, record=record, ntk_at=ntk_steps, progress=False)
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
glue("ch2_ratio_hi_big", str(mean_interval(ratio[a_big][:, -1])))
glue("ch2_ratio_hi_small", str(mean_interval(ratio[a_small][:, -1])))
glue("ch2_ratio_lo_big", str(mean_interval(ratio[a_big][:, 1])))
glue("ch2_ratio_hi_diff", str(paired_interval(ratio[a_big][:, -1], ratio[a_small][:, -1])))
glue("ch2_K", kk)
glue("ch2_amp_small", a_small)
# largest dip of the eigenvalue along sin(K theta) during training, per seed
rq_drop = {a: np.array([1 - min(fits[(a, kk, r)][2]) / fits[(a, kk, r)][2][0] for r in seeds_fit]) for a in cfg["amps"]}
glue("ch2_rq_drop_big", str(mean_interval(rq_drop[a_big])))
glue("ch2_rq_drop_small", str(mean_interval(rq_drop[a_small])))
pred_slope = loglog_slope(np.array(freqs[1:], float), t_pred.numpy()[1:])[0]
meas_slope = slope_interval(np.array(freqs[1:], float), t_meas[a_small][:, 1:])
glue("ch2_tslope_pred", pred_slope)
glue("ch2_tslope_meas", str(meas_slope))
print(f"largest dip of the eigenvalue along sin({kk} theta) during training: {mean_interval(rq_drop[a_big])} (A={a_big}), {mean_interval(rq_drop[a_small])} (A={a_small})")
print(f"time-to-fit growth with k: predicted k^{pred_slope:.2f}, measured (A={a_small}) exponent {meas_slope}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: the residual along sin(k theta), relative to its start, for each frequency (solid: network with the smallest amplitude; dashed: the kernel's prediction). Right: time to fit to 10%, measured on the network against the kernel's prediction, for two target amplitudes; the diagonal is perfect agreement.", "name": "fig-ch2-bias"}}
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
# **What it shows.** Low frequencies are fitted first, in the kernel's order up to near-ties (at depth 3
# the odd frequencies sit below their even neighbours, so e.g. $\lambda_5 \approx \lambda_6$, and such
# pairs can swap). Fitted as powers of $k$ over $k = 2, \dots,$ {glue:text}`ch2_K`, the measured times grow
# with exponent {glue:text}`ch2_tslope_meas` (amplitude {glue:text}`ch2_amp_small`), the
# predicted ones with {glue:text}`ch2_tslope_pred:.2f`. That is steeper than the $k^{2}$ one would read off
# the asymptotic $\mu_k\propto k^{-2}$ of section 2.1, and not a contradiction: at these small $k$ the
# spectrum is steeper than its asymptote (exponent {glue:text}`ch2_decay_op_small_L3:.2f` over even
# $k\in[4,$ {glue:text}`ch2_kfit`$]$ at depth 3) and the fit mixes even frequencies with the lower odd ones.
# The predicted times are $\ln 10/\lambda_k$ by construction; only the network's times are data. And the
# network is **slower than its kernel at high frequency**: at $k =$ {glue:text}`ch2_K` it needs
# {glue:text}`ch2_ratio_hi_big` times the predicted time with $A = 1$ and {glue:text}`ch2_ratio_hi_small` times
# with the smaller amplitude (paired difference {glue:text}`ch2_ratio_hi_diff`), while at $k=2$ the ratio is
# {glue:text}`ch2_ratio_lo_big` with $A = 1$.
#
# Why? In the linearized model the parameters travel $\lVert\theta_\infty - \theta_0\rVert^2 =
# r_0^\top\Theta^{-1}r_0 \approx A^2\lVert\sin k\vartheta\rVert^2/\lambda_k$: fitting a
# weakly-represented (small-$\lambda$) function needs a long trip in parameter space, and the
# kernel moves along the way. The eigenvalue along $u = \sin(k\vartheta)/\lVert\cdot\rVert$ itself,
# $u^\top\Theta_t u$ (checked at ten times during training, $k =$ {glue:text}`ch2_K`), dips by up to a
# fraction {glue:text}`ch2_rq_drop_big` of its initial value with $A = 1$ and {glue:text}`ch2_rq_drop_small`
# with the smaller amplitude. The NTK's constancy is a statement
# about $\lVert\Theta_t - \Theta_0\rVert$ relative to $\lVert\Theta_0\rVert$, which is dominated by the
# largest eigenvalues; the small eigenvalues, which set the slow modes, can move by a large
# *relative* amount at widths where the kernel as a whole barely moves. Spectral bias in a finite
# network is therefore at least as strong as the kernel predicts, and stronger for large targets.
#
# ## 2.3 Early stopping is a spectral filter
#
# Started from $f_0 = 0$, gradient flow gives $f_t(X) = \sum_i \varphi_i(t)\,(v_i^\top y)\,v_i$ with the
# **filter** $\varphi_i(t) = 1 - e^{-\lambda_i t}$ ({func}`ntk_lib.spectral.spectral_filter`): modes with
# $\lambda_i t \gg 1$ are fitted, modes with $\lambda_i t \ll 1$ are not yet touched. Stopping at
# $t$ is a soft low-pass filter with cut-off $\lambda \approx 1/t$. With noisy labels
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
worth = int((signal > noise_std**2).sum())
passed = int((lam_n * t_star > 1).sum())
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
glue("ch2_passed", passed)
oracle = oracle_filter_risk(mode_coefficients(vec_n, fs_train), noise_std)
glue("ch2_risk_es", float(risk_formula.min()))
glue("ch2_risk_oracle", oracle)
glue("ch2_risk_interp", float(risk_formula[-1]))
print(f"in-sample risk: best early stopping {float(risk_formula.min()):.4f}, oracle filter c^2/(c^2+s^2) {oracle:.4f}, t = {float(times_n[-1]):.0e}: {float(risk_formula[-1]):.4f}")
print(f"formula vs Monte Carlo ({cfg['draws']} noise draws): max relative gap {mc_err:.3f}")
print(f"best stopping time: t* = {t_star:.3g} (in-sample formula), {float(times_n[j_star]):.3g} (test error, Monte Carlo)")
print(f"test MSE at the best time {float(test_mc[j_star]):.4f} vs at interpolation {test_interp:.4f}")
print(f"modes with signal c_i^2 > s^2: {worth}; modes with lambda_i t* > 1: {passed}")

# %% [markdown]
# A real network on one noisy draw, against the closed-form flow with its own $f_0$ and the
# analytic kernel: both test curves should turn up at the same time.

# %%
Xn = x_n.to(dev, torch.float32)
Xd = x_dense.to(dev, torch.float32)
y_one = y_noisy[:, 0]
net_n = MLP(2, cfg["width"], 3, seed=SEED + 3).to(dev)
with torch.no_grad():
    f0_n, f0_d = net_n(Xn).double().cpu(), net_n(Xd).double().cpu()
eta_n = 1.0 / float(lam_n[0])
hist_n = train_gd(net_n, Xn, y_one.to(dev, torch.float32), lr=eta_n, steps=cfg["noise_steps"], x_test=Xd, desc="noisy labels")
net_test_err = ((hist_n.test_pred.double().cpu() - fs_dense) ** 2).mean(1).numpy()
flow_one = gradient_flow(k_n, y_one, t=hist_n.times, f0_train=f0_n, k_test_train=k_dn, f0_test=f0_d)
flow_one_err = ((flow_one.test - fs_dense) ** 2).mean(1).numpy()
i_net = int(np.argmin(net_test_err))
glue("ch2_t_net", float(hist_n.times[i_net]))
glue("ch2_t_flow_one", float(hist_n.times[int(np.argmin(flow_one_err))]))
glue("ch2_net_best", float(net_test_err[i_net]))
glue("ch2_net_end", float(net_test_err[-1]))
print(f"network: best test MSE {net_test_err[i_net]:.4f} at t = {hist_n.times[i_net]:.3g}; at the end (t = {hist_n.times[-1]:.3g}) {net_test_err[-1]:.4f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: the filter 1 - exp(-lambda t) against the eigenvalue at four times; dots mark the eigenvalues of the training kernel, dark ones where the target's signal exceeds the noise. Right: error against the clean target over training time; the formula (line) and Monte Carlo over noise draws (dots) for the in-sample error; the test error averaged over draws; one network and its kernel flow.", "name": "fig-ch2-filter"}}
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
# {glue:text}`ch2_test_interp:.4f` for the interpolating solution. The spectrum explains the
# stopping time: of the {glue:text}`ch2_noise_n` modes, {glue:text}`ch2_worth` carry more signal than
# noise, and at $t^*$ the filter has passed ($\lambda_i t^* > 1$) {glue:text}`ch2_passed` of them.
# Early stopping is a filter with one knob, $t$; the best filter on the same eigenbasis, which knows the
# signal, uses the gains $c_i^2/(c_i^2+s^2)$ ({func}`ntk_lib.periodic.oracle_filter_risk`): its in-sample
# risk is {glue:text}`ch2_risk_oracle:.4f` against {glue:text}`ch2_risk_es:.4f` for the best stopping time and
# {glue:text}`ch2_risk_interp:.4f` at the last time on the grid. Most of the gain over interpolation is
# reached by the one-knob filter.
#
# The single network (one seed, one noise draw) shows the same rise of the test error, but not at the
# same time as its kernel flow: its best test MSE is {glue:text}`ch2_net_best:.4f` at
# $t=$ {glue:text}`ch2_t_net:.3g`, while the flow with $\Theta_\infty$ from the same $f_0$ is best at
# $t=$ {glue:text}`ch2_t_flow_one:.3g`; by the end of training the network's test MSE has risen to
# {glue:text}`ch2_net_end:.4f` as it fits the noise. The kernel predicts the shape of the curve; the network
# at this width is slower on the small-eigenvalue modes (section 2.2), which shifts its optimum.
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
# network of section 2.1. Each net is trained with $\eta = 1/\lambda_{\max}$ of its exact kernel on the
# training points, for the same number of steps, over several seeds; we report the test MSE on the band
# $k\ge 5$ (by Parseval, exact on a periodic grid) and the error of each target coefficient.

# %%
N_TR, M_TEST, M_FEAT = 64, 512, 128
x_ff = unit_interval(N_TR)
x_ff_test = (torch.arange(M_TEST, dtype=torch.float64)[:, None] + 0.5) / M_TEST
x_ff_fine = unit_interval(M_TEST)  # for the kernel's eigenvalues by frequency
ff_freqs = [1, 3, 7, 12]
K_HIGH = 5
y_ff, y_ff_test = sum_of_sines(x_ff, ff_freqs), sum_of_sines(x_ff_test, ff_freqs)
Xf, Xft, Yf = (t.to(dev, torch.float32) for t in (x_ff, x_ff_test, y_ff))


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


def train_ff(sigma, seed, record=None):
    ff = embedding(sigma, seed)
    net = torch.nn.Sequential(ff, MLP(ff.out_features, cfg["ff_width"], 3, bias_var=1.0, seed=seed)).to(dev)
    k_ex, k_ex_test = exact_ntk(ff, x_ff), exact_ntk(ff, x_ff_test, x_ff)
    lam_ex = eigh_descending(k_ex)[0]
    k_emp = empirical_ntk(net, Xf).double().cpu()
    lr_ff = 1.0 / float(lam_ex[0])
    hist = train_gd(net, Xf, Yf, lr=lr_ff, steps=cfg["ff_steps"], record=record or [cfg["ff_steps"]], x_test=Xft, progress=False)
    err = hist.test_pred.double().cpu() - y_ff_test  # [R, m]
    # the kernel's own prediction: the linearized infinite-width net from f0 = 0, same steps
    lin = gradient_descent(k_ex, y_ff, steps=[cfg["ff_steps"]], lr=lr_ff, k_test_train=k_ex_test)
    lam_grid = circulant_eigenvalues(k_ex[0])  # eigenvalue of each frequency on the 64 training points
    mu_fine = circulant_eigenvalues(exact_ntk(ff, x_ff_fine[:1], x_ff_fine)[0]) / M_TEST
    coef_err = 2 * fourier_coefficients(err[-1], ff_freqs).abs()  # amplitude of the error at each target frequency
    mse = float((err[-1] ** 2).mean())
    return dict(
        lam=lam_ex, lam_emp=eigh_descending(k_emp)[0], hist=hist, err=err,
        emp_vs_exact=float((k_emp - k_ex).norm() / k_ex.norm()), eta_lmax_emp=lr_ff * float(eigh_descending(k_emp)[0][0]),
        stationary=float((k_ex - torch.stack([torch.roll(k_ex[0], i) for i in range(N_TR)])).abs().max() / k_ex.abs().max()),
        train=float(((hist.train_pred[-1].double().cpu() - y_ff) ** 2).mean()), test=mse,
        high=float(band_power(err[-1], K_HIGH)), coef_err=coef_err.numpy(),
        off_target=max(mse - float((coef_err**2).sum() / 2), 0.0),
        kernel_test=float(((lin.test[-1] - y_ff_test) ** 2).mean()), kernel_train=float(((lin.train[-1] - y_ff) ** 2).mean()),
        unlearned=float(max(abs(1 - lr_ff * float(lam_grid[k])) ** cfg["ff_steps"] for k in ff_freqs)),
        aliased=float(max(alias_fraction(mu_fine, N_TR, k) for k in ff_freqs)),
    )


SIGMA_DEMO = 8.0
rec_ff = list(range(0, cfg["ff_steps"] + 1, max(1, cfg["ff_steps"] // 100)))
base = train_ff(None, SEED, record=rec_ff)
four = train_ff(SIGMA_DEMO, SEED, record=rec_ff)
glue("ch2_ff_sigma", SIGMA_DEMO)
glue("ch2_ff_stationary", max(base["stationary"], four["stationary"]))
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
glue("ch2_ff_layers_err", layers_err)
print(f"ntk_lib.layers kernel vs relu_ntk of the embedded points (Gaussian B): {layers_err:.1e} (relative)")
print(f"exact kernels: largest deviation from a circulant matrix {max(base['stationary'], four['stationary']):.1e} (relative)")
print(f"empirical vs exact NTK at width {cfg['ff_width']} (relative Frobenius): circle embedding {base['emp_vs_exact']:.3f}, Fourier features {four['emp_vs_exact']:.3f}")
print(f"lambda_1 / lambda_32 of the exact NTK: circle {float(base['lam'][0] / base['lam'][31]):.3g}, Fourier features {float(four['lam'][0] / four['lam'][31]):.3g}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: eigenvalues of the exact NTK (lines) and of the empirical NTK at initialization (dots) on the 64 training points, normalized by the largest, for the MLP on the circle embedding and on Fourier features. Middle: the high-frequency (k >= 5) part of the test error during training. Right: the amplitude of the test error at each target frequency at the end of training.", "name": "fig-ch2-fourier"}}
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
# kernel of the composed network, for a Gaussian $B$, equals `relu_ntk` of the embedded points to
# {glue:text}`ch2_ff_layers_err:.0e`: the two routes are the same formula. The exact kernels are circulant on
# the training grid to {glue:text}`ch2_ff_stationary:.0e` (stationarity),
# and the empirical NTKs at width {glue:text}`ch2_ff_width` are within {glue:text}`ch2_ff_emp_exact_base:.3f` and
# {glue:text}`ch2_ff_emp_exact_ff:.3f` of them (relative Frobenius). With the embedding the spectrum is far
# flatter ($\lambda_1/\lambda_{32}$ falls from {glue:text}`ch2_ff_cond_base:.3g` to {glue:text}`ch2_ff_cond_ff:.3g`),
# so the same number of steps reaches much further down it. The table below gives the errors over seeds.
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
#   wrong frequencies between the samples ({func}`ntk_lib.periodic.alias_fraction`); we report the largest over
#   the targets.

# %%
sweep = {s: [train_ff(s, SEED + i) for i in range(cfg["ff_seeds"])] for s in progress_bar(cfg["sigmas"], desc="sigma sweep")}
base_runs = [train_ff(None, SEED + i) for i in range(cfg["ff_seeds"])]
sig = np.array(cfg["sigmas"])


def over_seeds(key, runs_by_sigma=sweep):
    return [mean_interval([r[key] for r in runs_by_sigma[s]]) for s in cfg["sigmas"]]


stats = {key: over_seeds(key) for key in ("train", "test", "high", "kernel_test", "unlearned", "aliased", "off_target")}
best = int(np.argmin([v.mean for v in stats["test"]]))
glue("ch2_ff_seeds", cfg["ff_seeds"])
glue("ch2_sigma_best", float(sig[best]))
glue("ch2_sigma_best_test", str(stats["test"][best]))
glue("ch2_sigma_lo", float(sig[0]))
glue("ch2_sigma_lo_train", str(stats["train"][0]))
glue("ch2_sigma_lo_unlearned", str(stats["unlearned"][0]))
glue("ch2_sigma_hi", float(sig[-1]))
glue("ch2_sigma_hi_train", str(stats["train"][-1]))
glue("ch2_sigma_hi_test", str(stats["test"][-1]))
glue("ch2_sigma_hi_aliased", str(stats["aliased"][-1]))
alias_ok = [s for s, a in zip(sig, stats["aliased"]) if a.mean < 0.1]
glue("ch2_sigma_alias_start", float(min([s for s in sig if s > max(alias_ok)], default=np.nan)) if alias_ok else float(sig[0]))
learn_ok = [s for s, u in zip(sig, stats["unlearned"]) if u.mean < 0.1]
glue("ch2_sigma_learn_start", float(min(learn_ok)) if learn_ok else float("nan"))
demo = sweep.get(SIGMA_DEMO) or sweep[sig[best]]
for key in ("high", "test", "off_target"):
    glue(f"ch2_ff_{key}_base", str(mean_interval([r[key] for r in base_runs])))
    glue(f"ch2_ff_{key}_ff", str(mean_interval([r[key] for r in demo])))
glue("ch2_ff_high_gain", str(mean_interval([np.log10(b["high"] / f["high"]) for b, f in zip(base_runs, demo)])))
ce_b = np.array([r["coef_err"] for r in base_runs])
ce_f = np.array([r["coef_err"] for r in demo])
for j, k in enumerate(ff_freqs):
    glue(f"ch2_ff_coef_base_k{k}", str(mean_interval(ce_b[:, j])))
    glue(f"ch2_ff_coef_ff_k{k}", str(mean_interval(ce_f[:, j])))
glue("ch2_ff_eta_lmax_emp", max(r["eta_lmax_emp"] for runs in (*sweep.values(), base_runs) for r in runs))
print(f"circle embedding vs Fourier features (sigma = {SIGMA_DEMO:g}), mean [95% interval] over {cfg['ff_seeds']} seeds:")
for key in ("test", "high", "off_target"):
    print(f"  test MSE {key:11s}: circle {mean_interval([r[key] for r in base_runs])}, Fourier {mean_interval([r[key] for r in demo])}")
for j, k in enumerate(ff_freqs):
    print(f"  amplitude of the error at k = {k:2d}: circle {mean_interval(ce_b[:, j])}, Fourier {mean_interval(ce_f[:, j])}")
print("sigma   train MSE   test MSE (network)   test MSE (kernel, f0=0)   unlearned (kernel)   aliased (kernel)")
for i, s in enumerate(sig):
    print(f"{s:6.2f}  {stats['train'][i].mean:9.2e}   {stats['test'][i].mean:9.2e}            {stats['kernel_test'][i].mean:9.2e}"
          f"                 {stats['unlearned'][i].mean:9.2e}            {stats['aliased'][i].mean:9.2e}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: train and test MSE of the network after a fixed number of steps against the scale sigma of the Fourier features (mean and 95% interval over seeds), with the test MSE the exact kernel predicts (linearized infinite-width net from f0 = 0); dotted: the circle embedding. Right: the kernel's two diagnostics, the largest unlearned fraction of a target frequency at the end of training (under-training, small sigma) and the largest fraction of a target coefficient that kernel regression puts on aliases (large sigma).", "name": "fig-ch2-sigma"}}
fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.0), layout="constrained")


def band(ax, key, fmt, color, label):
    m = np.array([v.mean for v in stats[key]])
    lo = np.array([max(v.low, 1e-12) for v in stats[key]])
    hi = np.array([v.high for v in stats[key]])
    ax.loglog(sig, m, fmt, color=color, label=label)
    ax.fill_between(sig, lo, hi, color=color, alpha=0.2)


band(axes[0], "train", "o-", COLORS["inf"], "train MSE, network")
band(axes[0], "test", "s-", COLORS["emp"], "test MSE, network")
band(axes[0], "kernel_test", "x--", COLORS["extra"], "test MSE, kernel prediction")
axes[0].axhline(np.mean([r["test"] for r in base_runs]), color=COLORS["net"], ls=":", label="circle embedding, test MSE")
axes[0].set_xlabel(r"Fourier scale $\sigma$")
axes[0].set_ylabel("MSE")
axes[0].set_title("the two failure modes of Fourier features")
axes[0].legend(fontsize=7)
band(axes[1], "unlearned", "o-", COLORS["inf"], r"unlearned: $\max_k |1-\eta\lambda_k|^T$")
band(axes[1], "aliased", "s-", COLORS["emp"], r"aliased: $\max_k 1-\mu_k/\sum_m \mu_{k+64m}$")
axes[1].set_xlabel(r"Fourier scale $\sigma$")
axes[1].set_ylabel("fraction of a target coefficient")
axes[1].set_title("where the exact kernel places them")
axes[1].legend(fontsize=7)
plt.show()

# %% [markdown]
# **What it shows.** Over {glue:text}`ch2_ff_seeds` seeds, the test MSE on the band $k\ge5$ is
# {glue:text}`ch2_ff_high_base` with the circle embedding and {glue:text}`ch2_ff_high_ff` with Fourier features
# ($\sigma =$ {glue:text}`ch2_ff_sigma`; the paired difference of $\log_{10}$ is {glue:text}`ch2_ff_high_gain`).
# Per target coefficient, the amplitude of the error at $k = 1, 3, 7, 12$ is {glue:text}`ch2_ff_coef_base_k1`,
# {glue:text}`ch2_ff_coef_base_k3`, {glue:text}`ch2_ff_coef_base_k7`, {glue:text}`ch2_ff_coef_base_k12` on the circle
# embedding and {glue:text}`ch2_ff_coef_ff_k1`, {glue:text}`ch2_ff_coef_ff_k3`, {glue:text}`ch2_ff_coef_ff_k7`,
# {glue:text}`ch2_ff_coef_ff_k12` with Fourier features: the embedding's gain is in learning the high target
# frequencies. Of its remaining test MSE, {glue:text}`ch2_ff_test_ff`, the part off the target frequencies is
# {glue:text}`ch2_ff_off_target_ff`; the rest is what is still unlearned of the target coefficients.
#
# In the $\sigma$ sweep the largest $\eta\lambda_{\max}$ of any empirical kernel is
# {glue:text}`ch2_ff_eta_lmax_emp:.2f`, inside the stable range. With $\sigma =$ {glue:text}`ch2_sigma_lo` the
# features hardly vary, the target's high frequencies sit in tiny eigenvalues, and the kernel predicts that a
# fraction {glue:text}`ch2_sigma_lo_unlearned` of some target coefficient is still unlearned at the end: the net
# is **under-trained**, not "redundant" (train MSE {glue:text}`ch2_sigma_lo_train`). The unlearned fraction drops
# below 0.1 from $\sigma =$ {glue:text}`ch2_sigma_learn_start`. The test error is lowest at
# $\sigma =$ {glue:text}`ch2_sigma_best` ({glue:text}`ch2_sigma_best_test`). From $\sigma =$
# {glue:text}`ch2_sigma_alias_start` on, the kernel puts more than a tenth of some target coefficient on its
# aliases; at $\sigma =$ {glue:text}`ch2_sigma_hi` that fraction is {glue:text}`ch2_sigma_hi_aliased`: the
# training points are fitted (train MSE {glue:text}`ch2_sigma_hi_train`) but the test MSE is
# {glue:text}`ch2_sigma_hi_test`. The failure at large $\sigma$ is aliasing: the kernel has so much power above
# the grid's Nyquist frequency 32 that its interpolant between samples is made of the wrong frequencies. The
# kernel's predicted test MSE rises on both sides at the same $\sigma$ as the network's, so both failure modes are
# properties of the kernel. The two curves agree closely where training converges; at the smallest $\sigma$ the
# network's error is larger, since the prediction starts from $f_0 = 0$ and the network from its random $f_0$,
# which is not yet trained away there.
#
# ## 2.5 The papers' claims, checked
#
# | claim | source | here | verdict |
# |---|---|---|---|
# | each eigen-direction of the residual decays at its own rate $\lambda_i$; convergence is limited by $\lambda_{\min}$ | EE-556 {cite}`ee556ntk` | §2.2 (network vs. the kernel's mode-by-mode prediction) | confirmed for the ordering; the network is slower than its kernel on small-$\lambda$ modes, increasingly so for large targets |
# | on the circle the NTK's eigenvalues decay with frequency; time to fit grows like $k^2$; a bias removes the odd zeros | {cite}`basri2019convergence`; EE-556 | §2.1 (operator exponent {glue:text}`ch2_decay_op_large_L3:.3f` for $k\in[64,256]$; odd zeros at depth 2, filled by a bias), §2.2 | re-derived; at small $k$ the decay is steeper than $k^{-2}$ |
# | depth flattens the spectrum | (common reading) | §2.1 | **refined**: only at small $k$; every depth decays like $k^{-2}$ asymptotically {cite}`bietti2021deep` |
# | early stopping acts as a spectral filter $1-e^{-\lambda t}$ and regularizes | EE-556 | §2.3 (formula vs. Monte Carlo; best stopping time from the spectrum; oracle filter) | confirmed; the best stopping time reaches risk {glue:text}`ch2_risk_es:.4f` against the oracle filter's {glue:text}`ch2_risk_oracle:.4f` |
# | Fourier features "enrich the NTK spectrum" and reduce spectral bias | summary `000` of {cite}`ntkecrn2025`, Mechanism 1 (the summary suggests the sum-of-sines ablation; frequencies and sizes here are ours) | §2.4, periodic set-up, exact and empirical kernels, {glue:text}`ch2_ff_seeds` seeds | confirmed: high-band test MSE {glue:text}`ch2_ff_high_base` vs {glue:text}`ch2_ff_high_ff`, gain at the high target frequencies |
# | badly scaled $B$ fails: too low is redundant, too high is noise | summary `000`, Mechanism 1 break condition | §2.4 $\sigma$ sweep over seeds, with the exact kernel's diagnostics | **refined**: too low is under-training (small eigenvalues at the target frequencies), too high is aliasing above the grid's Nyquist frequency; both predicted by the kernel |
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
