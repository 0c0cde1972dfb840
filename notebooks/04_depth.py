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
# # 4. The depth axis: $\bar\Theta \to \frac14$, and what depth plus early stopping keep
#
# Chapter 1 took the width to infinity at fixed depth. This chapter asks what happens to the
# infinite-width ReLU kernel as the depth $L$ grows, following §6 of {cite}`starnaud2025revisiting`
# (cited below as *SCF*). On the unit sphere the normalized kernel forgets its inputs: every
# off-diagonal entry tends to $\frac14$, so the kernel matrix tends to $\frac14\mathbf 1\mathbf 1^\top + \frac34 I$
# and deep kernel regression predicts the same value everywhere off the data. SCF's answer
# (Theorem 3) is that depth chosen with the data and early stopping keep predictions both stable
# and expressive. Every numbered result of §6 gets a derivation sketch and an executed check here.
# {glue:text}`ch4_n_false` numbered results do not hold as stated ({glue:text}`ch4_false_names`); besides these,
# §4.11 also records: {glue:text}`ch4_other_faults`.
#
# Throughout: no biases, $w = 1$, inputs on $S^{n_0-1}$ (SCF Appendix A), and the normalized kernel
# of SCF Definition 4, $\bar\Theta^{(L)}(x,x') = n_0 2^{L-1}\Theta^{(L)}_\infty(x,x')/L$, which is
# {func}`ntk_lib.analytic.relu_ntk` with `normalized=True`.

# %% tags=["parameters"]
SCALE = "book"  # "smoke": seconds (CI) | "book": what this page shows, CPU | "paper": Colab GPU, MNIST
SEED = 0
DEVICE = "auto"

# %% tags=["hide-input"]
import math

import matplotlib.pyplot as plt
import mpmath
import numpy as np
import sympy as sp
import torch
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from ntk_lib.analytic import h, h_prime, relu_ntk, theta_bar_recurrence
from ntk_lib.correlations import (
    THETA_BAR_LOG_COEFFICIENT,
    depth_offset,
    depth_scale,
    eta_circle_eigenvalues,
    eta_fixed_point,
    eta_recurrence,
    relu_correlations,
    sigmoid_squared_taylor,
    theta_bar_deviation,
    theta_bar_deviations,
)
from ntk_lib.data import circle_points, load_digits_sphere, load_mnist, sphere
from ntk_lib.dynamics import gradient_flow, kernel_regression, projection_operator
from ntk_lib.fit import loglog_slope, mean_interval, paired_interval
from ntk_lib.notebook import glue, setup
from ntk_lib.plotting import COLORS
from ntk_lib.sphere import (
    cai_constant,
    close_pair_probability_bounds,
    collision_bound_prop7,
    collision_union_bound,
    min_angle_expectation_bounds,
    min_angle_limit_cdf,
)

run = setup(SCALE, SEED, DEVICE)
dev = run.device
cfg = run.pick(
    {
        "smoke": dict(l_max=200, huge_depth=10**4, mp_depth=200, n_fig45=8, n_eta=200, ns=[20, 40], f7_seeds=2, fig6_depths=[2, 4, 16],
                      mc_n=200, mc_trials=5, n_table=100, t2_draws=2, t2_depths=[2, 30], image_data="digits", deep=2000, thm3_seeds=3, thm3_deep=100,
                      rate_depth=10**3, eta_circle_depth=20),
        "book": dict(l_max=20000, huge_depth=10**6, mp_depth=3000, n_fig45=30, n_eta=1500, ns=[50, 100, 200, 400], f7_seeds=4,
                     fig6_depths=[2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64], mc_n=2000, mc_trials=20, n_table=500, t2_draws=5,
                     t2_depths=[1, 2, 3, 10, 30, 100, 1000], image_data="digits", deep=20000, thm3_seeds=10, thm3_deep=1000,
                     rate_depth=10**5, eta_circle_depth=40),
        "paper": dict(l_max=200000, huge_depth=10**7, mp_depth=20000, n_fig45=30, n_eta=1500, ns=[100, 300, 1000, 3000], f7_seeds=5,
                      fig6_depths=[2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64], mc_n=20000, mc_trials=50, n_table=500, t2_draws=10,
                      t2_depths=[1, 2, 3, 10, 30, 100, 1000], image_data="mnist", deep=20000, thm3_seeds=20, thm3_deep=1000,
                      rate_depth=10**6, eta_circle_depth=60),
    }
)
N0 = 128  # input dimension of SCF's synthetic experiments
print(f"scale {run.scale}: depths up to {cfg['l_max']} (recurrence for the rate: {cfg['huge_depth']}), dataset sizes {cfg['ns']}, image data: {cfg['image_data']}")

# %% [markdown]
# ## 4.1 The normalized kernel obeys a one-line recurrence
#
# On the sphere with $w=1, b=0$, Proposition 1 gives $\Sigma^{(l)}(x,x) = 1/(n_0 2^{l-1})$ and
# $\Theta^{(l)}(x,x) = l/(n_0 2^{l-1})$, and the ReLU formulas of Chapter 1 become functions of the
# correlation $\rho^{(l)}$ alone: $\rho^{(l+1)} = h(\rho^{(l)})$ and $\dot\Sigma^{(l+1)} = \frac12 h'(\rho^{(l)})$ with
#
# $$
# h(z) = \frac{z\arcsin z}{\pi} + \frac{\sqrt{1-z^2}}{\pi} + \frac z2, \qquad h'(z) = \frac12 + \frac{\arcsin z}{\pi}
# \qquad\text{(SCF Definition 5)}.
# $$
#
# Dividing Jacot's recursion $\Theta^{(L+1)} = \dot\Sigma^{(L+1)}\Theta^{(L)} + \Sigma^{(L+1)}$ by the
# diagonal $(L+1)/(n_0 2^{L})$ gives **Proposition 5**:
#
# $$
# \bar\Theta^{(L+1)} = \frac{L}{L+1}\,h'\big(\rho^{(L)}\big)\,\bar\Theta^{(L)} + \frac{1}{L+1}\,h\big(\rho^{(L)}\big),
# \qquad \bar\Theta^{(1)} = \rho^{(1)} = x^\top x'.
# $$
#
# The library computes the kernel by the general recursion (any $w$, $b$, input norms) in a
# normalized form; {func}`ntk_lib.analytic.theta_bar_recurrence` is Proposition 5 itself. They agree:

# %%
x_check = sphere(40, N0, seed=SEED)
rho_check = (x_check @ x_check.T).clamp(-1, 1)
# x.x computed in floating point is 1 - 1e-16 at times; an exact 1 on the diagonal matters: through
# h' the error grows like its square root, to ~1e-5 at depth 5000 (the library takes angles exactly)
rho_check.fill_diagonal_(1.0)
depth_check = min(cfg["l_max"], 5000)
prop5 = theta_bar_recurrence(rho_check, depth_check)
worst = 0.0
for L in sorted({2, 3, 10, 100, depth_check}):
    direct = relu_ntk(x_check, depth=L, normalized=True)
    worst = max(worst, float((direct - prop5[L - 1]).abs().max()))
PROP5_TOL = 1e-12  # the differences are rounding (~1e-14); their value is not printed, only the bound
glue("ch4_prop5_tol", PROP5_TOL, digits=1)
glue("ch4_prop5_ok", worst < PROP5_TOL)
glue("ch4_prop5_depth", depth_check)
print(f"max |Jacot recursion - Prop. 5| over depths up to {depth_check} below {PROP5_TOL:.0e}: {worst < PROP5_TOL}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "SCF Figure 3: h (left, blue) lies above the identity and its iterates pull every correlation towards 1; right: h'(z) = 1/2 + arcsin(z)/pi, with h'(rho) = 2 Sigma-dot (the ReLU derivative kernel).", "name": "fig-ch4-h"}}
z = torch.linspace(-1, 1, 401, dtype=torch.float64)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
axes[0].plot(z, z, color="red", lw=1, label="identity")
axes[0].plot(z, h(z), color=COLORS["net"], lw=2, label="$h(z)$")
comp = z.clone()
for k in range(2, 6):
    comp = h(comp)
    axes[0].plot(z, comp, color=COLORS["net"], lw=1, alpha=0.25 + 0.12 * k, label="$h^{k}(z)$, k = 2..5" if k == 2 else None)
axes[0].set_xlabel("$z$")
axes[0].set_ylabel("value")
axes[0].set_title("$h$ and its iterates")
axes[0].legend()
axes[1].plot(z, h_prime(z), color=COLORS["inf"], lw=2)
axes[1].set_xlabel("$z$")
axes[1].set_ylabel("$h'(z)$")
axes[1].set_title(r"$h'(z) = 1/2 + \arcsin(z)/\pi$")
plt.show()

# %% [markdown]
# One consequence is easy to miss. Proposition 5 also states that the normalized kernel takes values
# in $[0, 1]$. At $L = 2$, $\bar\Theta^{(2)} = \frac12\big(\rho\,h'(\rho) + h(\rho)\big)$, and for
# negatively correlated inputs the first term wins:

# %%
rho_grid = torch.linspace(-1, 1, 20001, dtype=torch.float64)
tb_grid = theta_bar_recurrence(rho_grid, 4)
i2 = int(tb_grid[1].argmin())
glue("ch4_rho_grid_n", len(rho_grid))
glue("ch4_min_tb2", float(tb_grid[1, i2]))
glue("ch4_argmin_tb2", float(rho_grid[i2]))
glue("ch4_min_tb3", float(tb_grid[2].min()))
print(f"min over rho of Theta-bar^(2): {float(tb_grid[1, i2]):.4f} at rho = {float(rho_grid[i2]):.3f}")
print(f"min over rho of Theta-bar^(3): {float(tb_grid[2].min()):.4f}")

# %% [markdown]
# So $\bar\Theta^{(2)}$ reaches {glue:text}`ch4_min_tb2:.3f` at $\rho^{(1)} =$ {glue:text}`ch4_argmin_tb2:.2f`:
# the range claim fails at depth 2 (and trivially at depth 1, where $\bar\Theta^{(1)} = x^\top x'$ takes
# every value in $[-1,1]$) and holds from depth 3 on (minimum {glue:text}`ch4_min_tb3:.3f`), because
# $\rho^{(2)} = h(\rho^{(1)}) \ge 0$.
#
# SCF §6.3 also asserts that "$\bar\Theta^{(L)}(x,x')$ is increasing in $x^\top x'$ for any $L$". We test
# it on the same grid of {glue:text}`ch4_rho_grid_n:,` input correlations, for every depth up to 30:

# %%
tb_mono = theta_bar_recurrence(rho_grid, 30)
steps = torch.diff(tb_mono, dim=1)
non_mono = [L for L in range(1, 31) if bool((steps[L - 1] < 0).any())]
last_bad = {L: float(rho_grid[1:][steps[L - 1] < 0].max()) for L in non_mono}
contiguous = non_mono == list(range(min(non_mono), max(non_mono) + 1)) if non_mono else False
glue("ch4_mono_fail_depths", f"{min(non_mono)} to {max(non_mono)}" if contiguous else ", ".join(map(str, non_mono)))
glue("ch4_mono_fail_count", len(non_mono))
glue("ch4_mono_fail_upto", max(last_bad.values()) if last_bad else float("nan"))
glue("ch4_mono_pos_ok", all(bool((steps[L - 1][rho_grid[1:] >= 0] >= 0).all()) for L in range(1, 31)))
for L in non_mono:
    print(f"L = {L:2d}: Theta-bar decreases somewhere on rho1 in [-1, {last_bad[L]:.4f}]")
print("increasing on rho1 >= 0 for every L <= 30:", all(bool((steps[L - 1][rho_grid[1:] >= 0] >= 0).all()) for L in range(1, 31)))

# %% [markdown]
# The monotonicity claim fails at every depth from {glue:text}`ch4_mono_fail_depths`, on an interval next
# to $\rho^{(1)} = -1$ that shrinks with depth (at most up to {glue:text}`ch4_mono_fail_upto:.3f`). The reason
# holds for every $L \ge 2$: differentiating the recursion in $\rho^{(1)}$, the term
# $\rho^{(1)}h''(\rho^{(1)})\prod_{l\ge2}h'(\rho^{(l)})$ tends to $-\infty$ as $\rho^{(1)}\to-1$
# ($h''(z) = 1/(\pi\sqrt{1-z^2})$), while every other term carries the vanishing factor $h'(\rho^{(1)})$. It holds on
# $\rho^{(1)} \ge 0$ at every depth tested, which is all the proof of Theorem 3 needs for nearby points.
#
# ## 4.2 Correlations: the exact expansion of $h$ at 1 (Lemma 1)
#
# $h$ has the single fixed point 1 on $[-1,1]$, so $\rho^{(L)} \to 1$ (Lemma 1). To get the rate, write
# $\rho = \cos\theta$ and $e = 1-\rho$. Then $h(\cos\theta) = \big(\sin\theta + (\pi-\theta)\cos\theta\big)/\pi$, i.e.
#
# $$
# h(1-e) = 1 - e + \frac{\sin\theta - \theta\cos\theta}{\pi}, \qquad h'(1-e) = 1 - \frac{\theta}{\pi},
# \qquad \theta = 2\arcsin\sqrt{e/2}.
# $$
#
# $\sin\theta-\theta\cos\theta$ is odd in $\theta$ and $\theta$ is $\sqrt e$ times a power series in $e$, so
# beyond the linear term only half-integer powers of $e$ occur: **there is no $e^2$ term**. The series,
# computed symbolically:

# %%
s_sym = sp.symbols("s", positive=True)  # s = sqrt(e)
theta_sym = 2 * sp.asin(s_sym / sp.sqrt(2))
h_sym = ((1 - s_sym**2) * (sp.pi - theta_sym) + s_sym * sp.sqrt(2 - s_sym**2)) / sp.pi
h_series = sp.series(h_sym, s_sym, 0, 7).removeO()
hp_series = sp.series(1 - theta_sym / sp.pi, s_sym, 0, 4).removeO()
print("h(1 - e)  =", sp.simplify(h_series).subs(s_sym, sp.Symbol("sqrt(e)")), "+ O(e^(7/2))")
print("h'(1 - e) =", hp_series.subs(s_sym, sp.Symbol("sqrt(e)")), "+ O(e^(5/2))")
c32 = h_series.coeff(s_sym, 3)
assert h_series.coeff(s_sym, 4) == 0 and sp.simplify(c32 - 2 * sp.sqrt(2) / (3 * sp.pi)) == 0
glue("ch4_c32", float(c32))
glue("ch4_c52", float(h_series.coeff(s_sym, 5)))

# %% [markdown]
# So $h(1-e) = 1 - e + c\,e^{3/2} + \frac{\sqrt2}{30\pi}e^{5/2} + O(e^{7/2})$ with $c = \frac{2\sqrt2}{3\pi} =$
# {glue:text}`ch4_c32:.6f` (SCF's proof has the right $c$ but a loose $O(e^2)$ remainder). For
# $V_L = e_L^{-1/2}$ this gives $V_{L+1} = V_L\,(1 - c\,e_L^{1/2} + O(e_L^{3/2}))^{-1/2} = V_L + \frac c2 + \frac{3c^2}{8}V_L^{-1} + O(V_L^{-2})$,
# and since $V_L \approx \frac c2 L$ the correction term is $\frac{3c}{4L}$; summing,
#
# $$
# V_L = \frac{\sqrt2}{3\pi}\Big(L + \tfrac32\ln L + \nu(\rho^{(1)}) + o(1)\Big), \qquad
# e_L = \frac{9\pi^2}{2\,\big(L + \frac32\ln L + \nu + o(1)\big)^2} = \frac{9\pi^2}{2L^2}\Big(1 - \frac{3\ln L}{L} - \frac{2\nu}{L} + o(1/L)\Big),
# $$
#
# with a constant $\nu$ that depends on the input correlation. {func}`ntk_lib.correlations.relu_correlations`
# tracks $e_L$ directly (never as $1-\rho$, which would lose all digits once $e_L < 10^{-16}$).

# %%
rho1_vals = torch.tensor([0.0, 0.5, 0.9, 0.99], dtype=torch.float64)
L_max = cfg["l_max"]
rho_L, e_L = relu_correlations(rho1_vals, L_max)
depths = np.arange(1, L_max + 1, dtype=float)
inc = (e_L[1:] ** -0.5 - e_L[:-1] ** -0.5)[-1]
glue("ch4_v_inc", float(inc.mean()))
glue("ch4_v_const", math.sqrt(2) / (3 * math.pi))
l2e = (depths[-1] ** 2) * e_L[-1]
C_E = 9 * math.pi**2 / 2
# nu_L = (3 pi / sqrt 2) e_L^(-1/2) - L - (3/2) ln L, the offset at this depth; it converges to nu (§4.3)
nu_lmax = depth_offset(e_L[-1], torch.full((4,), float(L_max), dtype=torch.float64))
gap_l2e = C_E - l2e
log_part = C_E * 3 * math.log(L_max) / L_max  # the same for every pair
nu_part = C_E * 2 * nu_lmax / L_max
glue("ch4_l2e_theory", C_E)
glue("ch4_l2e_log", log_part)
glue("ch4_l2e_below", "from below for all four pairs" if bool((gap_l2e > 0).all()) else "but not from below for every pair")
for i in range(4):
    glue(f"ch4_l2e_{i}", float(l2e[i]))
    glue(f"ch4_l2e_gap_{i}", float(gap_l2e[i]))
    glue(f"ch4_l2e_nu_{i}", float(nu_part[i]))
    glue(f"ch4_nu_{i}", float(nu_lmax[i]))
glue("ch4_l2e_first_order", float(((log_part + nu_part) - gap_l2e).abs().max()), digits=2)
glue("ch4_l2e_close_phrase", "mostly the ν part" if float(nu_part[3]) > log_part else "mostly the log part")
print(f"increment of e_L^(-1/2) at L = {L_max}: {inc.numpy().round(5)} (theory sqrt(2)/(3 pi) = {math.sqrt(2) / (3 * math.pi):.5f})")
print(f"L^2 e_L at L = {L_max}: {l2e.numpy().round(2)} (theory 9 pi^2 / 2 = {C_E:.2f}); gap {gap_l2e.numpy().round(3)}")
print(f"first-order gap (9 pi^2 / 2)(3 ln L + 2 nu_L) / L = {log_part:.3f} (log part, every pair) + {nu_part.numpy().round(3)} (nu part)")

# %% [markdown]
# The increments of $e_L^{-1/2}$ settle at {glue:text}`ch4_v_inc:.4f` against $\sqrt2/(3\pi) =$
# {glue:text}`ch4_v_const:.4f`, and $L^2 e_L$ approaches $9\pi^2/2 =$ {glue:text}`ch4_l2e_theory:.2f`
# {glue:text}`ch4_l2e_below`: at $L =$ {glue:text}`ch4_lmax` it is {glue:text}`ch4_l2e_0:.2f`, {glue:text}`ch4_l2e_1:.2f`,
# {glue:text}`ch4_l2e_2:.2f` and {glue:text}`ch4_l2e_3:.2f` for $\rho^{(1)} = 0, 0.5, 0.9, 0.99$. By the expansion
# above, $L^2e_L = \frac{9\pi^2}{2}\big(1 - \frac{3\ln L + 2\nu}{L} + \dots\big)$, so to first order the gap is
# $\frac{9\pi^2}{2}\cdot\frac{3\ln L + 2\nu}{L}$: a log part {glue:text}`ch4_l2e_log:.3f`, the same for every pair, plus a
# $\nu$ part, {glue:text}`ch4_l2e_nu_0:.3f` for $\rho^{(1)} = 0$ ($\nu_L =$ {glue:text}`ch4_nu_0:.2f`, the offset at this depth) and
# {glue:text}`ch4_l2e_nu_3:.3f` for $\rho^{(1)} = 0.99$ ($\nu_L =$ {glue:text}`ch4_nu_3:.1f`). The measured gaps,
# {glue:text}`ch4_l2e_gap_0:.3f` and {glue:text}`ch4_l2e_gap_3:.3f` for these two pairs, match the two parts up to
# {glue:text}`ch4_l2e_first_order:.1e` (second-order terms); for the close pair the gap is
# {glue:text}`ch4_l2e_close_phrase`. Verdict: *refined*. Lemma 1 and the proof's $e_L \in \mathcal O(1/L^2)$ hold, and the
# expansion adds the constant, $e_L \sim 9\pi^2/(2L^2)$, and the $\frac32\ln L$ correction. (The proof of Corollary 1 writes the
# increment as $\sqrt2/\pi$; it is $\sqrt2/(3\pi)$, as in the proof of Theorem 2. The threshold of
# Corollary 1 does not depend on that constant.)
#
# ## 4.3 $\bar\Theta \to \frac14$ (Theorem 2), and its exact rate
#
# **Theorem 2** (SCF): "For any $x, x' \in S^{n_0-1}$ such that $x \ne x'$, the value $\bar\Theta^{(L)}(x,x')$
# converges to $\frac14$ at a rate $O(\frac1L)$." The limit is right; the rate is not. Multiply
# Proposition 5 by $L+1$ and set $D_L = L\,(\bar\Theta^{(L)} - \frac14)$, $q_L = 1-h'(\rho^{(L)}) = \theta_L/\pi$:
#
# $$
# D_{L+1} = (1-q_L)\,D_L + \frac{3 - L\,q_L}{4} - e_{L+1}\qquad\text{(exact)}.
# $$
#
# From §4.2, $q_L = \frac{\sqrt2}{\pi}e_L^{1/2}(1+O(e_L)) = \dfrac{3}{L + \frac32\ln L + \nu}+O\big(\frac{\ln L}{L^3}\big)$, so the forcing
# term is $\frac{3-Lq_L}{4} = \frac98\frac{\ln L}{L} + \frac{3\nu}{4L} + O\big(\frac{\ln^2 L}{L^2}\big)$. Then
# $D_{L+1}-D_L = -\frac{3D_L}{L} + \frac98\frac{\ln L}{L} + \frac{3\nu}{4L} + \dots$, and $D_L = \kappa\ln L + \mu$ matches the
# $\frac{\ln L}{L}$ and $\frac1L$ terms only for $\kappa = \frac38$, $\mu = \frac\nu4 - \frac18$ (the homogeneous
# solutions decay like $L^{-3}$). Hence
#
# $$
# \boxed{\;\bar\Theta^{(L)}(x,x') - \frac14 = \frac38\,\frac{\ln L}{L} + \frac{\nu(\rho^{(1)})/4 - 1/8}{L} + o\Big(\frac1L\Big)\;}
# $$
#
# with $\kappa = \frac38$ exact and the same for every pair, and a constant that depends on the pair
# through $\nu$ of §4.2. $L(\bar\Theta^{(L)} - \frac14)$ is unbounded, so **the rate $O(1/L)$ is false**.
#
# **Where the proof goes wrong.** Its step $V_{L+1}-V_2 = \frac{\sqrt2}{3\pi}L + \sum_k O(e_k^{1/2})$ is right,
# and so is $e_L \in \mathcal O(1/L^2)$: the dropped sum is $\frac{\sqrt2}{2\pi}\ln L + O(1)$, which is $o(L)$. The gap
# is in its recurrence (2), $\epsilon_{L+1} = (1-\frac4{L+1})\epsilon_L + \frac1{L+1} + o(\frac1L)$: a *per-step*
# remainder $r_k$ in a recurrence that contracts like $1-\frac4{k+1}$ leaves a deviation of about
# $L^{-4}\sum_{k\le L}k^4 r_k$ from $\frac14$, which is $O(1/L)$ only if $r_k = O(1/k^2)$; an $o(1/k)$ remainder gives
# only $o(1)$. The true remainder is $r_k = \frac98\frac{\ln k}{k^2} + O(\frac1{k^2})$: the $\frac32\ln L$ of $V_L$ enters
# $h'(\rho^{(L)}) = 1 - q_L$ at relative order $\ln L/L$, and accumulates to $\frac98\cdot\frac13\frac{\ln L}{L} = \frac38\frac{\ln L}{L}$.
# (The proof's last display, an upper bound with factors $e^\delta = 1+o(1)$, also shows only $\frac14 + o(1)$.)
#
# **Not "logarithmic convergence".** SCF write that "the convergence rate to $\frac14$ is logarithmic",
# meaning their Definition 7: $|x_{n+1}-x|/|x_n-x| \to 1$ and $|x_{n+2}-x_{n+1}|/|x_{n+1}-x_n| \to 1$. That is a
# class of sublinear rates, and $c/L$ belongs to it as much as $\kappa\ln L/L$ does; it says nothing about
# a $\ln L$ factor, and the $\ln L/L$ law above is not what Definition 7 describes.
#
# **Checked far beyond book depths.** {func}`ntk_lib.correlations.theta_bar_deviation` runs the exact
# recurrence for $D_L$ and $e_L$ in a form with no cancellation; we go to $L =$ {glue:text}`ch4_deep_max`
# and compare with 40-digit arithmetic on the plain Proposition 5 recurrence.

# %%
deep = cfg["huge_depth"]
deep_grid = sorted({int(v) for v in np.logspace(0, math.log10(deep), 80)} | {10**k for k in range(1, int(math.log10(deep)) + 1)})
deep_res = {}
for r in rho1_vals.tolist():
    e_d, d_d = theta_bar_deviation(r, deep_grid)
    nu_d = depth_offset(e_d, deep_grid).numpy()
    deep_res[r] = (np.array(e_d), np.array(d_d), nu_d)
Lg = np.array(deep_grid, dtype=float)
glue("ch4_deep_max", deep)
glue("ch4_kappa_exact", THETA_BAR_LOG_COEFFICIENT)
print("  rho1  |  L(Tb-1/4) - (3/8) ln L  at L = 10^2 ... 10^k          | nu_L/4 - 1/8 at the deepest L | local slope d D / d ln L, last decade")
gaps, slopes = [], []
for i, (r, (_e_d, d_d, nu_d)) in enumerate(deep_res.items()):
    resid = d_d - THETA_BAR_LOG_COEFFICIENT * np.log(Lg)
    mu_pred = nu_d[-1] / 4 - 1 / 8
    dec = [resid[deep_grid.index(10**k)] for k in range(2, int(math.log10(deep)) + 1)]
    slope = (d_d[-1] - d_d[deep_grid.index(deep // 10)]) / math.log(10)
    gaps.append(abs(resid[-1] - mu_pred))
    slopes.append(slope)
    glue(f"ch4_mu_{i}", float(mu_pred))
    print(f"  {r:4.2f}  | {np.round(dec, 5)} | {mu_pred:.6f} | {slope:.5f}")
glue("ch4_mu_gap", max(gaps))
glue("ch4_slope_lo", min(slopes))
glue("ch4_slope_hi", max(slopes))

# 40-digit reference for the plain recurrence (Prop. 5), where float64 would cancel in Theta-bar - 1/4
mp_L, mp_r = cfg["mp_depth"], 0.5
with mpmath.workdps(40):
    r_mp, tb_mp = mpmath.mpf(mp_r), mpmath.mpf(mp_r)
    for layer in range(1, mp_L):
        hv = (r_mp * mpmath.asin(r_mp) + mpmath.sqrt(1 - r_mp**2)) / mpmath.pi + r_mp / 2
        tb_mp = mpmath.mpf(layer) / (layer + 1) * (mpmath.mpf(1) / 2 + mpmath.asin(r_mp) / mpmath.pi) * tb_mp + hv / (layer + 1)
        r_mp = hv
    d_mp = float(mp_L * (tb_mp - mpmath.mpf(1) / 4))
d_f64 = theta_bar_deviation(mp_r, [mp_L])[1][0]
glue("ch4_mp_depth", mp_L)
MP_TOL = 1e-11  # the difference is float64 rounding accumulated over the layers (~1e-13); only the bound is shown
glue("ch4_mp_tol", MP_TOL, digits=1)
glue("ch4_mp_ok", abs(d_f64 / d_mp - 1) < MP_TOL)
print(f"L = {mp_L}, rho1 = {mp_r}: D_L from the float64 form {d_f64:.10f}, 40-digit {d_mp:.10f}; relative difference below {MP_TOL:.0e}: {abs(d_f64 / d_mp - 1) < MP_TOL}")

# Definition 7's two ratios for Theta-bar at the deepest depth: both tend to 1, as they would for c/L
e3, d3 = theta_bar_deviation(0.5, [deep - 2, deep - 1, deep])
dev3 = np.array(d3) / np.array([deep - 2, deep - 1, deep])
glue("ch4_def7_r1", float(1 - dev3[1] / dev3[0]), digits=3)
glue("ch4_def7_r2", float(1 - (dev3[1] - dev3[2]) / (dev3[0] - dev3[1])), digits=3)
print(f"Def. 7 at L = {deep}: 1 - ratio of errors {1 - dev3[1] / dev3[0]:.2e}, 1 - ratio of steps {1 - (dev3[1] - dev3[2]) / (dev3[0] - dev3[1]):.2e}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The rate of Theorem 2 at depths far beyond any network. Left: L (Theta-bar - 1/4) against ln L for four input correlations; a rate O(1/L) would make these curves level off, they rise with slope 3/8 (black: lines of slope 3/8). Right: L (Theta-bar - 1/4) - (3/8) ln L settles at a constant that depends on the pair; dashes: the predicted constant nu/4 - 1/8 from the correlation errors alone.", "name": "fig-ch4-rate"}}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
cmap = plt.get_cmap("viridis")
for i, (r, (_e_d, d_d, nu_d)) in enumerate(deep_res.items()):
    c = cmap(i / 3)
    axes[0].plot(np.log(Lg), d_d, color=c, lw=2, label=rf"$\rho^{{(1)}} = {r}$")
    axes[0].plot(np.log(Lg), d_d[-1] + THETA_BAR_LOG_COEFFICIENT * (np.log(Lg) - np.log(Lg[-1])), color="k", lw=0.6, ls="--")
    axes[1].semilogx(Lg, d_d - THETA_BAR_LOG_COEFFICIENT * np.log(Lg), color=c, lw=2, label=rf"$\rho^{{(1)}} = {r}$")
    axes[1].axhline(nu_d[-1] / 4 - 1 / 8, color=c, ls="--", lw=1)
axes[0].set_xlabel(r"$\ln L$")
axes[0].set_ylabel(r"$L\,(\bar\Theta^{(L)} - 1/4)$")
axes[0].set_title("unbounded: slope 3/8 in ln L")
axes[0].legend(fontsize=8)
axes[1].set_xlabel("depth $L$")
axes[1].set_ylabel(r"$L\,(\bar\Theta^{(L)} - 1/4) - \frac{3}{8}\ln L$")
axes[1].set_title("converges to a pair-dependent constant")
axes[1].set_yscale("symlog", linthresh=1.0)
plt.show()

# %% [markdown]
# **What it shows.** Up to $L =$ {glue:text}`ch4_deep_max`, $L(\bar\Theta^{(L)}-\frac14)$ keeps rising; over the
# last decade its slope in $\ln L$ is between {glue:text}`ch4_slope_lo:.4f` and {glue:text}`ch4_slope_hi:.4f`
# for the four pairs, against $\kappa = \frac38 =$ {glue:text}`ch4_kappa_exact`. After subtracting $\frac38\ln L$ what remains
# converges to the constant predicted from the correlations alone, $\nu/4 - \frac18$ (e.g.
# {glue:text}`ch4_mu_0:.4f` for $\rho^{(1)} = 0$ and {glue:text}`ch4_mu_3:.3f` for $\rho^{(1)} = 0.99$), to within
# {glue:text}`ch4_mu_gap:.1e` at the deepest depth. The float64 recurrence agrees with 40-digit
# arithmetic to better than a relative {glue:text}`ch4_mp_tol:.0e` ({glue:text}`ch4_mp_ok`) at $L =$ {glue:text}`ch4_mp_depth`. Definition 7's
# ratios at the deepest depth differ from 1 by {glue:text}`ch4_def7_r1:.1e` and {glue:text}`ch4_def7_r2:.1e`, as they
# would for any $c/L$.
#
# SCF Figure 2 illustrates "the convergence of $\Theta^{(L)}_\infty(x,x')$" to $\frac14$ for the same four input
# correlations, and its caption names the same kernel, so text and caption agree. But on the sphere
# $\Theta^{(L)}_\infty = \frac{L}{n_0 2^{L-1}}\bar\Theta^{(L)}$ (Definition 4 and Proposition 1), which tends to 0, not $\frac14$
# (for $\rho^{(1)} = 0.99$ and $n_0 = 128$ it is {glue:text}`ch4_f2_unnorm30:.1e` at $L = 30$): the kernel the figure names
# cannot give the curves it describes. The curves that tend to $\frac14$ are those of the normalized kernel
# $\bar\Theta^{(L)}$, so we plot that: our reading of the figure. (Figure 7, §4.6, is ambiguous differently: there text
# and caption name different kernels.)

# %%
tb_L = theta_bar_recurrence(rho1_vals, L_max)
dev_L = (tb_L - 0.25).numpy()
thresholds = (1 / torch.sqrt(1 - h(rho1_vals))).numpy()
glue("ch4_lmax", L_max)
glue("ch4_thr_099", float(thresholds[3]))
glue("ch4_tb099_10", float(tb_L[9, 3]))
glue("ch4_tb099_30", float(tb_L[29, 3]))
glue("ch4_f2_unnorm30", 30 / (N0 * 2**29) * float(tb_L[29, 3]), digits=3)  # Theta_inf = L / (n0 2^(L-1)) Theta-bar
for i, r in enumerate(rho1_vals.tolist()):
    print(f"rho1 = {r:4.2f}: Theta-bar at L = 10, 30, {L_max}: {tb_L[9, i]:.4f}, {tb_L[29, i]:.4f}, {tb_L[-1, i]:.6f}; Cor. 1 threshold {thresholds[i]:.2f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "SCF Figure 2 in our reading: the normalized kernel (the paper's caption and text name the unnormalized Theta_inf, which tends to 0, not 1/4), for the paper's four input correlations. Left: the normalized NTK between two inputs of correlation rho1 against depth (log scale) with the limit 1/4 (red) and Corollary 1's threshold 1/sqrt(1 - rho2) (dotted). Right: the distance to 1/4 on log-log axes with a 1/L and the (3/8) ln(L)/L reference.", "name": "fig-ch4-thm2"}}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for i, r in enumerate(rho1_vals.tolist()):
    c = cmap(i / 3)
    axes[0].semilogx(depths, tb_L[:, i], color=c, label=rf"$\rho^{{(1)}} = {r}$")
    axes[0].axvline(thresholds[i], color=c, ls=":", lw=1)
    axes[1].loglog(depths[1:], np.abs(dev_L[1:, i]), color=c, label=rf"$\rho^{{(1)}} = {r}$")
axes[0].axhline(0.25, color="red", lw=1)
axes[0].set_xlabel("depth $L$")
axes[0].set_ylabel(r"$\bar\Theta^{(L)}(x, x')$")
axes[0].set_title("convergence to 1/4")
axes[0].legend()
ref = depths[10:]
axes[1].loglog(ref, 1 / ref, "k--", lw=1, label="$1/L$")
axes[1].loglog(ref, 0.375 * np.log(ref) / ref, "k:", lw=1, label=r"$\frac{3}{8}\ln L / L$")
axes[1].set_xlabel("depth $L$")
axes[1].set_ylabel(r"$|\bar\Theta^{(L)} - 1/4|$")
axes[1].set_title("rate")
axes[1].legend()
plt.show()

# %% [markdown]
# The limit $\frac14$ is confirmed. For $\rho^{(1)} = 0.99$ (threshold {glue:text}`ch4_thr_099:.1f`) the kernel
# is still {glue:text}`ch4_tb099_10:.2f` at $L = 10$ and {glue:text}`ch4_tb099_30:.2f` at $L = 30$.
#
# **Corollary 1** (SCF): "To observe the $O(\frac1L)$ decay rate from Theorem 2, the depth $L$ should be much
# larger than $\frac{1}{\sqrt{1-\rho^{(2)}(x^\top x')}}$." There is no $1/L$ regime to observe (the decay is
# $\frac38\ln L/L$), so we test the part that can be measured: how the depth at which the kernel has
# converged depends on the threshold $T = 1/\sqrt{1-\rho^{(2)}}$. Let $L_\varepsilon(\rho^{(1)})$ be the depth from
# which on $|\bar\Theta^{(L)} - \frac14| < \varepsilon$, computed exactly on a grid of input correlations. From
# §4.2–4.3, for a close pair $\nu \approx \frac{3\pi}{\sqrt2}T$, so once $L \gg \nu$ the deviation is about
# $\nu/(4L)$ and $L_\varepsilon \approx \frac{3\pi}{4\sqrt2}\,T/\varepsilon$: proportional to the threshold.

# %%
rho_c1 = 1 - torch.logspace(0, -3.5, 36, dtype=torch.float64)  # rho1 from 0 to 1 - 10^-3.5
thr_c1 = (1 / torch.sqrt(1 - h(rho_c1))).numpy()
dev_c1 = (theta_bar_recurrence(rho_c1, L_max) - 0.25).abs().numpy()
eps_c1 = [0.1, 0.03, 0.01]
c1_const = 3 * math.pi / (4 * math.sqrt(2))
L_eps = {}
for eps in eps_c1:
    out = np.full(len(rho_c1), np.nan)
    for j in range(len(rho_c1)):
        bad = np.nonzero(dev_c1[:, j] >= eps)[0]
        if len(bad) == 0:
            out[j] = 1
        elif bad[-1] < L_max - 1:  # converged inside the computed depths
            out[j] = bad[-1] + 2
    L_eps[eps] = out
big = thr_c1 >= 3  # close pairs, where the threshold is the binding scale
c1_rows = []
for k, eps in enumerate(eps_c1):
    ok = big & np.isfinite(L_eps[eps])
    if ok.sum() < 2:  # smoke scale: too shallow to converge for close pairs
        slope, ratio = float("nan"), float("nan")
    else:
        slope, _ = loglog_slope(thr_c1[ok], L_eps[eps][ok])
        ratio = float((L_eps[eps][ok] * eps / thr_c1[ok])[-1])
    c1_rows.append((eps, slope, ratio, int(ok.sum())))
    glue(f"ch4_c1_slope_{k}", slope)
    glue(f"ch4_c1_ratio_{k}", ratio)
    print(f"eps = {eps}: log-log slope of L_eps against T over {int(ok.sum())} pairs with T >= 3: {slope:.3f}; "
          f"L_eps * eps / T at the largest such T: {ratio:.3f}")
glue("ch4_c1_const", c1_const)
c1_fit = big & np.isfinite(L_eps[eps_c1[-1]])
glue("ch4_c1_tmax", float(thr_c1[c1_fit].max()) if c1_fit.any() else float("nan"))
glue("ch4_c1_slope_lo", float(np.nanmin([r[1] for r in c1_rows])))
glue("ch4_c1_slope_hi", float(np.nanmax([r[1] for r in c1_rows])))
glue("ch4_c1_eps_small", eps_c1[-1])
print(f"predicted L_eps * eps / T for close pairs: 3 pi / (4 sqrt 2) = {c1_const:.3f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Corollary 1 measured: the depth L_eps from which the normalized kernel stays within eps of 1/4, against the threshold T = 1/sqrt(1 - rho2) of Corollary 1, for 36 input correlations between 0 and 1 - 10^-3.5 and three tolerances. Dashed: the prediction (3 pi / (4 sqrt 2)) T / eps for close pairs.", "name": "fig-ch4-cor1"}}
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for k, eps in enumerate(eps_c1):
    c = cmap(k / 2)
    ax.loglog(thr_c1, L_eps[eps], "o", ms=3, color=c, label=rf"$\varepsilon = {eps}$")
    ax.loglog(thr_c1[big], c1_const * thr_c1[big] / eps, "--", color=c, lw=1)
ax.set_xlabel(r"threshold $T = 1/\sqrt{1-\rho^{(2)}}$")
ax.set_ylabel(r"depth $L_\varepsilon$ with $|\bar\Theta^{(L)} - 1/4| < \varepsilon$ for $L \geq L_\varepsilon$")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **What it shows.** For close pairs ($T \ge 3$, up to $T =$ {glue:text}`ch4_c1_tmax:.0f`) $L_\varepsilon$ grows in
# proportion to the threshold: the log-log slopes are between {glue:text}`ch4_c1_slope_lo:.2f` and
# {glue:text}`ch4_c1_slope_hi:.2f` for the three tolerances, and at the smallest tolerance
# ({glue:text}`ch4_c1_eps_small`) $L_\varepsilon\,\varepsilon/T$ is {glue:text}`ch4_c1_ratio_2:.2f` at the largest $T$, against the
# predicted {glue:text}`ch4_c1_const:.2f`. So the depth needed for the kernel to approach $\frac14$ is a large multiple
# of Corollary 1's threshold; the regime then reached is the $\frac38\ln L/L$ one, not
# $1/L$. For weakly correlated pairs ($T$ close to 1) the tolerance, not the threshold, sets $L_\varepsilon$.
# Verdict: *our reading*. As stated, the corollary is about observing "the $O(\frac1L)$ decay rate", and that regime
# does not exist (the rate is Theorem 2's, which is false); what holds is the corollary read as a statement about
# scale, that the depth at which the kernel approaches $\frac14$ grows in proportion to the threshold $T$.
#
# %% [markdown]
# ## 4.4 Convergence rates on data (SCF Figures 4 and 5)
#
# SCF Figures 4 (synthetic, $n_0 = 128$) and 5 (MNIST) have one row per kernel, $\kappa \in
# \{\bar\Theta, \rho, \eta\}$, and "three different expressions dependent on an arbitrary $\kappa$ in each
# column", for depths $L = 1,\dots,30$ and every pair within a sample $X$ and between a new point $x$ and
# $X$. The text names the expressions only through Definition 7, so **we cannot reconstruct the columns
# exactly**. We plot, per row, the value $\kappa^{(L)}$ and Definition 7's two ratios,
# $R_1 = |\kappa^{(L+1)}-\kappa^*|/|\kappa^{(L)}-\kappa^*|$ and $R_2 = |\kappa^{(L+2)}-\kappa^{(L+1)}|/|\kappa^{(L+1)}-\kappa^{(L)}|$
# (limits $\kappa^* = \frac14, 1, \beta$). This is our reading of those figures, not a reproduction. The
# $\eta$ kernels are Proposition 8's, $\eta^{(1)} = x^\top x'$, $\eta^{(L+1)} = (1+e^{-\eta^{(L)}})^{-2}$. At book
# scale the image data are scikit-learn's 8×8 digits (projected to $S^{63}$); the "paper" scale loads MNIST.

# %%
def image_data(split="train"):
    if cfg["image_data"] == "mnist":
        imgs, labels = load_mnist(split)
        imgs = imgs.to(torch.float64)
        return imgs / imgs.norm(dim=1, keepdim=True), labels, "MNIST"
    x, labels = load_digits_sphere()
    return x, labels, "digits (scikit-learn, 8x8)"


x_img, lab_img, img_name = image_data()
gen = torch.Generator().manual_seed(SEED)
pick = torch.randperm(x_img.shape[0], generator=gen)[: cfg["n_fig45"] + 1]  # without replacement
datasets = {
    f"synthetic, $n_0$ = {N0}": sphere(cfg["n_fig45"] + 1, N0, seed=SEED + 1),
    img_name: x_img[pick].to(torch.float64),
}
beta = eta_fixed_point()
glue("ch4_beta", beta, digits=10)
glue("ch4_img_name", img_name)
depth45 = 32  # two more than plotted: R2 at L = 30 needs L + 2
eta_rate = 2 * beta * (1 - math.sqrt(beta))  # derivative of (1 + e^-z)^-2 at beta
glue("ch4_eta_rate", eta_rate)


def def7_ratios(err, steps):
    """Definition 7's two ratios along depth; undefined (nan) once a denominator is at rounding level."""
    err, steps = err.abs(), steps.abs()
    r1 = torch.where(err[:-1] > 1e-13, err[1:] / err[:-1], torch.nan)
    r2 = torch.where(steps[:-1] > 1e-13, steps[1:] / steps[:-1], torch.nan)
    return r1, r2


# (1 + e^-z)^-2 has derivative 2 s^2 (1 - s) <= 8/27 (s = sigmoid(z)), so |eta^(L) - beta| <= (8/27)^(L-1) |x.x' - beta|
eta_bound30 = (8 / 27) ** 29 * (1 + beta)
glue("ch4_eta_bound30", eta_bound30, digits=2)
curves = {}
for name, data in datasets.items():
    X = data[:-1]
    gram = (data @ data.T).clamp(-1, 1)
    iu = torch.triu_indices(len(X), len(X), 1)
    pairs = torch.cat([gram[:-1, :-1][iu[0], iu[1]], gram[-1, :-1]])
    tb = theta_bar_recurrence(pairs, depth45)
    rho, err = relu_correlations(pairs, depth45)
    eta = eta_recurrence(pairs, depth45)
    cv = {"n_within": iu.shape[1]}
    for key, val, dist in (("tb", tb, tb - 0.25), ("rho", rho, err), ("eta", eta, eta - beta)):
        cv[key] = (val, *def7_ratios(dist, torch.diff(val, dim=0)))
    curves[name] = cv
    med = {k: float(np.nanmedian(cv[k][1][28].numpy())) for k in ("tb", "rho")}
    med_eta5 = float(np.nanmedian(cv["eta"][1][4].numpy()))
    print(
        f"{name}: {len(pairs)} pairs; median R1 at L = 29: Theta-bar {med['tb']:.4f}, rho {med['rho']:.4f}; "
        f"eta: R1 at L = 5 {med_eta5:.4f}; "
        f"|eta - beta| at L = 30 at most (8/27)^29 (1 + beta) = {eta_bound30:.1e}, float64 rounding level"
    )
    glue(f"ch4_tb30_med_{'img' if name == img_name else 'syn'}", float(tb[29].median()))
    if name == img_name:
        glue("ch4_r1_tb", med["tb"])
        glue("ch4_r1_rho", med["rho"])
        glue("ch4_r1_eta", med_eta5)


def plot_def7(name, label):
    cv = curves[name]
    fig, axes = plt.subplots(3, 3, figsize=(12, 8), layout="constrained", sharex=True)
    Ls = np.arange(1, 31)
    rows = {"tb": (r"$\bar\Theta^{(L)}$", 0.25), "rho": (r"$\rho^{(L)}$", 1.0), "eta": (r"$\eta^{(L)}$", beta)}
    col_titles = [r"value $\kappa^{(L)}$", r"$R_1 = |\kappa^{(L+1)}-\kappa^*| / |\kappa^{(L)}-\kappa^*|$", r"$R_2 = |\Delta\kappa^{(L+1)}| / |\Delta\kappa^{(L)}|$"]
    nw = cv["n_within"]
    for i, (key, (lab, lim)) in enumerate(rows.items()):
        for j in range(3):
            ax = axes[i, j]
            vals = cv[key][j][:30].numpy()
            ax.plot(Ls, vals[:, :nw], color=COLORS["net"], alpha=0.12, lw=0.8)
            ax.plot(Ls, vals[:, nw:], color=COLORS["emp"], alpha=0.5, lw=0.8)
            if j == 0:
                ax.axhline(lim, color="red", lw=1)
            else:
                ax.axhline(1.0, color="k", lw=0.8, ls=":")
                if key == "eta":
                    ax.axhline(eta_rate, color="red", lw=1)
            ax.set_ylabel(f"{lab}: " + ("value" if j == 0 else f"$R_{j}$"))
            if i == 0:
                ax.set_title(col_titles[j], fontsize=9)
            if i == 2:
                ax.set_xlabel("depth $L$")
    fig.suptitle(label, fontsize=10)
    plt.show()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Our reading of SCF Figure 4 (synthetic data, n0 = 128, not a reproduction: the paper's column expressions are not defined in its text). Rows: Theta-bar, rho, eta; columns: the value and Definition 7's two ratios, for pairs within X (blue) and between a new point and X (orange). Red: the limits 1/4, 1, beta, and the eta contraction factor; dotted: ratio 1.", "name": "fig-ch4-fig4"}}
plot_def7(list(datasets)[0], f"synthetic data on the sphere, $n_0$ = {N0}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Our reading of SCF Figure 5 on image data (digits at book scale, MNIST at paper scale; not a reproduction). Rows, columns and colours as in the previous figure.", "name": "fig-ch4-fig5"}}
plot_def7(img_name, img_name)

# %% [markdown]
# **What it shows.** For $\bar\Theta$ and $\rho$ both ratios climb towards 1 (median $R_1$ at $L = 29$ on
# {glue:text}`ch4_img_name`: {glue:text}`ch4_r1_tb:.3f` and {glue:text}`ch4_r1_rho:.3f`): sublinear convergence, "logarithmic" in
# the sense of Definition 7. The $\eta$ kernels are different: $R_1$ is already {glue:text}`ch4_r1_eta:.3f` at $L = 5$, the
# derivative of $(1+e^{-z})^{-2}$ at $\beta$, {glue:text}`ch4_eta_rate:.4f`: **linear** (geometric) convergence, and by
# $L = 30$ every $\eta$ is within $(8/27)^{29}(1+\beta) =$ {glue:text}`ch4_eta_bound30:.0e` of $\beta$ (the map's derivative
# is at most $8/27$), float64 rounding level, after which the ratios are rounding noise (not drawn). Image pairs are more correlated than random directions in 128 dimensions, so their
# $\bar\Theta$ starts higher and is further from $\frac14$ at $L = 30$ (median {glue:text}`ch4_tb30_med_img:.3f`
# against {glue:text}`ch4_tb30_med_syn:.3f` for the synthetic pairs).
#
# ## 4.5 Proposition 8: the $\eta$ kernels converge, but they are not positive definite
#
# **Proposition 8** (SCF App. C): "The values $\eta^{(L)}(x,x')$ converge to a unique $\beta > 0$ for all
# $x,x' \in S^{n_0-1}$ as $L\to\infty$. Moreover, the kernels $\eta^{(L)}$ are positive definite on $S^{n_0-1}$ and
# satisfy $\eta^{(L)}(x,x) \ge \eta^{(L)}(x_1,x_2)$." The convergence holds: $g(z) = (1+e^{-z})^{-2}$ maps $[-1,1]$
# into $[g(-1), g(1)]$, where $0 < g' < 1$, so its iterates contract to the fixed point
# $\beta =$ {glue:text}`ch4_beta:.7f` ({func}`ntk_lib.correlations.eta_fixed_point`), and the dominance holds because $g$
# is increasing. The proof of positive definiteness invokes the criterion of Schoenberg and Gneiting
# {cite}`gneiting2013strictly`: a power series in $x^\top x'$ with **nonnegative** coefficients, infinitely many
# of them positive at even and at odd orders, is strictly positive definite on every sphere. The
# coefficients of $g$ are not all nonnegative:

# %%
taylor = sigmoid_squared_taylor(10)
print("Maclaurin coefficients of (1 + e^-z)^-2:", ", ".join(str(c) for c in taylor))
signs = "".join("+" if c > 0 else ("-" if c < 0 else "0") for c in taylor)
glue("ch4_taylor_signs", signs)
glue("ch4_first_negative", next(k for k, c in enumerate(taylor) if c < 0))

# Schoenberg on S^2: positive definite iff every Legendre coefficient of t -> eta(t) is >= 0
nodes, weights = np.polynomial.legendre.leggauss(400)
eta_nodes = eta_recurrence(torch.from_numpy(nodes), 3)
leg = {L: [float((2 * k + 1) / 2 * np.sum(weights * eta_nodes[L - 1].numpy() * np.polynomial.legendre.Legendre.basis(k)(nodes))) for k in range(8)] for L in (2, 3)}
for L in (2, 3):
    print(f"Legendre coefficients of eta^({L}) on S^2, k = 0..7:", ", ".join(f"{v:.3g}" for v in leg[L]))
glue("ch4_leg_neg", min(leg[2]))

# Gram matrices in float64: 128 equally spaced points on S^1, random points on S^2 and on S^127, at the
# depths where float64 resolves the smallest eigenvalue (deeper, see the exact computation below)
N_CIRCLE = 128
circle = circle_points(torch.arange(N_CIRCLE, dtype=torch.float64) * 2 * math.pi / N_CIRCLE)
gram_sets = {
    f"S^1, {N_CIRCLE} equally spaced": circle,
    f"S^2, {cfg['n_eta']} uniform": sphere(cfg["n_eta"], 3, seed=SEED + 21),
    f"S^127, {cfg['n_eta']} uniform": sphere(cfg["n_eta"], 128, seed=SEED + 22),
}
eta_depths = [2, 3, 4, 5, 7, 10]
eta_spec = {}
diag_doms = []
for name, pts in gram_sets.items():
    eta_k = eta_recurrence((pts @ pts.T).clamp(-1, 1), max(eta_depths))
    rows = []
    for L in eta_depths:
        ev = torch.linalg.eigvalsh(eta_k[L - 1])
        rows.append((float(ev[0]), float(ev[-2] / ev[-1]), float(ev[-1])))
    eta_spec[name] = np.array(rows)  # columns: lambda_min, lambda_2 / lambda_1, lambda_max
    diag_dom = bool((eta_k.diagonal(dim1=1, dim2=2)[:, :, None] >= eta_k).all())
    diag_doms.append(diag_dom)
    print(f"{name}: lambda_min at L = 2, 3, 5: {rows[0][0]:.4f}, {rows[1][0]:.4f}, {rows[3][0]:.3g}; "
          f"lambda_2/lambda_1 at L = 10: {rows[-1][1]:.3g}; eta(x,x) >= eta(x,x') for L <= 10: {diag_dom}")
s1_name, s2_name, s127_name = list(gram_sets)
glue("ch4_eta_lmin_s1", float(eta_spec[s1_name][0, 0]))
glue("ch4_eta_lmin_s1_3", float(eta_spec[s1_name][1, 0]))
glue("ch4_eta_lmin_s2", float(eta_spec[s2_name][0, 0]))
glue("ch4_eta_lmin_s127", float(eta_spec[s127_name][0, 0]))
glue("ch4_eta_s127_phrase", "negative as well: the failure is not confined to low-dimensional spheres"
     if eta_spec[s127_name][0, 0] < 0 else
     "positive: on this sphere and point set the Gram matrix happens to be positive definite, which does not rescue the claim for every sphere")
glue("ch4_n_eta", cfg["n_eta"])
# the S^127 sample at L = 5, against the float64 resolution n eps lambda_max of its eigensolver
i5_eta = eta_depths.index(5)
lmin127_5 = float(eta_spec[s127_name][i5_eta, 0])
res127_5 = cfg["n_eta"] * float(torch.finfo(torch.float64).eps) * float(eta_spec[s127_name][i5_eta, 2])
print(f"{s127_name}, L = 5: lambda_min {lmin127_5:.2e}; |lambda_min| above the float64 resolution n eps lambda_max: {abs(lmin127_5) > res127_5}")
glue("ch4_eta_lmin_s127_5", lmin127_5, digits=3)
glue("ch4_eta_s127_5_phrase",
     "positive and well above float64 resolution: this particular sample's Gram matrix is positive definite at that depth. "
     "That does not rescue the claim, which is for every dataset: the equally spaced points on a great circle below are a dataset "
     "on that sphere too, with the same Gram matrix as on the circle"
     if lmin127_5 > res127_5 else
     "negative and above float64 resolution, so this sample fails at that depth as well" if lmin127_5 < -res127_5 else
     "within float64 resolution of 0, so float64 cannot tell its sign; the great-circle points below settle the question")
glue("ch4_n_circle", N_CIRCLE)

# %% [markdown]
# Proposition 8's claim matters because §6.4 lists it among "the key properties used" by the proof of
# Theorem 3, in a stronger form: "there must be some depth $\hat L\in\mathbb N$ such that $\kappa^{(L)}(XX^\top)$ is
# positive definite for any dataset $X = \{x_i \mid x_i\in S^{n_0-1}\}$ and $L\ge\hat L$. In other words, once the
# network is sufficiently deep, its corresponding limiting kernel is positive definite", naming the $\eta^{(L)}$ as
# an example. Negative eigenvalues at depths 2 and 3 do not settle that; the question is whether they
# persist at every depth. Float64 cannot answer it: as $L$ grows, $\eta^{(L)}$ is within $\sim g'(\beta)^L$ of $\beta$,
# every eigenvalue but the largest shrinks by the factor $g'(\beta) =$ {glue:text}`ch4_eta_rate:.4f` per layer, and a float64
# eigensolver resolves nothing below about $n\epsilon\lambda_{\max}$.
#
# On $N$ equally spaced points of $S^1$, however, the Gram matrix $G_{jk} = \eta^{(L)}\big(\cos\frac{2\pi(j-k)}N\big)$ is
# **circulant**: its eigenvectors are the discrete Fourier modes and its eigenvalues are the cosine sums of
# its first row, $\lambda_m = \sum_j \eta^{(L)}(\cos\frac{2\pi j}N)\cos\frac{2\pi mj}N$ ($N$ times the $m$-th Fourier
# coefficient of $\theta\mapsto\eta^{(L)}(\cos\theta)$ sampled at the points). These we compute to full float64 precision:
# {func}`ntk_lib.correlations.eta_circle_eigenvalues` iterates $\eta$ in high precision (mpmath,
# $30 + 0.6L$ digits) and sums deviations from a reference value, which float64 holds to full relative
# precision.

# %%
circ_depths = list(range(1, cfg["eta_circle_depth"] + 1))
lam_exact = eta_circle_eigenvalues(N_CIRCLE, circ_depths)  # [depth, m], m = 0..N/2; 0 < m < N/2 twice
deep_L = circ_depths[-1]
argmins = {int(v) for v in lam_exact[1:].argmin(dim=1)}  # the mode of the smallest eigenvalue, L >= 2
neg_all = bool((lam_exact[1:, 3] < 0).all())
ratio31 = lam_exact[:, 3] / lam_exact[:, 1]
ratio_settled = bool(abs(float(ratio31[-1] / ratio31[-11]) - 1) < 1e-4)
floor = N_CIRCLE * torch.finfo(torch.float64).eps * lam_exact[:, 0]  # float64 resolution n eps lambda_max
first_unresolved = next((L for L in circ_depths[1:] if abs(float(lam_exact[L - 1, 3])) < float(floor[L - 1])), None)
# the float64 Gram matrices at every depth, for comparison (beyond the resolution their lambda_min is noise)
eta_circ_f64 = eta_recurrence((circle @ circle.T).clamp(-1, 1), deep_L)
lmin_f64 = torch.stack([torch.linalg.eigvalsh(eta_circ_f64[L - 1])[0] for L in circ_depths])
full_spec = torch.sort(torch.cat([lam_exact, lam_exact[:, 1 : N_CIRCLE // 2]], dim=1), dim=1).values
agree = bool(all(
    (torch.sort(torch.linalg.eigvalsh(eta_circ_f64[L - 1])).values - full_spec[L - 1]).abs().max() < 1e-10 * full_spec[L - 1, -1]
    for L in eta_depths
))
for L in sorted({2, 5, 10, 20, deep_L}):
    print(f"L = {L:2d}: lambda_3 = {float(lam_exact[L - 1, 3]):.3e} (smallest eigenvalue), lambda_1 / lambda_0 = "
          f"{float(lam_exact[L - 1, 1] / lam_exact[L - 1, 0]):.3e}, lambda_3 / lambda_1 = {float(ratio31[L - 1]):.6f}")
print(f"smallest eigenvalue at mode m = {sorted(argmins)} for every L = 2..{deep_L}; lambda_3 < 0 at every such L: {neg_all}")
print(f"lambda_3 / lambda_1 unchanged to a relative 1e-4 over the last 10 depths: {ratio_settled}")
print(f"float64 eigvalsh agrees with the high-precision spectrum to 1e-10 lambda_max at L = {eta_depths}: {agree}")
print(f"first depth where |lambda_3| < n eps lambda_max (float64 cannot resolve the sign): {first_unresolved}")
glue("ch4_circ_lmax", deep_L)
glue("ch4_circ_neg_all", neg_all)
glue("ch4_circ_mode", ", ".join(map(str, sorted(argmins))))
for L in (2, 10, 20):
    glue(f"ch4_circ_lam_{L}", float(lam_exact[L - 1, 3]), digits=3)
glue("ch4_circ_lam_deep", float(lam_exact[-1, 3]), digits=3)
glue("ch4_circ_ratio", float(ratio31[-1]), digits=6)
glue("ch4_circ_settled", ratio_settled)
glue("ch4_circ_agree", agree)
glue("ch4_circ_unres_phrase",
     f"cannot be trusted from L = {first_unresolved} on, where |λ3| falls below the generic float64 resolution n ε λmax"
     if first_unresolved is not None else
     f"can be trusted at every depth computed here (up to {deep_L}), where |λ3| stays above the generic float64 resolution n ε λmax")
glue("ch4_circ_rank_deep", float(lam_exact[-1, 1] / lam_exact[-1, 0]), digits=3)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Proposition 8 tested. Left: on 128 equally spaced points of S^1, the smallest eigenvalue of the eta Gram matrix is the m = 3 Fourier eigenvalue, negative at every depth (line: its size, computed to full float64 precision); crosses: what a float64 eigensolver returns for the smallest eigenvalue (red: with a positive sign), which follows the high-precision value to below the generic float64 resolution n eps lambda_max (dashed) and then levels off at rounding noise. Right: ratio of the second to the largest eigenvalue (high precision on S^1; float64 on the random point sets at the depths it resolves): the eta kernels collapse to the rank-one matrix beta 11^T.", "name": "fig-ch4-eta"}}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
axes[0].semilogy(circ_depths[1:], -lam_exact[1:, 3].numpy(), "-", color=COLORS["net"], lw=2, label=r"$-\lambda_3$, high precision (negative)")
lf = lmin_f64[1:].numpy()
axes[0].semilogy(np.array(circ_depths[1:])[lf < 0], -lf[lf < 0], "x", color="k", ms=5, label=r"float64 $\lambda_{\min}$ (negative)")
axes[0].semilogy(np.array(circ_depths[1:])[lf >= 0], np.maximum(lf[lf >= 0], 1e-300), "x", color="red", ms=5, label=r"float64 $\lambda_{\min}$ (positive)")
axes[0].semilogy(circ_depths[1:], floor[1:].numpy(), "--", color="gray", lw=1, label=r"$n\epsilon\lambda_{\max}$")
axes[0].set_xlabel("depth $L$")
axes[0].set_ylabel(r"$|\lambda_{\min}(\eta^{(L)}(X,X))|$, $S^1$")
axes[0].set_title(f"{N_CIRCLE} equally spaced points on $S^1$")
axes[0].legend(fontsize=7)
axes[1].semilogy(circ_depths[1:], (lam_exact[1:, 1] / lam_exact[1:, 0]).numpy(), "-", color=COLORS["net"], lw=2, label=f"$S^1$, {N_CIRCLE} points, high precision")
for i, name in enumerate([s2_name, s127_name]):
    axes[1].semilogy(eta_depths, np.abs(eta_spec[name][:, 1]), "o", color=cmap((i + 1) / 2), label=f"{name}, float64")
axes[1].set_xlabel("depth $L$")
axes[1].set_ylabel(r"$|\lambda_2| / \lambda_1$")
axes[1].set_title("rank collapse")
axes[1].legend(fontsize=7)
plt.show()

# %% [markdown]
# **What it shows.** The signs of the Maclaurin coefficients run {glue:text}`ch4_taylor_signs` (the first
# negative one at order {glue:text}`ch4_first_negative`), so the cited criterion does not apply, and the
# conclusion is false: the $\eta^{(2)}$ Gram matrix of {glue:text}`ch4_n_circle` equally spaced points on $S^1$ has smallest
# eigenvalue {glue:text}`ch4_eta_lmin_s1:.4f` ({glue:text}`ch4_eta_lmin_s1_3:.4f` for $\eta^{(3)}$), that of
# {glue:text}`ch4_n_eta` uniform points on $S^2$ has {glue:text}`ch4_eta_lmin_s2:.3f`, and on $S^2$ the Legendre coefficients
# of $\eta^{(2)}$, which Schoenberg's theorem requires to be nonnegative, reach {glue:text}`ch4_leg_neg:.4f`.
# On $S^{127}$ the same number of points gives {glue:text}`ch4_eta_lmin_s127:.4f`,
# {glue:text}`ch4_eta_s127_phrase`. At $L = 5$ that $S^{127}$ sample's smallest eigenvalue is
# {glue:text}`ch4_eta_lmin_s127_5:.2e`, {glue:text}`ch4_eta_s127_5_phrase`.
#
# At every depth: on the {glue:text}`ch4_n_circle` points of $S^1$ the smallest eigenvalue is the Fourier eigenvalue
# $\lambda_m$ with $m =$ {glue:text}`ch4_circ_mode` at every depth from 2 to {glue:text}`ch4_circ_lmax`, and it is negative at
# every one of them ({glue:text}`ch4_circ_neg_all`): {glue:text}`ch4_circ_lam_2:.2e` at $L = 2$, {glue:text}`ch4_circ_lam_10:.2e`
# at $L = 10$, {glue:text}`ch4_circ_lam_20:.2e` at $L = 20$ and {glue:text}`ch4_circ_lam_deep:.2e` at
# $L =$ {glue:text}`ch4_circ_lmax`. A float64 eigensolver reproduces these values where it can (to $10^{-10}\lambda_{\max}$ at
# $L \le 10$: {glue:text}`ch4_circ_agree`) but {glue:text}`ch4_circ_unres_phrase`. Where its $\lambda_{\min}$ (crosses in
# the figure) levels off, it is rounding noise, whose sign means nothing and certainly not positive definiteness.
# Beyond the computed depths the sign cannot change: near $\beta$, $g$ is conjugate to multiplication by $g'(\beta)$ (Koenigs' linearization), so
# $g'(\beta)^{-L}\big(\eta^{(L)} - \beta\big)$ converges to a fixed function of $x^\top x'$, and every eigenvalue except
# $\lambda_0$ shrinks by the same factor per layer; accordingly $\lambda_3/\lambda_1$ has settled at
# {glue:text}`ch4_circ_ratio:.6f` (unchanged to a relative $10^{-4}$ over the last ten depths: {glue:text}`ch4_circ_settled`). So
# no $\hat L$ exists, and on every sphere: $\eta$ depends only on inner products, so the same points placed on a great
# circle of $S^{n_0-1}$ have the same Gram matrix for every $n_0 \ge 2$, SCF's $S^{127}$ included. The $\eta$ kernels fail
# §6.4's positive-definiteness requirement at **every** depth, and the proof of Theorem 3 cannot be transferred to them. With depth the Gram matrices approach the rank-one $\beta\mathbf 1\mathbf 1^\top$
# ($\lambda_1/\lambda_0 =$ {glue:text}`ch4_circ_rank_deep:.1e` at $L =$ {glue:text}`ch4_circ_lmax`). Verdict: convergence to
# $\beta$ and the diagonal dominance confirmed; positive definiteness false, at every depth.
#
# ## 4.6 The spectrum and the depth scale (SCF Figures 7 and 8)
#
# As $L\to\infty$ the kernel matrix tends to $\frac14\mathbf 1\mathbf 1^\top + \frac34 I$, whose
# smallest eigenvalue is $\frac34$: deep kernels are *well* conditioned. Theorem 3 ties the useful
# depth to the data through $L_X = \max_{i\ne j} 1/\sqrt{1-h(x_i^\top x_j)}$
# ({func}`ntk_lib.correlations.depth_scale`).
#
# **Which kernel.** SCF's text says Figure 7 shows "the smallest eigenvalue of $\bar\Theta_\infty(XX^\top)$",
# the normalized kernel, and that it "increases with depth"; the caption names the unnormalized
# $\Theta^{(L)}_\infty$. On the sphere the two differ by the factor of Definition 4,
# $\Theta^{(L)}_\infty = \frac{L}{n_0 2^{L-1}}\bar\Theta^{(L)}$ (Proposition 1), so the caption's kernel has smallest
# eigenvalue $\frac{L}{n_0 2^{L-1}}\lambda_{\min}(\bar\Theta^{(L)}) \le \frac{L}{n_0 2^{L-1}}$ (the diagonal of $\bar\Theta$ is 1),
# which tends to 0. The prefactor is $1/n_0$ at both $L = 1$ and $L = 2$, so from depth 1 to 2 that eigenvalue
# moves with $\lambda_{\min}(\bar\Theta)$: {glue:text}`ch4_f7_un_rise`. From $L = 2$ on the prefactor shrinks by
# $\frac{L+1}{2L} \le \frac34$ per layer, and the eigenvalue rises only while $\lambda_{\min}(\bar\Theta)$ grows faster
# than that: on our samples it peaks {glue:text}`ch4_f7_un_peak`, and {glue:text}`ch4_f7_un_fall`. Whatever it does
# at the first few depths, an eigenvalue that tends to 0 is not the one the text says "increases with depth". We plot the normalized kernel, the
# reading under which the text's description can hold. The paper's dataset sizes are not given; we use
# $n \le$ {glue:text}`ch4_f7_nmax` and {glue:text}`ch4_f7_seeds` independent samples per $n$ (95 % intervals over
# samples), at depths $L =$ {glue:text}`ch4_f7_depths_tested` within the range $1,\dots,30$ the text discusses, and a
# few deeper ones.

# %%
depth_grid = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 100, 1000]
i5, i30 = depth_grid.index(5), depth_grid.index(30)
lam_min = {n: [] for n in cfg["ns"]}
scales = {n: [] for n in cfg["ns"]}
for rep in range(cfg["f7_seeds"]):
    for n in cfg["ns"]:
        X = sphere(n, N0, seed=SEED + 11 + 1000 * rep + n).to(dev)  # an independent sample per (n, seed)
        lam_min[n].append([float(torch.linalg.eigvalsh(relu_ntk(X, depth=L, normalized=True))[0]) for L in depth_grid])
        scales[n].append(depth_scale(X))
lam_min = {n: np.array(v) for n, v in lam_min.items()}  # [seeds, depths]
n_big = cfg["ns"][-1]
# the text's claim: lambda_min increases with depth on L = 1..30, for every n (checked on every sample)
incr = all(bool((np.diff(v[:, : i30 + 1], axis=1) > 0).all()) for v in lam_min.values())
stab = mean_interval(lam_min[n_big][:, i5] / lam_min[n_big][:, i30])
lam1000 = mean_interval(lam_min[n_big][:, -1])
lx_iv = {n: mean_interval(v) for n, v in scales.items()}
# the caption's unnormalized kernel: lambda_min(Theta_inf) = L / (n0 2^(L-1)) lambda_min(Theta-bar), exactly on the sphere
unnorm = {L: L / (N0 * 2 ** (L - 1)) * lam_min[n_big][:, depth_grid.index(L)].mean() for L in (2, 30)}
for n in cfg["ns"]:
    m = lam_min[n].mean(axis=0)
    lam1 = f"{m[0]:.1e}" if n <= N0 else "0 (rank n0 < n; the float64 value is round-off)"
    print(f"n = {n:4d}: mean lambda_min at L = 1, 2, 5, 30, 1000: {lam1}, {m[1]:.3f}, {m[i5]:.3f}, {m[i30]:.3f}, {m[-1]:.3f};  L_X = {lx_iv[n]}")
print(f"lambda_min increasing from each tested depth to the next on L = 1..30, for every n and sample: {incr}")
print(f"n = {n_big}: lambda_min(L=5) / lambda_min(L=30) = {stab}; lambda_min(L=1000) = {lam1000}")
print(f"unnormalized kernel (caption), n = {n_big}: lambda_min at L = 2: {unnorm[2]:.2e}, at L = 30: {unnorm[30]:.2e}")
glue("ch4_f7_seeds", cfg["f7_seeds"])
glue("ch4_f7_nmax", n_big)
glue("ch4_f7_incr", "on every sample" if incr else "not on every sample")
glue("ch4_f7_stab", str(stab))
glue("ch4_lam1000", str(lam1000))
glue("ch4_f7_un2", float(unnorm[2]), digits=2)
glue("ch4_f7_un30", float(unnorm[30]), digits=2)
# the caption's kernel on every sample: lambda_min(Theta_inf) = L / (n0 2^(L-1)) lambda_min(Theta-bar), depths 1..30
un_curves = {n: np.array([L / (N0 * 2 ** (L - 1)) for L in depth_grid[: i30 + 1]]) * v[:, : i30 + 1] for n, v in lam_min.items()}
un_rise = all(bool((c[:, 1] > c[:, 0]).all()) for c in un_curves.values())  # the same prefactor 1/n0 at L = 1 and 2
un_peaks = {n: tuple(sorted({depth_grid[j] for j in c.argmax(axis=1)})) for n, c in un_curves.items()}
un_fall = all(bool((np.diff(c[r, j:]) < 0).all()) for c in un_curves.values() for r, j in enumerate(c.argmax(axis=1)))
print(f"unnormalized kernel on every sample: lambda_min rises from L = 1 to 2: {un_rise}; peak depth by n: {un_peaks}; "
      f"falls at every tested step after its peak: {un_fall}")


def depth_list(depths):
    return ", ".join(map(str, depths[:-1])) + f" and {depths[-1]}" if len(depths) > 1 else str(depths[0])


peak_groups = {}
for n, pk in un_peaks.items():
    peak_groups.setdefault(pk, []).append(n)
glue("ch4_f7_un_rise", "it rises on every one of our samples" if un_rise else "it does not rise on every one of our samples")
glue("ch4_f7_un_peak", " and ".join(f"at L = {depth_list(list(pk))} for n = {depth_list(ns)}" for pk, ns in peak_groups.items()))
glue("ch4_f7_un_fall", "falls from each tested depth to the next after that, on every sample" if un_fall
     else "does not fall at every tested step after that on every sample")
glue("ch4_f7_depths_tested", ", ".join(map(str, depth_grid[: i30]))  + f" and {depth_grid[i30]}")
glue("ch4_scale_min", min(iv.mean for iv in lx_iv.values()))
glue("ch4_scale_max", max(iv.mean for iv in lx_iv.values()))
glue("ch4_scale_big", str(lx_iv[n_big]))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left (SCF Figure 7 in the text's reading, the normalized kernel; our samples): smallest eigenvalue of the normalized NTK matrix against depth for several dataset sizes (n0 = 128), mean over independent samples with 95 % intervals; the dashed line is 3/4, the limit. Right (SCF Figure 8, our samples): the depth scale L_X against n for uniform data on the sphere, each sample (dots) and the mean with its 95 % interval.", "name": "fig-ch4-spectrum"}}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
for i, n in enumerate(cfg["ns"]):
    ivs = [mean_interval(lam_min[n][:, j]) for j in range(len(depth_grid))]
    m = np.array([iv.mean for iv in ivs])
    err = np.array([[iv.mean - iv.low for iv in ivs], [iv.high - iv.mean for iv in ivs]])
    axes[0].errorbar(depth_grid, m, yerr=err, fmt="o-", ms=3, capsize=2, color=cmap(i / max(len(cfg["ns"]) - 1, 1)), label=f"n = {n}")
axes[0].set_xscale("log")
axes[0].axhline(0.75, color="k", ls="--", lw=1)
axes[0].set_xlabel("depth $L$")
axes[0].set_ylabel(r"$\lambda_{\min}(\bar\Theta^{(L)}(X, X))$")
axes[0].set_title("smallest eigenvalue")
axes[0].legend()
for n in cfg["ns"]:
    axes[1].plot([n] * len(scales[n]), scales[n], ".", color=COLORS["data"], alpha=0.6)
axes[1].errorbar(cfg["ns"], [lx_iv[n].mean for n in cfg["ns"]], yerr=np.array([[lx_iv[n].mean - lx_iv[n].low for n in cfg["ns"]], [lx_iv[n].high - lx_iv[n].mean for n in cfg["ns"]]]), fmt="o-", capsize=3, color=COLORS["net"])
axes[1].set_xscale("log")
axes[1].set_xlabel("dataset size $n$")
axes[1].set_ylabel(r"$L_X = \max_{i\neq j} (1-h(x_i^\top x_j))^{-1/2}$")
axes[1].set_title("depth scale")
plt.show()

# %% [markdown]
# **What it shows.** The smallest eigenvalue of the normalized kernel increases with depth at the depths tested
# from 1 to 30 ({glue:text}`ch4_f7_depths_tested`) for every $n$, {glue:text}`ch4_f7_incr`, as SCF's text says, and approaches $\frac34$ (at $L = 1000$ and
# $n =$ {glue:text}`ch4_f7_nmax` it is {glue:text}`ch4_lam1000`, mean and 95 % interval); at depth 1 it is numerically
# 0 once $n > n_0$ (the linear kernel has rank $n_0$). "A depth of 5 stabilizes the smallest eigenvalue" is
# a matter of degree: at $n =$ {glue:text}`ch4_f7_nmax`, $\lambda_{\min}$ at $L = 5$ is a fraction
# {glue:text}`ch4_f7_stab` of its value at $L = 30$. Under the caption's reading the same eigenvalue would be
# {glue:text}`ch4_f7_un2:.1e` at $L = 2$ and {glue:text}`ch4_f7_un30:.1e` at $L = 30$. The depth scale $L_X$ has mean
# between {glue:text}`ch4_scale_min:.2f` and {glue:text}`ch4_scale_max:.2f` over our sizes
# ({glue:text}`ch4_scale_big` at $n =$ {glue:text}`ch4_f7_nmax`): in 128 dimensions uniformly drawn points are far
# apart, and the closest pair approaches slowly as $n$ grows (§4.8 quantifies how slowly). Verdict: our
# reading of Figures 7 and 8 (the normalized kernel, since the text and caption disagree, and sizes of our
# choosing, since the paper gives none); under it the text's description of the figures holds
# {glue:text}`ch4_f7_incr`, at the depths tested.
#
# ## 4.7 Proposition 6 and the projection term under early stopping (SCF Figure 6)
#
# **Proposition 6** writes the flow as $f_t(x) = f_0(x) + P_t(x)\big(f_0(X) - y\big)$ with the **projection
# operator** $P_t(x) = \bar\Theta(x,X)\,\bar\Theta^{-1}\big(e^{-t\bar\Theta} - I\big)$, and states that
# $\bar\Theta^{-1}(e^{-t\bar\Theta}-I)$ has eigenvalues $(e^{-t\lambda_k}-1)/\lambda_k$. We check both here against
# an independent computation: the matrix exponential, and a numerical integration of the gradient-flow
# ODE $\dot f_t(X) = -\bar\Theta(X,X)(f_t(X)-y)$, $\dot f_t(x) = -\bar\Theta(x,X)(f_t(X)-y)$.

# %%
Xp = sphere(60, N0, seed=SEED + 5)
Xq = sphere(5, N0, seed=SEED + 6)
yp = torch.sin(3 * Xp[:, 0]) + Xp[:, 1]
f0p, f0q = 0.1 * Xp[:, 2], 0.1 * Xq[:, 2]
Kp = relu_ntk(Xp, depth=3, normalized=True)
Kq = relu_ntk(Xq, Xp, depth=3, normalized=True)
t_check = [0.5, 2.0, 10.0]
closed = f0q + projection_operator(Kp, Kq, t_check) @ (f0p - yp)  # [times, points]
expm = torch.stack([f0q + Kq @ torch.linalg.solve(Kp, torch.linalg.matrix_exp(-t * Kp) - torch.eye(60, dtype=torch.float64)) @ (f0p - yp) for t in t_check])


def flow_rhs(_t, f):
    resid = f[:60] - yp.numpy()
    return np.concatenate([-(Kp.numpy() @ resid), -(Kq.numpy() @ resid)])


ode = solve_ivp(flow_rhs, (0, max(t_check)), np.concatenate([f0p.numpy(), f0q.numpy()]), t_eval=t_check, rtol=1e-11, atol=1e-12, method="DOP853")
ode_err = float(np.abs(ode.y[60:].T - closed.numpy()).max())
lam_p, vec_p = torch.linalg.eigh(Kp)
eig_err = float((torch.linalg.eigvalsh(torch.linalg.solve(Kp, torch.linalg.matrix_exp(-2.0 * Kp) - torch.eye(60, dtype=torch.float64))) - torch.sort(torch.expm1(-2.0 * lam_p) / lam_p).values).abs().max())
# the differences are integrator tolerance (~1e-12) and rounding (~1e-15): only bounds are shown
P6_ODE_TOL, P6_TOL = 1e-9, 1e-12
expm_err = float((closed - expm).abs().max())
glue("ch4_p6_ode_tol", P6_ODE_TOL, digits=1)
glue("ch4_p6_tol", P6_TOL, digits=1)
glue("ch4_p6_ok", ode_err < P6_ODE_TOL and expm_err < P6_TOL and eig_err < P6_TOL)
print(f"Prop. 6 closed form vs ODE integration below {P6_ODE_TOL:.0e}: {ode_err < P6_ODE_TOL}; "
      f"vs matrix exponential below {P6_TOL:.0e}: {expm_err < P6_TOL}; eigenvalue formula below {P6_TOL:.0e}: {eig_err < P6_TOL}")

# %% [markdown]
# The closed form matches the integrated flow to better than {glue:text}`ch4_p6_ode_tol:.0e` (the integrator's
# tolerance) and the matrix exponential to better than {glue:text}`ch4_p6_tol:.0e`, and the eigenvalues are
# $(e^{-t\lambda_k}-1)/\lambda_k$ to better than {glue:text}`ch4_p6_tol:.0e` (all three: {glue:text}`ch4_p6_ok`):
# Proposition 6 is confirmed. Each factor $|(e^{-t\lambda}-1)/\lambda|$ grows with $t$ and is at most $t$, so
# early stopping bounds the projection term even when $\lambda_n$ is tiny (Theorem 3 b; how large the bound is, below).
#
# SCF Figure 6 plots "the norm of the projection term ... with respect to depth $L$", on the synthetic
# data and MNIST, with stopping times $t \in \mathbb N\cap[0, \lceil 1/\lambda_n\rceil]$ and the depth
# $L = L_X$. The text does not say which point $x$, which norm, or how one depth per dataset becomes
# an axis, so we cannot reconstruct it exactly; with $n_0 = 128$, moreover, $\lceil L_X\rceil = 2$ for every
# $n$ we can sample (§4.6). What we plot instead: $\max_x \lVert P_t(x)\rVert_2$ over 20 new points at the
# largest stopping time $t = \lceil 1/\lambda_n\rceil$ (the norm is increasing in $t$), **against the depth
# $L$ from {glue:text}`ch4_f6_lmin` to {glue:text}`ch4_f6_lmax`**, for several $n$, on synthetic data and on {glue:text}`ch4_img_name`; a marker shows the
# depth $\lceil L_X\rceil$ the paper would pick for that $n$.

# %%
fig6_depths = cfg["fig6_depths"]
fig6 = {}
img_perm = torch.randperm(x_img.shape[0], generator=torch.Generator().manual_seed(SEED + 8))
for dname in ("synthetic", img_name):
    fig6[dname] = {}
    for n in cfg["ns"]:
        if dname == "synthetic":
            data = sphere(n + 20, N0, seed=SEED + 7 * n).to(dev)
        else:
            data = x_img[img_perm[: n + 20]].to(torch.float64).to(dev)
        X, Xn = data[:n], data[n:]
        lx = depth_scale(X)
        norms, lams, stops, to_bound = [], [], [], []
        for L in fig6_depths:
            k = relu_ntk(X, depth=L, normalized=True)
            kx = relu_ntk(Xn, X, depth=L, normalized=True)
            lam_n = float(torch.linalg.eigvalsh(k)[0])
            t_stop = math.ceil(1 / lam_n)
            P = projection_operator(k, kx, float(t_stop))
            p_norm = torch.linalg.vector_norm(P, dim=-1)
            # what holds by construction: |P_t(x)| <= |Theta(x, X)| (1 - e^(-t lambda_n)) / lambda_n <= sqrt(n) t
            bound = torch.linalg.vector_norm(kx, dim=-1) * (-math.expm1(-t_stop * lam_n)) / lam_n
            norms.append(float(p_norm.max()))
            lams.append(lam_n)
            stops.append(t_stop)
            to_bound.append(float((p_norm / bound).max()))
        fig6[dname][n] = (np.array(norms), np.array(lams), lx, np.array(stops), np.array(to_bound))
        print(f"{dname:>12.12s}, n = {n:4d}: ceil(L_X) = {math.ceil(lx):3d}; lambda_n at L = {fig6_depths[0]}, {fig6_depths[-1]}: "
              f"{lams[0]:.3f}, {lams[-1]:.3f}; t at L = {fig6_depths[0]}: {stops[0]}; max_x |P_t(x)| at L = {fig6_depths[0]}, "
              f"{fig6_depths[-1]}: {norms[0]:.2f}, {norms[-1]:.2f}; largest |P_t(x)| / bound: {max(to_bound):.3f}")
syn_lx = [math.ceil(v[2]) for v in fig6["synthetic"].values()]
img_lx = [math.ceil(v[2]) for v in fig6[img_name].values()]
glue("ch4_f6_syn_lx", ", ".join(map(str, sorted(set(syn_lx)))))
glue("ch4_f6_img_lx_lo", min(img_lx))
glue("ch4_f6_img_lx_hi", max(img_lx))
glue("ch4_f6_max", max(float(v[0].max()) for d in fig6.values() for v in d.values()))
glue("ch4_f6_deep_min", min(float(v[0][-1]) for d in fig6.values() for v in d.values()))
glue("ch4_f6_deep_max", max(float(v[0][-1]) for d in fig6.values() for v in d.values()))
glue("ch4_f6_lmin", fig6_depths[0])
glue("ch4_f6_lmax", fig6_depths[-1])
glue("ch4_f6_to_bound", max(float(v[4].max()) for d in fig6.values() for v in d.values()), digits=3)
# an example: the image data at the largest n and the smallest depth, where lambda_n is smallest
n_ex6 = cfg["ns"][-1]
t_ex6 = int(fig6[img_name][n_ex6][3][0])
glue("ch4_f6_ex_n", n_ex6)
glue("ch4_f6_ex_t", t_ex6)
glue("ch4_f6_ex_sqrtn", math.sqrt(n_ex6), digits=3)
glue("ch4_f6_ex_phrase", "larger than" if t_ex6 > math.sqrt(n_ex6) else "not larger than")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "What we plot in place of SCF Figure 6 (not a reproduction): the largest norm of the projection operator over 20 new points at the stopping time ceil(1/lambda_n), against depth L, for several dataset sizes n; left synthetic data (n0 = 128), right image data. Stars: the depth ceil(L_X) of Theorem 3 for that n.", "name": "fig-ch4-proj"}}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained", sharey=True)
for ax, (dname, res) in zip(axes, fig6.items()):
    for i, (n, (norms, _lams, lx, _t, _r)) in enumerate(res.items()):
        c = cmap(i / max(len(res) - 1, 1))
        ax.semilogx(fig6_depths, norms, "o-", ms=3, color=c, label=f"n = {n}")
        Lstar = math.ceil(lx)
        ax.plot([Lstar], [np.interp(math.log(Lstar), np.log(fig6_depths), norms)], "*", ms=12, color=c, mec="k")
    ax.set_xlabel("depth $L$")
    ax.set_title(dname)
    ax.legend(fontsize=8)
axes[0].set_ylabel(r"$\max_x \|P_t(x)\|_2$ at $t = \lceil 1/\lambda_n \rceil$")
plt.show()

# %% [markdown]
# On the synthetic data the paper's depth choice is $\lceil L_X\rceil =$ {glue:text}`ch4_f6_syn_lx` for every $n$;
# on {glue:text}`ch4_img_name`, whose images have near neighbours, it ranges from {glue:text}`ch4_f6_img_lx_lo` to
# {glue:text}`ch4_f6_img_lx_hi`. Against depth, the projection norm at $t = \lceil 1/\lambda_n\rceil$ is at most
# {glue:text}`ch4_f6_max:.3f` everywhere, and at the largest depth it lies between {glue:text}`ch4_f6_deep_min:.2f` and
# {glue:text}`ch4_f6_deep_max:.2f`.
#
# What Theorem 3 b) guarantees is less than these small numbers suggest. By construction every eigen-factor
# $|(e^{-t\lambda_k}-1)/\lambda_k|$ is at most $(1-e^{-t\lambda_n})/\lambda_n \le t$ and every kernel entry is at most 1 in size,
# so $\lVert P_t(x)\rVert_2 \le \lVert\bar\Theta(x,X)\rVert_2\,(1-e^{-t\lambda_n})/\lambda_n \le \sqrt n\,t$. That is $O(n)$ only if
# $t = O(\sqrt n)$, which $t \in o(1/\lambda_n)$ does not ensure: for {glue:text}`ch4_img_name` at
# $L =$ {glue:text}`ch4_f6_lmin` and $n =$ {glue:text}`ch4_f6_ex_n` the stopping time is $t =$ {glue:text}`ch4_f6_ex_t`,
# {glue:text}`ch4_f6_ex_phrase` $\sqrt n =$ {glue:text}`ch4_f6_ex_sqrtn:.1f`. The measured norms use at most a fraction
# {glue:text}`ch4_f6_to_bound:.3f` of the first bound, at every point, depth and $n$. Their smallness is therefore an
# empirical finding about these data, not a consequence of the theorem, whose $O(n)$ carries no constant to
# compare a number with.
#
# %% [markdown]
# ## 4.8 Proposition 7 and Example 2: how close can random points be?
#
# Theorem 3 a) needs the data separated, $x_i^\top x_j \le 1-\delta$. **Proposition 7** bounds the
# probability that two of $n$ uniform points on $S^{n_0-1}$ violate this by
# $\binom n2\frac1{\sqrt\pi}\sqrt{\frac{n_0}2}\frac{\delta^{n_0-1}}{n_0-1}$, and **Example 2** evaluates it
# for $n_0 = 128$, $n = 2^{30}$ and $\delta = \binom n2^{-1/(n_0-1)}$. The proof, however, bounds
# $P(\theta \le \delta)$ for the *angle* $\theta$ between two points (the density of Cai et al.), while
# the statement is about the *inner product* $x^\top x' \ge 1-\delta$, i.e. $\theta \le \arccos(1-\delta)$,
# a much larger cap. We compute both readings exactly ({func}`ntk_lib.sphere.cap_probability` uses the
# regularized incomplete beta function).

# %%
n_ex, n0_ex = 2**30, 128
log_pairs = math.log(n_ex) + math.log(n_ex - 1) - math.log(2)
delta = math.exp(-log_pairs / (n0_ex - 1))
bound7 = collision_bound_prop7(n_ex, n0_ex, delta)
union_angle = collision_union_bound(n_ex, n0_ex, delta)
union_inner = collision_union_bound(n_ex, n0_ex, math.acos(1 - delta))
K_cai = cai_constant(n0_ex)


def depth_of(inner):
    """1 / sqrt(1 - h(inner)): Corollary 1's depth for a pair with this inner product."""
    return 1 / math.sqrt(1 - float(h(torch.tensor(inner, dtype=torch.float64))))


# repair (b): keep the inner-product event and choose its cap so that the exact union bound equals Prop. 7's number
angle_b = brentq(lambda a: collision_union_bound(n_ex, n0_ex, a) - bound7, 0.1, 1.5, xtol=1e-14)
cai_angle = n_ex ** (-2 / (n0_ex - 1))
ex2 = {
    "delta": delta,
    "bound7": bound7,
    "union_angle": union_angle,
    "union_inner": union_inner,
    "K": K_cai,
    "one_minus_exp_K": 1 - math.exp(-K_cai),
    "inv_inner": depth_of(1 - delta),
    "inv_sqrt_delta": 1 / math.sqrt(delta),
    "inv_angle": depth_of(math.cos(delta)),
    "delta_b": 1 - math.cos(angle_b),
    "inv_b": depth_of(math.cos(angle_b)),
    "cai_angle": cai_angle,
    "cai_count": collision_union_bound(n_ex, n0_ex, cai_angle),
    "cai_limit": min_angle_limit_cdf(n_ex, n0_ex, cai_angle),
    "cai_union_inner": collision_union_bound(n_ex, n0_ex, math.acos(1 - cai_angle)),
}
ex2["cai_lo"], ex2["cai_hi"] = close_pair_probability_bounds(n_ex, n0_ex, cai_angle)
ex2["emin_lo"], ex2["emin_hi"] = min_angle_expectation_bounds(n_ex, n0_ex)
ex2["emin_limit"] = cai_angle * K_cai ** (-1 / (n0_ex - 1)) * math.gamma(1 + 1 / (n0_ex - 1))
for key, val in ex2.items():
    glue(f"ch4_ex2_{key}", val)
print(f"delta = C(n,2)^(-1/(n0-1)) = {delta:.6f}                      (paper: ~0.72)")
print(f"Prop. 7 bound = {bound7:.6f}                                     (paper: <= 0.04)")
print(f"exact union bound, angle <= delta: {union_angle:.2e}")
print(f"exact union bound, inner product >= 1 - delta (angle <= {math.acos(1 - delta):.3f}): {union_inner:.2e}")
print(f"depth scale 1/sqrt(1 - h(1 - delta)) = {ex2['inv_inner']:.4f} (paper: ~1.37); paper's approximation 1/sqrt(delta) = {ex2['inv_sqrt_delta']:.4f}")
print(f"repair (a), angle event theta <= delta: x.x' <= cos(delta), depth scale {ex2['inv_angle']:.4f}")
print(f"repair (b), inner-product event with delta' = {ex2['delta_b']:.4f} (same exact bound {bound7:.4f}): depth scale {ex2['inv_b']:.4f}")
print(f"Cai et al.: K = {K_cai:.5f}, limit value 1 - exp(-K) = {1 - math.exp(-K_cai):.5f} (paper: ~0.02)")
print(f"  at n = 2^30, angle n^(-2/127) = {cai_angle:.4f}: exact E[#pairs] = {ex2['cai_count']:.2e}, P(min angle <= it) in [{ex2['cai_lo']:.3e}, {ex2['cai_hi']:.3e}]; limit law {ex2['cai_limit']:.4f}")
print(f"  paper's inner-product reading x.x' >= 1 - n^(-2/127): E[#pairs] = {ex2['cai_union_inner']:.2e}")
print(f"  E[min angle] at n = 2^30 in [{ex2['emin_lo']:.4f}, {ex2['emin_hi']:.4f}]; limit law mean {ex2['emin_limit']:.4f}")

# %% [markdown]
# A Monte Carlo check at a size we can sample: draw $n$ points on $S^{127}$, set $\delta_n = \binom n2^{-1/127}$
# as in Example 2, and count the trials in which some pair violates each reading.

# %%
n_mc = cfg["mc_n"]
delta_mc = math.exp(-(math.log(n_mc) + math.log(n_mc - 1) - math.log(2)) / (n0_ex - 1))
hits_inner = hits_angle = 0
max_inner = []
for trial in range(cfg["mc_trials"]):
    pts = sphere(n_mc, n0_ex, seed=10_000 + trial).to(dev)
    g = pts @ pts.T
    g.fill_diagonal_(-2.0)
    m = float(g.max())
    max_inner.append(m)
    hits_inner += m >= 1 - delta_mc
    hits_angle += m >= math.cos(delta_mc)
mc = {
    "n": n_mc,
    "trials": cfg["mc_trials"],
    "delta": delta_mc,
    "frac_inner": hits_inner / cfg["mc_trials"],
    "frac_angle": hits_angle / cfg["mc_trials"],
    "bound_angle": collision_bound_prop7(n_mc, n0_ex, delta_mc),
    "max_inner": float(np.mean(max_inner)),
}
for key, val in mc.items():
    glue(f"ch4_mc_{key}", val)
print(f"n = {n_mc}, delta_n = {delta_mc:.3f}, {cfg['mc_trials']} trials; mean max inner product {mc['max_inner']:.3f}")
print(f"  P(some x.x' >= 1 - delta_n) ~ {mc['frac_inner']:.2f}; P(some angle <= delta_n) ~ {mc['frac_angle']:.2f}; Prop. 7 bound {mc['bound_angle']:.3f}")

# %% [markdown]
# **What it shows.** The numbers of Example 2 are reproduced as computed: $\delta \approx$
# {glue:text}`ch4_ex2_delta:.4f`, the Proposition 7 bound {glue:text}`ch4_ex2_bound7:.4f`,
# $1 - e^{-K} \approx$ {glue:text}`ch4_ex2_one_minus_exp_K:.4f` and $1/\sqrt{1-h(1-\delta)} =$
# {glue:text}`ch4_ex2_inv_inner:.4f`. But they do not fit together.
#
# 1. *Proposition 7.* The bound is valid for the event "some pair at angle $\le\delta$" (the exact union bound
#    is {glue:text}`ch4_ex2_union_angle:.1e`). For the event the proposition states, $x^\top x' \ge 1-\delta$, the
#    expected number of such pairs is {glue:text}`ch4_ex2_union_inner:.1e`: the event is practically certain. The
#    Monte Carlo run with $n =$ {glue:text}`ch4_mc_n` points agrees: in a fraction {glue:text}`ch4_mc_frac_inner:.2f`
#    of {glue:text}`ch4_mc_trials` trials some pair has $x^\top x' \ge 1-\delta_n$, while a pair within angle
#    $\delta_n$ occurred in a fraction {glue:text}`ch4_mc_frac_angle:.2f` (bound {glue:text}`ch4_mc_bound_angle:.3f`).
# 2. *Cai et al.* Their Theorem 2 is an $n\to\infty$ **limit law for the minimum angle**: $n^{2/(n_0-1)}\Theta_{\min}$
#    converges in distribution to $1-e^{-Kx^{n_0-1}}$ (the test suite checks that $K$ is the constant of the
#    angle event). It is neither a finite-$n$ bound nor a statement about $x_i^\top x_j$. At $n = 2^{30}$ the angle
#    $n^{-2/127} =$ {glue:text}`ch4_ex2_cai_angle:.4f` is not small, and the exact expected number of pairs within it is
#    {glue:text}`ch4_ex2_cai_count:.2e` (so $P(\Theta_{\min}\le n^{-2/127})$ lies in
#    [{glue:text}`ch4_ex2_cai_lo:.3e`, {glue:text}`ch4_ex2_cai_hi:.3e`]) against the limit value
#    {glue:text}`ch4_ex2_cai_limit:.4f`; under the paper's inner-product reading the expected count is
#    {glue:text}`ch4_ex2_cai_union_inner:.1e`. The expected minimum angle at $n = 2^{30}$ lies in
#    [{glue:text}`ch4_ex2_emin_lo:.3f`, {glue:text}`ch4_ex2_emin_hi:.3f`] (exact first- and second-moment bounds),
#    while the limit law's mean is {glue:text}`ch4_ex2_emin_limit:.3f`.
# 3. *The depth scale.* SCF approximate $1/\sqrt{1-h(1-\delta)} \approx 1/\sqrt\delta =$ {glue:text}`ch4_ex2_inv_sqrt_delta:.4f`;
#    the exact value is {glue:text}`ch4_ex2_inv_inner:.4f` ($1-h(1-\delta) = \delta - c\,\delta^{3/2} + \dots$ is not close
#    to $\delta$ at $\delta \approx 0.72$). Either consistent repair gives about 2: (a) keep Proposition 7's bound for
#    the angle event $\theta \le \delta$, so that $x^\top x' \le \cos\delta$ and $1/\sqrt{1-h(\cos\delta)} =$
#    {glue:text}`ch4_ex2_inv_angle:.4f`; (b) keep the inner-product event and choose $\delta' =$
#    {glue:text}`ch4_ex2_delta_b:.4f` so that its exact union bound is the same {glue:text}`ch4_ex2_bound7:.4f`, giving
#    $1/\sqrt{1-h(1-\delta')} =$ {glue:text}`ch4_ex2_inv_b:.4f`. (Applying Prop. 7's closed form to the cap
#    $\arccos(1-\delta')$ instead reproduces (a).)
#
# ## 4.9 Theorem 3: its two rates, and too shallow, too deep, and the zone between
#
# **Theorem 3** (SCF) opens: "for any evaluation point $x\in S^{n_0-1}$ satisfying $x\ne\pm x_i$ for all $i\in[n]$, the
# vector $\frac14\mathbf 1_n - \bar\Theta^{(L)}_\infty(Xx) \in \mathcal O(\frac1L)$ component-wise." Component by component
# this is Theorem 2's rate for the pairs $(x, x_i)$, which §4.3 showed to be false: each entry is
# $\frac38\frac{\ln L}{L} + \frac{\mu(x^\top x_i)}{L} + o(\frac1L)$ with $\mu = \nu/4 - \frac18$. Case a) (data separated,
# $x_i^\top x_j \le 1-\delta$) then states that $\lVert P^{(L)}_S v - P_S v\rVert_2 \in O(\frac1L)$ for every $v$ and
# $S \in \{\{1\},\{2,\dots,n\}\}$, where $P^{(L)}_S$ projects onto the eigenvectors of $\bar\Theta^{(L)}(XX^\top)$ indexed by $S$
# and $P_S$ onto those of $\frac14\mathbf 1\mathbf 1^\top + \frac34 I$. This statement survives the log term. Write
#
# $$
# \bar\Theta^{(L)}(XX^\top) = \tfrac14\mathbf 1\mathbf 1^\top + \tfrac34 I + \tfrac1L D^{(L)},\qquad
# D^{(L)} = \tfrac38\ln L\,(\mathbf 1\mathbf 1^\top - I) + M + o(1),\quad M_{ij} = \mu(x_i^\top x_j)\ (i\ne j),\ M_{ii} = 0 .
# $$
#
# The $\ln L$ part is a multiple of $\mathbf 1\mathbf 1^\top - I$, which has the eigenvectors of $\frac14\mathbf 1\mathbf 1^\top + \frac34 I$
# and therefore moves no eigenprojection; only the bounded $M/L$ rotates them. With $J = \mathbf 1\mathbf 1^\top/n$ and the
# eigenvalue gap $n/4$, first-order perturbation theory gives
# $L\,(P^{(L)}_{\{1\}} - J) \to \frac4n\big[(I-J)MJ + JM(I-J)\big]$, and $P^{(L)}_{\{2..n\}} = I - P^{(L)}_{\{1\}}$ moves by the same
# amount. (The proof's Davis–Kahan step instead bounds the rotation by $\lVert\bar\Theta^{(L)} - \frac14\mathbf 1\mathbf 1^\top - \frac34 I\rVert_2$
# over the gap and takes that norm to be at most $\pi n/L$; with the log term it is about $\frac38\frac{n-1}{L}\ln L$.)
# We check both statements for $n =$ {glue:text}`ch4_t3r_n` points and a new point $x$ drawn uniformly on $S^{127}$,
# with the cancellation-free recurrence of §4.3 ({func}`ntk_lib.correlations.theta_bar_deviations`) up to
# $L =$ {glue:text}`ch4_t3r_depth`.

# %%
n_t3 = 5
pts_t3 = sphere(n_t3 + 1, N0, seed=SEED + 40)
X_t3, x_t3 = pts_t3[:n_t3], pts_t3[n_t3]
gram_t3 = (X_t3 @ X_t3.T).clamp(-1, 1)
gram_t3.fill_diagonal_(1.0)
rate_depths = [10**k for k in range(1, round(math.log10(cfg["rate_depth"])) + 1)]
e_xx, D_xx = theta_bar_deviations(gram_t3, rate_depths)  # D = L (Theta-bar - 1/4) entry by entry; 3L/4 on the diagonal
e_x, D_x = theta_bar_deviations((X_t3 @ x_t3).clamp(-1, 1), rate_depths)
J_t3 = torch.full((n_t3, n_t3), 1 / n_t3, dtype=torch.float64)
I_t3 = torch.eye(n_t3, dtype=torch.float64)
off_t3 = ~torch.eye(n_t3, dtype=torch.bool)
L_last = float(rate_depths[-1])
# the pair-dependent constants mu = nu/4 - 1/8, from the correlation errors alone (§4.2-4.3)
mu_xx = torch.zeros(n_t3, n_t3, dtype=torch.float64)
mu_xx[off_t3] = depth_offset(e_xx[-1][off_t3], torch.full((n_t3 * (n_t3 - 1),), L_last, dtype=torch.float64)) / 4 - 1 / 8
mu_x = depth_offset(e_x[-1], torch.full((n_t3,), L_last, dtype=torch.float64)) / 4 - 1 / 8
proj_limit = 4 / n_t3 * float(torch.linalg.matrix_norm((I_t3 - J_t3) @ mu_xx @ J_t3 + J_t3 @ mu_xx @ (I_t3 - J_t3)))
rows_t3 = []
print(f"n = {n_t3} points and a new x on S^127; rows: depth L")
print(f"{'L':>8} | L max_i |Tb(x,x_i) - 1/4| | same - (3/8) ln L | L |P_1 - 11^T/n|_F | L |Tb(XX) - (11^T/4 + 3I/4)|_2 / n")
for i, L in enumerate(rate_depths):
    K = 0.25 + D_xx[i] / L  # the diagonal is 1/4 + 3/4 = 1 exactly
    v1 = torch.linalg.eigh(K).eigenvectors[:, -1]
    proj_dev = L * float(torch.linalg.matrix_norm(torch.outer(v1, v1) - J_t3))
    comp = float(D_x[i].abs().max())
    dk_norm = float(torch.linalg.matrix_norm(D_xx[i] - 0.75 * L * I_t3, ord=2)) / n_t3  # L |Theta-bar - target|_2 / n
    rows_t3.append((L, comp, comp - THETA_BAR_LOG_COEFFICIENT * math.log(L), proj_dev, dk_norm))
    print(f"{L:>8} | {comp:26.4f} | {rows_t3[-1][2]:17.4f} | {proj_dev:17.5f} | {dk_norm:.4f}")
print(f"predicted: max_i mu(x.x_i) = {float(mu_x.max()):.4f}; first-order limit of L |P_1 - 11^T/n|_F = {proj_limit:.5f}")
glue("ch4_t3r_n", n_t3)
glue("ch4_t3r_depth", rate_depths[-1])
glue("ch4_t3r_comp_first", rows_t3[0][1])
glue("ch4_t3r_comp_deep", rows_t3[-1][1])
glue("ch4_t3r_comp_step", rows_t3[-1][1] - rows_t3[-2][1])
glue("ch4_t3r_kappa_step", THETA_BAR_LOG_COEFFICIENT * math.log(10))
glue("ch4_t3r_mu_max", float(mu_x.max()))
glue("ch4_t3r_mu_gap", abs(rows_t3[-1][2] - float(mu_x.max())), digits=2)
glue("ch4_t3r_proj_first", rows_t3[0][3])
glue("ch4_t3r_proj_deep", rows_t3[-1][3])
glue("ch4_t3r_proj_limit", proj_limit)
glue("ch4_t3r_proj_rel", abs(rows_t3[-1][3] / proj_limit - 1), digits=2)
glue("ch4_t3r_dk_deep", rows_t3[-1][4])
glue("ch4_t3r_dk_phrase", "already above" if rows_t3[-1][4] > math.pi else "still below")

# %% [markdown]
# **What it shows.** $L\max_i|\bar\Theta^{(L)}(x,x_i) - \frac14|$ is {glue:text}`ch4_t3r_comp_first:.3f` at $L = 10$ and
# {glue:text}`ch4_t3r_comp_deep:.3f` at $L =$ {glue:text}`ch4_t3r_depth`; over the last decade it rose by
# {glue:text}`ch4_t3r_comp_step:.4f`, against $\frac38\ln 10 =$ {glue:text}`ch4_t3r_kappa_step:.4f`, and after subtracting
# $\frac38\ln L$ it is within {glue:text}`ch4_t3r_mu_gap:.0e` of the predicted $\max_i\mu(x^\top x_i) =$
# {glue:text}`ch4_t3r_mu_max:.4f`. So the component-wise $\mathcal O(\frac1L)$ of Theorem 3 is false, for the same reason as
# Theorem 2's rate. The eigenprojection does converge at rate $\frac1L$: $L\lVert P^{(L)}_{\{1\}} - \mathbf 1\mathbf 1^\top/n\rVert_F$ is
# {glue:text}`ch4_t3r_proj_first:.4f` at $L = 10$ and {glue:text}`ch4_t3r_proj_deep:.5f` at $L =$ {glue:text}`ch4_t3r_depth`,
# against the first-order limit {glue:text}`ch4_t3r_proj_limit:.5f` computed from the constants $\mu_{ij}$ alone (relative
# difference {glue:text}`ch4_t3r_proj_rel:.0e`); $P_{\{2..n\}}$ moves by the same amount. Case a)'s projection statement
# therefore holds, though not by the proof's argument: $L\lVert\bar\Theta^{(L)} - \frac14\mathbf 1\mathbf 1^\top - \frac34 I\rVert_2/n$,
# which the proof takes to be at most $\pi$, is {glue:text}`ch4_t3r_dk_deep:.3f` at the deepest depth ({glue:text}`ch4_t3r_dk_phrase`
# $\pi$) and grows like $\frac38\frac{n-1}{n}\ln L$; the rate survives because the growing part commutes with the
# limit. The rest of Theorem 3 consists of $O(n)$ bounds without constants (on $\lVert f_t - \hat f_t\rVert$ in case a) and
# on the projection norm in case b), discussed with Figure 6 in §4.7) and the statement that $f_t$ stays non-trivial when
# $L \in O\big(1/\sqrt{1-\rho^{(2)}(x_i^\top x_j)}\big)$, which the pictures below probe.
#
# Take 40 points on $S^{2}$ with targets $y_i = x_{i,1}$, start from $f_0 = 0$,
# and evaluate $f_t$ along a great circle through two training points, for three depths and three
# stopping times ({func}`ntk_lib.dynamics.gradient_flow` with the normalized kernel).

# %%
gen = torch.Generator().manual_seed(SEED)
X3 = sphere(40, 3, seed=SEED + 3)
y3 = X3[:, 0].clone()
a, b = X3[0], X3[1]
w = b - (a @ b) * a
w = w / w.norm()
s = torch.linspace(0, 2 * math.pi, 400, dtype=torch.float64)
path = torch.cos(s)[:, None] * a + torch.sin(s)[:, None] * w
L_X3 = depth_scale(X3)
depth_choices = [2, max(3, math.ceil(L_X3)), cfg["deep"]]
glue("ch4_lx3", L_X3)
theorem3 = {}
for L in depth_choices:
    k = relu_ntk(X3, depth=L, normalized=True)
    kx = relu_ntk(path, X3, depth=L, normalized=True)
    lam = torch.linalg.eigvalsh(k)
    ts = [1.0, 1 / float(lam[0]), math.inf]
    flow = gradient_flow(k, y3, t=ts, k_test_train=kx)
    spread = flow.test.amax(dim=1) - flow.test.amin(dim=1)
    theorem3[L] = (ts, flow.test.numpy(), float(lam[0]))
    corr = float(torch.corrcoef(torch.stack([flow.test[-1], path[:, 0]]))[0, 1])
    glue(f"ch4_thm3_corr_{depth_choices.index(L)}", corr)
    glue(f"ch4_thm3_range_{depth_choices.index(L)}", float(spread[-1]))
    print(
        f"L = {L:5d}: lambda_n = {float(lam[0]):.3f}; range of f_t along the circle at t = 1, 1/lambda_n, inf: "
        f"{spread.numpy().round(3)}; correlation of f_inf with the target along the circle {corr:.3f}"
    )
glue("ch4_thm3_mid", depth_choices[1])
glue("ch4_deep", depth_choices[2])
truth = path[:, 0].numpy()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Predictions along a great circle through two training points (dots: training points near the circle), for three depths (2, the data's depth scale, and a very deep kernel) and three stopping times. Shallow, the predictor follows the target; at the depth scale it still varies with the input; very deep, it is flat away from the data whatever the stopping time.", "name": "fig-ch4-thm3"}}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained", sharey=True)
near = (X3 @ torch.cross(a, w, dim=0)).abs() < 0.2
ang_near = torch.atan2(X3[near] @ w, X3[near] @ a) % (2 * math.pi)
for ax, (L, (ts, preds, _lam_n)) in zip(axes, theorem3.items()):
    ax.plot(s, truth, color=COLORS["data"], lw=1, alpha=0.5, label="$x_1$ (target)")
    ax.plot(ang_near, y3[near], "o", color=COLORS["data"], ms=4)
    for j, (t, col) in enumerate(zip(ts, (COLORS["emp"], COLORS["inf"], COLORS["net"]))):
        lab = "t = inf" if math.isinf(t) else f"t = {t:.3g}"
        ax.plot(s, preds[j], color=col, lw=1.8, label=lab)
    ax.set_title(f"depth L = {L}")
    ax.set_xlabel("position on the great circle (rad)")
    ax.legend(fontsize=7)
axes[0].set_ylabel("$f_t$")
plt.show()

# %% [markdown]
# In this draw, at depth 2 the predictor follows the target along the whole circle (correlation
# {glue:text}`ch4_thm3_corr_0:.3f` with $x_1$ at $t=\infty$, range {glue:text}`ch4_thm3_range_0:.2f`); at the data's own
# depth scale, $L = \lceil L_X\rceil =$ {glue:text}`ch4_thm3_mid`, it still varies with the input (correlation
# {glue:text}`ch4_thm3_corr_1:.3f`, range {glue:text}`ch4_thm3_range_1:.2f`) but flattens away from the training points;
# at $L =$ {glue:text}`ch4_deep` the kernel between a new point and the data is almost exactly $\frac14$ and the
# predictor is a constant with spikes at the training points (range {glue:text}`ch4_thm3_range_2:.2f`).
#
# One draw and a linear target (which a depth-2 kernel fits almost exactly) decide little. We repeat the
# experiment on {glue:text}`ch4_thm3_seeds` independent draws (new points, new great circle) with two targets, the
# linear $y = x_1$ and the nonlinear $y = \sin(3x_1) + 2x_2x_3$, at depths 2, $\lceil L_X\rceil$ of that draw and
# {glue:text}`ch4_thm3_deep_s`, and report over draws the mean and 95 % interval of: the correlation of $f_\infty$ with the
# target along the circle, and the range of $f_t$ along the circle divided by the target's range there, at the
# early stopping time $t = 1/\lambda_n$ and at $t = \infty$.

# %%
def thm3_draw(seed, deep_L):
    """One draw of Section 4.9: 40 points on S^2, a great circle through two of them, both targets."""
    X = sphere(40, 3, seed=seed)
    u = X[1] - (X[0] @ X[1]) * X[0]
    circle = torch.cos(s)[:, None] * X[0] + torch.sin(s)[:, None] * (u / u.norm())
    targets = {"linear": lambda z: z[:, 0], "nonlinear": lambda z: torch.sin(3 * z[:, 0]) + 2 * z[:, 1] * z[:, 2]}
    L_mid = max(3, math.ceil(depth_scale(X)))
    out = {}
    for tag, L in (("2", 2), ("L_X", L_mid), ("deep", deep_L)):
        k = relu_ntk(X, depth=L, normalized=True)
        kx = relu_ntk(circle, X, depth=L, normalized=True)
        t_stop = 1 / float(torch.linalg.eigvalsh(k)[0])
        for name, f in targets.items():
            truth_c = f(circle)
            flow = gradient_flow(k, f(X), t=[t_stop, math.inf], k_test_train=kx).test
            span = flow.amax(dim=1) - flow.amin(dim=1)
            out[(name, tag)] = (
                float(torch.corrcoef(torch.stack([flow[-1], truth_c]))[0, 1]),
                float(span[0] / (truth_c.max() - truth_c.min())),
                float(span[1] / (truth_c.max() - truth_c.min())),
            )
    return out, L_mid


thm3_runs, thm3_mids = [], []
for rep in range(cfg["thm3_seeds"]):
    res, L_mid = thm3_draw(SEED + 300 + rep, cfg["thm3_deep"])
    thm3_runs.append(res)
    thm3_mids.append(L_mid)
glue("ch4_thm3_seeds", cfg["thm3_seeds"])
glue("ch4_thm3_deep_s", cfg["thm3_deep"])
glue("ch4_thm3_mid_lo", min(thm3_mids))
glue("ch4_thm3_mid_hi", max(thm3_mids))
print(f"{cfg['thm3_seeds']} draws; ceil(L_X) from {min(thm3_mids)} to {max(thm3_mids)}")
print(f"{'target':>9} {'depth':>5} | {'corr(f_inf, y)':>22} | {'range(f_t)/range(y), t = 1/lambda_n':>36} | {'range(f_inf)/range(y)':>24}")
thm3_iv = {}
for name in ("linear", "nonlinear"):
    for tag in ("2", "L_X", "deep"):
        vals = np.array([r[(name, tag)] for r in thm3_runs])
        ivs = [mean_interval(vals[:, j]) for j in range(3)]
        thm3_iv[(name, tag)] = ivs
        for j, key in enumerate(("corr", "rstop", "rinf")):
            glue(f"ch4_t3_{name}_{tag}_{key}", str(ivs[j]))
        print(f"{name:>9} {tag:>5} | {ivs[0]!s:>22} | {ivs[1]!s:>36} | {ivs[2]!s:>24}")
# paired over draws: how much of the output range survives at the depth scale compared with the deep kernel
for name in ("linear", "nonlinear"):
    d = paired_interval([r[(name, "L_X")][2] for r in thm3_runs], [r[(name, "deep")][2] for r in thm3_runs])
    glue(f"ch4_t3_{name}_mid_minus_deep", str(d))
    print(f"{name}: range ratio at ceil(L_X) minus at L = {cfg['thm3_deep']} (t = inf), paired: {d}")
thm3_deep_flat = all(thm3_iv[(nm, "deep")][2].high < thm3_iv[(nm, "L_X")][2].low for nm in ("linear", "nonlinear"))
thm3_corr_drop = all(thm3_iv[(nm, "deep")][0].high < thm3_iv[(nm, "2")][0].low for nm in ("linear", "nonlinear"))
print("deep range ratio below the depth-scale one for both targets (intervals disjoint):", thm3_deep_flat)
print("deep correlation below the depth-2 one for both targets (intervals disjoint):", thm3_corr_drop)
glue("ch4_t3_flat_phrase", "lie entirely below" if thm3_deep_flat else "overlap")
glue("ch4_t3_corr_phrase", "lie entirely below" if thm3_corr_drop else "overlap")

# %% [markdown]
# Over the {glue:text}`ch4_thm3_seeds` draws ($\lceil L_X\rceil$ between {glue:text}`ch4_thm3_mid_lo` and
# {glue:text}`ch4_thm3_mid_hi`), mean and 95 % interval:
#
# | target | depth | corr$(f_\infty, y)$ | range ratio, $t = 1/\lambda_n$ | range ratio, $t = \infty$ |
# |---|---|---|---|---|
# | $x_1$ | 2 | {glue:text}`ch4_t3_linear_2_corr` | {glue:text}`ch4_t3_linear_2_rstop` | {glue:text}`ch4_t3_linear_2_rinf` |
# | $x_1$ | $\lceil L_X\rceil$ | {glue:text}`ch4_t3_linear_L_X_corr` | {glue:text}`ch4_t3_linear_L_X_rstop` | {glue:text}`ch4_t3_linear_L_X_rinf` |
# | $x_1$ | {glue:text}`ch4_thm3_deep_s` | {glue:text}`ch4_t3_linear_deep_corr` | {glue:text}`ch4_t3_linear_deep_rstop` | {glue:text}`ch4_t3_linear_deep_rinf` |
# | $\sin 3x_1 + 2x_2x_3$ | 2 | {glue:text}`ch4_t3_nonlinear_2_corr` | {glue:text}`ch4_t3_nonlinear_2_rstop` | {glue:text}`ch4_t3_nonlinear_2_rinf` |
# | $\sin 3x_1 + 2x_2x_3$ | $\lceil L_X\rceil$ | {glue:text}`ch4_t3_nonlinear_L_X_corr` | {glue:text}`ch4_t3_nonlinear_L_X_rstop` | {glue:text}`ch4_t3_nonlinear_L_X_rinf` |
# | $\sin 3x_1 + 2x_2x_3$ | {glue:text}`ch4_thm3_deep_s` | {glue:text}`ch4_t3_nonlinear_deep_corr` | {glue:text}`ch4_t3_nonlinear_deep_rstop` | {glue:text}`ch4_t3_nonlinear_deep_rinf` |
#
# The paired difference of the range ratio at $t = \infty$ between $\lceil L_X\rceil$ and depth
# {glue:text}`ch4_thm3_deep_s` is {glue:text}`ch4_t3_linear_mid_minus_deep` for the linear target and
# {glue:text}`ch4_t3_nonlinear_mid_minus_deep` for the nonlinear one.
#
# **What it shows.** At depth {glue:text}`ch4_thm3_deep_s` the range intervals for both targets
# {glue:text}`ch4_t3_flat_phrase` those at the depth scale, and the correlation intervals
# {glue:text}`ch4_t3_corr_phrase` those at depth 2: the predictor loses most of its dependence on the input away
# from the training points. At $\lceil L_X\rceil$ it keeps most of it, for the nonlinear target as well as the linear
# one. Stopping at $t = 1/\lambda_n$ changes nothing at depth 2 ($\lambda_n$ is tiny, so $t$ is effectively
# infinite) and at large depth only shrinks the range further towards $f_0 = 0$: early stopping keeps the
# predictions bounded (Theorem 3 b), it does not give back the dependence on the input that depth removed
# from the kernel, which is why Theorem 3 ties the depth to the data. Verdict: confirmed on
# {glue:text}`ch4_thm3_seeds` draws and two targets, as a qualitative statement (the theorem's constants are not
# tested); what the data decide is how much variation survives at each depth.
#
# ## 4.10 Table 2: kernel regression with $\bar\Theta^{(30)}$
#
# SCF Table 2 reports kernel regression with $\bar\Theta^{(30)}$ on $n = 500$ MNIST points: "Average error
# (stdev) 6.435 (0.075), Accuracy 0.874, F1 score 0.870". The table's row label is "Average error", but the
# text of Appendix D says what it is: "We report the mean squared error, accuracy and F1 score on MNIST data in
# Table 2." What SCF do not say is the target encoding, the test points or the F1 average. Our protocol:
# {glue:text}`ch4_t2_draws` random training draws of {glue:text}`ch4_t2_ntrain` points from the training pool, test points
# from a disjoint split (the MNIST **test** split at paper scale; at book scale a fixed held-out third of the
# digits), $f_0 = 0$, kernel regression ({func}`ntk_lib.dynamics.kernel_regression`, $t = \infty$). Metrics, each
# mean (s.d.) over draws: *accuracy* = fraction of test points whose arg-max output is the label (one-hot
# targets); *macro-F1* = unweighted mean over the 10 classes of the per-class F1; *weighted F1* = the same
# weighted by class frequency. For the mean squared error we compute every reading we can think of:
# (E1) $\frac1m\sum\lVert f(x)-e_y\rVert^2$ with one-hot targets (squared error summed over the 10 outputs),
# (E2) the same averaged over the outputs, $E1/10$, (E3) $\frac1m\sum(f(x)-y)^2$ for a regression on the digit
# value $y \in \{0,\dots,9\}$, and (E7) $\frac1m\sum(\hat y-y)^2$ for the predicted class $\hat y$ read as a digit. Two
# more candidates are excluded before any computation: the misclassification rate in percent (E6) by the
# paper's own accuracy, $100\,(1-0.874) =$ {glue:text}`ch4_t2_e6_paper:.1f` $\ne 6.435$; the mean absolute and root mean
# squared errors (E4, E5) because they are not the mean squared error.

# %%
from sklearn.metrics import f1_score

PAPER_ERR, PAPER_ACC = 6.435, 0.874
glue("ch4_t2_e6_paper", 100 * (1 - PAPER_ACC))
n_tab = cfg["n_table"]
if cfg["image_data"] == "mnist":
    x_pool, y_pool = x_img, lab_img
    x_test, y_test, _ = image_data("test")
else:
    hold = torch.randperm(x_img.shape[0], generator=torch.Generator().manual_seed(SEED + 30))
    n_test = x_img.shape[0] // 3
    x_test, y_test = x_img[hold[:n_test]], lab_img[hold[:n_test]]
    x_pool, y_pool = x_img[hold[n_test:]], lab_img[hold[n_test:]]
x_test = x_test.to(torch.float64).to(dev)
glue("ch4_t2_test", x_test.shape[0])
glue("ch4_t2_draws", cfg["t2_draws"])
glue("ch4_t2_ntrain", n_tab)
metric_names = ["accuracy", "macro-F1", "weighted F1", "E1 one-hot sq. error", "E2 = E1 / 10", "E3 digit-value MSE",
                "E7 class-index MSE", "mean (y^ - y)^2 of errors"]
table = {L: [] for L in cfg["t2_depths"]}
for draw in range(cfg["t2_draws"]):
    tr = torch.randperm(x_pool.shape[0], generator=torch.Generator().manual_seed(SEED + 100 + draw))[:n_tab]
    Xtr = x_pool[tr].to(torch.float64).to(dev)
    ytr = y_pool[tr]
    targets = torch.cat([torch.nn.functional.one_hot(ytr, 10).to(torch.float64), ytr[:, None].to(torch.float64)], dim=1).to(dev)
    for L in cfg["t2_depths"]:
        k = relu_ntk(Xtr, depth=L, normalized=True)
        kx = relu_ntk(x_test, Xtr, depth=L, normalized=True)
        pred = kernel_regression(k, targets, k_test_train=kx).test[0].cpu()
        cls, val = pred[:, :10], pred[:, 10]
        guess = cls.argmax(1)
        sq = ((cls - torch.nn.functional.one_hot(y_test, 10)) ** 2).sum(1).mean()
        dv = val - y_test.to(torch.float64)
        wrong = guess != y_test
        gap2 = ((guess - y_test).to(torch.float64) ** 2)
        acc = float((~wrong).double().mean())
        table[L].append([
            acc,
            f1_score(y_test.numpy(), guess.numpy(), average="macro"),
            f1_score(y_test.numpy(), guess.numpy(), average="weighted"),
            float(sq), float(sq) / 10, float((dv**2).mean()), float(gap2.mean()),
            float(gap2[wrong].mean()) if bool(wrong.any()) else float("nan"),
        ])
stats = {L: (np.mean(v, axis=0), np.std(v, axis=0, ddof=1)) for L, v in table.items()}
m30, s30 = stats[30]
for j, key in enumerate(["acc", "f1", "f1w", "e1", "e2", "e3", "e7"]):
    glue(f"ch4_t2_{key}", float(m30[j]))
    glue(f"ch4_t2_{key}_sd", float(s30[j]))
print(f"{img_name}: {n_tab} training points per draw, {cfg['t2_draws']} draws, {x_test.shape[0]} test points")
print(f"{'depth':>5} " + " ".join(f"{m:>26.26s}" for m in metric_names))
for L, (m, sd) in stats.items():
    print(f"{L:5d} " + " ".join(f"{a:>18.3f} ({b:.3f})" for a, b in zip(m, sd)))
# the one-hot readings at every depth, and every reading at the depth whose accuracy is closest to the paper's
glue("ch4_t2_e1_max", max(float(m[3]) for m, _ in stats.values()))
L_match = min(stats, key=lambda L: abs(stats[L][0][0] - PAPER_ACC))
m_match = stats[L_match][0]
uniform_gap2 = sum((a - b) ** 2 for a in range(10) for b in range(10) if a != b) / 90  # confusions uniform over wrong digits
needed_gap2 = PAPER_ERR / (1 - PAPER_ACC)  # what E7 = 6.435 at accuracy 0.874 requires
glue("ch4_t2_match_L", L_match)
glue("ch4_t2_match_acc", float(m_match[0]))
for j, key in ((3, "e1"), (4, "e2"), (5, "e3"), (6, "e7"), (7, "gap2")):
    glue(f"ch4_t2_match_{key}", float(m_match[j]))
glue("ch4_t2_uniform_gap2", uniform_gap2)
glue("ch4_t2_needed_gap2", needed_gap2)
glue("ch4_t2_needed_gap", math.sqrt(needed_gap2))
onehot_small = max(float(m[3]) for m, _ in stats.values()) < PAPER_ERR / 5
e3_ratio = float(m_match[5]) / PAPER_ERR
glue("ch4_t2_onehot_phrase", "an order of magnitude below 6.435 at every depth" if onehot_small else "not far below 6.435 at every depth")
glue("ch4_t2_e3_phrase", "of the size of 6.435" if 0.5 < e3_ratio < 2 else "not of the size of 6.435 either")
glue("ch4_t2_e7_phrase", "far more than" if needed_gap2 > 2 * max(uniform_gap2, float(m_match[7])) else "comparable with")
print(f"depth with accuracy closest to the paper's {PAPER_ACC}: L = {L_match} (accuracy {m_match[0]:.3f})")
print(f"E7 = 6.435 at accuracy 0.874 needs a mean (y^ - y)^2 of {needed_gap2:.1f} over the errors; "
      f"uniform confusions give {uniform_gap2:.2f}, ours at L = {L_match} {m_match[7]:.2f}")
best_L = max(stats, key=lambda L: stats[L][0][0])
# every depth sees the same training draws: compare each with the best by the paired difference over draws
acc_by_depth = {L: np.array(v)[:, 0] for L, v in table.items()}
vs_best = {L: paired_interval(acc_by_depth[L], acc_by_depth[best_L]) for L in table if L != best_L}
tied = [L for L, iv in vs_best.items() if iv.high >= 0]  # interval contains 0: not separable from the best
worse = [L for L, iv in vs_best.items() if iv.high < 0]
print(f"accuracy of each depth minus depth {best_L} (the highest mean), paired over the {cfg['t2_draws']} draws, 95 % interval:")
for L, iv in vs_best.items():
    print(f"  L = {L:4d}: {iv}")


# the two highest means, in predictions: with the same training draws and test points the accuracies are counts
n_pred = cfg["t2_draws"] * x_test.shape[0]
runner_L = max((L for L in stats if L != best_L), key=lambda L: stats[L][0][0])
gap_preds = round((stats[best_L][0][0] - stats[runner_L][0][0]) * n_pred)
top = sorted([best_L, *tied])  # the best mean and every depth whose paired interval against it contains 0
print(f"highest means at depths {sorted([best_L, runner_L])}: {gap_preds} of {n_pred} test predictions apart; "
      f"not separable from the highest mean: depths {top}")
glue("ch4_t2_pair", depth_list(sorted([best_L, runner_L])))
glue("ch4_t2_gap_preds", gap_preds)
glue("ch4_t2_npred", n_pred)
glue("ch4_t2_pair_phrase", ("a tie" if gap_preds <= cfg["t2_draws"] else "not separable at this number of draws")
     + ", so no single depth is singled out as best" if runner_L in tied else "a difference that the paired interval resolves")
glue("ch4_t2_top", f"depths {depth_list(top)}" if len(top) > 1 else f"depth {top[0]} alone")
glue("ch4_t2_worse", f"depths {depth_list(worse)}" if len(worse) > 1 else (f"depth {worse[0]}" if worse else "no depth"))
glue("ch4_t2_acc_deepest", float(stats[max(stats)][0][0]))
glue("ch4_t2_deepest", max(stats))
glue("ch4_t2_deepest_diff", str(vs_best[max(stats)]) if max(stats) != best_L else "0")

# %% [markdown]
# With $\bar\Theta^{(30)}$ on {glue:text}`ch4_img_name` ({glue:text}`ch4_t2_test` test points) we get accuracy
# {glue:text}`ch4_t2_acc:.3f` (s.d. {glue:text}`ch4_t2_acc_sd:.3f`), macro-F1 {glue:text}`ch4_t2_f1:.3f`
# ({glue:text}`ch4_t2_f1_sd:.3f`), and for the mean squared error E1 {glue:text}`ch4_t2_e1:.3f`, E2
# {glue:text}`ch4_t2_e2:.4f`, E3 {glue:text}`ch4_t2_e3:.3f` ({glue:text}`ch4_t2_e3_sd:.3f`) and E7 {glue:text}`ch4_t2_e7:.3f`.
# At book scale the data are the 8×8 digits, an easier task than MNIST, so at $L = 30$ none of these is
# comparable with SCF's numbers; the "paper" scale runs the same protocol on MNIST (train pool, test split).
# What the digits can decide is which reading of "mean squared error" could give 6.435 *at the accuracy
# the paper reports*. The depth whose mean accuracy is closest to 0.874 is $L =$ {glue:text}`ch4_t2_match_L`
# (accuracy {glue:text}`ch4_t2_match_acc:.3f`). There the one-hot errors are E1 = {glue:text}`ch4_t2_match_e1:.3f` and
# E2 = {glue:text}`ch4_t2_match_e2:.4f` (E1 is at most {glue:text}`ch4_t2_e1_max:.3f` at any depth here:
# {glue:text}`ch4_t2_onehot_phrase`), while the digit-value MSE E3 = {glue:text}`ch4_t2_match_e3:.2f` is
# {glue:text}`ch4_t2_e3_phrase`. E7 cannot be large at that accuracy unless the misclassified digits are far from the
# true ones: 6.435 at accuracy 0.874 needs a mean $(\hat y - y)^2$ of {glue:text}`ch4_t2_needed_gap2:.1f` over the
# misclassified points (a typical distance of {glue:text}`ch4_t2_needed_gap:.1f` digits), {glue:text}`ch4_t2_e7_phrase`
# the {glue:text}`ch4_t2_uniform_gap2:.1f` of confusions spread uniformly over the wrong digits and the
# {glue:text}`ch4_t2_match_gap2:.1f` we measure (E7 = {glue:text}`ch4_t2_match_e7:.2f`). So of the readings consistent with
# "mean squared error" and with the reported accuracy, only a squared error on the 0–9 digit scale (E3) has
# the size of 6.435. The verdict on Table 2 stays "undetermined" — SCF give neither the targets nor the test
# points, and accuracy and F1 are testable only on MNIST (paper scale) — but narrowed: the error is an MSE,
# most plausibly of a regression on the digit value.
#
# The depth sweep shows the chapter's theme. Every depth is fitted on the same training draws, so we compare depths
# by the paired difference of accuracy over the {glue:text}`ch4_t2_draws` draws (95 % $t$-interval), each against the
# depth of highest mean accuracy. The two highest means, at depths {glue:text}`ch4_t2_pair`, differ by
# {glue:text}`ch4_t2_gap_preds` of the {glue:text}`ch4_t2_npred:,` test predictions: {glue:text}`ch4_t2_pair_phrase`.
# Not separable from the highest mean at this number of draws (paired interval containing 0):
# {glue:text}`ch4_t2_top`; the intervals lie below 0 for {glue:text}`ch4_t2_worse`. The deepest
# kernel, $L =$ {glue:text}`ch4_t2_deepest`, reaches accuracy {glue:text}`ch4_t2_acc_deepest:.3f`, a paired difference of
# {glue:text}`ch4_t2_deepest_diff` from the highest mean, as the kernel approaches $\frac14\mathbf 1\mathbf 1^\top + \frac34 I$.
#
# ## 4.11 Against the paper
#
# The verdict column is the chapter's reading of the evidence above, in the words of the legend of the claims
# audit. The cell below the table ties each of the {glue:text}`ch4_n_checked` verdicts that rest on a computation to
# the check it rests on ({glue:text}`ch4_verdict_backing`); the counts in the introduction include only verdicts so backed.
#
# | result | what we computed | verdict |
# |---|---|---|
# | Def. 5, Fig. 3: $h(z) \ge z$, $h$ increasing, iterates $\to 1$ | {numref}`fig-ch4-h` | confirmed |
# | Prop. 5 (recurrence) | equals the Jacot recursion to better than {glue:text}`ch4_prop5_tol:.0e` ({glue:text}`ch4_prop5_ok`) up to $L =$ {glue:text}`ch4_prop5_depth` | confirmed |
# | Prop. 5 (values in $[0,1]$) | $\bar\Theta^{(2)}$ reaches {glue:text}`ch4_min_tb2:.3f`; $\bar\Theta^{(1)} = x^\top x'$ | **false** at $L = 1, 2$; holds for $L \ge 3$ |
# | §6.3: $\bar\Theta^{(L)}$ increasing in $x^\top x'$ for any $L$ | fails at every $L$ from {glue:text}`ch4_mono_fail_depths` near $\rho^{(1)} = -1$ | **false** as stated; true on $x^\top x' \ge 0$ |
# | Lemma 1, $e_L = \mathcal O(1/L^2)$ | $h(1-e) = 1-e+\frac{2\sqrt2}{3\pi}e^{3/2}+O(e^{5/2})$; $e_L = \frac{9\pi^2}{2(L+\frac32\ln L+\nu)^2}$ | refined: constant and log correction made explicit |
# | proof of Cor. 1: increment $\sqrt2/\pi$ | {glue:text}`ch4_v_inc:.4f` $= \sqrt2/(3\pi)$ | **wrong constant**; corollary unaffected |
# | Thm 2: $\bar\Theta \to \frac14$ at $O(1/L)$ | $\bar\Theta - \frac14 = \frac38\frac{\ln L}{L} + \frac{\nu/4-1/8}{L} + o(\frac1L)$, checked to $L =$ {glue:text}`ch4_deep_max` | limit confirmed; **the rate is false** ($L(\bar\Theta-\frac14)$ unbounded) |
# | Fig. 2: "convergence of $\Theta^{(L)}_\infty(x,x')$ to $\frac14$" | {numref}`fig-ch4-thm2`: the normalized kernel for the paper's four correlations | our reading (text and caption name $\Theta^{(L)}_\infty$, which tends to 0; the curves that tend to $\frac14$ are $\bar\Theta$'s) |
# | Cor. 1: observing Thm 2's decay needs $L \gg 1/\sqrt{1-\rho^{(2)}}$ | {numref}`fig-ch4-cor1`: depth to come within $\varepsilon$ of $\frac14$ against the threshold, slopes {glue:text}`ch4_c1_slope_lo:.2f`–{glue:text}`ch4_c1_slope_hi:.2f` | our reading: the $O(1/L)$ regime it names does not exist (the decay reached is $\frac38\ln L/L$); read as a scaling ($L_\varepsilon \propto$ threshold) it holds |
# | Figs 4, 5 | {numref}`fig-ch4-fig4`, {numref}`fig-ch4-fig5`: rows $\bar\Theta,\rho,\eta$, Def. 7 ratios | not reproducible from the text (columns undefined); our reading shown; $\eta$ converges linearly, not logarithmically |
# | Prop. 8: $\eta^{(L)} \to \beta$, $\eta(x,x) \ge \eta(x,x')$ | $\beta =$ {glue:text}`ch4_beta:.7f`, contraction {glue:text}`ch4_eta_rate:.4f` | confirmed |
# | Prop. 8 and §6.4: $\eta^{(L)}$ positive definite on $S^{n_0-1}$ (§6.4: for every $L \ge \hat L$) | $\lambda_{\min}(\eta^{(2)}) =$ {glue:text}`ch4_eta_lmin_s1:.4f` on $S^1$, {glue:text}`ch4_eta_lmin_s2:.3f` on $S^2$; Taylor signs {glue:text}`ch4_taylor_signs`; on {glue:text}`ch4_n_circle` equally spaced points of $S^1$ the $m = 3$ eigenvalue, computed to full float64 precision, is negative at every $L \le$ {glue:text}`ch4_circ_lmax` ({glue:text}`ch4_circ_lam_deep:.1e` at the deepest), $\lambda_3/\lambda_1$ settled at {glue:text}`ch4_circ_ratio:.4f` | **false**, at every depth: no $\hat L$ exists |
# | Prop. 6: closed-form $f_t$, eigenvalues $(e^{-t\lambda}-1)/\lambda$ | vs ODE to {glue:text}`ch4_p6_ode_tol:.0e`, vs expm and eigenvalues to {glue:text}`ch4_p6_tol:.0e` ({glue:text}`ch4_p6_ok`) | confirmed |
# | Fig. 6: projection norm against depth | {numref}`fig-ch4-proj`: norm against $L$ at $t = \lceil 1/\lambda_n\rceil$; at most {glue:text}`ch4_f6_to_bound:.3f` of the bound $\lVert\bar\Theta(x,X)\rVert(1-e^{-t\lambda_n})/\lambda_n \le \sqrt n\,t$ that holds by construction | not reproducible from the text; our version shown; the small norms are an empirical finding, not implied by Thm 3 b)'s $O(n)$ |
# | Figs 7, 8: $\lambda_{\min}$ against depth, depth scale against $n$ | {numref}`fig-ch4-spectrum`: normalized kernel (the text's reading; the caption names $\Theta_\infty$), {glue:text}`ch4_f7_seeds` samples per $n$ with intervals | our reading (kernel and sizes not fixed by the paper); the text's description holds on every sample at the depths tested |
# | Thm 3: $\frac14\mathbf 1 - \bar\Theta^{(L)}(Xx) \in \mathcal O(\frac1L)$ component-wise | §4.9: $L\max_i\lvert\bar\Theta^{(L)}(x,x_i)-\frac14\rvert =$ {glue:text}`ch4_t3r_comp_deep:.2f` at $L =$ {glue:text}`ch4_t3r_depth`, rising {glue:text}`ch4_t3r_comp_step:.3f` per decade ($\frac38\ln 10 =$ {glue:text}`ch4_t3r_kappa_step:.3f`) | **false** (Theorem 2's rate) |
# | Thm 3 a): $\lVert P^{(L)}_S v - P_S v\rVert_2 \in O(\frac1L)$ | §4.9: $L\lVert P^{(L)}_{\{1\}} - \mathbf 1\mathbf 1^\top/n\rVert_F =$ {glue:text}`ch4_t3r_proj_deep:.4f` at $L =$ {glue:text}`ch4_t3r_depth`, first-order limit {glue:text}`ch4_t3r_proj_limit:.4f` | confirmed: the $\frac38\ln L/L$ term is common to all pairs, a multiple of $\mathbf 1\mathbf 1^\top - I$, and moves no eigenprojection (the proof's $\pi n/L$ norm bound does not account for it) |
# | Thm 3: depth + early stopping keep $f_t$ stable and expressive | {numref}`fig-ch4-thm3`, {numref}`fig-ch4-proj`; {glue:text}`ch4_thm3_seeds` draws, two targets, intervals | confirmed qualitatively: expressive at $\lceil L_X\rceil$, flat at large depth; early stopping bounds $f_t$ but does not restore input dependence; the $O(n)$ bounds carry no constants |
# | Prop. 7 | bound {glue:text}`ch4_ex2_bound7:.4f` valid for *angles* $\le\delta$; for $x^\top x' \ge 1-\delta$ the expected count is {glue:text}`ch4_ex2_union_inner:.0e` | **false** as stated; true for the angle event |
# | Example 2: $\delta\approx0.72$, $\le 0.04$ | {glue:text}`ch4_ex2_delta:.4f`, {glue:text}`ch4_ex2_bound7:.4f` | reproduced (as arithmetic) |
# | Example 2: Cai et al. bound $1-e^{-K}\approx 0.02$ for $x^\top x'$ | a limit law for the minimum angle; exact value at $n=2^{30}$: {glue:text}`ch4_ex2_cai_count:.1e` | **misread** |
# | Example 2: $1/\sqrt{1-\rho^{(2)}} \lessapprox 1.37 \approx 1/\sqrt\delta$ | {glue:text}`ch4_ex2_inv_inner:.4f` vs {glue:text}`ch4_ex2_inv_sqrt_delta:.4f`; consistent repairs {glue:text}`ch4_ex2_inv_angle:.3f`, {glue:text}`ch4_ex2_inv_b:.3f` | **false** (mixes the two events) |
# | Table 2 (MNIST, $L = 30$: 0.874 / 0.870 / 6.435; App. D: "the mean squared error") | {glue:text}`ch4_img_name`: {glue:text}`ch4_t2_acc:.3f` / {glue:text}`ch4_t2_f1:.3f` at $L = 30$; at the depth with the paper's accuracy one-hot MSE {glue:text}`ch4_t2_match_e1:.2f`, digit-value MSE {glue:text}`ch4_t2_match_e3:.2f`; E6 excluded by the accuracy ({glue:text}`ch4_t2_e6_paper:.1f`) | undetermined, narrowed: an MSE on the 0–9 digit scale (targets and test points not given); MNIST at paper scale |

# %%
# The table's rows: (kind of statement, verdict as the table words it, the computed check it rests on). The verdict
# words are the chapter's reading of the evidence above; where a verdict rests on a computation, the check repeats
# that computation's conclusion here, and a verdict whose check fails at this scale is marked and left out of the
# counts. None: the verdict rests on what the paper does not define (figures, Table 2), not on a number.
z_chk = torch.linspace(-1, 1, 2001, dtype=torch.float64)
h_iter, def5_ok = z_chk, bool((torch.diff(h(z_chk)) > 0).all())
for _ in range(50):
    nxt = h(h_iter)
    def5_ok &= bool((nxt >= h_iter - 1e-15).all())
    h_iter = nxt
def5_ok &= bool(h_iter.min() > 0.95)  # h^50 has pulled every correlation close to 1
incr_rel = (inc / (math.sqrt(2) / (3 * math.pi)) - 1).numpy()  # the increment of e_L^(-1/2): sqrt 2 / (3 pi) (1 + O(1/L))
lemma1_ok = bool(((incr_rel > 0) & (incr_rel < 2 / L_max)).all())
c1_slopes = np.array([r[1] for r in c1_rows])
checks = {
    "Def. 5, Fig. 3": ("definition", "confirmed", def5_ok),
    "Prop. 5 recurrence": ("numbered", "confirmed", worst < PROP5_TOL),
    "the range of Prop. 5": ("numbered", "false", float(tb_grid[1].min()) < 0 <= float(tb_grid[2].min())),
    "the monotonicity claim of §6.3": ("unnumbered", "false", len(non_mono) > 0),
    "Lemma 1": ("numbered", "refined", lemma1_ok),
    "a constant in the proof of Cor. 1": ("proof", "wrong constant", lemma1_ok),
    "the rate of Thm 2": ("numbered", "false", max(abs(v - THETA_BAR_LOG_COEFFICIENT) for v in slopes) < 0.01 and abs(d_f64 / d_mp - 1) < MP_TOL),
    "Cor. 1": ("numbered", "our reading", bool(np.isfinite(c1_slopes).all() and (np.abs(c1_slopes - 1) < 0.1).all())),
    "Figs 4, 5": ("figure", "not reproducible", None),
    "Prop. 8 convergence": ("numbered", "confirmed", all(diag_doms) and eta_bound30 < 1e-10),
    "the positive definiteness in Prop. 8": ("numbered", "false", neg_all and ratio_settled and argmins == {3}),
    "Prop. 6": ("numbered", "confirmed", ode_err < P6_ODE_TOL and expm_err < P6_TOL and eig_err < P6_TOL),
    "Fig. 2": ("figure", "our reading", 30 / (N0 * 2**29) * float(tb_L[29].max()) < 1e-6),  # the kernel it names tends to 0
    "Fig. 6": ("figure", "not reproducible", None),
    "Figs 7, 8": ("figure", "our reading", incr),
    "the component-wise rate of Thm 3": ("numbered", "false", abs(rows_t3[-1][1] - rows_t3[-2][1] - THETA_BAR_LOG_COEFFICIENT * math.log(10)) < 0.05),
    "the eigenprojection rate of Thm 3 a)": ("numbered", "confirmed", abs(rows_t3[-1][3] / proj_limit - 1) < 0.01),
    "Thm 3 stability and expressivity": ("numbered", "confirmed", thm3_deep_flat and thm3_corr_drop),
    "Prop. 7": ("numbered", "false", ex2["union_inner"] > 1 and ex2["union_angle"] <= ex2["bound7"]),
    "Example 2 arithmetic": ("numbered", "reproduced", abs(ex2["delta"] - 0.72) < 0.01 and ex2["bound7"] <= 0.04
                             and abs(ex2["one_minus_exp_K"] - 0.02) < 0.005 and abs(ex2["inv_inner"] - 1.37) < 0.01),
    "the citation of Cai et al. in Example 2": ("citation", "misread", ex2["cai_count"] < ex2["cai_limit"] / 100),
    "the depth 1.37 of Example 2": ("numbered", "false", abs(ex2["inv_sqrt_delta"] - 1.37) > 0.1
                                    and min(ex2["inv_angle"], ex2["inv_b"]) > 1.2 * 1.37),
    "Table 2": ("table", "undetermined", None),
}
unbacked = [k for k, (_, _, ok) in checks.items() if ok is False]
verdicts = {k: (kind, v if ok is not False else f"{v}, not backed by its check at this scale") for k, (kind, v, ok) in checks.items()}
false_numbered = [k for k, (kind, v) in verdicts.items() if kind == "numbered" and v == "false"]
others = [f"{k} ({v}{', not a numbered result' if kind == 'unnumbered' else ''})" for k, (kind, v) in verdicts.items()
          if v in ("false", "wrong constant", "misread") and k not in false_numbered]
n_checked = sum(ok is not None for _, _, ok in checks.values())
glue("ch4_n_false", len(false_numbered))
glue("ch4_false_names", ", ".join(false_numbered))
glue("ch4_other_faults", "; ".join(others))
glue("ch4_verdict_backing",
     "at this scale every one of them is backed by its check" if not unbacked else
     f"at this scale the checks do not back the verdicts on {', '.join(unbacked)}; the table's words are those of the book-scale run")
glue("ch4_n_checked", n_checked)
print(f"{len(false_numbered)} numbered results false as stated:", ", ".join(false_numbered))
print("other faults:", "; ".join(others))
print("not reproducible from the text or undetermined:", ", ".join(k for k, (_, v) in verdicts.items() if v in ("not reproducible", "undetermined")))
print(f"verdicts resting on a computation: {n_checked}; not backed by their check at this scale: {unbacked if unbacked else 'none'}")

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: ex-ch4-quarter
# Show that if every off-diagonal entry of $\bar\Theta$ equals $c$ and the diagonal is 1, the
# eigenvalues are $1 + (n-1)c$ (eigenvector $\mathbf 1$) and $1-c$ ($n-1$ times). What does kernel
# regression with $c = \frac14$ predict at a point $x$ with $\bar\Theta(x, x_i) = \frac14$ for all $i$?
# ```
#
# ````{solution} ex-ch4-quarter
# :class: dropdown
# $\bar\Theta = (1-c)I + c\mathbf 1\mathbf 1^\top$; $\mathbf 1$ is an eigenvector with eigenvalue $1-c+cn$,
# and every vector orthogonal to $\mathbf 1$ has eigenvalue $1-c$. With $f_0 = 0$ the prediction is
# $\frac14\mathbf 1^\top\bar\Theta^{-1}y = \frac14\frac{\mathbf 1^\top y}{1 + (n-1)/4} = \frac{\bar y\,n}{n+3}$:
# the same value, close to the mean label, for every such $x$.
#
# ```python
# n, c = 6, 0.25
# K = (1 - c) * torch.eye(n, dtype=torch.float64) + c
# print(torch.linalg.eigvalsh(K))  # 0.75 (5 times) and 1 + 5/4
# ```
# ````
#
# ```{exercise}
# :label: ex-ch4-rate
# Using {func}`ntk_lib.correlations.theta_bar_deviation`, estimate the slope of $L(\bar\Theta^{(L)} - \frac14)$
# against $\ln L$ for $\rho^{(1)} = 0.3$ between $L = 10^4$ and $10^5$, and compare with $\kappa = \frac38$.
# Why is the slope the same for every input correlation?
# ```
#
# ````{solution} ex-ch4-rate
# :class: dropdown
# ```python
# _, (d4, d5) = theta_bar_deviation(0.3, [10_000, 100_000])
# print((d5 - d4) / math.log(10))  # 0.37571; between 10^5 and 10^6 it is 0.37507, approaching 3/8 = 0.375
# ```
# The slope comes from the forcing term $\frac{3 - Lq_L}{4} = \frac98\frac{\ln L}{L} + \dots$ of §4.3, whose
# $\ln L$ part is fixed by the universal expansion of $h$ at 1; the input only enters the $1/L$ term
# through $\nu$.
# ````
