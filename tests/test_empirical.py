"""ntk_lib.empirical: every method against hand-built Jacobians, against each other on the course's
models, batching, modes, bad input, and the infinite-width limit."""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from ntk_lib import empirical as emp
from ntk_lib import layers as L
from ntk_lib.analytic import relu_ntk
from ntk_lib.empirical import empirical_ntk
from ntk_lib.models import MLP, NTKECRN, FourierFeatures
from ntk_lib.resnet import BasicBlock, TabularResNet

METHODS = ("structured", "jacobian", "ntk_vp")
MODES = ("full", "trace", "diagonal")
F64 = torch.float64


def hand_jacobian_ntk(model, x1, x2):
    """Per-sample gradients with plain autograd, one sample and one output at a time: [n1, n2, k, k]."""
    params = [p for p in model.parameters() if p.requires_grad]

    def jac(x):
        rows = []
        for i in range(x.shape[0]):
            out = model(x[i : i + 1]).reshape(-1)
            per_out = []
            for a in range(out.shape[0]):
                grads = torch.autograd.grad(out[a], params, retain_graph=True, allow_unused=True)
                per_out.append(
                    torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, params)])
                )
            rows.append(torch.stack(per_out))
        return torch.stack(rows)  # [n, k, P]

    return torch.einsum("ikp,jlp->ijkl", jac(x1), jac(x2))


def reduce(full, mode):
    """The reference of each mode from a full [n1, n2, k, k] kernel, one output squeezed as the API does."""
    k = full.shape[-1]
    if mode == "trace":
        return full.diagonal(dim1=2, dim2=3).sum(-1)
    out = full if mode == "full" else full.diagonal(dim1=2, dim2=3)
    if k == 1:
        return out[..., 0, 0] if mode == "full" else out[..., 0]
    return out


def rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max())


def forbid_jacobians(monkeypatch):
    """Make any per-sample Jacobian an error: the structured method must not need one."""

    def fail(self, x):
        raise AssertionError("per-sample Jacobians were formed")

    monkeypatch.setattr(emp._Net, "jacobians", fail)


# --- exactness against hand-built Jacobians ----------------------------------------------------


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("method", METHODS)
def test_every_method_mode_and_batch_size_matches_hand_built_jacobians(k, method):
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(7, 3, generator=g, dtype=F64)
    x2 = torch.randn(5, 3, generator=g, dtype=F64)
    model = MLP(3, 16, 3, out_features=k, bias_var=0.1, seed=1, dtype=F64)
    refs = {True: hand_jacobian_ntk(model, x1, x1), False: hand_jacobian_ntk(model, x1, x2)}
    for sym in (True, False):
        for mode in MODES:
            want = reduce(refs[sym], mode)
            for bs in (None, 1, 3, 7, 9):
                got = empirical_ntk(model, x1, None if sym else x2, batch_size=bs, method=method, mode=mode)
                assert got.shape == want.shape, (sym, mode, bs)
                assert rel_err(got, want) < 1e-10, (sym, mode, bs)


@pytest.mark.parametrize("method", ["structured", "jacobian"])
def test_large_symmetric_blocks_use_upper_pieces_exactly(method):
    """Blocks of >= 16 samples are computed as upper pieces and mirrored."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(37, 4, generator=g, dtype=F64)
    model = MLP(4, 12, 3, out_features=2, bias_var=0.2, seed=2, dtype=F64)
    ref = hand_jacobian_ntk(model, x, x)
    for mode in MODES:
        want = reduce(ref, mode)
        for bs in (None, 5, 16, 37, 50):
            got = empirical_ntk(model, x, batch_size=bs, method=method, mode=mode)
            assert rel_err(got, want) < 1e-10, (mode, bs)
    full = empirical_ntk(model, x, method=method)
    assert torch.equal(full, full.permute(1, 0, 3, 2))


def test_auto_is_structured_for_linear_models_and_never_forms_jacobians(monkeypatch):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(20, 5, generator=g, dtype=F64)
    model = MLP(5, 32, 4, out_features=3, bias_var=0.1, seed=0, dtype=F64)
    ref = empirical_ntk(model, x, method="jacobian")
    forbid_jacobians(monkeypatch)
    for mode in MODES:
        assert rel_err(empirical_ntk(model, x, mode=mode), reduce(ref, mode)) < 1e-10


# --- structured against Jacobian on the course's models ----------------------------------------


class Residual(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.inp = nn.Linear(3, width)
        self.block = nn.Linear(width, width)
        self.out = nn.Linear(width, 2)

    def forward(self, x):
        h = self.inp(x)
        h = h + 0.5 * torch.relu(self.block(h))
        return self.out(h)


def layer_norm_net():
    return nn.Sequential(nn.Linear(3, 16), nn.LayerNorm(16), nn.Tanh(), nn.Linear(16, 16), nn.GELU(), nn.Linear(16, 2))


def fourier_mlp():
    return nn.Sequential(
        FourierFeatures(3, 8, 1.5, seed=0, dtype=F64), MLP(16, 24, 3, out_features=2, bias_var=0.1, seed=1, dtype=F64)
    )


def layers_build():
    """An ``ntk_lib.layers`` architecture with Fourier features, a residual block and two outputs."""
    net = L.serial(
        L.FourierFeatures(6, 1.0, seed=0),
        L.Dense(16, weight_var=2.0, bias_var=0.05),
        L.Relu(),
        L.Residual(L.serial(L.Dense(16, bias_var=0.05), L.Relu()), alpha=0.5, drop_prob=0.3),
        L.Dense(2, bias_var=0.05),
    )
    return net.build(in_features=3, seed=0, dtype=F64).eval()


class ConvResNet(nn.Module):
    """ResNet-ish: a convolutional stem, one basic block (batch normalization, eval mode), a linear head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.block = BasicBlock(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = self.block(torch.relu(self.stem(x.view(x.shape[0], 1, 1, 3).expand(-1, 1, 3, 3))))
        return self.head(h.mean(dim=(2, 3)))


MODELS = {
    "sequential": lambda: nn.Sequential(
        nn.Linear(3, 16), nn.ReLU(inplace=True), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 2)
    ),
    "mlp_standard": lambda: MLP(3, 16, 3, out_features=2, parameterization="standard", bias_var=0.3, seed=0, dtype=F64),
    "mlp_mup": lambda: MLP(3, 16, 3, out_features=2, parameterization="mup", bias_var=0.3, seed=0, dtype=F64),
    "ntkecrn_eval": lambda: NTKECRN(
        3, 16, 3, out_features=2, alpha=0.7, alpha_schedule="1/sqrt(L)", drop_prob=[0.0, 0.3, 0.5], seed=0, dtype=F64
    ).eval(),
    "ntkecrn_no_fourier": lambda: NTKECRN(3, 16, 2, out_features=1, fourier_sigma=None, seed=1, dtype=F64),
    "fourier_mlp": fourier_mlp,
    "residual": lambda: Residual(16),
    "layer_norm": layer_norm_net,
    "layers_build": layers_build,
    "tabular_resnet_layer_norm": lambda: TabularResNet(3, 8, 2, out_features=2, norm="layer", seed=0).eval(),
    "conv_resnet": lambda: ConvResNet().eval(),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_structured_equals_jacobian_on_course_models(name):
    torch.manual_seed(0)
    model = MODELS[name]().double()
    g = torch.Generator().manual_seed(3)
    x1 = torch.rand(9, 3, generator=g, dtype=F64) * 2 - 1
    x2 = torch.rand(4, 3, generator=g, dtype=F64) * 2 - 1
    for x2_ in (None, x2):
        ref = empirical_ntk(model, x1, x2_, method="jacobian")
        for mode in MODES:
            for bs in (None, 2):
                got = empirical_ntk(model, x1, x2_, method="structured", mode=mode, batch_size=bs)
                assert rel_err(got, reduce(ref if ref.ndim == 4 else ref[..., None, None], mode)) < 1e-10, (mode, bs)


@pytest.mark.parametrize("name", ["sequential", "mlp_mup", "ntkecrn_eval", "fourier_mlp", "residual", "layers_build"])
def test_linear_models_need_no_jacobian(name, monkeypatch):
    torch.manual_seed(0)
    model = MODELS[name]().double()
    x = torch.rand(6, 3, dtype=F64)
    ref = empirical_ntk(model, x, method="jacobian")
    forbid_jacobians(monkeypatch)
    assert rel_err(empirical_ntk(model, x, method="structured"), ref) < 1e-10


def test_layer_norm_affine_falls_back_to_jacobian_for_its_parameters_only():
    model = layer_norm_net().double()
    x = torch.randn(6, 3, dtype=F64)
    seen = []
    real = emp._Net.__init__

    def spy(self, m, names):
        seen.append(set(names))
        real(self, m, names)

    emp._Net.__init__ = spy
    try:
        got = empirical_ntk(model, x, method="structured")
    finally:
        emp._Net.__init__ = real
    assert seen == [{"1.weight", "1.bias"}]
    assert rel_err(got, hand_jacobian_ntk(model, x, x)) < 1e-10


class Shared(nn.Module):
    """One linear layer applied twice (weight sharing) and a linear layer on positions [n, s, d]."""

    def __init__(self, width):
        super().__init__()
        self.inp = nn.Linear(3, width)
        self.twice = nn.Linear(width, width)
        self.out = nn.Linear(width, 2)

    def forward(self, x):
        h = torch.tanh(self.inp(x.view(x.shape[0], -1, 3)))  # [n, s, width]
        h = torch.tanh(self.twice(h))
        h = torch.relu_(self.twice(h))  # in place on the layer's own output
        return self.out(h).mean(1)


class Tied(nn.Module):
    """A parameter of a linear layer used again outside it, through a functional call."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(3, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return self.out(torch.tanh(self.inp(x))) + nn.functional.linear(x, self.inp.weight)[:, :3]


@pytest.mark.parametrize("width", [4, 32])  # 4: the double sum over rows costs more, so the Jacobian is used
def test_weight_sharing_positions_and_tied_parameters(width):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(4)
    for model, x in ((Shared(width), torch.randn(5, 6, generator=g)), (Tied(), torch.randn(5, 3, generator=g))):
        model = model.double()
        x = x.double()
        ref = hand_jacobian_ntk(model, x, x)
        for mode in MODES:
            for bs in (None, 2):
                got = empirical_ntk(model, x, method="structured", mode=mode, batch_size=bs)
                assert rel_err(got, reduce(ref, mode)) < 1e-10, (type(model).__name__, mode, bs)


def test_structured_with_convolutions_falls_back_for_them():
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Conv1d(1, 4, 3), nn.Tanh(), nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2)
    ).double()
    x = torch.randn(6, 1, 6, dtype=F64)
    ref = hand_jacobian_ntk(model, x, x)
    for method in ("auto", "structured", "jacobian", "ntk_vp"):
        assert rel_err(empirical_ntk(model, x, method=method), ref) < 1e-10, method
    resnet = ConvResNet().double().eval()
    x1, x2 = torch.randn(5, 3, dtype=F64), torch.randn(3, 3, dtype=F64)
    ref = hand_jacobian_ntk(resnet, x1, x2)
    for method in ("auto", "structured", "jacobian", "ntk_vp"):
        for mode in MODES:
            got = empirical_ntk(resnet, x1, x2, method=method, mode=mode, batch_size=2)
            assert rel_err(got, reduce(ref, mode)) < 1e-10, (method, mode)


# --- the model is left alone; frozen parameters; inputs --------------------------------------


def test_works_for_arbitrary_modules_and_leaves_them_untouched():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv1d(1, 4, 3), nn.Tanh(), nn.Flatten(), nn.Linear(16, 2))
    x = torch.randn(6, 1, 6)
    before = [p.detach().clone() for p in model.parameters()]
    for method in ("auto", "structured", "ntk_vp"):
        k = empirical_ntk(model, x, method=method)
        assert k.shape == (6, 6, 2, 2)
        assert all(p.grad is None for p in model.parameters())
        assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
        lam = torch.linalg.eigvalsh(k.permute(0, 2, 1, 3).reshape(12, 12).double())
        assert float(lam.min()) > -1e-5 * float(lam.max())


def test_frozen_parameters_do_not_count():
    model = MLP(3, 8, 2, seed=0, dtype=F64)
    x = torch.randn(4, 3, dtype=F64)
    full = empirical_ntk(model, x)
    model.layers[0].weight.requires_grad_(False)
    feats = model.features(x).detach() * model.layers[-1].mult_w
    for method in METHODS:
        readout_only = empirical_ntk(model, x, method=method)
        assert torch.allclose(readout_only, feats @ feats.T, rtol=1e-12), method
    assert not torch.allclose(full, readout_only)


def test_frozen_weight_with_trainable_bias():
    model = MLP(3, 8, 3, bias_var=0.5, seed=0, dtype=F64)
    for layer in model.layers:
        layer.weight.requires_grad_(False)
    x = torch.randn(5, 3, dtype=F64)
    ref = hand_jacobian_ntk(model, x, x)[..., 0, 0]
    assert rel_err(empirical_ntk(model, x, method="structured"), ref) < 1e-10


def test_inputs_that_require_grad_and_no_grad_context():
    model = MLP(3, 8, 3, out_features=2, seed=0, dtype=F64)
    x = torch.randn(5, 3, dtype=F64, requires_grad=True)
    ref = empirical_ntk(model, x.detach(), method="jacobian")
    for method in METHODS:
        assert rel_err(empirical_ntk(model, x, method=method), ref) < 1e-12
        with torch.no_grad():
            assert rel_err(empirical_ntk(model, x, method=method), ref) < 1e-12
    assert x.grad is None


def test_inputs_take_the_models_dtype_and_device():
    model = MLP(3, 8, 2, out_features=2, seed=0)  # float32
    x = np.random.default_rng(0).standard_normal((4, 3))  # float64 numpy
    want = empirical_ntk(model, torch.as_tensor(x, dtype=torch.float32))
    for given in (x, x.tolist(), torch.as_tensor(x)):
        for method in METHODS:
            got = empirical_ntk(model, given, given[:2], method=method, mode="trace")
            assert got.dtype == torch.float32 and got.device == model.layers[0].weight.device
            assert torch.allclose(got, want.diagonal(dim1=2, dim2=3).sum(-1)[:, :2], rtol=1e-5, atol=1e-6)


def test_eval_mode_dropout_and_batch_norm_are_fine():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 1)).double()
    x = torch.randn(6, 3, dtype=F64)
    model(torch.randn(32, 3, dtype=F64))  # non-trivial running statistics
    model.eval()
    ref = hand_jacobian_ntk(model, x, x)[..., 0, 0]
    for method in METHODS:
        assert rel_err(empirical_ntk(model, x, method=method), ref) < 1e-10, method


# --- bad input ---------------------------------------------------------------------------------


def test_bad_inputs():
    model = MLP(3, 8, 2, seed=0)
    with pytest.raises(TypeError, match="model"):
        empirical_ntk(lambda x: x, torch.randn(2, 3))
    with pytest.raises(ValueError, match="x1 contains NaN"):
        empirical_ntk(model, torch.tensor([[1.0, float("nan"), 0.0]]))
    with pytest.raises(ValueError, match="x2 samples have shape"):
        empirical_ntk(model, torch.randn(2, 3), torch.randn(2, 4))
    with pytest.raises(ValueError, match="batch_size"):
        empirical_ntk(model, torch.randn(2, 3), batch_size=0)
    with pytest.raises(ValueError, match="x1 must be a batch"):
        empirical_ntk(model, torch.randn(3))
    with pytest.raises(ValueError, match="no parameters"):
        empirical_ntk(nn.ReLU(), torch.randn(2, 3))
    with pytest.raises(ValueError, match="method must be one of"):
        empirical_ntk(model, torch.randn(2, 3), method="fast")
    with pytest.raises(ValueError, match="mode must be one of"):
        empirical_ntk(model, torch.randn(2, 3), mode="diag")
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        empirical_ntk(model, torch.randn(2, 3))


def test_structured_refuses_a_model_without_linear_layers_and_auto_uses_the_jacobian():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(1, 2, 3), nn.Tanh(), nn.Flatten()).double()
    x = torch.randn(4, 1, 5, dtype=F64)
    with pytest.raises(ValueError, match="method='structured' covers no trainable parameter"):
        empirical_ntk(model, x, method="structured")
    assert rel_err(empirical_ntk(model, x), hand_jacobian_ntk(model, x, x)) < 1e-10


class UnusedDropout(nn.Module):
    """Holds a training-mode dropout layer that its forward never calls."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.lin(x)


@pytest.mark.parametrize("method", ["auto", *METHODS])
def test_training_mode_randomness_is_refused(method):
    x = torch.randn(4, 3)
    dropout = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 1))
    with pytest.raises(ValueError, match="dropout"):
        empirical_ntk(dropout, x, method=method)
    ecrn = NTKECRN(3, 8, 2, drop_prob=0.2, seed=0)
    with pytest.raises(ValueError, match="stochastic depth"):
        empirical_ntk(ecrn, x, method=method)
    bn = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Linear(8, 1))
    with pytest.raises(ValueError, match="batch normalization"):
        empirical_ntk(bn, x, method=method)
    # training mode without randomness (p = 0, no stochastic depth) is the same network
    plain = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.0), nn.Linear(8, 1))
    assert empirical_ntk(plain, x, method=method).shape == (4, 4)
    # only layers the forward calls count
    assert empirical_ntk(UnusedDropout(), x, method=method).shape == (4, 4)


# --- the infinite-width limit ------------------------------------------------------------------


def test_converges_to_infinite_width_at_rate_one_over_sqrt_width():
    """The headline test: RMS relative error of the empirical NTK of NTK-parameterized ReLU MLPs
    against relu_ntk falls like width^(-1/2) over widths 256..4096."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 6, generator=g, dtype=F64)
    exact = relu_ntk(x, depth=3, bias_var=0.1)
    widths = [256, 512, 1024, 2048, 4096]
    rms = []
    for width in widths:
        sq = []
        for seed in range(10):
            model = MLP(6, width, 3, bias_var=0.1, seed=seed)
            k = empirical_ntk(model, x, batch_size=4).double()
            sq.append(float((k - exact).norm() / exact.norm()) ** 2)
        rms.append(np.sqrt(np.mean(sq)))
    slope = np.polyfit(np.log(widths), np.log(rms), 1)[0]
    assert -0.65 <= slope <= -0.35, (slope, rms)
    assert rms[-1] < 0.05


def test_float32_structured_agrees_with_float64():
    model = MLP(10, 256, 4, out_features=3, bias_var=0.1, seed=0)
    x = torch.randn(30, 10)
    k32 = empirical_ntk(model, x, method="structured")
    k64 = empirical_ntk(model.double(), x.double(), method="jacobian")
    assert k32.dtype == torch.float32
    assert rel_err(k32.double(), k64) < 1e-5 * math.sqrt(256)


@pytest.mark.gpu
def test_runs_on_the_models_device():
    model = MLP(3, 64, 3, seed=0).cuda()
    x = torch.randn(5, 3)
    for method in METHODS:
        k = empirical_ntk(model, x, method=method)
        assert k.device.type == "cuda"
        cpu = empirical_ntk(model.cpu(), x, method=method)
        model.cuda()
        assert torch.allclose(k.cpu(), cpu, rtol=1e-4, atol=1e-5)


# --- memory ------------------------------------------------------------------------------------


class LargestTensor(TorchDispatchMode):
    """Records the number of elements of the largest tensor any operation produces."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return out


def test_memory_bounds_structured_never_forms_n_by_p_and_jacobian_follows_batch_size():
    """The structured method's largest tensor is n x width (or the n x n kernel), not n x P; the
    Jacobian method's is batch_size x k x (largest parameter tensor)."""
    width, n, k = 128, 48, 3
    model = MLP(8, width, 4, out_features=k, bias_var=0.1, seed=0)
    x = torch.randn(n, 8)
    n_params = sum(p.numel() for p in model.parameters())
    for mode in MODES:
        with LargestTensor() as seen:
            empirical_ntk(model, x, method="structured", mode=mode)
        # the output [n, n, k, k], or a layer's output gradients [n, k, width]
        assert seen.largest <= n * k * max(n * k, width) < n * n_params / 20, (mode, seen.largest)
    for bs in (4, 16):
        with LargestTensor() as seen:
            empirical_ntk(model, x, method="jacobian", mode="trace", batch_size=bs)
        assert seen.largest <= max(n * n, bs * k * width * width), (bs, seen.largest)
