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
# # 5. NTK-ECRN: build it, watch its kernel, test its claims
#
# The NTK-Eigenvalue-Controlled Residual Network {cite}`ntkecrn2025` combines three ingredients:
# the Fourier features of Chapter 2, residual blocks whose branches are scaled by $\alpha_l$, and
# stochastic depth. Its paper (which calls itself an undergraduate-level project) claims that the
# scaling bounds the growth of the NTK's top eigenvalue by $\alpha_l^2$ (its eq. 15), that stochastic
# depth damps the expected kernel growth by $(1-p_l)$ (eq. 17), and that the network beats MLPs,
# ResNet-18 and NTK regression on synthetic, UCI and CIFAR-10 tasks. The paper gives few details;
# we implement it where it is specific, state our choices where it is not, and test each claim.

# %% tags=["parameters"]
SCALE = "book"  # "smoke": seconds (CI) | "book": what this page shows, CPU | "paper": Colab GPU
SEED = 0
DEVICE = "auto"  # "auto" picks CUDA, then MPS, then CPU

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown

from ntk_lib.analytic import relu_ntk
from ntk_lib.data import benchmark_task
from ntk_lib.dynamics import kernel_regression
from ntk_lib.empirical import empirical_ntk
from ntk_lib.fit import loglog_slope
from ntk_lib.metrics import accuracy, cross_entropy, mse, r2_score
from ntk_lib.models import MLP, NTKECRN
from ntk_lib.notebook import glue, setup
from ntk_lib.plotting import COLORS
from ntk_lib.training import kernel_log, log_spaced_steps, progress_bar, train_gd

run = setup(SCALE, SEED, DEVICE)
dev = run.device
cfg = run.pick(
    {
        "smoke": dict(n=64, width=64, steps=60, alphas=[0.25, 1.0], depths=[2, 4], probs=[0.0, 0.3], sd_seeds=2, widths=[32, 64, 128], seeds=1, abl_seeds=1, datasets=["sines", "iris"]),
        "book": dict(n=96, width=256, steps=300, alphas=[0.125, 0.5, 2.0], depths=[2, 4, 8], probs=[0.0, 0.1, 0.3, 0.5], sd_seeds=3, widths=[64, 128, 256, 512], seeds=3, abl_seeds=2, datasets=["sines", "mixture", "iris", "wine", "diabetes"]),
        "paper": dict(n=256, width=1024, steps=2000, alphas=[0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0], depths=[2, 4, 8, 16], probs=[0.0, 0.1, 0.2, 0.3, 0.5, 0.7], sd_seeds=10, widths=[128, 256, 512, 1024, 2048, 4096], seeds=5, abl_seeds=5, datasets=["sines", "mixture", "iris", "wine", "diabetes", "boston"]),
    }
)
PROBE = 32  # the fixed probe set on which the kernel is logged
print(f"scale {run.scale}: width {cfg['width']}, {cfg['steps']} full-batch steps, datasets {cfg['datasets']}")

# %% [markdown]
# ## 5.1 The architecture
#
# {class}`ntk_lib.models.NTKECRN` implements
#
# $$
# \varphi(x) = [\sin 2\pi Bx, \cos 2\pi Bx],\quad h_0 = \tfrac{1}{\sqrt{2m}}W_{in}\varphi(x),\quad
# h_{l+1} = h_l + m_l\,\alpha_l\,\sigma\big(\tfrac{1}{\sqrt n}W_l h_l + b_l\big),\quad f(x) = \tfrac1{\sqrt n}W_{out}h_L,
# $$
#
# in the NTK parameterization, with $B_{ij}\sim\mathcal N(0,\sigma_B^2)$ fixed, masks
# $m_l\sim\text{Bernoulli}(1-p_l)$ in training and $m_l = 1 - p_l$ in evaluation, and
# $\alpha_l = \alpha$, $\alpha/L$ or $\alpha/\sqrt L$. **Our choices where the paper is silent:** a linear
# input layer $W_{in}$ from the $2m$ features to the width $n$; ReLU; bias variance $0.1$; $m = 64$
# Fourier features; full-batch gradient descent on the squared loss (the loss of the NTK theory, also
# for classification, with one-hot targets) with $\eta = 0.5/\lambda_{\max}(\Theta_0)$; every empirical
# NTK is computed in eval mode on a fixed probe set of {glue:text}`ch5_probe` training points; "epoch"
# = one full-batch step. {func}`ntk_lib.training.train_gd` logs the kernel and
# {func}`ntk_lib.training.kernel_log` reads off $\lambda_{\max}(t)$, $\lambda_{\min}(t)$ and
# $\lVert\Theta_t-\Theta_0\rVert_F/\lVert\Theta_0\rVert_F$.
#
# First, the kernel at initialization. A residual block adds $\alpha_l^2$ times a positive term to the
# kernel of the layer below *and* multiplies what passes through it, so with a constant $\alpha$ the
# kernel grows geometrically in depth.

# %%
glue("ch5_probe", PROBE)
sines = benchmark_task("sines", n=cfg["n"], seed=SEED)
Xs, Ys = sines.x_train.to(dev, torch.float32), sines.y_train.to(dev, torch.float32)
probe = Xs[:PROBE]
FOURIER_SINES = 4.0  # sigma_B for the 1-D sines task (Chapter 2: near the target's top frequency)


def ecrn(width=None, blocks=4, *, alpha=1.0, schedule="constant", p=0.0, sigma=FOURIER_SINES, seed=SEED, d_in=1, d_out=1):
    return NTKECRN(d_in, width or cfg["width"], blocks, d_out, fourier_sigma=sigma, alpha=alpha, alpha_schedule=schedule, drop_prob=p, seed=seed).to(dev)


def lam_max0(net, x):
    """Largest eigenvalue of the eval-mode empirical NTK on x (multi-output kernels as one matrix)."""
    net.eval()
    lam = float(kernel_log({0: empirical_ntk(net, x)}).lam_max[0])
    net.train()
    return lam


init = {}
for schedule in ("constant", "1/sqrt(L)", "1/L"):
    for L in cfg["depths"]:
        init[(schedule, L)] = lam_max0(ecrn(blocks=L, alpha=1.0, schedule=schedule), probe)
for (schedule, L), v in init.items():
    print(f"alpha = 1, schedule {schedule:>9}, L = {L}: lambda_max(Theta_0) = {v:.4g}")
Lmax = cfg["depths"][-1]
glue("ch5_init_const_Lmax", init[("constant", Lmax)])
glue("ch5_init_invL_Lmax", init[("1/L", Lmax)])
glue("ch5_init_const_L2", init[("constant", cfg["depths"][0])])
glue("ch5_Lmax", Lmax)

# %% [markdown]
# With $\alpha = 1$ the top eigenvalue at initialization grows from {glue:text}`ch5_init_const_L2:.3g`
# to {glue:text}`ch5_init_const_Lmax:.3g` at $L =$ {glue:text}`ch5_Lmax` blocks; the $1/L$ schedule
# keeps it at {glue:text}`ch5_init_invL_Lmax:.3g`. The paper's break condition ("$\alpha_l$ too large
# relative to depth") is a property of the initial kernel, visible before any training.
#
# ## 5.2 Eigenvalue control (eq. 15): is the growth of $\lambda_{\max}$ proportional to $\alpha^2$?
#
# We train on the sum-of-sines task for each $\alpha$ and depth (constant schedule) and log the kernel.
# Because $\Theta_0$ itself depends on $\alpha$ and the step size is set from it, we report both the
# absolute growth $\Delta\lambda_{\max} = \max_t\lambda_{\max}(t) - \lambda_{\max}(0)$ and the relative growth
# $\Delta\lambda_{\max}/\lambda_{\max}(0)$. Baselines: an MLP of the same width and depth $L+2$ (NTK
# parameterization) and the unscaled residual network ($\alpha=1$, no Fourier features).

# %%
def train_logged(net, x, y, steps=None, probe_x=None, record=None, x_test=None):
    steps = steps or cfg["steps"]
    lr = 0.5 / lam_max0(net, x)
    hist = train_gd(net, x, y, lr=lr, steps=steps, ntk_at=log_spaced_steps(steps, 12), ntk_x=probe if probe_x is None else probe_x, record=record or [steps], x_test=x_test, progress=False)
    return hist


def growth(hist):
    k = hist.kernel
    top = float(k.lam_max.max())
    return dict(abs=top - k.lam_max[0], rel=top / k.lam_max[0] - 1.0, move=float(k.rel_change[-1]), lam0=float(k.lam_max[0]), log=k)


eq15 = {}
jobs = [(L, a) for L in cfg["depths"] for a in cfg["alphas"]]
for L, a in progress_bar(jobs, desc="alpha x depth"):
    eq15[(L, a)] = growth(train_logged(ecrn(blocks=L, alpha=a), Xs, Ys))
base_mlp = {L: growth(train_logged(MLP(1, cfg["width"], L + 2, bias_var=0.1, seed=SEED).to(dev), Xs, Ys)) for L in cfg["depths"]}
base_res = {L: growth(train_logged(ecrn(blocks=L, alpha=1.0, sigma=None), Xs, Ys)) for L in cfg["depths"]}

a2 = np.array(cfg["alphas"]) ** 2
slopes15 = {}
for L in cfg["depths"]:
    absg = np.array([eq15[(L, a)]["abs"] for a in cfg["alphas"]])
    pos = absg > 0  # a kernel whose top eigenvalue never rises has no growth to fit
    slopes15[L] = loglog_slope(a2[pos], absg[pos])[0] if pos.sum() >= 2 else float("nan")
    rel = [round(float(eq15[(L, a)]["rel"]), 3) for a in cfg["alphas"]]
    print(f"L = {L}: relative growth of lambda_max for alpha = {cfg['alphas']}: {rel}; |abs growth| ~ (alpha^2)^{slopes15[L]:.2f}")
    print(f"        MLP: {base_mlp[L]['rel']:+.3f}, unscaled residual: {base_res[L]['rel']:+.3f}")
L0 = cfg["depths"][0]
glue("ch5_eq15_slope_L0", slopes15[L0])
glue("ch5_eq15_slope_Lmax", slopes15[Lmax])
glue("ch5_L0", L0)
rel_small = eq15[(L0, cfg["alphas"][0])]["rel"]
rel_big = eq15[(L0, cfg["alphas"][-1])]["rel"]
glue("ch5_rel_small", rel_small)
glue("ch5_rel_big", rel_big)
glue("ch5_alpha_small", cfg["alphas"][0])
glue("ch5_alpha_big", cfg["alphas"][-1])
glue("ch5_mlp_rel", base_mlp[L0]["rel"])
glue("ch5_mlp_rel_Lmax", base_mlp[Lmax]["rel"])
glue("ch5_ecrn_rel_small_Lmax", eq15[(Lmax, cfg["alphas"][0])]["rel"])

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Growth of the largest NTK eigenvalue during training against alpha squared, for several depths (constant schedule). Left: absolute growth (with the initial eigenvalue for reference, dotted). Right: growth relative to the initial eigenvalue; horizontal lines: MLP (dashed) and unscaled residual network (dotted) of the same depth.", "name": "fig-ch5-eq15"}}
fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.0), layout="constrained")
cmap = plt.get_cmap("viridis")
for i, L in enumerate(cfg["depths"]):
    c = cmap(i / max(len(cfg["depths"]) - 1, 1))
    absg = np.array([eq15[(L, a)]["abs"] for a in cfg["alphas"]])
    lam0 = np.array([eq15[(L, a)]["lam0"] for a in cfg["alphas"]])
    axes[0].loglog(a2[absg > 0], absg[absg > 0], "o-", color=c, label=f"L = {L}")
    axes[0].loglog(a2, lam0, ":", color=c)
    axes[1].semilogx(a2, [eq15[(L, a)]["rel"] for a in cfg["alphas"]], "o-", color=c, label=f"L = {L}")
    axes[1].axhline(base_mlp[L]["rel"], color=c, ls="--", lw=0.8)
    axes[1].axhline(base_res[L]["rel"], color=c, ls=":", lw=0.8)
axes[0].set_xlabel(r"$\alpha^2$")
axes[0].set_ylabel(r"$\Delta\lambda_{\max}$ (dotted: $\lambda_{\max}(0)$)")
axes[0].set_title("absolute growth")
axes[0].legend()
axes[1].set_xlabel(r"$\alpha^2$")
axes[1].set_ylabel(r"$\Delta\lambda_{\max}/\lambda_{\max}(0)$")
axes[1].set_title("relative growth")
plt.show()

# %% [markdown]
# **What it shows.** The absolute growth is far from proportional to $\alpha^2$ (which would be an
# exponent of 1 in the left panel): the fitted exponent is {glue:text}`ch5_eq15_slope_L0:.2f` at
# $L =$ {glue:text}`ch5_L0` and {glue:text}`ch5_eq15_slope_Lmax:.2f` at $L =$ {glue:text}`ch5_Lmax`,
# while the initial eigenvalue (dotted) grows with $\alpha$, geometrically with depth. Points where
# $\lambda_{\max}$ never rose above its initial value are not drawn. Relative to
# $\lambda_{\max}(0)$ the growth is *smaller* for larger $\alpha$ at $L =$ {glue:text}`ch5_L0`
# ({glue:text}`ch5_rel_small:.3f` at $\alpha =$ {glue:text}`ch5_alpha_small` vs.
# {glue:text}`ch5_rel_big:.3f` at $\alpha =$ {glue:text}`ch5_alpha_big`; MLP {glue:text}`ch5_mlp_rel:.3f`).
# What the scaled residual structure does achieve is a smaller *relative* growth than the MLP of the
# same depth, and the gap widens with depth: at $L =$ {glue:text}`ch5_Lmax` blocks the MLP's top
# eigenvalue grows by {glue:text}`ch5_mlp_rel_Lmax:.2f` of its initial value, NTK-ECRN's by
# {glue:text}`ch5_ecrn_rel_small_Lmax:.3f` even at the smallest $\alpha$ (dashed lines in the right panel).
# A bound "proportional to $\alpha_l^2$" is consistent with the absolute numbers only as an upper bound
# whose constant depends on the depth and on $\Theta_0$; it does not make small $\alpha$ more stable in
# any relative sense, and with the step size tied to $\lambda_{\max}(0)$, as it must be for stable
# training, the scale of $\alpha$ is largely absorbed.
#
# ## 5.3 Stochastic depth (eq. 17): is the expected growth damped by $(1-p)$?
#
# Now fix $L = 4$, $\alpha = 1/\sqrt L$ per block, and vary the drop probability $p$ over
# {glue:text}`ch5_sd_seeds` seeds. Eq. 17 predicts that the expected growth of the (eval-mode) kernel
# scales by $(1-p)$ relative to $p = 0$.

# %%
glue("ch5_sd_seeds", cfg["sd_seeds"])
sd = {}
for p in progress_bar(cfg["probs"], desc="drop probability"):
    runs = [growth(train_logged(ecrn(blocks=4, alpha=1.0, schedule="1/sqrt(L)", p=p, seed=SEED + s), Xs, Ys)) for s in range(cfg["sd_seeds"])]
    sd[p] = dict(abs=np.array([r["abs"] for r in runs]), rel=np.array([r["rel"] for r in runs]), move=np.array([r["move"] for r in runs]))
ref = sd[0.0]["rel"].mean()
print(f"{'p':>5} {'rel. growth (mean ± s.d.)':>28} {'ratio to p=0':>13} {'1-p':>6} {'kernel movement':>18}")
for p in cfg["probs"]:
    r = sd[p]["rel"]
    print(f"{p:>5.2f} {r.mean():>18.4f} ± {r.std(ddof=1):.4f} {r.mean() / ref:>13.2f} {1 - p:>6.2f} {sd[p]['move'].mean():>10.4f} ± {sd[p]['move'].std(ddof=1):.4f}")
pmax = cfg["probs"][-1]
glue("ch5_sd_ratio_pmax", float(sd[pmax]["rel"].mean() / ref))
glue("ch5_sd_pmax", pmax)
glue("ch5_sd_one_minus", 1 - pmax)
glue("ch5_sd_sd0", float(sd[0.0]["move"].std(ddof=1)))
glue("ch5_sd_sdmax", float(sd[pmax]["move"].std(ddof=1)))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: relative growth of the top eigenvalue of the eval-mode NTK against the drop probability p, each seed a dot, with the (1 - p) prediction of eq. 17 scaled to the p = 0 mean. Right: spread over seeds of the kernel's relative movement.", "name": "fig-ch5-eq17"}}
fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.8), layout="constrained")
ps = np.array(cfg["probs"])
for p in cfg["probs"]:
    axes[0].plot(np.full(cfg["sd_seeds"], p), sd[p]["rel"], "o", color=COLORS["net"], alpha=0.6)
axes[0].plot(ps, [sd[p]["rel"].mean() for p in cfg["probs"]], "-", color=COLORS["net"], label="measured mean")
axes[0].plot(ps, ref * (1 - ps), "--", color=COLORS["inf"], label=r"eq. 17: $(1-p)\times$ growth at $p=0$")
axes[0].set_xlabel("drop probability $p$")
axes[0].set_ylabel(r"$\Delta\lambda_{\max}/\lambda_{\max}(0)$")
axes[0].legend()
axes[1].errorbar(ps, [sd[p]["move"].mean() for p in cfg["probs"]], yerr=[sd[p]["move"].std(ddof=1) for p in cfg["probs"]], fmt="o-", capsize=3, color=COLORS["emp"])
axes[1].set_xlabel("drop probability $p$")
axes[1].set_ylabel(r"$\|\Theta_T - \Theta_0\|_F / \|\Theta_0\|_F$")
axes[1].set_title("mean ± s.d. over seeds")
plt.show()

# %% [markdown]
# **What it shows.** At $p =$ {glue:text}`ch5_sd_pmax` the mean growth is {glue:text}`ch5_sd_ratio_pmax:.2f`
# times that at $p=0$, where eq. 17 predicts {glue:text}`ch5_sd_one_minus:.2f`; across $p$ the measured
# means stay within the seed-to-seed scatter of each other instead of falling along the $(1-p)$ line.
# The spread of the kernel's movement over seeds goes from {glue:text}`ch5_sd_sd0:.4f` ($p = 0$) to
# {glue:text}`ch5_sd_sdmax:.4f` ($p =$ {glue:text}`ch5_sd_pmax`). Why the law fails: eq. 17 multiplies a
# block's contribution to the *update* by the probability that the block is present, with everything
# else fixed. But the step size is set from the eval-mode kernel, a dropped block changes the function
# that the other blocks' gradients see, and the kernel's growth is driven by how far training goes, not
# by how often each block is updated. Damping the expected update of each block does not damp the
# growth of the kernel.
#
# ## 5.4 Width scaling (`000`, first experiment 3)
#
# The claim: as the width grows, $\Delta\Theta$ shrinks toward the infinite-width limit.

# %%
wscale = {}
for w in progress_bar(cfg["widths"], desc="widths"):
    wscale[w] = np.mean([growth(train_logged(ecrn(width=w, blocks=4, alpha=1.0, schedule="1/sqrt(L)", seed=SEED + s), Xs, Ys))["move"] for s in range(2)])
wslope = loglog_slope(cfg["widths"], [wscale[w] for w in cfg["widths"]])[0]
glue("ch5_width_slope", wslope)
for w, v in wscale.items():
    print(f"width {w:>5}: |Theta_T - Theta_0|_F / |Theta_0|_F = {v:.4f}")
print(f"fitted exponent: {wslope:.2f}")

# %% [markdown]
# The kernel's relative movement falls as a power of the width with exponent
# {glue:text}`ch5_width_slope:.2f`, close to the
# $n^{-1}$ that Chapter 1 measured for the MLP, faster than the $n^{-1/2}$ heuristic: **confirmed**.
#
# ## 5.5 Ablations on the sum of sines (`000`, first experiments 1–2)
#
# One change at a time from the full model ($L = 4$, $\alpha = 1/\sqrt L$, $p = 0.1$, $\sigma_B = 4$):

# %%
ABL = {
    "full NTK-ECRN": dict(),
    "no Fourier features": dict(sigma=None),
    "alpha = 1 (constant)": dict(alpha=1.0, schedule="constant"),
    "alpha = 1/L": dict(alpha=1.0, schedule="1/L"),
    "no stochastic depth (p = 0)": dict(p=0.0),
    "p = 0.3": dict(p=0.3),
}
x_test_s, y_test_s = sines.x_test.to(dev, torch.float32), sines.y_test.double()
abl = {}
for name, change in progress_bar(list(ABL.items()), desc="ablations"):
    kw = dict(blocks=4, alpha=1.0, schedule="1/sqrt(L)", p=0.1) | change
    scores = []
    for s in range(cfg["abl_seeds"]):
        h = train_logged(ecrn(seed=SEED + s, **kw), Xs, Ys, x_test=x_test_s)
        scores.append(mse(h.test_pred[-1].double().cpu(), y_test_s))
    abl[name] = np.array(scores)
for name, v in abl.items():
    print(f"{name:<30} test MSE {v.mean():.4f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.4f}")
glue("ch5_abl_full", float(abl["full NTK-ECRN"].mean()))
glue("ch5_abl_nofourier", float(abl["no Fourier features"].mean()))
glue("ch5_abl_p0", float(abl["no stochastic depth (p = 0)"].mean()))

# %% [markdown]
# The Fourier features carry the result: without them the test MSE is {glue:text}`ch5_abl_nofourier:.3f`
# against {glue:text}`ch5_abl_full:.3f` (Chapter 2 explained why). The layer scaling changes little once
# the step size is set from the initial kernel, and removing stochastic depth gives
# {glue:text}`ch5_abl_p0:.3f`.
#
# ## 5.6 Benchmarks
#
# NTK-ECRN against an MLP (NTK parameterization, 3 linear layers), a ResNet-style residual MLP
# (the same tower with $\alpha = 1$, no Fourier features, no stochastic depth) and NTK kernel
# regression with the analytic $\Theta_\infty$ of a 3-layer ReLU network ({func}`ntk_lib.dynamics.kernel_regression`
# on {func}`ntk_lib.analytic.relu_ntk`), on the paper's task list as far as it can be run here: the sum of
# sines, a 5-class Gaussian mixture, Iris and Wine (scikit-learn's copies), and, **in place of Boston
# housing** (no longer shipped by scikit-learn), scikit-learn's diabetes regression; "paper" scale adds
# Boston, fetched from OpenML. The 5,000-image CIFAR-10 subset with a ResNet-18 is not part of this
# chapter (see the conclusion). Networks: width {glue:text}`ch5_width`, {glue:text}`ch5_steps` full-batch
# steps; Fourier scale $\sigma_B = 4$ on the sines and, on tabular features, the median heuristic
# $\sigma_B = 1/(2\pi\,\mathrm{median}_{i<j}\lVert x_i - x_j\rVert)$, which sets the embedding's bandwidth
# to the typical distance between inputs (with $\sigma_B = 1$ on 13 standardized features the embedded
# points are nearly orthogonal and the network memorizes: the "too high" failure of Chapter 2); classification
# targets are one-hot and scored by accuracy and by the cross-entropy of the softmax of the outputs.

# %%
glue("ch5_width", cfg["width"])
glue("ch5_steps", cfg["steps"])


def fit_network(kind, task, seed):
    d_in = task.x_train.shape[1]
    d_out = task.n_classes if task.kind == "classification" else 1
    # median heuristic: a Fourier bandwidth 1/(2 pi sigma) equal to the median distance between inputs
    sigma = FOURIER_SINES if task.name == "sines" else 1.0 / (2 * math.pi * float(torch.pdist(task.x_train).median()))
    if kind == "MLP":
        net = MLP(d_in, cfg["width"], 3, d_out, bias_var=0.1, seed=seed).to(dev)
    elif kind == "ResNet-style":
        net = NTKECRN(d_in, cfg["width"], 4, d_out, fourier_sigma=None, alpha=1.0, seed=seed).to(dev)
    else:
        net = NTKECRN(d_in, cfg["width"], 4, d_out, fourier_sigma=sigma, alpha=1.0, alpha_schedule="1/sqrt(L)", drop_prob=0.1, seed=seed).to(dev)
    x, xt = task.x_train.to(dev, torch.float32), task.x_test.to(dev, torch.float32)
    y = task.y_train.double()
    if task.kind == "classification":
        y = torch.nn.functional.one_hot(task.y_train, task.n_classes).double()
    lam = lam_max0(net, x[:64])
    h = train_gd(net, x, y.to(dev, torch.float32), lr=0.5 / lam, steps=cfg["steps"], record=[cfg["steps"]], x_test=xt, progress=False)
    return h.test_pred[-1].double().cpu()


def fit_kernel(task):
    k = relu_ntk(task.x_train, depth=3, bias_var=0.1)
    kt = relu_ntk(task.x_test, task.x_train, depth=3, bias_var=0.1)
    y = task.y_train.double() if task.kind == "regression" else torch.nn.functional.one_hot(task.y_train, task.n_classes).double()
    return kernel_regression(k, y, k_test_train=kt).test[0]


def score(task, pred):
    if task.kind == "regression":
        return dict(mse=mse(pred, task.y_test.double()), r2=r2_score(pred, task.y_test.double()))
    return dict(acc=accuracy(pred, task.y_test), ce=cross_entropy(pred, task.y_test))


MODELS = ["MLP", "ResNet-style", "NTK regression", "NTK-ECRN"]
bench = {}
for ds in progress_bar(cfg["datasets"], desc="datasets"):
    for s in range(cfg["seeds"]):
        try:
            task = benchmark_task(ds, seed=SEED + s, n=400)
        except RuntimeError as err:  # Boston at paper scale without network
            print(err)
            break
        for m in MODELS:
            pred = fit_kernel(task) if m == "NTK regression" else fit_network(m, task, SEED + s)
            bench.setdefault((ds, m), []).append(score(task, pred))

# %% [markdown]
# The table (mean ± s.d. over {glue:text}`ch5_seeds` seeds and train/test splits; best per row in bold):

# %%
glue("ch5_seeds", cfg["seeds"])
rows = []
wins = {}
for ds in cfg["datasets"]:
    if (ds, "MLP") not in bench:
        continue
    regression = "mse" in bench[(ds, "MLP")][0]
    key, better = ("mse", min) if regression else ("acc", max)
    means = {m: np.mean([r[key] for r in bench[(ds, m)]]) for m in MODELS}
    best = better(means, key=means.get)
    wins[ds] = best
    cells = []
    for m in MODELS:
        vals = np.array([r[key] for r in bench[(ds, m)]])
        other = "r2" if regression else "ce"
        oth = np.mean([r[other] for r in bench[(ds, m)]])
        txt = f"{vals.mean():.3f} ± {vals.std(ddof=1) if len(vals) > 1 else 0.0:.3f} ({other.upper()} {oth:.2f})"
        cells.append(f"**{txt}**" if m == best else txt)
    rows.append(f"| {ds} ({'test MSE' if regression else 'test accuracy'}) | " + " | ".join(cells) + " |")
table_md = "| task | " + " | ".join(MODELS) + " |\n|---|" + "---|" * len(MODELS) + "\n" + "\n".join(rows)
glue("ch5_table", Markdown(table_md), display=False)
n_ecrn = sum(1 for v in wins.values() if v == "NTK-ECRN")
glue("ch5_ecrn_wins", n_ecrn)
glue("ch5_n_tasks", len(wins))
print(table_md)

# %% [markdown]
# ```{glue:md} ch5_table
# :format: myst
# ```
#
# NTK-ECRN is best on {glue:text}`ch5_ecrn_wins` of {glue:text}`ch5_n_tasks` tasks. The paper's claims
# of "significantly lower MSE, higher $R^2$ and improved accuracy" against every baseline do not hold
# across the board here: where the target has high frequencies (the sines) the Fourier features help
# a lot against the other *networks* trained for the same number of steps, but kernel regression with
# the analytic NTK, which the paper claims to beat, is better still; on small tabular sets the differences are within a standard deviation or two, and kernel
# regression with the analytic NTK is a strong, training-free baseline.
#
# ## 5.7 Conclusion: which claims hold
#
# | claim | source | here | verdict |
# |---|---|---|---|
# | Fourier features reduce spectral bias | `000` Mech. 1 | §5.5, Chapter 2 | confirmed |
# | $\lambda_{\max}$ growth bounded in proportion to $\alpha_l^2$ (eq. 15) | `000` §IV.A | §5.2 | **not reproduced as stated**: growth rises with $\alpha$ but not $\propto\alpha^2$; it tracks $\lambda_{\max}(0)$, which explodes with depth for constant $\alpha$; relative growth is not smaller for small $\alpha$ |
# | stochastic depth scales the expected NTK growth by $(1-p_l)$ (eq. 17) | `000` §IV.B | §5.3 | **not reproduced**: the growth does not fall like $1-p$; the variance cost of larger $p$ is visible in the scatter |
# | $\Delta\Theta$ shrinks as width grows | `000` experiment 3 | §5.4 | confirmed (about $n^{-1}$) |
# | lower MSE / higher $R^2$ / better accuracy than MLP, ResNet and NTK regression on synthetic and UCI tasks | `000`, `001` | §5.6 | **not reproduced across the board** (table) |
# | CIFAR-10 5k subset vs ResNet-18 | `000` | — | not run (see below) |
#
# **Not done here.** The CIFAR-10 comparison needs torchvision, the data set and a GPU; it is not part
# of the book build and has not been run.
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch5-init
# For a residual network with constant $\alpha$, show heuristically that the NNGP kernel's diagonal
# grows like $(1 + \alpha^2/2)^L$ with ReLU branches, and compare with the initial eigenvalues of §5.1.
# ```
#
# ````{solution} ex-ch5-init
# :class: dropdown
# With $h_{l+1} = h_l + \alpha\,\sigma(W h_l/\sqrt n)$ and ReLU, $\mathbb E\lVert h_{l+1}\rVert^2/n \approx
# q_l + \alpha^2 q_l/2 + 2\alpha\,\mathbb E[h\,\sigma(u)]/n$, and the cross term is $O(\sqrt{q})$-sized but
# positive, so $q_{l+1} \ge (1 + \alpha^2/2) q_l$: geometric growth in $L$ unless $\alpha = O(1/\sqrt L)$.
# ```python
# for L in cfg["depths"]:
#     print(L, init[("constant", L)], init[("1/sqrt(L)", L)])
# ```
# ````
#
# ```{exercise}
# :label: ex-ch5-lr
# Repeat §5.2 with a *fixed* step size for all $\alpha$ instead of $0.5/\lambda_{\max}(\Theta_0)$. What
# happens for large $\alpha$, and what does that say about reading eq. 15 as a stability guarantee?
# ```
#
# ````{solution} ex-ch5-lr
# :class: dropdown
# With a fixed step, large $\alpha$ makes $\eta\lambda_{\max}(\Theta_0) > 2$ and training diverges
# (`History.diverged`), whatever the growth bound says; small $\alpha$ trains slowly. Stability is
# governed by $\eta\lambda_{\max}$, so the scale of $\alpha$ matters only through the initial kernel.
# ````
