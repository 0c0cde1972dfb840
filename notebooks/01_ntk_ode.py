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
# # 1. From gradient descent to a linear ODE
#
# A neural network is a nonlinear function of its parameters, and its squared loss is not
# convex. Yet a wide network trained by gradient descent behaves like something much simpler: a
# *linear* model whose function-space dynamics is a linear ODE with a fixed matrix, the **neural
# tangent kernel** (NTK) {cite}`jacot2018ntk`. This chapter derives that ODE, solves it, and then
# checks every step against real training runs:
#
# 1. linearize the network around its initialization and meet the empirical NTK;
# 2. turn gradient flow on the parameters into the ODE $\dot f = -\Theta (f - y)$ and solve it;
# 3. see why, as the width grows, $\Theta$ becomes deterministic and stops moving, and compute its
#    limit $\Theta_\infty$ by the recursion of {cite}`jacot2018ntk` (Theorem 1 of {cite}`starnaud2025revisiting`);
# 4. train a wide ReLU network and overlay its predictions on the closed-form solution;
# 5. measure how finite widths approach the limit, as a function of the width *and* of the training
#    time, and what breaks at small width or large step size.
#
# Every number in the text below is computed by the code cells of this page; intervals are 95 %
# intervals over independent initializations (seeds).

# %% tags=["parameters"]
SCALE = "book"  # "smoke": seconds (CI) | "book": what this page shows, CPU | "paper": Colab GPU
SEED = 0
DEVICE = "auto"  # "auto" picks CUDA, then MPS, then CPU

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import torch

from ntk_lib.analytic import relu_ntk
from ntk_lib.data import circle
from ntk_lib.dynamics import gradient_descent, gradient_flow
from ntk_lib.empirical import empirical_ntk
from ntk_lib.fit import mean_interval, slope_interval
from ntk_lib.models import MLP
from ntk_lib.notebook import glue, setup
from ntk_lib.plotting import COLORS
from ntk_lib.training import log_spaced_steps, progress_bar, train_gd

run = setup(SCALE, SEED, DEVICE)
dev = run.device
cfg = run.pick(
    {
        "smoke": dict(n_train=8, n_test=50, width=128, steps=100, init_seeds=3, init_widths=[32, 64, 128],
                      widths=[32, 64, 128], seeds=2, sweep_steps=40, lr_width=128, lr_steps=60, lr_seeds=2,
                      factors=[0.9, 1.5, 6.0]),
        "book": dict(n_train=16, n_test=200, width=1024, steps=2500, init_seeds=16, init_widths=[64, 128, 256, 512, 1024, 2048, 4096],
                     widths=[64, 128, 256, 512, 1024, 2048], seeds=8, sweep_steps=600, lr_width=512, lr_steps=300, lr_seeds=4,
                     factors=[0.5, 0.9, 1.2, 1.6, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0]),
        "paper": dict(n_train=64, n_test=400, width=16384, steps=5000, init_seeds=32, init_widths=[256, 512, 1024, 2048, 4096, 8192, 16384],
                      widths=[256, 512, 1024, 2048, 4096, 8192, 16384], seeds=8, sweep_steps=2000, lr_width=4096, lr_steps=1000, lr_seeds=8,
                      factors=[0.5, 0.9, 1.2, 1.6, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0]),
    }
)
DEPTH = 3  # linear layers: two hidden ReLU layers
print(f"scale {run.scale}: {cfg['n_train']} training points, main width {cfg['width']}, depth {DEPTH}")

# %% [markdown]
# ## 1.1 Linearization
#
# Let $f(x;\theta)$ be a network with parameters $\theta \in \mathbb R^P$, initialized at
# $\theta_0$. Close to $\theta_0$ a first-order Taylor expansion gives the **linearized network**
#
# $$
# f^{\rm lin}(x;\theta) = f(x;\theta_0) + \nabla_\theta f(x;\theta_0)^\top (\theta - \theta_0).
# $$
#
# It is nonlinear in $x$ but *linear in $\theta$*: a linear model on the fixed features
# $\phi(x) = \nabla_\theta f(x;\theta_0)$, and its squared loss is convex. The question of this
# chapter is when training the real network stays close to training $f^{\rm lin}$. The remainder
# of the expansion is bounded by $\tfrac12\lVert H\rVert\,\lVert\theta-\theta_0\rVert^2$, with $H$ the
# Hessian of $f$ in $\theta$ along the path. In the NTK parameterization used here (weights
# $\mathcal N(0,1)$, each layer scaled by $1/\sqrt{\text{fan-in}}$ in the forward pass) the two factors
# behave differently with the width $n$ {cite}`liu2020linearity`:
#
# * the **total** distance travelled stays of order one, $\lVert\theta_t-\theta_0\rVert = O(1)$ (for
#   the linear model, $\lVert\theta_\infty-\theta_0\rVert^2 = r_0^\top\Theta^{-1}r_0$ does not grow with $n$);
#   it is spread over the $n^2$ hidden-to-hidden weights, so **each of those moves by $O(1/n)$**;
# * the Hessian's operator norm is $O(n^{-1/2})$, so the remainder is $O(n^{-1/2})$ and the Jacobian,
#   hence the kernel, changes by at most $O(n^{-1/2})$ along the way.
#
# The lecture note {cite}`ee556ntk` gives the common heuristic instead: each weight contributes
# $O(1/\sqrt n)$ to the output, so its gradient, and its movement, are $O(1/\sqrt n)$. That holds for the
# input and readout weights, but for the $n^2$ hidden-to-hidden weights it would add up to a total movement of
# order $\sqrt n$ and no constant kernel. Section 1.6 measures both movements.
#
# ## 1.2 The empirical neural tangent kernel
#
# The inner product of two feature vectors is the **empirical NTK** (Definition 2 of
# {cite}`starnaud2025revisiting`):
#
# $$
# \Theta_\theta(x, x') = \nabla_\theta f(x;\theta)^\top \nabla_\theta f(x';\theta)
#   = \sum_{p=1}^P \frac{\partial f(x;\theta)}{\partial \theta_p}\frac{\partial f(x';\theta)}{\partial \theta_p}.
# $$
#
# On a training set $X = (x_1,\dots,x_N)$ it is the Gram matrix $\Theta = J J^\top$ of the
# Jacobian $J \in \mathbb R^{N\times P}$, so it is symmetric positive semi-definite.
# It measures how much a gradient step that changes the output at $x'$ also changes it at $x$.
#
# We work on a small regression problem on the unit circle, $x = (\cos\vartheta, \sin\vartheta)$,
# with target $y(\vartheta) = \sin 2\vartheta + \tfrac12\cos 3\vartheta$, and a ReLU network with
# two hidden layers in the NTK parameterization ({class}`ntk_lib.models.MLP`).
# {func}`ntk_lib.empirical.empirical_ntk` computes $\Theta$; {func}`ntk_lib.analytic.relu_ntk` its
# infinite-width limit $\Theta_\infty$ (section 1.4). Because late training is governed by the
# smallest eigenvalues (section 1.3), we compare the two kernels not only in Frobenius norm, which
# the top eigenvalues dominate, but also in the directions $v_j$ of the smallest eigenvalues of
# $\Theta_\infty$, through the Rayleigh quotients $v_j^\top\Theta_0 v_j / \lambda_j(\Theta_\infty)$
# (1 for a perfect match), and through $\lambda_{\min}$ itself.

# %%
ang, x_train = circle(cfg["n_train"], seed=SEED)
ang_test, x_test = circle(cfg["n_test"], random=False)


def target(a):
    return torch.sin(2 * a) + 0.5 * torch.cos(3 * a)


y_train = target(ang)
y_test = target(ang_test)
X, Y, XT = (t.to(dev, torch.float32) for t in (x_train, y_train, x_test))

net = MLP(2, cfg["width"], DEPTH, seed=SEED).to(dev)
theta_0 = empirical_ntk(net, X).double().cpu()  # empirical NTK at initialization
theta_0_test = empirical_ntk(net, XT, X).double().cpu()  # K(x_test, X)
with torch.no_grad():
    f0_train = net(X).double().cpu()
    f0_test = net(XT).double().cpu()

theta_inf = relu_ntk(x_train, depth=DEPTH)  # the infinite-width limit (section 1.4)
theta_inf_test = relu_ntk(x_test, x_train, depth=DEPTH)
eig_inf, vec_inf = torch.linalg.eigh(theta_inf)  # ascending
eig_0 = torch.linalg.eigvalsh(theta_0)


def kernel_errors(k_emp):
    """Relative errors of an empirical kernel against Theta_inf: Frobenius, lambda_min, and the
    Rayleigh quotients on the three bottom eigenvectors and the top one of Theta_inf."""
    rq = torch.einsum("ij,ik,kj->j", vec_inf, k_emp, vec_inf) / eig_inf
    return dict(
        frob=float((k_emp - theta_inf).norm() / theta_inf.norm()),
        lmin=float(abs(torch.linalg.eigvalsh(k_emp)[0] / eig_inf[0] - 1)),
        rq_bottom=float((rq[:3] - 1).abs().max()),
        rq_top=float(abs(rq[-1] - 1)),
    )


init_runs = [kernel_errors(empirical_ntk(MLP(2, cfg["width"], DEPTH, seed=500 + s).to(dev), X).double().cpu()) for s in range(cfg["init_seeds"])]
init_ci = {key: mean_interval([r[key] for r in init_runs]) for key in init_runs[0]}
glue("ch1_width", cfg["width"])
glue("ch1_n_train", cfg["n_train"])
glue("ch1_init_seeds", cfg["init_seeds"])
glue("ch1_lmin_inf", float(eig_inf[0]))
glue("ch1_lmax_inf", float(eig_inf[-1]))
glue("ch1_lmin_0", float(eig_0[0]))
glue("ch1_rel_init", kernel_errors(theta_0)["frob"])
for key, ci in init_ci.items():
    glue(f"ch1_init_{key}", str(ci))
print(f"eigenvalues of Theta_inf: min {float(eig_inf[0]):.3e}, max {float(eig_inf[-1]):.3f}")
print(f"seed {SEED}: eigenvalues of Theta_0: min {float(eig_0[0]):.3e}, max {float(eig_0[-1]):.3f}")
print(f"relative error of Theta_0 at width {cfg['width']}, mean [95% interval] over {cfg['init_seeds']} seeds:")
for key, label in (("frob", "Frobenius"), ("rq_top", "Rayleigh quotient, top eigenvector"),
                   ("rq_bottom", "Rayleigh quotient, worst of 3 bottom eigenvectors"), ("lmin", "lambda_min")):
    print(f"  {label:50s} {init_ci[key]}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: the empirical NTK of the network at initialization on the training points (sorted by angle). Middle: the analytic infinite-width kernel. Right: their spectra; the small eigenvalues set the slow directions of training, and that is where the two kernels differ most.", "name": "fig-ch1-kernels"}}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
vmax = float(theta_inf.max())
order = torch.argsort(ang)
for ax, mat, title in ((axes[0], theta_0, rf"empirical $\Theta_0$, width {cfg['width']}"), (axes[1], theta_inf, r"analytic $\Theta_\infty$")):
    im = ax.imshow(mat[order][:, order].numpy(), vmin=0, vmax=vmax, cmap="viridis")
    ax.set_title(title)
    ax.set_xlabel("training point $j$ (by angle)")
    ax.grid(False)
axes[0].set_ylabel("training point $i$ (by angle)")
fig.colorbar(im, ax=axes[:2], shrink=0.8, label=r"kernel value $\Theta(x_i, x_j)$")
axes[2].semilogy(np.arange(1, len(eig_0) + 1), eig_0.flip(0).numpy(), "o", color=COLORS["emp"], label=r"$\Theta_0$")
axes[2].semilogy(np.arange(1, len(eig_inf) + 1), eig_inf.flip(0).numpy(), "x", color=COLORS["inf"], label=r"$\Theta_\infty$")
axes[2].set_xlabel("index $i$ (descending)")
axes[2].set_ylabel(r"eigenvalue $\lambda_i$")
axes[2].set_title("spectra")
axes[2].legend()
plt.show()

# %% [markdown]
# **What it shows.** At width {glue:text}`ch1_width` the two matrices look alike, and the relative
# Frobenius distance is {glue:text}`ch1_init_frob` (mean and 95 % interval over
# {glue:text}`ch1_init_seeds` initializations). That number is governed by the top of the spectrum: the
# Rayleigh quotient on the top eigenvector is off by {glue:text}`ch1_init_rq_top`. In the directions of the
# three smallest eigenvalues of $\Theta_\infty$ the worst Rayleigh quotient is off by
# {glue:text}`ch1_init_rq_bottom`, and $\lambda_{\min}$ itself by {glue:text}`ch1_init_lmin` (for the network
# drawn here, $\lambda_{\min}(\Theta_0) =$ {glue:text}`ch1_lmin_0:.2e` against
# {glue:text}`ch1_lmin_inf:.2e`). The kernels agree well where training is fast and poorly where it
# is slow; section 1.5 shows the consequence.
#
# ## 1.3 Gradient flow is a linear ODE in function space
#
# **Conventions.** The loss is a *sum* over the $N$ training points,
# $\mathcal L(\theta) = \frac12\sum_{i=1}^N (f(x_i;\theta) - y_i)^2 = \frac12\lVert f_\theta(X) - y\rVert^2$,
# gradient flow is $\dot\theta_t = -\nabla_\theta\mathcal L(\theta_t)$, and gradient descent with step
# $\eta$, $\theta_{k+1} = \theta_k - \eta\nabla_\theta\mathcal L(\theta_k)$, is its Euler discretization:
# step $k$ is time $t = k\eta$. (Jacot et al. {cite}`jacot2018ntk` and Lee et al. {cite}`lee2019wide`
# average the loss over the data, $\frac1{2N}\sum_i$; with that convention every rate below is divided
# by $N$, i.e. their kernel is $\Theta/N$.) Since $\nabla_\theta \mathcal L = J_t^\top (f_t(X) - y)$, the
# chain rule gives, for any input $x$,
#
# $$
# \frac{d}{dt} f_t(x) = \nabla_\theta f(x;\theta_t)^\top\dot\theta_t
#   = -\Theta_t(x, X)\,\big(f_t(X) - y\big),
# \qquad\text{and on the training set}\qquad
# \frac{d}{dt} f_t(X) = -\Theta_t\,\big(f_t(X) - y\big).
# $$
#
# This is exact, but $\Theta_t$ depends on $\theta_t$. **If $\Theta_t = \Theta$ stays constant**
# (exactly true for $f^{\rm lin}$), the residual $r_t = f_t(X) - y$ solves the linear ODE
# $\dot r = -\Theta r$ and
#
# $$
# f_t(X) = y + e^{-t\Theta}\big(f_0(X) - y\big), \qquad
# f_t(x) = f_0(x) - \Theta(x,X)\,\Theta^{-1}\big(I - e^{-t\Theta}\big)\big(f_0(X) - y\big).
# $$
#
# With $\Theta = \sum_i \lambda_i v_i v_i^\top$, the residual's component along $v_i$ decays as
# $e^{-\lambda_i t}$: every eigen-direction is learned at its own rate, the slowest at
# $\lambda_{\min}$, and if $\lambda_{\min} > 0$ the training loss goes to zero,
# $\lVert r_t\rVert \le e^{-\lambda_{\min} t}\lVert r_0\rVert$. As $t\to\infty$ the test
# prediction becomes kernel regression, $f_\infty(x) = f_0(x) + \Theta(x,X)\Theta^{-1}(y - f_0(X))$
# (Proposition 3 of {cite}`starnaud2025revisiting`). For a mode with $\lambda_i = 0$ the factor
# $(1 - e^{-t\lambda_i})/\lambda_i$ tends to $t$. {func}`ntk_lib.dynamics.gradient_flow`
# evaluates these formulas for a whole vector of times from one eigendecomposition.
#
# Gradient descent on the linearized model is $f_{k+1}(X) = f_k(X) - \eta\Theta(f_k(X) - y)$, so the
# residual along $v_i$ is multiplied by $(1-\eta\lambda_i)$ per step
# ({func}`ntk_lib.dynamics.gradient_descent`). After $k$ steps that is $(1-\eta\lambda_i)^k \approx
# e^{-\lambda_i k\eta}$ when $\eta\lambda_i \ll 1$, the flow at $t = k\eta$. A mode with
# $\eta > 2/\lambda_i$ grows instead of decaying: the step-size limit $\eta < 2/\lambda_{\max}$ of
# section 1.7, a property of the *discrete* iteration only (the flow decays for every $\lambda_i \ge 0$).
#
# ## 1.4 Why the kernel becomes deterministic and constant
#
# At initialization, $\Theta_{\theta_0}(x,x')$ is a sum over the $P$ parameters whose layer-wise
# parts are averages over $n$ neurons; by the law of large numbers it concentrates around its mean,
# with fluctuations $O(n^{-1/2})$ {cite}`jacot2018ntk`. During training, section 1.1's argument bounds
# its movement by $O(n^{-1/2})$; Lee et al. {cite}`lee2019wide` prove that bound for the kernel and for
# the distance between the network and its linearization, uniformly over training time, for step sizes
# below a critical value. Perturbative analyses of the training dynamics
# {cite}`dyer2020asymptotics,huang2020dynamics` sharpen it: **at a fixed training time** the kernel's
# movement and the network's deviation from its linearization are $O(1/n)$, with coefficients that grow
# with $t$. In the limit the network *is* its linearization, and its kernel is a deterministic function
# of the architecture. {cite}`jacot2018ntk` compute it by a recursion over layers (Theorem 1 of
# {cite}`starnaud2025revisiting`). With $L$ linear layers, weight variance $w$ and bias variance $b$:
#
# $$
# \begin{aligned}
# \Sigma^{(1)}(x,x') &= w\,\tfrac{x^\top x'}{n_0} + b, &
# \Sigma^{(l+1)}(x,x') &= w\,\mathbb E_{u\sim\mathcal N(0,\Sigma^{(l)})}\big[\sigma(u(x))\sigma(u(x'))\big] + b,\\
# \dot\Sigma^{(l+1)}(x,x') &= w\,\mathbb E_{u\sim\mathcal N(0,\Sigma^{(l)})}\big[\sigma'(u(x))\sigma'(u(x'))\big], &
# \Theta^{(1)}_\infty &= \Sigma^{(1)},\quad \Theta^{(l+1)}_\infty = \dot\Sigma^{(l+1)}\Theta^{(l)}_\infty + \Sigma^{(l+1)}.
# \end{aligned}
# $$
#
# For ReLU both expectations have closed forms (the arc-cosine kernels of {cite}`cho2009kernel`,
# Proposition 2 of {cite}`starnaud2025revisiting`): with $\cos\varphi = \rho = \Sigma(x,x')/\sqrt{\Sigma(x,x)\Sigma(x',x')}$,
# $\mathbb E[\sigma\sigma] = \frac{\sqrt{\Sigma(x,x)\Sigma(x',x')}}{2\pi}\big(\sin\varphi + (\pi-\varphi)\cos\varphi\big)$
# and $\mathbb E[\sigma'\sigma'] = \frac{\pi-\varphi}{2\pi}$.
# {func}`ntk_lib.analytic.relu_ntk` runs this recursion (in a normalized form that keeps full
# precision, see its documentation). On the sphere with $w=1, b=0$ the diagonal is
# $\Theta^{(L)}_\infty(x,x) = L/(n_0 2^{L-1})$ (Proposition 1): for our $n_0 = 2$, $L = 3$ that is
# $3/8$, and the code agrees to the last digits:

# %%
diag_err = float((theta_inf.diagonal() - DEPTH / (2 * 2 ** (DEPTH - 1))).abs().max())
glue("ch1_diag_err", diag_err)
print(f"max |Theta_inf(x, x) - 3/8| on the training set: {diag_err:.1e}")

# %% [markdown]
# ## 1.5 A wide network trains like its kernel
#
# Now the experiment. We train the network of section 1.2 by full-batch gradient descent
# ({func}`ntk_lib.training.train_gd`, summed loss) with step $\eta = 0.1/\lambda_{\max}(\Theta_\infty)$,
# far inside the stable range $\eta\lambda_{\max}(\Theta_0) < 2$ (checked below), and compare its
# predictions, on the training set and on a test grid around the circle, with three closed forms
# started from the same $f_0$, all at $t = k\eta$:
#
# * gradient flow with the **empirical kernel at initialization** $\Theta_0$;
# * gradient flow with the **analytic kernel** $\Theta_\infty$;
# * discrete gradient descent on the linearized model (same $\Theta_0$), which removes the small
#   difference between steps and flow.

# %%
lr = 0.1 / float(eig_inf[-1])
hist = train_gd(net, X, Y, lr=lr, steps=cfg["steps"], x_test=XT, ntk_at=[cfg["steps"]], desc="training the wide net")
times = hist.times
flow_emp = gradient_flow(theta_0, y_train, t=times, f0_train=f0_train, k_test_train=theta_0_test, f0_test=f0_test)
flow_inf = gradient_flow(theta_inf, y_train, t=times, f0_train=f0_train, k_test_train=theta_inf_test, f0_test=f0_test)
gd_emp = gradient_descent(theta_0, y_train, steps=hist.steps, lr=lr, f0_train=f0_train, k_test_train=theta_0_test, f0_test=f0_test)

net_test = hist.test_pred.double().cpu()
net_train = hist.train_pred.double().cpu()
scale_y = float(y_test.abs().max())


def max_gap(a, b):
    return float((a - b).abs().max()) / scale_y


gaps = {
    "flow, empirical Theta_0": max_gap(net_test, flow_emp.test),
    "flow, analytic Theta_inf": max_gap(net_test, flow_inf.test),
    "discrete GD, Theta_0": max_gap(net_test, gd_emp.test),
}
moved = float((hist.ntk[cfg["steps"]].double().cpu() - theta_0).norm() / theta_0.norm())
test_err = {name: float(((f.test[-1] - y_test) ** 2).mean()) for name, f in (("emp", flow_emp), ("inf", flow_inf))}
test_err["net"] = float(((net_test[-1] - y_test) ** 2).mean())
glue("ch1_lr", lr)
glue("ch1_eta_lmax0", lr * float(eig_0[-1]))
glue("ch1_t_end", float(times[-1]))
glue("ch1_gap_emp", gaps["flow, empirical Theta_0"])
glue("ch1_gap_inf", gaps["flow, analytic Theta_inf"])
glue("ch1_gap_gd", gaps["discrete GD, Theta_0"])
glue("ch1_moved_main", moved)
glue("ch1_loss_end", float(hist.loss[-1]))
glue("ch1_loss_start", float(hist.loss[0]))
for name, v in test_err.items():
    glue(f"ch1_test_{name}", v)
print(f"step size {lr:.4f} (eta * lambda_max(Theta_0) = {lr * float(eig_0[-1]):.3f}), {cfg['steps']} steps, final time t = k eta = {times[-1]:.1f}")
print(f"training loss: {hist.loss[0]:.3f} -> {hist.loss[-1]:.2e}")
for name, g in gaps.items():
    print(f"max |network - {name}| on the test grid, over all recorded times: {g:.3f} x max|y|")
print(f"kernel movement |Theta_T - Theta_0|_F / |Theta_0|_F = {moved:.3f}")
print("test MSE at the end: network {net:.4f}, flow with Theta_0 {emp:.4f}, flow with Theta_inf {inf:.4f}".format(**test_err))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: training loss of the network (solid) and of the closed-form gradient flow with the empirical kernel at initialization and with the analytic infinite-width kernel (dashed), against t = k eta. Right: the learned function on the circle at three times; dots are the training points.", "name": "fig-ch1-flow"}}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
ax = axes[0]
loss_emp = 0.5 * ((flow_emp.train - y_train) ** 2).sum(1)
loss_inf = 0.5 * ((flow_inf.train - y_train) ** 2).sum(1)
loss_net = 0.5 * ((net_train - y_train) ** 2).sum(1)
keep = times > 0
ax.loglog(times[keep], loss_net[keep], color=COLORS["net"], lw=2.5, label=f"network, width {cfg['width']}")
ax.loglog(times[keep], loss_emp[keep], "--", color=COLORS["emp"], label=r"flow with $\Theta_0$")
ax.loglog(times[keep], loss_inf[keep], ":", color=COLORS["inf"], lw=2, label=r"flow with $\Theta_\infty$")
ax.set_xlabel(r"time $t = k\eta$")
ax.set_ylabel(r"training loss $\frac{1}{2}\sum_i (f_t(x_i)-y_i)^2$")
ax.set_title("training loss")
ax.legend()
ax = axes[1]
picks = [int(np.searchsorted(times, v)) for v in (times[-1] / 100, times[-1] / 10)] + [len(times) - 1]
ax.plot(ang_test, y_test, color=COLORS["data"], lw=1, alpha=0.5, label="target")
ax.plot(ang, y_train, "o", color=COLORS["data"], ms=4)
for j, p in enumerate(picks):
    ax.plot(ang_test, net_test[p], color=COLORS["net"], lw=2, alpha=0.4 + 0.3 * j, label="network" if j == 2 else None)
    ax.plot(ang_test, flow_emp.test[p], "--", color=COLORS["emp"], label=r"flow, $\Theta_0$" if j == 2 else None)
    ax.plot(ang_test, flow_inf.test[p], ":", color=COLORS["inf"], lw=2, label=r"flow, $\Theta_\infty$" if j == 2 else None)
    ax.annotate(f"t={times[p]:.2g}", (ang_test[-1], float(net_test[p][-1])), fontsize=7)
ax.set_xlabel(r"angle $\vartheta$")
ax.set_ylabel(r"$f_t(\cos\vartheta, \sin\vartheta)$")
ax.set_title("predictions at three times")
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# **What it shows.** Over the whole run (to $t =$ {glue:text}`ch1_t_end:.0f`, the loss falling
# from {glue:text}`ch1_loss_start:.2f` to {glue:text}`ch1_loss_end:.1e`) the network's test
# predictions stay within {glue:text}`ch1_gap_emp:.3f` $\times\max|y|$ of the closed-form flow with
# its own initial kernel and within {glue:text}`ch1_gap_inf:.3f` $\times\max|y|$ of the flow with
# the analytic $\Theta_\infty$; the discrete linearized model is {glue:text}`ch1_gap_gd:.3f` away.
# The kernel itself moved by {glue:text}`ch1_moved_main:.3f` in relative Frobenius norm. The curves
# differ most late in training, in the directions with the smallest eigenvalues, where section 1.2
# found the two kernels furthest apart: by the end the test MSE is {glue:text}`ch1_test_net:.3f` for the
# network, {glue:text}`ch1_test_emp:.3f` for the flow with $\Theta_0$ and {glue:text}`ch1_test_inf:.3f`
# for the flow with $\Theta_\infty$ (one seed; section 1.6 gives intervals over seeds).
#
# ## 1.6 How finite widths approach the limit, over width and time
#
# For the same data and depth we draw {glue:text}`ch1_sweep_seeds` networks per width, train each with
# $\eta = 1/\lambda_{\max}(\Theta_\infty)$ (the largest $\eta\lambda_{\max}(\Theta_0)$ over all of them is
# printed below: it stays under 2), and record along the run
#
# * the gap to the linearization trained the same way, on the test grid $X_*$ (on the training points
#   both models converge to $y$, so the gap there closes by construction),
#   $\lVert f_t(X_*) - f^{\rm lin}_t(X_*)\rVert / \lVert y(X_*)\rVert$, at every recorded time;
# * the kernel's movement $\lVert\Theta_t - \Theta_0\rVert_F / \lVert\Theta_0\rVert_F$ at three end times;
# * the parameter movement: the total $\lVert\theta_t-\theta_0\rVert$ and the largest change of one
#   hidden-to-hidden weight, $\max_{ij}\lvert\Delta W^{(2)}_{ij}\rvert$ (section 1.1 predicts $n^0$ and $n^{-1}$);
# * and, at initialization with more seeds and widths, the kernel's distance to $\Theta_\infty$ in
#   Frobenius norm and in $\lambda_{\min}$.
#
# Every exponent is the least-squares slope of the seed-averaged $\log$ distance against $\log n$,
# with a bootstrap 95 % interval over seeds ({func}`ntk_lib.fit.slope_interval`).

# %%
init_rows = np.array([
    [(lambda e: (e["frob"], e["lmin"], e["rq_bottom"]))(kernel_errors(empirical_ntk(MLP(2, w, DEPTH, seed=2000 + s).to(dev), X).double().cpu())) for w in cfg["init_widths"]]
    for s in progress_bar(range(cfg["init_seeds"]), desc="kernels at initialization")
])  # [seeds, widths, 3]
init_w = np.array(cfg["init_widths"], dtype=float)
init_fit = {key: slope_interval(init_w, init_rows[:, :, i]) for i, key in enumerate(("frob", "lmin", "rq_bottom"))}
for key, f in init_fit.items():
    glue(f"ch1_slope_init_{key}", str(f))
    print(f"initial kernel vs Theta_inf, {key}: slope {f}")

lr_s = 1.0 / float(eig_inf[-1])
S = cfg["sweep_steps"]
ends = sorted({max(1, round(S / 100)), max(1, round(S / 10)), S})  # three end times, a decade apart
rec = sorted(set(log_spaced_steps(S, 30)) | set(ends))
widths = np.array(cfg["widths"], dtype=float)
G = np.zeros((cfg["seeds"], len(widths), len(rec)))  # linearization gap at every recorded step
M = np.zeros((cfg["seeds"], len(widths), len(ends)))  # kernel movement at the end times
P = np.zeros((cfg["seeds"], len(widths), 3))  # total parameter distance; largest and RMS hidden-weight change
worst_eta_lmax = 0.0
for iw, width in enumerate(progress_bar(cfg["widths"], desc="width x time sweep")):
    for s in range(cfg["seeds"]):
        model = MLP(2, width, DEPTH, seed=1000 + s).to(dev)
        k0 = empirical_ntk(model, X).double().cpu()
        k0_test = empirical_ntk(model, XT, X).double().cpu()
        worst_eta_lmax = max(worst_eta_lmax, lr_s * float(torch.linalg.eigvalsh(k0)[-1]))
        p0 = [p.detach().clone() for p in model.parameters()]
        with torch.no_grad():
            f0, f0t = model(X).double().cpu(), model(XT).double().cpu()
        h = train_gd(model, X, Y, lr=lr_s, steps=S, record=rec, x_test=XT, ntk_at=[0, *ends], progress=False)
        if h.diverged:
            raise RuntimeError(f"width {width}, seed {s}: training diverged at eta = 1/lambda_max(Theta_inf)")
        lin = gradient_descent(k0, y_train, steps=h.steps, lr=lr_s, f0_train=f0, k_test_train=k0_test, f0_test=f0t)
        # on the test grid: on the training points both models converge to y, which would hide the gap
        G[s, iw] = ((h.test_pred.double().cpu() - lin.test).norm(dim=1) / y_test.norm()).numpy()
        M[s, iw] = [float((h.ntk[e].double().cpu() - k0).norm() / k0.norm()) for e in ends]
        dp = [p.detach() - q for p, q in zip(model.parameters(), p0)]
        P[s, iw] = [float(torch.sqrt(sum((d.double() ** 2).sum() for d in dp))), float(dp[1].abs().max()),
                    float(dp[1].double().pow(2).mean().sqrt())]

t_rec = np.array(rec) * lr_s
t_ends = np.array(ends) * lr_s
i_ends = [rec.index(e) for e in ends]
gap_fit = [slope_interval(widths, G[:, :, i]) for i in i_ends]
move_fit = [slope_interval(widths, M[:, :, j]) for j in range(len(ends))]
dtheta_fit = slope_interval(widths, P[:, :, 0])
dw_fit = slope_interval(widths, P[:, :, 1])
dw_rms_fit = slope_interval(widths, P[:, :, 2])
glue("ch1_sweep_seeds", cfg["seeds"])
glue("ch1_worst_eta_lmax", worst_eta_lmax)
glue("ch1_slope_dtheta", str(dtheta_fit))
glue("ch1_slope_dw", str(dw_fit))
glue("ch1_slope_dw_rms", str(dw_rms_fit))
for j, (t, gf, mf) in enumerate(zip(t_ends, gap_fit, move_fit)):
    glue(f"ch1_t_end{j}", float(t))
    glue(f"ch1_slope_gap{j}", str(gf))
    glue(f"ch1_slope_move{j}", str(mf))
with np.errstate(divide="ignore"):  # the gap is exactly 0 at t = 0
    gm = np.exp(np.log(G).mean(0))  # geometric mean over seeds, [widths, times]
mm = np.exp(np.log(M).mean(0))
glue("ch1_wmax", int(widths[-1]))
glue("ch1_wmin", int(widths[0]))
glue("ch1_gap_growth", float(gm[-1, i_ends[-1]] / gm[-1, i_ends[0]]))
glue("ch1_gap_growth_small", float(gm[0, i_ends[-1]] / gm[0, i_ends[0]]))
glue("ch1_gap_local_slope", float(np.log(gm[-1, i_ends[-1]] / gm[-2, i_ends[-1]]) / np.log(widths[-1] / widths[-2])))
glue("ch1_wmax_prev", int(widths[-2]))
glue("ch1_move_growth", float(mm[-1, -1] / mm[-1, 0]))
glue("ch1_gap_small_end", float(gm[0, i_ends[-1]]))
glue("ch1_move_small_end", float(mm[0, -1]))
print(f"eta = 1/lambda_max(Theta_inf) = {lr_s:.3f}; largest eta * lambda_max(Theta_0) over all runs: {worst_eta_lmax:.2f}")
print("fitted exponents of width (95% bootstrap interval over seeds):")
for t, gf, mf in zip(t_ends, gap_fit, move_fit):
    print(f"  t = {t:7.2f}: linearization gap {gf},  kernel movement {mf}")
print(f"  parameter distance |theta_T - theta_0|: {dtheta_fit};  largest |Delta W2_ij|: {dw_fit};  RMS Delta W2_ij: {dw_rms_fit}")
print("geometric means over seeds; gap and kernel movement at the three end times")
print("width   gap: " + "  ".join(f"t={t:<7.3g}" for t in t_ends) + "   kernel moved: " + "  ".join(f"t={t:<7.3g}" for t in t_ends) + "   |theta_T-theta_0|")
for iw, w in enumerate(widths):
    print(f"{int(w):6d}   " + "  ".join(f"{gm[iw, i]:9.4f}" for i in i_ends) + "   " + "  ".join(f"{mm[iw, j]:9.4f}" for j in range(len(ends)))
          + f"   {np.exp(np.log(P[:, iw, 0]).mean()):8.3f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: the gap between the network and its linearization against training time t = k eta, one curve per width (geometric mean over seeds). Middle: the same gap and the kernel's movement against width at three end times, with fitted exponents. Right: the initial kernel's distance to its limit, in Frobenius norm and in lambda_min, and the parameter movement (total, and largest hidden weight).", "name": "fig-ch1-width"}}
fig, axes = plt.subplots(1, 3, figsize=(14, 4.0), layout="constrained")
cmap = plt.get_cmap("viridis")
ax = axes[0]
for iw, w in enumerate(widths):
    ax.loglog(t_rec[1:], gm[iw, 1:], color=cmap(iw / max(len(widths) - 1, 1)), label=f"width {int(w)}")
for t in t_ends:
    ax.axvline(t, color="gray", lw=0.6, ls=":")
ax.set_xlabel(r"time $t = k\eta$")
ax.set_ylabel(r"$\|f_t(X_*)-f^{\rm lin}_t(X_*)\|/\|y(X_*)\|$ (test grid)")
ax.set_title("linearization gap over training")
ax.legend(fontsize=7)
ax = axes[1]
for j, t in enumerate(t_ends):
    c = plt.get_cmap("plasma")(j / max(len(t_ends), 1))
    ax.loglog(widths, gm[:, i_ends[j]], "o-", color=c, label=f"gap, t={t:.3g}: {gap_fit[j].slope:.2f}")
    ax.loglog(widths, mm[:, j], "s--", color=c, mfc="none", label=f"kernel moved, t={t:.3g}: {move_fit[j].slope:.2f}")
ax.set_xlabel("width $n$ of each hidden layer")
ax.set_ylabel("relative distance")
ax.set_title("gap and kernel movement against width")
ax.legend(fontsize=6)
ax = axes[2]
gi = np.exp(np.log(init_rows).mean(0))
ax.loglog(init_w, gi[:, 0], "o-", color=COLORS["inf"], label=rf"$\|\Theta_0-\Theta_\infty\|_F/\|\Theta_\infty\|_F$: {init_fit['frob'].slope:.2f}")
ax.loglog(init_w, gi[:, 1], "^-", color=COLORS["extra"], label=rf"$|\lambda_{{\min}}(\Theta_0)/\lambda_{{\min}}(\Theta_\infty)-1|$: {init_fit['lmin'].slope:.2f}")
ax.loglog(widths, np.exp(np.log(P[:, :, 0]).mean(0)), "s-", color=COLORS["net"], label=rf"$\|\theta_T-\theta_0\|$: {dtheta_fit.slope:.2f}")
ax.loglog(widths, np.exp(np.log(P[:, :, 1]).mean(0)), "d-", color=COLORS["emp"], label=rf"$\max|\Delta W^{{(2)}}_{{ij}}|$: {dw_fit.slope:.2f}")
ax.loglog(widths, np.exp(np.log(P[:, :, 2]).mean(0)), "v-", color=COLORS["data"], label=rf"RMS $\Delta W^{{(2)}}_{{ij}}$: {dw_rms_fit.slope:.2f}")
ax.set_xlabel("width $n$ of each hidden layer")
ax.set_ylabel("distance (see legend)")
ax.set_title("initial kernel and parameter movement")
ax.legend(fontsize=6)
plt.show()

# %% [markdown]
# **What it shows.** *At initialization* the kernel's Frobenius distance to $\Theta_\infty$ falls with
# exponent {glue:text}`ch1_slope_init_frob`, the $-\frac12$ of the law of large numbers; the relative error
# of $\lambda_{\min}$ falls with exponent {glue:text}`ch1_slope_init_lmin`, and the worst bottom Rayleigh
# quotient with {glue:text}`ch1_slope_init_rq_bottom`, but from a much higher level: the small eigenvalues
# are where finite width shows.
#
# *During training* the exponents depend on when one looks. At $t =$ {glue:text}`ch1_t_end0:.3g`,
# {glue:text}`ch1_t_end1:.3g` and {glue:text}`ch1_t_end2:.3g` the kernel's movement falls with exponents
# {glue:text}`ch1_slope_move0`, {glue:text}`ch1_slope_move1` and {glue:text}`ch1_slope_move2`: after the first
# few steps close to the $-1$ of the fixed-$t$ perturbative results {cite}`dyer2020asymptotics,huang2020dynamics`,
# not the $-\frac12$ of the heuristic. The linearization gap on the test grid falls more slowly, with exponents
# {glue:text}`ch1_slope_gap0`, {glue:text}`ch1_slope_gap1` and {glue:text}`ch1_slope_gap2`: steeper than
# $-\frac12$ early, shallower late. Neither late value is an asymptotic rate. The perturbative $1/n$ results are
# derived for smooth activations and hold at fixed $t$ with a coefficient that grows with $t$; the bound of
# Lee et al. {cite}`lee2019wide`, $O(n^{-1/2})$ uniformly in time, is an upper bound for $n	o\infty$, and at
# these widths the late gap is still curving toward it (its local exponent between widths
# {glue:text}`ch1_wmax_prev` and {glue:text}`ch1_wmax` is {glue:text}`ch1_gap_local_slope:.2f`). The left panel
# shows why one late-time slope mixes regimes: the gap keeps **changing with time** (from the first to the last
# end time it is multiplied by {glue:text}`ch1_gap_growth:.2f` at width {glue:text}`ch1_wmax` and by
# {glue:text}`ch1_gap_growth_small:.2f` at width {glue:text}`ch1_wmin`; the kernel's movement by
# {glue:text}`ch1_move_growth:.2f` at width {glue:text}`ch1_wmax`), and at width {glue:text}`ch1_wmin` the kernel
# has moved by {glue:text}`ch1_move_small_end:.2f` of its norm by the end: that network has left the lazy regime.
# How long the linearization stays accurate grows with the width; that, not a kernel constant for all time at
# a given width, is what "the NTK is constant in wide networks" means.
#
# The parameters move as section 1.1 says: the total distance $\lVert\theta_T-\theta_0\rVert$ does not depend on
# the width (exponent {glue:text}`ch1_slope_dtheta`), while the root-mean-square change of a hidden-to-hidden
# weight falls with exponent {glue:text}`ch1_slope_dw_rms`. The largest single change falls more slowly,
# {glue:text}`ch1_slope_dw`, because the maximum over $n^2$ entries reaches further into the tails as $n$ grows.
#
# ## 1.7 What breaks: large steps
#
# The lecture note {cite}`ee556ntk` lists where the NTK picture fails: finite width (the kernel
# moves, corrections accumulate, seen above), practical step sizes (large steps leave the lazy regime),
# and feature learning. For the second we raise the step size across the linear model's stability limit.
# Gradient flow cannot diverge (section 1.3); what diverges above $\eta = 2/\lambda_{\max}(\Theta_0)$ is
# *discrete* gradient descent on the *linearized* model. Lewkowycz et al. {cite}`lewkowycz2020catapult`
# found that the network behaves differently: between $2/\lambda_0$ and a maximal step $\eta_{\max}$ its loss
# first grows, the kernel's top eigenvalue $\lambda_{\max}(\Theta_t)$ falls until $\eta\lambda_{\max} < 2$,
# and training then converges (the *catapult*); for their solvable two-layer linear model
# $\eta_{\max} = 4/\lambda_0$, and for ReLU networks they report a larger empirical limit, about
# $12/\lambda_0$. Their loss is averaged over the data and their kernel carries the same $1/N$, so the
# product $\eta\lambda_0$ is the same number in their convention and ours. We train
# {glue:text}`ch1_lr_seeds` networks of width {glue:text}`ch1_lr_width` at
# $\eta = c\cdot 2/\lambda_{\max}(\Theta_0)$ for a grid of $c$, each with its own $\lambda_{\max}(\Theta_0)$,
# record $\lambda_{\max}(\Theta_t)$ along the way, and call a run *converged* if its loss is finite and below
# its initial value at the end.

# %%
factors = cfg["factors"]
kt_steps = log_spaced_steps(cfg["lr_steps"], 12)
cat = {}  # (seed, c) -> dict
for s in progress_bar(range(cfg["lr_seeds"]), desc="step-size sweep"):
    k_probe = empirical_ntk(MLP(2, cfg["lr_width"], DEPTH, seed=7 + s).to(dev), X).double().cpu()
    lmax0 = float(torch.linalg.eigvalsh(k_probe)[-1])
    for c in factors:
        model = MLP(2, cfg["lr_width"], DEPTH, seed=7 + s).to(dev)
        h = train_gd(model, X, Y, lr=c * 2 / lmax0, steps=cfg["lr_steps"], record=[], ntk_at=kt_steps, progress=False)
        ok = (not h.diverged) and h.loss[-1] < h.loss[0]
        r = dict(loss=h.loss, converged=ok, diverged=h.diverged, peak=float(np.max(h.loss) / h.loss[0]))
        if not h.diverged:  # a diverging run's last kernels overflow: only converging runs are logged
            kl = h.kernel
            r.update(lam=kl.lam_max / lmax0, lam_steps=kl.steps, moved=float(kl.rel_change[-1]))
        cat[(s, c)] = r
c_max = np.array([max([c for c in factors if cat[(s, c)]["converged"]], default=0.0) for s in range(cfg["lr_seeds"])])
c_first_bad = np.array([min([c for c in factors if not cat[(s, c)]["converged"]], default=np.inf) for s in range(cfg["lr_seeds"])])
above = [c for c in factors if c > 1 and all(cat[(s, c)]["converged"] for s in range(cfg["lr_seeds"]))]
c_show = max(above) if above else None
glue("ch1_lr_seeds", cfg["lr_seeds"])
glue("ch1_lr_width", cfg["lr_width"])
glue("ch1_eta_max_lo", float(2 * c_max.min()))
glue("ch1_eta_max_hi", float(2 * c_max.max()))
glue("ch1_eta_bad_lo", float(2 * c_first_bad.min()))
print("eta * lambda_max(Theta_0) | converged seeds | peak loss / initial (median) | lambda_max(T)/lambda_max(0) (median) | kernel moved (median)")
for c in factors:
    rs = [cat[(s, c)] for s in range(cfg["lr_seeds"])]
    conv = [r for r in rs if r["converged"]]

    def med(v):
        return f"{np.median(v):8.2f}" if v else "       -"

    print(f"{2 * c:8.1f}                | {len(conv)}/{len(rs)}            | {med([r['peak'] for r in conv])}"
          f"                     | {med([r['lam'][-1] for r in conv])}                             | {med([r['moved'] for r in conv])}")
print(f"largest converged eta * lambda_max(Theta_0), per seed: {(2 * c_max).tolist()}")
for c in (0.9, c_show):
    if c is not None:
        rs = [cat[(s, c)] for s in range(cfg["lr_seeds"])]
        glue(f"ch1_cat_lam_{'lazy' if c < 1 else 'cat'}", str(mean_interval([r["lam"][-1] for r in rs])) if len(rs) > 1 else f"{rs[0]['lam'][-1]:.2f}")
        glue(f"ch1_cat_moved_{'lazy' if c < 1 else 'cat'}", str(mean_interval([r["moved"] for r in rs])) if len(rs) > 1 else f"{rs[0]['moved']:.2f}")
        glue(f"ch1_cat_peak_{'lazy' if c < 1 else 'cat'}", str(mean_interval([r["peak"] for r in rs])) if len(rs) > 1 else f"{rs[0]['peak']:.2f}")
glue("ch1_cat_c", float(2 * c_show) if c_show else float("nan"))
glue("ch1_cat_c_lazy", 2 * 0.9)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Step sizes below and above the linear model's limit eta = 2/lambda_max(Theta_0), for one seed (thin lines: the other seeds). Left: training loss. Right: the top eigenvalue of the network's empirical NTK along training, relative to its initial value; the dashed curve is 2/(eta lambda_max(Theta_0)), below which the step is stable for the current kernel.", "name": "fig-ch1-lr"}}
fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.9), layout="constrained")
shown = [c for c in factors if c in (0.5, 0.9, 1.6, 2.5, 4.0, 6.0, 8.0)] or factors
for i, c in enumerate(shown):
    col = plt.get_cmap("viridis")(i / max(len(shown) - 1, 1))
    for s in range(cfg["lr_seeds"]):
        r = cat[(s, c)]
        lw, al = (1.8, 1.0) if s == 0 else (0.6, 0.4)
        lab = (rf"$\eta\lambda_0 = {2 * c:.1f}$" + (" (diverged)" if r["diverged"] else "")) if s == 0 else None
        axes[0].loglog(np.arange(1, len(r["loss"]) + 1), r["loss"], color=col, lw=lw, alpha=al, label=lab)
        if not r["diverged"]:
            axes[1].semilogx(np.asarray(r["lam_steps"]) + 1, r["lam"], "o-", ms=2, color=col, lw=lw, alpha=al)
    if c > 1:
        axes[1].axhline(1 / c, color=col, ls="--", lw=0.8)
axes[0].set_ylim(top=1e3 * max(cat[(0, c)]["loss"][0] for c in shown))
axes[0].set_xlabel("step $k$ + 1")
axes[0].set_ylabel(r"training loss $\frac{1}{2}\sum_i (f(x_i)-y_i)^2$")
axes[0].set_title(f"loss, width {cfg['lr_width']}")
axes[0].legend(fontsize=7)
axes[1].set_xlabel("step $k$ + 1")
axes[1].set_ylabel(r"$\lambda_{\max}(\Theta_t)/\lambda_{\max}(\Theta_0)$")
axes[1].set_title(r"top NTK eigenvalue (dashed: $2/(\eta\lambda_0)$)")
plt.show()

# %% [markdown]
# **What it shows.** Below the limit ($\eta\lambda_0 =$ {glue:text}`ch1_cat_c_lazy:.1f`) the loss falls monotonically and the kernel
# barely changes: its top eigenvalue ends at {glue:text}`ch1_cat_lam_lazy` of its initial value (mean and
# 95 % interval over {glue:text}`ch1_lr_seeds` seeds), relative movement {glue:text}`ch1_cat_moved_lazy`.
# Above it the linearized model's discrete iteration would blow up, yet the network converges for every
# seed up to $\eta\lambda_0 =$ {glue:text}`ch1_cat_c:.1f`: its loss first spikes (peak
# {glue:text}`ch1_cat_peak_cat` times the initial loss), the top eigenvalue drops to
# {glue:text}`ch1_cat_lam_cat` of its initial value, at or below the dashed stability line $2/(\eta\lambda_0)$,
# and the kernel moves by {glue:text}`ch1_cat_moved_cat`, far outside the lazy regime: the catapult of
# {cite}`lewkowycz2020catapult`. The largest converging step on our grid lies between
# $\eta\lambda_0 =$ {glue:text}`ch1_eta_max_lo:.1f` and {glue:text}`ch1_eta_max_hi:.1f` over seeds (the first
# failing grid value is at least {glue:text}`ch1_eta_bad_lo:.1f`): above the $4$ of the two-layer linear model
# and of the same order as the $\approx 12$ Lewkowycz et al. report for ReLU networks, on a much smaller
# problem ({glue:text}`ch1_n_train` points, one output), so only the order of magnitude is comparable. The
# NTK describes gradient descent only for $\eta\lambda_0 < 2$.
#
# ## 1.8 Against the sources
#
# | statement | source | what this chapter measured | verdict |
# |---|---|---|---|
# | gradient flow on the squared loss gives $\dot f = -\Theta(f-y)$, solved by $y + e^{-t\Theta}(f_0-y)$ (summed loss, $t = k\eta$) | {cite}`ee556ntk`; Prop. 3, 6 of {cite}`starnaud2025revisiting` | the closed form agrees with a small-step ODE integration to $10^{-9}$ (library tests) and tracks a wide network within {glue:text}`ch1_gap_emp:.3f` $\max\lvert y\rvert$ | confirmed |
# | each eigen-direction decays at rate $\lambda_i$; convergence at rate $\lambda_{\min}$ | {cite}`ee556ntk` | the slowest directions are the last the network fits ({numref}`fig-ch1-flow`) | confirmed |
# | the empirical NTK at initialization is deterministic as width $\to\infty$ | {cite}`ee556ntk`; Thm 1 of {cite}`starnaud2025revisiting` | Frobenius distance to $\Theta_\infty$: exponent {glue:text}`ch1_slope_init_frob`; $\lambda_{\min}$ error: {glue:text}`ch1_slope_init_lmin`, larger at every width | confirmed ($n^{-1/2}$); refined: slowest directions converge from far higher |
# | each weight moves $O(n^{-1/2})$, so the NTK stays constant | {cite}`ee556ntk` | total $\lVert\theta_T-\theta_0\rVert$: exponent {glue:text}`ch1_slope_dtheta`; RMS hidden-to-hidden weight change: {glue:text}`ch1_slope_dw_rms` (largest: {glue:text}`ch1_slope_dw`) | **corrected**: hidden weights move $O(1/n)$, total $O(1)$, Hessian $O(n^{-1/2})$ {cite}`liu2020linearity` |
# | the NTK stays constant during training as width $\to\infty$ | {cite}`ee556ntk` | kernel movement: exponent {glue:text}`ch1_slope_move0` at $t=$ {glue:text}`ch1_t_end0:.3g`, {glue:text}`ch1_slope_move2` at $t=$ {glue:text}`ch1_t_end2:.3g`, {glue:text}`ch1_wmax`-wide kernel's movement multiplied by {glue:text}`ch1_move_growth:.2f` between them | confirmed at fixed $t$ (close to $1/n$, {cite}`dyer2020asymptotics`); not uniform in $t$ at these widths |
# | a wide network stays close to its linearization | {cite}`ee556ntk`; {cite}`lee2019wide` | gap on the test grid: exponent {glue:text}`ch1_slope_gap0` at $t=$ {glue:text}`ch1_t_end0:.3g`, {glue:text}`ch1_slope_gap2` at $t=$ {glue:text}`ch1_t_end2:.3g` | **refined**: the gap vanishes with width, but more slowly than the kernel moves, and at late times more slowly than $n^{-1/2}$ at these widths (pre-asymptotic) |
# | the limit kernel is given by the recursion of Thm 1; on the sphere $\Theta^{(L)}(x,x) = L/(n_0 2^{L-1})$ | Thm 1, Prop. 1, 2 of {cite}`starnaud2025revisiting` | the diagonal matches to {glue:text}`ch1_diag_err:.0e` | confirmed |
# | practical (large) step sizes push networks out of the lazy regime | {cite}`ee556ntk` | above $\eta\lambda_0 = 2$ the top eigenvalue drops to {glue:text}`ch1_cat_lam_cat` and the kernel moves by {glue:text}`ch1_cat_moved_cat`; largest converging $\eta\lambda_0$ {glue:text}`ch1_eta_max_lo:.1f`–{glue:text}`ch1_eta_max_hi:.1f` | confirmed (catapult, {cite}`lewkowycz2020catapult`) |
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch1-linear
# For the linear model $f(x;\theta) = \theta^\top\phi(x)$, show that the NTK is
# $\Theta(x,x') = \phi(x)^\top\phi(x')$ and does not depend on $\theta$, so the closed form of
# section 1.3 is exact at every width. Check it with `empirical_ntk` on a `torch.nn.Linear`.
# ```
#
# ````{solution} ex-ch1-linear
# :class: dropdown
# $\nabla_\theta f(x;\theta) = \phi(x)$ for every $\theta$, so $\Theta(x,x') = \phi(x)^\top\phi(x')$.
# With $\phi(x) = x$ (and a bias, whose gradient is 1):
#
# ```python
# lin = torch.nn.Linear(2, 1, dtype=torch.float64)
# K = empirical_ntk(lin, x_train)
# assert torch.allclose(K, x_train @ x_train.T + 1)
# ```
# ````
#
# ```{exercise}
# :label: ex-ch1-step
# Show that gradient descent on the linearized model with step $\eta$ multiplies the residual's
# component along $v_i$ by $1-\eta\lambda_i$ per step, and conclude that it converges if and only if
# $0 < \eta < 2/\lambda_{\max}$ (for $\lambda_{\min} > 0$). Which step size makes the slowest mode fastest?
# ```
#
# ````{solution} ex-ch1-step
# :class: dropdown
# $r_{k+1} = r_k - \eta\Theta r_k = (I - \eta\Theta) r_k$, and in the eigenbasis $(I-\eta\Theta)$ is
# diagonal with entries $1-\eta\lambda_i$. All modes decay iff $|1-\eta\lambda_i| < 1$ for all $i$,
# i.e. $\eta < 2/\lambda_{\max}$. The worst factor $\max_i |1-\eta\lambda_i|$ is smallest at
# $\eta = 2/(\lambda_{\min}+\lambda_{\max})$, where it equals $(\kappa-1)/(\kappa+1)$ with
# $\kappa = \lambda_{\max}/\lambda_{\min}$.
# ````
#
# ```{exercise}
# :label: ex-ch1-standard
# Build the same network in the standard parameterization (`MLP(..., parameterization="standard")`)
# at widths 256 and 1024 and compare the trace of its empirical NTK with the NTK parameterization's.
# How must the step size scale with width to keep training stable?
# ```
#
# ````{solution} ex-ch1-standard
# :class: dropdown
# The two parameterizations give the same function at initialization, but in the standard one the
# gradient with respect to a weight of fan-in $n$ is $\sqrt n$ times larger, so each layer's
# contribution to the NTK is multiplied by its fan-in: the trace grows linearly with the width.
# Since $\eta < 2/\lambda_{\max}$, the step size must shrink like $1/n$.
#
# ```python
# for width in (256, 1024):
#     k_ntk = empirical_ntk(MLP(2, width, 3, seed=0), X)
#     k_std = empirical_ntk(MLP(2, width, 3, seed=0, parameterization="standard"), X)
#     print(width, float(k_std.trace() / k_ntk.trace()))
# ```
# ````
