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

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from ntk_lib.analytic import relu_ntk
from ntk_lib.data import circle, sum_of_sines, unit_interval
from ntk_lib.dynamics import gradient_flow, kernel_regression
from ntk_lib.empirical import empirical_ntk
from ntk_lib.fit import loglog_slope
from ntk_lib.models import MLP, FourierFeatures
from ntk_lib.notebook import glue, setup
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
        "smoke": dict(grid=64, depths=[2, 3], n_circle=16, width=128, K=3, amps=[1.0], noise_n=24, draws=20, noise_steps=200, ff_width=64, ff_steps=150, sigmas=[1.0, 8.0, 64.0], ff_seeds=1),
        "book": dict(grid=256, depths=[2, 3, 4, 6], n_circle=32, width=1024, K=6, amps=[1.0, 0.1], noise_n=64, draws=400, noise_steps=1500, ff_width=256, ff_steps=1500, sigmas=[0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0], ff_seeds=1),
        "paper": dict(grid=1024, depths=[2, 3, 4, 6, 10], n_circle=64, width=8192, K=12, amps=[1.0, 0.1, 0.01], noise_n=128, draws=2000, noise_steps=6000, ff_width=2048, ff_steps=4000, sigmas=[0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0], ff_seeds=3),
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
odd_d2 = float(np.abs(mu[2].numpy()[3::2]).max() / float(mu[2][1]))  # odd k >= 3 at depth 2
for L, s in slopes.items():
    glue(f"ch2_decay_L{L}", s)
    print(f"depth {L}: mu_k ~ k^{s:.2f} over even k in [4, {cfg['grid'] // 8}]")
glue("ch2_odd_d2", odd_d2)
print(f"depth 2: largest |mu_k| over odd k >= 3, relative to mu_1: {odd_d2:.1e}")

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
# (relative to $\lambda_{\max}$), and every eigenvector is a single harmonic. Three facts stand out:
#
# * **The eigenvalues fall like a power of the frequency.** Over even $k$ the fitted exponent is
#   {glue:text}`ch2_decay_L3:.2f` at depth 3 and {glue:text}`ch2_decay_L2:.2f` at depth 2: close to
#   $k^{-2}$, the known rate for ReLU NTKs on $S^{d-1}$ with $d = 2$ (decay $k^{-d}$, Bietti & Mairal
#   {cite}`bietti2019inductive`). A frequency-10 harmonic is learned about a hundred times more slowly
#   than a frequency-1 one.
# * **Parity.** At depth 2 the odd frequencies $k \ge 3$ are not learned at all: their eigenvalues
#   are zero (largest relative value {glue:text}`ch2_odd_d2:.1e`, rounding). Deeper networks fill
#   them in, but the odd frequencies stay below their even neighbours.
# * **Depth flattens the spectrum slightly** (all curves are normalized differently, since
#   $\Theta^{(L)}(x,x) = L/(n_0 2^{L-1})$; compare slopes, not heights).
#
# ## 2.2 Spectral bias, measured on a network
#
# The prediction: fit $y = A\sin k\vartheta$ on the grid. Since $\sin k\vartheta$ is an eigenvector
# with eigenvalue $\lambda_k$, the residual along it decays like $(1-\eta\lambda_k)^{s}$ after $s$
# gradient steps of size $\eta$ (like $e^{-\lambda_k t}$ in flow time $t = s\eta$); it reaches 10% of its
# initial value at $t_k = \eta\ln 10/(-\ln(1-\eta\lambda_k)) \approx \ln 10/\lambda_k$
# ({func}`ntk_lib.spectral.time_to_fit`). We train one width-{glue:text}`ch2_width` ReLU network
# (three linear layers, NTK parameterization, $\eta = 1/\lambda_{\max}$) per frequency and amplitude
# and record the component of its residual along $\sin k\vartheta$, relative to its initial value.
# The theory does not depend on the amplitude $A$ (the linear model is linear); the network might.

# %%
glue("ch2_width", cfg["width"])
Xc = x_c.to(dev, torch.float32)
eta = 1.0 / float(lam_circ.max())
freqs = list(range(1, cfg["K"] + 1))
t_pred = time_to_fit(lam_circ[freqs], 0.1, step=eta)
steps_fit = int(math.ceil(3.0 * float(t_pred.max()) / eta))
stride = max(1, steps_fit // 300)
record = list(range(0, steps_fit + 1, stride))
ntk_steps = log_spaced_steps(steps_fit, 10)

fits = {}  # (amp, k) -> (times, residual fraction, kernel Rayleigh quotients at start and end)
jobs = [(a, k) for a in cfg["amps"] for k in freqs]
for amp, k in progress_bar(jobs, desc="one network per frequency"):
    y = amp * torch.sin(k * theta_c)
    u = y / y.norm()
    net = MLP(2, cfg["width"], 3, seed=SEED + k).to(dev)
    hist = train_gd(net, Xc, y.to(dev, torch.float32), lr=eta, steps=steps_fit, record=record, ntk_at=ntk_steps, progress=False)
    resid = (hist.train_pred.double().cpu() - y) @ u
    frac = (resid / resid[0]).abs().clamp_min(1e-12).numpy()
    rq = [float(u @ hist.ntk[s].double().cpu() @ u) for s in ntk_steps]  # the eigenvalue along u, over time
    fits[(amp, k)] = (hist.times, frac, rq)

t_meas = {a: np.array([first_crossing(fits[(a, k)][0], fits[(a, k)][1], 0.1) for k in freqs]) for a in cfg["amps"]}
ratio = {a: t_meas[a] / t_pred.numpy() for a in cfg["amps"]}
for a in cfg["amps"]:
    print(f"amplitude {a}: measured / predicted time to 10% for k = {freqs}:", np.round(ratio[a], 2).tolist())
a_big, a_small = cfg["amps"][0], cfg["amps"][-1]
kk = cfg["K"]
glue("ch2_ratio_hi_big", float(ratio[a_big][-1]))
glue("ch2_ratio_hi_small", float(ratio[a_small][-1]))
glue("ch2_ratio_lo_big", float(ratio[a_big][1]))
glue("ch2_K", kk)
glue("ch2_amp_small", a_small)
rq_drop = {a: 1 - min(fits[(a, kk)][2]) / fits[(a, kk)][2][0] for a in cfg["amps"]}  # largest dip
glue("ch2_rq_drop_big", rq_drop[a_big])
glue("ch2_rq_drop_small", rq_drop[a_small])
pred_slope = loglog_slope(np.array(freqs[1:], float), t_pred.numpy()[1:])[0]
meas_slope = loglog_slope(np.array(freqs[1:], float), t_meas[a_small][1:])[0]
glue("ch2_tslope_pred", pred_slope)
glue("ch2_tslope_meas", meas_slope)
print(f"largest dip of the eigenvalue along sin({kk} theta) during training: {rq_drop[a_big]:.0%} (A={a_big}), {rq_drop[a_small]:.0%} (A={a_small})")
print(f"time-to-fit growth with k: predicted k^{pred_slope:.2f}, measured (A={a_small}) k^{meas_slope:.2f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: the residual along sin(k theta), relative to its start, for each frequency (solid: network with the smallest amplitude; dashed: the kernel's prediction). Right: time to fit to 10%, measured on the network against the kernel's prediction, for two target amplitudes; the diagonal is perfect agreement.", "name": "fig-ch2-bias"}}
fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.0), layout="constrained")
cm = plt.get_cmap("plasma")
for i, k in enumerate(freqs):
    c = cm(i / max(len(freqs) - 1, 1) * 0.85)
    tt, frac, _ = fits[(a_small, k)]
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
    axes[1].loglog(t_pred.numpy(), t_meas[a], mk + "-", label=f"network, A = {a}")
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
# pairs can swap). Fitted as powers of $k$, the measured times grow
# with exponent {glue:text}`ch2_tslope_meas:.2f` (amplitude {glue:text}`ch2_amp_small`), the
# predicted ones with {glue:text}`ch2_tslope_pred:.2f`. But the network is **slower than its kernel
# at high frequency**: at $k =$ {glue:text}`ch2_K` it needs {glue:text}`ch2_ratio_hi_big:.1f` times the
# predicted time with $A = 1$ and {glue:text}`ch2_ratio_hi_small:.1f` times with the smaller
# amplitude, while at $k=2$ the ratio is {glue:text}`ch2_ratio_lo_big:.2f`.
#
# Why? In the linearized model the parameters travel $\lVert\theta_\infty - \theta_0\rVert^2 =
# r_0^\top\Theta^{-1}r_0 \approx A^2\lVert\sin k\vartheta\rVert^2/\lambda_k$: fitting a
# weakly-represented (small-$\lambda$) function needs a long trip in parameter space, and the
# kernel moves along the way. The eigenvalue along $u = \sin(k\vartheta)/\lVert\cdot\rVert$ itself,
# $u^\top\Theta_t u$ (checked at ten times during training, $k =$ {glue:text}`ch2_K`), dips by up to
# {glue:text}`ch2_rq_drop_big:.0%` with $A = 1$ and {glue:text}`ch2_rq_drop_small:.0%` with the smaller
# amplitude. The NTK's constancy is a statement
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
# The network follows its kernel's curve; its best test MSE ({glue:text}`ch2_net_best:.4f`, at
# $t=$ {glue:text}`ch2_t_net:.3g`; its kernel flow's best at {glue:text}`ch2_t_flow_one:.3g`) rises
# to {glue:text}`ch2_net_end:.4f` by the end of training as it starts fitting the noise.
#
# ## 2.4 Fourier features move the spectrum
#
# Section 2.1 makes high frequencies slow because the kernel's eigenvalues decay. Tancik et al.
# {cite}`tancik2020fourier` change the kernel instead of the optimizer: feed the network
#
# $$
# \varphi(x) = \big[\sin(2\pi Bx),\ \cos(2\pi Bx)\big],\qquad B\in\mathbb R^{m\times d},\ B_{ij}\sim\mathcal N(0,\sigma^2),
# $$
#
# ({class}`ntk_lib.models.FourierFeatures`). Then $\varphi(x)^\top\varphi(x') = \sum_j \cos(2\pi b_j^\top(x - x'))$,
# a random-feature estimate of a Gaussian kernel of bandwidth $1/(2\pi\sigma)$: inputs closer than
# about $1/\sigma$ look alike, farther ones look unrelated. NTK-ECRN {cite}`ntkecrn2025` uses this
# embedding (its Mechanism 1) with the claims that it "enriches the NTK spectrum" and fails if $B$
# is badly scaled (*too low: redundant; too high: noise*).
#
# The task is the one of {cite}`ntkecrn2025`'s first experiment 2: a sum of sines on $[0, 1)$,
# $y(x) = \sum_j \sin(2\pi k_j x)$ with $k \in \{1, 3, 7, 12\}$, 64 evenly spaced training points,
# tested between them. The baseline is the same ReLU MLP (three linear layers, bias variance 1) on
# the raw $x$. Both are trained for the same number of steps with $\eta = 1/\lambda_{\max}$ of their
# own empirical NTK. We report the test MSE on the high-frequency band $k \ge 5$
# ({func}`ntk_lib.spectral.band_power` of the error, by Parseval).

# %%
x_ff = unit_interval(64)
x_ff_test = (torch.arange(512, dtype=torch.float64)[:, None] + 0.5) / 512
ff_freqs = [1, 3, 7, 12]
K_HIGH = 5
y_ff, y_ff_test = sum_of_sines(x_ff, ff_freqs), sum_of_sines(x_ff_test, ff_freqs)
Xf, Xft, Yf = (t.to(dev, torch.float32) for t in (x_ff, x_ff_test, y_ff))


def make_net(sigma, seed):
    """The baseline MLP on raw x (sigma=None) or the same MLP on 128 random Fourier features."""
    if sigma is None:
        return MLP(1, cfg["ff_width"], 3, bias_var=1.0, seed=seed).to(dev)
    ff = FourierFeatures(1, 128, sigma, seed=seed)
    return torch.nn.Sequential(ff, MLP(ff.out_features, cfg["ff_width"], 3, bias_var=1.0, seed=seed)).to(dev)


def train_ff(sigma, seed, record=None):
    net = make_net(sigma, seed)
    lam0, _ = eigh_descending(empirical_ntk(net, Xf).double().cpu())
    hist = train_gd(net, Xf, Yf, lr=1.0 / float(lam0[0]), steps=cfg["ff_steps"], record=record or [cfg["ff_steps"]], x_test=Xft, progress=False)
    err = hist.test_pred.double().cpu() - y_ff_test  # [R, m]
    train_mse = float(((hist.train_pred[-1].double().cpu() - y_ff) ** 2).mean())
    return dict(lam=lam0, hist=hist, err=err, train=train_mse, test=float((err[-1] ** 2).mean()), high=float(band_power(err[-1], K_HIGH)))


SIGMA_DEMO = 8.0
base = train_ff(None, SEED, record=list(range(0, cfg["ff_steps"] + 1, max(1, cfg["ff_steps"] // 100))))
four = train_ff(SIGMA_DEMO, SEED, record=list(range(0, cfg["ff_steps"] + 1, max(1, cfg["ff_steps"] // 100))))
cond = {name: float(r["lam"][0] / r["lam"][31]) for name, r in (("base", base), ("ff", four))}
glue("ch2_ff_sigma", SIGMA_DEMO)
glue("ch2_ff_high_base", base["high"])
glue("ch2_ff_high_ff", four["high"])
glue("ch2_ff_test_base", base["test"])
glue("ch2_ff_test_ff", four["test"])
glue("ch2_ff_cond_base", cond["base"])
glue("ch2_ff_cond_ff", cond["ff"])
glue("ch2_ff_gain", base["high"] / four["high"])
print(f"lambda_1 / lambda_32 of the empirical NTK: raw x {cond['base']:.3g}, Fourier features {cond['ff']:.3g}")
print(f"test MSE: raw x {base['test']:.4f}, Fourier features (sigma={SIGMA_DEMO}) {four['test']:.4f}")
print(f"test MSE on frequencies >= {K_HIGH}: raw x {base['high']:.4f}, Fourier features {four['high']:.5f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: eigenvalues of the empirical NTK at initialization on the 64 training points, normalized by the largest, for the MLP on raw x and on Fourier features. Middle: the high-frequency (k >= 5) part of the test error during training. Right: the learned functions at the end of training.", "name": "fig-ch2-fourier"}}
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
idx = np.arange(1, 65)
axes[0].semilogy(idx, (base["lam"] / base["lam"][0]).clamp_min(1e-16).numpy(), "o", ms=3, color=COLORS["net"], label="raw $x$")
axes[0].semilogy(idx, (four["lam"] / four["lam"][0]).clamp_min(1e-16).numpy(), "o", ms=3, color=COLORS["emp"], label=rf"Fourier, $\sigma={SIGMA_DEMO:g}$")
axes[0].set_xlabel("index $i$")
axes[0].set_ylabel(r"$\lambda_i/\lambda_1$")
axes[0].set_title("empirical NTK spectrum")
axes[0].legend()
for r, name, c in ((base, "raw $x$", COLORS["net"]), (four, "Fourier features", COLORS["emp"])):
    hb = band_power(r["err"].T, K_HIGH).numpy()
    tt = r["hist"].steps
    axes[1].semilogy(tt, hb, color=c, label=name)
axes[1].set_xlabel("gradient step")
axes[1].set_ylabel(f"test MSE on $k \\geq {K_HIGH}$")
axes[1].set_title("high-frequency error")
axes[1].legend()
axes[2].plot(x_ff_test[:, 0], y_ff_test, color=COLORS["data"], lw=1, label="target")
axes[2].plot(x_ff_test[:, 0], (y_ff_test + base["err"][-1]).numpy(), color=COLORS["net"], label="raw $x$")
axes[2].plot(x_ff_test[:, 0], (y_ff_test + four["err"][-1]).numpy(), "--", color=COLORS["emp"], label="Fourier")
axes[2].plot(x_ff[:, 0], y_ff, ".", color=COLORS["data"], ms=4)
axes[2].set_xlabel("$x$")
axes[2].set_title(f"after {cfg['ff_steps']} steps")
axes[2].legend(fontsize=7)
plt.show()

# %% [markdown]
# With the embedding the NTK's spectrum is far flatter ($\lambda_1/\lambda_{32}$ falls from
# {glue:text}`ch2_ff_cond_base:.3g` to {glue:text}`ch2_ff_cond_ff:.3g`), so the same number of steps
# reaches much further down it: the test MSE on frequencies $k\ge 5$ is
# {glue:text}`ch2_ff_high_base:.4f` on raw $x$ and {glue:text}`ch2_ff_high_ff:.5f` with Fourier
# features ($\sigma =$ {glue:text}`ch2_ff_sigma`), {glue:text}`ch2_ff_gain:.0f` times smaller.
#
# ### Both failure modes: sweeping $\sigma$

# %%
sweep = {s: [train_ff(s, SEED + i) for i in range(cfg["ff_seeds"])] for s in progress_bar(cfg["sigmas"], desc="sigma sweep")}
sig = np.array(cfg["sigmas"])
tr = np.array([np.mean([r["train"] for r in sweep[s]]) for s in cfg["sigmas"]])
te = np.array([np.mean([r["test"] for r in sweep[s]]) for s in cfg["sigmas"]])
hi = np.array([np.mean([r["high"] for r in sweep[s]]) for s in cfg["sigmas"]])
best = int(np.argmin(te))
glue("ch2_sigma_best", float(sig[best]))
glue("ch2_sigma_best_test", float(te[best]))
glue("ch2_sigma_lo", float(sig[0]))
glue("ch2_sigma_lo_train", float(tr[0]))
glue("ch2_sigma_hi", float(sig[-1]))
glue("ch2_sigma_hi_train", float(tr[-1]))
glue("ch2_sigma_hi_test", float(te[-1]))
for s, a, b, c in zip(sig, tr, te, hi):
    print(f"sigma {s:6.2f}: train MSE {a:.2e}  test MSE {b:.2e}  test MSE on k>={K_HIGH} {c:.2e}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Train and test MSE after a fixed number of steps against the scale sigma of the Fourier features; the dotted line is the MLP on raw x. Small sigma: still spectrally biased (both errors high). Large sigma: the training set is fitted but the test error explodes (the features alias between training points).", "name": "fig-ch2-sigma"}}
fig, ax = plt.subplots(figsize=(6.4, 4.0))
ax.loglog(sig, tr, "o-", color=COLORS["inf"], label="train MSE")
ax.loglog(sig, te, "s-", color=COLORS["emp"], label="test MSE")
ax.loglog(sig, hi, "^--", color=COLORS["extra"], label=f"test MSE on $k \\geq {K_HIGH}$")
ax.axhline(base["test"], color=COLORS["net"], ls=":", label="raw $x$, test MSE")
ax.axvline(32, color="gray", lw=0.8)
ax.text(33, ax.get_ylim()[0] * 3, "Nyquist of\nthe training grid", fontsize=7)
ax.set_xlabel(r"Fourier scale $\sigma$")
ax.set_ylabel("MSE")
ax.set_title("the two failure modes of Fourier features")
ax.legend()
plt.show()

# %% [markdown]
# **What it shows.** With $\sigma =$ {glue:text}`ch2_sigma_lo` the features vary slowly and the net is
# as biased as on raw $x$ (train MSE {glue:text}`ch2_sigma_lo_train:.2e`). The test error is lowest at
# $\sigma =$ {glue:text}`ch2_sigma_best` ({glue:text}`ch2_sigma_best_test:.2e`). With $\sigma =$
# {glue:text}`ch2_sigma_hi` the training points are fitted (train MSE
# {glue:text}`ch2_sigma_hi_train:.1e`) but the test MSE is {glue:text}`ch2_sigma_hi_test:.2f`: the
# features now oscillate faster than the 64 samples can resolve (the grid's Nyquist frequency is 32),
# the kernel is nearly diagonal, and the net interpolates with noise. Both failure modes named in
# {cite}`ntkecrn2025` are real; the useful range is a band around the target's highest frequency.
#
# ## 2.5 The papers' claims, checked
#
# | claim | source | here | verdict |
# |---|---|---|---|
# | each eigen-direction of the residual decays at its own rate $\lambda_i$; convergence is limited by $\lambda_{\min}$ | EE-556 | §2.2 (network vs. the kernel's mode-by-mode prediction) | confirmed for the ordering; the network is slower than its kernel on small-$\lambda$ modes, increasingly so for large targets |
# | early stopping acts as a spectral filter $1-e^{-\lambda t}$ and regularizes | EE-556 | §2.3 (formula vs. Monte Carlo; best stopping time from the spectrum) | confirmed |
# | spectral bias: an MLP's NTK spectrum decays with frequency, so high-frequency targets are learned slowly | `000` Mech. 1 | §2.1 ($\mu_k \sim k^{-2}$; parity zeros at depth 2), §2.2 | confirmed |
# | Fourier features flatten the spectrum and speed up high frequencies | `000` Mech. 1, first experiment 2 | §2.4 | confirmed |
# | badly scaled $B$ fails: too low is redundant, too high is noise | `000` Mech. 1 break condition | §2.4 $\sigma$ sweep | confirmed (both sides) |
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
