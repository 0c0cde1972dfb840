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
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.integrate import solve_ivp

from ntk_lib.analytic import relu_ntk
from ntk_lib.data import circle
from ntk_lib.device import precise_dtype
from ntk_lib.dynamics import gradient_descent, gradient_flow
from ntk_lib.empirical import empirical_ntk
from ntk_lib.fit import geometric_interval, mean_interval, paired_interval, ratio_interval, slope_interval
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
                      factors=[0.5, 0.9, 1.5, 6.0]),
        "book": dict(n_train=16, n_test=200, width=1024, steps=1000, init_seeds=16, init_widths=[64, 128, 256, 512, 1024, 2048, 4096, 8192],
                     widths=[64, 128, 256, 512, 1024, 2048], seeds=8, sweep_steps=200, lr_width=512, lr_steps=300, lr_seeds=4,
                     factors=[0.5, 0.9, 1.2, 1.6, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0]),
        "paper": dict(n_train=64, n_test=400, width=16384, steps=5000, init_seeds=32, init_widths=[256, 512, 1024, 2048, 4096, 8192, 16384],
                      widths=[256, 512, 1024, 2048, 4096, 8192, 16384], seeds=8, sweep_steps=2000, lr_width=4096, lr_steps=1000, lr_seeds=8,
                      factors=[0.5, 0.9, 1.2, 1.6, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0]),
    }
)
DEPTH = 3  # linear layers: two hidden ReLU layers
# float64 wherever the device has it: the small eigenvalues of these kernels, and the late updates of the
# hidden weights (far below the float32 resolution of an O(1) weight at these widths), need it
DT = precise_dtype(dev)
print(f"scale {run.scale}: {cfg['n_train']} training points, main width {cfg['width']}, depth {DEPTH}, {DT}")

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
# The lecture note {cite}`ee556ntk` argues from the single weight instead: each weight contributes little to the
# output, so its gradient and its movement are small, and the kernel freezes. The note's formulas were lost in the
# text we work from; we read its scalings as the common heuristic, each contribution, gradient and movement
# $O(1/\sqrt n)$ (our reconstruction, not a quotation). As a bound on each weight this is not wrong: $O(1/n)$ is
# also $O(n^{-1/2})$. What fails is the inference: for the input and readout weights, about $n$ per layer,
# $O(1/\sqrt n)$ is the typical size of an $O(1)$ movement spread over them, but $n^2$ hidden-to-hidden weights
# each moving by $n^{-1/2}$ would give a total movement of order $\sqrt n$, too much for a constant kernel; the
# conclusion needs the total movement to be $O(1)$ and the Hessian to be small. Section 1.6 measures both
# movements.
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
X, Y, XT = (t.to(dev, DT) for t in (x_train, y_train, x_test))

net = MLP(2, cfg["width"], DEPTH, seed=SEED).to(dev, DT)
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


init_runs = [kernel_errors(empirical_ntk(MLP(2, cfg["width"], DEPTH, seed=500 + s).to(dev, DT), X).double().cpu()) for s in range(cfg["init_seeds"])]
init_ci = {key: geometric_interval([r[key] for r in init_runs]) for key in init_runs[0]}
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
print(f"relative error of Theta_0 at width {cfg['width']}, geometric mean [95% interval] over {cfg['init_seeds']} seeds:")
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
for ax in axes[:2]:
    ax.set_ylabel("training point $i$ (by angle)")
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
# Frobenius distance is {glue:text}`ch1_init_frob` (geometric mean and 95 % interval over
# {glue:text}`ch1_init_seeds` initializations, Student $t$ on the logarithms). That number is governed by the top of the spectrum: the
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
# average the loss over the data, $\frac1{2N}\sum_i$. The kernel $\Theta$ is the same in both conventions;
# with theirs the matrix in the ODE below is $\Theta/N$, so every rate below is divided by $N$.) Since $\nabla_\theta \mathcal L = J_t^\top (f_t(X) - y)$, the
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
# (Proposition 3 of {cite}`starnaud2025revisiting`). A mode with $\lambda_i = 0$ is never learned: the residual
# along $v_i$ does not move, and although the factor $(1 - e^{-t\lambda_i})/\lambda_i$ tends to $t$, the mode
# does not reach the test prediction either, because $\Theta = JJ^\top$ and $\Theta v_i = 0$ give
# $\lVert J^\top v_i\rVert^2 = v_i^\top\Theta v_i = 0$, hence $\Theta(x,X)v_i = \nabla_\theta f(x)^\top J^\top v_i = 0$.
# {func}`ntk_lib.dynamics.gradient_flow` evaluates these formulas for a whole vector of times from one
# eigendecomposition (and treats eigenvalues within round-off of zero as such null modes).
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
# {cite}`dyer2020asymptotics,huang2020dynamics` sharpen it for smooth activations: **at a fixed training time**
# the kernel's movement and the network's deviation from its linearization are $O(1/n)$, with coefficients that
# grow with $t$ (section 1.6 tests what a ReLU network does). In the limit the network *is* its linearization, and its kernel is a deterministic function
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
# $3/8$, and the code agrees with it to round-off (better than {glue:text}`ch1_diag_tol:.0e`):

# %%
DIAG_TOL = 1e-12  # a bound, not the round-off itself (which depends on the machine)
diag_ok = bool((theta_inf.diagonal() - DEPTH / (2 * 2 ** (DEPTH - 1))).abs().max() < DIAG_TOL * DEPTH / (2 * 2 ** (DEPTH - 1)))
glue("ch1_diag_tol", DIAG_TOL)
print(f"Theta_inf(x, x) = 3/8 on every training point to better than {DIAG_TOL:.0e} relative: {diag_ok}")

# %% [markdown]
# ## 1.5 A wide network trains like its kernel
#
# Now the experiment. We train the network of section 1.2 by full-batch gradient descent
# ({func}`ntk_lib.training.train_gd`, summed loss) with step $\eta = 0.25/\lambda_{\max}(\Theta_\infty)$,
# far inside the stable range $\eta\lambda_{\max}(\Theta_0) < 2$ (here $\eta\lambda_{\max}(\Theta_0) =$
# {glue:text}`ch1_eta_lmax0:.3f`), and compare its
# predictions, on the training set and on a test grid around the circle, with three closed forms
# started from the same $f_0$, all at $t = k\eta$:
#
# * gradient flow with the **empirical kernel at initialization** $\Theta_0$;
# * gradient flow with the **analytic kernel** $\Theta_\infty$;
# * discrete gradient descent on the linearized model (same $\Theta_0$), which removes the small
#   difference between steps and flow.

# %%
lr = 0.25 / float(eig_inf[-1])
hist = train_gd(net, X, Y, lr=lr, steps=cfg["steps"], x_test=XT, ntk_at=[cfg["steps"]], desc="training the wide net")
times = hist.times
flow_emp = gradient_flow(theta_0, y_train, t=times, f0_train=f0_train, k_test_train=theta_0_test, f0_test=f0_test)
flow_inf = gradient_flow(theta_inf, y_train, t=times, f0_train=f0_train, k_test_train=theta_inf_test, f0_test=f0_test)
# the closed form against a numerical integration of the same ODE, d/dt (r, f(X_*)) = -(Theta_0, Theta_0(X_*, X)) r
n_tr = len(y_train)
rhs = -torch.cat([theta_0, theta_0_test]).numpy()
sol = solve_ivp(lambda t, u: rhs @ u[:n_tr], (0.0, float(times[-1])),
                torch.cat([f0_train - y_train, f0_test]).numpy(), method="DOP853", t_eval=times, rtol=1e-12, atol=1e-14)
ODE_TOL = 1e-9
ode_err = max(float((torch.from_numpy(sol.y[:n_tr].T) + y_train - flow_emp.train).abs().max()),
              float((torch.from_numpy(sol.y[n_tr:].T) - flow_emp.test).abs().max())) / float(y_test.abs().max())
glue("ch1_ode_tol", ODE_TOL)
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
# the network's training residual along the eigenvectors v_i of Theta_0: the closed form keeps the fraction
# exp(-lambda_i t) of each initial component. Is what the network has left at time t in the directions that the
# closed form has not yet fitted (to 1 %, lambda_i t <= ln 100)?
lam0_main, vec0_main = torch.linalg.eigh(theta_0)
res_net = (net_train - y_train) @ vec0_main  # [records, N]: components of the network's residual
res_flow = (flow_emp.train - y_train) @ vec0_main  # the same for the closed-form flow with Theta_0
comp_frac = (res_net.abs() / res_net[0].abs()).numpy()
i_at = [int(np.searchsorted(times, v)) for v in (times[-1] / 100, times[-1] / 10)] + [len(times) - 1]  # as in the figure
r0_norm = float(res_net[0].norm())
for j, i in enumerate(i_at[1:]):
    not_fitted = lam0_main.numpy() * times[i] <= math.log(100)
    glue(f"ch1_res_t{j}", float(times[i]))
    glue(f"ch1_res_k{j}", int(not_fitted.sum()))
    glue(f"ch1_res_share{j}", 100 * float((res_net[i, not_fitted] ** 2).sum() / (res_net[i] ** 2).sum()))
    glue(f"ch1_res_share_flow{j}", 100 * float((res_flow[i, not_fitted] ** 2).sum() / (res_flow[i] ** 2).sum()))
    glue(f"ch1_res_left{j}", float(res_net[i].norm()) / r0_norm)
# each component differs from the closed form's by at most the distance between the two residual vectors
res_dev = float((res_net - res_flow).norm(dim=1).max()) / r0_norm
glue("ch1_res_dev", res_dev)
glue("ch1_res_n_small", int((res_net[0].abs() < res_dev * r0_norm).sum()))
print(f"closed-form flow = numerical integration of the ODE (DOP853) to better than {ODE_TOL:.0e} x max|y|: {ode_err < ODE_TOL}")
print(f"step size {lr:.4f} (eta * lambda_max(Theta_0) = {lr * float(eig_0[-1]):.3f}), {cfg['steps']} steps, final time t = k eta = {times[-1]:.1f}")
print(f"training loss: {hist.loss[0]:.3f} -> {hist.loss[-1]:.2e}")
for name, g in gaps.items():
    print(f"max |network - {name}| on the test grid, over all recorded times: {g:.3f} x max|y|")
print(f"kernel movement |Theta_T - Theta_0|_F / |Theta_0|_F = {moved:.3f}")
print("test MSE at the end: network {net:.4f}, flow with Theta_0 {emp:.4f}, flow with Theta_inf {inf:.4f}".format(**test_err))
for i in i_at[1:]:
    nf = lam0_main.numpy() * times[i] <= math.log(100)
    print(f"t = {times[i]:.3g}: share of the squared training residual in the {int(nf.sum())} directions with lambda_i t <= ln 100: "
          f"network {100 * float((res_net[i, nf] ** 2).sum() / (res_net[i] ** 2).sum()):.1f} %, "
          f"closed form {100 * float((res_flow[i, nf] ** 2).sum() / (res_flow[i] ** 2).sum()):.1f} %")
print(f"largest distance between the network's and the closed form's training residuals: {res_dev:.3f} x |r_0|")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: training loss of the network (solid) and of the closed-form gradient flow with the empirical kernel at initialization (dashed) and with the analytic infinite-width kernel (dotted), against t = k eta. Middle: the learned function on the circle at three times; dots are the training points. Right: the network's training residual along each eigenvector v_i of Theta_0, as a fraction of its initial value, against lambda_i t at the same three times (one marker per eigen-direction); the closed-form flow keeps exactly exp(-lambda_i t) (curve).", "name": "fig-ch1-flow"}}
fig, axes = plt.subplots(1, 3, figsize=(15.5, 3.8), layout="constrained")
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
ax = axes[2]
lt_all = np.concatenate([lam0_main.numpy() * times[i] for i in i_at])
lt_grid = np.geomspace(lt_all.min(), lt_all.max(), 200)
ax.loglog(lt_grid, np.exp(-lt_grid), color=COLORS["emp"], lw=1.5, label=r"closed form $e^{-\lambda_i t}$")
for j, i in enumerate(i_at):
    ax.loglog(lam0_main.numpy() * times[i], comp_frac[i], "o", ms=4, color=COLORS["net"], alpha=0.4 + 0.3 * j,
              label=f"network, t={times[i]:.2g}")
ax.set_ylim(max(1e-6, 0.3 * float(comp_frac[i_at].min())), 3 * max(1.0, float(comp_frac[i_at].max())))
ax.set_xlabel(r"$\lambda_i(\Theta_0)\, t$")
ax.set_ylabel(r"$|v_i^\top r_t| / |v_i^\top r_0|$, residual $r_t = f_t(X) - y$")
ax.set_title(r"residual along the eigenvectors of $\Theta_0$")
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# **What it shows.** Over the whole run (to $t =$ {glue:text}`ch1_t_end:.0f`, the loss falling
# from {glue:text}`ch1_loss_start:.2f` to {glue:text}`ch1_loss_end:.1e`) the network's test
# predictions stay within {glue:text}`ch1_gap_emp:.3f` $\times\max|y|$ of the closed-form flow with
# its own initial kernel and within {glue:text}`ch1_gap_inf:.3f` $\times\max|y|$ of the flow with
# the analytic $\Theta_\infty$; the discrete linearized model is {glue:text}`ch1_gap_gd:.3f` away. (The closed
# form itself agrees with a numerical integration of the ODE to better than {glue:text}`ch1_ode_tol:.0e` $\times\max|y|$,
# printed above.) The kernel itself moved by {glue:text}`ch1_moved_main:.3f` in relative Frobenius norm. The curves
# differ most late in training, in the directions with the smallest eigenvalues, where section 1.2
# found the two kernels furthest apart: by the end the test MSE is {glue:text}`ch1_test_net:.3f` for the
# network, {glue:text}`ch1_test_emp:.3f` for the flow with $\Theta_0$ and {glue:text}`ch1_test_inf:.3f`
# for the flow with $\Theta_\infty$ (one seed: these three test errors are not compared over seeds).
#
# The right panel resolves the training residual $r_t$ along the eigenvectors $v_i$ of $\Theta_0$. The closed form
# keeps the fraction $e^{-\lambda_i t}$ of each component, so at time $t$ it has fitted the directions with
# $\lambda_i t$ large and not those with $\lambda_i t$ small. The network leaves its residual mostly in the same place: at
# $t =$ {glue:text}`ch1_res_t0:.2g`, {glue:text}`ch1_res_share0:.1f` % of its squared residual (which is then
# {glue:text}`ch1_res_left0:.2f` of $\lVert r_0\rVert$) lies in the {glue:text}`ch1_res_k0` directions the closed form
# has not yet fitted to 1 % ($\lambda_i t \le \ln 100$; closed form {glue:text}`ch1_res_share_flow0:.1f` %), and at
# $t =$ {glue:text}`ch1_res_t1:.2g`, {glue:text}`ch1_res_share1:.1f` % in the {glue:text}`ch1_res_k1` such directions
# (closed form {glue:text}`ch1_res_share_flow1:.1f` %; residual {glue:text}`ch1_res_left1:.2g` of $\lVert r_0\rVert$).
# Direction by direction the network does not decay at exactly the rates $\lambda_i$ (the scatter about the curve):
# each of its components stays within {glue:text}`ch1_res_dev:.3f` $\lVert r_0\rVert$ of the closed form's (the largest
# distance between the two residual vectors), and {glue:text}`ch1_res_n_small` of the
# {glue:text}`ch1_n_train` directions start with a smaller component than that, so their fractions are free to
# wander.
#
# ## 1.6 How finite widths approach the limit, over width and time
#
# For the same data and depth we draw {glue:text}`ch1_sweep_seeds` networks per width, train each in float64
# with $\eta = 1/\lambda_{\max}(\Theta_\infty)$ (over all of them $\eta\lambda_{\max}(\Theta_0)$ is at most
# {glue:text}`ch1_worst_eta_lmax:.2f`, {glue:text}`ch1_worst_eta_word` the limit 2 of section 1.3), and record along the run
#
# * the gap to the linearization trained the same way, on the test grid $X_*$ (on the training points
#   both models converge to $y$, so the gap there closes by construction),
#   $\lVert f_t(X_*) - f^{\rm lin}_t(X_*)\rVert / \lVert y(X_*)\rVert$, at every recorded time;
# * the kernel's movement at three end times a decade apart, in two ways: in relative Frobenius norm,
#   $\lVert\Theta_t - \Theta_0\rVert_F / \lVert\Theta_0\rVert_F$, which the top eigenvalues dominate, and in the
#   directions that set late training: $\lambda_{\min}(\Theta_t)/\lambda_{\min}(\Theta_0)$, the Rayleigh quotients
#   $u_j^\top\Theta_t u_j/\lambda_j(\Theta_0)$ on the eigenvectors $u_j$ of the three smallest eigenvalues of
#   $\Theta_0$ (both 1 for a kernel that does not move), and the operator-norm movement
#   $\lVert\Theta_t-\Theta_0\rVert_2$ in units of $\lambda_{\min}(\Theta_0)$ (by Weyl's inequality it bounds how far
#   any eigenvalue can move);
# * the parameter movement: the total $\lVert\theta_t-\theta_0\rVert$ and the root-mean-square change of a
#   hidden-to-hidden weight, $\big(\frac1{n^2}\sum_{ij}(\Delta W^{(2)}_{ij})^2\big)^{1/2}$ (section 1.1 predicts $n^0$
#   and $n^{-1}$), and the largest one, $\max_{ij}\lvert\Delta W^{(2)}_{ij}\rvert$;
# * and, at initialization with more seeds and widths, the kernel's distance to $\Theta_\infty$ in
#   Frobenius norm and in $\lambda_{\min}$, up to width {glue:text}`ch1_init_wmax`. There the network has
#   {glue:text}`ch1_init_params` parameters and the per-sample Jacobians of the training points would hold
#   {glue:text}`ch1_jac_gb:.3g` GB in float64; {func}`ntk_lib.empirical.empirical_ntk` never forms them: its
#   structured method needs each layer's inputs and back-propagated output gradients, $N\times n$ numbers per layer.
#
# Every exponent is the least-squares slope of the seed-averaged $\log$ distance against $\log n$, with a
# 95 % interval over seeds (Student $t$ over the per-seed slopes, {func}`ntk_lib.fit.slope_interval`). A fit
# over all widths mixes regimes when the curve bends, so we also give **local exponents** between adjacent
# widths, $\log(d_{2n}/d_n)/\log 2$, with the same kind of interval.

# %%
def versus(f, value=-0.5):
    """Where an exponent's interval lies with respect to a reference exponent, in words."""
    return "steeper than" if f.high < value else "shallower than" if f.low > value else "consistent with"


init_rows = np.array([
    [(lambda e: (e["frob"], e["lmin"], e["rq_bottom"]))(kernel_errors(empirical_ntk(MLP(2, w, DEPTH, seed=2000 + s).to(dev, DT), X).double().cpu())) for w in cfg["init_widths"]]
    for s in progress_bar(range(cfg["init_seeds"]), desc="kernels at initialization")
])  # [seeds, widths, 3]
init_w = np.array(cfg["init_widths"], dtype=float)
init_fit = {key: slope_interval(init_w, init_rows[:, :, i]) for i, key in enumerate(("frob", "lmin", "rq_bottom"))}
# what per-sample Jacobians of the widest network would hold (the structured method never forms them)
sizes = [2] + [cfg["init_widths"][-1]] * (DEPTH - 1) + [1]
n_params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
glue("ch1_init_wmax", cfg["init_widths"][-1])
glue("ch1_init_params", f"{n_params:,}")
glue("ch1_jac_gb", len(X) * n_params * 8 / 1e9)
print(f"widest network: {n_params:,} parameters; its per-sample Jacobians on {len(X)} points: {len(X) * n_params * 8 / 1e9:.3g} GB in float64")
for key, f in init_fit.items():
    glue(f"ch1_slope_init_{key}", str(f))
    print(f"initial kernel vs Theta_inf, {key}: slope {f}")
glue("ch1_init_frob_vs_half", versus(init_fit["frob"]))
gi = np.exp(np.log(init_rows).mean(0))  # geometric means over seeds, [widths, 3]
glue("ch1_init_lmin_above", "larger than the Frobenius error at every width" if np.all(gi[:, 1:] > gi[:, :1]) else "not larger than the Frobenius error at every width")

lr_s = 1.0 / float(eig_inf[-1])
S = cfg["sweep_steps"]
ends = sorted({max(1, round(S / 100)), max(1, round(S / 10)), S})  # three end times, a decade apart
rec = sorted(set(log_spaced_steps(S, 14)) | set(ends))
widths = np.array(cfg["widths"], dtype=float)
n_s, n_w, n_e = cfg["seeds"], len(widths), len(ends)
G = np.zeros((n_s, n_w, len(rec)))  # linearization gap at every recorded step
M = np.zeros((n_s, n_w, n_e))  # kernel movement (relative Frobenius) at the end times
LMIN = np.zeros((n_s, n_w, n_e))  # lambda_min(Theta_t) / lambda_min(Theta_0)
RQ = np.zeros((n_s, n_w, n_e, 3))  # u_j' Theta_t u_j / lambda_j(Theta_0), u_j the 3 bottom eigenvectors of Theta_0
OPL = np.zeros((n_s, n_w, n_e))  # ||Theta_t - Theta_0||_2 / lambda_min(Theta_0)
P = np.zeros((n_s, n_w, 3))  # total parameter distance; largest and RMS hidden-weight change
eta_lmax = np.zeros((n_s, n_w))
for iw, width in enumerate(progress_bar(cfg["widths"], desc="width x time sweep")):
    for s in range(n_s):
        model = MLP(2, width, DEPTH, seed=1000 + s).to(dev, DT)
        k0 = empirical_ntk(model, X).double().cpu()
        k0_test = empirical_ntk(model, XT, X).double().cpu()
        lam0, u0 = torch.linalg.eigh(k0)
        eta_lmax[s, iw] = lr_s * float(lam0[-1])
        p0 = [p.detach().clone() for p in model.parameters()]
        with torch.no_grad():
            f0, f0t = model(X).double().cpu(), model(XT).double().cpu()
        h = train_gd(model, X, Y, lr=lr_s, steps=S, record=rec, x_test=XT, ntk_at=ends, progress=False)
        if h.diverged:
            raise RuntimeError(f"width {width}, seed {s}: training diverged at eta = 1/lambda_max(Theta_inf)")
        lin = gradient_descent(k0, y_train, steps=h.steps, lr=lr_s, f0_train=f0, k_test_train=k0_test, f0_test=f0t)
        # on the test grid: on the training points both models converge to y, which would hide the gap
        G[s, iw] = ((h.test_pred.double().cpu() - lin.test).norm(dim=1) / y_test.norm()).numpy()
        for j, e in enumerate(ends):
            k_t = h.ntk[e].double().cpu()
            M[s, iw, j] = float((k_t - k0).norm() / k0.norm())
            LMIN[s, iw, j] = float(torch.linalg.eigvalsh(k_t)[0] / lam0[0])
            RQ[s, iw, j] = (torch.einsum("ij,ik,kj->j", u0[:, :3], k_t, u0[:, :3]) / lam0[:3]).numpy()
            OPL[s, iw, j] = float(torch.linalg.matrix_norm(k_t - k0, ord=2) / lam0[0])
        dp = [(p.detach() - q).double() for p, q in zip(model.parameters(), p0)]
        P[s, iw] = [float(torch.sqrt(sum((d**2).sum() for d in dp))), float(dp[1].abs().max()), float(dp[1].pow(2).mean().sqrt())]

t_rec = np.array(rec) * lr_s
t_ends = np.array(ends) * lr_s
i_ends = [rec.index(e) for e in ends]
gap_fit = [slope_interval(widths, G[:, :, i]) for i in i_ends]
move_fit = [slope_interval(widths, M[:, :, j]) for j in range(n_e)]
dtheta_fit = slope_interval(widths, P[:, :, 0])
dw_fit = slope_interval(widths, P[:, :, 1])
dw_rms_fit = slope_interval(widths, P[:, :, 2])


def local_fits(d):
    """Exponents between adjacent widths, [widths - 1] SlopeFits, from d [seeds, widths]."""
    return [slope_interval(widths[i : i + 2], d[:, i : i + 2]) for i in range(n_w - 1)]


move_local = [local_fits(M[:, :, j]) for j in range(n_e)]
gap_local = [local_fits(G[:, :, i]) for i in i_ends]
worst_eta_lmax = float(eta_lmax.max())
glue("ch1_sweep_seeds", n_s)
glue("ch1_worst_eta_lmax", worst_eta_lmax)
glue("ch1_worst_eta_word", "under" if worst_eta_lmax < 2 else "not under")
glue("ch1_slope_dtheta", str(dtheta_fit))
glue("ch1_slope_dw", str(dw_fit))
glue("ch1_local_dw", str(local_fits(P[:, :, 1])[-1]))  # largest hidden-weight change, between the two largest widths
glue("ch1_slope_dw_rms", str(dw_rms_fit))
for j, (t, gf, mf) in enumerate(zip(t_ends, gap_fit, move_fit)):
    glue(f"ch1_t_end{j}", float(t))
    glue(f"ch1_slope_gap{j}", str(gf))
    glue(f"ch1_slope_move{j}", str(mf))
    glue(f"ch1_local_move{j}", str(move_local[j][-1]))  # between the two largest widths
with np.errstate(divide="ignore"):  # the gap is exactly 0 at t = 0
    gm = np.exp(np.log(G).mean(0))  # geometric mean over seeds, [widths, times]
mm = np.exp(np.log(M).mean(0))


for j in range(n_e):
    glue(f"ch1_gap_vs_half{j}", versus(gap_fit[j]))


def per_seed_slopes(d):
    """Each seed's least-squares slope of log d against log width, d [seeds, widths]."""
    lx = np.log(widths)
    return np.log(d) @ ((lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2))


# the gap's exponent minus the kernel movement's, paired on the same networks
gap_vs_move = [paired_interval(per_seed_slopes(G[:, :, i]), per_seed_slopes(M[:, :, j])) for j, i in enumerate(i_ends)]
groups = {}
for t, d in zip(t_ends, gap_vs_move):
    word = "more slowly than" if d.low > 0 else "faster than" if d.high < 0 else "at a rate not distinguishable from the rate at which"
    groups.setdefault(word, []).append(f"{t:.3g}")
glue("ch1_gap_vs_move", "; ".join(f"{w} the kernel moves at t = {', '.join(ts)}" for w, ts in groups.items()))
for j, d in enumerate(gap_vs_move):
    glue(f"ch1_gap_minus_move{j}", str(d))
last_move = [move_local[j][-1] for j in range(n_e)]  # between the two largest widths, at each end time
half_in = [f.low <= -0.5 <= f.high for f in last_move]
one_in = [f.low <= -1.0 <= f.high for f in last_move]
glue("ch1_local_move_half_word", "contain" if all(half_in) else "do not all contain")
glue("ch1_move_one_word", "are consistent with" if all(one_in) and not any(half_in) else "do not establish")
glue("ch1_move_half_word2", "exclude" if not any(half_in) else "do not exclude")
glue("ch1_move_rate_word", "consistent with one over the width" if all(one_in) and not any(half_in) else
     "consistent with one over the root of the width" if all(half_in) and not any(one_in) else "not determined")
glue("ch1_local_move_low_lo", min(f.low for f in last_move))
glue("ch1_local_move_low_hi", max(f.low for f in last_move))
all_local = [f.slope for fits in move_local for f in fits]
glue("ch1_local_move_min", min(all_local))
glue("ch1_local_move_max", max(all_local))
glue("ch1_wmax", int(widths[-1]))
glue("ch1_wmax_prev", int(widths[-2]))
glue("ch1_wmin", int(widths[0]))
# does a local exponent change between the last two width pairs? Per seed, the difference of its two local
# exponents (each seed's networks are independent of the other seeds'), with a Student-t interval over seeds


def bend(d):
    lg = np.log(d[:, -3:])
    return mean_interval((lg[:, 2] - lg[:, 1]) / np.log(widths[-1] / widths[-2]) - (lg[:, 1] - lg[:, 0]) / np.log(widths[-2] / widths[-3]))


def resolved(b):
    return not (b.low <= 0 <= b.high)


def bend_word(b):
    """A change of local exponent in words; 'barely' when the interval's end nearer to 0 lies within a tenth
    of its half-width from 0."""
    if not resolved(b):
        return "no change is resolved"
    barely = min(abs(b.low), abs(b.high)) < 0.1 * (b.high - b.low) / 2
    return ("it flattens" if b.low > 0 else "it steepens") + (", barely beyond the interval" if barely else ", beyond the interval")


if n_w >= 3:
    gap_bend = bend(G[:, :, i_ends[-1]])
    move_bend = [bend(M[:, :, j]) for j in range(n_e)]
    glue("ch1_gap_bend", str(gap_bend))
    glue("ch1_gap_bend_word", bend_word(gap_bend))
    for j, b in enumerate(move_bend):
        glue(f"ch1_move_bend{j}", str(b))
    res_t = [f"{t:.3g}" for t, b in zip(t_ends, move_bend) if resolved(b)]
    unres_t = [f"{t:.3g}" for t, b in zip(t_ends, move_bend) if not resolved(b)]
    desc = "; ".join(f"at t = {t:.3g} {bend_word(b)}" for t, b in zip(t_ends, move_bend) if resolved(b))
    glue("ch1_move_bend_word", "no change is resolved at any of the end times" if not res_t else
         f"a change is resolved at every end time ({desc})" if not unres_t else
         f"a change is resolved at one end time only ({desc}); at t = {' and '.join(unres_t)} the intervals contain 0"
         if len(res_t) == 1 else f"a change is resolved at t = {' and '.join(res_t)} only ({desc}); at t = {' and '.join(unres_t)} the interval contains 0")
    glue("ch1_wmax_prev2", int(widths[-3]))
glue("ch1_gap_growth", float(gm[-1, i_ends[-1]] / gm[-1, i_ends[0]]))
glue("ch1_gap_growth_small", float(gm[0, i_ends[-1]] / gm[0, i_ends[0]]))
glue("ch1_move_growth", float(mm[-1, -1] / mm[-1, 0]))
glue("ch1_move_small_end", float(mm[0, -1]))
# the small-eigenvalue view at the last end time, largest width
lmin_end, rq_end, opl_end = LMIN[:, -1, -1], RQ[:, -1, -1], OPL[:, -1, -1]
glue("ch1_lmin_ratio_lo", float(lmin_end.min()))
glue("ch1_lmin_ratio_hi", float(lmin_end.max()))
glue("ch1_lmin_ratio_gm", float(np.exp(np.log(lmin_end).mean())))
glue("ch1_lmin_spread_small", float(LMIN[:, 0, -1].max() / LMIN[:, 0, -1].min()))
glue("ch1_rq_end_lo", float(rq_end.min()))
glue("ch1_rq_end_hi", float(rq_end.max()))
opl_gm = float(np.exp(np.log(opl_end).mean()))
glue("ch1_opl_end", opl_gm)
glue("ch1_opl_end_lo", float(opl_end.min()))
glue("ch1_opl_end_sq", opl_gm**2)
# "not constant": at every width some seed's lambda_min or bottom Rayleigh quotient changed by more than half
moved_far = [bool(np.any(np.abs(np.log(np.concatenate([LMIN[:, iw, -1], RQ[:, iw, -1].ravel()]))) > np.log(1.5))) for iw in range(n_w)]
glue("ch1_bottom_word", "is not constant at any of these widths" if all(moved_far) else "is not constant at every one of these widths")
glue("ch1_move_falls", "falls with width at every end time" if all(f.high < 0 for f in move_fit) else "does not fall with width at every end time")
glue("ch1_move_end", float(mm[-1, -1]))

print(f"eta = 1/lambda_max(Theta_inf) = {lr_s:.3f}; largest eta * lambda_max(Theta_0) over all runs: {worst_eta_lmax:.3f}")
print("fitted exponents of width over all widths (95% Student-t interval over seeds):")
for t, gf, mf in zip(t_ends, gap_fit, move_fit):
    print(f"  t = {t:7.2f}: linearization gap {gf},  kernel movement {mf}")
print(f"  |theta_T - theta_0|: {dtheta_fit};  RMS Delta W2_ij: {dw_rms_fit};  largest |Delta W2_ij|: {dw_fit} (between the two largest widths: {local_fits(P[:, :, 1])[-1]})")
print("local exponents between adjacent widths (95% Student-t interval over seeds)")
print("widths        " + "".join(f"kernel moved, t={t:<9.2f}" for t in t_ends) + "".join(f"gap, t={t:<9.2f}        " for t in t_ends))
for i in range(n_w - 1):
    print(f"{int(widths[i]):5d}-{int(widths[i + 1]):<5d}  " + "".join(f"{str(move_local[j][i]):26s}" for j in range(n_e))
          + "".join(f"{str(gap_local[j][i]):24s}" for j in range(n_e)))
if n_w >= 3:
    print(f"change of the local exponent from {int(widths[-3])}-{int(widths[-2])} to {int(widths[-2])}-{int(widths[-1])}: kernel moved "
          + ", ".join(f"t={t:.2f}: {b}" for t, b in zip(t_ends, move_bend)) + f"; gap, t={t_ends[-1]:.2f}: {gap_bend}")
print("gap exponent minus kernel-movement exponent, paired on the same networks: "
      + ", ".join(f"t={t:.2f}: {d}" for t, d in zip(t_ends, gap_vs_move)))
print("geometric means over seeds; gap and kernel movement at the three end times")
print("width   gap: " + "  ".join(f"t={t:<7.2f}" for t in t_ends) + "   kernel moved: " + "  ".join(f"t={t:<7.2f}" for t in t_ends) + "   |theta_T-theta_0|")
for iw, w in enumerate(widths):
    print(f"{int(w):6d}   " + "  ".join(f"{gm[iw, i]:#9.4g}" for i in i_ends) + "   " + "  ".join(f"{mm[iw, j]:#9.4g}" for j in range(n_e))
          + f"   {np.exp(np.log(P[:, iw, 0]).mean()):#8.4g}")
print(f"small-eigenvalue view at t = {t_ends[-1]:.2f}, over {n_s} seeds (min - max; geometric mean):")
print("width   lambda_min(Theta_T)/lambda_min(Theta_0)   bottom-3 Rayleigh quotients   ||Theta_T-Theta_0||_2 / lambda_min(Theta_0)   Frobenius movement")
for iw, w in enumerate(widths):
    lm, rq, op = LMIN[:, iw, -1], RQ[:, iw, -1], OPL[:, iw, -1]
    print(f"{int(w):6d}   {lm.min():#8.3g} - {lm.max():<#8.3g} ({np.exp(np.log(lm).mean()):#.3g})           {rq.min():#8.3g} - {rq.max():<#8.3g}"
          f"           {op.min():#8.3g} - {op.max():<#8.3g} ({np.exp(np.log(op).mean()):#.3g})                 {mm[iw, -1]:#.3g}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: the gap between the network and its linearization against training time t = k eta, one curve per width (geometric mean over seeds). Second: the same gap and the kernel's movement against width at three end times, with fitted exponents. Third: the initial kernel's relative error against its limit Theta_inf, in Frobenius norm, in lambda_min and in the worst Rayleigh quotient on the three bottom eigenvectors of Theta_inf (geometric means over seeds). Right: the parameter movement at the last end time, in absolute units: total distance, RMS and largest hidden-to-hidden weight change (geometric means over seeds). Legends give the fitted exponents.", "name": "fig-ch1-width"}}
fig, axes = plt.subplots(1, 4, figsize=(17, 4.0), layout="constrained")
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
ax.loglog(init_w, gi[:, 0], "o-", color=COLORS["inf"], label=rf"$\|\Theta_0-\Theta_\infty\|_F/\|\Theta_\infty\|_F$: {init_fit['frob'].slope:.2f}")
ax.loglog(init_w, gi[:, 1], "^-", color=COLORS["extra"], label=rf"$|\lambda_{{\min}}(\Theta_0)/\lambda_{{\min}}(\Theta_\infty)-1|$: {init_fit['lmin'].slope:.2f}")
ax.loglog(init_w, gi[:, 2], "x-", color=COLORS["emp"], label=rf"$\max_{{j\leq 3}}|v_j^\top\Theta_0 v_j/\lambda_j(\Theta_\infty)-1|$: {init_fit['rq_bottom'].slope:.2f}")
ax.set_xlabel("width $n$ of each hidden layer")
ax.set_ylabel(r"relative error of $\Theta_0$ against $\Theta_\infty$")
ax.set_title("initial kernel against its limit")
ax.legend(fontsize=6)
ax = axes[3]
ax.loglog(widths, np.exp(np.log(P[:, :, 0]).mean(0)), "s-", color=COLORS["net"], label=rf"$\|\theta_T-\theta_0\|$: {dtheta_fit.slope:.2f}")
ax.loglog(widths, np.exp(np.log(P[:, :, 1]).mean(0)), "d-", color=COLORS["emp"], label=rf"$\max|\Delta W^{{(2)}}_{{ij}}|$: {dw_fit.slope:.2f}")
ax.loglog(widths, np.exp(np.log(P[:, :, 2]).mean(0)), "v-", color=COLORS["data"], label=rf"RMS $\Delta W^{{(2)}}_{{ij}}$: {dw_rms_fit.slope:.2f}")
ax.set_xlabel("width $n$ of each hidden layer")
ax.set_ylabel(rf"parameter change at $t = {t_ends[-1]:.3g}$ (absolute)")
ax.set_title("parameter movement")
ax.legend(fontsize=6)
plt.show()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: local exponents of the kernel's movement (squares) and of the linearization gap (circles) between adjacent widths, at the three end times, with 95 % intervals over seeds (Student t), plotted at the geometric mean of the two widths; dotted lines at -1/2 and -1. Middle: the kernel at the last end time in the directions that set late training, one marker per seed: lambda_min(Theta_T)/lambda_min(Theta_0) and the Rayleigh quotients of Theta_T on the three bottom eigenvectors of Theta_0 (1 = unchanged). Right: the kernel's movement in operator norm in units of lambda_min(Theta_0), and its relative Frobenius movement, against width (geometric means over seeds, last end time).", "name": "fig-ch1-local"}}
fig, axes = plt.subplots(1, 3, figsize=(14, 4.0), layout="constrained")
mid = np.sqrt(widths[:-1] * widths[1:])
ax = axes[0]
for j, t in enumerate(t_ends):
    c = plt.get_cmap("plasma")(j / max(len(t_ends), 1))
    for fits, mk, dx, lab in ((move_local[j], "s", 0.97, "kernel moved"), (gap_local[j], "o", 1.03, "gap")):
        sl = np.array([f.slope for f in fits])
        err = np.array([[f.slope - f.low for f in fits], [f.high - f.slope for f in fits]])
        ax.errorbar(mid * dx * (1 + 0.02 * j), sl, yerr=err, fmt=mk + ("-" if mk == "s" else ":"), color=c, ms=4, capsize=2,
                    mfc="none" if mk == "o" else c, label=f"{lab}, t={t:.3g}")
for ref in (-0.5, -1.0):
    ax.axhline(ref, color="gray", lw=0.8, ls=":")
ax.set_xscale("log")
ax.set_xlabel(r"width $\sqrt{n\cdot 2n}$ (between $n$ and $2n$)")
ax.set_ylabel(r"local exponent $\log(d_{2n}/d_n)/\log 2$")
ax.set_title("local exponents of width")
ax.legend(fontsize=6)
ax = axes[1]
for iw, w in enumerate(widths):
    jit = w * np.exp(np.linspace(-0.12, 0.12, n_s))
    ax.semilogy(jit, LMIN[:, iw, -1], "o", ms=4, color=COLORS["extra"], label=r"$\lambda_{\min}(\Theta_T)/\lambda_{\min}(\Theta_0)$" if iw == 0 else None)
    for k in range(3):
        ax.semilogy(jit, RQ[:, iw, -1, k], "x", ms=3, color=COLORS["emp"], alpha=0.6,
                    label=r"$u_j^\top\Theta_T u_j/\lambda_j(\Theta_0)$, $j \leq 3$" if iw == 0 and k == 0 else None)
ax.axhline(1, color="gray", lw=0.8)
ax.set_xscale("log")
ax.set_xlabel("width $n$ of each hidden layer")
ax.set_ylabel("ratio at the last end time (1: unchanged)")
ax.set_title(rf"bottom of the spectrum, $t = {t_ends[-1]:.3g}$")
ax.legend(fontsize=6)
ax = axes[2]
ax.loglog(widths, np.exp(np.log(OPL[:, :, -1]).mean(0)), "o-", color=COLORS["extra"],
          label=r"$\|\Theta_T-\Theta_0\|_2/\lambda_{\min}(\Theta_0)$")
ax.loglog(widths, mm[:, -1], "s--", color=COLORS["net"], label=r"$\|\Theta_T-\Theta_0\|_F/\|\Theta_0\|_F$")
ax.axhline(1, color="gray", lw=0.8)
ax.set_xlabel("width $n$ of each hidden layer")
ax.set_ylabel("kernel movement (see legend)")
ax.set_title(rf"two scales of movement, $t = {t_ends[-1]:.3g}$")
ax.legend(fontsize=6)
plt.show()

# %% [markdown]
# **What it shows.** *At initialization* the kernel's Frobenius distance to $\Theta_\infty$ falls with
# exponent {glue:text}`ch1_slope_init_frob`, {glue:text}`ch1_init_frob_vs_half` the $-\frac12$ of the law of large
# numbers; the relative error of $\lambda_{\min}$ falls with exponent {glue:text}`ch1_slope_init_lmin`, and the worst
# bottom Rayleigh quotient with {glue:text}`ch1_slope_init_rq_bottom`, and both errors are
# {glue:text}`ch1_init_lmin_above` (third panel of {numref}`fig-ch1-width`): the small eigenvalues are where finite width shows.
#
# *During training, in Frobenius norm*, the kernel's movement {glue:text}`ch1_move_falls`. Fitted over all
# widths, its exponents at $t =$ {glue:text}`ch1_t_end0:.3g`, {glue:text}`ch1_t_end1:.3g` and
# {glue:text}`ch1_t_end2:.3g` are {glue:text}`ch1_slope_move0`, {glue:text}`ch1_slope_move1` and
# {glue:text}`ch1_slope_move2`, but one power law does not describe the curve: the local exponents between adjacent
# widths (table above, left panel of {numref}`fig-ch1-local`) range from {glue:text}`ch1_local_move_min:.2f` to
# {glue:text}`ch1_local_move_max:.2f`, and between the two largest widths, {glue:text}`ch1_wmax_prev` and
# {glue:text}`ch1_wmax`, they are {glue:text}`ch1_local_move0`, {glue:text}`ch1_local_move1` and
# {glue:text}`ch1_local_move2`. These intervals {glue:text}`ch1_local_move_half_word` $-\frac12$; their lower ends lie
# between {glue:text}`ch1_local_move_low_lo:.2f` and {glue:text}`ch1_local_move_low_hi:.2f`. Compared with the pair
# {glue:text}`ch1_wmax_prev2`–{glue:text}`ch1_wmax_prev`, the local exponent changes by
# {glue:text}`ch1_move_bend0`, {glue:text}`ch1_move_bend1` and {glue:text}`ch1_move_bend2` at the three end times
# (per-seed difference, 95 % interval): {glue:text}`ch1_move_bend_word`. At the largest
# widths we can afford, these data therefore {glue:text}`ch1_move_one_word` the $n^{-1}$ that perturbative analyses
# {cite}`dyer2020asymptotics,huang2020dynamics` derive at fixed $t$, and {glue:text}`ch1_move_half_word2` the
# $n^{-1/2}$ of section 1.1's bound: the rate of the movement is {glue:text}`ch1_move_rate_word` here. Those
# $1/n$ results are derived for smooth activations; this network is ReLU, whose derivative jumps, and they do not
# cover it. (The paper scale of this page runs wider networks.)
#
# *During training, in the small-eigenvalue directions*, the kernel {glue:text}`ch1_bottom_word`. At the
# last end time and width {glue:text}`ch1_wmax`, where the Frobenius movement is {glue:text}`ch1_move_end:.3f`,
# $\lambda_{\min}(\Theta_T)/\lambda_{\min}(\Theta_0)$ ranges from {glue:text}`ch1_lmin_ratio_lo:.2f` to
# {glue:text}`ch1_lmin_ratio_hi:.2f` over seeds (geometric mean {glue:text}`ch1_lmin_ratio_gm:.2f`: the bottom moves
# in both directions, by seed), and the Rayleigh quotients on the three bottom eigenvectors of
# $\Theta_0$ from {glue:text}`ch1_rq_end_lo:.2f` to {glue:text}`ch1_rq_end_hi:.2f` (middle panel; at width
# {glue:text}`ch1_wmin` the largest and smallest $\lambda_{\min}$ ratios differ by a factor
# {glue:text}`ch1_lmin_spread_small:.0f`). Weyl's inequality explains how so small a Frobenius movement allows
# this: the movement in operator norm, $\lVert\Theta_T-\Theta_0\rVert_2$, is {glue:text}`ch1_opl_end:.0f` times
# $\lambda_{\min}(\Theta_0)$ (geometric mean; at least {glue:text}`ch1_opl_end_lo:.3g` for every seed). Even if
# it fell like $n^{-1}$, it would reach $\lambda_{\min}$ only at a width about {glue:text}`ch1_opl_end:.0f` times
# larger, and at the rate $n^{-1/2}$ about {glue:text}`ch1_opl_end_sq:.0f` times larger. The statement "the NTK
# stays constant" therefore holds at these widths relative to the kernel's norm, which its top eigenvalues (the
# fast part of training) dominate, and not in the directions that set its slow end, the same qualification section 1.2 found
# for the kernel at initialization.
#
# *The linearization gap* on the test grid falls with exponents {glue:text}`ch1_slope_gap0`,
# {glue:text}`ch1_slope_gap1` and {glue:text}`ch1_slope_gap2` at the three end times: {glue:text}`ch1_gap_vs_half0`,
# {glue:text}`ch1_gap_vs_half1` and {glue:text}`ch1_gap_vs_half2` $-\frac12$. Compared on the same networks (the
# gap's exponent minus the movement's, per seed: {glue:text}`ch1_gap_minus_move0`, {glue:text}`ch1_gap_minus_move1`,
# {glue:text}`ch1_gap_minus_move2`), the gap falls {glue:text}`ch1_gap_vs_move`. At the
# last end time, from the pair {glue:text}`ch1_wmax_prev2`–{glue:text}`ch1_wmax_prev` to the pair
# {glue:text}`ch1_wmax_prev`–{glue:text}`ch1_wmax`, its local exponent (table above) changes by
# {glue:text}`ch1_gap_bend`: {glue:text}`ch1_gap_bend_word`. The late value is a
# measurement over these widths, not an asymptotic rate: the bound of Lee et al. {cite}`lee2019wide`,
# $O(n^{-1/2})$ uniformly in time, holds as $n\to\infty$ with an unspecified constant; a slower decay over finite
# widths does not contradict it, and these widths do not show the approach to it. The left panel of {numref}`fig-ch1-width` shows
# why one late-time slope mixes regimes: the gap keeps **changing with time** (from the first to the last end
# time it is multiplied by {glue:text}`ch1_gap_growth:.2f` at width {glue:text}`ch1_wmax` and by
# {glue:text}`ch1_gap_growth_small:.2f` at width {glue:text}`ch1_wmin`; the kernel's movement by
# {glue:text}`ch1_move_growth:.2f` at width {glue:text}`ch1_wmax`), and at width {glue:text}`ch1_wmin` the kernel
# has moved by {glue:text}`ch1_move_small_end:.2f` of its norm by the end: that network has left the lazy regime.
# Our reading: how long the linearization stays accurate grows with the width, and that, not a kernel constant
# for all time at a given width, is what "the NTK is constant in wide networks" means.
#
# The parameters move as section 1.1 says: the total distance $\lVert\theta_T-\theta_0\rVert$ does not depend on
# the width (exponent {glue:text}`ch1_slope_dtheta`), while the root-mean-square change of a hidden-to-hidden
# weight falls with exponent {glue:text}`ch1_slope_dw_rms`. The largest single change,
# $\max_{ij}\lvert\Delta W^{(2)}_{ij}\rvert$, falls with exponent {glue:text}`ch1_slope_dw` over all widths and
# {glue:text}`ch1_local_dw` between the two largest; we measure that exponent but do not explain it here.
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
C_LAZY, C_REF = 0.9, 0.5  # eta lambda_0 = 1.8 (just below the limit) and 1.0 (for comparison at the same time)
# the step at which the eta lambda_0 = 1.8 runs reach the time t = k eta of the last step of the 1.0 runs
k_same = round(cfg["lr_steps"] * C_REF / C_LAZY)
kt_steps = sorted(set(log_spaced_steps(cfg["lr_steps"], 12)) | {k_same})
cat = {}  # (seed, c) -> dict
for s in progress_bar(range(cfg["lr_seeds"]), desc="step-size sweep"):
    k_probe = empirical_ntk(MLP(2, cfg["lr_width"], DEPTH, seed=7 + s).to(dev, DT), X).double().cpu()
    lmax0 = float(torch.linalg.eigvalsh(k_probe)[-1])
    for c in factors:
        model = MLP(2, cfg["lr_width"], DEPTH, seed=7 + s).to(dev, DT)
        h = train_gd(model, X, Y, lr=c * 2 / lmax0, steps=cfg["lr_steps"], record=[], ntk_at=kt_steps, progress=False)
        ok = (not h.diverged) and h.loss[-1] < h.loss[0]
        r = dict(loss=h.loss, converged=ok, diverged=h.diverged, peak=float(np.max(h.loss) / h.loss[0]))
        if not h.diverged:  # a diverging run's last kernels overflow: only converging runs are logged
            kl = h.kernel
            r.update(lam=kl.lam_max / lmax0, lam_steps=kl.steps, moved=float(kl.rel_change[-1]),
                     lam_same=float(kl.lam_max[list(kl.steps).index(k_same)] / lmax0),
                     moved_same=float(kl.rel_change[list(kl.steps).index(k_same)]), t_same=k_same * c * 2 / lmax0,
                     t_end=cfg["lr_steps"] * c * 2 / lmax0)
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
        return f"{np.median(v):#8.3g}" if v else "       -"

    print(f"{2 * c:8.1f}                | {len(conv)}/{len(rs)}            | {med([r['peak'] for r in conv])}"
          f"                     | {med([r['lam'][-1] for r in conv])}                             | {med([r['moved'] for r in conv])}")
print(f"largest converged eta * lambda_max(Theta_0), per seed: {(2 * c_max).tolist()}")
for c in (C_LAZY, c_show):
    if c is not None:
        rs = [cat[(s, c)] for s in range(cfg["lr_seeds"])]
        for key, vals in (("lam", [r["lam"][-1] for r in rs]), ("moved", [r["moved"] for r in rs]), ("peak", [r["peak"] for r in rs])):
            glue(f"ch1_cat_{key}_{'lazy' if c < 1 else 'cat'}", str(geometric_interval(vals)))
glue("ch1_cat_c", float(2 * c_show) if c_show else float("nan"))
lazy = [cat[(s, C_LAZY)] for s in range(cfg["lr_seeds"])]
lam_lazy = mean_interval(np.log([r["lam"][-1] for r in lazy]))
glue("ch1_cat_lazy_grow", "grows" if lam_lazy.low > 0 else "changes")
eta_lmax_end = [2 * C_LAZY * r["lam"][-1] for r in lazy]  # eta * lambda_max(Theta_T) below the limit
glue("ch1_cat_lazy_etalam_lo", min(eta_lmax_end))
glue("ch1_cat_lazy_etalam_hi", max(eta_lmax_end))
glue("ch1_cat_lazy_etalam_word", "all below 2" if max(eta_lmax_end) < 2 else "not all below 2")
glue("ch1_cat_lazy_mono", "falls monotonically" if all(np.all(np.diff(r["loss"]) <= 0) for r in lazy) else "does not fall monotonically in every run")
if c_show is not None:
    below = all(cat[(s, c_show)]["lam"][-1] <= 1 / c_show for s in range(cfg["lr_seeds"]))
    glue("ch1_cat_below_word", "below" if below else "not below")
# below the limit, is it the step size that moves the kernel? The eta lambda_0 = 1.8 runs at step k_same against
# the eta lambda_0 = 1.0 runs of the same networks at their last step: the same time t = k eta (to rounding of k)
ref = [cat[(s, C_REF)] for s in range(cfg["lr_seeds"])]
glue("ch1_cat_c_ref", 2 * C_REF)
glue("ch1_cat_k_same", k_same)
glue("ch1_cat_t_lo", min(r["t_same"] for r in lazy))
glue("ch1_cat_t_hi", max(r["t_same"] for r in lazy))
glue("ch1_cat_t_end_lo", min(r["t_end"] for r in lazy))
glue("ch1_cat_t_end_hi", max(r["t_end"] for r in lazy))
same_t_ok = all(abs(a["t_same"] / b["t_end"] - 1) < 0.01 for a, b in zip(lazy, ref))
print(f"eta lambda_0 = {2 * C_LAZY:.1f} at step {k_same} and {2 * C_REF:.1f} at step {cfg['lr_steps']}: same time t to 1 %: {same_t_ok}")
cmp_same = {}
for key in ("moved", "lam"):
    a, b = [r[f"{key}_same"] for r in lazy], [r[key] if key == "moved" else r["lam"][-1] for r in ref]
    ratio = ratio_interval(a, b)  # paired over seeds: the interval of the mean log ratio
    cmp_same[key] = ratio
    glue(f"ch1_cat_{key}_same", str(geometric_interval(a)))
    glue(f"ch1_cat_{key}_ref", str(geometric_interval(b)))
    glue(f"ch1_cat_{key}_ratio", str(ratio))
    print(f"{key}: eta lambda_0 = {2 * C_LAZY:.1f} {geometric_interval(a)}, {2 * C_REF:.1f} {geometric_interval(b)}, paired ratio {ratio}")
mr = cmp_same["moved"]
step_effect = "none" if mr.low <= 1 <= mr.high else "more" if mr.low > 1 else "less"
glue("ch1_cat_ratio_word", {"none": "an interval that contains 1", "more": "an interval above 1", "less": "an interval below 1"}[step_effect])
glue("ch1_cat_lazy_cause", {
    "none": "Below the limit, then, the step size does not measurably change how far the kernel moves by a given time: "
            "the movement comes from the finite width and the training time, as in section 1.6.",
    "more": "Below the limit, then, the larger step moves the kernel further by a given time, on top of the movement "
            "that finite width and training time cause (section 1.6).",
    "less": "Below the limit, then, the larger step moves the kernel less far by a given time; the movement comes from "
            "the finite width and the training time (section 1.6).",
}[step_effect])
glue("ch1_cat_verdict_below", {
    "none": "below it the step size does not change the kernel's movement at a given time",
    "more": "below it the larger step moves the kernel somewhat further at a given time",
    "less": "below it the larger step moves the kernel less far at a given time",
}[step_effect])
_ = glue("ch1_cat_c_lazy", 2 * C_LAZY)

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
# **What it shows.** Below the limit ($\eta\lambda_0 =$ {glue:text}`ch1_cat_c_lazy:.1f`) the loss {glue:text}`ch1_cat_lazy_mono`,
# but the kernel is not frozen: its top eigenvalue {glue:text}`ch1_cat_lazy_grow`, to {glue:text}`ch1_cat_lam_lazy` of its initial value (geometric mean and
# 95 % interval over {glue:text}`ch1_lr_seeds` seeds), so that $\eta\lambda_{\max}(\Theta_T)$ ends between
# {glue:text}`ch1_cat_lazy_etalam_lo:.2f` and {glue:text}`ch1_cat_lazy_etalam_hi:.2f` ({glue:text}`ch1_cat_lazy_etalam_word`),
# close to the stability limit; by the last step ($t$ from {glue:text}`ch1_cat_t_end_lo:.0f` to
# {glue:text}`ch1_cat_t_end_hi:.0f` over seeds) the kernel has moved by {glue:text}`ch1_cat_moved_lazy` in relative
# Frobenius norm. Is that the step size? We compare with the runs at $\eta\lambda_0 =$ {glue:text}`ch1_cat_c_ref:.1f` on
# the same networks at the same time $t = k\eta$ (step {glue:text}`ch1_cat_k_same` of the $\eta\lambda_0 =$
# {glue:text}`ch1_cat_c_lazy:.1f` runs against the last step of the others, $t$ from {glue:text}`ch1_cat_t_lo:.0f` to
# {glue:text}`ch1_cat_t_hi:.0f`): the kernel has moved by {glue:text}`ch1_cat_moved_same` at
# $\eta\lambda_0 =$ {glue:text}`ch1_cat_c_lazy:.1f` and by {glue:text}`ch1_cat_moved_ref` at
# {glue:text}`ch1_cat_c_ref:.1f`, a paired ratio of {glue:text}`ch1_cat_moved_ratio` (geometric mean and 95 % interval
# over seeds), {glue:text}`ch1_cat_ratio_word`; the top eigenvalue has reached {glue:text}`ch1_cat_lam_same` and
# {glue:text}`ch1_cat_lam_ref` of its initial value (paired ratio {glue:text}`ch1_cat_lam_ratio`).
# {glue:text}`ch1_cat_lazy_cause`
# Above it the linearized model's discrete iteration would blow up, yet the network converges for every
# seed up to $\eta\lambda_0 =$ {glue:text}`ch1_cat_c:.1f`: its loss first spikes (peak
# {glue:text}`ch1_cat_peak_cat` times the initial loss), the top eigenvalue drops to
# {glue:text}`ch1_cat_lam_cat` of its initial value, for every seed {glue:text}`ch1_cat_below_word` the dashed stability line $2/(\eta\lambda_0)$,
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
# | gradient flow on the squared loss gives $\dot f = -\Theta(f-y)$, solved by $y + e^{-t\Theta}(f_0-y)$ (summed loss, $t = k\eta$) | {cite}`ee556ntk`; Prop. 3, 6 of {cite}`starnaud2025revisiting` | the closed form agrees with a numerical integration of the ODE to better than {glue:text}`ch1_ode_tol:.0e` $\max\lvert y\rvert$ and tracks a wide network within {glue:text}`ch1_gap_emp:.3f` $\max\lvert y\rvert$ (section 1.5) | confirmed |
# | each eigen-direction decays at rate $\lambda_i$; convergence at rate $\lambda_{\min}$ | {cite}`ee556ntk` | exact for the linear ODE (section 1.3); the network's remaining residual lies in the directions the closed form has not yet fitted ({glue:text}`ch1_res_share0:.1f` % of its squared norm at $t=$ {glue:text}`ch1_res_t0:.2g`, {glue:text}`ch1_res_share1:.1f` % at {glue:text}`ch1_res_t1:.2g`; closed form {glue:text}`ch1_res_share_flow0:.1f` % and {glue:text}`ch1_res_share_flow1:.1f` %), but per direction it follows $e^{-\lambda_i t}$ only to within {glue:text}`ch1_res_dev:.3f` $\lVert r_0\rVert$ (right panel of {numref}`fig-ch1-flow`) | confirmed (for the ODE; for the network the order of fitting, not the per-direction rates) |
# | the empirical NTK at initialization is deterministic as width $\to\infty$ | {cite}`ee556ntk`; Thm 1 of {cite}`starnaud2025revisiting` | Frobenius distance to $\Theta_\infty$: exponent {glue:text}`ch1_slope_init_frob`; $\lambda_{\min}$ error: {glue:text}`ch1_slope_init_lmin`, {glue:text}`ch1_init_lmin_above` | confirmed ({glue:text}`ch1_init_frob_vs_half` $n^{-1/2}$); **refined**: the slowest directions converge from a higher level |
# | each weight moves $O(n^{-1/2})$, so the NTK stays constant (the note's formulas were lost in extraction: the $n^{-1/2}$ is our reconstruction) | {cite}`ee556ntk` | total $\lVert\theta_T-\theta_0\rVert$: exponent {glue:text}`ch1_slope_dtheta`; RMS hidden-to-hidden weight change: {glue:text}`ch1_slope_dw_rms` (largest: {glue:text}`ch1_slope_dw`) | **not supported** (the argument): the measured $O(1/n)$ of the hidden-to-hidden weights lies within the bound $O(n^{-1/2})$, but $n^2$ weights each moving $n^{-1/2}$ would give a total movement of order $\sqrt n$; the conclusion rests on the total movement $O(1)$ and the Hessian's $O(n^{-1/2})$ {cite}`liu2020linearity` |
# | the NTK stays constant during training as width $\to\infty$ | {cite}`ee556ntk` | Frobenius movement, fitted over all widths: exponent {glue:text}`ch1_slope_move0` at $t=$ {glue:text}`ch1_t_end0:.3g`, {glue:text}`ch1_slope_move2` at $t=$ {glue:text}`ch1_t_end2:.3g`; between the two largest widths {glue:text}`ch1_local_move0` and {glue:text}`ch1_local_move2`; the {glue:text}`ch1_wmax`-wide kernel's movement multiplied by {glue:text}`ch1_move_growth:.2f` from the first to the last time; there, $\lambda_{\min}(\Theta_T)/\lambda_{\min}(\Theta_0)$ from {glue:text}`ch1_lmin_ratio_lo:.2f` to {glue:text}`ch1_lmin_ratio_hi:.2f` over seeds | **refined**: the Frobenius movement falls with width at fixed $t$, at a rate {glue:text}`ch1_move_rate_word` at these widths (the $1/n$ of {cite}`dyer2020asymptotics,huang2020dynamics` is derived for smooth activations, this network is ReLU); it grows with $t$; in the small-eigenvalue directions, which set late training, the kernel is not constant at these widths |
# | a wide network stays close to its linearization | {cite}`ee556ntk`; {cite}`lee2019wide` | gap on the test grid: exponent {glue:text}`ch1_slope_gap0` at $t=$ {glue:text}`ch1_t_end0:.3g`, {glue:text}`ch1_slope_gap2` at $t=$ {glue:text}`ch1_t_end2:.3g` | **refined**: the gap vanishes with width; it falls {glue:text}`ch1_gap_vs_move`; at $t=$ {glue:text}`ch1_t_end2:.3g` its exponent over these widths is {glue:text}`ch1_gap_vs_half2` $-\frac12$ (a finite-width measurement, not an asymptotic rate) |
# | the limit kernel is given by the recursion of Thm 1; on the sphere $\Theta^{(L)}(x,x) = L/(n_0 2^{L-1})$ | Thm 1, Prop. 1, 2 of {cite}`starnaud2025revisiting` | the diagonal matches to better than {glue:text}`ch1_diag_tol:.0e` (relative) | confirmed |
# | practical (large) step sizes can push networks out of the lazy regime | {cite}`ee556ntk` | below $\eta\lambda_0 = 2$ (at {glue:text}`ch1_cat_c_lazy:.1f`) the kernel moves by {glue:text}`ch1_cat_moved_same` by a time at which the runs at $\eta\lambda_0 =$ {glue:text}`ch1_cat_c_ref:.1f` moved by {glue:text}`ch1_cat_moved_ref` (paired ratio {glue:text}`ch1_cat_moved_ratio`); above it the top eigenvalue drops to {glue:text}`ch1_cat_lam_cat` and the kernel moves by {glue:text}`ch1_cat_moved_cat`; largest converging $\eta\lambda_0$ {glue:text}`ch1_eta_max_lo:.1f`–{glue:text}`ch1_eta_max_hi:.1f` | **refined**: above $\eta\lambda_0 = 2$ (catapult, {cite}`lewkowycz2020catapult`); {glue:text}`ch1_cat_verdict_below` |
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
