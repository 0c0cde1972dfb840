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
# # 3. The width axis: what moves, and at which scale
#
# In the NTK parameterization the input and readout weights move by $O(n^{-1/2})$ during
# training, the hidden-to-hidden weights by $O(1/n)$ each ({doc}`Chapter 1 §1.1 <01_ntk_ode>`), and
# every hidden neuron by $O(n^{-1/2})$: the *lazy regime*. Chizat et al. and Yang & Hu {cite}`yang2021tensor`
# conclude that such networks learn no features, unlike the maximal-update parameterization
# ($\mu$P). St-Arnaud, Carvalho and Farnadi {cite}`starnaud2025revisiting` (§5, "SCF" below)
# object that $n$ small per-neuron changes add up to a layer that moves, and that the feature inner
# products $\langle h_t(x), h_t(x')\rangle$ change (their Proposition 4).
#
# Whether something "moves" depends on what it is compared with. This chapter measures every
# quantity on three scales and says which one a claim is about:
#
# | scale | quantity | lazy (NTK) prediction | $\mu$P |
# |---|---|---|---|
# | one neuron | $\max_i \lvert h_{t,i}(x) - h_{0,i}(x)\rvert$ | $\to 0$, like $n^{-1/2}$ (times $\sqrt{\log n}$) | $O(1)$ (times $\sqrt{\log n}$) |
# | the layer, absolute | $\lVert h_t(x) - h_0(x)\rVert_2$ | $O(1)$: a constant | grows like $\sqrt n$ |
# | the layer, relative | $\lVert h_t(x) - h_0(x)\rVert_2 / \lVert h_0(x)\rVert_2$ | $\to 0$, like $n^{-1/2}$ ($\lVert h_0\rVert \approx \sqrt n$) | $O(1)$ |
# | the features' Gram matrix | $\lVert G_t - G_0\rVert_F / \lVert G_0\rVert_F$ | $\to 0$, like $n^{-1}$ ($\lVert G_0\rVert_F \propto n$) | $O(1)$ |
#
# An absolute layer drift of order one is therefore *what the lazy regime predicts*, not evidence
# against it; the scale-free statements (per neuron, relative to the layer, relative to the Gram
# matrix) are the ones that separate the lazy regime from feature learning. These are the
# $n\to\infty$ rates; at the widths a CPU reaches they are not all attained yet, so every run is
# also compared with its own linearized network, the lazy prediction at its width.
#
# 1. §3.2 builds SCF's Example 1 and does its arithmetic;
# 2. §3.3 trains to a stated end and overlays the lazy prediction from $\Theta_\infty$ and from
#    the linearized network;
# 3. §3.4 tunes $\mu$P's step size and transfers it across widths;
# 4. §3.5 measures every scale against width in three parameterizations, with fitted exponents;
# 5. §3.6 compares with SCF's Table 1 and tests an explanation of its growing drifts;
# 6. §3.7 checks Proposition 4.

# %% tags=["parameters"]
SCALE = "book"  # "smoke": seconds (CI) | "book": what this page shows, CPU | "paper": Colab GPU
SEED = 0
DEVICE = "auto"  # "auto" picks CUDA, then MPS, then CPU

# %% tags=["hide-input"]
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from ntk_lib.analytic import relu_kernel_layers
from ntk_lib.data import context_distributions, load_text8, synthetic_corpus
from ntk_lib.features import drift_stats, gram
from ntk_lib.fit import loglog_slope, mean_interval, paired_interval, slope_interval
from ntk_lib.lazy import cumulative_residual, last_hidden, linearized_change, ntk_layer_split
from ntk_lib.models import MLP
from ntk_lib.notebook import glue, setup
from ntk_lib.plotting import COLORS
from ntk_lib.training import progress_bar, train_gd

run = setup(SCALE, SEED, DEVICE)
dev = run.device
cfg = run.pick(
    {
        "smoke": dict(vocab=30, tokens=30_000, widths=[64, 128, 256], seeds=2, lr_grid=[-4, -2, 0], tune_widths=[64, 128], t_tune=20, max_steps=800, toy_widths=[16, 32, 64], text8=False),
        "book": dict(vocab=100, tokens=300_000, widths=[128, 256, 512, 1024, 2048], seeds=3, lr_grid=[-7, -6, -5, -4, -3, -2, -1, 0], tune_widths=[128, 512], t_tune=40, max_steps=3000, toy_widths=[64, 128, 256, 512, 1024, 2048], text8=False),
        "paper": dict(vocab=1000, tokens=2_000_000, widths=[1000, 3000, 10_000, 30_000], seeds=3, lr_grid=[-7, -6, -5, -4, -3, -2, -1, 0], tune_widths=[1000, 3000], t_tune=60, max_steps=5000, toy_widths=[64, 256, 1024, 4096], text8=True),
    }
)
DEPTH = 3  # linear layers: two hidden ReLU layers of equal width, as in Table 1
LOSS_FRACTION = 0.01  # training ends when the loss is at most this fraction of its initial value
CHUNK = 5  # the stopping rule is checked every CHUNK steps, at every width
T_FIX = (5, 20)  # fixed-step-count protocol: drifts are also recorded after exactly these numbers of steps
PARAMS = ("ntk", "standard", "mup")
PNAME = {"ntk": "NTK", "standard": "standard", "mup": r"$\mu$P"}
PCOLOR = {"ntk": COLORS["net"], "standard": COLORS["extra"], "mup": COLORS["emp"]}
PMARK = {"ntk": "o", "standard": "^", "mup": "s"}
print(f"scale {run.scale}: vocabulary {cfg['vocab']}, widths {cfg['widths']}, {cfg['seeds']} seeds")

# %% [markdown]
# ## 3.1 The task, its kernel, and when training ends
#
# As in SCF's Table 1, the inputs are one-hot codes of the $V$ most frequent words of a corpus and
# the network is a ReLU MLP with two hidden layers of equal width $n$ ($L = 3$ linear layers). SCF
# give no loss, target, step size, number of steps or vocabulary size; ours are: word2vec's
# skip-gram statistics as targets (from the code of word $i$, predict the distribution
# $p(\cdot\mid i)$ of the words within two positions of it, standardized to entries of order one),
# the summed squared loss $\tfrac12\sum_{x,k}(f_k(x) - y_k(x))^2$, full-batch gradient descent. The
# codes are scaled to $\sqrt V e_i$ so that $\lVert x\rVert^2 = n_0$. This is not Yang & Hu's word2vec
# protocol, which trains CBOW with negative sampling (Mikolov et al.'s code, a network with one
# linear hidden layer) on text8 and scores the embeddings on the word-analogy test; SCF's network
# has two ReLU layers and no stated objective.
#
# **Corpus.** At "paper" scale the chapter reads text8 with {func}`ntk_lib.data.load_text8`. At
# "book" and "smoke" scale it uses {func}`ntk_lib.data.synthetic_corpus`, a generated corpus with
# Zipf word frequencies and topics, so that words of a topic share contexts.
#
# **Kernel and step size.** For one-hot inputs every pair of distinct words has the same
# $\Theta_\infty(x, x')$, so $\Theta_\infty = a I + b\,\mathbf 1\mathbf 1^\top$: one large eigenvalue
# $a + bV$ (the mean over words, fitted first) and $V - 1$ equal ones $a$ (everything word-specific).
# The step is $\eta = 1/\lambda_{\max}$ of $\Theta_\infty$ on the training inputs, half the stability
# limit of the linearized model. Training ends, at every width, at the first multiple of
# {glue:text}`ch3_chunk` steps where the loss is at most {glue:text}`ch3_frac` of its initial value.

# %%
if cfg["text8"]:
    try:
        tokens = load_text8(download=True, max_tokens=cfg["tokens"])
        corpus_name = "text8"
    except RuntimeError as err:
        print(err)
        tokens = synthetic_corpus(cfg["tokens"], vocab_size=5 * cfg["vocab"], seed=SEED)
        corpus_name = "synthetic"
else:
    tokens = synthetic_corpus(cfg["tokens"], vocab_size=5 * cfg["vocab"], seed=SEED)
    corpus_name = "synthetic"
vocab, p_ctx = context_distributions(tokens, cfg["vocab"], window=2)
V = cfg["vocab"]
X = (torch.eye(V) * V**0.5).to(dev)
Y = ((p_ctx - p_ctx.mean()) / p_ctx.std()).float().to(dev)
X64 = torch.eye(V, dtype=torch.float64) * V**0.5
kl = relu_kernel_layers(X64, depth=DEPTH)
split = ntk_layer_split(X64, depth=DEPTH)  # [layer, V, V], sums to Theta_infinity
theta = split.sum(0)
lam = torch.linalg.eigvalsh(theta)
LR = 1.0 / float(lam[-1])
ones = torch.ones(V, dtype=torch.float64) / V**0.5
y64 = Y.double().cpu()
mean_share = float(((ones @ y64) ** 2).sum() / (y64**2).sum())
lazy_steps = np.arange(0, cfg["max_steps"] + 1, CHUNK)
a_pred = cumulative_residual(LR * theta, -y64, steps=lazy_steps, lr=1.0)
loss_pred = np.array([float(((-y64 - theta @ (LR * a)) ** 2).sum()) for a in a_pred]) / float((y64**2).sum())
steps_pred = int(lazy_steps[np.argmax(loss_pred <= LOSS_FRACTION)])
glue("ch3_corpus", corpus_name)
glue("ch3_vocab", V)
glue("ch3_tokens", len(tokens))
glue("ch3_frac", LOSS_FRACTION)
glue("ch3_chunk", CHUNK)
glue("ch3_tfix0", T_FIX[0])
glue("ch3_tfix1", T_FIX[1])
glue("ch3_lam_max", float(lam[-1]))
glue("ch3_lam_rest", float(lam[-2]))
glue("ch3_lam_ratio", float(lam[-1] / lam[-2]))
glue("ch3_mean_share", mean_share)
glue("ch3_steps_pred", steps_pred)
print(f"corpus: {corpus_name}, {len(tokens):,} tokens, vocabulary {V}")
print(f"Theta_inf eigenvalues: top {float(lam[-1]):.3f}, the other {V - 1} equal to {float(lam[-2]):.4f} (spread {float(lam[-2] - lam[0]):.1e})")
print(f"step size 1/lambda_max = {LR:.4f}; share of |y|^2 in the mean-over-words mode: {mean_share:.3f}")
print(f"lazy prediction (f_0 = 0): loss <= {LOSS_FRACTION} x initial after {steps_pred} steps")

# %% [markdown]
# The top eigenvalue is {glue:text}`ch3_lam_max:.2f`, the other $V-1$ are all
# {glue:text}`ch3_lam_rest:.3f`: the word-specific part of the targets is learned
# {glue:text}`ch3_lam_ratio:.0f` times more slowly than the mean over words, which carries a fraction
# {glue:text}`ch3_mean_share:.2f` of $\lVert y\rVert^2$. A criterion met after the mean is fitted
# would stop with the word-specific residual barely touched; at {glue:text}`ch3_frac` of the initial
# loss, the lazy prediction needs {glue:text}`ch3_steps_pred` steps, by which time the word-specific
# residual is almost gone too.
#
# ## 3.2 Example 1, built
#
# SCF's Example 1 is a network with identity activations, $n_0 = 3$ inputs equal to 1, two hidden
# layers of width $n$, $n_3 = 2$ outputs, forward factors $1/\sqrt{n_{l-1}}$, and weights chosen so
# that every hidden neuron starts at $n^{-1-\alpha}$ ($0 \le \alpha \ll 1$): $W^{(1)}_{ij} =
# 1/(\sqrt{n_0}\,n^{1+\alpha})$, $W^{(2)}_{ij} = 1/\sqrt n$. SCF do not give the output weights; we
# take $W^{(3)}_{ij} = 1$, an $O(1)$ weight as in the NTK parameterization. The text states that
# "the norm of each hidden layer is equal to $n^{-\alpha}$" and that the $n_0n_1n_2n_3$ paths give
# "a gradient contribution to an output neuron of the order $n^{-2\alpha}$". The arithmetic is off:
# $n_1 n_2$ paths, each through neurons of size $n^{-1-\alpha}$, sum to
# $n^2\cdot n^{-1-\alpha} = n^{1-\alpha}$, not $n^{-2\alpha}$; and $n^{-\alpha}$ is the $\ell_1$ norm
# of a layer ($n \cdot n^{-1-\alpha}$), while its Euclidean norm is $n^{-1/2-\alpha}$. Below, the network
# is built, differentiated with autograd, and given one gradient-descent step (step 1, targets 1),
# at widths {glue:text}`ch3_toy_wmin` to {glue:text}`ch3_toy_wmax`.


# %%
def example1(n, alpha):
    """SCF's Example 1 network: identity activations, n0 = 3, n1 = n2 = n, n3 = 2, all inputs 1."""
    w = [
        torch.full((n, 3), 1 / (math.sqrt(3) * n ** (1 + alpha)), dtype=torch.float64, requires_grad=True),
        torch.full((n, n), 1 / math.sqrt(n), dtype=torch.float64, requires_grad=True),
        torch.ones(2, n, dtype=torch.float64, requires_grad=True),
    ]
    x = torch.ones(3, dtype=torch.float64)

    def forward(ws):
        h1 = ws[0] @ x / math.sqrt(3)
        h2 = ws[1] @ h1 / math.sqrt(n)
        return h1, h2, ws[2] @ h2 / math.sqrt(n)

    h1, h2, f = forward(w)
    grads = [torch.autograd.grad(f[0], w, retain_graph=True)]
    loss = 0.5 * ((f - 1.0) ** 2).sum()
    step = torch.autograd.grad(loss, w)
    h2, f = h2.detach(), f.detach()
    with torch.no_grad():
        h1n, h2n, fn = forward([p - g for p, g in zip(w, step)])
    dh2 = h2n - h2
    return {
        "neuron": float(h2[0]),
        "l1 norm": float(h2.abs().sum()),
        "l2 norm": float(h2.norm()),
        "output f": float(f[0]),
        "Theta, layer 1": float((grads[0][0] ** 2).sum()),
        "Theta, layer 2": float((grads[0][1] ** 2).sum()),
        "Theta, layer 3": float((grads[0][2] ** 2).sum()),
        "one step: max_i |dh_i|": float(dh2.abs().max()),
        "one step: |dh|_2": float(dh2.norm()),
        "one step: |df|": float((fn - f).abs().max()),
    }


toy_widths = cfg["toy_widths"]
toy = {alpha: [example1(n, alpha) for n in toy_widths] for alpha in (0.0, 0.25)}
toy_slope = {alpha: {k: loglog_slope(toy_widths, [r[k] for r in rows])[0] for k in rows[0]} for alpha, rows in toy.items()}
print(f"exponent of n (widths {toy_widths[0]}..{toy_widths[-1]}), and the value at the largest width")
print(f"{'quantity':>24} | {'alpha = 0':>20} | {'alpha = 0.25':>20}")
for k in toy[0.0][0]:
    print(f"{k:>24} | {toy_slope[0.0][k]:>7.2f} ({toy[0.0][-1][k]:9.3g}) | {toy_slope[0.25][k]:>7.2f} ({toy[0.25][-1][k]:9.3g})")
glue("ch3_toy_wmin", toy_widths[0])
glue("ch3_toy_wmax", toy_widths[-1])
for alpha, tag in ((0.0, "a0"), (0.25, "a25")):
    for k, name in (("l1 norm", "l1"), ("l2 norm", "l2"), ("Theta, layer 1", "th1"), ("Theta, layer 2", "th2"), ("one step: max_i |dh_i|", "dneuron"), ("one step: |dh|_2", "dlayer"), ("one step: |df|", "df"), ("output f", "f")):
        glue(f"ch3_toy_{tag}_{name}", toy_slope[alpha][k])
glue("ch3_toy_df_wmax", toy[0.25][-1]["one step: |df|"])

# %% [markdown]
# Everything here is deterministic: there is no noise to fit and no interval to give, but the
# exponents are still least-squares slopes over widths {glue:text}`ch3_toy_wmin` to
# {glue:text}`ch3_toy_wmax`. They are exact for the pure power laws (the norms, the parts of the
# NTK); the one-step neuron change has a lower-order correction
# ($\Delta h_{2,k} \approx 2n^{-1/2}(1 - f)$ at $\alpha = 0$, with $f = n^{-1/2}$ itself
# width-dependent), so its
# slopes below are finite-width values of an asymptotic $-\tfrac12$. The
# $\ell_1$ norm of a hidden layer scales like $n^{-\alpha}$ (exponent
# {glue:text}`ch3_toy_a25_l1:.2f` at $\alpha = 0.25$), the Euclidean norm like $n^{-1/2-\alpha}$
# ({glue:text}`ch3_toy_a25_l2:.2f`), so SCF's "norm $n^{-\alpha}$" is the $\ell_1$ norm. The output's
# sensitivity tells the rest of the story, and not at the rate SCF give: the first layer's part of
# the NTK, $\lVert\nabla_{W^{(1)}} f\rVert^2$, is of order one at every $\alpha$ (exponent
# {glue:text}`ch3_toy_a25_th1:.2f`), while the second and third layers' parts vanish (exponent
# {glue:text}`ch3_toy_a25_th2:.2f`). So after one step every hidden neuron moves by
# $O(n^{-1/2})$ (exponent {glue:text}`ch3_toy_a25_dneuron:.2f`), the hidden layer by $O(1)$ in
# Euclidean norm ({glue:text}`ch3_toy_a25_dlayer:.2f`), and the output by $O(1)$
# ({glue:text}`ch3_toy_a25_df:.2f`; {glue:text}`ch3_toy_df_wmax:.3f` at the largest width), for
# $\alpha = 0$ and $\alpha > 0$ alike. Example 1's point — vanishing per-neuron changes, an output
# change that does not vanish — holds, with exponent $0$ rather than $-2\alpha$; and the mechanism is
# the lazy regime's own: $n$ changes of size $n^{-1/2}$ aligned by the gradient.
#
# ## 3.3 Training to the end, against the lazy prediction
#
# For every width, parameterization and seed the network is trained until the loss reaches
# {glue:text}`ch3_frac` of its initial value. Before training we record $h_0$ (the last hidden
# layer after the ReLU), $z_0$ (before it) and $f_0$; at the end the same. The lazy prediction
# comes from {mod}`ntk_lib.lazy`: with the constant kernel $\Theta_\infty$ the residual after $k$
# steps is $r_k = (I - \eta\Theta_\infty)^k r_0$, and the output has moved by $-\Theta_\infty A_k$,
# where $A_k = \eta\sum_{j<k} r_j$. Splitting $\Theta_\infty = \sum_l \Theta_l$ by layer
# ({func}`ntk_lib.lazy.ntk_layer_split`, $\Theta_l = \Sigma^{(l)}\prod_{m>l}\dot\Sigma^{(m)}$) splits
# that change into the readout's part $-\Theta_3 A_k$ and the part that flows through the hidden
# layers, $-(\Theta_1 + \Theta_2) A_k$. The network's output change splits the same way (Example 1's
# decomposition, $f = n^{-1/2} W h$):
#
# $$
# f_t - f_0 = \underbrace{n^{-1/2} W_0 (h_t - h_0)}_{\text{features move}}
#  + \underbrace{n^{-1/2}(W_t - W_0) h_0}_{\text{readout moves}}
#  + \underbrace{n^{-1/2}(W_t - W_0)(h_t - h_0)}_{\text{both}},
# $$
#
# whose first two terms tend to the two lazy parts and whose third vanishes as $n \to \infty$.
#
# The lazy dynamics also say where the hidden layer goes. The linearized network moves its
# parameters by $\delta\theta = -J_f(X)^\top A_k$, and with them the last hidden layer by
# $\delta h(x) = -J_h(x)J_f(X)^\top A_k$: one vector-Jacobian and one Jacobian-vector product
# ({func}`ntk_lib.lazy.linearized_change`), computed for each run at its own width and
# initialization. This is the chapter's "lazy prediction" for every scale below. It is not a
# function of $\Theta_\infty$ alone: the $O(n^{-1/2})$ off-diagonal entries of $J_hJ_h^\top$,
# summed over $n$ neurons, contribute to $\lVert\delta h\rVert$ at the same order as its diagonal.

# %%
fan_in = {"ntk": lambda n: [1.0, 1.0, 1.0], "mup": lambda n: [1.0, 1.0, 1.0], "standard": lambda n: [float(V), float(n), float(n)]}


def kernel_parts(param, n):
    """eta * Theta_l for each layer l: the lazy kernel of the step actually taken (per parameterization)."""
    m = torch.tensor(fan_in[param](n), dtype=torch.float64)[:, None, None]
    return lr_of[param] * m * split


lam_sp = float(torch.linalg.eigvalsh((torch.tensor([float(V), float(max(cfg["widths"])), float(max(cfg["widths"]))], dtype=torch.float64)[:, None, None] * split).sum(0))[-1])
lr_of = {"ntk": LR, "standard": 1.0 / lam_sp}  # muP: tuned in 3.4


def train_to_end(param, width, seed, lr, *, targets=Y, max_steps=None, keep_gram=False):
    """Train one network until loss <= LOSS_FRACTION * initial loss (checked every CHUNK steps)."""
    net = MLP(V, width, DEPTH, out_features=V, parameterization=param, seed=seed).to(dev)
    max_steps = max_steps or cfg["max_steps"]
    readout0 = net.layers[-1].weight.detach().clone()
    with torch.no_grad():
        z0, h0 = last_hidden(net, X)
        f0 = net(X)
    losses, k, fixed, gram_path = [], 0, {}, []
    g0 = gram(h0.cpu())
    while True:
        hist = train_gd(net, X, targets, lr=lr * net.lr_multiplier, steps=CHUNK, record=[], progress=False)
        losses.extend(hist.loss[1:].tolist() if losses else hist.loss.tolist())  # a chunk repeats the last loss
        k += CHUNK
        if hist.diverged or not math.isfinite(losses[-1]):
            return dict(diverged=True, steps=k, loss=np.array(losses))
        if keep_gram:
            with torch.no_grad():
                zk, hk = last_hidden(net, X)
            dh = (hk - h0).double().cpu()
            lin = h0.double().cpu() @ dh.T
            gram_path.append((k, float((gram(hk.cpu()) - g0).norm() / g0.norm()), float((lin + lin.T).norm() / g0.norm()), float((dh @ dh.T).norm() / g0.norm())))
        if k in T_FIX:
            with torch.no_grad():
                fixed[k] = drift_stats(h0.cpu(), last_hidden(net, X)[1].cpu())
        if losses[-1] <= LOSS_FRACTION * losses[0] or k >= max_steps:
            break
    with torch.no_grad():
        zt, ht = last_hidden(net, X)
        ft = net(X)
        mult = net.layers[-1].mult_w
        dw = net.layers[-1].weight - readout0
        parts = [mult * (ht - h0) @ readout0.T, mult * h0 @ dw.T, mult * (ht - h0) @ dw.T]
    total = float((ft - f0).norm())
    h0c, htc, z0c, ztc = (t.double().cpu() for t in (h0, ht, z0, zt))
    gz0 = gram(z0c)
    return dict(
        diverged=False,
        steps=k,
        reached=losses[-1] <= LOSS_FRACTION * losses[0],
        loss=np.array(losses),
        f0=f0.double().cpu(),
        stats=drift_stats(h0c, htc),
        fixed=fixed,
        rel=((htc - h0c).norm(dim=1) / h0c.norm(dim=1)).numpy(),
        zrel=((ztc - z0c).norm(dim=1) / z0c.norm(dim=1)).numpy(),
        zlayer=(ztc - z0c).norm(dim=1).numpy(),
        shares=[float(p.norm()) / total for p in parts],
        gram_rel=float((gram(htc) - gram(h0c)).norm() / gram(h0c).norm()),
        gram_abs=float((gram(htc) - gram(h0c)).norm()),
        zgram_rel=float((gram(ztc) - gz0).norm() / gz0.norm()),
        dgram=(gram(htc) - gram(h0c)),
        dzgram=(gram(ztc) - gz0),
        gram_path=np.array(gram_path),
    )


def lazy_prediction(param, width, seed, f0, steps):
    """Loss curve and output shares of the lazy dynamics with Theta_infinity, from the run's own f_0, and the
    linearized network's hidden-layer change at this width and initialization (ntk_lib.lazy.linearized_change)."""
    parts = kernel_parts(param, width)
    k_eff = parts.sum(0)
    r0 = f0 - y64
    a = cumulative_residual(k_eff, r0, steps=steps, lr=1.0)  # = sum_j r_j (the step is inside k_eff)
    loss = np.array([0.5 * float(((r0 - k_eff @ ak) ** 2).sum()) for ak in a])
    total = (k_eff @ a[-1]).norm()
    shares = [float((parts[:-1].sum(0) @ a[-1]).norm() / total), float((parts[-1] @ a[-1]).norm() / total)]
    net0 = MLP(V, width, DEPTH, out_features=V, parameterization=param, seed=seed).to(dev)
    dz, dh, _ = linearized_change(net0, X, (lr_of[param] * a[-1]).float().to(dev))
    with torch.no_grad():
        z0, h0 = last_hidden(net0, X)
    h0c, dhc = h0.double().cpu(), dh.double().cpu()
    lin = h0c @ dhc.T
    g0 = gram(h0c)
    return dict(
        loss=loss,
        shares=shares,
        layer=float(dhc.norm(dim=1).mean()),
        relative=float((dhc.norm(dim=1) / h0c.norm(dim=1)).mean()),
        neuron=float(dhc.abs().max(dim=1).values.mean()),
        gram=float((lin + lin.T + dhc @ dhc.T).norm() / g0.norm()),
    )


# %% [markdown]
# ## 3.4 $\mu$P, tuned as $\mu$P
#
# {class}`ntk_lib.models.MLP` with `parameterization="mup"` multiplies the readout by $1/n$ instead
# of $1/\sqrt n$ and every layer's step by $n$ {cite}`yang2021tensor`. Its point is that the best
# step size, found at a small width, stays the best at large widths. We tune the base step
# $\eta = c/\lambda_{\max}$ over $c \in$ {glue:text}`ch3_grid` at width {glue:text}`ch3_tune_w0`
# ({glue:text}`ch3_seeds` seeds each, loss after {glue:text}`ch3_t_tune` steps relative to the
# initial loss, divergence counted as a failure), check that the optimum is the same at width
# {glue:text}`ch3_tune_w1`, and use it at every width.

# %%
grid = [2.0**e for e in cfg["lr_grid"]]
tune = {}
for w in cfg["tune_widths"]:
    for c in progress_bar(grid, desc=f"muP step sizes, width {w}"):
        vals = []
        for s in range(cfg["seeds"]):
            net = MLP(V, w, DEPTH, out_features=V, parameterization="mup", seed=SEED + s).to(dev)
            hist = train_gd(net, X, Y, lr=c * LR * net.lr_multiplier, steps=cfg["t_tune"], record=[], progress=False)
            vals.append(float(hist.loss[-1] / hist.loss[0]) if not hist.diverged else np.inf)
        tune[(w, c)] = np.array(vals)
# a run "collapses" when its loss has not moved by 1 %: the large step kills every ReLU and the output sits at 0
collapsed = sum(int(((v > 0.99) & np.isfinite(v)).sum()) for v in tune.values())
best = {w: min(grid, key=lambda c: np.mean(np.log(tune[(w, c)]))) for w in cfg["tune_widths"]}
C_MUP = best[cfg["tune_widths"][0]]
lr_of["mup"] = C_MUP * LR
print("muP: loss after", cfg["t_tune"], "steps / initial loss, mean over seeds (inf = diverged)")
print(f"{'c':>8} " + " ".join(f"{'width ' + str(w):>14}" for w in cfg["tune_widths"]))
for c in grid:
    print(f"{c:>8.3g} " + " ".join(f"{np.exp(np.mean(np.log(tune[(w, c)]))):>14.4g}" for w in cfg["tune_widths"]))
print("best c per width:", best, "-> transferred:", C_MUP)
glue("ch3_grid", ", ".join(f"{c:g}" for c in grid))
glue("ch3_tune_w0", cfg["tune_widths"][0])
glue("ch3_tune_w1", cfg["tune_widths"][1])
glue("ch3_t_tune", cfg["t_tune"])
glue("ch3_seeds", cfg["seeds"])
glue("ch3_c_mup", C_MUP)
glue("ch3_c_mup_w1", best[cfg["tune_widths"][1]])
glue("ch3_mup_diverged", int(sum(np.isinf(v).sum() for v in tune.values())))
glue("ch3_mup_collapsed", collapsed)
glue("ch3_mup_runs", len(tune) * cfg["seeds"])
glue("ch3_c_mup_edge", "at an end" if C_MUP in (grid[0], grid[-1]) else "inside")
glue("ch3_mup_transfer", "the optimum transfers across widths, as muP promises" if len(set(best.values())) == 1 else "the optimum moves between the two widths, and the one found at the smaller width is used")
print(f"collapsed (loss within 1 % of its start): {collapsed} of {len(tune) * cfg['seeds']} runs")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "muP step-size sweep: loss after a fixed number of steps (relative to the initial loss; geometric mean over seeds) against the base step c / lambda_max, at two widths. Missing points diverged.", "name": "fig-ch3-mup-tune"}}
fig, ax = plt.subplots(figsize=(5.6, 3.6), layout="constrained")
for w, c_, mk in zip(cfg["tune_widths"], (COLORS["emp"], COLORS["data"]), ("s", "D")):
    vals = [np.exp(np.mean(np.log(tune[(w, c)]))) for c in grid]
    ok = [np.isfinite(v) for v in vals]
    ax.plot(np.array(grid)[ok], np.array(vals)[ok], mk + "-", color=c_, label=f"width {w}")
ax.axvline(C_MUP, color="k", ls=":", label="chosen")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel(r"base step $c$ (step $= c\,n/\lambda_{\max}$)")
ax.set_ylabel("loss / initial loss")
ax.legend()
plt.show()

# %% [markdown]
# The best base step is $c =$ {glue:text}`ch3_c_mup` at width {glue:text}`ch3_tune_w0` and
# $c =$ {glue:text}`ch3_c_mup_w1` at width {glue:text}`ch3_tune_w1` (the chosen value lies
# {glue:text}`ch3_c_mup_edge` of the grid): {glue:text}`ch3_mup_transfer`.
# {glue:text}`ch3_mup_diverged` runs of the sweep diverged (detected by
# {func}`ntk_lib.training.train_gd`); {glue:text}`ch3_mup_collapsed` of the
# {glue:text}`ch3_mup_runs` runs *collapsed* instead — the loss stays within 1 % of its start because
# the first large steps switch every ReLU off and the output sits at zero — a failure the divergence
# check does not see, and the reason the step used with the NTK parameterization ($c = 1$) is wrong
# for $\mu$P.
# The standard parameterization gets a *fixed* step, the largest that is stable at the largest width
# ($1/\lambda_{\max}$ of its kernel there, $\Theta_{\rm std} = V\Theta_1 + n(\Theta_2 + \Theta_3)$),
# so smaller widths train more slowly; the NTK parameterization gets $\eta = 1/\lambda_{\max}$ at
# every width.
#
# ## 3.5 What moves, at which scale, in three parameterizations

# %%
results = {}
jobs = [(p, w, s) for p in PARAMS for w in cfg["widths"] for s in range(cfg["seeds"])]
for param, width, seed in progress_bar(jobs, desc="parameterizations x widths x seeds"):
    results[(param, width, seed)] = train_to_end(param, width, SEED + seed, lr_of[param], keep_gram=True)
    r = results[(param, width, seed)]
    if not r["diverged"]:
        r["lazy"] = lazy_prediction(param, width, SEED + seed, r["f0"], np.arange(0, r["steps"] + 1)) if param != "mup" else None
bad = [k for k, r in results.items() if r["diverged"] or not r["reached"]]
print("runs that diverged or did not reach the criterion:", bad if bad else "none")
ws = np.array(cfg["widths"], dtype=float)
steps_tab = {p: [[results[(p, w, s)]["steps"] for s in range(cfg["seeds"])] for w in cfg["widths"]] for p in PARAMS}
for p in PARAMS:
    print(f"{PNAME[p].replace('$', '').replace(chr(92), ''):>9}: steps to the criterion per width (seeds):", {w: steps_tab[p][i] for i, w in enumerate(cfg["widths"])})
l0 = {p: mean_interval([results[(p, cfg["widths"][-1], s)]["loss"][0] for s in range(cfg["seeds"])]) for p in PARAMS}
for p in PARAMS:
    print(f"initial loss at width {cfg['widths'][-1]}, {p}: {l0[p]}")
glue("ch3_l0_ntk", l0["ntk"].mean)
glue("ch3_l0_mup", l0["mup"].mean)
glue("ch3_l0_std", l0["standard"].mean)
glue("ch3_y_norm2", 0.5 * float((y64**2).sum()))
wmax, wmin = cfg["widths"][-1], cfg["widths"][0]
glue("ch3_wmax", wmax)
glue("ch3_wmin", wmin)
glue("ch3_steps_ntk_wmax", int(np.mean(steps_tab["ntk"][-1])))
glue("ch3_steps_std_wmin", int(np.mean(steps_tab["standard"][0])))
glue("ch3_steps_std_wmax", int(np.mean(steps_tab["standard"][-1])))
glue("ch3_steps_mup_wmax", int(np.mean(steps_tab["mup"][-1])))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Training loss (relative to its initial value) against the step, NTK parameterization, one seed per width (solid), with the lazy prediction from Theta_infinity started at the same f_0 (dashed). The horizontal line is the stopping criterion.", "name": "fig-ch3-loss"}}
fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
cmap = plt.get_cmap("viridis")
for i, w in enumerate(cfg["widths"]):
    r = results[("ntk", w, 0)]
    c = cmap(i / max(1, len(cfg["widths"]) - 1))
    ax.plot(np.arange(len(r["loss"])), r["loss"] / r["loss"][0], color=c, label=f"width {w}")
    ax.plot(np.arange(len(r["lazy"]["loss"])), r["lazy"]["loss"] / r["lazy"]["loss"][0], "--", color=c)
ax.axhline(LOSS_FRACTION, color="k", ls=":", lw=1)
ax.set_yscale("log")
ax.set_xlabel("gradient-descent step")
ax.set_ylabel("loss / initial loss")
ax.legend(title="network (dashed: lazy)")
plt.show()

# %%
share_m = {p: np.array([[results[(p, w, s)]["shares"] for s in range(cfg["seeds"])] for w in cfg["widths"]]) for p in PARAMS}  # [W, S, 3]
share_p = {p: np.array([[results[(p, w, s)]["lazy"]["shares"] for s in range(cfg["seeds"])] for w in cfg["widths"]]) for p in ("ntk", "standard")}
print("shares of |f_t - f_0| at the end (mean over seeds): measured features / readout / both  |  lazy prediction features / readout")
for p in ("ntk", "standard"):
    for i, w in enumerate(cfg["widths"]):
        m, q = share_m[p][i].mean(0), share_p[p][i].mean(0)
        print(f"{p:>9} width {w:>6}: {m[0]:.3f} / {m[1]:.3f} / {m[2]:.3f}   |   {q[0]:.3f} / {q[1]:.3f}")
gap_feat = mean_interval(share_m["ntk"][-1, :, 0] - share_p["ntk"][-1, :, 0])
gap_read = mean_interval(share_m["ntk"][-1, :, 1] - share_p["ntk"][-1, :, 1])
both_fit = slope_interval(ws, share_m["ntk"][:, :, 2].T)
loss_gap = [mean_interval([results[("ntk", w, s)]["loss"][-1] / results[("ntk", w, s)]["lazy"]["loss"][-1] - 1 for s in range(cfg["seeds"])]) for w in cfg["widths"]]
print(f"width {wmax}: measured - lazy, features share {gap_feat}, readout share {gap_read}; cross term ~ n^{both_fit}")
print("final loss / lazy prediction - 1, per width:", [str(g) for g in loss_gap])
glue("ch3_share_feat", float(share_m["ntk"][-1, :, 0].mean()))
glue("ch3_share_read", float(share_m["ntk"][-1, :, 1].mean()))
glue("ch3_share_both", float(share_m["ntk"][-1, :, 2].mean()))
glue("ch3_pshare_feat", float(share_p["ntk"][-1, :, 0].mean()))
glue("ch3_pshare_read", float(share_p["ntk"][-1, :, 1].mean()))
glue("ch3_gap_feat", str(gap_feat))
glue("ch3_gap_read", str(gap_read))
glue("ch3_both_slope", str(both_fit))
glue("ch3_loss_gap_wmin", str(loss_gap[0]))
glue("ch3_loss_gap_wmax", str(loss_gap[-1]))
glue("ch3_share_feat_std", float(share_m["standard"][-1, :, 0].mean()))
glue("ch3_pshare_feat_std", float(share_p["standard"][-1, :, 0].mean()))

# %% [markdown]
# **What it shows.** The NTK-parameterized networks follow the lazy loss curve closely and reach the
# criterion after about {glue:text}`ch3_steps_ntk_wmax` steps at width {glue:text}`ch3_wmax`
# (the lazy prediction from $f_0 = 0$: {glue:text}`ch3_steps_pred`). At the criterion the losses
# are small and their ratio is noisy: final loss over the lazy prediction's at the same step, minus
# one, is {glue:text}`ch3_loss_gap_wmin` (95 % interval over seeds) at width {glue:text}`ch3_wmin`
# and {glue:text}`ch3_loss_gap_wmax` at width {glue:text}`ch3_wmax`.
#
# The split of the output's change: at width {glue:text}`ch3_wmax` the readout's term carries
# {glue:text}`ch3_share_read:.2f` of $\lVert f_t - f_0\rVert$, close to what the layer split of
# $\Theta_\infty$ predicts ({glue:text}`ch3_pshare_read:.2f`; difference {glue:text}`ch3_gap_read`), and the
# features' term {glue:text}`ch3_share_feat:.2f`, *less* than the prediction
# {glue:text}`ch3_pshare_feat:.2f` (difference {glue:text}`ch3_gap_feat`); the cross term,
# {glue:text}`ch3_share_both:.3f`, vanishes with exponent {glue:text}`ch3_both_slope`. (The shares
# are relative norms of vectors that are not orthogonal, so they need not add to one.) Two readings
# follow. A feature share that levels off at a non-zero value is what the lazy regime predicts — it
# is $\dot\Sigma^{(3)}\Theta^{(2)}$'s share of $\Theta_\infty$ — so it cannot by itself show that
# features are learned. And at these widths the features do *less* than the lazy prediction, not
# more: the same shortfall appears in the layer drift below (§3.5), where each run is compared with
# its own linearized network. In the standard parameterization the first layer's part is weighted
# by $V$ and the others by $n$, so the features' share differs
# ({glue:text}`ch3_share_feat_std:.2f`, prediction {glue:text}`ch3_pshare_feat_std:.2f`).
#
# Now the four scales of the introduction, for every run, at the end of training. Each panel shows
# the mean over seeds of the per-input mean, with the per-input standard deviation as a band (the
# paper's "s.d." is over inputs); the exponents are fitted over widths with 95 % bootstrap intervals
# over the {glue:text}`ch3_seeds` seeds ({func}`ntk_lib.fit.slope_interval`).

# %%
SCALES_ = {
    "neuron": (r"$\max_i|h_{t,i}-h_{0,i}|$", lambda r: (r["stats"].neuron_mean, r["stats"].neuron_sd)),
    "layer": (r"$\|h_t-h_0\|_2$", lambda r: (r["stats"].layer_mean, r["stats"].layer_sd)),
    "relative": (r"$\|h_t-h_0\|_2\,/\,\|h_0\|_2$", lambda r: (float(r["rel"].mean()), float(r["rel"].std(ddof=1)))),
    "gram": (r"$\|G_t-G_0\|_F\,/\,\|G_0\|_F$", lambda r: (r["gram_rel"], 0.0)),
}
expo = {}
vals = {}
for p in PARAMS:
    for name, (_, get) in SCALES_.items():
        arr = np.array([[get(results[(p, w, s)])[0] for w in cfg["widths"]] for s in range(cfg["seeds"])])  # [S, W]
        sd = np.array([[get(results[(p, w, s)])[1] for w in cfg["widths"]] for s in range(cfg["seeds"])])
        vals[(p, name)] = (arr, sd)
        expo[(p, name)] = slope_interval(ws, arr)
print(f"exponent of width ({wmin}..{wmax}), 95% interval over {cfg['seeds']} seeds")
print(f"{'':>10} " + " ".join(f"{n:>18}" for n in SCALES_))
for p in PARAMS:
    print(f"{p:>10} " + " ".join(f"{str(expo[(p, n)]):>18}" for n in SCALES_))
for p in PARAMS:
    for n in SCALES_:
        glue(f"ch3_exp_{p}_{n}", str(expo[(p, n)]))
        glue(f"ch3_val_{p}_{n}_wmax", float(vals[(p, n)][0][:, -1].mean()))
        glue(f"ch3_val_{p}_{n}_wmin", float(vals[(p, n)][0][:, 0].mean()))
# the lazy (linearized) prediction of each scale at the same width and initialization
lazy_vals = {(p, n): np.array([[results[(p, w, s)]["lazy"][n] for w in cfg["widths"]] for s in range(cfg["seeds"])]) for p in ("ntk", "standard") for n in SCALES_}
# a linearization is a prediction only while the change it predicts is small: widths where the linearized
# relative change (of the layer for the first three scales, of the Gram matrix for the last) reaches 1 in
# any seed are left out of every fit that uses the linearized values
lazy_ok = {(p, n): lazy_vals[(p, "gram" if n == "gram" else "relative")].max(0) < 1 for p in ("ntk", "standard") for n in SCALES_}


def fit_on(mask, arr):
    return slope_interval(ws[mask], arr[:, mask]) if mask.sum() >= 2 else None


lazy_expo = {k: fit_on(lazy_ok[k], v) for k, v in lazy_vals.items()}
print("lazy (linearized) prediction, mean over seeds per width:")
for p in ("ntk", "standard"):
    for n in SCALES_:
        print(f"{p:>10} {n:>8}: " + ", ".join(f"{v:.3g}" for v in lazy_vals[(p, n)].mean(0)) + f"   widths fitted: {ws[lazy_ok[(p, n)]].astype(int).tolist()}")
print("lazy (linearized) prediction, exponent of width (widths with linearized relative change < 1):")
for p in ("ntk", "standard"):
    print(f"{p:>10} " + " ".join(f"{str(lazy_expo[(p, n)]):>18}" for n in SCALES_))
    for n in SCALES_:
        glue(f"ch3_lexp_{p}_{n}", str(lazy_expo[(p, n)]) if lazy_expo[(p, n)] is not None else "not fitted (fewer than 2 widths)")
        glue(f"ch3_lazy_drop_{p}_{n}", ", ".join(str(int(w)) for w in ws[~lazy_ok[(p, n)]]) or "none")
        glue(f"ch3_lazy_keep_{p}_{n}", ", ".join(str(int(w)) for w in ws[lazy_ok[(p, n)]]) or "none")
glue("ch3_lazy_gram_wmin", float(lazy_vals[("ntk", "gram")][:, 0].mean()))
glue("ch3_lazy_rel_wmin", float(lazy_vals[("ntk", "relative")][:, 0].mean()))
keep_layer = np.flatnonzero(lazy_ok[("ntk", "layer")])
i_first = int(keep_layer[0]) if keep_layer.size else len(ws) - 1  # the smallest width where the linearization is a prediction
gap = {n: [mean_interval(vals[("ntk", n)][0][:, i] / lazy_vals[("ntk", n)][:, i] - 1) for i in range(len(ws))] for n in SCALES_}
for n in SCALES_:
    print(f"NTK, measured / linearized - 1, {n:>8}:", [str(g) for g in gap[n]])
    glue(f"ch3_gap_{n}_wmin", str(gap[n][0]))
    glue(f"ch3_gap_{n}_wmax", str(gap[n][-1]))
    glue(f"ch3_gap_{n}_wfirst", str(gap[n][i_first]))
glue("ch3_wfirst", int(ws[i_first]))
# the Gram matrix, width by width, on the widths where its linearization is meaningful
gram_sign = {w: ("above" if g.low > 0 else "below" if g.high < 0 else "indistinguishable") for w, g, ok in zip(cfg["widths"], gap["gram"], lazy_ok[("ntk", "gram")]) if ok}
glue("ch3_gap_gram_list", "; ".join(f"width {w}: {g}" for w, g, ok in zip(cfg["widths"], gap["gram"], lazy_ok[("ntk", "gram")]) if ok) or "none")
glue("ch3_gap_gram_sign", "; ".join(f"{v} at width {w}" for w, v in gram_sign.items()) or "no width is left")
# where the measured NTK exponent lies between the linearized one and muP's
SCALE_WORDS = {"neuron": "the neuron", "layer": "the absolute layer", "relative": "the relative layer", "gram": "the Gram matrix"}
between = {n: lazy_expo[("ntk", n)] is not None and min(lazy_expo[("ntk", n)].slope, expo[("mup", n)].slope) < expo[("ntk", n)].slope < max(lazy_expo[("ntk", n)].slope, expo[("mup", n)].slope) for n in SCALES_}
glue("ch3_between", ", ".join(SCALE_WORDS[n] for n in SCALES_ if between[n]) or "none of the scales")
glue("ch3_not_between", ", ".join(SCALE_WORDS[n] for n in SCALES_ if not between[n]) or "none")
short = all(g.high < 0 for n in ("neuron", "layer") for g, ok in zip(gap[n], lazy_ok[("ntk", n)]) if ok)
glue("ch3_short_all", "at every width where the linearization is meaningful" if short else "at most widths where the linearization is meaningful (not all)")
gap_fit = fit_on(lazy_ok[("ntk", "layer")], np.abs(vals[("ntk", "layer")][0] / lazy_vals[("ntk", "layer")] - 1))
glue("ch3_gap_slope", str(gap_fit) if gap_fit is not None else "not fitted (fewer than 2 widths)")
glue("ch3_lazy_layer_wmax", float(lazy_vals[("ntk", "layer")][:, -1].mean()))
glue("ch3_lazy_layer_wfirst", float(lazy_vals[("ntk", "layer")][:, i_first].mean()))
rel_diff = paired_interval(vals[("mup", "relative")][0][:, -1], vals[("ntk", "relative")][0][:, -1])
glue("ch3_rel_diff", str(rel_diff))
print(f"width {wmax}: relative layer drift, muP - NTK (paired over seeds): {rel_diff}")
# paired exponent difference NTK - muP: each seed's fitted slope over widths (same seeds, same data)
seed_slope = {(p, n): np.array([loglog_slope(ws, vals[(p, n)][0][s])[0] for s in range(cfg["seeds"])]) for p in PARAMS for n in ("relative", "gram")}
exp_diff = {n: paired_interval(seed_slope[("ntk", n)], seed_slope[("mup", n)]) for n in ("relative", "gram")}
for n, v in exp_diff.items():
    print(f"exponent of width, NTK - muP, {n:>8} (paired over seeds): {v}")
    glue(f"ch3_expdiff_{n}", str(v))
print(f"|measured / linearized - 1| of the layer drift ~ n^{gap_fit}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The four scales of the introduction against width (log-log), at the end of training, for the NTK, standard and muP parameterizations: mean over seeds (markers) with the per-input standard deviation (bands, averaged over seeds). Dashed: the lazy prediction for the NTK parameterization, each run's own linearized network (mean over seeds), at the widths where its relative change is below 1.", "name": "fig-ch3-scales"}}
fig, axes = plt.subplots(1, 4, figsize=(15, 3.9), layout="constrained")
for ax, (name, (label, _)) in zip(axes, SCALES_.items()):
    for p in PARAMS:
        arr, sd = vals[(p, name)]
        m, s = arr.mean(0), sd.mean(0)
        ax.plot(ws, m, PMARK[p] + "-", color=PCOLOR[p], label=PNAME[p])
        if name != "gram":
            ax.fill_between(ws, np.maximum(m - s, m * 0.05), m + s, color=PCOLOR[p], alpha=0.15, lw=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width $n$")
    ax.set_ylabel(label)
for ax, name in zip(axes, SCALES_):
    ok_ = lazy_ok[("ntk", name)]
    ax.plot(ws[ok_], lazy_vals[("ntk", name)].mean(0)[ok_], "--", color=COLORS["inf"], label="NTK, linearized")
axes[0].set_title("one neuron")
axes[1].set_title("the layer, absolute")
axes[2].set_title("the layer, relative")
axes[3].set_title("Gram matrix, relative")
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# | exponent of $n$ (95 % interval) | one neuron | layer, absolute | layer, relative | Gram, relative |
# |---|---|---|---|---|
# | NTK | {glue:text}`ch3_exp_ntk_neuron` | {glue:text}`ch3_exp_ntk_layer` | {glue:text}`ch3_exp_ntk_relative` | {glue:text}`ch3_exp_ntk_gram` |
# | standard, fixed step | {glue:text}`ch3_exp_standard_neuron` | {glue:text}`ch3_exp_standard_layer` | {glue:text}`ch3_exp_standard_relative` | {glue:text}`ch3_exp_standard_gram` |
# | $\mu$P, tuned step | {glue:text}`ch3_exp_mup_neuron` | {glue:text}`ch3_exp_mup_layer` | {glue:text}`ch3_exp_mup_relative` | {glue:text}`ch3_exp_mup_gram` |
# | NTK, linearized (lazy prediction at these widths; widths with linearized relative change $\ge 1$ left out) | {glue:text}`ch3_lexp_ntk_neuron` | {glue:text}`ch3_lexp_ntk_layer` | {glue:text}`ch3_lexp_ntk_relative` | {glue:text}`ch3_lexp_ntk_gram` |
# | lazy, $n\to\infty$ | $-\tfrac12$ (up to $\sqrt{\log n}$) | $0$ | $-\tfrac12$ | $-1$ at leading order |
#
# **What it shows.** *The lazy prediction first.* A linearization predicts only a small change:
# where the linearized network's relative change reaches 1, the linearization has left its domain and
# is no prediction of anything. Those widths are left out of every fit and comparison that uses the
# linearized values: for the three layer scales (judged by the linearized relative layer change)
# widths {glue:text}`ch3_lazy_drop_ntk_relative`, leaving {glue:text}`ch3_lazy_keep_ntk_relative`;
# for the Gram matrix widths {glue:text}`ch3_lazy_drop_ntk_gram` (the linearized relative Gram change
# is {glue:text}`ch3_lazy_gram_wmin:.1f` at width {glue:text}`ch3_wmin`), leaving
# {glue:text}`ch3_lazy_keep_ntk_gram`. So the row "NTK, linearized" is fitted over a short range, and
# its exponents are not the $n\to\infty$ rates of the introduction's table: with
# {glue:text}`ch3_vocab` outputs per input, the widths a CPU reaches are not far above the number of
# outputs.
#
# For the single neuron and the layer, the trained NTK networks fall short of their linearized
# prediction {glue:text}`ch3_short_all`: for the layer drift by {glue:text}`ch3_gap_layer_wfirst`
# (relative, 95 % interval over seeds) at width {glue:text}`ch3_wfirst` and by
# {glue:text}`ch3_gap_layer_wmax` at width {glue:text}`ch3_wmax`; the gap closes like $n$ to the power
# {glue:text}`ch3_gap_slope` (fitted on the same widths). For the Gram matrix there is no such
# one-sided statement: measured over linearized, minus one, is {glue:text}`ch3_gap_gram_list`; relative
# to the linearized change the measured one is {glue:text}`ch3_gap_gram_sign`. So at these widths the
# NTK-parameterized networks are *approaching* the lazy regime, not in it; their measured exponents
# sit between the linearized ones and $\mu$P's for {glue:text}`ch3_between` (not for
# {glue:text}`ch3_not_between`, whose linearized exponent is fitted over fewer, larger widths than the
# measured one).
#
# *Each scale.* In the NTK parameterization the largest single neuron's drift falls (exponent
# {glue:text}`ch3_exp_ntk_neuron`), the layer's absolute drift grows slowly
# ({glue:text}`ch3_exp_ntk_layer`; {glue:text}`ch3_val_ntk_layer_wmax:.2f` at width
# {glue:text}`ch3_wmax`) towards the linearized value ({glue:text}`ch3_lazy_layer_wfirst:.1f` at width
# {glue:text}`ch3_wfirst`, {glue:text}`ch3_lazy_layer_wmax:.1f` at width {glue:text}`ch3_wmax`); the
# layer's drift *relative to its size* falls
# ({glue:text}`ch3_exp_ntk_relative`), and so does the Gram matrix's relative change
# ({glue:text}`ch3_exp_ntk_gram`). In $\mu$P, with its own tuned step, the neuron's drift does not
# fall ({glue:text}`ch3_exp_mup_neuron`), the absolute layer drift grows like $\sqrt n$
# ({glue:text}`ch3_exp_mup_layer`), and both relative drifts are flat
# ({glue:text}`ch3_exp_mup_relative` for the layer, {glue:text}`ch3_exp_mup_gram` for the Gram
# matrix). At width {glue:text}`ch3_wmax` the relative layer drift is
# {glue:text}`ch3_val_mup_relative_wmax:.2f` in $\mu$P and {glue:text}`ch3_val_ntk_relative_wmax:.2f`
# in NTK (paired difference over seeds {glue:text}`ch3_rel_diff`). $\mu$P's features thus end several
# times their initial norm away from it, at every width: what $\mu$P guarantees is that this relative
# change does not depend on the width, not that it is small.
#
# *Reading.* The two regimes differ at every scale that is free of the layer's size — one neuron,
# the layer relative to $\lVert h_0\rVert$, the Gram matrix relative to $\lVert G_0\rVert$ — and the
# difference grows with width. On the absolute layer scale both drifts are of order one or more, and
# for the NTK parameterization that is the lazy prediction itself ($\lVert h_0\rVert \propto \sqrt n$
# and a relative change $\propto n^{-1/2}$ multiply to a constant): "the layer moves" in absolute
# terms is true, and cannot tell the lazy regime from feature learning. The standard parameterization
# with a fixed step behaves like the NTK one once trained to the same fraction of its loss: the
# kernel it trains with is the NTK's with its layers reweighted.
#
# **Starting losses.** The initial loss is {glue:text}`ch3_l0_ntk:.0f` (NTK, width
# {glue:text}`ch3_wmax`), {glue:text}`ch3_l0_std:.0f` (standard, the same function at initialization)
# and {glue:text}`ch3_l0_mup:.0f` for $\mu$P, whose output starts at $O(n^{-1/2})$ so that its loss
# starts near $\tfrac12\lVert y\rVert^2 =$ {glue:text}`ch3_y_norm2:.0f`. Reaching the criterion took
# {glue:text}`ch3_steps_ntk_wmax` steps (NTK) and {glue:text}`ch3_steps_mup_wmax` ($\mu$P) at width
# {glue:text}`ch3_wmax`; the standard parameterization's fixed step needs
# {glue:text}`ch3_steps_std_wmin` steps at width {glue:text}`ch3_wmin` and
# {glue:text}`ch3_steps_std_wmax` at {glue:text}`ch3_wmax`.
#
# ## 3.6 Table 1

# %%
print(f"Table 1 layout, end of training, mean (s.d. over inputs), one seed; {corpus_name} corpus, vocabulary {V}")
print(f"{'':>10} {'width':>6} {'|h_t - h_0|_2':>18} {'max_i |dh_i|':>18} {'ratio':>16}")
for p in PARAMS:
    for w in cfg["widths"]:
        d = results[(p, w, 0)]["stats"]
        print(f"{p:>10} {w:>6} {d.layer_mean:>9.3f} ({d.layer_sd:.3f}) {d.neuron_mean:>10.4f} ({d.neuron_sd:.4f}) {d.ratio_mean:>8.2f} ({d.ratio_sd:.2f})")
ratio_fit = {p: slope_interval(ws, np.array([[results[(p, w, s)]["stats"].ratio_mean for w in cfg["widths"]] for s in range(cfg["seeds"])])) for p in PARAMS}
# per-input s.d. / mean of the layer drift: each seed's average over widths, then an interval over seeds
cv = mean_interval([np.mean([results[("ntk", w, s)]["stats"].layer_sd / results[("ntk", w, s)]["stats"].layer_mean for w in cfg["widths"]]) for s in range(cfg["seeds"])])
# one step of the standard parameterization's fixed step, from the same initializations as in 3.5
for w in cfg["widths"]:
    for s in range(cfg["seeds"]):
        net = MLP(V, w, DEPTH, out_features=V, parameterization="standard", seed=SEED + s).to(dev)
        with torch.no_grad():
            h0_ = last_hidden(net, X)[1].cpu()
        train_gd(net, X, Y, lr=lr_of["standard"], steps=1, record=[], progress=False)
        with torch.no_grad():
            results[("standard", w, s)]["fixed"][1] = drift_stats(h0_, last_hidden(net, X)[1].cpu())
fixed_fit = {}
for t in (1,) + T_FIX:
    for p in ("ntk", "standard"):
        if t == 1 and p == "ntk":
            continue
        for name, key in (("layer", "layer_mean"), ("neuron", "neuron_mean"), ("ratio", "ratio_mean")):
            arr = np.array([[getattr(results[(p, w, s)]["fixed"][t], key) for w in cfg["widths"]] for s in range(cfg["seeds"])])
            fixed_fit[(t, p, name)] = slope_interval(ws, arr)
print("ratio exponent at the end of training:", {p: str(v) for p, v in ratio_fit.items()})
for (t, p, n), v in fixed_fit.items():
    print(f"after exactly {t} steps, {p:>8}, {n:>6}: exponent {v}")
print(f"per-input s.d. / mean of the layer drift (NTK; each seed averaged over widths, interval over seeds): {cv}")
paper = {"layer": (4.8989, 10.5614), "neuron": (0.0955, 0.1375), "ratio": (51.1774, 76.5406)}
paper_exp = {k: math.log(b / a) / math.log(3) for k, (a, b) in paper.items()}
for k, v in paper_exp.items():
    glue(f"ch3_paper_exp_{k}", v)
paper_cv = (1.0250 / 4.8989, 2.3419 / 10.5614)
glue("ch3_paper_cv", paper_cv[0])
glue("ch3_paper_cv30", paper_cv[1])
glue("ch3_cv", str(cv))
glue("ch3_cv_cmp", "smaller than" if cv.high < min(paper_cv) else "larger than" if cv.low > max(paper_cv) else "comparable to")
print(f"SCF's s.d. / mean of the layer drift: {paper_cv[0]:.3f} (10K), {paper_cv[1]:.3f} (30K)")
# is SCF's two-width ratio exponent inside each parameterization's interval?
ratio_in = {p: ratio_fit[p].low <= paper_exp["ratio"] <= ratio_fit[p].high for p in PARAMS}
PWORD = {"ntk": "NTK", "standard": "standard", "mup": "muP"}
print("SCF's ratio exponent inside the interval of:", ratio_in)
glue("ch3_ratio_in", ", ".join(PWORD[p] for p in PARAMS if ratio_in[p]) or "none of them")
glue("ch3_ratio_out", ", ".join(PWORD[p] for p in PARAMS if not ratio_in[p]) or "none of them")
for p in PARAMS:
    glue(f"ch3_ratio_exp_{p}", str(ratio_fit[p]))
for (t, p, n), v in fixed_fit.items():
    glue(f"ch3_fix{t}_{p}_{n}", str(v))

# %% [markdown]
# SCF's Table 1 (text8, widths 10K and 30K, "we average over inputs in the dataset", so the s.d. is
# over inputs; SCF state no vocabulary, loss, step size or number of steps):
#
# | measure | width 10K | width 30K | exponent between the two widths |
# |---|---|---|---|
# | $\lVert h_t - h_0\rVert_2$ | 4.90 (1.03) | 10.56 (2.34) | {glue:text}`ch3_paper_exp_layer:.2f` |
# | $\max_i \lvert h_{t,i} - h_{0,i}\rvert$ | 0.0955 (0.0189) | 0.1375 (0.0286) | {glue:text}`ch3_paper_exp_neuron:.2f` |
# | ratio | 51.2 (0.80) | 76.5 (1.51) | {glue:text}`ch3_paper_exp_ratio:.2f` |
#
# **What is consistent, and uninformative.** The scale-free row: the ratio of layer to neuron
# drift grows with width with exponent {glue:text}`ch3_ratio_exp_ntk` in our NTK runs, against
# SCF's {glue:text}`ch3_paper_exp_ratio:.2f` between their two widths. But the ratio cannot tell
# the regimes apart: its exponent is {glue:text}`ch3_ratio_exp_standard` in the standard
# parameterization and {glue:text}`ch3_ratio_exp_mup` in $\mu$P, where the features move by
# several times their initial norm. A ratio $\lVert\Delta h\rVert_2/\max_i|\Delta h_i|$ growing like
# $\sqrt{n/\log n}$ is what any dense drift vector gives, whatever its size
# ({ref}`ex-ch3-max`). SCF's value lies inside the interval of {glue:text}`ch3_ratio_in` and
# outside that of {glue:text}`ch3_ratio_out`, and it is measured on other axes (text8, widths 10K and
# 30K, against our generated corpus and widths {glue:text}`ch3_wmin` to {glue:text}`ch3_wmax`): the
# row is consistent with our runs, and says nothing about which regime SCF's network was in. The
# per-input spread is {glue:text}`ch3_cv_cmp` SCF's: s.d./mean of the layer drift is
# {glue:text}`ch3_cv` here (NTK, each seed's average over widths, 95 % interval over seeds), against
# {glue:text}`ch3_paper_cv:.2f` (10K) and {glue:text}`ch3_paper_cv30:.2f` (30K) in SCF.
#
# **What is not reproduced.** The absolute rows: between 10K and 30K SCF's per-neuron drift *grows*
# (exponent {glue:text}`ch3_paper_exp_neuron:.2f`) and its layer drift more than doubles
# ({glue:text}`ch3_paper_exp_layer:.2f`), while our NTK runs trained to a fixed fraction of their loss
# have a falling neuron drift ({glue:text}`ch3_exp_ntk_neuron`) and a slowly growing layer drift
# ({glue:text}`ch3_exp_ntk_layer`) (§3.5). A per-neuron drift that grows with width is not the
# behaviour the paper's reading ("individual neuron deviations are close to their initial value")
# attributes to it. The comparison is between different corpora, vocabularies and widths
# ({glue:text}`ch3_wmin` to {glue:text}`ch3_wmax` here); the notebook's "paper" scale (text8, widths
# 1,000 to 30,000) needs a GPU and has not been run for this page.
#
# **A hypothesis, tested.** Drifts that grow with width are what one expects if the step size is
# fixed in the standard parameterization and training stops after a fixed number of steps, before
# convergence. The standard parameterization's step acts on the hidden layer with a weight $n$
# (its kernel is $V\Theta_1 + n(\Theta_2 + \Theta_3)$), so early in training, while the residual is
# still close to $r_0$, a fixed step moves every neuron by $\propto\sqrt n$ and the layer by
# $\propto n$; once the residual is fitted, the drifts settle to the values of §3.5. The runs of §3.5
# (same initializations, the standard parameterization's fixed step) record the drifts after
# 1, {glue:text}`ch3_tfix0` and {glue:text}`ch3_tfix1` steps:
#
# | exponent of width | layer | neuron | ratio |
# |---|---|---|---|
# | standard, fixed step, after 1 step | {glue:text}`ch3_fix1_standard_layer` | {glue:text}`ch3_fix1_standard_neuron` | {glue:text}`ch3_fix1_standard_ratio` |
# | standard, fixed step, after {glue:text}`ch3_tfix0` steps | {glue:text}`ch3_fix5_standard_layer` | {glue:text}`ch3_fix5_standard_neuron` | {glue:text}`ch3_fix5_standard_ratio` |
# | standard, fixed step, after {glue:text}`ch3_tfix1` steps | {glue:text}`ch3_fix20_standard_layer` | {glue:text}`ch3_fix20_standard_neuron` | {glue:text}`ch3_fix20_standard_ratio` |
# | standard, fixed step, trained to {glue:text}`ch3_frac` of the loss | {glue:text}`ch3_exp_standard_layer` | {glue:text}`ch3_exp_standard_neuron` | {glue:text}`ch3_ratio_exp_standard` |
# | NTK, $\eta = 1/\lambda_{\max}$, after {glue:text}`ch3_tfix1` steps | {glue:text}`ch3_fix20_ntk_layer` | {glue:text}`ch3_fix20_ntk_neuron` | {glue:text}`ch3_fix20_ntk_ratio` |
# | SCF, 10K → 30K | {glue:text}`ch3_paper_exp_layer:.2f` | {glue:text}`ch3_paper_exp_neuron:.2f` | {glue:text}`ch3_paper_exp_ratio:.2f` |
#
# **Verdict on the hypothesis.** With a fixed step in the standard parameterization, both absolute
# drifts grow with width early in training (layer and neuron exponents near $1$ and $\tfrac12$ after
# one step), and the exponents fall as training proceeds, towards the trained-to-the-end values.
# SCF's exponents lie inside that range, with the ratio's exponent the same at every stage. A fixed
# step in the standard parameterization with a fixed, unconverged number of steps therefore
# *can* produce Table 1's growing drifts; since SCF state neither their parameterization nor their
# step or number of steps, this is a consistent explanation, not a reconstruction of their run. In
# the NTK parameterization with its width-independent step, no stage of training gives a growing
# neuron drift.
#
# ## 3.7 Proposition 4
#
# > *Proposition 4.* [...] The inner product $\langle h_t(x), h_t(x')\rangle$ is a strictly
# > non-constant function of the training step $t$. Moreover, as $n_{L-1}\to\infty$, the inner
# > product $\langle h_t(x), h_t(x')\rangle$ is not constant with probability 1.
#
# The proof writes $\partial_t h_{t,i}(x) = \Theta^{(L-1)}_s(x, X)\,d_{t,i}(X)$ and
# $\langle h_0(x), h_0(x')\rangle = \Sigma^{(L-1)}(x,x')$ (with the normalization by $n$ left
# implicit): Jacot et al.'s equations for the *pre-activations* $z^{(L-1)}$ of the last hidden layer.
# So we measure $G^z_t = z_t(X) z_t(X)^\top$ as the proposition states it, and the Gram matrix of the
# post-activation features $G^h_t = h_t(X)h_t(X)^\top$ separately.

# %%
th_prev = kl.theta[DEPTH - 2]
sg_prev = kl.sigma[DEPTH - 2]
off = ~torch.eye(V, dtype=torch.bool)
glue("ch3_sig_off", float(sg_prev[off].mean()))
glue("ch3_sig_diag", float(sg_prev.diagonal().mean()))
glue("ch3_sig_spread", float(sg_prev[off].max() - sg_prev[off].min()))
glue("ch3_th_off", float(th_prev[off].mean()))
glue("ch3_th_diag", float(th_prev.diagonal().mean()))
print(f"Sigma^(L-1) on one-hot inputs: diagonal {float(sg_prev.diagonal().mean()):.4f}, off-diagonal {float(sg_prev[off].mean()):.4f} (spread {float(sg_prev[off].max() - sg_prev[off].min()):.1e}); 1/(2 pi) = {1 / (2 * math.pi):.4f}")
print(f"Theta^(L-1): diagonal {float(th_prev.diagonal().mean()):.4f}, off-diagonal {float(th_prev[off].mean()):.4f}")
zexp = {p: slope_interval(ws, np.array([[results[(p, w, s)]["zgram_rel"] for w in cfg["widths"]] for s in range(cfg["seeds"])])) for p in PARAMS}
gabs = {p: slope_interval(ws, np.array([[results[(p, w, s)]["gram_abs"] for w in cfg["widths"]] for s in range(cfg["seeds"])])) for p in PARAMS}
for p in PARAMS:
    print(f"{p:>9}: |G^z_t - G^z_0| / |G^z_0| ~ n^{zexp[p]};  |G^h_t - G^h_0| ~ n^{gabs[p]} (absolute);  relative post-activation ~ n^{expo[(p, 'gram')]}")
    glue(f"ch3_zgram_exp_{p}", str(zexp[p]))
    glue(f"ch3_gabs_exp_{p}", str(gabs[p]))
    glue(f"ch3_zgram_wmax_{p}", float(np.mean([results[(p, wmax, s)]["zgram_rel"] for s in range(cfg["seeds"])])))

# %% [markdown]
# **Both Gram matrices change, at every width** — the proposition's first sentence, for each of our
# runs. How much, and whether it survives $n \to \infty$, depends on the normalization:
#
# * relative to $\lVert G_0\rVert_F \propto n$ the pre-activation change falls with exponent
#   {glue:text}`ch3_zgram_exp_ntk` (NTK) and the post-activation one with
#   {glue:text}`ch3_exp_ntk_gram`; in $\mu$P they stay of order one ({glue:text}`ch3_zgram_exp_mup`,
#   {glue:text}`ch3_exp_mup_gram`);
# * unnormalized, the post-activation change $\lVert G_t - G_0\rVert_F$ grows with exponent
#   {glue:text}`ch3_gabs_exp_ntk` (NTK): of order one per entry and more, on entries of order $n$;
# * the sizes at width {glue:text}`ch3_wmax`: the relative post-activation change is
#   {glue:text}`ch3_val_ntk_gram_wmax:.2f` (NTK) and {glue:text}`ch3_val_mup_gram_wmax:.2f` ($\mu$P),
#   the pre-activation one {glue:text}`ch3_zgram_wmax_ntk:.2f` and {glue:text}`ch3_zgram_wmax_mup:.2f`.
#   At these widths the NTK networks' features still change substantially; what separates them from
#   $\mu$P is that the change shrinks as the width grows.
#
# **What $\Sigma^{(L-1)}$ says about the normalized limit.** On one-hot inputs,
# $\Sigma^{(L-1)}(e_i, e_j)$ is the same for every pair of distinct words
# ({glue:text}`ch3_sig_off:.4f` $= 1/2\pi$, spread {glue:text}`ch3_sig_spread:.0e`; diagonal
# {glue:text}`ch3_sig_diag:.3f`), and so is $\Theta^{(L-1)}$ ({glue:text}`ch3_th_off:.4f` off the
# diagonal, {glue:text}`ch3_th_diag:.3f` on it). SCF's footnote is right that two ReLU layers make
# distinct words' *pre-activations* $z^{(L-1)}$ correlated where one layer would not (with one layer,
# $\Sigma^{(1)}(e_i, e_j) = 0$; its post-activations are already correlated, with the same $1/2\pi$,
# {ref}`ex-ch3-onehidden`) — but the correlation is the same for every pair: $G_0/n \to \Sigma^{(L-1)}$ carries no information about which words are which, and
# since $(G_t - G_0)/n \to 0$ in the lazy regime (exponents above), $G_t / n$ keeps carrying none.
# In the normalization of the infinite-width theory, the one used in the first line of the
# proposition's proof, this supports Yang & Hu: lazy features are, in the limit, uninformative.
# The proposition's second sentence is true of the unnormalized inner products, which change by
# $O(1)$ on top of $O(n)$.

# %%
gw = cfg["widths"][-2]
paths = {s: results[("ntk", gw, s)]["gram_path"] for s in range(cfg["seeds"])}
ratio_time = lambda gp: gp[:, 1]  # noqa: E731
peak = [int(gp[np.argmax(gp[:, 1]), 0]) for gp in paths.values()]
peak_val = [float(gp[:, 1].max()) for gp in paths.values()]
end_val = [float(gp[-1, 1]) for gp in paths.values()]
print(f"width {gw}: relative Gram change peaks at step {peak} ({np.round(peak_val, 4)}), ends at {np.round(end_val, 4)}")
for s_, gp_ in paths.items():
    i = int(np.argmax(gp_[:, 1]))
    print(f"seed {s_}: total / linear part / quadratic part at the peak (step {int(gp_[i, 0])}): {gp_[i, 1]:.4f} / {gp_[i, 2]:.4f} / {gp_[i, 3]:.4f}; at the end (step {int(gp_[-1, 0])}): {gp_[-1, 1]:.4f} / {gp_[-1, 2]:.4f} / {gp_[-1, 3]:.4f}")
lin_peak = [int(gp_[np.argmax(gp_[:, 2]), 0]) for gp_ in paths.values()]
quad_mono = all(bool((np.diff(gp_[:, 3]) >= -1e-6).all()) for gp_ in paths.values())
print(f"linear part peaks at steps {lin_peak}; quadratic part monotone in every seed: {quad_mono}")
all_paths = {(w, s_): results[("ntk", w, s_)]["gram_path"] for w in cfg["widths"] for s_ in range(cfg["seeds"])}
falls = {k: gp_ for k, gp_ in all_paths.items() if gp_[-1, 1] < 0.99 * gp_[:, 1].max()}
print(f"NTK runs whose relative Gram change ends > 1 % below its maximum: {sorted(falls)} of {len(all_paths)}")
glue("ch3_gram_nonmono", len(falls))
glue("ch3_gram_runs", len(all_paths))
glue("ch3_gram_nonmono_widths", ", ".join(str(w) for w in sorted({w for w, _ in falls})) or "none")
glue("ch3_gram_mono_gw", sum(int(gp_[-1, 1] >= 0.99 * gp_[:, 1].max()) for gp_ in paths.values()))
glue("ch3_lin_drop", 100 * float(np.mean([1 - gp_[-1, 2] / gp_[:, 2].max() for gp_ in falls.values()])) if falls else 0.0)
glue("ch3_quad_drop", 100 * float(np.mean([1 - gp_[-1, 3] / gp_[:, 3].max() for gp_ in falls.values()])) if falls else 0.0)
glue("ch3_gram_w", gw)
glue("ch3_gram_peak_step", int(np.median(peak)))
glue("ch3_gram_peak", float(np.mean(peak_val)))
glue("ch3_gram_end", float(np.mean(end_val)))
# the mean-over-words mode of the cumulative residual, against time, from the lazy dynamics
r_ntk = results[("ntk", gw, 0)]
a_t = cumulative_residual(LR * theta, r_ntk["f0"] - y64, steps=r_ntk["gram_path"][:, 0], lr=1.0)
mean_part = np.array([float((ones @ a).norm() / a.norm()) for a in a_t])


# %% [markdown]
# **Over time.** At width {glue:text}`ch3_gram_w` (left panel) the relative Gram change rises to
# {glue:text}`ch3_gram_peak:.3f` (mean over seeds of each run's maximum) and ends at
# {glue:text}`ch3_gram_end:.3f`, at its maximum in {glue:text}`ch3_gram_mono_gw` of
# {glue:text}`ch3_seeds` seeds. Over all {glue:text}`ch3_gram_runs` NTK runs, it ends more than 1 %
# below its maximum in {glue:text}`ch3_gram_nonmono` (widths: {glue:text}`ch3_gram_nonmono_widths`).
# In those runs the decrease comes from the part linear in $h_t - h_0$,
# $h_0(h_t-h_0)^\top + (h_t-h_0)h_0^\top$, which ends {glue:text}`ch3_lin_drop:.1f` % below its
# maximum on average, while the quadratic part $(h_t-h_0)(h_t-h_0)^\top$ ends
# {glue:text}`ch3_quad_drop:.1f` % below its own. Nothing in the lazy dynamics forces monotonicity:
# $h_t - h_0$ is linear in the cumulative residual $A_t$, each of whose eigen-modes grows
# monotonically, but at rates {glue:text}`ch3_lam_ratio:.0f` times apart. The mean-over-words mode
# is fitted within a few steps (its share of $A_t$, right axis, falls as the word-specific modes
# catch up), and the later, word-specific contributions need not point the way the early one did,
# so a norm of a linear
# function of $A_t$ can fall while every mode of $A_t$ grows. The change is "strictly non-constant"
# in $t$, as Proposition 4 says, without having to be monotone.
#
# **Is the change organized by the task?** Proposition 4's change is driven by the residuals through
# $d_s(X)$; in the lazy regime $\Delta G(x, x')$ is, at leading order, a quadratic form in the
# cumulative residuals $A(x), A(x')$, so words with similar targets acquire similar changes. We
# correlate the off-diagonal entries of $G_t - G_0$ with the target similarity $\langle y(x),
# y(x')\rangle$. The control: the same training with the targets *shuffled* across words (word $i$
# gets word $\pi(i)$'s target, a random permutation per seed). If the change follows the targets
# trained on, its correlation with the original similarity should vanish and its correlation with
# the shuffled targets' similarity should stay.

# %%
target_sim = (y64 @ y64.T)


def offdiag_corr(a, b):
    return float(np.corrcoef(a[off].numpy(), b[off].numpy())[0, 1])


corr = {"trained": [], "shuffled: original targets": [], "shuffled: its own targets": [], "init": []}
for s in range(cfg["seeds"]):
    r = results[("ntk", gw, s)]
    corr["trained"].append(offdiag_corr(r["dgram"], target_sim))
    perm = torch.randperm(V, generator=torch.Generator().manual_seed(1000 + SEED + s))
    y_sh = Y[perm.to(dev)]
    rs = train_to_end("ntk", gw, SEED + s, LR, targets=y_sh)
    corr["shuffled: original targets"].append(offdiag_corr(rs["dgram"], target_sim))
    corr["shuffled: its own targets"].append(offdiag_corr(rs["dgram"], y_sh.double().cpu() @ y_sh.double().cpu().T))
    net0 = MLP(V, gw, DEPTH, out_features=V, seed=SEED + s).to(dev)
    with torch.no_grad():
        corr["init"].append(offdiag_corr(gram(last_hidden(net0, X)[1].cpu()), target_sim))
corr_iv = {k: mean_interval(v) for k, v in corr.items()}
for k, v in corr_iv.items():
    print(f"corr(off-diagonal G_t - G_0, target similarity), {k:>28}: {v}")
glue("ch3_corr_trained", str(corr_iv["trained"]))
glue("ch3_corr_sh_orig", str(corr_iv["shuffled: original targets"]))
glue("ch3_corr_sh_own", str(corr_iv["shuffled: its own targets"]))
glue("ch3_corr_init", str(corr_iv["init"]))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: relative change of the post-activation Gram matrix during training (NTK parameterization), split into the part linear in h_t - h_0 and the quadratic part, with the share of the mean-over-words mode in the cumulative residual. Middle: the change G_t - G_0 on the first 40 words. Right: its off-diagonal entries against the similarity of the two words' targets, trained (blue) and with shuffled targets (grey).", "name": "fig-ch3-gram"}}
fig, axes = plt.subplots(1, 3, figsize=(15, 3.9), layout="constrained")
gp = paths[0]
axes[0].plot(gp[:, 0], gp[:, 1], color=COLORS["net"], label=r"$\|G_t-G_0\|_F/\|G_0\|_F$")
axes[0].plot(gp[:, 0], gp[:, 2], "--", color=COLORS["emp"], label="linear part")
axes[0].plot(gp[:, 0], gp[:, 3], ":", color=COLORS["extra"], label="quadratic part")
axes[0].set_xlabel("gradient-descent step")
axes[0].set_ylabel("relative Gram change")
ax2 = axes[0].twinx()
ax2.plot(gp[:, 0], mean_part, color=COLORS["data"], lw=0.8, alpha=0.6)
ax2.set_ylabel("mean-mode share of $A_t$", color=COLORS["data"])
ax2.grid(False)
axes[0].legend(loc="center right", fontsize=8)
axes[0].set_title(f"width {gw}")
show = slice(0, min(40, V))
dg = results[("ntk", gw, 0)]["dgram"]
lim = float(dg[show, show].abs().max())
im = axes[1].imshow(dg[show, show].numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim)
axes[1].set_title(r"$G_t - G_0$")
axes[1].set_xlabel("word")
axes[1].set_ylabel("word")
axes[1].grid(False)
fig.colorbar(im, ax=axes[1], shrink=0.8, label=r"$(G_t - G_0)_{ij}$")
axes[2].plot(target_sim[off].numpy(), rs["dgram"][off].numpy(), ".", ms=1.2, alpha=0.3, color="0.6", label="shuffled targets")
axes[2].plot(target_sim[off].numpy(), dg[off].numpy(), ".", ms=1.2, alpha=0.4, color=COLORS["net"], label="trained")
axes[2].set_xlabel(r"target similarity $\langle y_i, y_j\rangle$")
axes[2].set_ylabel(r"$(G_t - G_0)_{ij}$")
axes[2].legend(markerscale=6)
plt.show()

# %% [markdown]
# **What it shows.** The off-diagonal change correlates with the target similarity at
# {glue:text}`ch3_corr_trained` (95 % interval over seeds; at initialization
# {glue:text}`ch3_corr_init`). With shuffled targets the correlation with the original similarity
# drops to {glue:text}`ch3_corr_sh_orig`, while the correlation with the similarity of the targets
# actually trained on is {glue:text}`ch3_corr_sh_own`. The structure of the change comes from the
# targets through the residuals — as the lazy formula says it must, since on one-hot inputs
# $\Theta^{(L-1)}$ and $\Sigma^{(L-1)}$ are the same for every pair of words — and it is an $O(1)$
# change on entries of order $n$.
#
# ## 3.8 The claims, checked
#
# | claim | scale it is about | what this chapter finds | verdict |
# |---|---|---|---|
# | Example 1: vanishing per-neuron changes give an $O(1)$ change of the output, "of order $n^{-2\alpha}$", layer norm "$n^{-\alpha}$" | one neuron vs the output | the built network: neuron change exponent {glue:text}`ch3_toy_a25_dneuron:.2f`, output change {glue:text}`ch3_toy_a25_df:.2f` at $\alpha = \tfrac14$; $n^{-\alpha}$ is the $\ell_1$ norm; $n_1n_2$ paths give $n^{1-\alpha}$ | **refined**: the point holds with exponent $0$, not $-2\alpha$; it is the lazy mechanism |
# | Table 1: single neurons stay close to initialization while the layer's drift does not vanish | one neuron; the layer, absolute | NTK: neuron {glue:text}`ch3_exp_ntk_neuron`, layer {glue:text}`ch3_exp_ntk_layer`; but layer relative to $\lVert h_0\rVert$ {glue:text}`ch3_exp_ntk_relative` | **confirmed** on the absolute scale, where it is the lazy prediction; relative to $\lVert h_0\rVert$ the NTK layer drift falls with width ({glue:text}`ch3_val_ntk_relative_wmax:.2f` at width {glue:text}`ch3_wmax`), without being frozen at these widths |
# | Table 1's numbers, 10K → 30K | all three rows | ratio exponent {glue:text}`ch3_ratio_exp_ntk` vs SCF's {glue:text}`ch3_paper_exp_ratio:.2f`; trained to a fixed loss, the neuron drift falls ({glue:text}`ch3_exp_ntk_neuron`) and the layer drift grows slowly ({glue:text}`ch3_exp_ntk_layer`) | ratio row **consistent but uninformative**: its exponent is the same in every parameterization (standard {glue:text}`ch3_ratio_exp_standard`, $\mu$P {glue:text}`ch3_ratio_exp_mup`), on other axes than SCF's; absolute rows **not reproduced**; a fixed standard-parameterization step stopped before convergence gives growing drifts — a consistent explanation, not a reconstruction of their run (§3.6) |
# | Prop. 4: $\langle h_t(x), h_t(x')\rangle$ changes with $t$, also as $n\to\infty$ | pre-activation Gram, unnormalized | changes at every width; relative to $\lVert G_0\rVert$ falls as {glue:text}`ch3_zgram_exp_ntk` (NTK); $\Sigma^{(L-1)}$ uniform on one-hot words | **refined**: true unnormalized; in the normalized limit the features carry no word information |
# | Yang & Hu: NTK-parameterized networks learn no features in the limit, $\mu$P does | relative (scale-free) | relative layer drift NTK {glue:text}`ch3_exp_ntk_relative` ({glue:text}`ch3_val_ntk_relative_wmax:.2f` at width {glue:text}`ch3_wmax`), $\mu$P {glue:text}`ch3_exp_mup_relative` ({glue:text}`ch3_val_mup_relative_wmax:.1f`); exponent difference NTK $-$ $\mu$P {glue:text}`ch3_expdiff_relative` (paired over seeds); Gram NTK {glue:text}`ch3_exp_ntk_gram`, $\mu$P {glue:text}`ch3_exp_mup_gram`, difference {glue:text}`ch3_expdiff_gram` | **consistent, in direction**: the NTK's scale-free drifts fall with width while $\mu$P's are flat; at these widths the NTK features still move (the limit is extrapolated, not observed) |
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch3-max
# If each of $n$ neuron changes were an independent $\mathcal N(0, c^2/n)$, what would $\lVert\Delta h\rVert_2$,
# $\max_i|\Delta h_i|$, their ratio and $\lVert\Delta h\rVert_2/\lVert h_0\rVert_2$ be for large $n$
# (with $\lVert h_0\rVert_2 \approx \sqrt{n q}$)? Compare with the exponents of §3.5.
# ```
#
# ````{solution} ex-ch3-max
# :class: dropdown
# $\lVert\Delta h\rVert_2 \approx c$, $\max_i|\Delta h_i| \approx c\sqrt{2\log n / n}$ (the maximum of $n$
# Gaussians), so the ratio is $\approx\sqrt{n/(2\log n)}$ — an exponent a little below $\tfrac12$ over a
# finite range of widths, and a neuron exponent a little above $-\tfrac12$ — and the relative drift is
# $c/\sqrt{nq}$, exponent $-\tfrac12$. The measured NTK exponents of §3.5 are less steep than these: at
# those widths the trained networks' drift is still approaching its linearized value from below, so
# the layer drift grows a little and the relative drift falls more slowly than $n^{-1/2}$. The ratio
# does not depend on $c$: any dense drift vector, large or small, gives the same $\sqrt{n/\log n}$,
# which is why the ratio's exponent is the same in the three parameterizations (§3.6).
# ````
#
# ```{exercise}
# :label: ex-ch3-onehidden
# With `DEPTH = 2` (one hidden layer), show that $\Sigma^{(1)}(x, x') = \Theta^{(1)}(x, x') = 0$ for two
# different one-hot words. Which terms of the pre-activation Gram change $\langle z_t(x), z_t(x')\rangle - \langle z_0(x), z_0(x')\rangle$
# (the object of Proposition 4's proof, §3.7) survive, and what does that say about Yang & Hu's
# argument? What changes for the post-activations $h = \mathrm{ReLU}(z)$?
# ```
#
# ````{solution} ex-ch3-onehidden
# :class: dropdown
# $\Sigma^{(1)} = \Theta^{(1)} = x^\top x'/n_0 = 0$ for $x = \sqrt V e_i$, $x' = \sqrt V e_j$, $i\ne j$. The
# pre-activations of word $i$ are column $i$ of the first weight matrix, which only word $i$'s gradient
# changes, so $\partial_t z_t(x) = \Theta^{(1)}(x, X) d_t(X)$ involves word $i$ alone. The change is
# $\Delta z_k(x) = -n^{-1/2}\,\sigma'(z_k(x))\,(W^\top A(x))_k$ (the readout weights applied to word $i$'s
# cumulative residual, on the neurons active for word $i$). For distinct words the activity patterns
# are independent, so $\langle \Delta z(x), \Delta z(x')\rangle \to \tfrac14\langle A(x), A(x')\rangle$: the
# quadratic term does correlate with target similarity, even with one hidden layer. What one hidden layer
# removes is the coupling between words *through the kernel*; the relative change $\lVert G_t - G_0\rVert/\lVert G_0\rVert$
# still vanishes like $n^{-1}$ at leading order, so in the normalized limit the pre-activations stay the
# random $G^z_0/n \to \Sigma^{(1)} = I$: Yang & Hu's conclusion, which is about that limit.
#
# For the post-activations the limit is not $I$: $z(x)$ and $z(x')$ are independent standard Gaussians
# coordinate by coordinate, so $G^h_0/n \to \mathbb E[\mathrm{ReLU}(u)^2] = \tfrac12$ on the diagonal and
# $(\mathbb E[\mathrm{ReLU}(u)])^2 = 1/2\pi$ off it — distinct words' features are correlated after one
# ReLU layer already, but equally for every pair, so the normalized limit carries no information about
# which words are which either. $\Delta h = \sigma'(z)\odot\Delta z$ at first order, so the relative
# change of $G^h$ vanishes at the same rate.
# ````
#
# ```{exercise}
# :label: ex-ch3-example1
# In Example 1 (§3.2), take output weights $W^{(3)}_{ij} = n^{-\beta}$ instead of $1$. For which
# $\beta$ does the output's change after one step stay of order one? Check with `example1`.
# ```
#
# ````{solution} ex-ch3-example1
# :class: dropdown
# $\partial f/\partial W^{(1)}_{ij} = n^{-1/2}\sum_k W^{(3)}_{k} n^{-1/2} W^{(2)}_{ki} n_0^{-1/2} =
# n^{-1/2-\beta}/\sqrt{n_0}$, so the first layer's part of the NTK is $n\,n_0 \cdot n^{-1-2\beta}/n_0 = n^{-2\beta}$
# and the output moves by $O(n^{-2\beta})$ per step: of order one only for $\beta = 0$, whatever $\alpha$.
# ````
